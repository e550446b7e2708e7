"""The notebooks: committed without outputs, and executed from start to finish so that they cannot rot."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_walkthrough_and_a_national_notebook():
    assert [p.name for p in NOTEBOOKS] == ["01_essonne_de_la_liste_a_la_carte.ipynb", "02_scenario_national.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.lent
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_from_start_to_finish(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    maps = [o for o in outputs if "text/html" in o.get("data", {}) and o["data"]["text/html"].startswith("<iframe")]
    assert maps, "the notebook shows an interactive map"
    if path.stem.startswith("01"):
        written = {p.name for p in (tmp_path / "resultats_essonne" / "analyse").iterdir()}
        assert {"carte.html", "carte.png", "rapport.xlsx", "rapport.html", "synthese.json"} <= written
        assert (tmp_path / "resultats_essonne" / "plan" / "propositions.csv").exists()

"""Maps and meeting pack: offline map in a real headless browser, escaping, workbook figures."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territoire import export, report

from .conftest import ESSONNE, ESSONNE_POP, cli_en_processus
from .navigateur import ETAT_CARTE, cliquer, survoler


def cli(*args):
    return cli_en_processus(*args)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    out = tmp_path_factory.mktemp("carte") / "res"
    res = cli("analyse", ESSONNE, "--population", ESSONNE_POP, "--sortie", out, "--hors-ligne")
    assert res.returncode == 0, res.stderr
    return out


def test_offline_map_draws_every_commune_and_cpts_in_headless_chromium(analysed, navigateur, tmp_path):
    html = (analysed / "carte.html").read_text(encoding="utf-8")
    assert "<script src=" not in html and "cdn.jsdelivr" not in html  # nothing to fetch
    page = navigateur.ouvrir(analysed / "carte.html", width=1280, height=900)
    assert page.erreurs == [] and page.requetes_externes == []
    state = page.evaluate(ETAT_CARTE)
    assert state["communes"] == 194 and state["cpts"] == 5
    assert sorted(state["numeros"]) == ["1", "2", "3", "4", "5"] and state["noms_chevauchants"] == 0
    shot = page.screenshot(tmp_path / "carte.png")
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)
    # Not blank: many distinct colours where the map is drawn.
    colours = np.unique((img[:, :, :3] * 255).astype(int).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    shutil.copy(shot, Path(tempfile.gettempdir()) / "territoire-carte-essonne.png")


def test_overlap_tooltip_names_every_claiming_cpts(analysed, navigateur):
    page = navigateur.ouvrir(analysed / "carte.html")
    text = survoler(page, "91027")  # Athis-Mons: Hygie and AMSAVI
    assert "Projet AMSAVI (Espace Vie) | Projet Hygie (CPTS Nord Essonne)" in text
    popup = cliquer(page, "91027")
    assert "Projet AMSAVI (Espace Vie)" in popup and "Projet Hygie (CPTS Nord Essonne)" in popup


def test_outputs_of_a_run_with_maps(analysed):
    names = {p.name for p in analysed.iterdir()}
    assert {"carte.html", "carte.png", "rapport.xlsx", "rapport.html"} <= names
    assert (analysed / "carte.html").stat().st_size < 2_000_000
    assert (analysed / "carte.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_workbook_reread_with_pandas_gives_the_csv_figures(analysed):
    book = pd.read_excel(analysed / "rapport.xlsx", sheet_name=None)
    assert list(book) == ["Synthèse", "CPTS", "Communes", "Chevauchements", "Zones blanches", "Avertissements"]
    for sheet, name in [("CPTS", "cpts.csv"), ("Chevauchements", "chevauchements.csv"),
                        ("Zones blanches", "zones_blanches.csv")]:
        csv = report.in_words(export.read_csv(analysed / name))  # statuses in words, as the audience reads them
        xl = book[sheet]
        assert xl.shape == csv.shape
        for col_xl, col_csv in zip(xl.columns, csv.columns):
            if pd.api.types.is_numeric_dtype(csv[col_csv]):
                assert np.allclose(xl[col_xl].astype(float), csv[col_csv].astype(float), equal_nan=True), col_csv
            else:
                assert list(xl[col_xl].fillna("").astype(str)) == list(csv[col_csv].fillna("").astype(str)), col_csv
    synth = json.loads((analysed / "synthese.json").read_text(encoding="utf-8"))
    values = dict(zip(book["Synthèse"]["Indicateur"], book["Synthèse"]["Valeur"]))
    assert values["Population en chevauchement"] == synth["population_en_chevauchement"] == 176_866
    assert values["Population totale"] == synth["population_totale"]


def test_formula_names_stay_text_in_workbook_and_csv(tmp_path):
    formula = '=HYPERLINK("http://example.invalid","clic")'
    path = tmp_path / "evil.csv"
    pd.DataFrame({"CPTS": ["A", "A", formula], "Code INSEE": ["91027", "91326", "91432"]}).to_csv(path, index=False)
    out = tmp_path / "res"
    res = cli("analyse", path, "--sortie", out, "--hors-ligne")
    assert res.returncode == 0, res.stderr
    from openpyxl import load_workbook
    wb = load_workbook(out / "rapport.xlsx")
    cells = [c for row in wb["CPTS"].iter_rows() for c in row]
    target = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert target and all(c.data_type == "s" for c in target)
    assert pd.read_excel(out / "rapport.xlsx", sheet_name="CPTS")["CPTS"].tolist().count(formula) == 1
    # In the CSV the formula is defused for spreadsheets, and reads back to the same name.
    assert "'=HYPERLINK" in (out / "cpts.csv").read_text(encoding="utf-8-sig")
    from territoire import read
    assert formula in set(read.read_perimeters(out / "perimetres.csv").table["cpts"])
    assert formula in set(export.read_csv(out / "cpts.csv")["cpts"])


def test_plan_map_and_carte_command(tmp_path):
    out = tmp_path / "plan"
    res = cli("planifier", ESSONNE, "--sortie", out)
    assert res.returncode == 0, res.stderr
    before = (out / "carte.html").read_bytes()
    res = cli("carte", out)
    assert res.returncode == 0, res.stderr
    assert (out / "carte.html").read_bytes() == before  # redrawn identically from the saved files
    assert "Propositions" in pd.read_excel(out / "rapport.xlsx", sheet_name=None)


def test_plan_map_in_the_browser(tmp_path, navigateur):
    out = tmp_path / "plan"
    res = cli("planifier", ESSONNE, "--sortie", out, "--hors-ligne")
    assert res.returncode == 0, res.stderr
    # 14 CPTS (4 projects, 10 new): names that would overlap are hidden
    page = navigateur.ouvrir(out / "carte.html", width=1280, height=900)
    assert page.erreurs == [] and page.requetes_externes == []
    state = page.evaluate(ETAT_CARTE)
    n = len(export.read_csv(out / "cpts.csv"))
    assert n == 14 and state["cpts"] == n and len(state["numeros"]) == n  # every CPTS numbered on the map
    assert 1 <= state["noms"] <= n and state["noms_chevauchants"] == 0


def test_report_says_statuses_and_actions_in_words(tmp_path):
    from .conftest import ESSONNE, cli_en_processus

    res = cli_en_processus("planifier", ESSONNE, "--sortie", tmp_path)
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "rapport.html").read_text(encoding="utf-8")
    for code in ("lettre_intention", "arbitrage_chevauchement", "nouvelle_cpts", "en_projet"):
        assert f">{code}<" not in text
    assert "intention validée</td>" in text
    assert "Nouvelle CPTS proposée" in text


def test_png_numbers_never_overlap_and_the_layout_is_a_slide():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from territoire.mapping import static

    fig = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    xy = np.array([[50, 50], [50.5, 50.2], [51, 49.8], [49.5, 50.4], [20, 20]])
    spots = ax.transData.transform(np.array(static._place_numbers(ax, xy, ["1", "12", "3", "14", "5"], 11)))
    for i in range(len(spots)):
        for j in range(i + 1, len(spots)):
            dx, dy = abs(spots[i] - spots[j])
            assert dx >= 11 * 1.2 or dy >= 11 * 1.3, (i, j)
    assert np.allclose(spots[4], ax.transData.transform((20, 20)))  # a free spot keeps its number in place


def test_pdf_report_printed_by_the_system_chromium(tmp_path):
    from .conftest import ESSONNE, cli_en_processus
    from .navigateur import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("chromium absent (installé par .ci/run)")
    res = cli_en_processus("analyse", ESSONNE, "--pdf", "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    pdf = (tmp_path / "r" / "rapport.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf and len(pdf) > 50_000


def test_report_pages_show_their_own_departement_map(tmp_path):
    import base64
    import re

    from .conftest import ESSONNE, cli_en_processus

    res = cli_en_processus("analyse", ESSONNE, "--departement", "91", "78", "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "r" / "rapport.html").read_text(encoding="utf-8")
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == 2 and images[0] != images[1]
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)

"""Maps and meeting pack: offline map in a real headless browser, escaping, workbook figures."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territoire import export

from .conftest import ESSONNE, ESSONNE_POP

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs Chromium and sets this: there, a missing browser is a failure, not a skip.
if CHROMIUM is None and os.environ.get("TERRITOIRE_NAVIGATEUR_REQUIS"):
    raise RuntimeError("Chromium est requis pour les tests de carte (apt-get install chromium).")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # Network off: every request goes to a closed local port.
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--virtual-time-budget=10000"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "territoire.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    out = tmp_path_factory.mktemp("carte") / "res"
    res = cli("analyse", ESSONNE, "--population", ESSONNE_POP, "--sortie", out, "--hors-ligne")
    assert res.returncode == 0, res.stderr
    return out


def browser(url: Path, *extra: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url.as_uri()],
                             capture_output=True, text=True, timeout=120)
    return res.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium absent (installé par .ci/run)")
def test_offline_map_draws_every_commune_and_cpts_in_headless_chromium(analysed, tmp_path):
    html = (analysed / "carte.html").read_text(encoding="utf-8")
    assert "<script src=" not in html and "cdn.jsdelivr" not in html  # nothing to fetch
    dom = browser(analysed / "carte.html", "--dump-dom")
    import re
    state = re.search(r'<div id="etat-carte"[^>]*>', dom).group(0)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', state))
    assert attrs["pret"] == "1"
    assert attrs["erreurs"] == ""
    assert int(attrs["communes"]) == 194 and int(attrs["cpts"]) == 5
    assert int(attrs["noms"]) >= 1 and attrs["noms-chevauchants"] == "0"
    shot = tmp_path / "carte.png"
    browser(analysed / "carte.html", "--window-size=1280,900", f"--screenshot={shot}")
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)
    # Not blank: many distinct colours where the map is drawn.
    colours = np.unique((img[:, :, :3] * 255).astype(int).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    shutil.copy(shot, Path(tempfile.gettempdir()) / "territoire-carte-essonne.png")


def test_outputs_of_a_run_with_maps(analysed):
    names = {p.name for p in analysed.iterdir()}
    assert {"carte.html", "carte.png", "rapport.xlsx", "rapport.html"} <= names
    assert (analysed / "carte.html").stat().st_size < 2_000_000
    assert (analysed / "carte.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_workbook_reread_with_pandas_gives_the_csv_figures(analysed):
    book = pd.read_excel(analysed / "rapport.xlsx", sheet_name=None)
    assert list(book) == ["Synthèse", "CPTS", "Communes", "Chevauchements", "Zones blanches"]
    for sheet, name in [("CPTS", "cpts.csv"), ("Chevauchements", "chevauchements.csv"),
                        ("Zones blanches", "zones_blanches.csv")]:
        csv = export.read_csv(analysed / name)
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


def test_hostile_names_are_shown_as_text_everywhere(tmp_path):
    evil = '<script>alert("x")</script> "CPTS" \'quote\''
    formula = '=HYPERLINK("http://example.invalid","clic")'
    path = tmp_path / "evil.csv"
    pd.DataFrame({"CPTS": [evil, evil, formula], "Code INSEE": ["91027", "91326", "91432"]}).to_csv(path, index=False)
    out = tmp_path / "res"
    res = cli("analyse", path, "--sortie", out, "--hors-ligne")
    assert res.returncode == 0, res.stderr
    for name in ("carte.html", "rapport.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "<script>alert" not in text
        assert "&lt;script&gt;alert" in text or "\\u0026lt;script\\u0026gt;alert" in text
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
    if CHROMIUM:
        dom = browser(out / "carte.html", "--dump-dom")
        assert 'data-erreurs=""' in dom and 'data-cpts="2"' in dom


def test_plan_map_and_carte_command(tmp_path):
    out = tmp_path / "plan"
    res = cli("planifier", ESSONNE, "--sortie", out)
    assert res.returncode == 0, res.stderr
    before = (out / "carte.html").read_bytes()
    res = cli("carte", out)
    assert res.returncode == 0, res.stderr
    assert (out / "carte.html").read_bytes() == before  # redrawn identically from the saved files
    assert "Propositions" in pd.read_excel(out / "rapport.xlsx", sheet_name=None)
    if CHROMIUM:  # 34 CPTS in the north of Essonne: names that would overlap are hidden
        import re
        assert cli("carte", out, "--hors-ligne").returncode == 0
        dom = browser(out / "carte.html", "--window-size=1280,900", "--dump-dom")
        attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', re.search(r'<div id="etat-carte"[^>]*>', dom).group(0)))
        assert attrs["erreurs"] == "" and int(attrs["cpts"]) == 34
        assert 10 <= int(attrs["noms"]) < 34 and attrs["noms-chevauchants"] == "0"

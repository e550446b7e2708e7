"""Safety with files from outside (issue 12): hostile names stay text in every output, in a real browser.

Each name below is a payload a CPTS coordinator's file could carry; the map,
the report, the workbook, the CSV and the terminal must show it as text and
run nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from territoire import escaping, export

from .navigateur import ETAT_CARTE, cliquer, survoler

#: Hostile names, each given two neighbouring communes of the Essonne.
PAYLOADS = {
    "CPTS {{ lipsum.__globals__.os.makedirs(dict(PREUVE=1)|first, exist_ok=True) }}Sud": ("91027", "91326"),
    "CPTS {{ 7*7 }} Nord": ("91432", "91479"),
    "CPTS {% for i in range(3) %}B{% endfor %} Est": ("91589", "91687"),
    "CPTS {# commentaire #} Ouest": ("91086", "91228"),
    "CPTS {{ seul": ("91340", "91521"),
    "CPTS </script><script>window.__pwned='script'</script>": ("91174", "91225"),
    "CPTS <img src=x onerror=\"window.__pwned='onerror'\">": ("91553", "91573"),
    "=HYPERLINK(\"http://example.invalid\",\"clic\")": ("91577", "91617"),
    "CPTS \x1b[31mrouge\x1b[0m\x07 cloche": ("91659", "91435"),
    "CPTS ligne\u2028séparée $\\frac{1}{2}$ 5 $": ("91044", "91136"),
    "CPTS 0123456789abcdef0123456789abcdef": ("91161", "91216"),
}


def run(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "territoire.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The hostile file, analysed, planned and redrawn in a folder where a payload could leave a trace."""
    folder = tmp_path_factory.mktemp("hostile")
    rows = [(name, code) for name, codes in PAYLOADS.items() for code in codes]
    pd.DataFrame(rows, columns=["CPTS", "Code INSEE"]).to_csv(folder / "p.csv", index=False)
    for command, out in (("analyse", "res"), ("planifier", "plan")):
        res = run(command, "p.csv", "--sortie", out, "--hors-ligne", cwd=folder)
        assert res.returncode == 0, res.stderr
        assert "\x1b" not in res.stdout + res.stderr and "\x07" not in res.stdout + res.stderr
        assert "Traceback" not in res.stderr
    res = run("carte", "res", "--hors-ligne", cwd=folder)
    assert res.returncode == 0, res.stderr
    return folder


def test_no_payload_ran_on_the_analysts_machine(hostile):
    assert not (hostile / "PREUVE").exists()
    assert sorted(p.name for p in hostile.iterdir()) == ["p.csv", "plan", "res"]


def test_names_are_data_in_every_file(hostile):
    for folder in ("res", "plan"):
        cpts = export.read_csv(hostile / folder / "cpts.csv")
        assert set(PAYLOADS) <= set(cpts["cpts"]), folder  # exact round trip, formula and controls included
        for name in ("carte.html", "rapport.html"):
            text = (hostile / folder / name).read_text(encoding="utf-8")
            assert "<script>window.__pwned" not in text and "<img src=x" not in text
            assert "CPTS 49 Nord" not in text and "CPTS BBB Est" not in text
    book = load_workbook(hostile / "res" / "rapport.xlsx")
    cells = {c.value for row in book["CPTS"].iter_rows() for c in row if isinstance(c.value, str)}
    for name in PAYLOADS:  # the workbook keeps the text, without the characters XLSX forbids
        assert escaping.xlsx_text(name) in cells
    formula = [c for row in book["CPTS"].iter_rows() for c in row if str(c.value).startswith("=HYPERLINK")]
    assert formula and all(c.data_type == "s" for c in formula)
    synth = json.loads((hostile / "res" / "synthese.json").read_text(encoding="utf-8"))
    assert any("caractères de contrôle" in w for w in synth["avertissements"])


@pytest.mark.parametrize("folder", ["res", "plan"])
def test_browser_shows_names_literally_and_runs_nothing(hostile, navigateur, folder):
    page = navigateur.ouvrir(hostile / folder / "carte.html")
    assert page.erreurs == [] and page.requetes_externes == []
    state = page.evaluate(ETAT_CARTE)
    assert set(PAYLOADS) <= set(state["textes_noms"])  # every name drawn, to the character
    # Hover and click: tooltips and popups show the names as they are in the file.
    for name, (code, _) in list(PAYLOADS.items())[:7]:
        assert name in survoler(page, code), name
        assert name in cliquer(page, code), name
    assert page.evaluate("document.images.length") == 0  # no markup was parsed from a name
    assert page.scripts_hostiles() == []
    report = navigateur.ouvrir(hostile / folder / "rapport.html")
    text = report.evaluate("document.body.innerText")
    assert "CPTS {{ 7*7 }} Nord" in text and "CPTS <img src=x onerror=\"window.__pwned='onerror'\">" in text
    assert report.scripts_hostiles() == [] and report.evaluate("document.images.length") == 1  # the map only


def test_json_for_script_is_inert_and_exact():
    text = "</script><!-- {{ x }} {% y %} {# z #} & \u2028 \u2029 '\""
    encoded = escaping.json_for_script({"nom": text, "n": [1, 2.5, None]})
    for bad in ("<", ">", "{{", "{%", "{#", "&", "\u2028", "\u2029"):
        assert bad not in encoded
    assert json.loads(encoded) == {"nom": text, "n": [1, 2.5, None]}


def test_terminal_text_strips_sequences_and_controls():
    assert escaping.terminal_text("a\x1b[31mb\x1b]0;titre\x07c\x07d\u202ee\n") == "abc?d?e\n"

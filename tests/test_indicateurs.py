"""Health indicators per territory: sums and ratios of sums, recomputed independently; secrecy that holds."""

import json

import numpy as np
import pandas as pd
import pytest

from territoire import reference

from .conftest import ESSONNE, cli_en_processus


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    base = tmp_path_factory.mktemp("ind")
    units = reference.units()
    ess = units[units["departement"] == "91"]
    rng = np.random.default_rng(2026)
    counts = rng.integers(0, 300, len(ess))
    counts[:150] = rng.integers(0, 3, 150)  # mostly tiny: some CPTS and zones fall under the threshold
    file = pd.DataFrame({"Code INSEE": ess.index, "sans_medecin_traitant": counts,
                         "part_ald": (rng.uniform(0.1, 0.3, len(ess)) * 100).round(1),
                         "part_ald_denominateur": rng.integers(50, 5000, len(ess))})
    path = base / "indicateurs.csv"
    file.to_csv(path, sep=";", index=False)
    res = cli_en_processus("analyse", ESSONNE, "--indicateurs", path, "--sortie", base / "r")
    assert res.returncode == 0, res.stderr
    return base / "r", file.set_index("Code INSEE")


def recompute(file, codes, weights):
    w = pd.Series(weights, index=codes)
    count = (file.loc[codes, "sans_medecin_traitant"] * w).sum()
    num = (file.loc[codes, "part_ald"] / 100 * file.loc[codes, "part_ald_denominateur"] * w).sum()
    den = (file.loc[codes, "part_ald_denominateur"] * w).sum()
    return count, num / den, num, den


def test_indicators_per_cpts_and_zone_equal_an_independent_recomputation(result):
    folder, file = result
    table = pd.read_csv(folder / "indicateurs.csv", sep=";", dtype=str, keep_default_na=False)
    per = pd.read_csv(folder / "perimetres.csv", sep=";", dtype=str)
    zones = pd.read_csv(folder / "zones_blanches.csv", sep=";", dtype=str)
    expected = {("CPTS", n): recompute(file, list(g["code_commune"]), [1.0] * len(g)) for n, g in per.groupby("cpts")}
    expected |= {("Zone blanche", z): recompute(file, c.split(" | "), [1.0] * len(c.split(" | ")))
                 for z, c in zip(zones["zone_blanche_id"], zones["communes"])}
    expected[("Département", "91")] = recompute(file, list(file.index), [1.0] * len(file))
    checked = 0
    for row in table.itertuples():
        count, rate, num, den = expected[(row.niveau, row.territoire)] if row.niveau != "Territoire" else \
            expected[("Département", "91")]
        if row.sans_medecin_traitant != "secret":
            assert float(row.sans_medecin_traitant.replace(",", ".")) == pytest.approx(count)
            checked += 1
        else:
            assert count < 11 or row.niveau in ("CPTS", "Zone blanche")  # primary, or secondary within the partition
        if row.part_ald != "secret":
            assert float(row.part_ald.replace(",", ".")) == pytest.approx(rate, abs=1e-4)
    assert checked >= 3
    cpts = pd.read_csv(folder / "cpts.csv", sep=";", dtype=str, keep_default_na=False)
    assert {"indicateur_sans_medecin_traitant", "indicateur_part_ald"} <= set(cpts.columns)


def test_statistical_secrecy_hides_small_counts_and_what_totals_would_reveal(result):
    folder, file = result
    table = pd.read_csv(folder / "indicateurs.csv", sep=";", dtype=str, keep_default_na=False)
    per = pd.read_csv(folder / "perimetres.csv", sep=";", dtype=str)
    cells = table[table["niveau"].isin(["CPTS", "Zone blanche"])]
    secret = cells["sans_medecin_traitant"] == "secret"
    assert secret.any()  # the file was built to need it
    for name, g in per.groupby("cpts"):
        count = file.loc[list(g["code_commune"]), "sans_medecin_traitant"].sum()
        shown = cells.loc[cells["territoire"] == name, "sans_medecin_traitant"].iloc[0]
        if 0 < count < 11:
            assert shown == "secret", name
    # The département total is shown: a single secret cell could be recovered by difference, so never one alone.
    assert table.loc[table["niveau"] == "Département", "sans_medecin_traitant"].iloc[0] != "secret"
    assert secret.sum() != 1
    # Hidden everywhere: the workbook, the report and the map hold no hidden value.
    hidden = [(n, file.loc[list(g["code_commune"]), "sans_medecin_traitant"].sum()) for n, g in per.groupby("cpts")]
    data = (folder / "carte.html").read_text(encoding="utf-8")
    assert "secret statistique" in data or not any(0 < c < 11 for _, c in hidden)
    assert "Indicateurs" in __import__("openpyxl").load_workbook(folder / "rapport.xlsx").sheetnames
    assert "secret statistique appliqué" in (folder / "rapport.html").read_text(encoding="utf-8")
    synthese = json.loads((folder / "synthese.json").read_text(encoding="utf-8"))
    assert isinstance(synthese["avertissements"], list)


def test_any_header_is_an_indicator_name_markup_and_double_underscores_included(tmp_path):
    from territoire import read

    evil = "<img src=x onerror=window.__pwned=1>{{7*7}} patients__75_ans"
    path = tmp_path / "ind.csv"
    pd.DataFrame({"Code INSEE": ["91027", "91326"], evil: [40, 60], "part__ald": [10.0, 20.0],
                  "part__ald_denominateur": [100, 300]}).to_csv(path, sep=";", index=False)
    ind = read.read_indicators(path)
    assert ind.noms == [evil, "part__ald"] and ind.taux == ["part__ald"]
    assert ind.comptes.sum().round(6).tolist() == [100.0, 70.0, 400.0]  # 0.1×100 + 0.2×300 over 400


def test_an_indicator_header_is_never_a_formula_in_the_csv(tmp_path):
    path = tmp_path / "ind.csv"
    path.write_text('Code INSEE;"=HYPERLINK(""http://x"";""y"")"\n91027;40\n91326;60\n', encoding="utf-8")
    res = cli_en_processus("analyse", ESSONNE, "--indicateurs", path, "--sans-carte", "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    header = (tmp_path / "r" / "indicateurs.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith('"\'=HYPERLINK(""http://x"";""y"")"')

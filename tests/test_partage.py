"""Shared cities (#16): CPTS dividing a commune by quartier, read, counted and planned as such.

The file is written like the ARS Provence-Alpes-Côte d'Azur listing of January
2026: Nice (06088) divided between three signed CPTS, Toulon (83137) between two.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territoire import read, reference

from .conftest import cli_en_processus
from .navigateur import survoler

NICE, TOULON = "06088", "83137"
#: CPTS -> (share of the city in %, other communes), as in the PACA listing.
PACA = {
    "Nice Centre - Nice Est": (NICE, 45, ["06159", "06059", "06149", "06114"]),
    "Nice Nord et ses Collines": (NICE, 30, ["06060", "06006", "06147"]),
    "Nice ouest Vallée": (NICE, 25, ["06123", "06046"]),
    "La Seyne Toulon ouest": (TOULON, 40, ["83126", "83090"]),
    "Toulon Littoral": (TOULON, 60, ["83144", "83062"]),
}
POP = reference.units()["population"]


def _listing(tmp_path, header: str | None = "Part de la population (%)", scale: float = 1.0,
             shares: dict[str, float] | None = None):
    rows = []
    for name, (city, pct, others) in PACA.items():
        share = (shares or {}).get(name, pct)
        rows.append([name, city, f"{share * scale:g}".replace(".", ",")])
        rows += [[name, c, ""] for c in others]
    cols = ["CPTS", "Code INSEE"] + ([header] if header else [])
    df = pd.DataFrame([r[:len(cols)] for r in rows], columns=cols).assign(Statut="Signataire ACI")
    path = tmp_path / "paca.csv"
    df.to_csv(path, sep=";", index=False)
    return path


def _expected_population(shares: dict[str, float] | None = None) -> dict[str, int]:
    """Each CPTS's population recomputed independently: its share of the city plus its whole communes."""
    return {name: round(POP[city] * (shares or {}).get(name, pct) / 100 + POP[others].sum())
            for name, (city, pct, others) in PACA.items()}


def _analyse(tmp_path, path, *extra):
    out = tmp_path / "r"
    res = cli_en_processus("analyse", path, "--sortie", out, "--sans-carte", *extra)
    assert res.returncode == 0, res.stderr
    cpts = pd.read_csv(out / "cpts.csv", sep=";", dtype={"communes_partagees": str})
    return res, cpts.set_index("cpts"), json.loads((out / "synthese.json").read_text(encoding="utf-8"))


def test_declared_shares_count_each_inhabitant_once(tmp_path):
    res, cpts, synth = _analyse(tmp_path, _listing(tmp_path))
    assert cpts["population"].to_dict() == _expected_population()
    assert synth["nb_communes_en_chevauchement"] == 0
    assert synth["nb_communes_partagees"] == 2
    assert synth["population_communes_partagees"] == POP[NICE] + POP[TOULON]
    assert synth["population_zones_blanches_infracommunales"] == 0
    listed = {c for _, (city, _, others) in PACA.items() for c in [city, *others]}
    assert synth["population_couverte"] == POP[sorted(listed)].sum()  # Nice and Toulon once each
    assert cpts.loc["Nice Centre - Nice Est", "communes_partagees"] == NICE
    assert "Communes partagées       : 2" in res.stdout
    communes = pd.read_csv(tmp_path / "r" / "communes.csv", sep=";", dtype=str).set_index("code_commune")
    assert communes.at[NICE, "parts_population"] == "45\u00a0% | 30\u00a0% | 25\u00a0%"


@pytest.mark.parametrize("header,scale", [("part_population", 0.01), ("Quote-part", 0.01),
                                          ("Pourcentage de la population", 1)])
def test_the_unit_of_a_share_is_declared_by_its_header(tmp_path, header, scale):
    _, cpts, synth = _analyse(tmp_path, _listing(tmp_path, header, scale))
    assert cpts["population"].to_dict() == _expected_population()
    assert synth["nb_communes_en_chevauchement"] == 0


def test_a_population_of_the_cpts_in_the_commune_is_divided_by_the_commune(tmp_path):
    path = _listing(tmp_path, "Population de la CPTS dans la commune")
    df = pd.read_csv(path, sep=";", dtype=str)
    city = df["Code INSEE"].isin([NICE, TOULON])
    pct = df.loc[city, "Population de la CPTS dans la commune"].astype(float)
    counts = (pct / 100 * df.loc[city, "Code INSEE"].map(POP)).round().astype(int)
    df.loc[city, "Population de la CPTS dans la commune"] = counts.astype(str)
    df.to_csv(path, sep=";", index=False)
    _, cpts, _ = _analyse(tmp_path, path)
    for name, value in _expected_population().items():
        assert abs(cpts.at[name, "population"] - value) <= 1


def test_a_fraction_header_with_a_percentage_is_refused_with_its_line(tmp_path):
    path = _listing(tmp_path, "part_population")
    res = cli_en_processus("analyse", path, "--sortie", tmp_path / "r")
    assert res.returncode == 2 and "ligne 2, colonne « part_population » : « 45 »" in res.stderr
    assert "(%)" in res.stderr and not (tmp_path / "r").exists()


def test_without_shares_the_cities_are_overlaps_and_the_plan_shares_them(tmp_path):
    path = _listing(tmp_path, header=None)
    _, cpts, synth = _analyse(tmp_path, path)
    assert synth["nb_communes_en_chevauchement"] == 2  # as before: one territory, one CPTS
    assert (cpts["taille"] == 4).all()
    out = tmp_path / "plan"
    res = cli_en_processus("planifier", path, "--sortie", out, "--sans-carte")
    assert res.returncode == 0, res.stderr
    assert "2 commune(s) partagée(s) à valider" in res.stdout and "None" not in res.stdout
    props = pd.read_csv(out / "propositions.csv", sep=";", dtype={"code_commune": str}, decimal=",")
    shared = props[props["action"] == "partage_commune"]
    assert sorted(set(shared["code_commune"])) == [NICE, TOULON]
    assert shared.groupby("code_commune")["part_population"].sum().round(4).to_dict() == {NICE: 1.0, TOULON: 1.0}
    before_after = pd.read_csv(out / "cpts_avant_apres.csv", sep=";")
    old = before_after[~before_after["nouvelle"]]
    assert (old["population_apres"] >= 0.2 * old["population_avant"]).all()
    proposed = read.read_perimeters(out / "perimetres_proposes.csv").table
    nice = proposed[proposed["code_commune"] == NICE]
    assert len(nice) == 3 and nice["part_population"].round(4).eq(0.3333).all()


def test_declared_shared_communes_are_not_overlaps(tmp_path):
    path = _listing(tmp_path, header=None)
    _, cpts, synth = _analyse(tmp_path, path, "--communes-partagees")
    assert synth["nb_communes_en_chevauchement"] == 0 and synth["nb_communes_partagees"] == 2
    assert cpts.at["Toulon Littoral", "population"] == round(POP[TOULON] / 2 + POP[["83144", "83062"]].sum())
    _, _, only_nice = _analyse(tmp_path, path, "--communes-partagees", NICE)
    assert only_nice["nb_communes_en_chevauchement"] == 1 and only_nice["nb_communes_partagees"] == 1


def test_an_uncovered_remainder_is_a_sub_communal_white_zone_then_shared_out(tmp_path):
    shares = {"Nice Centre - Nice Est": 40, "Nice Nord et ses Collines": 30, "Nice ouest Vallée": 20}
    path = _listing(tmp_path, shares=shares)
    _, cpts, synth = _analyse(tmp_path, path)
    assert synth["population_zones_blanches_infracommunales"] == round(POP[NICE] * 0.1)
    assert cpts["population"].to_dict() == _expected_population(shares)
    res = cli_en_processus("planifier", path, "--sortie", tmp_path / "plan", "--sans-carte")
    assert res.returncode == 0, res.stderr
    proposed = read.read_perimeters(tmp_path / "plan" / "perimetres_proposes.csv").table
    nice = proposed[proposed["code_commune"] == NICE].set_index("cpts")["part_population"]
    assert nice.round(4).to_dict() == {"Nice Centre - Nice Est": round(40 / 90, 4),
                                      "Nice Nord et ses Collines": round(30 / 90, 4),
                                      "Nice ouest Vallée": round(20 / 90, 4)}
    props = pd.read_csv(tmp_path / "plan" / "propositions.csv", sep=";", dtype={"code_commune": str})
    assert not ((props["code_commune"] == NICE) & (props["action"] == "nouvelle_cpts")).any()


def test_shares_above_the_whole_are_an_overlap_of_the_excess(tmp_path):
    shares = {"Nice Centre - Nice Est": 50, "Nice Nord et ses Collines": 40, "Nice ouest Vallée": 30}
    _, _, synth = _analyse(tmp_path, _listing(tmp_path, shares=shares))
    assert synth["nb_communes_en_chevauchement"] == 1
    assert synth["population_en_chevauchement"] == round(POP[NICE] * 0.2)
    chev = pd.read_csv(tmp_path / "r" / "chevauchements.csv", sep=";", dtype=str, decimal=",")
    assert chev.set_index("code_commune").at[NICE, "part_en_exces"] == "0,2"


def test_normalised_perimeters_keep_the_shares(tmp_path):
    out = tmp_path / "norm.csv"
    res = cli_en_processus("perimetres", _listing(tmp_path), "--sortie", out)
    assert res.returncode == 0, res.stderr
    again = _analyse(tmp_path, out)[1]
    assert again["population"].to_dict() == _expected_population()


def _city_in_three(tmp_path):
    """Three CPTS polygons: Nice cut by two meridians, each third with one neighbouring commune."""
    units = reference.units()
    nice = units.at[NICE, "geometry"]
    x0, y0, x1, y1 = nice.bounds

    def west_of(x: float) -> float:
        return shapely.area(shapely.intersection(nice, shapely.box(x0, y0, x, y1))) / nice.area

    def meridian(target: float) -> float:  # where the city's western part holds ``target`` of its area
        lo, hi = x0, x1
        for _ in range(30):
            lo, hi = ((lo + hi) / 2, hi) if west_of((lo + hi) / 2) < target else (lo, (lo + hi) / 2)
        return (lo + hi) / 2

    cuts = [x0, meridian(0.3), meridian(0.65), x1]
    thirds = [shapely.intersection(nice, shapely.box(a, y0, b, y1)) for a, b in zip(cuts, cuts[1:])]
    neighbours = ["06123", "06060", "06159"]
    geoms = [shapely.union_all([t, units.at[n, "geometry"]]) for t, n in zip(thirds, neighbours)]
    path = tmp_path / "cpts.geojson"
    gpd.GeoDataFrame({"cpts": ["Ouest", "Centre", "Est"]}, geometry=geoms, crs=4326).to_file(path)
    l93 = gpd.GeoSeries(thirds + [nice], crs=4326).to_crs(2154).area.to_numpy()
    return path, dict(zip(["Ouest", "Centre", "Est"], l93[:3] / l93[3]))


def test_a_city_cut_in_three_by_polygons_gives_three_shares_close_to_the_areas(tmp_path):
    path, areas = _city_in_three(tmp_path)
    per = read.read_perimeters(path)
    nice = per.table[per.table["code_commune"] == NICE].set_index("cpts")["part_population"]
    assert sorted(nice.index) == ["Centre", "Est", "Ouest"]
    for name, share in areas.items():
        assert nice[name] == pytest.approx(share, abs=0.01)
    assert nice.sum() == pytest.approx(1.0, abs=1e-6)
    assert "partagée, part de population" in "\n".join(per.journal.infos)
    whole = read.read_perimeters(path, majority=0.5).table  # --majorite: whole communes only
    assert (whole["part_population"] == 1).all()
    assert len(whole[whole["code_commune"] == NICE]) <= 1


def test_the_map_stripes_a_shared_city_and_names_each_share(tmp_path, navigateur):
    out = tmp_path / "r"
    res = cli_en_processus("analyse", _listing(tmp_path), "--sortie", out)
    assert res.returncode == 0, res.stderr
    page = navigateur.ouvrir(out / "carte.html")
    text = survoler(page, NICE)
    assert "CPTS (commune partagée)" in text
    for name, (_, pct, _) in PACA.items():
        if name.startswith("Nice"):
            assert f"{name} : {pct}\u00a0% de la population ({round(POP[NICE] * pct / 100):,} hab.)".replace(
                ",", "\u202f") in text
    legend = page.evaluate("() => document.querySelector('details').textContent")
    assert "Commune partagée entre CPTS" in legend
    assert page.erreurs == []


def test_a_cpts_total_repeated_on_each_row_is_not_read_as_shares(tmp_path):
    path = tmp_path / "totaux.csv"
    path.write_text("CPTS;Code INSEE;Population couverte\nNord;91027;80000\nNord;91326;80000\nNord;91432;80000\n",
                    encoding="utf-8")
    per = read.read_perimeters(path)
    assert (per.table["part_population"] == 1).all()
    assert any("sans doute la population de la CPTS" in w for w in per.journal.avertissements)

"""Planner: hand-made graphs where the answer is known, and real départements."""

import json
import subprocess
import sys

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territoire import analyse, export, partition, plan, read, reference

from .conftest import ESSONNE


def grid(n, m):
    g = nx.grid_2d_graph(n, m)
    g = nx.relabel_nodes(g, {(i, j): f"{i}{j}" for i, j in g.nodes})
    nx.set_edge_attributes(g, 1000.0, "longueur")
    return g


def units_for(g, pop=1000, epci=None):
    return pd.DataFrame({"population": [float(pop)] * len(g), "departement": "99",
                         "epci_siren": [epci(n) if epci else "E" for n in sorted(g.nodes)],
                         "nom": sorted(g.nodes)}, index=sorted(g.nodes))


def run_extend(g, units, sets, zone, **kw):
    params = plan.Parametres(**kw)
    pops = {c: units.loc[list(s), "population"].sum() for c, s in sets.items()}
    deps = {c: {"99"} for c in sets}
    epcis = {c: set(units.loc[list(s), "epci_siren"]) for c, s in sets.items()}
    rank = {c: 0 for c in sets}
    return plan.extend(zone, sets, pops, g, units, deps, epcis, rank, params), sets


def test_an_enclave_goes_to_the_cpts_that_surrounds_it():
    g = grid(3, 3)
    units = units_for(g)
    sets = {"Anneau": {n for n in g if n != "11"}}
    taken, sets = run_extend(g, units, sets, ["11"])
    assert taken["11"][0] == "Anneau"
    assert taken["11"][1] == 4000.0  # four shared borders


def test_an_epci_part_goes_whole_to_one_cpts():
    # Columns 1-3 are one white EPCI "Z" between A (column 0) and B (column 4, one row): A borders it
    # longer, and takes it whole rather than cutting the EPCI in two.
    g = grid(3, 5)
    units = units_for(g, epci=lambda n: "Z" if n[1] in "123" else "E" + n[1])
    sets = {"A": {f"{i}0" for i in range(3)}, "B": {"04"}}
    zone = [f"{i}{j}" for i in range(3) for j in (1, 2, 3)]
    taken, sets = run_extend(g, units, sets, zone)
    assert {taken[c][0] for c in zone} == {"A"} and taken["01"][1] == 3000.0
    # Each commune's motive still names the other candidate, B, with its border.
    considered: dict = {}
    plan.extend(zone, {"A": {f"{i}0" for i in range(3)}, "B": {"04"}}, {"A": 3000.0, "B": 1000.0}, g, units,
                {"A": {"99"}, "B": {"99"}}, {"A": {"E0"}, "B": {"E4"}}, {"A": 0, "B": 0}, plan.Parametres(),
                considered=considered)
    assert considered["23"]["B"][0] == 1000.0


def test_a_zone_of_loose_communes_is_split_along_the_graph():
    # Column 0 is A, column 4 is B, columns 1-3 are white communes of no common EPCI: each CPTS grows
    # from its side.
    g = grid(3, 5)
    units = units_for(g, epci=lambda n: "E" + n)
    sets = {"A": {f"{i}0" for i in range(3)}, "B": {f"{i}4" for i in range(3)}}
    zone = [f"{i}{j}" for i in range(3) for j in (1, 2, 3)]
    taken, sets = run_extend(g, units, sets, zone)
    assert set(taken) == set(zone)
    assert {f"{i}1" for i in range(3)} <= sets["A"]
    assert {f"{i}3" for i in range(3)} <= sets["B"]
    for s in sets.values():
        assert nx.is_connected(g.subgraph(s))


def test_extension_stops_at_the_size_threshold_unless_allowed():
    g = grid(1, 4)
    units = units_for(g, pop=15_000)
    sets = {"A": {"00", "01"}}  # 30 000 hab., taille 1
    taken, _ = run_extend(g, units, {"A": {"00", "01"}}, ["02", "03"])
    assert taken == {}  # a third commune would make 45 000: taille 2
    taken, _ = run_extend(g, units, sets, ["02", "03"], franchir_seuil_taille=True)
    assert set(taken) == {"02", "03"}


def test_extension_prefers_the_same_epci():
    g = grid(1, 3)
    units = units_for(g, epci=lambda n: "EA" if n in ("00", "01") else "EB")
    sets = {"A": {"00"}, "B": {"02"}}
    taken, _ = run_extend(g, units, sets, ["01"])
    assert taken["01"][0] == "A" and taken["01"][2]


def test_every_candidate_is_explained_with_why_it_was_refused():
    # A (30 000 hab.) and B (10 000) border commune 01 (15 000): A would change taille, B takes it.
    g = grid(1, 3)
    units = units_for(g, pop=15_000)
    units.loc["00", "population"], units.loc["02", "population"] = 30_000.0, 10_000.0
    considered: dict = {}
    params = plan.Parametres()
    taken = plan.extend(["01"], {"A": {"00"}, "B": {"02"}}, {"A": 30_000.0, "B": 10_000.0}, g, units,
                        {"A": {"99"}, "B": {"99"}}, {"A": {"E"}, "B": {"E"}}, {"A": 0, "B": 0}, params,
                        considered=considered)
    assert taken["01"][0] == "B"
    assert considered["01"]["A"][2] == 45_000 and considered["01"]["A"][3].startswith("passerait de la taille 1 à 2")
    alternative, text = plan.candidates_text("01", "B", considered)
    assert alternative == "A"
    assert "« A » (1,0\u00a0km de frontière, même EPCI, 45\u202f000 hab. après) : passerait de la taille 1 à 2" in text


def test_same_epci_means_the_epci_the_cpts_held_before_the_plan():
    # B grows into 01 (EPCI "EX"), 02 ("EY"), then 03, another part of "EX": 03 is not "same EPCI" for
    # B, which did not hold EX before the plan.
    g = grid(1, 4)
    units = units_for(g, pop=1_000, epci=lambda n: {"00": "EB", "02": "EY"}.get(n, "EX"))
    taken, _ = run_extend(g, units, {"B": {"00"}}, ["01", "02", "03"])
    assert taken["01"] == ("B", 1000.0, False)
    assert taken["03"][0] == "B" and not taken["03"][2]


def test_a_large_zone_becomes_new_cpts_each_above_the_floor():
    g = grid(6, 6)
    pop = {n: 2_000.0 for n in g}
    groups = partition.regionalise(g, pop, {n: "E" for n in g}, floor=10_000)
    assert sum(len(grp) for grp in groups) == 36
    assert len(groups) >= 6  # 72 000 hab. / 10 000: at most 7, greedy reaches at least 6
    for grp in groups:
        assert sum(pop[n] for n in grp) >= 10_000
        assert nx.is_connected(g.subgraph(grp))


def test_a_zone_smaller_than_twice_the_floor_stays_whole():
    g = grid(2, 2)
    assert partition.regionalise(g, {n: 100.0 for n in g}, {}, floor=20_000) == [sorted(g.nodes)]


def test_new_cpts_follow_epci_borders_when_they_can():
    # Two EPCIs side by side (left 3 columns, right 3 columns), each 30 000 hab.
    g = grid(5, 6)
    epci = {n: "G" if int(n[1]) < 3 else "D" for n in g}
    groups = partition.regionalise(g, {n: 2_000.0 for n in g}, epci, floor=30_000)
    assert len(groups) == 2
    assert all(len({epci[n] for n in grp}) == 1 for grp in groups)


def check_plan_result(folder, scope, before_pieces=None):
    res = subprocess.run([sys.executable, "-m", "territoire.cli", "analyse",
                          str(folder / "perimetres_proposes.csv"), "--departement", *scope,
                          "--sortie", str(folder / "apres")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    import json
    s = json.loads((folder / "apres" / "synthese.json").read_text(encoding="utf-8"))
    assert s["taux_couverture"] == 1.0
    assert s["nb_zones_blanches"] == 0 and s["nb_communes_en_chevauchement"] == 0
    cpts = export.read_csv(folder / "apres" / "cpts.csv").set_index("cpts")
    # In one piece, except a perimeter given in several pieces (across an estuary, say).
    before_pieces = before_pieces if before_pieces is not None else {}
    for name, pieces in cpts["nb_morceaux"].items():
        assert pieces <= before_pieces.get(name, 1), name
    props = export.read_csv(folder / "propositions.csv")
    assert props["motif"].notna().all() and (props["motif"].str.len() > 30).all()
    assert set(props["action"]) <= {"extension", "nouvelle_cpts", "arbitrage_chevauchement", "partage_commune"}
    assert props["alternative"].notna().all() and (props["alternative"].str.len() > 0).all()
    return s, props


def test_essonne_plan_gives_full_coverage_no_overlap_one_piece(tmp_path):
    res = subprocess.run([sys.executable, "-m", "territoire.cli", "planifier", str(ESSONNE),
                          "--sortie", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    s, props = check_plan_result(tmp_path, ["91"])
    arb = props[props["action"] == "arbitrage_chevauchement"]
    assert sorted(arb["code_commune"]) == ["91027", "91228", "91340", "91589", "91687"]
    assert (arb["alternative"].str.len() > 0).all()
    new = props[props["action"] == "nouvelle_cpts"].groupby("cpts_cible")["population"].sum()
    assert (new >= 20_000).all()
    import json
    scen = json.loads((tmp_path / "scenario.json").read_text(encoding="utf-8"))
    assert scen["avant"]["nb_zones_blanches"] == 2 and scen["apres"]["taux_couverture"] == 1.0
    assert scen["parametres"]["population_min_nouvelle_cpts"] == 20_000
    assert {"compacite_moyenne_apres", "nb_epci_scindes_apres", "nb_nouvelles_cpts"} <= set(scen)


def epci_perimeters(dep, keep_every=2):
    """Half of a département's EPCIs as CPTS: a realistic mix of covered and white areas."""
    units = reference.units()
    sub = units[units["departement"] == dep].dropna(subset=["epci_siren"])
    epcis = sorted(sub["epci_siren"].unique())[::keep_every]
    rows = sub[sub["epci_siren"].isin(epcis)]
    return pd.DataFrame({"cpts": "CPTS " + rows["epci_nom"], "statut": "signataire_aci",
                         "code_commune": rows.index, "part": 1.0})


@pytest.mark.lent
@pytest.mark.parametrize("dep", ["29", "48", "2A"])
def test_plan_on_other_departements(tmp_path, dep):
    per = epci_perimeters(dep)
    path = tmp_path / "per.csv"
    export.write_csv(per, path)
    res = subprocess.run([sys.executable, "-m", "territoire.cli", "planifier", str(path),
                          "--sortie", str(tmp_path / "plan")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    before = analyse.analyse(per).cpts.set_index("cpts")["nb_morceaux"].to_dict()
    s, props = check_plan_result(tmp_path / "plan", [dep], before)
    import json
    scen = json.loads((tmp_path / "plan" / "scenario.json").read_text(encoding="utf-8"))
    # Extensions never change a taille with the default parameters.
    for r in scen["cpts"]:
        if not r["nouvelle"] and r["cpts"] in set(props.loc[props["action"] == "extension", "cpts_cible"]):
            assert r["taille_avant"] == r["taille_apres"]
    # A new CPTS below the floor only when its whole zone is below it.
    pl = plan.planifier(read.read_perimeters(path))
    zones = pl.avant.zones_blanches.set_index("zone_blanche_id")
    for _name, grp in pl.propositions[pl.propositions["action"] == "nouvelle_cpts"].groupby("cpts_cible"):
        if grp["population"].sum() < 20_000:
            zid = grp["motif"].iloc[0].split(" ")[0]
            assert zones.at[zid, "population"] < 2 * 20_000 or "reste de la zone" in grp["motif"].iloc[0]


# --- Planner v2 (issue 17): EPCI parts, target sizes, fragments home, nested projects ------------

def test_essonne_new_cpts_are_sized_like_a_working_group_would_and_keep_epcis_whole():
    import territoire as t

    plan = t.planifier(ESSONNE)
    s = plan.scenario
    new = [r for r in s["cpts"] if r["nouvelle"]]
    assert 1 <= len(new) <= 12  # was 29 of taille 1 with the max-p partition
    ref = t.referentiel_communes()
    per = plan.perimetres.assign(km2=lambda d: d["code_commune"].map(ref["superficie_km2"]))
    area = per.groupby("cpts")["km2"].sum()
    for r in new:
        density = r["population_apres"] / area[r["cpts"]]
        assert not (density >= 1500 and r["population_apres"] < 40_000), r
    assert s["nb_epci_scindes_apres"] <= 4
    after = t.analyser(plan.perimetres)
    assert after.synthese["taux_couverture"] == 1.0 and after.synthese["nb_communes_en_chevauchement"] == 0
    assert after.cpts["nb_morceaux"].max() == 1


def test_a_nested_project_is_merged_with_its_cost_stated():
    import territoire as t

    plan = t.planifier(ESSONNE)
    props = plan.propositions.set_index("code_commune")
    for code in ("91027", "91589", "91687"):  # AMSAVI lies entirely inside Hygie
        assert props.at[code, "cpts_cible"] == "Projet Hygie (CPTS Nord Essonne)"
        assert "entièrement incluse" in props.at[code, "motif"] and "€/an" in props.at[code, "motif"]
    hygie = next(r for r in plan.scenario["cpts"] if r["cpts"] == "Projet Hygie (CPTS Nord Essonne)")
    assert hygie["taille_apres"] == 3 and hygie["population_apres"] == hygie["population_avant"]


def test_fragments_of_an_epci_go_home_and_no_epci_is_split():
    """CPTS made of whole EPCIs (Cantal); a few communes of one EPCI left white go back to its CPTS."""
    import territoire as t

    ref = t.referentiel_communes()
    cantal = ref[ref["departement"] == "15"]
    rows = [(f"CPTS {nom}", code) for code, nom in cantal["epci_nom"].items()]
    per = pd.DataFrame(rows, columns=["CPTS", "Code INSEE"])
    biggest = cantal.groupby("epci_nom")["population"].sum().idxmax()
    members = cantal.index[cantal["epci_nom"] == biggest]
    # Leave white the two least populated communes of the largest EPCI.
    white = list(cantal.loc[members, "population"].sort_values().index[:2])
    per = per[~per["Code INSEE"].isin(white)]
    plan = t.planifier(per, departements=["15"])
    props = plan.propositions.set_index("code_commune")
    for code in white:
        assert props.at[code, "cpts_cible"] == f"CPTS {biggest}", props.loc[code, "motif"]
    assert plan.scenario["nb_epci_scindes_apres"] == plan.scenario["nb_epci_scindes_avant"] == 0


def test_plan_does_not_depend_on_row_order():
    import territoire as t

    frame = pd.read_csv(ESSONNE, sep=";", dtype=str)
    a = t.planifier(frame)
    b = t.planifier(frame.sample(frac=1, random_state=7).reset_index(drop=True))
    assert a.propositions.equals(b.propositions) and a.scenario == b.scenario


def run_cli_plan(folder, path):
    from .conftest import cli_en_processus

    res = cli_en_processus("planifier", path, "--sortie", folder)
    assert res.returncode == 0, res.stderr
    return res


def test_variants_side_by_side_in_one_run(tmp_path):
    res = run_cli_plan(tmp_path, ESSONNE)
    scen = json.loads((tmp_path / "scenario.json").read_text(encoding="utf-8"))
    names = [v["variante"] for v in scen["variantes"]]
    assert names == ["par défaut", "EPCI d'abord", "minimum 40 000", "seuils franchissables"]
    first = scen["variantes"][0]
    assert first["nb_nouvelles_cpts"] == scen["nb_nouvelles_cpts"]
    assert first["financement_max_total_apres"] == scen["financement_max_total_apres"]
    assert first["nb_epci_scindes_apres"] == scen["nb_epci_scindes_apres"]
    table = pd.read_csv(tmp_path / "variantes.csv", sep=";")
    assert list(table["variante"]) == names and "Variantes" in res.stdout
    from openpyxl import load_workbook

    assert "Variantes" in load_workbook(tmp_path / "rapport.xlsx").sheetnames
    assert "Variantes du plan" in (tmp_path / "rapport.html").read_text(encoding="utf-8")


def test_epci_first_variant_keeps_epcis_whole_where_it_can():
    per = epci_perimeters("15")
    pl = plan.planifier(per)
    by_name = {v["variante"]: v for v in pl.scenario["variantes"]}
    assert by_name["EPCI d'abord"]["nb_epci_scindes_apres"] <= by_name["par défaut"]["nb_epci_scindes_apres"]
    # The default plan is no worse than the EPCI-first baseline on the smallest CPTS it leaves.
    assert by_name["par défaut"]["population_min"] >= by_name["EPCI d'abord"]["population_min"]


def test_overlap_options_side_by_side_with_their_cost(tmp_path):
    run_cli_plan(tmp_path, ESSONNE)
    options = pd.read_csv(tmp_path / "options_chevauchements.csv", sep=";")
    nested = options[options["cpts_a"] == "Projet AMSAVI (Espace Vie)"].set_index("option")
    assert list(nested.index) == ["fusion", "toutes à A", "toutes à B", "commune par commune"]
    assert nested.at["fusion", "recommandee"] == "oui" and nested.at["fusion", "financement_max_annuel"] == 487_500
    assert nested.at["fusion", "population_b"] == 146_675
    assert nested.at["toutes à A", "coupe_une_cpts"] == "oui"  # Hygie without the 3 communes of AMSAVI: two pieces
    pair = options[options["cpts_a"] == "Projet APES (CPTS Centre Essonne)"].set_index("option")
    assert pair.at["commune par commune", "recommandee"] == "oui"
    after = pd.read_csv(tmp_path / "cpts_avant_apres.csv", sep=";").set_index("cpts")["population_apres"]
    assert pair.at["commune par commune", "population_a"] == after["Projet APES (CPTS Centre Essonne)"]
    from openpyxl import load_workbook

    assert "Options de chevauchement" in load_workbook(tmp_path / "rapport.xlsx").sheetnames


_CANTAL = epci_perimeters("15")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(_CANTAL))))
def test_plan_is_order_free_on_a_scenario_with_extensions_and_new_cpts(order):
    # Rows, hence first-seen CPTS and zone order, permuted: the same plan to the byte.
    base = plan.planifier(_CANTAL, variantes=False)
    shuffled = plan.planifier(_CANTAL.iloc[list(order)].reset_index(drop=True), variantes=False)
    assert set(base.propositions["action"]) >= {"extension", "nouvelle_cpts"}
    assert base.propositions.equals(shuffled.propositions) and base.scenario == shuffled.scenario
    assert base.perimetres.equals(shuffled.perimetres)


def test_small_zones_are_solved_together_same_epci_first():
    # A (30 000 hab., EPCI EA) has room for one more commune of 6 000 under 40 000. The commune of its own
    # EPCI lies in another zone than the first one in code order: it is still the one A takes.
    g = grid(1, 3)
    units = units_for(g, pop=6_000, epci=lambda n: "EX" if n == "00" else "EA")
    units.loc["01", "population"] = 30_000.0
    considered: dict = {}
    taken = plan.extend(["00", "02"], {"A": {"01"}}, {"A": 30_000.0}, g, units, {"A": {"99"}}, {"A": {"EA"}},
                        {"A": 0}, plan.Parametres(), considered=considered)
    assert set(taken) == {"02"} and taken["02"][2]
    assert considered["00"]["A"][3].startswith("passerait de la taille 1 à 2")


def test_no_cpts_is_filled_to_within_one_percent_of_a_threshold():
    g = grid(1, 2)
    units = units_for(g, pop=700)
    units.loc["00", "population"] = 39_000.0  # + 700 = 39 700: 0.75 % under 40 000
    considered: dict = {}
    taken = plan.extend(["01"], {"A": {"00"}}, {"A": 39_000.0}, g, units, {"A": {"99"}}, {"A": {"E"}}, {"A": 0},
                        plan.Parametres(), considered=considered)
    assert taken == {} and "moins de 1 % du seuil" in considered["01"]["A"][3]


# --- EPCI parts whole, islands ashore, growth flagged, no worse than EPCI first ---------------------------

@pytest.mark.parametrize("dep", ["15", "29"])
def test_whole_epci_cpts_with_white_epcis_between_them_split_no_epci(dep):
    pl = plan.planifier(epci_perimeters(dep), variantes=False)
    assert pl.scenario["nb_epci_scindes_avant"] == pl.scenario["nb_epci_scindes_apres"] == 0
    units = reference.units()
    per = pl.perimetres.assign(epci=lambda d: d["code_commune"].map(units["epci_siren"])).dropna(subset=["epci"])
    assert (per.groupby("epci")["cpts"].nunique() == 1).all()


def test_an_island_joins_the_cpts_of_its_epci_ashore_and_is_not_a_piece():
    pl = plan.planifier(epci_perimeters("29"), variantes=False)
    props = pl.propositions.set_index("code_commune")
    # Île-Molène (176 hab.) goes with the rest of the Pays d'Iroise, not into a CPTS of its own.
    assert props.at["29084", "cpts_cible"] == props.at["29260", "cpts_cible"]  # Saint-Renan
    assert "Île sans voisine terrestre" in props.at["29084", "motif"]
    # Île-de-Sein, in no EPCI, goes with the nearest commune ashore's CPTS.
    assert props.at["29083", "cpts_cible"] == props.at["29003", "cpts_cible"]  # Audierne
    assert "plus proche" in props.at["29083", "motif"]
    new = [r for r in pl.scenario["cpts"] if r["nouvelle"]]
    assert min(r["population_apres"] for r in new) >= 15_000
    # One piece each, islands included; Brest and Crozon were already in two (the Élorn estuary cuts the outlines).
    before = analyse.analyse(epci_perimeters("29")).cpts.set_index("cpts")["nb_morceaux"]
    after = analyse.analyse(pl.perimetres).cpts.set_index("cpts")["nb_morceaux"]
    assert (after <= before.reindex(after.index).fillna(1)).all() and after.loc[props.at["29084", "cpts_cible"]] == 1


def test_a_cpts_growing_beyond_the_set_share_is_flagged_to_validate():
    pl = plan.planifier(epci_perimeters("15"), variantes=False)
    rows = {r["cpts"]: r for r in pl.scenario["cpts"]}
    salers = rows["CPTS CC du Pays de Salers"]  # 8 413 → 14 867 hab.: + 77 %
    assert salers["forte_croissance"] and salers["croissance"] == pytest.approx(14_867 / 8_413 - 1, abs=1e-4)
    assert pl.scenario["nb_cpts_forte_croissance"] == sum(r["forte_croissance"] for r in rows.values())
    motif = pl.propositions.set_index("code_commune").at["15120", "motif"]  # Mauriac
    assert "À valider avec « CPTS CC du Pays de Salers »" in motif and "+77\u202f%" in motif
    relaxed = plan.planifier(epci_perimeters("15"), params=plan.Parametres(croissance_max_sans_alerte=1.0),
                             variantes=False)
    assert not any(r["forte_croissance"] for r in relaxed.scenario["cpts"])


@pytest.mark.parametrize("dep", ["91", "15", "29"])
def test_default_plan_is_no_worse_than_epci_first_and_better_on_one_metric(dep):
    import territoire as t

    per = pd.read_csv(ESSONNE, sep=";", dtype=str) if dep == "91" else epci_perimeters(dep)
    by_name = {v["variante"]: v for v in t.planifier(per, departements=[dep]).scenario["variantes"]}
    d, b = by_name["par défaut"], by_name["EPCI d'abord"]
    assert d["nb_epci_scindes_apres"] <= b["nb_epci_scindes_apres"]
    assert d["population_min"] >= b["population_min"]
    assert d["financement_max_total_apres"] <= b["financement_max_total_apres"]
    assert d["nb_cpts_par_taille"]["1"] <= b["nb_cpts_par_taille"]["1"]
    assert d["nb_cpts"] <= b["nb_cpts"]
    if dep != "91":  # in Essonne no zone is small enough to extend: both plans are the same
        assert d["population_min"] > b["population_min"] and d["financement_max_total_apres"] < b[
            "financement_max_total_apres"]

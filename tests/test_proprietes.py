"""Invariants checked on random perimeters over real communes (hypothesis)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territoire import analyse, graph, harmonise, plan, reference

DEPS = ["91", "29", "48", "75", "2A", "974", "13"]


def random_perimeters(dep: str, seed: int, n_cpts: int, overlap: bool) -> pd.DataFrame:
    """Connected perimeters grown from random seeds on the adjacency graph."""
    rng = np.random.default_rng(seed)
    units = reference.units()
    codes = sorted(units.index[units["departement"] == dep])
    g = graph.adjacency_graph(codes)
    free = set(codes)
    rows = []
    for k in range(n_cpts):
        if not free:
            break
        start = sorted(free)[rng.integers(len(free))]
        size = int(rng.integers(1, max(2, len(codes) // (n_cpts + 1))))
        grp = list(nx.bfs_tree(g.subgraph(free), start, depth_limit=size).nodes)[:size]
        free -= set(grp)
        status = ["en_projet", "lettre_intention", "projet_sante", "signataire_aci", None][rng.integers(5)]
        rows += [(f"CPTS {k}", status, c) for c in grp]
    per = pd.DataFrame(rows, columns=["cpts", "statut", "code_commune"]).assign(part=1.0)
    if overlap and per["cpts"].nunique() > 1:
        # CPTS 0 also claims the neighbours it shares with other CPTS.
        mine = set(per.loc[per["cpts"] == "CPTS 0", "code_commune"])
        border = sorted({v for c in mine for v in g.neighbors(c)} - mine & set(per["code_commune"]))
        per = pd.concat([per, pd.DataFrame({"cpts": "CPTS 0", "statut": per.loc[per["cpts"] == "CPTS 0", "statut"].iloc[0],
                                            "code_commune": border[:3], "part": 1.0})], ignore_index=True)
    return per


common = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(dep=st.sampled_from(DEPS), seed=st.integers(0, 10_000), n=st.integers(1, 8), overlap=st.booleans())
def test_coverage_adds_up_and_overlaps_count_once(dep, seed, n, overlap):
    per = random_perimeters(dep, seed, n, overlap)
    a = analyse.analyse(per, departements=[dep])
    s = a.synthese
    assert s["population_couverte"] + s["population_zones_blanches"] == s["population_totale"]
    pop = reference.units()["population"]
    assert s["population_couverte"] == pop[per["code_commune"].unique()].sum()
    multi = per.groupby("code_commune")["cpts"].nunique()
    assert s["population_en_chevauchement"] == pop[multi[multi > 1].index].sum()
    assert sum(s["population_couverte_par_statut"].values()) == s["population_couverte"]
    assert 0 <= s["taux_couverture"] <= 1


@common
@given(codes=st.lists(st.sampled_from(sorted(reference.former_codes().index[:300]) + ["91228", "75056", "01001"]),
                      min_size=1, max_size=20))
def test_harmonising_twice_changes_nothing(codes):
    once = harmonise.harmonise_codes(pd.Series(codes))
    twice = harmonise.harmonise_codes(once["code_commune"].reset_index(drop=True))
    assert list(twice["code_commune"]) == list(once["code_commune"])
    assert (twice["nature"] == "actuel").all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dep=st.sampled_from(["91", "48", "2A", "974"]), seed=st.integers(0, 10_000), n=st.integers(1, 6),
       overlap=st.booleans())
def test_every_plan_gives_full_coverage_no_overlap_one_piece(dep, seed, n, overlap):
    per = random_perimeters(dep, seed, n, overlap)
    before = analyse.analyse(per, departements=[dep])
    pl = plan.planifier(per, departements=[dep])
    s = pl.apres.synthese
    assert s["taux_couverture"] == 1.0
    assert s["nb_communes_en_chevauchement"] == 0 and s["nb_zones_blanches"] == 0
    pieces = before.cpts.set_index("cpts")["nb_morceaux"]
    for name, k in pl.apres.cpts.set_index("cpts")["nb_morceaux"].items():
        assert k <= pieces.get(name, 1), name
    assert pl.propositions["motif"].str.len().gt(20).all()

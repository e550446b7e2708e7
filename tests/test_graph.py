"""The commune adjacency graph, checked against independent geometric computations on real outlines."""

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
import shapely.affinity

from territoire import graph, reference, settings

GEOD = pyproj.Geod(ellps="GRS80")


@pytest.fixture(scope="module")
def edges():
    return graph.national_edges()


@pytest.mark.parametrize("dep", ["29", "75", "974"])  # coasts and estuaries, arrondissements, overseas
def test_edges_are_contacts_and_narrow_gaps_that_no_other_commune_fills(edges, dep):
    units = reference.units()
    sub = units[units["departement"] == dep]
    proj = sub.geometry.to_crs(settings.metric_crs(dep))
    ours = {(u, v) for u, v in zip(edges["u"], edges["v"]) if u in sub.index and v in sub.index}

    geoms, codes = sub.geometry.to_numpy(), sub.index.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    touching = {(codes[i], codes[j]) for i, j in zip(a, b) if codes[i] < codes[j]}
    assert touching <= ours  # every shared border or point is an edge

    pg = proj.to_numpy()
    a, b = shapely.STRtree(pg).query(pg, predicate="dwithin", distance=settings.ADJACENCY_TOLERANCE_M)
    near = {(codes[i], codes[j]) for i, j in zip(a, b) if codes[i] < codes[j]}
    assert ours <= near  # no edge between outlines more than 20 m apart
    # A pair within 20 m that is not an edge has another commune in between (or on the border
    # of two others): the middle of the shortest line between them touches a third commune.
    pos = {c: i for i, c in enumerate(codes)}
    tree = shapely.STRtree(pg)
    for u, v in sorted(near - ours):
        line = shapely.affinity.scale(shapely.shortest_line(pg[pos[u]], pg[pos[v]]), 0.9, 0.9)
        between = {codes[k] for k in tree.query(line, predicate="intersects")}
        assert between - {u, v}, (u, v)


def test_border_lengths_are_geodesic_lengths_of_the_shared_outline(edges):
    units = reference.units()
    sample = edges[edges["u"].str.startswith("91") & edges["v"].str.startswith("91")].head(120)
    for u, v, length in zip(sample["u"], sample["v"], sample["longueur_m"]):
        common = shapely.intersection(units.at[u, "geometry"].boundary, units.at[v, "geometry"].boundary)
        expected = GEOD.geometry_length(common)
        assert abs(length - expected) <= 1 + 0.001 * expected, (u, v, length, expected)


def test_an_island_has_no_neighbour_and_brest_is_not_across_the_estuary(edges):
    both = set(edges["u"]) | set(edges["v"])
    assert "29083" not in both  # Île-de-Sein
    assert not ((edges["u"] == "29019") & (edges["v"] == "29189")).any()  # Brest, Plougastel-Daoulas


def test_outline_measures_match_pyproj_geodesic_area_and_perimeter():
    units = reference.units()
    # Équivalent Lambert (EPSG:3035) against the ellipsoid: within 2.5e-4 at worst (97417, 97419 in La Réunion).
    codes = ["97411", "97417", "97419", "97101", "97302", "97611", "2A004", "59350", "75113"]
    for code in codes:
        area, perimeter = GEOD.geometry_area_perimeter(units.at[code, "geometry"])
        assert units.at[code, "superficie_km2"] == pytest.approx(abs(area) / 1e6, rel=3e-4)
        assert units.at[code, "perimetre_m"] == pytest.approx(perimeter, rel=1e-6)


def test_component_labels_agree_with_networkx():
    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(1, 200))
        a, b = rng.integers(0, n, int(rng.integers(0, 300))), rng.integers(0, n, int(rng.integers(0, 300)))
        m = min(len(a), len(b))
        a, b = a[:m], b[:m]
        labels = graph.component_labels(n, a, b)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(a.tolist(), b.tolist()))
        for comp in nx.connected_components(g):
            assert set(labels[list(comp)]) == {min(comp)}

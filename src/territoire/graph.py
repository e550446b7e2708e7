"""Adjacency of territorial units (communes and arrondissements).

Two units are neighbours when their outlines come within
:data:`settings.ADJACENCY_TOLERANCE_M` of each other, which bridges the gaps
and slivers of generalised outlines. Each edge carries the length of the
shared border (metres), measured as the part of one outline lying within the
tolerance of the other. A unit with no neighbour (an island) is a component of
its own.

The national edge list is computed once and cached in the user's cache folder,
keyed by the reference's content and the tolerance.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import reference, settings


def _shared_segments(geoms: np.ndarray, grid: float = 0.1) -> pd.DataFrame:
    """Length of border shared segment for segment, for outlines that share vertices.

    Generalised IGN outlines are topologically consistent: a border between
    two communes is the same chain of vertices in both. Hashing each segment
    (endpoints snapped to ``grid`` metres, orientation ignored) finds the
    shared ones in one pass over all vertices, with no geometric predicate.
    """
    lines, owner = shapely.get_parts(shapely.boundary(geoms), return_index=True)
    xy, line = shapely.get_coordinates(lines, return_index=True)
    same = line[:-1] == line[1:]
    q = np.round(xy / grid).astype(np.int64)
    p0, p1 = q[:-1][same], q[1:][same]
    length = np.hypot(*(xy[1:][same] - xy[:-1][same]).T)
    swap = (p0[:, 0] > p1[:, 0]) | ((p0[:, 0] == p1[:, 0]) & (p0[:, 1] > p1[:, 1]))
    lo, hi = np.where(swap[:, None], p1, p0), np.where(swap[:, None], p0, p1)
    seg = pd.DataFrame({"x0": lo[:, 0], "y0": lo[:, 1], "x1": hi[:, 0], "y1": hi[:, 1],
                        "o": owner[line[:-1][same]], "l": length})
    seg = seg[seg.groupby(["x0", "y0", "x1", "y1"])["o"].transform("size") == 2]
    seg = seg.sort_values(["x0", "y0", "x1", "y1", "o"], kind="stable")
    o, ln = seg["o"].to_numpy(), seg["l"].to_numpy()
    pairs = pd.DataFrame({"a": o[0::2], "b": o[1::2], "l": ln[0::2]})
    pairs = pairs[pairs["a"] != pairs["b"]]
    return pairs.groupby(["a", "b"], sort=False)["l"].sum().reset_index()


def build_edges(units: gpd.GeoDataFrame, tolerance: float = settings.ADJACENCY_TOLERANCE_M) -> pd.DataFrame:
    """Edges between units closer than ``tolerance`` metres.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Indexed by code, with a ``departement`` column (it selects the metric
        projection: Lambert-93 in métropole, local ones overseas).
    tolerance : float
        Distance in metres under which two outlines are neighbours.

    Returns
    -------
    pandas.DataFrame
        ``u``, ``v`` (codes, ``u < v``), ``longueur_m`` (shared border,
        metres, rounded to the metre), sorted.

    Notes
    -----
    Candidate pairs come from an STRtree ``dwithin`` query. Border lengths
    come from shared vertex chains (:func:`_shared_segments`); the few pairs
    whose outlines do not share vertices (gaps, corner contacts) are measured
    geometrically, as the part of each outline within ``tolerance`` of the
    other, averaged over both sides.
    """
    parts = []
    families = units["departement"].map(settings.metric_crs)
    for epsg, grp in units.groupby(families, sort=True):
        geoms = grp.geometry.to_crs(epsg).to_numpy()
        codes = grp.index.to_numpy()
        a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        cand = pd.DataFrame({"a": lo, "b": hi})[lo != hi].drop_duplicates()
        shared = _shared_segments(geoms)
        shared[["a", "b"]] = np.sort(shared[["a", "b"]].to_numpy(), axis=1)
        shared = shared.groupby(["a", "b"])["l"].sum().reset_index()
        cand = cand.merge(shared, on=["a", "b"], how="left")
        todo = cand["l"].isna().to_numpy()
        if todo.any():
            ia, ib = cand.loc[todo, "a"].to_numpy(), cand.loc[todo, "b"].to_numpy()
            rings_a, rings_b = shapely.boundary(geoms[ia]), shapely.boundary(geoms[ib])
            l_ab = shapely.length(shapely.intersection(rings_a, shapely.buffer(rings_b, tolerance, quad_segs=2)))
            l_ba = shapely.length(shapely.intersection(rings_b, shapely.buffer(rings_a, tolerance, quad_segs=2)))
            cand.loc[todo, "l"] = (l_ab + l_ba) / 2
        u, v = codes[cand["a"].to_numpy()], codes[cand["b"].to_numpy()]
        parts.append(pd.DataFrame({"u": np.minimum(u, v), "v": np.maximum(u, v),
                                   "longueur_m": np.round(cand["l"].to_numpy()).astype("int64")}))
    if not parts:
        return pd.DataFrame({"u": pd.Series(dtype=object), "v": pd.Series(dtype=object),
                             "longueur_m": pd.Series(dtype="int64")})
    return pd.concat(parts, ignore_index=True).sort_values(["u", "v"], kind="stable").reset_index(drop=True)


def _cache_path(tolerance: float) -> Path:
    return settings.cache_dir() / f"adjacence-{reference.fingerprint()}-{tolerance:g}m.parquet"


def national_edges(tolerance: float = settings.ADJACENCY_TOLERANCE_M) -> pd.DataFrame:
    """Edges of all units of France, from the disk cache when it exists."""
    path = _cache_path(tolerance)
    if path.exists():
        try:
            return pd.read_parquet(path)
        except Exception:
            pass  # a corrupt cache is rebuilt
    edges = build_edges(reference.units(), tolerance)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    edges.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return edges


def adjacency_graph(codes: pd.Index | list[str] | None = None,
                    tolerance: float = settings.ADJACENCY_TOLERANCE_M) -> nx.Graph:
    """Adjacency graph of units (all of France, or the subgraph of ``codes``).

    Nodes are codes; each edge has ``longueur`` (shared border, metres).
    Every listed unit is a node, even without neighbours.
    """
    edges = national_edges(tolerance)
    nodes = reference.units().index if codes is None else pd.Index(codes)
    if codes is not None:
        inside = edges["u"].isin(nodes) & edges["v"].isin(nodes)
        edges = edges[inside]
    g = nx.Graph()
    g.add_nodes_from(sorted(nodes))
    g.add_weighted_edges_from(edges[["u", "v", "longueur_m"]].itertuples(index=False, name=None),
                              weight="longueur")
    return g


def neighbours_table(codes: pd.Index | list[str], tolerance: float = settings.ADJACENCY_TOLERANCE_M) -> pd.DataFrame:
    """Edges with at least one end in ``codes``, both directions (``u`` in codes)."""
    edges = national_edges(tolerance)
    both = pd.concat([edges, edges.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    return both[both["u"].isin(pd.Index(codes))].reset_index(drop=True)

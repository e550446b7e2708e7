"""Adjacency of territorial units (communes and arrondissements).

Two units are neighbours when their outlines share a border or a point, or
face each other across a gap narrower than
:data:`settings.ADJACENCY_TOLERANCE_M` that no other unit fills (generalised
outlines leave such gaps along rivers and coasts). A sliver of a third unit
between two others is a border of that unit, not a gap: the two are not
neighbours. Each edge carries the length of the shared border in metres. A unit
with no neighbour (an island) is a component of its own.

Generalised IGN outlines are topologically consistent: a border between two
communes is the same chain of vertices in both. So the graph is built from
the vertices alone, in one vectorised pass and in geographic coordinates:
shared segments give the edges and their lengths, junction vertices the
point contacts, and the segments no other unit shares (coasts, frontiers,
gaps) the candidates across gaps, which are the only ones checked
geometrically, in a metric projection.

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
import pyproj
import shapely

from . import reference, settings

# GRS80 ellipsoid (RGF93, WGS84 to the millimetre).
_A = 6_378_137.0
_E2 = 0.006_694_380_022_90
#: Vertices closer than 1e-7 degree (about 1 cm) are the same vertex.
_GRID = 1e7


def geodesic_lengths(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    """Lengths in metres of short segments given in degrees, on the GRS80 ellipsoid.

    Uses the local radii of curvature at the mid-latitude, exact to well under
    a millimetre for segments of a few kilometres (outline segments are tens
    of metres).
    """
    phi0, phi1 = np.radians(lat0), np.radians(lat1)
    phi = (phi0 + phi1) / 2
    w = 1 - _E2 * np.sin(phi) ** 2
    meridian = _A * (1 - _E2) / w**1.5
    normal = _A / np.sqrt(w)
    return np.hypot(meridian * (phi1 - phi0), normal * np.cos(phi) * np.radians(lon1 - lon0))


def _outline_vertices(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of every ring, the unit owning each, and the ring of each."""
    polys, poly_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    return xy, poly_owner[ring_poly][ring], ring


def outline_measures(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic area (km²) and outline length (metres, holes included) of WGS84 polygons.

    Areas are taken in the Lambert azimuthal equal-area projection (EPSG:3035),
    which keeps ellipsoidal areas everywhere, overseas included (checked
    against :meth:`pyproj.Geod.geometry_area_perimeter` to 1e-5); lengths
    with :func:`geodesic_lengths`, as the graph's borders, so that an
    outline less its shared borders is consistent.
    """
    area = shapely.area(shapely.transform(geoms, _to_laea)) / 1e6
    xy, owner, ring = _outline_vertices(geoms)
    step = np.flatnonzero(ring[:-1] == ring[1:])
    seg = geodesic_lengths(xy[step, 0], xy[step, 1], xy[step + 1, 0], xy[step + 1, 1])
    return area, np.bincount(owner[step], weights=seg, minlength=len(geoms))


def _to_laea(xy: np.ndarray) -> np.ndarray:
    x, y = pyproj.Transformer.from_crs(4326, 3035, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """One int64 per unordered pair of unit positions."""
    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)


def _topology(geoms: np.ndarray, max_gap_deg: float) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    """Neighbour candidates read from shared vertices.

    Returns
    -------
    shared : pandas.DataFrame
        ``key`` (pair key, see :func:`_pair_keys`) and ``l`` (metres) of the
        pairs sharing border segments.
    contacts : numpy.ndarray
        Keys of the other pairs meeting at a junction vertex (a point contact).
    gaps : pandas.DataFrame
        ``key``, ``a``, ``b``: free segments ``a`` of the first unit and ``b``
        of the second within ``max_gap_deg`` degrees of each other, for pairs
        sharing no segment.
    lines : numpy.ndarray
        The free segments, as two-point lines.
    """
    n = len(geoms)
    xy, owner, ring = _outline_vertices(geoms)
    q = np.rint(xy * _GRID).astype(np.int64)
    vid, _ = pd.factorize((q[:, 0] << 32) ^ (q[:, 1] & 0xFFFF_FFFF))
    step = np.flatnonzero(ring[:-1] == ring[1:])
    a, b = vid[step], vid[step + 1]
    sid, _ = pd.factorize((np.minimum(a, b).astype(np.int64) << 31) | np.maximum(a, b))
    count = np.bincount(sid)[sid]

    # Segments found in exactly two outlines: a shared border.
    two = step[count == 2]
    two = two[np.argsort(sid[count == 2], kind="stable")]
    first, oa, ob = two[0::2], owner[two[0::2]], owner[two[1::2]]
    length = geodesic_lengths(xy[first, 0], xy[first, 1], xy[first + 1, 0], xy[first + 1, 1])
    keep = oa != ob
    pid, pkeys = pd.factorize(_pair_keys(oa[keep], ob[keep], n))
    shared = pd.DataFrame({"key": np.asarray(pkeys), "l": np.bincount(pid, weights=length[keep])})
    done = shared["key"].to_numpy()

    # Point contacts: units meeting at a junction vertex (three or more outlines).
    inner = step  # every vertex but the closing repeat of each ring
    many = inner[np.bincount(vid[inner])[vid[inner]] >= 3]
    vo = np.unique(vid[many].astype(np.int64) * n + owner[many])
    v, o = vo // n, vo % n
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    size = np.diff(np.r_[starts, len(v)])
    contact = [_pair_keys(o[s + i], o[s + j], n)
               for k in range(2, int(size.max(initial=1)) + 1) for s in [starts[size == k]]
               for i in range(k) for j in range(i + 1, k)]
    contacts = np.setdiff1d(np.concatenate([np.empty(0, np.int64), *contact]), done)

    # Gaps: segments of no other outline (coasts, frontiers, gaps) facing each other.
    free = step[count == 1]
    lines = shapely.linestrings(np.stack([xy[free], xy[free + 1]], axis=1))
    la, lb = shapely.STRtree(lines).query(lines, predicate="dwithin", distance=max_gap_deg)
    ga, gb = owner[free[la]], owner[free[lb]]
    sel = ga < gb
    gaps = pd.DataFrame({"key": _pair_keys(ga[sel], gb[sel], n), "a": la[sel], "b": lb[sel]})
    return shared, contacts, gaps[~gaps["key"].isin(done)], lines


def _facing_lengths(gaps: pd.DataFrame, lines: np.ndarray, family: np.ndarray, n: int,
                    tolerance: float) -> pd.Series:
    """Length (metres) of the free outlines of each pair within ``tolerance`` of each other.

    Measured in the metric projection as the part of each side within
    ``tolerance`` of the other, averaged over both sides; pairs whose free
    outlines do not come within ``tolerance`` are left out.
    """
    keys, pair = np.unique(gaps["key"].to_numpy(), return_inverse=True)
    out = []
    for side in ("a", "b"):
        seg = gaps[[side]].assign(p=pair).drop_duplicates()
        out.append(shapely.multilinestrings(lines[seg[side].to_numpy()], indices=seg["p"].to_numpy()))
    side_a, side_b = out
    fam = family[keys // n]
    length = np.full(len(keys), np.nan)
    for epsg in np.unique(fam):
        sel = np.flatnonzero(fam == epsg)
        pa = gpd.GeoSeries(side_a[sel], crs=4326).to_crs(int(epsg)).to_numpy()
        pb = gpd.GeoSeries(side_b[sel], crs=4326).to_crs(int(epsg)).to_numpy()
        near = shapely.dwithin(pa, pb, tolerance)
        pa, pb = pa[near], pb[near]
        l_ab = shapely.length(shapely.intersection(pa, shapely.buffer(pb, tolerance, quad_segs=2)))
        l_ba = shapely.length(shapely.intersection(pb, shapely.buffer(pa, tolerance, quad_segs=2)))
        length[sel[near]] = (l_ab + l_ba) / 2
    return pd.Series(length, index=keys).dropna()


def build_edges(units: gpd.GeoDataFrame, tolerance: float = settings.ADJACENCY_TOLERANCE_M) -> pd.DataFrame:
    """Edges between neighbouring units.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Indexed by code, with a ``departement`` column (it selects the metric
        projection used to measure gaps: Lambert-93 in métropole, local ones
        overseas).
    tolerance : float
        Widest gap, in metres, between two outlines facing each other for
        them to be neighbours.

    Returns
    -------
    pandas.DataFrame
        ``u``, ``v`` (codes, ``u < v``), ``longueur_m`` (shared border,
        metres, rounded to the metre), sorted.

    Notes
    -----
    Border lengths are geodesic (GRS80). Across a gap, the border is the
    part of each outline within ``tolerance`` of the other, averaged over
    both sides; a contact at a single point has a border of 0 m.
    """
    geo = units.geometry
    if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
    geoms, codes, n = geo.to_numpy(), units.index.to_numpy(), len(units)
    if n == 0:
        return pd.DataFrame({"u": pd.Series(dtype=object), "v": pd.Series(dtype=object),
                             "longueur_m": pd.Series(dtype="int64")})
    # A conservative gap in degrees (a degree of longitude shrinks with latitude); measured in metres after.
    lat = min(float(np.abs(shapely.bounds(geoms)[:, [1, 3]]).max()), 80.0)
    max_gap_deg = 1.05 * tolerance / (111_000 * np.cos(np.radians(lat)))
    shared, contacts, gaps, lines = _topology(geoms, max_gap_deg)
    family = units["departement"].map(settings.metric_crs).to_numpy()
    facing = _facing_lengths(gaps, lines, family, n, tolerance) if len(gaps) else pd.Series(dtype="float64")
    point = pd.Series(0.0, index=np.setdiff1d(contacts, facing.index.to_numpy()))
    lengths = pd.concat([shared.set_index("key")["l"], facing, point])
    key = lengths.index.to_numpy()
    u, v = codes[key // n], codes[key % n]
    out = pd.DataFrame({"u": np.minimum(u, v), "v": np.maximum(u, v),
                        "longueur_m": np.round(lengths.to_numpy()).astype("int64")})
    return out.sort_values(["u", "v"], kind="stable").reset_index(drop=True)


def component_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the graph of nodes ``0..n-1`` and edges ``(a[i], b[i])``.

    Each node gets the smallest node of its component. Vectorised
    union-find: every edge hooks the larger of its two roots under the
    smaller, then pointers jump to their roots, until no edge joins two
    roots (a few rounds, logarithmic in the component sizes).
    """
    parent = np.arange(n)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        join = ra != rb
        if not join.any():
            return parent
        np.minimum.at(parent, np.maximum(ra, rb)[join], np.minimum(ra, rb)[join])
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up


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

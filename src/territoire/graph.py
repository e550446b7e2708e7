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
import warnings
import weakref
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import reference, settings
from .errors import TerritoireWarning

# GRS80 ellipsoid (RGF93, WGS84 to the millimetre).
_A = 6_378_137.0
_E2 = 0.006_694_380_022_90
#: Vertices are compared on a grid of 1e-6 degree (about 0.1 m), the precision of the reference.
_GRID = 1e6


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


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort ``keys``: the sorting order, and the start and length of each run of equal keys."""
    order = np.argsort(keys)
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    return order, starts, np.diff(np.r_[starts, len(sk)])


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``numpy.unique`` without its hash table, faster on int64 here)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def _outside(keys: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Mask of ``keys`` absent from the sorted array ``distinct``."""
    if not len(distinct):
        return np.ones(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(distinct, keys), len(distinct) - 1)
    return distinct[pos] != keys


def _pack(q: np.ndarray) -> np.ndarray:
    """One int64 per pair of 32-bit integer coordinates."""
    return (q[:, 0] << 32) | (q[:, 1] & 0xFFFF_FFFF)


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

    Notes
    -----
    A segment is keyed by the sum of its two (integer) endpoints, i.e. its
    midpoint, which ignores its orientation: two outlines of a valid
    partition can only hold segments with the same midpoint when they share
    that segment. Keys are sorted once; no hash table is built.
    """
    n = len(geoms)
    xy, owner, ring = _outline_vertices(geoms)
    q = np.rint(xy * _GRID).astype(np.int64)
    step = np.flatnonzero(ring[:-1] == ring[1:])  # segment starts; also every vertex but a ring's closing repeat
    order, starts, count = _runs(_pack(q[step] + q[step + 1]))

    # Segments found in exactly two outlines: a shared border.
    pair = starts[count == 2]
    first, second = step[order[pair]], step[order[pair + 1]]
    oa, ob = owner[first], owner[second]
    keep = oa != ob
    first = first[keep]
    length = geodesic_lengths(xy[first, 0], xy[first, 1], xy[first + 1, 0], xy[first + 1, 1])
    pid, pkeys = pd.factorize(_pair_keys(oa[keep], ob[keep], n))
    shared = pd.DataFrame({"key": np.asarray(pkeys), "l": np.bincount(pid, weights=length)})
    done = np.sort(shared["key"].to_numpy())
    free = step[order[starts[count == 1]]]

    # Point contacts: units meeting at a junction vertex (three or more outlines).
    vorder, vstarts, vcount = _runs(_pack(q[step]))
    many = np.repeat(vcount >= 3, vcount)
    vertex = np.repeat(np.arange(len(vstarts)), vcount)[many]
    vo = _distinct(vertex.astype(np.int64) * n + owner[step[vorder[many]]])
    v, o = vo // n, vo % n
    first_of = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    size = np.diff(np.r_[first_of, len(v)])
    contact = [_pair_keys(o[f + i], o[f + j], n)
               for k in range(2, int(size.max(initial=1)) + 1) for f in [first_of[size == k]]
               for i in range(k) for j in range(i + 1, k)]
    contacts = _distinct(np.concatenate([np.empty(0, np.int64), *contact]))
    contacts = contacts[_outside(contacts, done)]

    # Gaps: segments of no other outline (coasts, frontiers, gaps) facing each other.
    lines = shapely.linestrings(np.stack([xy[free], xy[free + 1]], axis=1))
    lo, hi = np.minimum(xy[free], xy[free + 1]) - max_gap_deg, np.maximum(xy[free], xy[free + 1]) + max_gap_deg
    la, lb = shapely.STRtree(lines).query(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
    ga, gb = owner[free[la]], owner[free[lb]]
    sel = ga < gb  # segments of one outline are no candidates: measure only the others
    la, lb = la[sel], lb[sel]
    near = shapely.dwithin(lines[la], lines[lb], max_gap_deg)
    gaps = pd.DataFrame({"key": _pair_keys(ga[sel][near], gb[sel][near], n), "a": la[near], "b": lb[near]})
    return shared, contacts, gaps[_outside(gaps["key"].to_numpy(), done)], lines


def _facing_lengths(gaps: pd.DataFrame, lines: np.ndarray, departement: np.ndarray, n: int,
                    tolerance: float) -> pd.Series:
    """Length (metres) of the free outlines of each pair within ``tolerance`` of each other.

    Measured in the metric projection as the part of each side within
    ``tolerance`` of the other, averaged over both sides; pairs whose free
    outlines do not come within ``tolerance`` are left out.
    """
    keys, pair = np.unique(gaps["key"].to_numpy(), return_inverse=True)
    out = []
    for side in ("a", "b"):
        seg = gaps[[side]].assign(p=pair).drop_duplicates().sort_values(["p", side])
        out.append(shapely.multilinestrings(lines[seg[side].to_numpy()], indices=seg["p"].to_numpy()))
    side_a, side_b = out
    fam = np.array([settings.metric_crs(d) for d in departement[keys // n]], dtype=np.int64)
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


def build_edges(units: gpd.GeoDataFrame, tolerance: float | None = None) -> pd.DataFrame:
    """Edges between neighbouring units.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Indexed by code, with a ``departement`` column (it selects the metric
        projection used to measure gaps: Lambert-93 in métropole, local ones
        overseas).
    tolerance : float, optional
        Widest gap, in metres, between two outlines facing each other for
        them to be neighbours (default ``settings.ADJACENCY_TOLERANCE_M``).

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
    tolerance = settings.ADJACENCY_TOLERANCE_M if tolerance is None else tolerance
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
    facing = (_facing_lengths(gaps, lines, units["departement"].to_numpy(), n, tolerance) if len(gaps)
              else pd.Series(dtype="float64"))
    point = pd.Series(0.0, index=contacts[_outside(contacts, np.sort(facing.index.to_numpy()))])
    lengths = pd.concat([shared.set_index("key")["l"], facing, point])
    # Pair keys hold positions (smaller first): with codes in order, sorting keys sorts (u, v).
    rank = np.argsort(np.argsort(codes.astype(str), kind="stable"))
    key = lengths.index.to_numpy()
    a, b = rank[key // n], rank[key % n]
    order = np.argsort(np.minimum(a, b) * n + np.maximum(a, b))
    first = np.where(a < b, key // n, key % n)[order]
    second = np.where(a < b, key % n, key // n)[order]
    return pd.DataFrame({"u": codes[first], "v": codes[second],
                         "longueur_m": np.round(lengths.to_numpy()[order]).astype("int64")})


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


def islands(edges: pd.DataFrame, codes: pd.Index) -> set[str]:
    """Units on islands (Ouessant, Belle-Île, Marie-Galante).

    An island is a connected piece of the national graph of at most
    :data:`settings.ISLAND_MAX_COMMUNES` units (a unit with no edge is one).

    ``codes`` are all the units (the national graph's nodes), so islands are
    told apart from the mainland whatever the scope.
    """
    key = (id(edges), id(codes))
    known = _ISLANDS.get(key)
    if known is not None and known[0]() is edges and known[1]() is codes:
        return known[2]  # the same edges and units: every audit of a plan and its variants asks again
    index = pd.Index(codes)
    a, b = index.get_indexer(edges["u"]), index.get_indexer(edges["v"])
    keep = (a >= 0) & (b >= 0)
    label = component_labels(len(index), a[keep], b[keep])
    size = np.bincount(label, minlength=len(index))[label]
    found = set(index[size <= settings.ISLAND_MAX_COMMUNES].tolist())
    _ISLANDS.clear()  # one graph at a time: nothing kept alive beyond it
    _ISLANDS[key] = (weakref.ref(edges), weakref.ref(codes), found)
    return found


#: The last answer of :func:`islands`, keyed by the identity of its inputs (held by weak references).
_ISLANDS: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, set[str]]] = {}


def _cache_path(tolerance: float) -> Path:
    return settings.cache_dir() / f"adjacence-{reference.fingerprint()}-{tolerance:g}m.parquet"


def national_edges(tolerance: float | None = None, *, cache: bool = True) -> pd.DataFrame:
    """Edges of all units of France (``u``, ``v``, ``longueur_m``).

    Parameters
    ----------
    tolerance : float, optional
        Gap under which facing units are neighbours, metres (default
        ``settings.ADJACENCY_TOLERANCE_M``, read at call time).
    cache : bool, default True
        Read and write the edge list in the user's cache folder
        (``settings.cache_dir()``, keyed by the reference's content); with
        ``False`` the disk is never touched (about 0.5 s more for France).
    """
    tolerance = settings.ADJACENCY_TOLERANCE_M if tolerance is None else tolerance
    path = _cache_path(tolerance)
    if cache and path.exists():
        try:
            return pd.read_parquet(path)
        except Exception:
            pass  # a corrupt or unreadable cache is rebuilt
    edges = build_edges(reference.units(), tolerance)
    if not cache:
        return edges
    try:
        _write_cache(edges, path)
    except OSError as exc:
        warnings.warn(f"le cache du graphe d'adjacence ne peut pas être écrit dans {path.parent} "
                      f"({exc.strerror or exc}) : le graphe est recalculé à chaque exécution.",
                      TerritoireWarning, stacklevel=2)
    return edges


def _write_cache(edges: pd.DataFrame, path: Path) -> None:
    """Write the cache atomically, readable by the other users of a shared machine."""
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".adjacence-", suffix=".tmp")
    try:
        os.close(fd)
        edges.to_parquet(tmp, index=False)
        os.chmod(tmp, 0o644)  # mkstemp makes files private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def adjacency_graph(codes: pd.Index | list[str] | None = None,
                    tolerance: float | None = None, *, cache: bool = True) -> nx.Graph:
    """Adjacency graph of units (all of France, or the subgraph of ``codes``).

    Nodes are codes; each edge has ``longueur`` (shared border, metres).
    Every listed unit is a node, even without neighbours.
    """
    edges = national_edges(tolerance, cache=cache)
    nodes = reference.units().index if codes is None else pd.Index(codes)
    if codes is not None:
        inside = edges["u"].isin(nodes) & edges["v"].isin(nodes)
        edges = edges[inside]
    g = nx.Graph()
    g.add_nodes_from(sorted(nodes))
    g.add_weighted_edges_from(edges[["u", "v", "longueur_m"]].itertuples(index=False, name=None),
                              weight="longueur")
    return g

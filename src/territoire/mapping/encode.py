"""Compact geometry for the interactive map: quantised, delta-encoded integer rings.

A layer is four flat integer arrays instead of GeoJSON: ``xy`` (the first
point of each ring in units of ``1/scale`` degree, then the differences from
the previous point), ``anneaux`` (points per ring), ``parties`` (rings per
polygon) and ``objets`` (polygons per feature). Closing points and the
repeated points rounding creates are dropped. ``static/carte.js`` decodes a
feature only when it is drawn. A national map is about a third of its GeoJSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely


def encode(geoms: np.ndarray, scale: float) -> dict[str, Any]:
    """The (multi)polygons ``geoms`` as one compact layer (see the module docstring)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return {"echelle": scale, "xy": [], "anneaux": [], "parties": [], "objets": []}
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, point_of = shapely.get_coordinates(rings, return_index=True)
    q = np.round(xy * scale).astype(np.int64)
    # Drop each ring's closing point and the points that rounding made repeat.
    last = np.r_[point_of[1:] != point_of[:-1], True]
    first = np.r_[True, point_of[1:] != point_of[:-1]]
    same = np.r_[False, (q[1:] == q[:-1]).all(axis=1)] & ~first
    keep = ~last & ~same
    q, point_of, first = q[keep], point_of[keep], first[keep]
    delta = q.copy()
    delta[1:] -= q[:-1]
    delta[first] = q[first]
    n_rings = len(rings)
    return {
        "echelle": scale,
        "xy": delta.ravel().tolist(),
        "anneaux": np.bincount(point_of, minlength=n_rings).tolist(),
        "parties": np.bincount(ring_of, minlength=len(parts)).tolist(),
        "objets": np.bincount(part_of, minlength=len(geoms)).tolist(),
    }


def decode(layer: dict) -> list[list[list[list[tuple[float, float]]]]]:
    """The inverse of :func:`encode` (polygons of rings of ``(x, y)``), for tests."""
    xy = np.asarray(layer["xy"], dtype=np.int64).reshape(-1, 2)
    out, p, r, i = [], 0, 0, 0
    for n_parts in layer["objets"]:
        feature = []
        for n_rings in layer["parties"][p:p + n_parts]:
            polygon = []
            for n in layer["anneaux"][r:r + n_rings]:
                polygon.append([tuple(v) for v in np.cumsum(xy[i:i + n], axis=0) / layer["echelle"]])
                i += n
            r += n_rings
            feature.append(polygon)
        p += n_parts
        out.append(feature)
    return out

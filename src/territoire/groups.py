"""Groups of values joined in one cell (`` | ``) and fast membership, over pandas objects."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Separator of the names or codes of a group written in one cell.
JOIN = " | "


def isin(values: pd.Series, universe: pd.Index | set | list) -> np.ndarray:
    """``values.isin(universe)`` by one hash lookup.

    pandas' ``isin`` on Arrow-backed strings converts ``universe`` element by
    element, which costs seconds when it holds every commune of France.
    """
    index = pd.Index(list(universe) if isinstance(universe, set) else universe)
    return index.unique().get_indexer(values) >= 0


def split_joined(values: pd.Series, known: Iterable[str], sep: str = JOIN) -> pd.Series:
    """Undo :func:`join_groups` on names: a list of names per value, a name holding ``sep`` kept whole.

    Examples
    --------
    >>> split_joined(pd.Series(["Nord | Sud | Est", "", "Est"]), {"Nord | Sud", "Est"}).tolist()
    [['Nord | Sud', 'Est'], [], ['Est']]
    """
    text = values.fillna("").astype(str)
    parts = text.str.split(sep, regex=False).map(lambda p: [x for x in p if x])
    with_sep = sorted((n for n in set(known) if sep in n), key=len, reverse=True)
    if not with_sep:
        return parts
    pieces = {tuple(n.split(sep)): n for n in with_sep}

    def regroup(p: list[str]) -> list[str]:
        out, i = [], 0
        while i < len(p):
            for k in range(len(p), i + 1, -1):  # the longest known name starting here
                if tuple(p[i:k]) in pieces:
                    out.append(pieces[tuple(p[i:k])])
                    i = k
                    break
            else:
                out.append(p[i])
                i += 1
        return out

    # Only the values that may hold such a name take the slow path.
    slow = text.str.contains(sep, regex=False)
    parts[slow] = parts[slow].map(regroup)
    return parts


def join_groups(keys: pd.Series | np.ndarray, values: pd.Series | np.ndarray, sep: str = JOIN,
                order: pd.Series | np.ndarray | None = None, unique: bool = True) -> pd.Series:
    """Values of each key joined by ``sep``, sorted (or in the order of ``order``).

    With ``unique``, each value appears once per key.

    One vectorised pass (``numpy.add.reduceat`` on strings), where a pandas
    ``groupby().agg(lambda ...)`` would make a Python call per group.

    Returns
    -------
    pandas.Series
        Indexed by the sorted distinct keys.
    """
    d = pd.DataFrame({"k": np.asarray(keys, dtype=object), "v": np.asarray(values, dtype=object),
                      "o": np.asarray(values, dtype=object) if order is None else np.asarray(order)})
    d = d.dropna(subset=["k", "v"])
    if unique:
        d = d.drop_duplicates(["k", "v"])
    d = d.sort_values(["k", "o", "v"], kind="stable")
    k, v = d["k"].to_numpy(), d["v"].astype(str).to_numpy(dtype=object)
    if not len(k):
        return pd.Series(dtype=object)
    start = np.r_[True, k[1:] != k[:-1]]
    first = np.flatnonzero(start)
    pieces = np.where(start, v, sep + v)
    return pd.Series(np.add.reduceat(pieces, first), index=pd.Index(k[first], dtype=object), dtype=object)


# --- Inputs ----------------------------------------------------------------------

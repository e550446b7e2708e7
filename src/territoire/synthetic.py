"""A SYNTHETIC national scenario of CPTS perimeters, for benchmarks and demonstrations.

Not real data: perimeters are grown on the real commune adjacency graph from
random seeds (fixed seed, so the scenario is always the same), with sizes of
the four tailles, about 85-90 % of the population covered, a few overlaps,
and white zones left in rural and urban areas alike. Every CPTS name starts
with ``CPTS fictive`` so that no output can be mistaken for the real map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import graph, reference, settings

#: Share of CPTS per taille and the population range drawn for each.
SIZE_MIX = [(0.30, 12_000, 40_000), (0.35, 40_000, 80_000), (0.27, 80_000, 175_000), (0.08, 175_000, 300_000)]
STATUS_MIX = [("signataire_aci", 0.58), ("projet_sante", 0.06), ("lettre_intention", 0.18), ("en_projet", 0.18)]


def national_scenario(seed: int = 2024, coverage: tuple[float, float] = (0.78, 0.93),
                      overlap_share: float = 0.08) -> pd.DataFrame:
    """Normalised perimeters (``cpts``, ``statut``, ``code_commune``, ``part``) for all of France.

    Parameters
    ----------
    seed : int
        Random seed: the same seed always gives the same scenario.
    coverage : (float, float)
        Range of the population share covered, drawn per département.
    overlap_share : float
        Share of CPTS that also claim one or two communes of a neighbour.
    """
    rng = np.random.default_rng(seed)
    units = reference.units()
    pop = units["population"].fillna(0).to_dict()
    edges = graph.national_edges()
    nbrs: dict[str, list[str]] = {}
    for u, v in edges[["u", "v"]].itertuples(index=False):
        nbrs.setdefault(u, []).append(v)
        nbrs.setdefault(v, []).append(u)
    owner: dict[str, int] = {}
    rows: list[tuple[int, str]] = []
    sizes = np.array([s[0] for s in SIZE_MIX])
    k = 0
    for dep, grp in units.groupby("departement", sort=True):
        codes = sorted(grp.index)
        total = grp["population"].fillna(0).sum()
        goal = rng.uniform(*coverage) * total
        covered = 0.0
        order = rng.permutation(codes)
        for seed_code in order:
            if covered >= goal:
                break
            if seed_code in owner:
                continue
            t = rng.choice(len(SIZE_MIX), p=sizes / sizes.sum())
            target = rng.uniform(SIZE_MIX[t][1], SIZE_MIX[t][2])
            members, gp, frontier = [seed_code], pop[seed_code], list(nbrs.get(seed_code, []))
            owner[seed_code] = k
            while gp < target and frontier:
                nxt = frontier.pop(0)
                if nxt in owner or units.at[nxt, "departement"] != dep:
                    continue
                owner[nxt] = k
                members.append(nxt)
                gp += pop[nxt]
                frontier.extend(nbrs.get(nxt, []))
            rows.extend((k, c) for c in members)
            covered += gp
            k += 1
    per = pd.DataFrame(rows, columns=["id", "code_commune"])
    # Overlaps: some CPTS also claim a commune or two of a neighbouring CPTS.
    ids = np.arange(k)
    claim = rng.choice(ids, int(overlap_share * k), replace=False)
    extra = []
    members = per.groupby("id")["code_commune"].agg(list)
    for i in sorted(claim):
        border = sorted({v for c in members[i] for v in nbrs.get(c, []) if owner.get(v, i) != i})
        if border:
            n = min(len(border), int(rng.integers(1, 3)))
            extra += [(i, c) for c in rng.choice(border, n, replace=False)]
    per = pd.concat([per, pd.DataFrame(extra, columns=["id", "code_commune"])], ignore_index=True)
    names = {i: f"CPTS fictive {i + 1:04d} ({units.at[members[i][0], 'nom']})" for i in ids}
    statuses = rng.choice([s for s, _ in STATUS_MIX], k, p=[p for _, p in STATUS_MIX])
    out = pd.DataFrame({"cpts": per["id"].map(names), "statut": per["id"].map(dict(enumerate(statuses))),
                        "code_commune": per["code_commune"], "part": 1.0})
    out = out.drop_duplicates(["cpts", "code_commune"])
    assert set(out["statut"]) <= set(settings.STATUSES)
    return out.sort_values(["cpts", "code_commune"]).reset_index(drop=True)

"""New CPTS in a white zone: whole EPCI parts grouped towards a target size.

A working group builds a new CPTS from intercommunalités, not from loose
communes, and sizes it like its neighbours, not at the legal minimum
(DOMAIN.md, "How a working group reads a plan"). So:

1. **Units are EPCI parts**: the communes of one EPCI inside the zone, one
   block per connected piece. A block is split only when it exceeds the
   maximum size (split reported).
2. **Blocks are merged towards the target range**: the smallest group under
   the target's lower bound joins the neighbouring group that keeps the
   union under the maximum, preferring a union inside the target range, then
   the longest shared border; until every group is in range or cannot grow.
   A group left under the minimum is flagged.

Targets depend on the zone's density typology (:class:`Cibles`). Every tie
is broken on sorted codes: the result does not depend on the order of rows.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import networkx as nx

from .models import Parametres


@dataclass(frozen=True)
class Cibles:
    """Size targets of a new CPTS (inhabitants).

    Attributes
    ----------
    minimum : int
        Under it, a new CPTS is flagged « sous le seuil ».
    cible_min, cible_max : int
        The range groups are merged towards.
    maximum : int
        No merge goes above it; an EPCI part above it is split.
    """

    minimum: int
    cible_min: int
    cible_max: int
    maximum: int


#: Defaults by density typology of the zone (urban CPTS are often taille 3-4, rural ones 1-2).
CIBLES: dict[str, Cibles] = {
    "urbain": Cibles(40_000, 60_000, 120_000, 175_000),
    "intermédiaire": Cibles(40_000, 60_000, 120_000, 175_000),
    "rural": Cibles(15_000, 25_000, 60_000, 120_000),
}


def cibles(typologie: str, parametres: Parametres) -> Cibles:
    """The targets of a zone: by its typology, never under the planner's floor."""
    base = CIBLES.get(typologie, CIBLES["intermédiaire"])
    floor = parametres.population_min_nouvelle_cpts
    if floor <= base.minimum:
        return base
    return Cibles(floor, max(base.cible_min, floor), max(base.cible_max, floor), max(base.maximum, 2 * floor))


def epci_blocks(g: nx.Graph, codes: list[str], epci: dict[str, str]) -> list[list[str]]:
    """EPCI parts: the communes of one EPCI among ``codes``, one block per connected piece.

    A commune without EPCI is a block of its own. Blocks are sorted lists,
    ordered by EPCI then first code, so the result does not depend on the
    order of ``codes``.
    """
    by_epci: dict[str, list[str]] = {}
    for code in sorted(codes):
        e = epci.get(code) or ""
        by_epci.setdefault(e or f"\0{code}", []).append(code)
    return [comp for _, members in sorted(by_epci.items())
            for comp in sorted((sorted(c) for c in nx.connected_components(g.subgraph(members))),
                               key=lambda c: c[0])]


@dataclass
class PartitionBlocs:
    """Partition of a white zone into new CPTS made of whole EPCI parts.

    Parameters
    ----------
    graph : networkx.Graph
        Adjacency of the zone's communes (``longueur`` on edges, metres).
    population, epci : dict
        Population and EPCI (SIREN, or ``""``) of each commune.
    cibles : Cibles

    Attributes
    ----------
    groupes_ : list of list of str
        Groups of codes (each sorted; the list sorted by first code).
    scissions_ : dict
        EPCI -> number of pieces, for the EPCI parts split for being above the maximum.
    """

    graph: nx.Graph
    population: dict[str, float]
    epci: dict[str, str]
    cibles: Cibles
    groupes_: list[list[str]] = field(default_factory=list)
    scissions_: dict[str, int] = field(default_factory=dict)

    def fit(self) -> PartitionBlocs:
        """Compute :attr:`groupes_` (see the module docstring)."""
        groups = [set(b) for b in self._blocks()]
        self.groupes_ = sorted((sorted(g) for g in self._merge(groups)), key=lambda g: g[0])
        return self

    def _pop(self, group: set[str]) -> float:
        return sum(self.population[c] for c in group)

    def _blocks(self) -> list[list[str]]:
        blocks = []
        for comp in epci_blocks(self.graph, sorted(self.graph.nodes), self.epci):
            if self._pop(set(comp)) > self.cibles.maximum and len(comp) > 1:
                e = self.epci.get(comp[0]) or ""
                pieces = regionalise(self.graph.subgraph(comp), self.population, self.epci, self.cibles.cible_min)
                self.scissions_[e] = self.scissions_.get(e, 0) + len(pieces)
                blocks.extend(pieces)
            else:
                blocks.append(comp)
        return blocks

    def _merge(self, groups: list[set[str]]) -> list[set[str]]:
        c = self.cibles
        while True:
            label = {code: i for i, g in enumerate(groups) for code in g}
            small = sorted((i for i, g in enumerate(groups) if self._pop(g) < c.cible_min),
                           key=lambda i: (self._pop(groups[i]), min(groups[i])))
            merged = False
            for i in small:
                border: dict[int, float] = {}
                for u in groups[i]:
                    for v in self.graph.neighbors(u):
                        j = label[v]
                        if j != i:
                            border[j] = border.get(j, 0.0) + self.graph.edges[u, v].get("longueur", 0.0)
                best = None
                for j, b in border.items():
                    total = self._pop(groups[i]) + self._pop(groups[j])
                    if total > c.maximum:
                        continue
                    key = (not (c.cible_min <= total <= c.cible_max), -b, total, min(groups[j]))
                    if best is None or key < best[0]:
                        best = (key, j)
                if best is not None:
                    j = best[1]
                    groups[j] |= groups[i]
                    del groups[i]
                    merged = True
                    break
            if not merged:
                return groups


# --- Cutting an EPCI part above the maximum (greedy max-p) ------------------------------------

def regionalise(g: nx.Graph, pop: dict[str, float], epci: dict[str, str], floor: float) -> list[list[str]]:
    """Partition a connected set of communes into contiguous groups of at least ``floor`` inhabitants.

    Greedy max-p: seeds are taken on the edge of what remains (fewest free
    neighbours), each group grows by the commune sharing the longest border
    with it (doubled within the seed's EPCI) until it reaches the floor;
    groups that cannot reach it are merged into the neighbouring group they
    share the longest border with. Two seeding rules are tried; the
    partition with more groups above the floor, then the shorter total
    internal cut, wins.

    Parameters
    ----------
    g : networkx.Graph
        Subgraph of the communes to partition (``longueur`` on edges).
    pop, epci : dict
        Population and EPCI of each commune.
    floor : float
        Minimum population of a group.

    Returns
    -------
    list of list of str
        Groups of codes, each sorted, the list sorted by first code.
    """
    nodes = sorted(g.nodes)
    total = sum(pop[n] for n in nodes)
    if total < 2 * floor or len(nodes) == 1:
        return [nodes]
    best: list[set[str]] = []
    best_key: tuple | None = None
    for rule in ("bord", "population"):
        groups = _grow(g, pop, epci, floor, rule)
        n_ok = sum(sum(pop[c] for c in grp) >= floor for grp in groups)
        cut = sum(d["longueur"] for u, v, d in g.edges(data=True) if _label(groups)[u] != _label(groups)[v])
        key = (-n_ok, cut)
        if best_key is None or key < best_key:
            best, best_key = groups, key
    return sorted((sorted(grp) for grp in best), key=lambda grp: grp[0])


def _label(groups: list[set[str]]) -> dict[str, int]:
    return {c: i for i, grp in enumerate(groups) for c in grp}


def _grow(  # noqa: C901 - replaced by the planner v2 (issue 17)
    g: nx.Graph, pop: dict[str, float], epci: dict[str, str], floor: float, rule: str) -> list[set[str]]:
    free = set(g.nodes)
    full: list[set[str]] = []
    short: list[set[str]] = []
    while free:
        if rule == "bord":
            seed = min(free, key=lambda n: (sum(1 for v in g.neighbors(n) if v in free), n))
        else:
            seed = min(free, key=lambda n: (-pop[n], n))
        grp, gp = {seed}, pop[seed]
        free.discard(seed)
        heap: list[tuple] = []

        def push(v: str) -> None:
            # Called within the iteration that defines it: the loop variables are the current ones.
            b = sum(g.edges[v, w]["longueur"] for w in g.neighbors(v) if w in grp)  # noqa: B023
            heapq.heappush(heap, (-(b * (2 if epci.get(v) == epci.get(seed) else 1)), v, b))  # noqa: B023

        for v in g.neighbors(seed):
            if v in free:
                push(v)
        while gp < floor and heap:
            _, v, b = heapq.heappop(heap)
            if v not in free:
                continue
            if abs(sum(g.edges[v, w]["longueur"] for w in g.neighbors(v) if w in grp) - b) > 1e-6:
                continue
            grp.add(v)
            gp += pop[v]
            free.discard(v)
            for w in g.neighbors(v):
                if w in free:
                    push(w)
        (full if gp >= floor else short).append(grp)
    # Merge short groups into the full group they share the longest border with.
    while short:
        label = _label(full)
        progress = False
        for grp in sorted(short, key=lambda s: min(s)):
            links: dict[int, float] = {}
            for u in grp:
                for v in g.neighbors(u):
                    if v in label:
                        links[label[v]] = links.get(label[v], 0) + g.edges[u, v]["longueur"]
            if links:
                target = max(sorted(links), key=lambda k: links[k])
                full[target] |= grp
                short.remove(grp)
                progress = True
                break
        if not progress:
            # Short groups touching only each other: merge them together.
            merged = set().union(*short)
            comps = [set(c) for c in nx.connected_components(g.subgraph(merged))]
            if not full:
                return comps
            full.extend(comps)
            short = []
    return full

"""Extensions: white-zone communes given to the CPTS that border them.

Two mechanisms, both keeping every perimeter in one piece:

- *fragments home*: the white part of an EPCI that lives mostly in one
  bordering CPTS goes to that CPTS (:func:`fragments_home`);
- *joint extension*: the EPCI parts of all small white zones are given
  together to bordering CPTS, same EPCI first, then ring by ring and by
  longest border, without changing a CPTS's taille (:func:`extend`).

Every candidate CPTS of every commune is recorded with why it was refused,
so that each proposal can say what else was possible (:func:`candidates_text`).
"""

from __future__ import annotations

import heapq

import geopandas as gpd
import networkx as nx
import pandas as pd

from . import analyse as an
from . import settings
from .formats import nombre, pourcentage
from .models import Audit, Parametres
from .overlaps import km
from .partition import Cibles, epci_blocks

#: Per commune of a small zone, each CPTS considered: (border m, same original EPCI, population after, refusal).
Candidates = dict[str, dict[str, tuple[float, bool, float, str | None]]]


def extend(zone: list[str], sets: dict[str, set[str]], pops: dict[str, float], g: nx.Graph,
           units: pd.DataFrame, cpts_deps: dict[str, set[str]], cpts_epcis: dict[str, set[str]],
           rank: dict[str, int], params: Parametres,
           owner: dict[str, str] | None = None, considered: Candidates | None = None,
           whole_epci_parts: bool = True) -> dict[str, tuple[str, float, bool]]:
    """Grow neighbouring CPTS into white zones, one EPCI part at a time.

    The units are EPCI parts (the communes of one EPCI in the zone, one block
    per connected piece; see :func:`territoire.partition.epci_blocks`), taken
    whole so that no EPCI is split; with ``whole_epci_parts=False`` every
    commune is a unit of its own. A unit can only join a CPTS it borders, so
    every perimeter stays in one piece. A CPTS takes first the units of the
    EPCIs it held before the plan; then the CPTS grow together, ring by ring
    (a unit goes to the CPTS it is fewest steps away from, as in a Voronoi
    diagram on the graph); within a ring, the longest shared border wins,
    then maturity, then name. A CPTS never changes taille, passes the maximum
    population or enters a new département unless the parameters allow it,
    and is never filled to within 1 % of a size threshold.

    Returns
    -------
    dict
        code -> (cpts, border shared by its unit, same EPCI) for the communes taken.
        ``sets``, ``pops``, ``cpts_deps`` and ``owner`` (code -> CPTS, built from
        ``sets`` when not given) are updated in place; ``considered`` receives
        every candidate of every commune, with the reason it was refused.
    """
    if owner is None:
        owner = {c: name for name, s in sets.items() for c in s}
    local = units.loc[sorted(set(zone))]  # plain dicts: Series lookups cost more than the search itself
    growth = _Growth(g, sets, pops, owner, {} if considered is None else considered, cpts_deps, cpts_epcis, rank,
                     params, local["epci_siren"].fillna("").astype(str).to_dict(),
                     local["departement"].to_dict(), local["population"].fillna(0).to_dict(), whole_epci_parts)
    return growth.run()


class _Growth:
    """The state of :func:`extend`: units (EPCI parts or communes), owners, and a heap of offers."""

    def __init__(self, g: nx.Graph, sets: dict[str, set[str]], pops: dict[str, float], owner: dict[str, str],
                 considered: Candidates, cpts_deps: dict[str, set[str]], cpts_epcis: dict[str, set[str]],
                 rank: dict[str, int], params: Parametres, epci: dict[str, str], dep: dict[str, str],
                 pop: dict[str, float], whole_epci_parts: bool) -> None:
        self.g, self.sets, self.pops, self.owner, self.considered = g, sets, pops, owner, considered
        self.cpts_deps, self.cpts_epcis, self.rank, self.params, self.epci = cpts_deps, cpts_epcis, rank, params, epci
        self.blocks = epci_blocks(g, list(epci), epci if whole_epci_parts else {})
        self.block_of = {code: i for i, b in enumerate(self.blocks) for code in b}
        self.block_pop = [sum(pop[c] for c in b) for b in self.blocks]
        self.block_dep = [min(dep[c] for c in b) for b in self.blocks]
        self.taken: dict[str, tuple[str, float, bool]] = {}
        self.heap: list[tuple] = []

    def border(self, i: int, name: str) -> float:
        g, owner = self.g, self.owner
        return sum(g.edges[c, v]["longueur"] for c in self.blocks[i] for v in g.neighbors(c) if owner.get(v) == name)

    def entry(self, i: int, name: str) -> tuple[float, bool, float, str | None]:
        after = self.pops[name] + self.block_pop[i]
        return (self.border(i, name), self.epci[self.blocks[i][0]] in self.cpts_epcis[name], after,
                _refusal(self.pops[name], after, self.block_dep[i], self.cpts_deps[name], self.params))

    def push(self, i: int, name: str, level: int) -> None:
        first = self.blocks[i][0]
        if first not in self.taken:
            b = self.border(i, name)
            # Same EPCI (before the plan) first, then the ring, the border, maturity and the name.
            heapq.heappush(self.heap, (self.epci[first] not in self.cpts_epcis[name], level, -b,
                                       -self.rank[name] if self.params.preferer_aci else 0, name, first, i, b))

    def bordering(self, i: int) -> set[str]:
        owner = self.owner
        return {owner[v] for c in self.blocks[i] for v in self.g.neighbors(c) if v in owner and owner[v] in self.sets}

    def settle(self, i: int, name: str, level: int, b: float) -> None:
        chosen = self.entry(i, name)
        seen = self.considered.get(self.blocks[i][0], {})
        # The other CPTS bordering it too, for the motive.
        others = {o: self.entry(i, o) for o in sorted(self.bordering(i) - {name}) if o not in seen}
        for c in self.blocks[i]:
            self.considered.setdefault(c, {})[name] = chosen
            if not chosen[3]:
                self.considered[c].update(others)
                self.taken[c] = (name, b, chosen[1])
                self.owner[c] = name
        if chosen[3]:
            return
        self.sets[name].update(self.blocks[i])
        self.pops[name] = chosen[2]
        for j in sorted({self.block_of[v] for c in self.blocks[i] for v in self.g.neighbors(c)
                         if v in self.block_of} - {i}):
            self.push(j, name, level + 1)

    def run(self) -> dict[str, tuple[str, float, bool]]:
        for i in range(len(self.blocks)):
            for name in sorted(self.bordering(i)):
                self.push(i, name, 1)
        while self.heap:
            _, level, _, _, name, first, i, b = heapq.heappop(self.heap)
            if first in self.taken:
                continue
            if abs(self.border(i, name) - b) > 1e-6:
                self.push(i, name, level)  # the CPTS grew around it since: rescore
                continue
            self.settle(i, name, level, b)
        return self.taken


def _refusal(before: float, after: float, dep: str, deps: set[str], params: Parametres) -> str | None:
    """Why a CPTS may not take a commune, or ``None``."""
    if not params.franchir_seuil_taille and an.taille(after) != an.taille(before):
        funding = settings.funding_max()
        return (f"passerait de la taille {an.taille(before)} à {an.taille(after)} "
                f"({nombre(funding[an.taille(after)] - funding[an.taille(before)])} €/an de plus au plus)")
    if after > params.population_max_cpts:
        return f"dépasserait {nombre(params.population_max_cpts)} hab."
    if not params.franchir_seuil_taille:
        near = [t for t in settings.size_thresholds() if after <= t < after * 1.0101]
        if near and before < after:
            return (f"la laisserait à moins de 1 % du seuil de taille de {nombre(near[0])} hab. "
                    f"({nombre(after)} hab.) : une commune de plus la ferait changer de taille")
    if not params.franchir_departement and dep not in deps:
        return f"autre département ({dep})"
    return None


def candidates_text(code: str, chosen: str | None, considered: Candidates) -> tuple[str, str]:
    """The other candidates of a commune, for ``alternative``, and a sentence on each (why not chosen)."""
    others = sorted((n for n in considered.get(code, {}) if n != chosen), key=lambda n: (-considered[code][n][0], n))
    if not others:
        return "aucune", " Seule CPTS qui la borde au moment du rattachement."
    parts = []
    for n in others:
        b, same, after, refusal = considered[code][n]
        facts = f"{km(b)} de frontière{', même EPCI' if same else ''}, {nombre(after)} hab. après"
        kept = considered[code].get(chosen or "")
        why = (refusal or ("frontière commune plus courte" if kept and b < kept[0] else
                           "la CPTS retenue la bordait plus tôt (croissance anneau par anneau) ou à meilleur "
                           "rang (même EPCI, statut)"))
        parts.append(f"« {n} » ({facts}) : {why}")
    return " | ".join(others), " Autres candidates : " + " ; ".join(parts) + "."


def fragments_home(audit: Audit, units: gpd.GeoDataFrame, g: nx.Graph,
                   sets: dict[str, set[str]]) -> dict[str, tuple[str, float, str]]:
    """White-zone communes whose EPCI lives mostly (≥ 50 % of its population) in one CPTS that borders them.

    "Same EPCI" refers to the perimeters before the plan. Each EPCI part (a
    connected piece of the EPCI's white communes) goes whole to that CPTS, so
    the CPTS stays in one piece. Returns code -> (CPTS, share, EPCI name).
    """
    pop = units["population"].fillna(0)
    epci = units["epci_siren"].fillna("")
    per = audit.perimetres.drop_duplicates(["cpts", "code_commune"])
    per = per.assign(epci=per["code_commune"].map(epci), population=per["code_commune"].map(pop))
    per = per[per["epci"] != ""]
    totals = pop.groupby(epci).sum()
    shares = per.groupby(["epci", "cpts"])["population"].sum() / totals.reindex(
        per.groupby(["epci", "cpts"]).size().index.get_level_values(0)).to_numpy()
    best = (shares[shares >= 0.5].reset_index(name="part").sort_values(["epci", "part", "cpts"],
                                                                       ascending=[True, False, True])
            .drop_duplicates("epci").set_index("epci"))
    white = audit.communes.loc[audit.communes["zone_blanche"], "code_commune"].tolist()
    names = units["epci_nom"].fillna("")
    out: dict[str, tuple[str, float, str]] = {}
    by_epci: dict[str, list[str]] = {}
    for code in sorted(white):
        if epci.get(code, "") in best.index:
            by_epci.setdefault(epci[code], []).append(code)
    for e, codes in sorted(by_epci.items()):
        name, share = str(best.at[e, "cpts"]), float(best.at[e, "part"])
        for comp in sorted((sorted(c) for c in nx.connected_components(g.subgraph(codes))), key=lambda c: c[0]):
            if any(v in sets.get(name, set()) for u in comp for v in g.neighbors(u)):
                out.update({code: (name, share, str(names.get(code, e))) for code in comp})
    return out


def _send_home(home: dict[str, tuple[str, float, str]], sets: dict[str, set[str]], owner: dict[str, str],
               pops: dict[str, float], pop: pd.Series) -> list[dict]:
    """Give each EPCI fragment to its CPTS (see :func:`fragments_home`); the proposals."""
    proposals = []
    for code, (name, share, epci_name) in sorted(home.items()):
        sets[name].add(code)
        owner[code] = name
        pops[name] += float(pop.get(code, 0.0))
        proposals.append({
            "code_commune": code, "action": "extension", "cpts_cible": name,
            "alternative": "une autre CPTS voisine, ou une nouvelle CPTS avec le reste de la zone",
            "motif": (f"Fragment d'EPCI ramené à sa CPTS : {pourcentage(share, 0)} de la population de "
                      f"« {epci_name} » est déjà dans « {name} », qui borde cette partie de l'EPCI.")})
    return proposals




def islands_ashore(new_groups: list[tuple[list[str], str, Cibles]], islands: set[str], sets: dict[str, set[str]],
                   pops: dict[str, float], owner: dict[str, str], cpts_deps: dict[str, set[str]],
                   units: gpd.GeoDataFrame, params: Parametres,
                   proposals: list[dict]) -> tuple[list[tuple[list[str], str, Cibles]], dict[str, str]]:
    """Join each island left as a new CPTS under its minimum to the CPTS ashore.

    An island borders no commune, so no extension reaches it and, alone, it
    would be a new CPTS of a few hundred inhabitants (Île-Molène, 176). It
    goes to the group (an existing CPTS or a proposed new one) holding most of
    its EPCI's population, or else to the group of the nearest commune ashore
    in its département; an existing CPTS takes it only within the usual limits
    (taille, maximum population). Returns the groups left and, per island commune
    joined to a new group, the sentence for its motive; extensions of existing
    CPTS are appended to ``proposals``.
    """
    pop = units["population"].fillna(0)
    epci = units["epci_siren"].fillna("")
    holder = dict(owner)  # code -> existing CPTS or index of a new group
    holder.update({c: str(k) for k, (grp, _, _) in enumerate(new_groups) for c in grp
                   if not set(grp) <= islands})
    kept: list[tuple[list[str], str, Cibles]] = []
    notes: dict[str, str] = {}
    for grp, why, target in new_groups:
        gp = float(pop.loc[grp].sum())
        if not set(grp) <= islands or gp >= target.minimum:
            kept.append((grp, why, target))
            continue
        dest, reason = _shore(grp, holder, islands, units, epci, pop)
        if dest is None:
            kept.append((grp, why, target))
            continue
        if not dest.isdigit():  # an existing CPTS
            dep = str(units.at[grp[0], "departement"])
            if _refusal(pops[dest], pops[dest] + gp, dep, cpts_deps[dest], params):
                kept.append((grp, why, target))
                continue
            sets[dest].update(grp)
            pops[dest] += gp
            for code in grp:
                owner[code] = dest
                proposals.append({"code_commune": code, "action": "extension", "cpts_cible": dest,
                                  "alternative": f"une nouvelle CPTS de {nombre(gp)} hab. sur l'île seule",
                                  "motif": f"Île sans voisine terrestre ({nombre(gp)} hab.) : {reason}."})
            continue
        target_grp = new_groups[int(dest)][0]
        target_grp.extend(grp)
        target_grp.sort()
        notes.update({code: f" Île sans voisine terrestre : {reason}." for code in grp})
    return kept, notes


def _shore(grp: list[str], holder: dict[str, str], islands: set[str], units: gpd.GeoDataFrame,
           epci: pd.Series, pop: pd.Series) -> tuple[str | None, str]:
    """The group an island joins (same EPCI first, else the nearest commune ashore) and why."""
    e = str(epci.get(grp[0], ""))
    if e:
        everyone = epci.index[(epci == e).to_numpy()]
        members = [c for c in everyone if c in holder and c not in grp]
        if members:
            held = pop.loc[members].groupby([holder[c] for c in members]).sum()
            best = sorted(held.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            share = held[best] / float(pop.loc[everyone].sum())
            return best, (f"rattachée au groupe qui réunit {pourcentage(share, 0)} de la population de son EPCI "
                          f"« {units.at[grp[0], 'epci_nom']} »")
    dep = units.at[grp[0], "departement"]
    same_dep = units.index[(units["departement"] == dep).to_numpy()]
    ashore = units.loc[[c for c in same_dep if c in holder and c not in islands]]
    if ashore.empty:
        return None, ""
    crs = settings.metric_crs(str(dep))
    island = units.loc[grp, "geometry"].to_crs(crs).union_all()
    nearest = ashore.index[int(ashore.geometry.to_crs(crs).distance(island).to_numpy().argmin())]
    return holder[nearest], f"rattachée au groupe de la commune la plus proche sur le continent, {units.at[nearest, 'nom']}"

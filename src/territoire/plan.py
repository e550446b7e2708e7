"""Plan 100 % CPTS: proposals to settle every overlap and cover every white zone.

Three kinds of proposal, computed on the commune adjacency graph:

1. *arbitrage_chevauchement*: each commune claimed by several CPTS goes to
   one of them (longest border with the rest of that CPTS, then maturity),
   never cutting a losing CPTS in two when another choice avoids it;
2. *extension*: the communes of a small white zone are given to bordering
   CPTS, grown commune by commune from their borders (so each perimeter stays
   in one piece), preferring long shared borders, the same EPCI and the same
   département, without crossing a size threshold or a maximum population
   unless the parameters allow it;
3. *nouvelle_cpts*: a zone too large for extensions (and what extensions
   could not take) is partitioned into contiguous, compact groups, each with
   at least a minimum population when the zone allows it, following EPCI
   borders where possible (the max-p regionalisation problem).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from . import analyse as an
from . import graph, settings
from .errors import Journal
from .formats import nombre, pourcentage
from .models import Audit, ChiffresPlan, CptsAvantApres, Parametres, Perimetres, Plan, Population, Scenario
from .partition import Cibles, PartitionBlocs, cibles


def km(m: float) -> str:
    """A length in metres, as kilometres for a motive."""
    return nombre(m / 1000, 1) + "\u00a0km"


# --- Overlaps ------------------------------------------------------------------

def _connected_without(g: nx.Graph, members: set[str], removed: str) -> bool:
    rest = members - {removed}
    return len(rest) <= 1 or nx.is_connected(g.subgraph(rest))


def settle_overlaps(members: pd.DataFrame, overlaps: list[str], g: nx.Graph, units: pd.DataFrame,
                    params: Parametres) -> tuple[pd.DataFrame, list[dict]]:
    """Give each overlapped commune to one CPTS.

    Parameters
    ----------
    members : pandas.DataFrame
        ``cpts``, ``code_commune``, ``rang`` (maturity rank).
    overlaps : list of str
        Codes claimed by several CPTS.
    g : networkx.Graph
        Adjacency with ``longueur`` on edges.

    Returns
    -------
    (pandas.DataFrame, list of dict)
        Memberships with one CPTS per overlapped commune, and the proposals.
    """
    sets = members.groupby("cpts")["code_commune"].agg(set).to_dict()
    rank = members.groupby("cpts")["rang"].first().to_dict()
    pop_of = units["population"].fillna(0)
    proposals = merge_nested(sets, pop_of)
    for code in sorted(overlaps, key=lambda c: (-pop_of.get(c, 0), c)):
        claim = sorted(c for c, s in sets.items() if code in s)
        if len(claim) < 2:
            continue
        border = {c: sum(g.edges[code, v]["longueur"] for v in g.neighbors(code) if v in sets[c] and v != code)
                  for c in claim}
        order = sorted(claim, key=lambda c: (-border[c], -rank[c] if params.preferer_aci else 0, c))
        # Never cut a losing CPTS in two when another winner avoids it.
        ok = [c for c in order if all(_connected_without(g, sets[o], code) for o in claim if o != c)]
        winner = ok[0] if ok else order[0]
        others = [c for c in claim if c != winner]
        if winner != order[0]:
            cut = next(o for o in claim if o != order[0] and not _connected_without(g, sets[o], code))
            why = (f"« {order[0]} » a la frontière commune la plus longue ({km(border[order[0]])}) mais la "
                   f"lui attribuer couperait « {cut} » en deux ; « {winner} » la borde sur {km(border[winner])}")
        elif border[winner] > max(border[o] for o in others):
            why = (f"frontière commune la plus longue avec le reste de « {winner} » ({km(border[winner])}, "
                   + ", ".join(f"« {o} » : {km(border[o])}" for o in others) + ")")
        elif params.preferer_aci and rank[winner] > max(rank[o] for o in others):
            why = (f"frontières égales ; « {winner} » est plus avancée "
                   f"({settings.STATUS_LABELS.get(members.loc[members['cpts'] == winner, 'statut'].iloc[0], '')})")
        else:
            why = "frontières et statuts équivalents ; choix à faire par le groupe de travail"
        emptied = [o for o in others if sets[o] <= {code}]
        for o in others:
            sets[o].discard(code)
        note = "".join(f" « {o} » n'a plus de commune propre : fusion à discuter." for o in emptied)
        proposals.append({
            "code_commune": code, "action": "arbitrage_chevauchement", "cpts_cible": winner,
            "alternative": " | ".join(others),
            "motif": (f"Commune revendiquée par {len(claim)} CPTS ({', '.join(f'« {c} »' for c in claim)}). "
                      f"Proposée à « {winner} » : {why}. À arbitrer par le groupe de travail.{note}"),
        })
    kept = pd.DataFrame([(c, code) for c, s in sets.items() for code in s], columns=["cpts", "code_commune"])
    out = kept.merge(members.drop(columns="code_commune").drop_duplicates("cpts"), on="cpts", how="left")
    return out, proposals


def nested_projects(sets: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs (A, B) where every commune of project A is also in project B (A nested in B)."""
    names = sorted(sets)
    return [(a, b) for a in names for b in names
            if a != b and sets[a] and sets[a] <= sets[b] and (len(sets[a]) < len(sets[b]) or a > b)]


def overlap_options(a: str, b: str, sets: dict[str, set[str]], pop: pd.Series) -> list[dict]:
    """The ways to settle the communes A and B share, side by side: population, taille and €/yr of each.

    Options: merge A into B; all shared communes to A; all to B (for a nested A, the same as merging).
    """
    shared = sets[a] & sets[b]

    def figures(pa: float, pb: float, label: str, note: str) -> dict:
        funding = settings.funding_max()
        ta, tb = (an.taille(pa) if pa > 0 else None), (an.taille(pb) if pb > 0 else None)
        return {"option": label, "cpts_a": a, "cpts_b": b, "population_a": int(round(pa)),
                "taille_a": ta, "population_b": int(round(pb)), "taille_b": tb,
                "financement_max_annuel": int((funding[ta] if ta else 0) + (funding[tb] if tb else 0)),
                "remarque": note}

    def total(codes: set[str]) -> float:
        return float(pop.reindex(sorted(codes)).fillna(0).sum())

    return [
        figures(0.0, total(sets[a] | sets[b]), "fusion", f"« {a} » rejoint « {b} » : une seule association"),
        figures(total(sets[a]), total(sets[b] - shared), "communes partagées à A",
                f"« {b} » perd {len(shared)} commune(s)"),
        figures(total(sets[a] - shared), total(sets[b]), "communes partagées à B",
                f"« {a} » garde {len(sets[a] - shared)} commune(s)"),
    ]


def merge_nested(sets: dict[str, set[str]], pop: pd.Series) -> list[dict]:
    """Settle nested projects first: a project inside another is merged into it (recommended option).

    Returns the proposals (one per commune of the nested project); ``sets`` loses the nested projects.
    """
    proposals = []
    for a, b in nested_projects(sets):
        if a not in sets or b not in sets or not sets[a] <= sets[b]:
            continue  # already merged into another
        options = overlap_options(a, b, sets, pop)
        fusion, to_a = options[0], options[1]
        motive = (f"« {a} » ({len(sets[a])} commune(s)) est entièrement incluse dans « {b} » : fusion des deux "
                  f"projets recommandée ({nombre(fusion['population_b'])} hab., taille {fusion['taille_b']}, "
                  f"{nombre(fusion['financement_max_annuel'])} €/an au plus) plutôt que de garder les communes à "
                  f"« {a} » ({nombre(to_a['financement_max_annuel'])} €/an au plus pour les deux, "
                  f"« {b} » réduite à {nombre(to_a['population_b'])} hab.). Un projet inclus dans un autre se "
                  "règle par le choix ou la fusion des projets, pas commune par commune.")
        for code in sorted(sets[a]):
            proposals.append({"code_commune": code, "action": "arbitrage_chevauchement", "cpts_cible": b,
                              "alternative": a, "motif": motive})
        del sets[a]
    return proposals


# --- Extensions ------------------------------------------------------------------

def extend(zone: list[str], sets: dict[str, set[str]], pops: dict[str, float], g: nx.Graph,
           units: pd.DataFrame, cpts_deps: dict[str, set[str]], cpts_epcis: dict[str, set[str]],
           rank: dict[str, int], params: Parametres,
           owner: dict[str, str] | None = None) -> dict[str, tuple[str, float, bool]]:
    """Grow neighbouring CPTS into a white zone, one commune at a time.

    A commune can only join a CPTS it borders, so every perimeter stays in
    one piece. The CPTS grow together, ring by ring (a commune goes to the
    CPTS it is fewest steps away from, as in a Voronoi diagram on the graph);
    within a ring, the longest shared border with the CPTS wins (doubled when
    the commune shares an EPCI with it), then maturity, then name.

    Returns
    -------
    dict
        code -> (cpts, shared border in metres, same EPCI) for the communes taken.
        ``sets``, ``pops``, ``cpts_deps``, ``cpts_epcis`` and ``owner`` (code -> CPTS,
        built from ``sets`` when not given) are updated in place.
    """
    zone_set = set(zone)
    if owner is None:
        owner = {c: name for name, s in sets.items() for c in s}
    local = units.loc[sorted(zone_set)]  # plain dicts: Series lookups cost more than the search itself
    epci = local["epci_siren"].to_dict()
    dep = local["departement"].to_dict()
    pop = local["population"].fillna(0).to_dict()
    taken: dict[str, tuple[str, float, bool]] = {}
    heap: list[tuple] = []

    def border(code: str, name: str) -> float:
        return sum(g.edges[code, v]["longueur"] for v in g.neighbors(code) if owner.get(v) == name)

    def push(code: str, name: str, level: int) -> None:
        if code in taken or code not in zone_set:
            return
        b = border(code, name)
        same = epci.get(code) in cpts_epcis[name]
        heapq.heappush(heap, (level, -(b * (2 if same else 1)), -rank[name] if params.preferer_aci else 0,
                              name, code, b))

    for code in sorted(zone):
        for v in g.neighbors(code):
            if owner.get(v) in sets:
                push(code, owner[v], 1)
    while heap:
        level, _, _, name, code, b = heapq.heappop(heap)
        if code in taken:
            continue
        if abs(border(code, name) - b) > 1e-6:
            push(code, name, level)  # the CPTS grew around it since: rescore
            continue
        new_pop = pops[name] + pop[code]
        if not params.franchir_seuil_taille and an.taille(new_pop) != an.taille(pops[name]):
            continue
        if new_pop > params.population_max_cpts:
            continue
        if not params.franchir_departement and dep[code] not in cpts_deps[name]:
            continue
        same = epci.get(code) in cpts_epcis[name]
        taken[code] = (name, b, same)
        owner[code] = name
        sets[name].add(code)
        pops[name] = new_pop
        cpts_epcis[name].add(epci.get(code))
        for v in g.neighbors(code):
            push(v, name, level + 1)
    return taken


# --- New CPTS (regionalisation) ------------------------------------------------------

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


# --- Whole plan --------------------------------------------------------------------------

def _compactness(perimeters: pd.DataFrame, units: gpd.GeoDataFrame, edges: pd.DataFrame) -> pd.Series:
    """Polsby-Popper index (4πA/P², 1 for a disc) of each perimeter.

    No dissolve: the area is the sum of the communes' areas and the outline
    the sum of their outlines less twice the borders they share (graph edges).
    """
    m = perimeters[["cpts", "code_commune"]].drop_duplicates().rename(columns={"cpts": "groupe"})
    a = m["code_commune"].map(units["superficie_km2"] * 1e6).groupby(m["groupe"]).sum()
    p = an.group_outlines(m, units, edges).reindex(a.index)
    return (4 * math.pi * a / p.clip(lower=1) ** 2).clip(upper=1).round(3).sort_index()


def _split_epcis(perimeters: pd.DataFrame, scope_units: pd.DataFrame) -> int:
    m = perimeters[an.isin(perimeters["code_commune"], scope_units.index)].drop_duplicates("code_commune")
    m = m.assign(epci=m["code_commune"].map(scope_units["epci_siren"])).dropna(subset=["epci"])
    return int((m.groupby("epci")["cpts"].nunique() > 1).sum())


def new_cpts_name(group: list[str], units: pd.DataFrame, taken: set[str]) -> str:
    """``Nouvelle CPTS <commune la plus peuplée>``, made unique."""
    pop = units.loc[group, "population"].fillna(0)
    main = units.at[pop.sort_values(ascending=False, kind="stable").index[0], "nom"]
    name, i = f"Nouvelle CPTS {main}", 2
    while name in taken:
        name, i = f"Nouvelle CPTS {main} ({i})", i + 1
    taken.add(name)
    return name


def plan_audit(audit: Audit, units: gpd.GeoDataFrame, edges: pd.DataFrame,
               params: Parametres | None = None) -> Plan:
    """Propose how to settle every overlap and cover every white zone of an audit.

    Parameters
    ----------
    audit : Audit
        The current situation (see :func:`territoire.analyse.audit`).
    units : geopandas.GeoDataFrame
        Units with the populations used by the audit.
    edges : pandas.DataFrame
        Adjacency edges.
    params : Parametres

    Returns
    -------
    Plan
    """
    params = params or Parametres()
    journal = Journal()
    scope = audit.synthese["perimetre"]
    per = audit.perimetres.drop_duplicates(["cpts", "code_commune"]).copy()
    per["rang"] = per["statut"].map(settings.STATUS_RANK).fillna(-1)
    involved = set(per["code_commune"].tolist()) | set(audit.communes["code_commune"].tolist())
    g = nx.Graph()
    g.add_nodes_from(involved)
    sub = edges[an.isin(edges["u"], involved) & an.isin(edges["v"], involved)]
    g.add_weighted_edges_from(zip(sub["u"].tolist(), sub["v"].tolist(), sub["longueur_m"].tolist()), weight="longueur")

    members, proposals = settle_overlaps(per, list(audit.chevauchements["code_commune"]), g, units, params)
    sets = members.groupby("cpts")["code_commune"].agg(set).to_dict()
    statut = per.groupby("cpts")["statut"].first().to_dict()
    rank = {c: settings.STATUS_RANK.get(s, -1) if isinstance(s, str) else -1 for c, s in statut.items()}
    pop = units["population"].fillna(0)
    m = members.assign(population=members["code_commune"].map(pop),
                       departement=members["code_commune"].map(units["departement"]),
                       epci=members["code_commune"].map(units["epci_siren"]))
    pops = m.groupby("cpts")["population"].sum().astype(float).to_dict()
    pops_before = dict(pops)
    deps = m.groupby("cpts")["departement"].agg(set).to_dict()
    epcis = m.dropna(subset=["epci"]).groupby("cpts")["epci"].agg(set).to_dict()
    for c in sets:
        pops.setdefault(c, 0.0)
        deps.setdefault(c, set())
        epcis.setdefault(c, set())
    owner = {code: c for c, s in sets.items() for code in s}

    new_groups: list[tuple[list[str], str, Cibles]] = []
    zones = audit.zones_blanches.sort_values("zone_blanche_id")
    home = fragments_home(audit, units, g, sets)
    for code, (name, share, epci_name) in sorted(home.items()):
        sets[name].add(code)
        owner[code] = name
        pops[name] += float(pop.get(code, 0.0))
        proposals.append({
            "code_commune": code, "action": "extension", "cpts_cible": name, "alternative": "",
            "motif": (f"Fragment d'EPCI ramené à sa CPTS : {pourcentage(share, 0)} de la population de "
                      f"« {epci_name} » est déjà dans « {name} », qui borde cette partie de l'EPCI.")})
    for _, z in zones.iterrows():
        codes = [c for c in z["communes"].split(an.JOIN) if c not in home]
        zid = z["zone_blanche_id"]
        rest = codes
        if not codes:
            continue
        if z["population"] <= params.population_max_zone_extension:
            taken = extend(codes, sets, pops, g, units, deps, epcis, rank, params, owner)
            for code, (name, b, same) in sorted(taken.items()):
                proposals.append({
                    "code_commune": code, "action": "extension", "cpts_cible": name, "alternative": "",
                    "motif": (f"Zone blanche {zid} ({z['nb_communes']} commune(s), {nombre(z['population'])} hab.), "
                              f"assez petite pour une extension. Rattachement à « {name} », voisine "
                              f"({km(b)} de frontière commune{', même EPCI' if same else ''}).")})
            rest = [c for c in codes if c not in taken]
            why = ("reste de la zone, qu'aucune CPTS voisine ne peut prendre sans changer de taille, "
                   "dépasser la population maximale ou changer de département")
        else:
            why = (f"zone trop grande pour une extension ({nombre(z['population'])} hab. > "
                   f"{nombre(params.population_max_zone_extension)})")
        if rest:
            sub_g = g.subgraph(rest)
            target = cibles(str(z.get("typologie", "intermédiaire")), params)
            for comp in sorted((sorted(c) for c in nx.connected_components(sub_g)), key=lambda c: c[0]):
                part = PartitionBlocs(g.subgraph(comp), pop.loc[comp].to_dict(),
                                      units.loc[comp, "epci_siren"].fillna("").astype(str).to_dict(), target).fit()
                for grp in part.groupes_:
                    new_groups.append((grp, f"{zid} : {why}", target))

    used = set(sets)
    for grp, why, target in new_groups:
        name = new_cpts_name(grp, units, used)
        gp = pop.loc[grp].sum()
        below = gp < target.minimum
        floor_note = (f" ; sous le seuil de {nombre(target.minimum)} hab. : aucun regroupement avec une partie "
                      f"voisine ne reste sous {nombre(target.maximum)} hab., à rapprocher d'une CPTS voisine "
                      "par arbitrage" if below else "")
        n_epci = units.loc[grp, "epci_siren"].nunique()
        for code in grp:
            proposals.append({
                "code_commune": code, "action": "nouvelle_cpts", "cpts_cible": name, "alternative": "",
                "motif": (f"{why}. Nouvelle CPTS proposée de {len(grp)} commune(s) et {nombre(gp)} hab. "
                          f"(taille {an.taille(gp)}, {n_epci} EPCI){floor_note}.")})
        sets[name] = set(grp)
        statut[name] = None

    perimeters = pd.DataFrame([(c, statut.get(c), code) for c, s in sets.items() for code in s],
                              columns=["cpts", "statut", "code_commune"]).assign(part=1.0)
    perimeters = (perimeters.astype({"cpts": object, "statut": object, "code_commune": object})
                  .sort_values(["cpts", "code_commune"]).reset_index(drop=True))
    after = an.audit(perimeters, units, scope, edges, Journal())

    props = pd.DataFrame(proposals, columns=["code_commune", "action", "cpts_cible", "alternative", "motif"])
    props.insert(1, "nom", props["code_commune"].map(units["nom"]))
    props.insert(2, "population", props["code_commune"].map(units["population"]).round().astype("Int64"))
    order = {"arbitrage_chevauchement": 0, "extension": 1, "nouvelle_cpts": 2}
    props = props.sort_values(["action", "cpts_cible", "code_commune"],
                              key=lambda s: s.map(order) if s.name == "action" else s).reset_index(drop=True)
    scenario = _scenario(audit, after, props, perimeters, units, params, pops_before, edges)
    return Plan(propositions=props, perimetres=perimeters, scenario=scenario, avant=audit, apres=after,
                journal=journal)


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


def _scenario(before: Audit, after: Audit, props: pd.DataFrame, perimeters: pd.DataFrame,
              units: gpd.GeoDataFrame, params: Parametres, pops_before: dict, edges: pd.DataFrame) -> Scenario:
    keys = ["population_totale", "population_couverte", "taux_couverture", "taux_couverture_aci",
            "nb_cpts", "nb_communes_en_chevauchement", "population_en_chevauchement", "nb_zones_blanches",
            "nb_communes_zones_blanches", "population_zones_blanches"]
    b = before.cpts.set_index("cpts")
    a = after.cpts.set_index("cpts")
    compact = _compactness(perimeters, units, edges)
    rows: list[CptsAvantApres] = []
    for name in sorted(set(b.index) | set(a.index)):
        rb = b.loc[name] if name in b.index else None
        ra = a.loc[name] if name in a.index else None
        rows.append({
            "cpts": name,
            "nouvelle": rb is None,
            "population_avant": int(rb["population"]) if rb is not None else 0,
            "taille_avant": int(rb["taille"]) if rb is not None else None,
            "financement_max_avant": int(rb["financement_max_annuel"]) if rb is not None else 0,
            "population_apres": int(ra["population"]) if ra is not None else 0,
            "taille_apres": int(ra["taille"]) if ra is not None else None,
            "financement_max_apres": int(ra["financement_max_annuel"]) if ra is not None else 0,
            "financement_fonctionnement_avant": int(rb["financement_fonctionnement"]) if rb is not None else 0,
            "financement_fonctionnement_apres": int(ra["financement_fonctionnement"]) if ra is not None else 0,
            "nb_morceaux_apres": int(ra["nb_morceaux"]) if ra is not None else 0,
            "compacite_apres": float(compact.get(name, float("nan"))) if ra is not None else None,
        })
    changes = [r for r in rows if not r["nouvelle"] and r["taille_avant"] != r["taille_apres"]]
    scope_units = units[units["departement"].isin(before.synthese["perimetre"])]
    counts = props["action"].value_counts()
    comp_values = [r["compacite_apres"] for r in rows if r["compacite_apres"] is not None]
    return {
        "perimetre": before.synthese["perimetre"],
        "millesime_population": before.synthese["millesime_population"],
        "avant": ChiffresPlan(**{k: before.synthese[k] for k in keys}),  # type: ignore[literal-required,typeddict-item]
        "apres": ChiffresPlan(**{k: after.synthese[k] for k in keys}),  # type: ignore[literal-required,typeddict-item]
        "nb_arbitrages_chevauchement": int(counts.get("arbitrage_chevauchement", 0)),
        "nb_communes_extension": int(counts.get("extension", 0)),
        "nb_cpts_etendues": int(props.loc[props["action"] == "extension", "cpts_cible"].nunique()),
        "nb_nouvelles_cpts": int(props.loc[props["action"] == "nouvelle_cpts", "cpts_cible"].nunique()),
        "nb_changements_taille": len(changes),
        "financement_max_total_avant": int(sum(r["financement_max_avant"] for r in rows)),
        "financement_max_total_apres": int(sum(r["financement_max_apres"] for r in rows)),
        "nb_epci_scindes_avant": _split_epcis(before.perimetres, scope_units),
        "nb_epci_scindes_apres": _split_epcis(perimeters, scope_units),
        "compacite_moyenne_apres": round(float(np.mean(comp_values)), 3) if comp_values else None,
        "compacite_min_apres": round(float(np.min(comp_values)), 3) if comp_values else None,
        "cpts": rows,
        "parametres": asdict(params),
        "date_perimetres": None,
    }


def planifier(perimetres: Perimetres | pd.DataFrame, population: Population | None = None,
              departements: list[str] | None = None, region: str | None = None,
              params: Parametres | None = None, *, cache: bool = True) -> Plan:
    """Audit perimeters, then propose how to settle overlaps and cover white zones.

    Same inputs as :func:`territoire.analyse.analyse`, plus the planner's
    :class:`Parametres`.
    """
    journal = Journal()
    table = perimetres.table if isinstance(perimetres, Perimetres) else perimetres
    if isinstance(perimetres, Perimetres):
        journal.extend(perimetres.journal)
    units = an.units_with_population(population, journal)
    scope = an.resolve_scope(table, departements, region)
    edges = graph.national_edges(cache=cache)
    before = an.audit(table, units, scope, edges, journal)
    plan = plan_audit(before, units, edges, params or Parametres())
    plan.journal = journal
    return plan

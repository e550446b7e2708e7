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
from .overlaps import km, options_table, settle_overlaps, share_weights
from .partition import Cibles, PartitionBlocs, cibles

# --- Extensions ------------------------------------------------------------------

#: Per commune of a small zone, each CPTS considered: (border m, same original EPCI, population after, refusal).
Candidates = dict[str, dict[str, tuple[float, bool, float, str | None]]]


def extend(zone: list[str], sets: dict[str, set[str]], pops: dict[str, float], g: nx.Graph,
           units: pd.DataFrame, cpts_deps: dict[str, set[str]], cpts_epcis: dict[str, set[str]],
           rank: dict[str, int], params: Parametres,
           owner: dict[str, str] | None = None, considered: Candidates | None = None) -> dict[str, tuple[str, float, bool]]:
    """Grow neighbouring CPTS into a white zone, one commune at a time.

    A commune can only join a CPTS it borders, so every perimeter stays in
    one piece. A CPTS takes first the communes of the EPCIs it held before
    the plan; then the CPTS grow together, ring by ring (a commune goes to the
    CPTS it is fewest steps away from, as in a Voronoi diagram on the graph);
    within a ring, the longest shared border wins, then maturity, then name.
    A CPTS never changes taille, passes the maximum population or enters a
    new département unless the parameters allow it, and is never filled to
    within 1 % of a size threshold.

    Returns
    -------
    dict
        code -> (cpts, shared border in metres, same EPCI) for the communes taken.
        ``sets``, ``pops``, ``cpts_deps`` and ``owner`` (code -> CPTS, built from
        ``sets`` when not given) are updated in place; ``considered`` receives
        every candidate of every commune, with the reason it was refused.
    """
    zone_set = set(zone)
    if owner is None:
        owner = {c: name for name, s in sets.items() for c in s}
    considered = {} if considered is None else considered
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
        # Same EPCI (before the plan) first, then the ring, the border, maturity and the name.
        heapq.heappush(heap, (not same, level, -b, -rank[name] if params.preferer_aci else 0, name, code, b))

    for code in sorted(zone):
        for v in g.neighbors(code):
            if owner.get(v) in sets:
                push(code, owner[v], 1)
    while heap:
        _, level, _, _, name, code, b = heapq.heappop(heap)
        if code in taken:
            continue
        if abs(border(code, name) - b) > 1e-6:
            push(code, name, level)  # the CPTS grew around it since: rescore
            continue
        new_pop = pops[name] + pop[code]
        refusal = _refusal(pops[name], new_pop, dep[code], cpts_deps[name], params)
        same = epci.get(code) in cpts_epcis[name]
        considered.setdefault(code, {})[name] = (b, same, new_pop, refusal)
        if refusal:
            continue
        for o in sorted({owner[v] for v in g.neighbors(code) if v in owner} - {name}):
            if o in sets and o not in considered[code]:  # the other CPTS bordering it, for the motive
                after = pops[o] + pop[code]
                considered[code][o] = (border(code, o), epci.get(code) in cpts_epcis[o], after,
                                       _refusal(pops[o], after, dep[code], cpts_deps[o], params))
        taken[code] = (name, b, same)
        owner[code] = name
        sets[name].add(code)
        pops[name] = new_pop
        for v in g.neighbors(code):
            push(v, name, level + 1)
    return taken


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
    params, journal, scope = params or Parametres(), Journal(), audit.synthese["perimetre"]
    per = an.with_shares(audit.perimetres).drop_duplicates(["cpts", "code_commune"]).copy()
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
    weights = share_weights(members)
    m = members.assign(population=members["code_commune"].map(pop) * members["part_population"],
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

    home = fragments_home(audit, units, g, sets)
    proposals += _send_home(home, sets, owner, pops, pop)
    considered: Candidates = {}
    new_groups = _cover_zones(audit.zones_blanches.sort_values("zone_blanche_id"), home, sets, pops, g, units,
                              (deps, epcis, rank), params, owner, considered, proposals)
    _name_new_cpts(new_groups, sets, statut, units, pop, proposals, considered)
    perimeters, props = _assemble(sets, statut, proposals, units, weights)
    after = an.audit(perimeters, units, scope, edges, Journal())
    scenario = _scenario(audit, after, props, perimeters, units, params, pops_before, edges)
    return Plan(propositions=props, perimetres=perimeters, scenario=scenario, avant=audit, apres=after,
                journal=journal)


def _cover_zones(zones: pd.DataFrame, home: dict, sets: dict[str, set[str]], pops: dict[str, float], g: nx.Graph,
                 units: gpd.GeoDataFrame, cpts_info: tuple[dict, dict, dict], params: Parametres,
                 owner: dict[str, str], considered: Candidates,
                 proposals: list[dict]) -> list[tuple[list[str], str, Cibles]]:
    """Extensions into all small zones at once (proposals appended); the groups of new CPTS for the rest.

    The small zones are solved jointly, not one after the other: a CPTS's room
    under its size threshold goes to the communes that rank best anywhere
    (same EPCI before the plan first), not to the zone with the lowest id.
    """
    deps, epcis, rank = cpts_info
    pop = units["population"].fillna(0)
    todo = {z["zone_blanche_id"]: [c for c in z["communes"].split(an.JOIN) if c not in home]
            for _, z in zones.iterrows()}
    small = zones[zones["population"] <= params.population_max_zone_extension]
    joint = sorted(c for zid in small["zone_blanche_id"] for c in todo[zid])
    taken = extend(joint, sets, pops, g, units, deps, epcis, rank, params, owner, considered) if joint else {}
    new_groups: list[tuple[list[str], str, Cibles]] = []
    for _, z in zones.iterrows():
        zid, codes = z["zone_blanche_id"], todo[z["zone_blanche_id"]]
        if not codes:
            continue
        if z["population"] <= params.population_max_zone_extension:
            for code in sorted(c for c in codes if c in taken):
                name, b, same = taken[code]
                alternative, others = candidates_text(code, name, considered)
                proposals.append({
                    "code_commune": code, "action": "extension", "cpts_cible": name, "alternative": alternative,
                    "motif": (f"Zone blanche {zid} ({z['nb_communes']} commune(s), {nombre(z['population'])} hab.), "
                              f"assez petite pour une extension. Rattachement à « {name} », voisine "
                              f"({km(b)} de frontière commune{', même EPCI (avant le plan)' if same else ''}, "
                              f"{nombre(considered[code][name][2])} hab. après).{others}")})
            rest = [c for c in codes if c not in taken]
            why = ("reste de la zone, qu'aucune CPTS voisine ne peut prendre sans changer de taille, "
                   "dépasser la population maximale ou changer de département")
        else:
            rest = codes
            why = (f"zone trop grande pour une extension ({nombre(z['population'])} hab. > "
                   f"{nombre(params.population_max_zone_extension)})")
        if rest:
            target = cibles(str(z.get("typologie", "intermédiaire")), params)
            new_groups += [(grp, f"{zid} : {why}", target) for grp in _partition(rest, g, pop, units, target)]
    return new_groups


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


def _partition(codes: list[str], g: nx.Graph, pop: pd.Series, units: gpd.GeoDataFrame,
               target: Cibles) -> list[list[str]]:
    """New CPTS for ``codes`` (each connected piece partitioned on its own into EPCI-part groups)."""
    groups: list[list[str]] = []
    for comp in sorted((sorted(c) for c in nx.connected_components(g.subgraph(codes))), key=lambda c: c[0]):
        epci = units.loc[comp, "epci_siren"].fillna("").astype(str).to_dict()
        groups += PartitionBlocs(g.subgraph(comp), pop.loc[comp].to_dict(), epci, target).fit().groupes_
    return groups


def _name_new_cpts(new_groups: list[tuple[list[str], str, Cibles]], sets: dict[str, set[str]],
                   statut: dict[str, object], units: gpd.GeoDataFrame, pop: pd.Series, proposals: list[dict],
                   considered: Candidates) -> None:
    """Name each new CPTS, add it to ``sets`` and its communes to ``proposals`` (with a true motive)."""
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
            alternative, others = (candidates_text(code, None, considered) if code in considered else
                                   ("aucune (zone trop grande pour une extension)", ""))
            proposals.append({
                "code_commune": code, "action": "nouvelle_cpts", "cpts_cible": name, "alternative": alternative,
                "motif": (f"{why}. Nouvelle CPTS proposée de {len(grp)} commune(s) et {nombre(gp)} hab. "
                          f"(taille {an.taille(gp)}, {n_epci} EPCI){floor_note}.{others}")})
        sets[name] = set(grp)
        statut[name] = None


def _assemble(sets: dict[str, set[str]], statut: dict[str, object], proposals: list[dict],
              units: gpd.GeoDataFrame, weights: dict[tuple[str, str], float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The proposed perimeters (normalised, with the shares of shared communes) and the proposals, sorted."""
    perimeters = pd.DataFrame([(c, statut.get(c), code, weights.get((c, code), 1.0))
                               for c, s in sets.items() for code in s],
                              columns=["cpts", "statut", "code_commune", "part_population"]).assign(part=1.0)
    perimeters = (perimeters.astype({"cpts": object, "statut": object, "code_commune": object})
                  .sort_values(["cpts", "code_commune"]).reset_index(drop=True))
    props = pd.DataFrame(proposals, columns=["code_commune", "action", "cpts_cible", "alternative", "part_population",
                                             "motif"])
    props["part_population"] = props["part_population"].astype("float64").fillna(1.0)
    props.insert(1, "nom", props["code_commune"].map(units["nom"]))
    props.insert(2, "population", props["code_commune"].map(units["population"]).round().astype("Int64"))
    order = {"arbitrage_chevauchement": 0, "partage_commune": 1, "extension": 2, "nouvelle_cpts": 3}
    props = props.sort_values(["action", "cpts_cible", "code_commune"],
                              key=lambda s: s.map(order) if s.name == "action" else s).reset_index(drop=True)
    return perimeters, props


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
        "nb_communes_partagees_proposees": int(props.loc[props["action"] == "partage_commune", "code_commune"].nunique()),
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
        "variantes": [],
        "options_chevauchement": options_table(before.perimetres, perimeters, units["population"].fillna(0), edges),
    }


def planifier(perimetres: Perimetres | pd.DataFrame, population: Population | None = None,
              departements: list[str] | None = None, region: str | None = None,
              params: Parametres | None = None, *, cache: bool = True, variantes: bool | None = None) -> Plan:
    """Audit perimeters, then propose how to settle overlaps and cover white zones.

    Same inputs as :func:`territoire.analyse.analyse`, plus the planner's
    :class:`Parametres`. ``variantes``: also compute the variants of
    :mod:`territoire.variants` into ``scenario["variantes"]`` (default: when
    the scope has at most ``variants.MAX_DEPARTEMENTS`` départements).
    """
    from . import variants
    journal = Journal()
    table = perimetres.table if isinstance(perimetres, Perimetres) else perimetres
    if isinstance(perimetres, Perimetres):
        journal.extend(perimetres.journal)
    units = an.units_with_population(population, journal)
    scope = an.resolve_scope(table, departements, region)
    edges = graph.national_edges(cache=cache)
    before = an.audit(table, units, scope, edges, journal)
    params = params or Parametres()
    plan = plan_audit(before, units, edges, params)
    if variantes or (variantes is None and len(scope) <= variants.MAX_DEPARTEMENTS):
        plan.scenario["variantes"] = variants.compare(plan, before, units, edges, params)
    plan.journal = journal
    return plan

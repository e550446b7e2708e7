"""Plan 100 % CPTS: proposals to settle every overlap and cover every white zone.

The steps, each with its rule documented in the README and visible in the motives:

1. *overlaps* (:mod:`territoire.overlaps`): nested projects merged, other
   disputed communes to the CPTS they border most, large cities shared;
2. *fragments home* (:func:`territoire.extensions.fragments_home`): the white
   part of an EPCI that lives mostly in one bordering CPTS goes to it;
3. *extensions* (:func:`territoire.extensions.extend`): the EPCI parts of all
   small white zones, given whole and together to bordering CPTS, without
   changing a CPTS's taille;
4. *new CPTS* (:class:`territoire.partition.PartitionBlocs`): what remains,
   EPCI parts grouped towards a target size;
5. *islands* (:func:`territoire.extensions.islands_ashore`): an island left
   alone under the minimum joins the group of its EPCI, or the nearest ashore.
"""

from __future__ import annotations

import math
from dataclasses import asdict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from . import analyse as an
from . import graph, settings
from .errors import Journal
from .extensions import Candidates, _send_home, candidates_text, extend, fragments_home, islands_ashore
from .formats import nombre, pourcentage
from .models import Audit, ChiffresPlan, CptsAvantApres, Parametres, Perimetres, Plan, Population, Scenario
from .overlaps import km, options_table, settle_overlaps, share_weights
from .partition import Cibles, PartitionBlocs, cibles

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
    new_groups, notes = islands_ashore(new_groups, graph.islands(edges, units.index), sets, pops, owner, deps, units,
                                       params, proposals)
    _name_new_cpts(new_groups, sets, statut, units, pop, proposals, considered, notes)
    perimeters, props = _assemble(sets, statut, proposals, units, weights)
    after = an.audit(perimeters, units, scope, edges, Journal())
    scenario = _scenario(audit, after, props, perimeters, units, params, pops_before, edges)
    _flag_growth(props, scenario, params)
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
                   considered: Candidates, notes: dict[str, str]) -> None:
    """Name each new CPTS, add it to ``sets`` and its communes to ``proposals`` (with a true motive).

    ``notes``: a sentence added to the motive of some communes (islands joined to the group).
    """
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
                                   ("une nouvelle CPTS sur l'île seule", notes[code]) if code in notes else
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


def _flag_growth(props: pd.DataFrame, scenario: Scenario, params: Parametres) -> None:
    """Say in the motive of each commune given to a CPTS that grows beyond the set share that it is to validate."""
    flagged = {r["cpts"]: r for r in scenario["cpts"] if r["forte_croissance"]}
    mask = props["action"].eq("extension") & props["cpts_cible"].isin(list(flagged))
    props.loc[mask, "motif"] = [
        f"{m} À valider avec « {c} » : sa population passerait de {nombre(flagged[c]['population_avant'])} à "
        f"{nombre(flagged[c]['population_apres'])} hab. (+{pourcentage(flagged[c]['croissance'] or 0, 0)}, "
        f"au-delà de +{pourcentage(params.croissance_max_sans_alerte, 0)})."
        for m, c in zip(props.loc[mask, "motif"], props.loc[mask, "cpts_cible"], strict=True)]


def _scenario(before: Audit, after: Audit, props: pd.DataFrame, perimeters: pd.DataFrame,
              units: gpd.GeoDataFrame, params: Parametres, pops_before: dict, edges: pd.DataFrame) -> Scenario:
    keys = ["population_totale", "population_couverte", "taux_couverture", "taux_couverture_aci",
            "nb_cpts", "nb_communes_en_chevauchement", "population_en_chevauchement", "nb_zones_blanches",
            "nb_communes_zones_blanches", "population_zones_blanches"]
    cols = ["population", "taille", "financement_max_annuel", "financement_fonctionnement", "nb_morceaux"]
    b = before.cpts.set_index("cpts")[cols].to_dict("index")  # plain dicts: one .loc per CPTS costs seconds
    a = after.cpts.set_index("cpts")[cols].to_dict("index")
    compact = _compactness(perimeters, units, edges)
    rows: list[CptsAvantApres] = []
    for name in sorted(set(b) | set(a)):
        rb, ra = b.get(name), a.get(name)
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
            "croissance": (round(float(ra["population"]) / float(rb["population"]) - 1, 4)
                           if rb is not None and ra is not None and rb["population"] > 0 else None),
            "forte_croissance": False,
        })
        r = rows[-1]
        r["forte_croissance"] = r["croissance"] is not None and r["croissance"] > params.croissance_max_sans_alerte
    changes = [r for r in rows if not r["nouvelle"] and r["taille_avant"] != r["taille_apres"]]
    scope_units = units[units["departement"].isin(before.synthese["perimetre"])]
    counts = props["action"].value_counts()
    comp_values = [r["compacite_apres"] for r in rows if r["compacite_apres"] is not None]
    return {
        "perimetre": before.synthese["perimetre"],
        "millesime_population": before.synthese["millesime_population"],
        "bareme": settings.scale_label(),
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
        "nb_cpts_forte_croissance": sum(r["forte_croissance"] for r in rows),
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

"""Overlaps, project by project: nested projects merged first, then each disputed commune to one CPTS.

A commune claimed by several CPTS goes to one of them (longest border with
the rest of that CPTS, then maturity), never cutting a losing CPTS in two when
another choice avoids it. A project entirely inside another is settled by
merging the projects, with the options' population, taille and €/yr stated.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import pandas as pd

from . import analyse as an
from . import settings, shares
from .formats import nombre
from .models import Parametres
from .shares import label


def km(m: float) -> str:
    """A length in metres, as kilometres for a motive."""
    return nombre(m / 1000, 1) + "\u00a0km"


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
    weights = share_weights(members)
    pop_of = units["population"].fillna(0)
    proposals = merge_nested(sets, pop_of)
    for code in sorted(overlaps, key=lambda c: (-pop_of.get(c, 0), c)):
        claim = sorted(c for c, s in sets.items() if code in s)
        if len(claim) < 2:
            continue
        shared = _share_city(code, claim, weights, float(pop_of.get(code, 0.0)), units)
        if shared:
            proposals += shared
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
    proposals += _share_remainders(sets, weights, pop_of, units)
    kept = pd.DataFrame([(c, code, weights.get((c, code), 1.0)) for c, s in sets.items() for code in s],
                        columns=["cpts", "code_commune", "part_population"])
    out = kept.merge(members.drop(columns=["code_commune", "part_population"], errors="ignore")
                     .drop_duplicates("cpts"), on="cpts", how="left")
    return out, proposals


def share_weights(members: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Declared population shares, (CPTS, code) -> share, for the memberships of part of a commune."""
    if "part_population" not in members:
        return {}
    part = members[members["part_population"].fillna(1.0) < 1]
    return {(c, code): float(w) for c, code, w in zip(part["cpts"], part["code_commune"], part["part_population"])}


def _share_city(code: str, claim: list[str], weights: dict[tuple[str, str], float], pop: float,
                units: pd.DataFrame) -> list[dict]:
    """Proposals sharing a city claimed by several CPTS, instead of giving it whole to one (``weights`` updated).

    Declared shares summing over 100 % are scaled down to 100 %; a commune of at
    least ``settings.POPULATION_VILLE_PARTAGEE`` inhabitants claimed whole is
    shared in equal parts, to be refined by the working group. Smaller
    communes: no proposal here (one CPTS takes the commune).
    """
    declared = {c: weights.get((c, code), 1.0) for c in claim}
    total = sum(declared.values())
    if any(w < 1 for w in declared.values()):
        new = {c: w / total for c, w in declared.items()}
        why = (f"parts déclarées ({', '.join(f'« {c} » : {label(w)}' for c, w in declared.items())}) qui font "
               f"{label(total)} : ramenées à 100 % au prorata")
    elif pop >= settings.POPULATION_VILLE_PARTAGEE:
        new = dict.fromkeys(claim, 1 / len(claim))
        why = (f"ville de {nombre(pop)} hab. revendiquée entière par {len(claim)} CPTS qui ne sont pas incluses "
               "l'une dans l'autre : une grande ville se partage par quartier ; parts égales proposées, à préciser "
               "par quartier (IRIS) par le groupe de travail")
    else:
        return []
    weights.update({(c, code): round(w, 6) for c, w in new.items()})
    name = str(units.at[code, "nom"]) if code in units.index else code
    return [{"code_commune": code, "action": "partage_commune", "cpts_cible": c,
             "alternative": " | ".join(o for o in claim if o != c), "part_population": round(new[c], 6),
             "motif": (f"{name} partagée : {label(new[c])} de sa population à « {c} » ({why}).")}
            for c in claim]


def _share_remainders(sets: dict[str, set[str]], weights: dict[tuple[str, str], float], pop: pd.Series,
                      units: pd.DataFrame) -> list[dict]:
    """The uncovered remainder of a shared commune goes to the CPTS sharing it, in proportion to their shares."""
    totals: dict[str, float] = {}
    for (c, code), w in weights.items():
        if code in sets.get(c, set()):
            totals[code] = totals.get(code, 0.0) + w
    proposals = []
    for code, total in sorted(totals.items()):
        if total >= shares.WHOLE:
            continue
        holders = sorted(c for c in sets if code in sets[c])
        rest = 1 - total
        for c in holders:
            w = weights.get((c, code), 1.0)
            weights[(c, code)] = round(w / total, 6)
            proposals.append({
                "code_commune": code, "action": "partage_commune", "cpts_cible": c,
                "alternative": " | ".join(o for o in holders if o != c), "part_population": weights[(c, code)],
                "motif": (f"Reste non couvert de {units.at[code, 'nom']} ({label(rest)}, "
                          f"{nombre(float(pop.get(code, 0)) * rest)} hab.) réparti entre les CPTS qui partagent la "
                          f"commune, au prorata de leurs parts : « {c} » passe de {label(w)} à "
                          f"{label(weights[(c, code)])}. Jamais une nouvelle CPTS dans une ville déjà partagée.")})
    return proposals


def nested_projects(sets: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs (A, B) where every commune of project A is also in project B (A nested in B)."""
    names = sorted(sets)
    return [(a, b) for a in names for b in names
            if a != b and sets[a] and sets[a] <= sets[b] and (len(sets[a]) < len(sets[b]) or a > b)]


def overlap_options(a: str, b: str, sets: dict[str, set[str]], pop: Mapping[str, float]) -> list[dict]:
    """The ways to settle the communes A and B share, side by side: population, taille and €/yr of each.

    Options: merge A into B; all shared communes to A; all to B (for a nested A, the same as merging).
    ``pop``: population by code (a dict: a national Series lookup per pair costs seconds).
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
        return float(sum(pop.get(c, 0.0) for c in sorted(codes)))

    return [
        figures(0.0, total(sets[a] | sets[b]), "fusion", f"« {a} » rejoint « {b} » : une seule association"),
        figures(total(sets[a]), total(sets[b] - shared), "toutes à A",
                f"« {b} » perd {len(shared)} commune(s)"),
        figures(total(sets[a] - shared), total(sets[b]), "toutes à B",
                f"« {a} » garde {len(sets[a] - shared)} commune(s)"),
    ]


def merge_nested(sets: dict[str, set[str]], pop: pd.Series) -> list[dict]:
    """Settle nested projects first: a project inside another is merged into it (recommended option).

    Returns the proposals (one per commune of the nested project); ``sets`` loses the nested projects.
    """
    proposals = []
    pairs = nested_projects(sets)
    pop_of = pop.fillna(0).to_dict() if pairs else {}
    for a, b in pairs:
        if a not in sets or b not in sets or not sets[a] <= sets[b]:
            continue  # already merged into another
        options = overlap_options(a, b, sets, pop_of)
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




def options_table(before: pd.DataFrame, after: pd.DataFrame, pop: pd.Series, edges: pd.DataFrame) -> list[dict]:
    """Each pair of CPTS that claimed the same communes, with the ways to settle it side by side.

    Options: merge the two projects; every disputed commune to A; every one to B;
    commune by commune (the plan's proposal). Each option gives both CPTS's
    population, taille and the pair's maximum €/yr, and whether it would cut a
    CPTS in two. The recommended option is the one the plan applies: the
    merge for a project nested in the other, commune by commune otherwise.
    Communes shared by population shares are not disputes.
    """
    whole = before[before.get("part_population", pd.Series(1.0, index=before.index)).fillna(1.0) >= 1]
    whole = whole.drop_duplicates(["cpts", "code_commune"])
    disputed = whole[whole["code_commune"].duplicated(keep=False)]
    if disputed.empty:
        return []
    # Only the CPTS in a dispute, and their communes (a national plan has few disputes).
    whole = whole[an.isin(whole["cpts"], set(disputed["cpts"]))]
    sets = whole.groupby("cpts")["code_commune"].agg(set).to_dict()
    kept = after.groupby("cpts")["code_commune"].agg(set).to_dict()
    codes = sorted(set(whole["code_commune"]) | {c for n in sets for c in kept.get(n, set())})
    sub = edges[an.isin(edges["u"], codes) & an.isin(edges["v"], codes)]
    g = nx.Graph()
    g.add_nodes_from(codes)
    g.add_edges_from(zip(sub["u"].tolist(), sub["v"].tolist()))

    def cuts(members: set[str]) -> bool:
        return len(members) > 1 and not nx.is_connected(g.subgraph(members))

    out = []
    pop_of = pop.fillna(0).to_dict()
    pairs = sorted({(a, b) for grp in disputed.groupby("code_commune")["cpts"] for a in grp[1] for b in grp[1]
                    if a < b})
    for a, b in pairs:
        shared = sets[a] & sets[b]
        nested = sets[a] <= sets[b] or sets[b] <= sets[a]
        options = overlap_options(a, b, sets, pop_of)
        options[1]["coupe"] = cuts(sets[b] - shared)
        options[2]["coupe"] = cuts(sets[a] - shared)
        options[0]["coupe"] = False
        ka, kb = kept.get(a, set()), kept.get(b, set())
        per = overlap_options(a, b, {a: ka, b: kb}, pop_of)[1]  # figures of the kept sets, as they are
        per.update(option="commune par commune", coupe=cuts(ka) or cuts(kb),
                   remarque="chaque commune à la CPTS qui la borde le plus (voir propositions.csv)")
        options.append(per)
        chosen = "fusion" if nested else per["option"]
        out.append({"cpts_a": a, "cpts_b": b, "nb_communes_disputees": len(shared),
                    "population_disputee": int(round(sum(pop_of.get(c, 0.0) for c in sorted(shared)))),
                    "incluse": nested, "options": options, "recommandee": chosen})
    return out

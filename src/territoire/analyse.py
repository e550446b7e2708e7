"""Territorial audit: overlaps, size classes, funding, coverage, white zones.

Pure functions over (Geo)DataFrames: :func:`audit` takes normalised
perimeters, the units with their population, the scope and the adjacency
edges; :func:`analyse` gathers these from the reference and user files.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import graph, reference, settings, shares
from .errors import Journal
from .groups import JOIN, isin, join_groups, split_joined  # noqa: F401  (re-exported)
from .models import Audit, Chiffres, ChiffresDepartement, Perimetres, Population, Synthese
from .scope import resolve_scope


def size_class(population: pd.Series | np.ndarray) -> np.ndarray:
    """Taille 1-4 of a population (40 000 and 80 000 open the higher class; 175 000 stays in 3)."""
    pop = np.asarray(population, dtype="float64")
    t1, t2, t3 = settings.size_thresholds()
    return np.select([pop < t1, pop < t2, pop <= t3], [1, 2, 3], 4).astype("int64")


def taille(population: float) -> int:
    """Taille 1-4 of one population (same rule as :func:`size_class`)."""
    t1, t2, t3 = settings.size_thresholds()
    return 1 if population < t1 else 2 if population < t2 else 3 if population <= t3 else 4


def threshold_gap(population: pd.Series | np.ndarray) -> np.ndarray:
    """Signed distance (inhabitants) to the nearest size threshold: negative below it."""
    pop = np.asarray(population, dtype="float64")[:, None]
    gaps = pop - np.asarray(settings.size_thresholds(), dtype="float64")[None, :]
    return gaps[np.arange(len(gaps)), np.abs(gaps).argmin(axis=1)].astype("int64")


def funding(taille: pd.Series) -> pd.DataFrame:
    """Annual ACI operating grant and maximum amount for each taille."""
    return pd.DataFrame({"financement_fonctionnement": taille.map(settings.funding_operating()),
                         "financement_max_annuel": taille.map(settings.funding_max())}, index=taille.index)


def typology(density: pd.Series) -> pd.Series:
    """``rural`` / ``intermédiaire`` / ``urbain`` from inhabitants per km²."""
    return pd.Series(np.select([density < settings.DENSITY_RURAL, density >= settings.DENSITY_URBAN],
                               ["rural", "urbain"], "intermédiaire"), index=density.index)


def units_with_population(population: Population | None, journal: Journal) -> gpd.GeoDataFrame:
    """The reference units with the user's populations substituted where given."""
    units = reference.units().copy()
    units["population"] = units["population"].astype("float64")
    units["source_population"] = "reference"
    if population is not None:
        known = population.valeurs[population.valeurs.index.isin(units.index)]
        units.loc[known.index, "population"] = known.astype("float64")
        units.loc[known.index, "source_population"] = "fichier"
        journal.extend(population.journal)
    return units


# --- Core -------------------------------------------------------------------------

def _components(nodes: pd.Index, edges: pd.DataFrame) -> pd.Series:
    """Connected component label (smallest code of the component) of each node."""
    codes = np.sort(nodes.to_numpy(dtype=object))
    inside = edges[isin(edges["u"], nodes) & isin(edges["v"], nodes)]
    a = np.searchsorted(codes, inside["u"].to_numpy(dtype=object))
    b = np.searchsorted(codes, inside["v"].to_numpy(dtype=object))
    labels = graph.component_labels(len(codes), a, b)
    return pd.Series(codes[labels], index=pd.Index(codes, dtype=object), dtype=object).reindex(nodes)


def audit(perimeters: pd.DataFrame, units: gpd.GeoDataFrame, scope: list[str],
          edges: pd.DataFrame, journal: Journal | None = None) -> Audit:
    """Audit perimeters over the units of the scope.

    Parameters
    ----------
    perimeters : pandas.DataFrame
        Normalised perimeters (``cpts``, ``statut``, ``code_commune``, ``part``).
    units : geopandas.GeoDataFrame
        Units indexed by code with ``population`` (float, NaN when unknown),
        ``nom``, ``departement``, ``epci_siren``, ``epci_nom``, geometry.
    scope : list of str
        Départements over which every rate is computed. Only the CPTS with
        at least one commune in the scope are audited (with all their
        communes, inside the scope or not).
    edges : pandas.DataFrame
        Adjacency edges ``u``, ``v``, ``longueur_m`` (see :mod:`territoire.graph`).

    Returns
    -------
    Audit
    """
    journal = journal or Journal()
    perimeters = with_shares(perimeters)
    perimeters, per = _concerned(perimeters, units, scope, journal)
    com, mem = _scope_units(per, units, scope)
    covered = com["nb_cpts"] > 0

    no_pop = com["population"].isna()
    if no_pop.any():
        listed = ", ".join(f"{c} ({n})" for c, n in com.loc[no_pop, "nom"].head(10).items())
        journal.warn(f"{int(no_pop.sum())} commune(s) sans population connue, exclues des totaux : {listed}.")
    pop = com["population"].fillna(0)

    # White zones: components of uncovered units on the adjacency graph.
    white = com.index[~covered]
    labels = _components(white, edges)
    com["zone_blanche_id"] = ""
    com.loc[white, "zone_blanche_id"] = "ZB-" + labels.loc[white]

    # Every (commune, CPTS) link, inside the scope or not.
    links = per[["code_commune", "cpts", "part_population"]].drop_duplicates(["code_commune", "cpts"])
    links = links.assign(nb_cpts=links.groupby("code_commune")["cpts"].transform("size"),
                         somme=links.groupby("code_commune")["part_population"].transform("sum"))
    zones = _white_zones(com, edges, links)

    # CPTS.
    cpts = _cpts_table(per, units, edges, zones, links)

    # Overlaps: shares summing above 1 (a commune listed whole in two CPTS counts 2).
    over = com[com["chevauchement"]]
    chev = over[["code_commune", "nom", "departement", "population", "cpts", "part_en_exces"]].copy()
    chev["population"] = chev["population"].astype("Int64")
    pairs = _overlap_pairs(mem[isin(mem["code_commune"], over.index)], com)

    # Units outside the scope that perimeters cite are not counted in rates.
    outside = per.loc[~isin(per["code_commune"], com.index), "code_commune"].unique()
    if len(outside):
        journal.info(f"{len(outside)} commune(s) des périmètres hors du périmètre d'analyse "
                      "(comptées dans la population des CPTS, pas dans les taux).")

    synthese = _summary(com, pop, cpts, zones, scope, journal, per)
    com_out = com[["code_commune", "nom", "departement", "population", "cpts", "nb_cpts", "statut",
                   "zone_blanche", "zone_blanche_id", "epci_siren", "epci_nom", "superficie_km2",
                   "part_couverte", "parts_population", "geometry"]].copy()
    com_out["population"] = com_out["population"].astype("Int64")
    com_out = com_out.sort_values("code_commune").reset_index(drop=True)
    return Audit(communes=gpd.GeoDataFrame(com_out, geometry="geometry", crs=units.crs),
                 cpts=cpts, chevauchements=chev.sort_values("code_commune").reset_index(drop=True),
                 chevauchements_paires=pairs, zones_blanches=zones, synthese=synthese,
                 perimetres=perimeters, journal=journal)


def with_shares(perimeters: pd.DataFrame) -> pd.DataFrame:
    """Perimeters with ``part_population`` (1, the whole commune, where a table has none)."""
    if "part_population" in perimeters and perimeters["part_population"].notna().all():
        return perimeters
    shares = perimeters["part_population"] if "part_population" in perimeters else 1.0
    return perimeters.assign(part_population=pd.Series(shares, index=perimeters.index, dtype="float64").fillna(1.0))


def _concerned(perimeters: pd.DataFrame, units: gpd.GeoDataFrame, scope: list[str],
               journal: Journal) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The perimeters of the CPTS with a commune in the scope, and a copy with statuses ranked."""
    in_scope = isin(perimeters["code_commune"], units.index[isin(units["departement"], scope)])
    concerned = isin(perimeters["cpts"], set(perimeters.loc[in_scope, "cpts"]))
    if not concerned.all():
        journal.info(f"{perimeters.loc[~concerned, 'cpts'].nunique()} CPTS sans commune dans le périmètre "
                     "d'analyse laissée(s) de côté.")
        perimeters = perimeters[concerned].reset_index(drop=True)
    per = perimeters.copy()
    per["statut"] = per["statut"].where(per["statut"].notna(), settings.STATUS_UNKNOWN)
    per["rang"] = per["statut"].map(settings.STATUS_RANK).fillna(-1)
    return perimeters, per


def _scope_units(per: pd.DataFrame, units: gpd.GeoDataFrame, scope: list[str]) -> tuple[gpd.GeoDataFrame,
                                                                                         pd.DataFrame]:
    """Units of the scope with their CPTS, number of CPTS, best status; and the memberships in the scope."""
    com = units[units["departement"].isin(scope)].copy()
    com["code_commune"] = com.index
    mem = per[isin(per["code_commune"], com.index)]
    com["nb_cpts"] = mem.groupby("code_commune")["cpts"].nunique().reindex(com.index).fillna(0).astype("int64")
    com["cpts"] = join_groups(mem["code_commune"], mem["cpts"]).reindex(com.index).fillna("")
    total = mem.groupby("code_commune")["part_population"].sum().reindex(com.index).fillna(0.0)
    com["part_couverte"] = total.clip(upper=1).round(6)
    com["part_en_exces"] = (total - 1).clip(lower=0).round(6)
    com["chevauchement"] = com["part_en_exces"] > 1e-6
    # Coverage by status: the shares in order of maturity, the best first, up to the whole commune.
    ranked = mem.sort_values(["code_commune", "rang", "cpts"], ascending=[True, False, True])
    before = ranked.groupby("code_commune")["part_population"].cumsum() - ranked["part_population"]
    allotted = np.minimum(ranked["part_population"], (1 - before).clip(lower=0))
    by_status = allotted.groupby([ranked["code_commune"], ranked["statut"]]).sum().unstack(fill_value=0.0)
    for status in [*settings.STATUSES, settings.STATUS_UNKNOWN]:
        col = by_status[status] if status in by_status else pd.Series(dtype="float64")
        com[f"_couv_{status}"] = col.reindex(com.index).fillna(0.0)
    # Shares, in the order of the names in ``cpts``, for the communes divided between CPTS.
    divided = mem[mem["part_population"] < 1]
    label = divided["part_population"].map(shares.label).astype(object)
    ordered = mem.assign(label=label.reindex(mem.index).fillna(shares.label(1.0))).sort_values(
        ["code_commune", "cpts"])
    com["parts_population"] = (join_groups(ordered["code_commune"], ordered["label"], order=ordered["cpts"],
                                           unique=False).reindex(com.index)
                               .where(com.index.isin(divided["code_commune"]), "").fillna(""))
    best = mem.sort_values(["rang", "cpts"]).groupby("code_commune")["statut"].last()
    com["statut"] = best.reindex(com.index).fillna("")
    com["zone_blanche"] = com["nb_cpts"] == 0
    return com, mem


def _white_zones(com: gpd.GeoDataFrame, edges: pd.DataFrame, links: pd.DataFrame) -> gpd.GeoDataFrame:
    cols = ["zone_blanche_id", "departements", "nb_communes", "population", "superficie_km2", "densite",
            "typologie", "communes", "noms", "cpts_voisines"]
    wz = com[com["zone_blanche"]]
    if wz.empty:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=com.crs)
    zid = wz["zone_blanche_id"]
    g = wz.groupby(zid)
    out = pd.DataFrame({
        "departements": join_groups(zid, wz["departement"], ", "),
        "nb_communes": g.size(),
        "population": g["population"].sum(min_count=1).fillna(0).round().astype("int64"),
        "superficie_km2": g["superficie_km2"].sum().round(2),
        "communes": join_groups(zid, wz["code_commune"]),
        "noms": join_groups(zid, wz["nom"], order=wz["code_commune"], unique=False),
    })
    out["densite"] = (out["population"] / out["superficie_km2"].where(out["superficie_km2"] > 0)).round(1).fillna(0)
    out["typologie"] = typology(out["densite"])
    nb = graph_neighbours(edges, wz.index)
    nb = nb[~isin(nb["v"], wz.index)]
    nb["zone"] = nb["u"].map(zid)
    nb = nb.merge(links, left_on="v", right_on="code_commune")
    out["cpts_voisines"] = join_groups(nb["zone"], nb["cpts"]).reindex(out.index).fillna("")
    geom = g["geometry"].agg(lambda s: shapely.union_all(s.to_numpy()))
    out = out.reset_index(names="zone_blanche_id")
    out = gpd.GeoDataFrame(out, geometry=geom.reindex(out["zone_blanche_id"]).to_numpy(), crs=com.crs)
    return out[[*cols, "geometry"]].sort_values("zone_blanche_id").reset_index(drop=True)


def graph_neighbours(edges: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """Directed edges (``u`` in ``codes``) with their border length."""
    both = pd.concat([edges, edges.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    return both[isin(both["u"], codes)].reset_index(drop=True)


def _cpts_table(per: pd.DataFrame, units: gpd.GeoDataFrame, edges: pd.DataFrame,
                zones: gpd.GeoDataFrame, links: pd.DataFrame) -> pd.DataFrame:
    pop = units["population"]
    rows = per.drop_duplicates(["cpts", "code_commune"]).copy()
    # A CPTS counts its share of each commune it divides with others.
    rows["population"] = rows["code_commune"].map(pop) * rows["part_population"]
    rows["departement"] = rows["code_commune"].map(units["departement"])
    overlapping = links[links["somme"] > 1 + 1e-6]
    divided = rows[rows["part_population"] < 1]
    g = rows.groupby("cpts", sort=True)
    table = pd.DataFrame({
        "statut": g["statut"].first(),
        "nb_communes": g.size(),
        "population": g["population"].sum(min_count=1).fillna(0).round().astype("int64"),
        "departements": join_groups(rows["cpts"], rows["departement"], ", "),
    })
    table["communes_en_chevauchement"] = join_groups(overlapping["cpts"], overlapping["code_commune"]).reindex(
        table.index).fillna("")
    table["communes_partagees"] = join_groups(divided["cpts"], divided["code_commune"]).reindex(
        table.index).fillna("")
    table["taille"] = size_class(table["population"])
    table = table.join(funding(table["taille"]))
    table["ecart_seuil"] = threshold_gap(table["population"])

    # Pieces: components of one graph whose nodes are (CPTS, commune) pairs.
    nodes = rows[["cpts", "code_commune"]].reset_index(drop=True).rename_axis("i").reset_index()
    e = edges.merge(nodes.rename(columns={"code_commune": "u", "i": "a"}), on="u")
    e = e.merge(nodes.rename(columns={"code_commune": "v", "i": "b"}), on=["v", "cpts"])
    label = pd.Series(graph.component_labels(len(nodes), e["a"].to_numpy(), e["b"].to_numpy()))
    # An island is not a piece of its own: a CPTS ashore legitimately holds it (Ouessant, Groix).
    ashore = ~isin(nodes["code_commune"], graph.islands(edges, units.index))
    pieces = label[ashore].groupby(nodes.loc[ashore, "cpts"].to_numpy()).nunique()
    pieces = pieces.reindex(table.index).fillna(label.groupby(nodes["cpts"].to_numpy()).nunique())
    table["nb_morceaux"] = pieces.reindex(table.index).fillna(0).astype("int64")

    table["enclaves"] = _enclaves(zones, edges, links, units).reindex(table.index).fillna("")
    table = table.reset_index(names="cpts")
    cols = ["cpts", "statut", "nb_communes", "population", "taille", "financement_fonctionnement",
            "financement_max_annuel", "departements", "nb_morceaux", "enclaves",
            "communes_en_chevauchement", "communes_partagees", "ecart_seuil"]
    return table[cols].sort_values("cpts").reset_index(drop=True)


def group_outlines(members: pd.DataFrame, units: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """Outline length (metres) of each group of communes, without dissolving geometries.

    The sum of the communes' outlines less twice the borders they share
    (graph edges), both geodesic.

    Parameters
    ----------
    members : pandas.DataFrame
        ``groupe``, ``code_commune``: one row per commune of a group.
    """
    m = members[["groupe", "code_commune"]].drop_duplicates()
    total = m["code_commune"].map(units["perimetre_m"]).groupby(m["groupe"]).sum()
    inner = edges.merge(m.rename(columns={"code_commune": "u"}), on="u").merge(
        m.rename(columns={"code_commune": "v"}), on=["v", "groupe"])
    return total.sub(2 * inner.groupby("groupe")["longueur_m"].sum(), fill_value=0)


def _enclaves(zones: gpd.GeoDataFrame, edges: pd.DataFrame, links: pd.DataFrame,
              units: gpd.GeoDataFrame) -> pd.Series:
    """Codes of uncovered communes each CPTS surrounds.

    A white zone is an enclave of a CPTS when all its neighbours belong to
    that CPTS alone and their shared border makes at least 95 % of the
    zone's outline (so a coastal commune is not an enclave).
    """
    if zones.empty:
        return pd.Series(dtype=object)
    zone_of = zones.set_index("zone_blanche_id")["communes"].str.split(JOIN, regex=False).explode()
    zone_of = pd.Series(zone_of.index, index=zone_of.to_numpy())
    nb = graph_neighbours(edges, zone_of.index)
    nb = nb[~isin(nb["v"], zone_of.index)].copy()
    nb["zone"] = nb["u"].map(zone_of)
    single = links[links["nb_cpts"] == 1].set_index("code_commune")["cpts"]
    nb["owner"] = nb["v"].map(single)
    nb["ok"] = nb["owner"].notna()
    per_zone = nb.groupby("zone").agg(ok=("ok", "all"), n=("owner", "nunique"), owner=("owner", "first"),
                                      border=("longueur_m", "sum"))
    cand = per_zone[per_zone["ok"] & (per_zone["n"] == 1)]
    if cand.empty:
        return pd.Series(dtype=object)
    members = pd.DataFrame({"groupe": zone_of.to_numpy(), "code_commune": zone_of.index})
    outline = group_outlines(members, units, edges).reindex(cand.index)
    z = zones.set_index("zone_blanche_id").loc[cand.index]
    found = cand[(outline > 0) & (cand["border"] >= 0.95 * outline)]
    codes = z.loc[found.index, "communes"]
    return codes.groupby(found["owner"]).agg(lambda s: JOIN.join(sorted(c for v in s for c in v.split(JOIN))))


def _overlap_pairs(mem: pd.DataFrame, com: gpd.GeoDataFrame) -> pd.DataFrame:
    cols = ["cpts_a", "cpts_b", "nb_communes", "population"]
    if mem.empty:
        return pd.DataFrame(columns=cols)
    m = mem[["cpts", "code_commune"]].drop_duplicates()
    p = m.merge(m, on="code_commune")
    p = p[p["cpts_x"] < p["cpts_y"]]
    p["population"] = p["code_commune"].map(com["population"]).fillna(0)
    out = p.groupby(["cpts_x", "cpts_y"]).agg(nb_communes=("code_commune", "size"),
                                               population=("population", "sum")).reset_index()
    out["population"] = out["population"].round().astype("int64")
    return out.rename(columns={"cpts_x": "cpts_a", "cpts_y": "cpts_b"})[cols]


def _figures(com: pd.DataFrame, group: pd.Series, cpts_tailles: pd.DataFrame, keys: list[str]) -> dict[str, Chiffres]:
    """Key figures of the units of each group (the whole scope, or each département).

    Parameters
    ----------
    com : pandas.DataFrame
        Units with ``population``, ``nb_cpts``, ``statut``, ``zone_blanche_id``.
    group : pandas.Series
        Group of each unit.
    cpts_tailles : pandas.DataFrame
        ``group``, ``cpts``, ``taille``: the CPTS concerning each group, once each.
    keys : list of str
        The groups to report, even those without units.
    """
    pop = com["population"].fillna(0)
    over, white = com["chevauchement"], com["nb_cpts"] == 0
    divided = com["parts_population"] != ""
    statuses = [*settings.STATUSES, settings.STATUS_UNKNOWN]

    def total(weight: pd.Series | float) -> pd.Series:
        return (pop * weight).groupby(group).sum().reindex(keys, fill_value=0)

    def count(mask: pd.Series) -> pd.Series:
        return mask.groupby(group).sum().reindex(keys, fill_value=0)

    everyone, cov = total(1.0), total(com["part_couverte"])
    pop_over, pop_white = total(com["part_en_exces"].clip(upper=1)), total(1 - com["part_couverte"])
    remainder, pop_divided = total((1 - com["part_couverte"]).where(~white, 0.0)), total(divided.astype(float))
    by_status = pd.concat({s: total(com[f"_couv_{s}"]) for s in statuses}, axis=1).stack()
    n_units, n_over, n_white = count(pd.Series(True, index=com.index)), count(over), count(white)
    n_divided = count(divided)
    n_zones = com.loc[white, "zone_blanche_id"].groupby(group[white]).nunique().reindex(keys, fill_value=0)
    tailles = cpts_tailles.groupby(["group", "taille"]).size()
    n_cpts = cpts_tailles.groupby("group").size()
    out: dict[str, Chiffres] = {}
    for k in keys:
        t, c = int(round(everyone[k])), int(round(cov[k]))
        st = by_status[k] if k in by_status.index.get_level_values(0) else pd.Series(dtype="float64")
        par_statut = {s: int(round(st.get(s, 0))) for s in statuses if s in settings.STATUSES or st.get(s, 0) > 0}
        out[k] = {
            "population_totale": t,
            "population_couverte": c,
            "taux_couverture": round(c / t, 6) if t else 0.0,
            "population_couverte_par_statut": par_statut,
            "taux_couverture_aci": round(par_statut["signataire_aci"] / t, 6) if t else 0.0,
            "nb_communes": int(n_units[k]),
            "nb_cpts": int(n_cpts.get(k, 0)),
            "nb_cpts_par_taille": {str(x): int(tailles.get((k, x), 0)) for x in (1, 2, 3, 4)},
            "nb_communes_en_chevauchement": int(n_over[k]),
            "population_en_chevauchement": int(round(pop_over[k])),
            "nb_zones_blanches": int(n_zones[k]),
            "nb_communes_zones_blanches": int(n_white[k]),
            "population_zones_blanches": int(round(pop_white[k])),
            "nb_communes_partagees": int(n_divided[k]),
            "population_communes_partagees": int(round(pop_divided[k])),
            "population_zones_blanches_infracommunales": int(round(remainder[k])),
        }
    return out


def _summary(com: gpd.GeoDataFrame, pop: pd.Series, cpts: pd.DataFrame, zones: gpd.GeoDataFrame,
             scope: list[str], journal: Journal, per: pd.DataFrame) -> Synthese:
    meta = reference.metadata()
    from_file = com["source_population"] == "fichier"
    ref_label = reference.population_vintage_label()
    if from_file.all():
        vintage = "fichier fourni"
    elif from_file.any():
        vintage = (f"mélangé : fichier fourni pour {int(from_file.sum())} commune(s), "
                   f"référence ({ref_label}) pour {int((~from_file).sum())}")
        journal.warn(f"Millésimes de population mélangés : {int(from_file.sum())} commune(s) avec la "
                     f"population du fichier fourni, {int((~from_file).sum())} avec la référence "
                     f"({ref_label}).")
    else:
        vintage = ref_label
    # The CPTS of a département are those with a commune in it (wherever their other communes are).
    links = per[["cpts", "code_commune"]].assign(group=per["code_commune"].map(reference.units()["departement"]))
    links = links.assign(taille=links["cpts"].map(cpts.set_index("cpts")["taille"]))
    in_scope = links[isin(links["code_commune"], com.index)].assign(group="")
    figures = _figures(com, pd.Series("", index=com.index), in_scope.drop_duplicates("cpts"), [""])[""]
    by_dep = _figures(com, com["departement"], links.drop_duplicates(["group", "cpts"]), scope)
    names = com.groupby("departement")["departement_nom"].first()
    par_dep = {dep: ChiffresDepartement(nom=str(names.get(dep, "")), **by_dep[dep]) for dep in scope}
    return {
        "millesime_population": vintage,
        "cog": meta["cog"],
        "bareme": settings.scale_label(),
        "perimetre": scope,
        **figures,
        "par_departement": par_dep,
        "avertissements": list(journal.avertissements),
        "date_perimetres": None,
    }


# --- Entry point ------------------------------------------------------------------------

def analyse(perimetres: Perimetres | pd.DataFrame, population: Population | None = None,
            departements: list[str] | None = None, region: str | None = None, *,
            cache: bool = True) -> Audit:
    """Run the audit on perimeters read from a file (or a normalised table).

    Parameters
    ----------
    perimetres : Perimetres or pandas.DataFrame
        From :func:`territoire.read.read_perimeters`, or a normalised table.
    population : Population, optional
        User populations replacing the reference where given.
    departements, region : optional
        Scope; default: the départements the perimeters touch.

    Returns
    -------
    Audit
    """
    journal = Journal()
    if isinstance(perimetres, Perimetres):
        journal.extend(perimetres.journal)
        table = perimetres.table
    else:
        table = perimetres
    units = units_with_population(population, journal)
    scope = resolve_scope(table, departements, region)
    return audit(table, units, scope, graph.national_edges(cache=cache), journal)

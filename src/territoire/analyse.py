"""Territorial audit: overlaps, size classes, funding, coverage, white zones.

Pure functions over (Geo)DataFrames: :func:`audit` takes normalised
perimeters, the units with their population, the scope and the adjacency
edges; :func:`analyse` gathers these from the reference and user files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import graph, reference, settings
from .errors import Journal, TerritoireError
from .read import Perimetres, Population

JOIN = " | "


@dataclass
class Audit:
    """Result of the territorial audit.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        Units of the scope: ``code_commune``, ``nom``, ``departement``,
        ``population``, ``cpts``, ``nb_cpts``, ``statut``, ``zone_blanche``,
        ``zone_blanche_id``, ``epci_siren``, ``epci_nom``, ``superficie_km2``.
    cpts : pandas.DataFrame
        One row per CPTS with population, taille, funding, pieces, enclaves...
    chevauchements, chevauchements_paires : pandas.DataFrame
        Communes in several CPTS; pairs of CPTS sharing communes.
    zones_blanches : geopandas.GeoDataFrame
        Connected groups of uncovered communes.
    synthese : dict
        Key figures (see ``synthese.json``).
    perimetres : pandas.DataFrame
        The normalised perimeters analysed.
    journal : Journal
    """

    communes: gpd.GeoDataFrame
    cpts: pd.DataFrame
    chevauchements: pd.DataFrame
    chevauchements_paires: pd.DataFrame
    zones_blanches: gpd.GeoDataFrame
    synthese: dict
    perimetres: pd.DataFrame
    journal: Journal = field(default_factory=Journal)


# --- Rules ---------------------------------------------------------------------

def size_class(population: pd.Series | np.ndarray) -> np.ndarray:
    """Taille 1-4 of a population (40 000 and 80 000 open the higher class; 175 000 stays in 3)."""
    pop = np.asarray(population, dtype="float64")
    t1, t2, t3 = settings.SIZE_THRESHOLDS
    return np.select([pop < t1, pop < t2, pop <= t3], [1, 2, 3], 4).astype("int64")


def threshold_gap(population: pd.Series | np.ndarray) -> np.ndarray:
    """Signed distance (inhabitants) to the nearest size threshold: negative below it."""
    pop = np.asarray(population, dtype="float64")[:, None]
    gaps = pop - np.asarray(settings.SIZE_THRESHOLDS, dtype="float64")[None, :]
    return gaps[np.arange(len(gaps)), np.abs(gaps).argmin(axis=1)].astype("int64")


def funding(taille: pd.Series) -> pd.DataFrame:
    """Annual ACI operating grant and maximum amount for each taille."""
    return pd.DataFrame({"financement_fonctionnement": taille.map(settings.FUNDING_OPERATING),
                         "financement_max_annuel": taille.map(settings.FUNDING_MAX)}, index=taille.index)


def typology(density: pd.Series) -> pd.Series:
    """``rural`` / ``intermédiaire`` / ``urbain`` from inhabitants per km²."""
    return pd.Series(np.select([density < settings.DENSITY_RURAL, density >= settings.DENSITY_URBAN],
                               ["rural", "urbain"], "intermédiaire"), index=density.index)


# --- Inputs ----------------------------------------------------------------------

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


def resolve_scope(perimeters: pd.DataFrame, departements: list[str] | None = None,
                  region: str | None = None) -> list[str]:
    """Départements of the scope: given ones, those of a région, or those the perimeters touch."""
    units = reference.units()
    known = set(units["departement"])
    scope: set[str] = set()
    for d in departements or []:
        d = d.strip().upper().zfill(2)
        if d not in known:
            raise TerritoireError(f"département « {d} » inconnu (attendu : 01 à 95, 2A, 2B, 971 à 976).")
        scope.add(d)
    if region:
        deps = reference.departements_of_region(region.strip().zfill(2))
        if not deps:
            raise TerritoireError(f"région « {region} » inconnue (code INSEE de région attendu, ex. 11).")
        scope.update(deps)
    if not scope:
        scope = set(units.loc[perimeters["code_commune"].unique(), "departement"])
    return sorted(scope)


# --- Core -------------------------------------------------------------------------

def _areas_km2(gdf: gpd.GeoDataFrame) -> pd.Series:
    out = pd.Series(0.0, index=gdf.index)
    fam = gdf["departement"].map(settings.metric_crs)
    for epsg, grp in gdf.groupby(fam):
        out.loc[grp.index] = shapely.area(grp.geometry.to_crs(epsg).to_numpy()) / 1e6
    return out


def _components(nodes: pd.Index, edges: pd.DataFrame) -> pd.Series:
    """Connected component label (smallest code of the component) of each node."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    inside = edges["u"].isin(nodes) & edges["v"].isin(nodes)
    g.add_edges_from(edges.loc[inside, ["u", "v"]].itertuples(index=False, name=None))
    label = {}
    for comp in nx.connected_components(g):
        first = min(comp)
        label.update(dict.fromkeys(comp, first))
    return pd.Series(label, dtype=object).reindex(nodes)


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
        Départements over which every rate is computed.
    edges : pandas.DataFrame
        Adjacency edges ``u``, ``v``, ``longueur_m`` (see :mod:`territoire.graph`).

    Returns
    -------
    Audit
    """
    journal = journal or Journal()
    per = perimeters.copy()
    per["statut"] = per["statut"].where(per["statut"].notna(), settings.STATUS_UNKNOWN)
    per["rang"] = per["statut"].map(settings.STATUS_RANK).fillna(-1)

    # Units of the scope.
    com = units[units["departement"].isin(scope)].copy()
    com["code_commune"] = com.index
    mem = per[per["code_commune"].isin(com.index)]
    by_unit = mem.groupby("code_commune")
    com["nb_cpts"] = by_unit["cpts"].nunique().reindex(com.index).fillna(0).astype("int64")
    com["cpts"] = by_unit["cpts"].agg(lambda s: JOIN.join(sorted(set(s)))).reindex(com.index).fillna("")
    best = mem.sort_values(["rang", "cpts"]).groupby("code_commune")["statut"].last()
    com["statut"] = best.reindex(com.index).fillna("")
    covered = com["nb_cpts"] > 0
    com["zone_blanche"] = ~covered
    com["superficie_km2"] = _areas_km2(com)

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

    all_members = per.groupby("code_commune")["cpts"].agg(lambda s: sorted(set(s)))
    zones = _white_zones(com, edges, all_members)

    # CPTS.
    cpts = _cpts_table(per, units, edges, zones, all_members)

    # Overlaps.
    over = com[com["nb_cpts"] > 1]
    chev = over[["code_commune", "nom", "departement", "population", "cpts"]].copy()
    chev["population"] = chev["population"].astype("Int64")
    pairs = _overlap_pairs(mem[mem["code_commune"].isin(over.index)], com)

    # Units outside the scope that perimeters cite are not counted in rates.
    outside = per.loc[~per["code_commune"].isin(com.index), "code_commune"].unique()
    if len(outside):
        journal.info(f"{len(outside)} commune(s) des périmètres hors du périmètre d'analyse "
                      "(comptées dans la population des CPTS, pas dans les taux).")

    synthese = _summary(com, pop, cpts, zones, scope, journal, per)
    com_out = com[["code_commune", "nom", "departement", "population", "cpts", "nb_cpts", "statut",
                   "zone_blanche", "zone_blanche_id", "epci_siren", "epci_nom", "superficie_km2",
                   "geometry"]].copy()
    com_out["population"] = com_out["population"].astype("Int64")
    com_out = com_out.sort_values("code_commune").reset_index(drop=True)
    return Audit(communes=gpd.GeoDataFrame(com_out, geometry="geometry", crs=units.crs),
                 cpts=cpts, chevauchements=chev.sort_values("code_commune").reset_index(drop=True),
                 chevauchements_paires=pairs, zones_blanches=zones, synthese=synthese,
                 perimetres=perimeters, journal=journal)


def _white_zones(com: gpd.GeoDataFrame, edges: pd.DataFrame, members: pd.Series) -> gpd.GeoDataFrame:
    cols = ["zone_blanche_id", "departements", "nb_communes", "population", "superficie_km2", "densite",
            "typologie", "communes", "noms", "cpts_voisines"]
    wz = com[com["zone_blanche"]]
    if wz.empty:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=com.crs)
    zid = wz["zone_blanche_id"]
    g = wz.groupby(zid)
    out = pd.DataFrame({
        "departements": g["departement"].agg(lambda s: ", ".join(sorted(set(s)))),
        "nb_communes": g.size(),
        "population": g["population"].sum(min_count=1).fillna(0).round().astype("int64"),
        "superficie_km2": g["superficie_km2"].sum().round(2),
        "communes": g["code_commune"].agg(lambda s: JOIN.join(sorted(s))),
        "noms": g["nom"].agg(lambda s: JOIN.join(s.sort_index())),
    })
    out["densite"] = (out["population"] / out["superficie_km2"].where(out["superficie_km2"] > 0)).round(1).fillna(0)
    out["typologie"] = typology(out["densite"])
    nb = graph_neighbours(edges, wz.index)
    nb = nb[~nb["v"].isin(wz.index)]
    nb["zone"] = nb["u"].map(zid)
    nb["cpts"] = nb["v"].map(members)
    nb = nb.dropna(subset=["cpts"]).explode("cpts")
    out["cpts_voisines"] = nb.groupby("zone")["cpts"].agg(lambda s: JOIN.join(sorted(set(s)))).reindex(out.index).fillna("")
    geom = g["geometry"].agg(lambda s: shapely.union_all(s.to_numpy()))
    out = out.reset_index(names="zone_blanche_id")
    out = gpd.GeoDataFrame(out, geometry=geom.reindex(out["zone_blanche_id"]).to_numpy(), crs=com.crs)
    return out[[*cols, "geometry"]].sort_values("zone_blanche_id").reset_index(drop=True)


def graph_neighbours(edges: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """Directed edges (``u`` in ``codes``) with their border length."""
    both = pd.concat([edges, edges.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    return both[both["u"].isin(codes)].reset_index(drop=True)


def _cpts_table(per: pd.DataFrame, units: gpd.GeoDataFrame, edges: pd.DataFrame,
                zones: gpd.GeoDataFrame, members: pd.Series) -> pd.DataFrame:
    pop = units["population"]
    rows = per.drop_duplicates(["cpts", "code_commune"]).copy()
    rows["population"] = rows["code_commune"].map(pop)
    rows["departement"] = rows["code_commune"].map(units["departement"])
    overlap_units = set(members[members.map(len) > 1].index)
    g = rows.groupby("cpts", sort=True)
    table = pd.DataFrame({
        "statut": g["statut"].agg(lambda s: s.iloc[0]),
        "nb_communes": g.size(),
        "population": g["population"].sum(min_count=1).fillna(0).round().astype("int64"),
        "departements": g["departement"].agg(lambda s: ", ".join(sorted(set(s)))),
        "communes_en_chevauchement": g["code_commune"].agg(
            lambda s: JOIN.join(sorted(c for c in s if c in overlap_units))),
    })
    table["taille"] = size_class(table["population"])
    table = table.join(funding(table["taille"]))
    table["ecart_seuil"] = threshold_gap(table["population"])

    # Pieces: components of one graph whose nodes are (CPTS, commune) pairs.
    e = edges.merge(rows[["cpts", "code_commune"]].rename(columns={"code_commune": "u"}), on="u")
    e = e.merge(rows[["cpts", "code_commune"]].rename(columns={"code_commune": "v"}), on=["v", "cpts"])
    gg = nx.Graph()
    gg.add_nodes_from(zip(rows["cpts"], rows["code_commune"]))
    gg.add_edges_from(zip(zip(e["cpts"], e["u"]), zip(e["cpts"], e["v"])))
    pieces = pd.Series([min(c)[0] for c in nx.connected_components(gg)]).value_counts()
    table["nb_morceaux"] = pieces.reindex(table.index).fillna(0).astype("int64")

    table["enclaves"] = _enclaves(zones, edges, members, units).reindex(table.index).fillna("")
    table = table.reset_index(names="cpts")
    cols = ["cpts", "statut", "nb_communes", "population", "taille", "financement_fonctionnement",
            "financement_max_annuel", "departements", "nb_morceaux", "enclaves",
            "communes_en_chevauchement", "ecart_seuil"]
    return table[cols].sort_values("cpts").reset_index(drop=True)


def _enclaves(zones: gpd.GeoDataFrame, edges: pd.DataFrame, members: pd.Series,
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
    nb = nb[~nb["v"].isin(zone_of.index)].copy()
    nb["zone"] = nb["u"].map(zone_of)
    owners = nb["v"].map(members)
    nb["owner"] = owners.map(lambda o: o[0] if isinstance(o, list) and len(o) == 1 else None)
    nb["ok"] = nb["owner"].notna()
    per_zone = nb.groupby("zone").agg(ok=("ok", "all"), n=("owner", "nunique"), owner=("owner", "first"),
                                      border=("longueur_m", "sum"))
    cand = per_zone[per_zone["ok"] & (per_zone["n"] == 1)]
    if cand.empty:
        return pd.Series(dtype=object)
    z = zones.set_index("zone_blanche_id").loc[cand.index]
    first = z["communes"].str.split(JOIN, regex=False).str[0]
    epsg = first.map(units["departement"]).map(settings.metric_crs)
    outline = pd.Series(0.0, index=z.index)
    for crs, idx in z.groupby(epsg).groups.items():
        outline.loc[idx] = gpd.GeoSeries(z.loc[idx].geometry, crs=zones.crs).to_crs(crs).length
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


def _figures(com: pd.DataFrame, cpts: pd.DataFrame, zone_ids: pd.Series) -> dict:
    pop = com["population"].fillna(0)
    total = int(round(pop.sum()))
    covered_mask = com["nb_cpts"] > 0
    covered = int(round(pop[covered_mask].sum()))
    by_status = pop[covered_mask].groupby(com.loc[covered_mask, "statut"]).sum()
    statuses = [*settings.STATUSES, settings.STATUS_UNKNOWN]
    par_statut = {s: int(round(by_status.get(s, 0))) for s in statuses
                  if s in settings.STATUSES or by_status.get(s, 0) > 0}
    over = com["nb_cpts"] > 1
    white = ~covered_mask
    tailles = cpts["taille"].value_counts()
    return {
        "population_totale": total,
        "population_couverte": covered,
        "taux_couverture": round(covered / total, 6) if total else 0.0,
        "population_couverte_par_statut": par_statut,
        "taux_couverture_aci": round(par_statut["signataire_aci"] / total, 6) if total else 0.0,
        "nb_communes": int(len(com)),
        "nb_cpts": int(len(cpts)),
        "nb_cpts_par_taille": {str(t): int(tailles.get(t, 0)) for t in (1, 2, 3, 4)},
        "nb_communes_en_chevauchement": int(over.sum()),
        "population_en_chevauchement": int(round(pop[over].sum())),
        "nb_zones_blanches": int(zone_ids[white].nunique()),
        "nb_communes_zones_blanches": int(white.sum()),
        "population_zones_blanches": int(round(pop[white].sum())),
    }


def _summary(com: gpd.GeoDataFrame, pop: pd.Series, cpts: pd.DataFrame, zones: gpd.GeoDataFrame,
             scope: list[str], journal: Journal, per: pd.DataFrame) -> dict:
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
    deps_of_cpts = per.assign(dep=per["code_commune"].map(reference.units()["departement"]))
    figures = _figures(com, cpts[cpts["cpts"].isin(per.loc[per["code_commune"].isin(com.index), "cpts"])],
                       com["zone_blanche_id"])
    par_dep = {}
    for dep in scope:
        sub = com[com["departement"] == dep]
        names = set(deps_of_cpts.loc[deps_of_cpts["dep"] == dep, "cpts"])
        par_dep[dep] = {"nom": str(sub["departement_nom"].iloc[0]) if len(sub) else "",
                        **_figures(sub, cpts[cpts["cpts"].isin(names)], sub["zone_blanche_id"])}
    return {
        "millesime_population": vintage,
        "cog": meta["cog"],
        "perimetre": scope,
        **figures,
        "par_departement": par_dep,
        "avertissements": list(journal.avertissements),
    }


# --- Entry point ------------------------------------------------------------------------

def analyse(perimetres: Perimetres | pd.DataFrame, population: Population | None = None,
            departements: list[str] | None = None, region: str | None = None) -> Audit:
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
    return audit(table, units, scope, graph.national_edges(), journal)

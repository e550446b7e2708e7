"""Polygon layers of CPTS (a GIS file or a GeoDataFrame in memory) to communes.

Each commune goes to the CPTS covering most of its area (``majority``);
communes cut by a border are listed with their share; a layer without a
declared projection is recognised from its coordinates among the French
projections.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import reference, settings
from .errors import Journal, TerritoireError
from .models import Perimetres
from .normalise import ROLE_LABELS, _finish, _statuses, detect_roles
from .shares import label, polygon_shares

#: Plausible bounds (xmin, ymin, xmax, ymax) of French territory per CRS, to
#: recognise a layer whose projection is not declared.
_CRS_BOUNDS: list[tuple[int, tuple[float, float, float, float], str]] = [
    (4326, (-63.2, -21.5, 55.9, 51.2), "WGS 84 (longitude, latitude)"),
    (2154, (90_000, 6_030_000, 1_250_000, 7_120_000), "Lambert-93"),
    (5490, (440_000, 1_590_000, 740_000, 1_850_000), "RGAF09 / UTM 20N (Antilles)"),
    (2972, (100_000, 200_000, 500_000, 650_000), "RGFG95 / UTM 22N (Guyane)"),
    (2975, (300_000, 7_630_000, 390_000, 7_700_000), "RGR92 / UTM 40S (La Réunion)"),
    (4471, (490_000, 8_560_000, 540_000, 8_610_000), "RGM04 / UTM 38S (Mayotte)"),
]


def _guess_crs(gdf: gpd.GeoDataFrame, path: Path, journal: Journal) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = gdf.total_bounds
    for epsg, (bx0, by0, bx1, by1), name in _CRS_BOUNDS:
        if xmin >= bx0 and ymin >= by0 and xmax <= bx1 and ymax <= by1:
            journal.warn(f"Projection non déclarée : les coordonnées ({xmin:.0f}, {ymin:.0f}) "
                         f"correspondent à {name} (EPSG:{epsg}), retenue.")
            return gdf.set_crs(epsg)
    raise TerritoireError(f"projection non déclarée (fichier .prj absent ?) et coordonnées "
                          f"({xmin:.1f}, {ymin:.1f}, {xmax:.1f}, {ymax:.1f}) qui ne correspondent à "
                          "aucune projection française connue.", path)



def layer_to_perimeters(gdf: gpd.GeoDataFrame, path: Path, journal: Journal, *,
                        majority: float | None = None) -> Perimetres:
    """CPTS polygons: each commune goes to the CPTS holding most of its area.

    Communes cut by a border are listed with their share; shares under
    :data:`settings.POLYGON_SLIVER` are generalisation slivers and ignored.
    """
    explicit = majority
    majority = settings.POLYGON_MAJORITY if majority is None else majority
    if not 0 < majority <= 1:  # also refuses NaN
        raise TerritoireError(f"part majoritaire {majority} hors de ]0, 1] : une commune va à la CPTS qui couvre "
                              "au moins cette part de sa surface (0,5 par défaut).", path)
    if gdf.crs is None:
        gdf = _guess_crs(gdf, path, journal)
    headers = [c for c in gdf.columns if c != gdf.geometry.name]
    roles = detect_roles(headers, ("cpts", "statut"))
    if "cpts" not in roles:
        text_cols = [c for c in headers if pd.api.types.is_string_dtype(gdf[c]) and gdf[c].notna().all()
                     and gdf[c].nunique() == len(gdf)]
        if not text_cols:
            raise TerritoireError("aucun champ ne donne le nom des CPTS (attendu : « CPTS », "
                                  f"« nom »...) ; champs présents : {', '.join(map(str, headers)) or 'aucun'}.",
                                  path)
        roles["cpts"] = headers.index(text_cols[0])
    colonnes = {r: headers[i] for r, i in roles.items()}
    for r, c in colonnes.items():
        journal.info(f"Champ « {c} » lu comme {ROLE_LABELS[r]}.")
    names = gdf[headers[roles["cpts"]]].astype("string").str.strip()
    for i in np.flatnonzero(names.isna() | (names == "")):
        journal.warn(f"Objet n° {i + 1} : pas de nom de CPTS ; objet ignoré.")
    geoms = gdf.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        journal.warn(f"Objet n° {i + 1} (« {names.iloc[i]} ») : géométrie vide ; objet ignoré.")
    invalid = ~empty & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        journal.warn(f"Objet n° {i + 1} (« {names.iloc[i]} ») : géométrie invalide ({reason}) ; réparée.")
    geoms = np.where(invalid, shapely.make_valid(geoms), geoms)
    keep = ~empty & names.notna().to_numpy() & (names != "").fillna(False).to_numpy()
    if not keep.any():
        raise TerritoireError("aucun objet avec un nom et une géométrie.", path)
    layer = gpd.GeoDataFrame({"cpts": names.to_numpy()[keep].astype(object),
                              "statut_brut": (gdf[headers[roles["statut"]]].to_numpy()[keep]
                                              if "statut" in roles else None)},
                             geometry=geoms[keep], crs=gdf.crs)
    areas = attribute_communes(layer)
    kept = polygon_shares(areas, explicit)
    cut = areas[(areas["part"] < 1 - settings.POLYGON_SLIVER)].copy()
    taken = kept.set_index(["cpts", "code_commune"])["part_population"]
    for _, r in cut.sort_values(["cpts", "code_commune"]).iterrows():
        share = taken.get((r["cpts"], r["code_commune"]))
        verb = ("non retenue" if share is None else "retenue" if share >= 1
                else f"partagée, part de population {label(share)} (approchée par la surface)")
        journal.info(f"CPTS « {r['cpts']} » : commune {r['code_commune']} coupée par le périmètre "
                     f"({r['part']:.0%} de sa surface), {verb}.")
    if kept.empty:
        raise TerritoireError("aucune commune n'est couverte à plus de "
                              f"{majority:.0%} par les polygones : vérifiez la projection.", path)
    rows = kept.merge(layer.drop(columns="geometry").drop_duplicates("cpts"), on="cpts", how="left")
    rows["code_source"] = rows["code_commune"]
    statut = _statuses(rows, journal)
    table = rows[["cpts", "code_commune", "part", "part_population"]].assign(statut=rows["cpts"].map(statut))
    for name in sorted(set(layer["cpts"]) - set(table["cpts"])):
        journal.warn(f"CPTS « {name} » : aucune commune couverte à plus de {majority:.0%} ; absente du résultat.")
    return _finish(table, rows, journal, path, colonnes, coupees=cut.reset_index(drop=True))



def attribute_communes(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of each unit's area inside each CPTS polygon.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Column ``cpts`` and polygons, in any CRS.

    Returns
    -------
    pandas.DataFrame
        ``cpts``, ``code_commune``, ``part`` for every share above the sliver
        threshold. Areas are measured in the metric projection of each part
        of France (Lambert-93, or the local one overseas).
    """
    dissolved = layer[["cpts", "geometry"]].dissolve(by="cpts").reset_index()
    units = reference.units()
    out = []
    families = units["departement"].map(settings.metric_crs)
    for epsg, grp in units.groupby(families):
        u = grp.geometry.to_crs(epsg)
        p = dissolved.to_crs(epsg)
        tree = shapely.STRtree(u.to_numpy())
        pi, ui = tree.query(p.geometry.to_numpy(), predicate="intersects")
        if len(pi) == 0:
            continue
        inter = shapely.area(shapely.intersection(p.geometry.to_numpy()[pi], u.to_numpy()[ui]))
        share = inter / shapely.area(u.to_numpy()[ui])
        out.append(pd.DataFrame({"cpts": p["cpts"].to_numpy()[pi], "code_commune": u.index[ui],
                                 "part": np.round(share, 4)}))
    if not out:
        return pd.DataFrame(columns=["cpts", "code_commune", "part"])
    res = pd.concat(out, ignore_index=True)
    return res[res["part"] >= settings.POLYGON_SLIVER].sort_values(["cpts", "code_commune"]).reset_index(drop=True)

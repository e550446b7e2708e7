"""``resultats.gpkg``: the results as GIS layers for QGIS, styled like the HTML map.

Layers of an audit: ``cpts`` (dissolved outlines, every column of
``cpts.csv``), ``zones_blanches`` (one outline per white zone, the columns of
``zones_blanches.csv``) and ``communes`` (the columns of ``communes.csv``); a
plan adds ``propositions`` (the communes it moves, with action and motive)
and ``cpts_proposees`` (the proposed perimeters with the columns of
``cpts_avant_apres.csv``). Projection: Lambert-93 for a scope in
métropole, the local projection of a single overseas département, WGS 84
otherwise. Each layer carries a default QGIS style (table ``layer_styles``)
whose categories and colours are those of the HTML legend. The bytes are
the same from one run to the next (GDAL's timestamps are fixed).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pandas as pd
import shapely

from . import settings
from .mapping import style
from .models import Audit, Plan

#: Timestamp written by GDAL and in ``layer_styles``: fixed, so that two runs give the same bytes.
FIXED_DATE = "2020-01-01T00:00:00.000Z"


def crs_for(scope: list[str]) -> int:
    """EPSG code of the layers: Lambert-93 in métropole, the local one for one overseas département."""
    overseas = [d for d in scope if d.startswith("97")]
    if not overseas:
        return settings.METRIC_CRS_METRO
    if len(scope) == 1:
        return settings.metric_crs(scope[0])
    return 4326


def dissolve(members: pd.DataFrame, units: gpd.GeoDataFrame, key: str) -> gpd.GeoSeries:
    """Outline of each group of communes (``key``, ``code_commune``), in WGS 84."""
    m = members[[key, "code_commune"]].drop_duplicates()
    geoms = m["code_commune"].map(units.geometry)
    out = {k: shapely.union_all(geoms[idx].to_numpy()) for k, idx in m.groupby(key, sort=True).groups.items()}
    return gpd.GeoSeries(pd.Series(out), crs=units.crs)


def audit_layers(audit: Audit, units: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The layers of an audit (see the module docstring)."""
    from .export import audit_tables

    tables = audit_tables(audit)
    outline = dissolve(audit.perimetres, units, "cpts")
    cpts = gpd.GeoDataFrame(audit.cpts, geometry=audit.cpts["cpts"].map(outline).to_numpy(), crs=units.crs)
    communes = gpd.GeoDataFrame(tables["communes.csv"], geometry=audit.communes.geometry.to_numpy(), crs=units.crs)
    communes["zone_blanche"] = audit.communes["zone_blanche"].to_numpy()
    return {"cpts": cpts, "zones_blanches": audit.zones_blanches, "communes": communes}


def plan_layers(plan: Plan, units: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a plan: those of the proposed situation, its proposals and proposed perimeters."""
    layers = audit_layers(plan.apres, units)
    props = plan.propositions
    layers["propositions"] = gpd.GeoDataFrame(props, geometry=props["code_commune"].map(units.geometry).to_numpy(),
                                              crs=units.crs)
    rows = pd.DataFrame(plan.scenario["cpts"])
    rows = rows[rows["population_apres"] > 0]
    outline = dissolve(plan.perimetres, units, "cpts")
    layers["cpts_proposees"] = gpd.GeoDataFrame(rows, geometry=rows["cpts"].map(outline).to_numpy(), crs=units.crs)
    return layers


# --- QGIS styles -------------------------------------------------------------------------

def _rgba(hex_colour: str, alpha: int = 255) -> str:
    return f"{int(hex_colour[1:3], 16)},{int(hex_colour[3:5], 16)},{int(hex_colour[5:7], 16)},{alpha}"


def _fill(name: str, fill: str | None, edge: str, width: float, dashed: bool = False) -> str:
    """One QGIS fill symbol (both the 3.26+ ``Option`` and the older ``prop`` forms)."""
    props = {"color": _rgba(fill) if fill else "255,255,255,0", "style": "solid" if fill else "no",
             "outline_color": _rgba(edge), "outline_width": str(width), "outline_width_unit": "MM",
             "outline_style": "dash" if dashed else "solid", "joinstyle": "round"}
    options = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in props.items())
    old = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in props.items())
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">{options}</Option>'
            f"{old}</layer></symbol>")


def _qml(renderer: str) -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>')


def categorized(attr: str, categories: Sequence[tuple[str, str, str | None, str, float, bool]]) -> str:
    """A categorized renderer: (value, label, fill, edge, width, dashed) per category."""
    cats = "".join(f"<category value={quoteattr(v)} symbol=\"{i}\" label={quoteattr(label)} render=\"true\"/>"
                   for i, (v, label, *_rest) in enumerate(categories))
    symbols = "".join(_fill(str(i), fill, edge, width, dashed)
                      for i, (_v, _label, fill, edge, width, dashed) in enumerate(categories))
    return _qml(f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
                f'enableorderby="0" forceraster="0"><categories>{cats}</categories><symbols>{symbols}</symbols>'
                "</renderer-v2>")


def single(fill: str | None, edge: str, width: float, dashed: bool = False) -> str:
    """A single-symbol renderer."""
    return _qml(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
                f"<symbols>{_fill('0', fill, edge, width, dashed)}</symbols></renderer-v2>")


def styles() -> dict[str, tuple[str, str]]:
    """Layer -> (style name, QML): the HTML legend's categories and colours."""
    statuses = [(s, settings.STATUS_LABELS[s], style.STATUS_FILLS[s], "#555555", 0.1, False)
                for s in [*settings.STATUSES, settings.STATUS_UNKNOWN]]
    actions = [(a, label, style.PLAN_PALETTE[i % len(style.PLAN_PALETTE)], "#000000", 0.2, False)
               for i, (a, label) in enumerate(settings.ACTION_LABELS.items())]
    return {
        "communes": ("territoire : statut de la CPTS", categorized("statut", [
            *statuses, ("", "Zone blanche : aucune CPTS", style.WHITE_ZONE_FILL, style.WHITE_ZONE_EDGE, 0.2, True)])),
        "zones_blanches": ("territoire : zones blanches",
                           single(style.WHITE_ZONE_FILL, style.WHITE_ZONE_EDGE, 0.6, dashed=True)),
        "cpts": ("territoire : contours des CPTS", single(None, style.CPTS_EDGE, 0.8)),
        "propositions": ("territoire : propositions", categorized("action", actions)),
        "cpts_proposees": ("territoire : CPTS proposées", categorized("nouvelle", [
            ("false", "CPTS existante", None, style.CPTS_EDGE, 0.8, False),
            ("true", "Nouvelle CPTS proposée (contour en tirets)", None, style.CPTS_EDGE, 0.8, True)])),
    }


def _add_styles(path: Path, layers: list[str]) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
                    "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), "
                    "styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, "
                    "owner TEXT(30), ui TEXT(30), update_time DATETIME)")
        for name in layers:
            style_name, qml = styles()[name]
            con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                        "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                        "VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', NULL, ?)",
                        (name, style_name, qml, "Style par défaut : les couleurs de la carte HTML", FIXED_DATE))
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)", (FIXED_DATE,))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()


def geopackage(layers: dict[str, gpd.GeoDataFrame], scope: list[str]) -> bytes:
    """The GeoPackage of ``layers`` (in this order), projected for ``scope``, with their styles."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    epsg = crs_for(scope)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resultats.gpkg"
        for name, gdf in layers.items():
            out = gdf.copy()
            for col in out.columns:
                if col != out.geometry.name and out[col].dtype == object:
                    out[col] = out[col].map(lambda v: v if v is None or isinstance(v, (str, int, float, bool))
                                            else str(v))
            out.to_crs(epsg).to_file(path, layer=name, driver="GPKG", geometry_type="MultiPolygon",
                                     promote_to_multi=True)
        _add_styles(path, list(layers))
        return path.read_bytes()

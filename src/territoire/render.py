"""Maps for the CTS: interactive HTML (folium) and static PNG (matplotlib), same symbology.

Inputs are plain tables (as written by ``analyse`` and ``planifier``), so a
map can be redrawn from saved results; outlines come from the reference,
simplified once as a coverage (shared borders stay shared, no gaps open) and
rounded to 1e-5 degree (about a metre).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import reference
from .mapping import style, titles
from .models import Audit, Plan

JOIN = " | "

#: Maturity colours: a sequential, colour-blind-safe scale (viridis steps).
#: Maturity colours (see :mod:`territoire.mapping.style`: 3:1 on white, ΔE2000 ≥ 15 for colour-blind readers).
STATUS_COLOURS = style.STATUS_FILLS
WHITE_ZONE = {"fill": style.WHITE_ZONE_FILL, "edge": style.WHITE_ZONE_EDGE}
OVERLAP = {"fill": "#cc79a7", "edge": style.OVERLAP_EDGE}
#: One colour per CPTS in a plan (neighbours differ).
CPTS_PALETTE = style.PLAN_PALETTE


@dataclass
class MapData:
    """What a map shows.

    Attributes
    ----------
    communes : pandas.DataFrame
        ``code_commune``, ``nom``, ``population``, ``cpts`` (`` | `` joined),
        ``nb_cpts``, ``statut``, ``zone_blanche``; for a plan also ``action``.
    cpts : pandas.DataFrame
        ``cpts``, ``statut``, ``nb_communes``, ``population``, ``taille``,
        ``financement_fonctionnement``, ``financement_max_annuel``,
        ``communes_en_chevauchement``; for a plan also ``nouvelle``.
    titre, sous_titre : str
    plan : bool
    """

    communes: pd.DataFrame
    cpts: pd.DataFrame
    titre: str
    sous_titre: str
    plan: bool = False

    def cpts_lists(self, communes: pd.DataFrame | None = None) -> pd.Series:
        """The CPTS of each commune as a list (a name holding `` | `` kept whole)."""
        from .analyse import split_joined

        com = self.communes if communes is None else communes
        return split_joined(com["cpts"], self.cpts["cpts"].dropna().astype(str))


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygons of each geometry (unions and roundings can leave stray lines or points)."""
    out = np.array(geoms, dtype=object)
    mixed = np.flatnonzero(~np.isin(shapely.get_type_id(out), (3, 6)))
    for i in mixed:
        parts = [p for p in shapely.get_parts(shapely.get_parts(out[i])) if p.geom_type == "Polygon"]
        out[i] = shapely.multipolygons(parts) if parts else out[i]
    return out


def display_geometries(codes: pd.Index) -> gpd.GeoSeries:
    """Outlines of the units to draw, simplified as a coverage and rounded.

    Rounding is applied to shared vertices identically on both sides, so
    neighbours stay edge to edge; a polygon the rounding would make invalid
    keeps its unrounded outline.
    """
    units = reference.units().loc[sorted(codes)]
    geoms = units.geometry.to_numpy()
    # A département keeps its detail; a national map is lighter (about 500 m and 10 m).
    small = len(geoms) <= 3000
    tol, decimals = (0.0005, 5) if small else (0.007, 4)
    simple = shapely.coverage_simplify(geoms, tol)
    simple = np.where(shapely.is_valid(simple) & ~shapely.is_empty(simple), simple, geoms)
    rounded = shapely.transform(simple, lambda xy: np.round(xy, decimals))
    rounded = np.where(shapely.is_valid(rounded) & ~shapely.is_empty(rounded), rounded, simple)
    return gpd.GeoSeries(polygonal(rounded), index=units.index, crs=units.crs)


def memberships(data: MapData) -> pd.DataFrame:
    """One row per (commune, CPTS)."""
    m = data.communes[["code_commune"]].assign(cpts=data.cpts_lists()).explode("cpts")
    return m[m["cpts"].notna() & (m["cpts"] != "")]


def _outlines(data: MapData, geoms: gpd.GeoSeries) -> gpd.GeoDataFrame:
    m = memberships(data)
    g = gpd.GeoDataFrame(m, geometry=geoms.loc[m["code_commune"]].to_numpy(), crs=geoms.crs)
    out = g.dissolve("cpts").reset_index()[["cpts", "geometry"]]
    out["geometry"] = polygonal(out.geometry.to_numpy())
    return out


def cpts_colours(communes: pd.DataFrame, outlines: gpd.GeoDataFrame) -> dict[str, str]:
    """A palette colour per CPTS, neighbours getting different colours (greedy graph colouring)."""
    tree = shapely.STRtree(outlines.geometry.to_numpy())
    a, b = tree.query(outlines.geometry.to_numpy(), predicate="intersects")
    g = nx.Graph()
    names = outlines["cpts"].to_numpy()
    g.add_nodes_from(sorted(names))
    g.add_edges_from((names[i], names[j]) for i, j in zip(a, b) if i < j)
    colour = nx.greedy_color(g, strategy="largest_first")
    return {n: CPTS_PALETTE[colour[n] % len(CPTS_PALETTE)] for n in sorted(names)}


@dataclass
class Layers:
    """Display geometries shared by the HTML and PNG maps (computed once per map)."""

    geoms: gpd.GeoSeries
    outlines: gpd.GeoDataFrame
    colours: dict[str, str]


def prepare(data: MapData) -> Layers:
    """Simplified outlines of the communes and CPTS of a map, and the CPTS colours."""
    geoms = display_geometries(pd.Index(data.communes["code_commune"]))
    outlines = _outlines(data, geoms)
    colours = cpts_colours(data.communes, outlines) if len(outlines) else {}
    return Layers(geoms, outlines, colours)


def map_html(data: MapData, hors_ligne: bool = True, layers: Layers | None = None,
             fond_de_carte: bool = False) -> str:
    """The interactive map as one self-contained HTML document (see :mod:`territoire.mapping.page`).

    Leaflet is always embedded, so the map draws with no network at all;
    ``hors_ligne`` is kept for compatibility and changes nothing. With
    ``fond_de_carte`` an OpenStreetMap background is added (it needs a
    network; the layers never depend on it).
    """
    from .mapping import page

    return page.page_html(data, layers or prepare(data), fond_de_carte=fond_de_carte)


def map_png(data: MapData, width_in: float = 11.0, layers: Layers | None = None) -> bytes:
    """The static map (PNG) with the symbology of the interactive map (see :mod:`territoire.mapping.static`)."""
    from .mapping import static

    return static.map_png(data, layers or prepare(data))


class InlineMap:
    """An interactive map shown in a notebook cell (self-contained: Leaflet embedded, no network).

    Jupyter displays any object with ``_repr_html_``; the map document goes in
    an ``iframe`` (``srcdoc``) so that its scripts and styles stay apart from
    the notebook's.
    """

    def __init__(self, document: str, height: int = 600) -> None:
        self.document = document
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.document, quote=True)}" '
                f'style="width:100%;height:{self.height}px;border:1px solid #ccc"></iframe>')


def map_inline(data: MapData, height: int = 600) -> InlineMap:
    """The interactive map of ``data``, to show in a notebook (see :class:`InlineMap`)."""
    return InlineMap(map_html(data, hors_ligne=True), height)


def audit_subtitle(s: Mapping[str, Any], date: str | None = None) -> str:
    """Subtitle of an audit map: coverage, population vintage, perimeter date, sources."""
    return titles.audit_subtitle(s, date)


def audit_map_data(audit: Audit, titre: str | None = None, date_perimetres: str | None = None) -> MapData:
    """Map content of an audit (from the API object)."""
    s = audit.synthese
    return MapData(
        communes=pd.DataFrame(audit.communes.drop(columns="geometry")),
        cpts=audit.cpts,
        titre=titre or titles.audit_title(s["perimetre"]),
        sous_titre=titles.audit_subtitle(s, date_perimetres),
    )


def plan_map_data(plan: Plan, titre: str | None = None, date_perimetres: str | None = None) -> MapData:
    """Map content of a plan: the proposed perimeters with each proposal, before → after."""
    com = pd.DataFrame(plan.apres.communes.drop(columns="geometry"))
    actions = plan.propositions.drop_duplicates("code_commune").set_index("code_commune")["action"]
    com["action"] = com["code_commune"].map(actions).fillna("")
    scen = plan.scenario
    return MapData(
        communes=com, cpts=titles.before_after(plan.apres.cpts, scen), plan=True,
        titre=titre or plan_title(scen), sous_titre=plan_subtitle(scen, date_perimetres),
    )


def plan_title(scen: Mapping[str, Any]) -> str:
    """Title of a plan map."""
    return titles.plan_title(scen["perimetre"])


def plan_subtitle(scen: Mapping[str, Any], date: str | None = None) -> str:
    """Subtitle of a plan map: proposals, population vintage, perimeter date."""
    return titles.plan_subtitle(scen, date)

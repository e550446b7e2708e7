"""The static map (``carte.png``) for a slide or a printed page, with the symbology of the HTML map.

Laid out like a slide (16:9): the title and its subtitle (wrapped, never cut)
above; the map on the left, every CPTS carrying its number (numbers never
overlap); on the right, outside the map, the legend and the numbered list of
CPTS with population and taille; under the map, a metric scale and the
sources. White zones are one hatched outline each with their id; shared
communes are striped, overlaps cross-hatched, as on the HTML map.
"""

from __future__ import annotations

import io
import math
import textwrap
import warnings
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import escaping, settings
from . import document, style, titles

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..render import Layers, MapData

#: Most CPTS listed beside the map (beyond: « … et N autres », the full list is in the report).
MAX_LISTED = 28
_FILL_OVERLAP = "#cc79a7"


def _plain(text: object) -> str:
    return escaping.plain_text(str(text))


def _place_numbers(ax: Axes, xy: np.ndarray, labels: list[str], size: float) -> list[tuple[float, float]]:
    """Positions for the numbers: at their point, or nudged (down, up, right, left) until no two overlap."""
    trans = ax.transData
    px = trans.transform(xy) if len(xy) else np.empty((0, 2))
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for (x, y), text in zip(px, labels):
        w, h = size * (0.62 * len(text) + 0.6), size * 1.3
        for dx, dy in ((0, 0), (0, -h), (0, h), (w, 0), (-w, 0), (w, -h), (-w, h), (0, -2 * h), (0, 2 * h)):
            box = (x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2)
            if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed):
                break
        placed.append(box)
        out.append(tuple(trans.inverted().transform(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))))
    return out


def _scale_bar(fig: Figure, ax: Axes, crs_lat: float, x: float, y: float, main: bool = False) -> None:
    """A metric scale bar of the main map, drawn outside it at (x, y) in figure coordinates."""
    from matplotlib.lines import Line2D

    x0, x1 = ax.get_xlim()
    metres_per_unit = math.cos(math.radians(crs_lat))  # Web Mercator stretches by 1/cos(latitude)
    ground = (x1 - x0) * metres_per_unit / 5
    step = 10 ** math.floor(math.log10(ground))
    length = max(k * step for k in (1, 2, 5) if k * step <= ground)
    width = length / metres_per_unit / (x1 - x0) * ax.get_position().width
    fig.add_artist(Line2D([x, x + width], [y, y], transform=fig.transFigure, color="#111111", linewidth=3,
                          solid_capstyle="butt"))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    label += " (carte principale)" if main else ""
    fig.text(x + width + 0.006, y, label.replace(".", ","), va="center", fontsize=10)


def map_png(data: MapData, layers: Layers, dpi: int = 110) -> bytes:
    """The static map (PNG) of ``data`` (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    geoms, colours = layers.geoms, layers.colours
    com = data.communes.set_index("code_commune").loc[geoms.index]
    gdf = gpd.GeoDataFrame(com, geometry=geoms.to_numpy(), crs=geoms.crs).to_crs(3857)
    if data.plan:
        gdf["fill"] = data.cpts_lists(gdf).str[0].map(colours).fillna(style.WHITE_ZONE_FILL)
    else:
        gdf["fill"] = np.where(gdf["zone_blanche"].astype(bool), style.WHITE_ZONE_FILL,
                               gdf["statut"].map(style.STATUS_FILLS).fillna(style.STATUS_FILLS["inconnu"]))
    gdf["shared"] = gdf.get("parts_population", pd.Series("", index=gdf.index)).fillna("").astype(str) != ""
    gdf["over"] = gdf["nb_cpts"].astype(int) > 1
    zones, shapes = document.zone_entries(data.communes, geoms)
    zg = gpd.GeoDataFrame({"id": [z["id"] for z in zones]}, geometry=list(shapes), crs=geoms.crs).to_crs(3857)
    entries, drawn = document.cpts_entries(data, layers, {})
    outlines = gpd.GeoSeries(drawn, crs=geoms.crs).to_crs(3857)
    fig = Figure(figsize=(14.0, 7.875), dpi=dpi)
    FigureCanvasAgg(fig)
    subtitle = "\n".join(textwrap.wrap(_plain(data.sous_titre), 150))
    fig.text(0.01, 0.985, _plain(data.titre), fontsize=17, fontweight="bold", va="top", parse_math=False)
    fig.text(0.01, 0.94, subtitle, fontsize=10.5, va="top", color="#333333", parse_math=False)
    top = 0.93 - 0.022 * (subtitle.count("\n") + 1)
    dep = gdf["departement"].astype(str)
    overseas = sorted(set(dep[dep.str.startswith("97")]))
    mainland = ~dep.str.startswith("97") if len(overseas) < dep.nunique() else pd.Series(True, index=gdf.index)
    # Métropole (or the whole scope) in the main frame; each overseas département in an inset below it.
    insets = overseas if not mainland.all() else []
    bottom = 0.22 if insets else 0.07
    ax = fig.add_axes((0.01, bottom, 0.60, top - bottom - 0.01))
    dense = len(gdf) > 3000
    _draw(ax, gdf[mainland.to_numpy()], zg, outlines, dense)
    numbers = len(entries) <= 120
    if numbers:
        pts = gpd.GeoSeries(gpd.points_from_xy([e["point"][1] for e in entries], [e["point"][0] for e in entries]),
                            crs=4326).to_crs(3857)
        xy = np.column_stack([pts.x, pts.y]) if len(pts) else np.empty((0, 2))
        labels = [str(e["numero"]) for e in entries]
        for (x, y), text in zip(_place_numbers(ax, xy, labels, 11), labels):
            ax.text(x, y, text, fontsize=11, fontweight="bold", ha="center", va="center", clip_on=True,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "#111111",
                          "linewidth": 0.8})
    lat = float(gdf[mainland.to_numpy()].to_crs(4326).geometry.representative_point().y.mean()) if len(gdf) else 46.0
    _scale_bar(fig, ax, lat, 0.63, 0.075, main=bool(insets))
    for i, code in enumerate(insets[:6]):
        sub = fig.add_axes((0.01 + i * 0.1, 0.05, 0.09, 0.14))
        _draw(sub, gdf[(dep == code).to_numpy()], zg, outlines, dense, frame=True)
        sub.set_title(code, fontsize=9, pad=2)
        sub.set_xlabel("")
        sub.set_ylabel("")
    fig.text(0.01, 0.012, titles.SOURCES, fontsize=9, color="#444444")
    side = fig.add_axes((0.63, 0.04, 0.36, top - 0.05))
    side.set_axis_off()
    _side_panel(side, data, entries if numbers else [], gdf["over"].any(), bool(zones), gdf["shared"].any())
    buf = io.BytesIO()
    with warnings.catch_warnings():  # a glyph missing from the font is not the user's concern
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _draw(ax: Axes, gdf: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, outlines: gpd.GeoSeries, dense: bool,
          frame: bool = False) -> None:
    """Communes, shared communes, overlaps, white zones and CPTS outlines, framed on ``gdf``."""
    from matplotlib.patheffects import withStroke

    if gdf.empty:
        ax.set_axis_off()
        return
    x0, y0, x1, y1 = gdf.total_bounds
    pad = max(x1 - x0, y1 - y0) * 0.03
    gdf.plot(ax=ax, color=gdf["fill"], edgecolor="none" if dense else "#9a9a9a", linewidth=0 if dense else 0.25)
    if gdf["shared"].any():
        gdf[gdf["shared"]].plot(ax=ax, facecolor="none", edgecolor=style.CPTS_EDGE, hatch="\\\\\\", linewidth=0.4)
    if gdf["over"].any():
        gdf[gdf["over"]].plot(ax=ax, color=_FILL_OVERLAP, edgecolor=style.OVERLAP_EDGE, hatch="xx",
                              linewidth=0.3 if dense else 0.8)
    if len(zones):
        zones.plot(ax=ax, facecolor="none", edgecolor="#b8b8b8", hatch="/", linewidth=0)
        zones.boundary.plot(ax=ax, color=style.WHITE_ZONE_EDGE, linewidth=0.5 if dense else 1.6, linestyle="--")
        if len(zones) <= 40 and not frame:
            for z, p in zip(zones["id"], zones.representative_point()):
                ax.text(p.x, p.y, z, fontsize=9, ha="center", va="center", color=style.WHITE_ZONE_EDGE,
                        fontweight="bold", clip_on=True, path_effects=[withStroke(linewidth=3, foreground="white")])
    if len(outlines):
        outlines.boundary.plot(ax=ax, color=style.CPTS_EDGE, linewidth=0.35 if dense else 2.2)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if not frame:
        ax.set_axis_off()


def _side_panel(side: Axes, data: MapData, entries: list[dict], over: bool, zones: bool, shared: bool) -> None:
    """The legend and the numbered list of CPTS, beside the map (outside it)."""
    from matplotlib.patches import Patch

    handles = ([Patch(facecolor=style.STATUS_FILLS[s], edgecolor="#555555", label=settings.STATUS_LABELS[s])
                for s in settings.STATUSES] if not data.plan else
               [Patch(facecolor=style.PLAN_PALETTE[2], edgecolor="#555555", label="Périmètre proposé (une couleur par CPTS)")])
    if over or not data.plan:
        handles.append(Patch(facecolor=_FILL_OVERLAP, edgecolor=style.OVERLAP_EDGE, hatch="xx",
                             label="Commune dans plusieurs CPTS"))
    if zones or not data.plan:
        handles.append(Patch(facecolor="white", edgecolor=style.WHITE_ZONE_EDGE, hatch="//", linestyle="--",
                             label="Zone blanche : aucune CPTS"))
    handles.append(Patch(facecolor="white", edgecolor=style.CPTS_EDGE, linewidth=2,
                         label="Contour d'une CPTS ; son numéro renvoie à la liste"))
    if shared:
        handles.append(Patch(facecolor="white", edgecolor=style.CPTS_EDGE, hatch="\\\\\\", label="Commune partagée"))
    legend = side.legend(handles=handles, loc="upper left", fontsize=10.5, frameon=False, borderaxespad=0)
    side.add_artist(legend)
    listed = entries[:MAX_LISTED]
    two_lines = len(listed) <= 12  # room for the figures under each name
    lines = []
    for e in listed:
        lines.append(f"{e['numero']}. {textwrap.shorten(_plain(e['nom']), 60, placeholder='…')}")
        if two_lines:
            lines.append(f"     {textwrap.shorten(_plain(e['resume']), 62, placeholder='…')}")
    if len(entries) > MAX_LISTED:
        lines.append(f"… et {len(entries) - MAX_LISTED} autres CPTS (liste complète : rapport.html, rapport.xlsx)")
    if not entries and len(data.cpts):
        lines = [f"{len(data.cpts)} CPTS, trop nombreuses pour être numérotées à cette échelle :",
                 "liste complète dans rapport.html et rapport.xlsx ;", "carte.html les nomme en zoomant."]
    y0 = 1 - 0.055 * (len(handles) + 1)
    size = 10 if len(lines) <= 26 else 8 if len(lines) <= 34 else 6.5
    side.text(0, y0, "CPTS", fontsize=11.5, fontweight="bold", va="top", transform=side.transAxes)
    side.text(0, y0 - 0.04, "\n".join(lines), fontsize=size, va="top", transform=side.transAxes, linespacing=1.3,
              parse_math=False)

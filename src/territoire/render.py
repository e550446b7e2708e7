"""Maps for the CTS: interactive HTML (folium) and static PNG (matplotlib), same symbology.

Inputs are plain tables (as written by ``analyse`` and ``planifier``), so a
map can be redrawn from saved results; outlines come from the reference,
simplified once as a coverage (shared borders stay shared, no gaps open) and
rounded to 1e-5 degree (about a metre).
"""

from __future__ import annotations

import html
import io
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import branca.element
import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import escaping, reference, settings
from .formats import nombre as fmt
from .formats import pourcentage
from .models import Audit, Plan

JOIN = " | "

#: Maturity colours: a sequential, colour-blind-safe scale (viridis steps).
STATUS_COLOURS = {
    "en_projet": "#fde725",
    "lettre_intention": "#5ec962",
    "projet_sante": "#21918c",
    "signataire_aci": "#3b528b",
    settings.STATUS_UNKNOWN: "#b0b0b0",
}
WHITE_ZONE = {"fill": "#ffffff", "edge": "#222222"}
OVERLAP = {"fill": "#cc79a7", "edge": "#6a0035"}  # Okabe-Ito reddish purple
#: Qualitative colour-blind-safe palette (Paul Tol, "muted") for CPTS in a plan.
CPTS_PALETTE = ["#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#cc6677",
                "#882255", "#aa4499"]


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


def _memberships(communes: pd.DataFrame) -> pd.DataFrame:
    m = communes[["code_commune", "cpts"]].copy()
    m["cpts"] = m["cpts"].fillna("").astype(str).str.split(JOIN, regex=False)
    m = m.explode("cpts")
    return m[m["cpts"] != ""]


def _outlines(communes: pd.DataFrame, geoms: gpd.GeoSeries) -> gpd.GeoDataFrame:
    m = _memberships(communes)
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


def _status_label(s: object) -> str:
    return settings.STATUS_LABELS.get(str(s), "Aucune CPTS") if s not in ("", None) else "Aucune CPTS"


ACTION_LABELS = {"extension": "extension proposée", "nouvelle_cpts": "nouvelle CPTS proposée",
                 "arbitrage_chevauchement": "chevauchement à arbitrer"}


def _text(v: object) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)


def _commune_features(data: MapData, geoms: gpd.GeoSeries, colours: dict[str, str]) -> list[dict]:
    """GeoJSON features of the communes, with their style and tooltip rows (plain text)."""
    com = data.communes.sort_values("code_commune")
    geojson = shapely.to_geojson(geoms.loc[com["code_commune"]].to_numpy())
    feats = []
    for r, geom in zip(com.itertuples(index=False), geojson):
        white = bool(r.zone_blanche)
        action = _text(getattr(r, "action", "")) if data.plan else ""
        cpts = _text(r.cpts)
        if data.plan:
            fill = colours.get(cpts.split(JOIN)[0], WHITE_ZONE["fill"])
            opacity = 0.85 if action in ("extension", "nouvelle_cpts") else 0.4
        else:
            fill = WHITE_ZONE["fill"] if white else STATUS_COLOURS.get(str(r.statut), STATUS_COLOURS["inconnu"])
            opacity = 0.9 if white else 0.75
        marked = white or action == "extension"
        rows = [["Commune", _text(r.nom)], ["Code INSEE", _text(r.code_commune)],
                ["Population", fmt(r.population)], ["CPTS", cpts or "aucune (zone blanche)"],
                ["Statut", _status_label(r.statut)]]
        if data.plan:
            rows.append(["Proposition", ACTION_LABELS.get(action, "—")])
        feats.append({
            "type": "Feature", "geometry": json.loads(geom),
            "properties": {
                "kind": "commune", "code": _text(r.code_commune), "action": action,
                "cpts": cpts.split(JOIN) if cpts else [],
                "chevauchement": int(r.nb_cpts) > 1, "infobulle": rows,
                "style": {"fillColor": fill, "fillOpacity": opacity,
                          "color": "#000000" if action == "extension" else (WHITE_ZONE["edge"] if white else "#777777"),
                          "weight": 1.5 if marked else 0.4, "dashArray": "4 3" if marked else None},
            },
        })
    return feats


def _cpts_features(data: MapData, outlines: gpd.GeoDataFrame, colours: dict[str, str]) -> list[dict]:
    """GeoJSON features of the CPTS outlines, with their popup rows (plain text)."""
    info = data.cpts.set_index("cpts")
    feats = []
    for r, geom in zip(outlines.itertuples(index=False), shapely.to_geojson(outlines.geometry.to_numpy())):
        row = info.loc[r.cpts] if r.cpts in info.index else None
        new = bool(row is not None and "nouvelle" in info.columns and row["nouvelle"])

        def value(col: str, unit: str = "", number: bool = True, row: pd.Series | None = row) -> str:
            if row is None or col not in info.columns:
                return "—"
            return (fmt(row[col]) + unit) if number else (_text(row[col]) or "aucun")

        feats.append({"type": "Feature", "geometry": json.loads(geom), "properties": {
            "kind": "cpts", "cpts": r.cpts,
            "fiche": [["CPTS", r.cpts],
                      ["Statut", _status_label(row["statut"]) if row is not None else "—"],
                      ["Population", value("population")], ["Taille", value("taille", number=False)],
                      ["Financement de fonctionnement (an)", value("financement_fonctionnement", " €")],
                      ["Financement ACI maximal (an)", value("financement_max_annuel", " €")],
                      ["Communes", value("nb_communes")],
                      ["Communes en chevauchement", value("communes_en_chevauchement", number=False)]],
            "style": {"fill": False, "weight": 3, "dashArray": "8 5" if new else None,
                      "color": colours.get(r.cpts, "#111111") if data.plan else "#111111"},
        }})
    return feats


def _legend(data: MapData) -> list[dict]:
    rows: list[dict] = []

    def row(fill: str, edge: str, label: str, dash: bool = False) -> None:
        rows.append({"fond": fill, "bord": edge, "texte": label, "tirets": dash})

    if data.plan:
        row("#dddddd", "#555555", "Commune déjà dans la CPTS (couleur de la CPTS)")
        row("#888888", "#000000", "Extension proposée (couleur de la CPTS qui la reçoit)", dash=True)
        row("#888888", "#000000", "Nouvelle CPTS proposée (contour en tirets)", dash=True)
        row("#ffffff", OVERLAP["edge"], "Chevauchement arbitré")
    else:
        for s in settings.STATUSES:
            row(STATUS_COLOURS[s], "#555555", settings.STATUS_LABELS[s])
        if (data.communes["statut"] == settings.STATUS_UNKNOWN).any():
            row(STATUS_COLOURS["inconnu"], "#555555", settings.STATUS_LABELS["inconnu"])
        row(WHITE_ZONE["fill"], WHITE_ZONE["edge"], "Zone blanche (aucune CPTS)", dash=True)
        row(OVERLAP["fill"], OVERLAP["edge"], "Commune dans plusieurs CPTS (chevauchement)")
    rows.append({"ligne": "3px solid #111", "texte": "Contour et nom d'une CPTS"})
    rows.append({"ligne": "2px dashed #555", "texte": "Limite de département"})
    return rows


_CSS = """
<style>
.territoire-legende{position:fixed;bottom:60px;left:10px;z-index:1000;background:#fff;padding:8px 10px;
  border:1px solid #999;border-radius:4px;font:13px/1.4 sans-serif;max-width:340px}
.territoire-titre{position:fixed;top:10px;left:60px;z-index:1000;background:#fff;padding:6px 10px;
  border:1px solid #999;border-radius:4px;font:14px/1.4 sans-serif;max-width:60%}
.lg-row{display:flex;align-items:center;gap:6px;margin-top:3px}
.lg-box{display:inline-block;width:18px;height:12px}
.lg-line{display:inline-block;width:18px}
.cpts-nom{font:bold 12px sans-serif;color:#111;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;
  white-space:nowrap;transform:translate(-50%,-50%);display:inline-block}
.territoire-info th{text-align:left;padding-right:8px;font-weight:normal;color:#444}
.territoire-info td{font-weight:bold}
</style>
"""


def map_document(data: MapData, layers: Layers) -> dict:
    """Everything the interactive map shows, as plain data (texts are not escaped: the page sets them as text)."""
    geoms, outlines, colours = layers.geoms, layers.outlines, layers.colours
    feats = _commune_features(data, geoms, colours)
    special = [{**f, "properties": {**f["properties"], "kind": "chevauchement",
                                    "style": {"fillColor": OVERLAP["fill"], "fillOpacity": 0.0 if data.plan else 0.85,
                                              "color": OVERLAP["edge"], "weight": 3}}}
               for f in feats if f["properties"]["chevauchement"]
               or f["properties"]["action"] == "arbitrage_chevauchement"]
    labels: list[list] = []
    if len(outlines):
        info = data.cpts.set_index("cpts")
        pts = shapely.point_on_surface(outlines.geometry.to_numpy())
        pop = outlines["cpts"].map(info["population"]).fillna(0).to_numpy() if "population" in info else 0
        order = sorted(zip(-pd.Series(pop, index=outlines.index).to_numpy(), outlines["cpts"], pts),
                       key=lambda t: (t[0], t[1]))  # most populated first, then by name
        labels = [[round(p.y, 5), round(p.x, 5), n] for _, n, p in order]
    deps = gpd.GeoDataFrame({"departement": reference.units().loc[geoms.index, "departement"].to_numpy()},
                            geometry=geoms.to_numpy(), crs=geoms.crs).dissolve("departement")
    dep_feats = [{"type": "Feature", "geometry": json.loads(shapely.to_geojson(shapely.boundary(g))),
                  "properties": {"kind": "departement", "departement": d,
                                 "style": {"color": "#555555", "weight": 2, "dashArray": "6 4"}}}
                 for d, g in zip(deps.index, deps.geometry)]
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms.to_numpy())
    return {
        "titre": data.titre, "sous_titre": data.sous_titre, "plan": data.plan,
        "couches": {"communes": "Communes" + (" (CPTS proposée)" if data.plan else " (statut de la CPTS)"),
                    "chevauchements": "Chevauchements" + (" arbitrés" if data.plan else ""),
                    "cpts": "Contours des CPTS", "noms": "Noms des CPTS", "departements": "Départements"},
        "communes": {"type": "FeatureCollection", "features": feats},
        "chevauchements": {"type": "FeatureCollection", "features": special},
        "cpts": {"type": "FeatureCollection", "features": _cpts_features(data, outlines, colours)},
        "noms": labels,
        "departements": {"type": "FeatureCollection", "features": dep_feats},
        "legende": _legend(data),
        "bornes": [[float(ymin), float(xmin)], [float(ymax), float(xmax)]],
    }


def _deterministic_ids(text: str) -> str:
    """Folium names elements with random UUIDs: renumber them so reruns give identical files.

    Applied to the folium skeleton only, which holds no text from the inputs.
    """
    seen: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        return seen.setdefault(m.group(0), f"{len(seen) + 1:032x}")

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", repl, text)


def _static(name: str) -> str:
    return (resources.files("territoire") / "static" / name).read_text(encoding="utf-8")


def _offline_assets() -> str:
    return f"<style>{_static('leaflet.css')}</style>\n<script>{_static('leaflet.js')}</script>"


@dataclass
class Layers:
    """Display geometries shared by the HTML and PNG maps (computed once per map)."""

    geoms: gpd.GeoSeries
    outlines: gpd.GeoDataFrame
    colours: dict[str, str]


def prepare(data: MapData) -> Layers:
    """Simplified outlines of the communes and CPTS of a map, and the CPTS colours."""
    geoms = display_geometries(pd.Index(data.communes["code_commune"]))
    outlines = _outlines(data.communes, geoms)
    colours = cpts_colours(data.communes, outlines) if len(outlines) else {}
    return Layers(geoms, outlines, colours)


def map_html(data: MapData, hors_ligne: bool = False, layers: Layers | None = None) -> str:
    """The interactive map as one HTML document.

    folium renders the page skeleton (map, scale), which holds no text from
    the inputs; what the map shows is one JSON data island (see
    :func:`territoire.escaping.json_for_script`) drawn by ``static/carte.js``,
    which sets every text from the inputs as text. No input text ever reaches
    a template engine or the HTML parser.

    With ``hors_ligne``, Leaflet is embedded and no tile layer is used: the
    file works with no network at all. Otherwise Leaflet comes from the usual
    CDN and a light background is loaded; vector layers do not depend on it.
    """
    layers = layers or prepare(data)
    m = folium.Map(tiles=None if hors_ligne else "OpenStreetMap", control_scale=True, prefer_canvas=True,
                   attribution_control=True)
    root = m.get_root()
    assert isinstance(root, branca.element.Figure)
    if hors_ligne:
        m.default_js, m.default_css = [], []
        root.header.add_child(folium.Element(_offline_assets()))
    root.header.add_child(folium.Element(_CSS))
    skeleton = _deterministic_ids(root.render())
    head, sep, tail = skeleton.partition("<head>")
    skeleton = f"{head}{sep}\n<title>{html.escape(data.titre)}</title>{tail}"
    page, sep, end = skeleton.rpartition("</html>")
    data_island = escaping.json_for_script(map_document(data, layers))
    return (f'{page}<script type="application/json" id="territoire-donnees">{data_island}</script>\n'
            f"<script>{_static('carte.js')}</script>\n{sep}{end}")


def map_png(data: MapData, width_in: float = 11.0, layers: Layers | None = None) -> bytes:
    """The static map (PNG) with the symbology of the interactive map."""
    # An explicit Agg figure: pyplot's global state and the caller's backend are left alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.patheffects import withStroke

    layers = layers or prepare(data)
    geoms, outlines, colours = layers.geoms, layers.outlines, layers.colours
    com = data.communes.set_index("code_commune").loc[geoms.index]
    gdf = gpd.GeoDataFrame(com, geometry=geoms.to_numpy(), crs=geoms.crs).to_crs(3857)
    if data.plan:
        first = gdf["cpts"].fillna("").str.split(JOIN, regex=False).str[0]
        gdf["fill"] = first.map(colours).fillna(WHITE_ZONE["fill"])
        changed = gdf.get("action", pd.Series("", index=gdf.index)).isin(["extension", "nouvelle_cpts"])
    else:
        gdf["fill"] = np.where(gdf["zone_blanche"].astype(bool), WHITE_ZONE["fill"],
                               gdf["statut"].map(STATUS_COLOURS).fillna(STATUS_COLOURS["inconnu"]))
        changed = pd.Series(False, index=gdf.index)
    fig = Figure(figsize=(width_in, width_in * 0.8), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    gdf.plot(ax=ax, color=gdf["fill"], edgecolor="#888888", linewidth=0.2, alpha=0.85)
    white = gdf[gdf["zone_blanche"].astype(bool)]
    if len(white):
        white.plot(ax=ax, facecolor="none", edgecolor=WHITE_ZONE["edge"], linewidth=0.8, linestyle="--")
    if changed.any():
        gdf[changed].plot(ax=ax, facecolor="none", edgecolor="#000000", linewidth=0.8, linestyle="--")
    over = gdf[gdf["nb_cpts"].astype(int) > 1]
    if len(over):
        over.plot(ax=ax, color=OVERLAP["fill"], edgecolor=OVERLAP["edge"], linewidth=1.5)
    if len(outlines):
        ol = outlines.to_crs(3857)
        ol.boundary.plot(ax=ax, color=[colours[c] for c in ol["cpts"]] if data.plan else "#111111", linewidth=1.6)
        if len(ol) <= 80:
            for name, p in zip(ol["cpts"], shapely.point_on_surface(ol.geometry.to_numpy())):
                ax.annotate(escaping.plain_text(name), (p.x, p.y), ha="center", va="center", fontsize=7,
                            fontweight="bold", parse_math=False,
                            path_effects=[withStroke(linewidth=2.5, foreground="white")])
    handles = ([Patch(facecolor=STATUS_COLOURS[s], edgecolor="#555555", label=settings.STATUS_LABELS[s])
                for s in settings.STATUSES] + [
        Patch(facecolor=WHITE_ZONE["fill"], edgecolor=WHITE_ZONE["edge"], linestyle="--", label="Zone blanche"),
        Patch(facecolor=OVERLAP["fill"], edgecolor=OVERLAP["edge"], label="Chevauchement")]
        if not data.plan else [
        Patch(facecolor="#cccccc", edgecolor="#555555", label="Périmètre proposé (couleur par CPTS)"),
        Patch(facecolor="#888888", edgecolor="#000000", linestyle="--", label="Extension ou nouvelle CPTS")])
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    ax.set_title(escaping.plain_text(f"{data.titre}\n{data.sous_titre}"), fontsize=10, parse_math=False)
    ax.set_axis_off()
    buf = io.BytesIO()
    with warnings.catch_warnings():  # a glyph missing from the font is not the user's concern
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


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


def audit_subtitle(s: Mapping[str, Any]) -> str:
    """Subtitle of an audit map: coverage, population vintage, COG, sources."""
    return (f"Couverture {pourcentage(s['taux_couverture'])} ; population : {s['millesime_population']} ; COG {s['cog']} ; "
            "contours IGN ADMIN EXPRESS")


def audit_map_data(audit: Audit, titre: str | None = None) -> MapData:
    """Map content of an audit (from the API object)."""
    s = audit.synthese
    return MapData(
        communes=pd.DataFrame(audit.communes.drop(columns="geometry")),
        cpts=audit.cpts,
        titre=titre or f"CPTS et zones blanches — département(s) {', '.join(s['perimetre'])}",
        sous_titre=audit_subtitle(s),
    )


def plan_map_data(plan: Plan, titre: str | None = None) -> MapData:
    """Map content of a plan: the proposed perimeters with each proposal."""
    com = pd.DataFrame(plan.apres.communes.drop(columns="geometry"))
    actions = plan.propositions.drop_duplicates("code_commune").set_index("code_commune")["action"]
    com["action"] = com["code_commune"].map(actions).fillna("")
    scen = plan.scenario
    cpts = plan.apres.cpts.copy()
    cpts["nouvelle"] = cpts["cpts"].map({r["cpts"]: r["nouvelle"] for r in scen["cpts"]}).fillna(False)
    return MapData(
        communes=com, cpts=cpts, plan=True,
        titre=titre or plan_title(scen), sous_titre=plan_subtitle(scen),
    )


def plan_title(scen: Mapping[str, Any]) -> str:
    """Title of a plan map."""
    return f"Plan 100 % CPTS — propositions, département(s) {', '.join(scen['perimetre'])}"


def plan_subtitle(scen: Mapping[str, Any]) -> str:
    """Subtitle of a plan map: proposals, population vintage, COG."""
    return (f"{scen['nb_communes_extension']} extension(s), {scen['nb_nouvelles_cpts']} nouvelle(s) CPTS, "
            f"{scen['nb_arbitrages_chevauchement']} arbitrage(s) ; population : "
            f"{scen['millesime_population']} ; COG {reference.metadata()['cog']}")

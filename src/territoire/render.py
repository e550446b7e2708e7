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
from dataclasses import dataclass
from importlib import resources

import folium
import geopandas as gpd
import jinja2
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import reference, settings

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


def fmt(n: object) -> str:
    if n is None or (isinstance(n, float) and np.isnan(n)) or n is pd.NA:
        return "—"
    return f"{int(round(float(n))):,}".replace(",", "\u202f")


def esc(value: object) -> str:
    """Text from input files, made safe for HTML (shown as text, never run)."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


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


def _features(data: MapData, geoms: gpd.GeoSeries, colours: dict[str, str],
              overlaps: set[str]) -> list[dict]:
    """GeoJSON features of the communes; fills ``overlaps`` with the codes in several CPTS."""
    feats = []
    com = data.communes.sort_values("code_commune")
    geojson = dict(zip(com["code_commune"], shapely.to_geojson(geoms.loc[com["code_commune"]].to_numpy())))
    for r in com.itertuples(index=False):
        white = bool(r.zone_blanche)
        overlap = int(r.nb_cpts) > 1
        action = getattr(r, "action", "") if data.plan else ""
        action = "" if action is None or (isinstance(action, float)) else action
        if data.plan:
            first = str(r.cpts).split(JOIN)[0] if r.cpts else ""
            fill = colours.get(first, WHITE_ZONE["fill"])
            opacity = 0.85 if action in ("extension", "nouvelle_cpts") else 0.4
        else:
            fill = WHITE_ZONE["fill"] if white else STATUS_COLOURS.get(str(r.statut), STATUS_COLOURS["inconnu"])
            opacity = 0.9 if white else 0.75
        feats.append({
            "type": "Feature",
            "geometry": json.loads(geojson[r.code_commune]),
            "properties": {
                "kind": "commune", "code": esc(r.code_commune), "nom": esc(r.nom),
                "population": fmt(r.population), "cpts": esc(r.cpts) if r.cpts else "aucune (zone blanche)",
                "statut": esc(_status_label(r.statut)), "fill": fill, "opacity": opacity,
                "blanche": white, "action": action,
                **({"action_label": {"extension": "extension proposée", "nouvelle_cpts": "nouvelle CPTS proposée",
                                     "arbitrage_chevauchement": "chevauchement à arbitrer"}.get(action, "—")}
                   if data.plan else {}),
            },
        })
        if overlap:
            overlaps.add(r.code_commune)
    return feats


_CHECK_SCRIPT = """
<script>
window.__erreurs = [];
window.addEventListener('error', function (e) { window.__erreurs.push(String(e.message)); });
window.addEventListener('load', function () {
  setTimeout(function () {
    var kinds = {commune: {}, cpts: {}};
    Object.keys(window).forEach(function (k) {
      var v = window[k];
      if (v && window.L && v instanceof L.Map) {
        v.eachLayer(function (l) {
          var p = l.feature && l.feature.properties;
          if (p && kinds[p.kind]) { kinds[p.kind][p.code || p.cpts] = 1; }
        });
      }
    });
    var el = document.getElementById('etat-carte');
    el.setAttribute('data-communes', Object.keys(kinds.commune).length);
    el.setAttribute('data-cpts', Object.keys(kinds.cpts).length);
    // Names of CPTS on screen, and how many of them overlap another (the map hides those).
    var shown = Array.prototype.filter.call(document.querySelectorAll('.cpts-nom'), function (n) {
      return n.style.visibility !== 'hidden';
    }).map(function (n) { return n.getBoundingClientRect(); });
    var clash = 0;
    shown.forEach(function (r, i) {
      shown.slice(i + 1).forEach(function (p) {
        if (r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top) { clash += 1; }
      });
    });
    el.setAttribute('data-noms', shown.length);
    el.setAttribute('data-noms-chevauchants', clash);
    el.setAttribute('data-erreurs', window.__erreurs.join(' / '));
    el.setAttribute('data-pret', '1');
  }, 300);
});
</script>
"""


def _legend(data: MapData, colours: dict[str, str]) -> str:
    rows = []

    def row(fill: str, edge: str, label: str, dash: bool = False) -> None:
        style = f"background:{fill};border:2px {'dashed' if dash else 'solid'} {edge};"
        rows.append(f'<div class="lg-row"><span class="lg-box" style="{style}"></span>{esc(label)}</div>')

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
    rows.append('<div class="lg-row"><span class="lg-line"></span>Contour et nom d\'une CPTS</div>')
    rows.append('<div class="lg-row"><span class="lg-line dep"></span>Limite de département</div>')
    return (
        '<div class="territoire-legende"><b>Légende</b>' + "".join(rows) + "</div>"
        '<div class="territoire-titre"><b>' + esc(data.titre) + "</b><br>" + esc(data.sous_titre) + "</div>"
        '<div id="etat-carte" hidden></div>'
    )


_CSS = """
<style>
.territoire-legende{position:fixed;bottom:60px;left:10px;z-index:1000;background:#fff;padding:8px 10px;
  border:1px solid #999;border-radius:4px;font:13px/1.4 sans-serif;max-width:340px}
.territoire-titre{position:fixed;top:10px;left:60px;z-index:1000;background:#fff;padding:6px 10px;
  border:1px solid #999;border-radius:4px;font:14px/1.4 sans-serif;max-width:60%}
.lg-row{display:flex;align-items:center;gap:6px;margin-top:3px}
.lg-box{display:inline-block;width:18px;height:12px}
.lg-line{display:inline-block;width:18px;border-top:3px solid #111}
.lg-line.dep{border-top:2px dashed #555}
.cpts-nom{font:bold 12px sans-serif;color:#111;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;
  white-space:nowrap;transform:translate(-50%,-50%);display:inline-block}
</style>
"""


class _Labels(folium.MacroElement):
    """CPTS names drawn as text, without overlaps.

    One script for all names (a folium Marker per name costs a template
    each). After each zoom or move, names are placed in the given order
    (most populated CPTS first) and a name that would overlap one already
    placed is hidden: zooming in shows more of them.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var layer = {{ this._parent.get_name() }}, marks = [];
            {{ this.labels_json }}.forEach(function (l) {
                marks.push(L.marker([l[0], l[1]], {icon: L.divIcon({className: "", iconSize: [0, 0],
                    html: '<span class="cpts-nom">' + l[2] + '</span>'}), interactive: false}).addTo(layer));
            });
            function declutter() {
                var placed = [];
                marks.forEach(function (m) {
                    var el = m.getElement(), span = el && el.firstChild;
                    if (!span) { return; }
                    span.style.visibility = "visible";
                    var r = span.getBoundingClientRect();
                    var hit = placed.some(function (p) {
                        return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
                    });
                    if (hit) { span.style.visibility = "hidden"; } else { placed.push(r); }
                });
            }
            var map = {{ this._parent._parent.get_name() }};
            map.on("zoomend moveend overlayadd", declutter);
            map.whenReady(function () { setTimeout(declutter, 0); });
        })();
        {% endmacro %}
    """)

    def __init__(self, labels: list[list]) -> None:
        super().__init__()
        self._name = "Labels"
        # Names are HTML-escaped already; "<" cannot appear, so the JSON cannot close the script.
        self.labels_json = json.dumps(labels, ensure_ascii=False)


def _deterministic_ids(text: str) -> str:
    """folium names elements with random UUIDs: renumber them so reruns give identical files."""
    seen: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        return seen.setdefault(m.group(0), f"{len(seen) + 1:032x}")

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", repl, text)


def _offline_assets() -> str:
    static = resources.files("territoire") / "static"
    js = (static / "leaflet.js").read_text(encoding="utf-8")
    css = (static / "leaflet.css").read_text(encoding="utf-8")
    return f"<style>{css}</style>\n<script>{js}</script>"


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

    With ``hors_ligne``, Leaflet is embedded and no tile layer is used: the
    file works with no network at all. Otherwise Leaflet comes from the usual
    CDN and a light background is loaded; vector layers do not depend on it.
    """
    layers = layers or prepare(data)
    geoms, outlines, colours = layers.geoms, layers.outlines, layers.colours
    info = data.cpts.set_index("cpts")

    m = folium.Map(tiles=None if hors_ligne else "OpenStreetMap", control_scale=True, prefer_canvas=True,
                   attribution_control=True)
    if hors_ligne:
        m.default_js, m.default_css = [], []
        m.get_root().header.add_child(folium.Element(_offline_assets()))
    m.get_root().header.add_child(folium.Element(_CHECK_SCRIPT + _CSS))

    overlaps: set[str] = set()
    feats = _features(data, geoms, colours, overlaps)
    com_layer = folium.FeatureGroup(name="Communes" + (" (CPTS proposée)" if data.plan else " (statut de la CPTS)"))
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats},
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"], "fillOpacity": f["properties"]["opacity"],
            "color": "#000000" if f["properties"]["action"] == "extension"
            else (WHITE_ZONE["edge"] if f["properties"]["blanche"] else "#777777"),
            "weight": 1.5 if f["properties"]["blanche"] or f["properties"]["action"] == "extension" else 0.4,
            "dashArray": "4 3" if f["properties"]["blanche"] or f["properties"]["action"] == "extension" else None,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["nom", "code", "population", "cpts", "statut"] + (["action_label"] if data.plan else []),
            aliases=["Commune", "Code INSEE", "Population", "CPTS", "Statut"] + (["Proposition"] if data.plan else []),
            sticky=True),
        name="communes",
    ).add_to(com_layer)
    com_layer.add_to(m)

    special = [f for f in feats if f["properties"]["code"] in overlaps
               or f["properties"]["action"] == "arbitrage_chevauchement"]
    if special:
        over = folium.FeatureGroup(name="Chevauchements" + (" arbitrés" if data.plan else ""))
        folium.GeoJson({"type": "FeatureCollection",
                        "features": [{**f, "properties": {**f["properties"], "kind": "chevauchement"}} for f in special]},
                       style_function=lambda f: {"fillColor": OVERLAP["fill"], "fillOpacity": 0.0 if data.plan else 0.85,
                                                 "color": OVERLAP["edge"], "weight": 3},
                       tooltip=folium.GeoJsonTooltip(fields=["nom", "code", "population", "cpts"],
                                                     aliases=["Commune", "Code INSEE", "Population", "CPTS"], sticky=True),
                       ).add_to(over)
        over.add_to(m)

    if len(outlines):
        cp = folium.FeatureGroup(name="Contours des CPTS")
        cfeats = []
        for r in outlines.itertuples(index=False):
            row = info.loc[r.cpts] if r.cpts in info.index else None
            new = bool(row is not None and "nouvelle" in info.columns and row["nouvelle"])
            cfeats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(r.geometry)), "properties": {
                "kind": "cpts", "cpts": esc(r.cpts), "colour": colours.get(r.cpts, "#111111") if data.plan else "#111111",
                "nouvelle": new,
                "statut": esc(_status_label(row["statut"])) if row is not None else "—",
                "population": fmt(row["population"]) if row is not None else "—",
                "taille": str(row["taille"]) if row is not None else "—",
                "fonctionnement": (fmt(row["financement_fonctionnement"]) + " €") if row is not None else "—",
                "maximum": (fmt(row["financement_max_annuel"]) + " €") if row is not None else "—",
                "nb_communes": str(row["nb_communes"]) if row is not None else "—",
                "chevauchements": esc(row["communes_en_chevauchement"] or "aucun") if row is not None
                and isinstance(row.get("communes_en_chevauchement", ""), str) else "aucun",
            }})
        folium.GeoJson({"type": "FeatureCollection", "features": cfeats},
                       style_function=lambda f: {"fill": True, "fillOpacity": 0, "color": f["properties"]["colour"],
                                                 "weight": 3, "dashArray": "8 5" if f["properties"]["nouvelle"] else None},
                       popup=folium.GeoJsonPopup(
                           fields=["cpts", "statut", "population", "taille", "fonctionnement", "maximum",
                                   "nb_communes", "chevauchements"],
                           aliases=["CPTS", "Statut", "Population", "Taille", "Financement de fonctionnement (an)",
                                    "Financement ACI maximal (an)", "Communes", "Communes en chevauchement"]),
                       ).add_to(cp)
        cp.add_to(m)
        names = folium.FeatureGroup(name="Noms des CPTS")
        pts = shapely.point_on_surface(outlines.geometry.to_numpy())
        pop = outlines["cpts"].map(info["population"]).fillna(0).to_numpy() if "population" in info else 0
        labels = sorted(zip(-pd.Series(pop, index=outlines.index).to_numpy(), outlines["cpts"], pts),
                        key=lambda t: (t[0], t[1]))  # most populated first, then by name
        _Labels([[round(p.y, 5), round(p.x, 5), esc(n)] for _, n, p in labels]).add_to(names)
        names.add_to(m)

    deps = gpd.GeoDataFrame({"departement": reference.units().loc[geoms.index, "departement"].to_numpy()},
                            geometry=geoms.to_numpy(), crs=geoms.crs).dissolve("departement")
    dep_feats = [{"type": "Feature", "geometry": json.loads(shapely.to_geojson(shapely.boundary(g))),
                  "properties": {"kind": "departement", "departement": esc(d)}}
                 for d, g in zip(deps.index, deps.geometry)]
    dl = folium.FeatureGroup(name="Départements")
    folium.GeoJson({"type": "FeatureCollection", "features": dep_feats},
                   style_function=lambda f: {"color": "#555555", "weight": 2, "dashArray": "6 4"}).add_to(dl)
    dl.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms.to_numpy())
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    m.get_root().html.add_child(folium.Element(_legend(data, colours)))
    m.get_root().title = data.titre
    return _deterministic_ids(m.get_root().render())


def map_png(data: MapData, width_in: float = 11.0, layers: Layers | None = None) -> bytes:
    """The static map (PNG) with the symbology of the interactive map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

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
    fig, ax = plt.subplots(figsize=(width_in, width_in * 0.8), dpi=110)
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
                ax.annotate(name, (p.x, p.y), ha="center", va="center", fontsize=7, fontweight="bold",
                            path_effects=[__import__("matplotlib.patheffects", fromlist=["x"]).withStroke(
                                linewidth=2.5, foreground="white")])
    handles = ([Patch(facecolor=STATUS_COLOURS[s], edgecolor="#555555", label=settings.STATUS_LABELS[s])
                for s in settings.STATUSES] + [
        Patch(facecolor=WHITE_ZONE["fill"], edgecolor=WHITE_ZONE["edge"], linestyle="--", label="Zone blanche"),
        Patch(facecolor=OVERLAP["fill"], edgecolor=OVERLAP["edge"], label="Chevauchement")]
        if not data.plan else [
        Patch(facecolor="#cccccc", edgecolor="#555555", label="Périmètre proposé (couleur par CPTS)"),
        Patch(facecolor="#888888", edgecolor="#000000", linestyle="--", label="Extension ou nouvelle CPTS")])
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    ax.set_title(f"{data.titre}\n{data.sous_titre}", fontsize=10)
    ax.set_axis_off()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
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


def audit_subtitle(s: dict) -> str:
    rate = f"{s['taux_couverture'] * 100:.1f}".replace(".", ",")
    return (f"Couverture {rate} % ; population : {s['millesime_population']} ; COG {s['cog']} ; "
            "contours IGN ADMIN EXPRESS")


def audit_map_data(audit, titre: str | None = None) -> MapData:
    """Map content of an audit (from the API object)."""
    s = audit.synthese
    return MapData(
        communes=pd.DataFrame(audit.communes.drop(columns="geometry")),
        cpts=audit.cpts,
        titre=titre or f"CPTS et zones blanches — département(s) {', '.join(s['perimetre'])}",
        sous_titre=audit_subtitle(s),
    )


def plan_map_data(plan, titre: str | None = None) -> MapData:
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


def plan_title(scen: dict) -> str:
    return f"Plan 100 % CPTS — propositions, département(s) {', '.join(scen['perimetre'])}"


def plan_subtitle(scen: dict) -> str:
    return (f"{scen['nb_communes_extension']} extension(s), {scen['nb_nouvelles_cpts']} nouvelle(s) CPTS, "
            f"{scen['nb_arbitrages_chevauchement']} arbitrage(s) ; population : "
            f"{scen['millesime_population']} ; COG {reference.metadata()['cog']}")

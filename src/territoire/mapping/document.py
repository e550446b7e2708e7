"""What the interactive map shows, as one plain-data document (the JSON island drawn by ``static/carte.js``).

Texts from the inputs (names of CPTS and communes) are left as they are: the
page sets them with ``textContent``. Geometry is compact (see
:mod:`territoire.mapping.encode`); communes are grouped by département so a
national map decodes and draws them only where the reader zooms in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import reference, settings
from . import style
from .encode import encode
from .titles import OVERSEAS, SOURCES, nbsp_number

if TYPE_CHECKING:
    from ..render import Layers, MapData

JOIN = " | "
#: Above this many communes a map is "large": commune detail appears on zoom, coordinates to about 10 m.
LARGE = 3000
DETAIL_ZOOM = 9
ACTION_LABELS = settings.ACTION_LABELS


def _text(v: object) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)


def _bounds(geoms: np.ndarray) -> list[list[list[float]]]:
    b = shapely.bounds(geoms)
    return [[[round(s, 4), round(w, 4)], [round(n, 4), round(e, 4)]] for w, s, e, n in b]


def label_points(geoms: np.ndarray) -> np.ndarray:
    """Where a label sits best: the centre of the largest inscribed circle (visual centre)."""
    tol = np.maximum(np.sqrt(shapely.area(geoms)) / 50, 1e-5)
    centre = shapely.get_point(shapely.maximum_inscribed_circle(geoms, tol), 0)
    ok = ~shapely.is_empty(centre) & shapely.is_valid(centre)
    return np.where(ok, centre, shapely.point_on_surface(geoms))


def _latlon(points: np.ndarray) -> list[list[float]]:
    return [[round(y, 5), round(x, 5)] for x, y in shapely.get_coordinates(points)]


def _status(s: object) -> str:
    return settings.STATUS_LABELS.get(str(s), "Aucune CPTS") if _text(s) else "Aucune CPTS"


def _names(codes: str, names: dict[str, str]) -> str:
    codes = _text(codes)
    return ", ".join(names.get(c, c) for c in codes.split(JOIN)) if codes else "aucune"


def nested(communes: pd.DataFrame, members: pd.DataFrame) -> set[str]:
    """CPTS every commune of which also belongs to another CPTS (drawn inset so they can be seen)."""
    shared = members["code_commune"].map(communes.set_index("code_commune")["nb_cpts"]).fillna(1) > 1
    return set(shared.groupby(members["cpts"]).all().loc[lambda s: s].index)


def cpts_entries(data: MapData, layers: Layers, names: dict[str, str]) -> tuple[list[dict], np.ndarray]:
    """One entry per CPTS, numbered in alphabetical order, and the outlines to draw."""
    from ..render import memberships

    info = data.cpts.set_index("cpts")
    from ..harmonise import name_key

    # Alphabetical as a reader sorts: accents and case aside (« Étampes » among the E).
    out = layers.outlines.sort_values("cpts", key=lambda s: s.map(name_key)).reset_index(drop=True)
    geoms = out.geometry.to_numpy()
    inner = nested(data.communes, memberships(data))
    is_inner = out["cpts"].isin(inner).to_numpy()
    # A nested CPTS is drawn slightly inside its communes; its host is labelled outside it.
    inset = np.minimum(0.003, np.sqrt(shapely.area(geoms)) * 0.04)
    shrunk = shapely.buffer(geoms, -inset, join_style="mitre")
    drawn = np.where(is_inner & ~shapely.is_empty(shrunk), shrunk, geoms)
    inner_union = shapely.union_all(drawn[is_inner]) if is_inner.any() else None
    room = geoms if inner_union is None else np.where(
        is_inner, drawn, shapely.difference(geoms, shapely.buffer(inner_union, 0.001)))
    room = np.where(shapely.is_empty(room) | (shapely.area(room) < 1e-8), geoms, room)
    points = _latlon(label_points(room))
    bounds = _bounds(geoms)
    entries = []
    for i, name in enumerate(out["cpts"]):
        row = info.loc[name] if name in info.index else pd.Series(dtype=object)
        colour = layers.colours.get(name, style.CPTS_EDGE) if data.plan else style.CPTS_EDGE
        fill = (layers.colours.get(name, "#888888") if data.plan
                else style.STATUS_FILLS.get(_text(row.get("statut")), style.STATUS_FILLS["inconnu"]))
        pop = row.get("population")
        entries.append({"nom": name, "numero": i + 1, "point": points[i], "bornes": bounds[i],
                        "population": int(pop) if pop is not None and pop == pop else 0,
                        "contour": colour, "remplissage": fill, "imbriquee": bool(is_inner[i]),
                        "nouvelle": _is_new(row),
                        **_cpts_texts(row, data.plan, names)})
    return entries, drawn


def _is_new(row: pd.Series) -> bool:
    v = row.get("nouvelle", False)
    return bool(v) if v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v)) else False


def _cpts_texts(row: pd.Series, plan: bool, names: dict[str, str]) -> dict:
    """The side panel's summary line and the popup's rows of one CPTS."""
    pop, taille = nbsp_number(row.get("population")), nbsp_number(row.get("taille"))
    status = _status(row.get("statut"))
    new = _is_new(row)
    if plan and not new and "population_avant" in row.index:
        before_pop, before_t = nbsp_number(row.get("population_avant")), nbsp_number(row.get("taille_avant"))
        resume = f"{before_pop} → {pop} hab. · taille {before_t} → {taille}"
        fiche = [["Population", f"{before_pop} → {pop} hab."], ["Taille", f"{before_t} → {taille}"],
                 ["Financement ACI maximal", f"{nbsp_number(row.get('financement_max_avant'))} € → "
                                             f"{nbsp_number(row.get('financement_max_annuel'))} € par an"]]
    else:
        resume = ("Nouvelle CPTS proposée · " if new else "") + f"{pop} hab. · taille {taille}"
        fiche = [["Population", f"{pop} hab."], ["Taille", taille],
                 ["Financement ACI maximal", f"{nbsp_number(row.get('financement_max_annuel'))} € par an"]]
    if not new:
        resume += f" · {status}"
        fiche.insert(0, ["Statut", status])
    else:
        fiche.insert(0, ["Proposition", "Nouvelle CPTS proposée"])
    fiche += [["Financement de fonctionnement", f"{nbsp_number(row.get('financement_fonctionnement'))} € par an"],
              ["Communes", nbsp_number(row.get("nb_communes"))],
              ["Communes partagées avec une autre CPTS", _names(row.get("communes_en_chevauchement"), names)]]
    fiche += [[c.removeprefix("indicateur_"), _indicator(row[c])] for c in row.index if c.startswith("indicateur_")]
    return {"resume": resume, "fiche": fiche}


def _indicator(value: object) -> str:
    """An indicator in a popup: « secret statistique », a rate as a percentage (a share under 1), else a count."""
    if value == "secret":
        return "secret statistique"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, float) and 0 < value < 1:
        return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"
    return nbsp_number(value)


def zone_entries(com: pd.DataFrame, geoms: gpd.GeoSeries) -> tuple[list[dict], np.ndarray]:
    """One entry per white zone (id, communes, inhabitants) and its outline."""
    white = com[com["zone_blanche"].astype(bool) & (com["zone_blanche_id"].fillna("").astype(str) != "")]
    if white.empty:
        return [], np.array([], dtype=object)
    g = gpd.GeoDataFrame({"zone": white["zone_blanche_id"].astype(str).to_numpy(),
                          "population": white["population"].fillna(0).to_numpy()},
                         geometry=geoms.loc[white["code_commune"]].to_numpy(), crs=geoms.crs)
    z = g.dissolve("zone", aggfunc={"population": "sum"}).sort_index()
    z["n"] = g.groupby("zone").size()
    shapes = z.geometry.to_numpy()
    points, bounds = _latlon(label_points(shapes)), _bounds(shapes)
    entries = [{"id": zid, "communes": int(n), "population": int(p),
                "texte": f"{zid} : {n} commune{'s' if n > 1 else ''}, {nbsp_number(p)} hab.",
                "point": points[i], "bornes": bounds[i]}
               for i, (zid, n, p) in enumerate(zip(z.index, z["n"], z["population"]))]
    return entries, shapes


def _views(com: pd.DataFrame, geoms: gpd.GeoSeries) -> list[dict]:
    """The default view first: métropole when the map also holds overseas départements."""
    dep = com["departement"].astype(str)
    overseas = dep.str.startswith("97")
    views = []
    if overseas.any() and (~overseas).any():
        views.append({"nom": "Métropole", "bornes": _bounds(
            np.array([shapely.box(*shapely.total_bounds(geoms.loc[com.loc[~overseas, "code_commune"]]))]))[0]})
        for code in sorted(dep[overseas].unique()):
            sel = geoms.loc[com.loc[dep == code, "code_commune"]].to_numpy()
            views.append({"nom": OVERSEAS.get(code, code),
                          "bornes": _bounds(np.array([shapely.box(*shapely.total_bounds(sel))]))[0]})
    else:
        views.append({"nom": "Tout", "bornes": _bounds(np.array([shapely.box(*shapely.total_bounds(
            geoms.to_numpy()))]))[0]})
    return views


def _commune_columns(data: MapData, com: pd.DataFrame, geoms: gpd.GeoSeries, numbers: dict[str, int],
                     colours: dict[str, str], zones: dict[str, int], scale: float) -> dict:
    """The communes as columns (one list per attribute), in the order of their département groups."""
    statuses = list(settings.STATUSES) + [settings.STATUS_UNKNOWN]
    cpts_lists = data.cpts_lists(com)
    members = [[numbers[n] for n in names if n in numbers] for names in cpts_lists]
    parts = [[p for n, p in zip(names, labels) if n in numbers] if labels else []
             for names, labels in zip(cpts_lists, _parts(com))]
    shared = _shared_mask(com).astype(int).tolist()
    if data.plan:
        tint_of = {c: i for i, c in enumerate(style.PLAN_PALETTE)}
        first = [colours.get(n[0], "") if n and n[0] else "" for n in cpts_lists]
        tint = [tint_of.get(c, -1) for c in first]
        action = com.get("action", pd.Series("", index=com.index)).fillna("").astype(str)
        actions = list(ACTION_LABELS)
        action_idx = [actions.index(a) if a in ACTION_LABELS else -1 for a in action]
    else:
        tint = [statuses.index(s) if s in statuses else -1 for s in com["statut"].fillna("").astype(str)]
        action_idx = []
    pts = shapely.point_on_surface(geoms.loc[com["code_commune"]].to_numpy())
    xy = np.round(shapely.get_coordinates(pts) * scale).astype(np.int64)
    return {
        "code": com["code_commune"].astype(str).tolist(), "nom": com["nom"].map(_text).tolist(),
        "pop": com["population"].fillna(-1).round().astype(np.int64).tolist(),
        "statut": [statuses.index(s) if s in statuses else -1 for s in com["statut"].fillna("").astype(str)],
        "cpts": members, "parts": parts, "partagee": shared, "teinte": tint, "action": action_idx,
        "zone": [zones.get(z, -1) for z in com["zone_blanche_id"].fillna("").astype(str)],
        "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(),
        "geo": encode(geoms.loc[com["code_commune"]].to_numpy(), scale),
    }


def _union(s: pd.Series) -> shapely.Geometry:
    """Union of edge-to-edge outlines (fast coverage union; general union where rounding made them overlap)."""
    try:
        return shapely.coverage_union_all(s.to_numpy())
    except shapely.errors.GEOSException:
        return shapely.union_all(s.to_numpy())


def _departements(com: pd.DataFrame, geoms: gpd.GeoSeries) -> tuple[list[dict], np.ndarray]:
    dep = com["departement"].astype(str).to_numpy()
    codes, start = np.unique(dep, return_index=True)
    ends = np.r_[start[1:], len(dep)]
    names = reference.communes().drop_duplicates("departement").set_index("departement")["departement_nom"]
    shapes = gpd.GeoSeries(geoms.loc[com["code_commune"]].to_numpy(), crs=geoms.crs).groupby(dep).agg(
        _union).loc[codes].to_numpy()
    bounds = _bounds(shapes)
    return ([{"code": c, "nom": str(names.get(c, c)), "debut": int(s), "fin": int(e), "bornes": b}
             for c, s, e, b in zip(codes, start, ends, bounds)], shapes)


def _towns(com: pd.DataFrame, geoms: gpd.GeoSeries, large: bool) -> list[list]:
    """Names of the main towns, most populated first (the page shows those that fit)."""
    pop = com.set_index("code_commune")["population"].fillna(0)
    keep = pop[pop >= (10_000 if large else 3_000)].sort_values(ascending=False, kind="stable")
    keep = keep.iloc[: (1500 if large else 120)]
    pts = _latlon(shapely.point_on_surface(geoms.loc[keep.index].to_numpy()))
    names = com.set_index("code_commune")["nom"]
    return [[*p, _text(names.loc[c])] for p, c in zip(pts, keep.index)]


def map_document(data: MapData, layers: Layers, legend: list[dict]) -> dict:
    """Everything the interactive map shows, as plain data (texts unescaped: the page sets them as text)."""
    geoms = layers.geoms
    large = len(geoms) > LARGE
    scale = 1e4 if large else 1e5
    dep_of = reference.units()["departement"]
    com = data.communes.assign(departement=data.communes["code_commune"].map(dep_of).astype(str))
    com = com.sort_values(["departement", "code_commune"]).reset_index(drop=True)
    names = dict(zip(com["code_commune"].astype(str), com["nom"].map(_text)))
    cpts, cpts_geoms = cpts_entries(data, layers, names)
    zones, zone_geoms = zone_entries(com, geoms)
    deps, dep_geoms = _departements(com, geoms)
    numbers = {c["nom"]: c["numero"] for c in cpts}
    columns = _commune_columns(data, com, geoms, numbers, layers.colours, {z["id"]: i for i, z in enumerate(zones)},
                               scale)
    return {
        "titre": data.titre, "sous_titre": data.sous_titre, "sources": SOURCES, "plan": data.plan,
        "statuts": [settings.STATUS_LABELS[s] for s in (*settings.STATUSES, settings.STATUS_UNKNOWN)],
        "actions": list(ACTION_LABELS.values()),
        "teintes": style.PLAN_PALETTE if data.plan else [style.STATUS_FILLS[s] for s in (
            *settings.STATUSES, settings.STATUS_UNKNOWN)],
        "style": {"zone_bord": style.WHITE_ZONE_EDGE, "hachures": style.WHITE_ZONE_HATCH,
                  "cpts_bord": style.CPTS_EDGE, "chevauchement_bord": style.OVERLAP_EDGE,
                  "departement_bord": style.DEPARTEMENT_EDGE},
        "zoom_detail": DETAIL_ZOOM if large else 0,
        "vues": _views(com, geoms),
        "communes": columns, "departements": deps, "limites": encode(dep_geoms, scale),
        "cpts": cpts, "cpts_geo": encode(cpts_geoms, scale),
        "zones": zones, "zones_geo": encode(zone_geoms, scale),
        # Large maps: lighter outlines for the national view (filled CPTS and zones), about 1 km.
        "cpts_geo_bas": encode(shapely.simplify(cpts_geoms, 0.012), 1e3) if large else None,
        "zones_geo_bas": encode(shapely.simplify(zone_geoms, 0.012), 1e3) if large else None,
        "villes": _towns(com, geoms, large),
        "legende": legend,
    }


def _parts(com: pd.DataFrame) -> list[list[str]]:
    """The population share labels of each commune (``45 %``), in the order of its CPTS names; empty if whole."""
    col = com["parts_population"] if "parts_population" in com else pd.Series("", index=com.index)
    return [p.split(JOIN) if p else [] for p in col.fillna("").astype(str)]


def _share_value(label: str) -> float:
    try:
        return float(label.replace("\u00a0", "").replace("%", "").replace(",", ".").strip())
    except ValueError:
        return 0.0


def _shared_mask(com: pd.DataFrame) -> pd.Series:
    """Communes divided between CPTS by declared shares (not overlaps: the shares sum to 100 % or less)."""
    parts = _parts(com)
    return pd.Series([bool(p) and sum(map(_share_value, p)) <= 100.5 for p in parts], index=com.index)


def legend(data: MapData) -> list[dict]:
    """Legend rows: a swatch (fill, edge, dashes, pattern) or a line, and a French label."""
    rows: list[dict] = []

    def row(fill: str, edge: str, label: str, dash: bool = False, motif: str = "") -> None:
        rows.append({"fond": fill, "bord": edge, "texte": label, "tirets": dash, "motif": motif})

    if data.plan:
        row(style.PLAN_PALETTE[2], "#555555", "Commune restant dans sa CPTS (pâle ; une couleur par CPTS)")
        row(style.PLAN_PALETTE[2], "#000000", "Commune rattachée : extension ou nouvelle CPTS (couleur franche)")
        row("#ffffff", style.CPTS_EDGE, "Nouvelle CPTS proposée (contour en tirets)", dash=True)
        row("#ffffff", style.OVERLAP_EDGE, "Chevauchement à arbitrer (croisillons)", motif="croisillons")
    else:
        for s in settings.STATUSES:
            row(style.STATUS_FILLS[s], "#555555", settings.STATUS_LABELS[s])
        if (data.communes["statut"] == settings.STATUS_UNKNOWN).any():
            row(style.STATUS_FILLS[settings.STATUS_UNKNOWN], "#555555", settings.STATUS_LABELS["inconnu"])
        row("#ffffff", style.OVERLAP_EDGE, "Commune dans plusieurs CPTS (croisillons)", motif="croisillons")
    if _shared_mask(data.communes).any():
        row("#ffffff", style.CPTS_EDGE, "Commune partagée entre CPTS, par quartier (rayures ; parts dans l'infobulle)",
            motif="rayures")
    if data.communes["zone_blanche"].astype(bool).any() or not data.plan:
        row(style.WHITE_ZONE_FILL, style.WHITE_ZONE_EDGE, "Zone blanche : aucune CPTS (hachures, un contour par zone)",
            dash=True, motif="hachures")
    rows.append({"ligne": f"3px solid {style.CPTS_EDGE}", "texte": "Contour d'une CPTS ; son numéro renvoie à la liste"})
    rows.append({"ligne": f"2px dashed {style.DEPARTEMENT_EDGE}", "texte": "Limite de département"})
    return rows

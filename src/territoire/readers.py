"""Readers: a file as users send it becomes a raw table (or layer), nothing more.

A raw table is a DataFrame of text cells under the file's own headers, with
``_ligne`` (line number in the file) so that every later message can name
the line and the column; ``attrs["headers"]`` holds the header texts. Raw
tables from files and from frames in memory (:func:`raw_from_frame`) are
alike: :mod:`territoire.normalise` turns either into validated perimeters or
populations.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path, PurePosixPath
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd

from . import sheets, textfiles
from .errors import Journal, TerritoireError
from .normalise import detect_roles

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods"}
LAYER_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp"}
ROLES = ("cpts", "code", "commune", "statut", "departement", "population")

#: What a reader gives: a raw table and its roles, or a polygon layer.
Source: TypeAlias = "tuple[pd.DataFrame, dict[str, int]] | gpd.GeoDataFrame"


def check_file(path: Path) -> None:
    """Refuse a missing, empty or folder path, in French."""
    if not path.exists():
        raise TerritoireError("fichier introuvable.", path)
    if path.is_dir():
        raise TerritoireError("c'est un dossier, pas un fichier.", path)
    if path.stat().st_size == 0:
        raise TerritoireError("le fichier est vide.", path)


def read_source(path: str | Path, journal: Journal, *, layer: str | None = None,
                sheet: str | None = None) -> Source:
    """Read any file users send: a table (CSV, XLSX, ODS), a layer, or a zip holding one of them.

    Parameters
    ----------
    path : str or pathlib.Path
    journal : Journal
        Receives what was chosen (encoding, sheet, member of a zip).
    layer : str, optional
        The layer of a GeoPackage (or the Shapefile of a zip) holding several.
    sheet : str, optional
        The sheet of a workbook holding several lists of communes.

    Returns
    -------
    (pandas.DataFrame, dict) or geopandas.GeoDataFrame
        A raw table (see :func:`read_grid`) and its roles, or a polygon layer.
    """
    path = Path(path)
    check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _zip(path, journal, layer=layer, sheet=sheet)
    if suffix in LAYER_SUFFIXES:
        return _layer_or_table(str(path), path, journal, layer)
    return table_from_bytes(path.read_bytes(), path, journal, suffix=suffix, sheet=sheet)


def read_grid(path: str | Path, journal: Journal, *, sheet: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read a table (CSV, XLSX, ODS, or a zip of one) and find its header row and columns.

    Returns
    -------
    (pandas.DataFrame, dict)
        Cells as strings with the original headers, plus ``_ligne`` (line
        number in the file, 1-based); and role -> column position.
    """
    src = read_source(path, journal, sheet=sheet)
    if isinstance(src, gpd.GeoDataFrame):
        raise TerritoireError("une couche géographique n'est pas un tableau de populations.", Path(path))
    return src


def table_from_bytes(data: bytes, path: Path, journal: Journal, *, suffix: str,
                     sheet: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """A table file's bytes as a raw table: header row found, line numbers kept."""
    if suffix == ".xls":
        raise TerritoireError("le format Excel 97 (.xls) n'est pas lu : enregistrez le classeur "
                              "en .xlsx ou en CSV.", path)
    declared_merges = suffix in WORKBOOK_SUFFIXES or data.startswith(b"PK\x03\x04")
    if declared_merges:
        grid = _workbook_grid(data, path, suffix if suffix in WORKBOOK_SUFFIXES else ".xlsx", journal, sheet)
    else:
        grid = textfiles.rows(textfiles.decode(data, path, journal), path)
    df, roles = _frame(grid, path, journal)
    df.attrs["fusions_declarees"] = declared_merges
    return df, roles


def _workbook_grid(data: bytes, path: Path, suffix: str, journal: Journal, sheet: str | None) -> list[list[str]]:
    book = sheets.read_workbook(data, path, suffix)
    grids = {name: [[sheets.cell_text(v) for v in row] for row in rows] for name, rows in book}
    usable = [name for name, grid in grids.items() if _find_header(grid)[0] is not None]
    return grids[sheets.sheet_choice(book, sheet, usable, path, journal)]


def _find_header(grid: list[list[str]]) -> tuple[int | None, dict[str, int]]:
    for i, row in enumerate(grid[:15]):
        roles = detect_roles(row, ROLES)
        if "code" in roles or "commune" in roles:
            return i, roles
    return None, {}


def _frame(grid: list[list[str]], path: Path, journal: Journal) -> tuple[pd.DataFrame, dict[str, int]]:
    header_at, roles = _find_header(grid)
    if header_at is None:
        first = next((r for r in grid if any(c.strip() for c in r)), [])
        shown = " | ".join(str(c) for c in first[:6])
        raise TerritoireError(
            "aucune colonne de code INSEE ni de nom de commune reconnue dans les 15 premières "
            f"lignes (1re ligne : « {shown} »). En-têtes attendus : « Code INSEE », « Commune », "
            "« CPTS », « Statut ».", path)
    if header_at > 0:
        journal.info(f"En-tête trouvé ligne {header_at + 1} ; les lignes au-dessus sont ignorées.")
    header = [str(h) for h in grid[header_at]]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in grid[header_at + 1:]]
    df = pd.DataFrame(body, columns=range(width), dtype=object)
    df["_ligne"] = np.arange(header_at + 2, header_at + 2 + len(df))
    df = df[df.drop(columns="_ligne").apply(lambda c: c.astype(str).str.strip() != "").any(axis=1)]
    df.attrs["headers"] = header
    return df.reset_index(drop=True), roles


def raw_from_frame(frame: pd.DataFrame, where: str | Path = "tableau en mémoire") -> tuple[pd.DataFrame, dict[str, int]]:
    """A table held in memory, as the same raw table a file gives (its columns are the headers).

    Codes may be integers (``91027``) or text; line numbers are those of the
    table written as a file with one header line (first row: line 2).
    """
    headers = [str(c) for c in frame.columns]
    roles = detect_roles(headers, ROLES)
    if "code" not in roles and "commune" not in roles:
        raise TerritoireError("aucune colonne de code INSEE ni de nom de commune reconnue parmi "
                              f"« {' | '.join(headers[:8])} ». En-têtes attendus : « Code INSEE », "
                              "« Commune », « CPTS », « Statut ».", where)
    cells = frame.astype(object).where(frame.notna(), "").map(lambda v: textfiles.undefuse(sheets.cell_text(v)))
    df = pd.DataFrame(cells.to_numpy(), columns=range(len(headers)), dtype=object)
    df["_ligne"] = np.arange(2, 2 + len(df))
    df = df[df.drop(columns="_ligne").apply(lambda c: c.astype(str).str.strip() != "").any(axis=1)]
    df.attrs["headers"] = headers
    return df.reset_index(drop=True), roles


# --- layers and archives ------------------------------------------------------------------

_KINDS = {"Point": "des points", "MultiPoint": "des points", "LineString": "des lignes",
          "MultiLineString": "des lignes", "GeometryCollection": "des collections de géométries"}


def _layer_or_table(source: str, path: Path, journal: Journal, layer: str | None) -> Source:
    """A layer file (or a member of a zip): polygons, or the attribute table of a layer without them."""
    import pyogrio

    if path.suffix.lower() == ".shp" and not source.startswith("/vsizip/"):
        for ext in (".dbf", ".shx"):
            if not any(path.with_suffix(s).exists() for s in (ext, ext.upper())):
                raise TerritoireError(f"le fichier {path.stem}{ext} qui accompagne le Shapefile est "
                                      "absent : envoyez les fichiers .shp, .shx, .dbf et .prj ensemble.", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [(str(n), str(t) if t else "") for n, t in pyogrio.list_layers(source)]
            name = _layer_choice(layers, layer, path)
            frame = gpd.read_file(source, layer=name, engine="pyogrio")
    except TerritoireError:
        raise
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise TerritoireError(f"couche géographique illisible ({msg}).", path) from None
    if frame.empty:
        raise TerritoireError(f"la couche « {name} » ne contient aucun objet.", path)
    where = f"{path} (couche « {name} »)" if len(layers) > 1 else path
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all() or frame.geometry.is_empty.all():
        journal.info(f"Couche « {name} » sans géométrie : lue comme un tableau.")
        return raw_from_frame(pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore"), where)
    kinds = set(frame.geometry.dropna().geom_type) - {"Polygon", "MultiPolygon"}
    if kinds:
        what = _KINDS.get(sorted(kinds)[0], "des objets qui ne sont pas des polygones")
        attributes = pd.DataFrame(frame).drop(columns=[frame.geometry.name])
        roles = detect_roles([str(c) for c in attributes.columns], ROLES)
        if "code" in roles or "commune" in roles:
            journal.warn(f"La couche « {name} » contient {what}, pas des polygones : seuls ses attributs "
                         "(code ou nom de commune) sont lus.")
            return raw_from_frame(attributes, where)
        raise TerritoireError(
            f"la couche « {name} » contient {what}, pas des polygones : un périmètre de CPTS se dessine en "
            "polygones, ou se donne en tableau de communes (colonnes « CPTS » et « Code INSEE »).", path)
    return frame


def _layer_choice(layers: list[tuple[str, str]], wanted: str | None, path: Path) -> str | None:
    names = [n for n, _ in layers]
    listed = ", ".join(f"« {n} »" + (f" ({t})" if t else "") for n, t in layers)
    if wanted is not None:
        if wanted not in names:
            raise TerritoireError(f"pas de couche « {wanted} » ; couches du fichier : {listed}.", path)
        return wanted
    if len(layers) > 1:
        raise TerritoireError(f"le fichier a {len(layers)} couches ({listed}) : indiquez laquelle lire avec "
                              "--couche NOM.", path)
    return names[0] if names else None


def _zip(path: Path, journal: Journal, *, layer: str | None, sheet: str | None) -> Source:
    """A zip as sent by mail: a Shapefile (in any folder of the archive), a GeoPackage or a table."""
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if not m.endswith("/") and not m.startswith("__MACOSX/")
                       and not PurePosixPath(m).name.startswith(".")]
            encrypted = any(i.flag_bits & 0x1 for i in z.infolist())
            if encrypted:
                raise TerritoireError("l'archive est protégée par un mot de passe : envoyez-la sans.", path)
            by_suffix = {m: PurePosixPath(m).suffix.lower() for m in members}
            layers = [m for m, s in by_suffix.items() if s in LAYER_SUFFIXES]
            tables = [m for m, s in by_suffix.items() if s in TABLE_SUFFIXES | WORKBOOK_SUFFIXES]
            if layers:
                return _zip_layer(path, layers, members, journal, layer)
            if len(tables) == 1:
                journal.info(f"Archive : fichier « {tables[0]} » lu.")
                member = Path(tables[0])
                return table_from_bytes(z.read(tables[0]), path, journal, suffix=member.suffix.lower(), sheet=sheet)
    except zipfile.BadZipFile:
        raise TerritoireError("archive .zip illisible : est-elle arrivée en entier ?", path) from None
    listed = ", ".join(f"« {m} »" for m in (tables or members)[:8])
    if tables:
        raise TerritoireError(f"l'archive contient plusieurs tableaux ({listed}) : envoyez celui à lire, "
                              "décompressé.", path)
    raise TerritoireError(f"l'archive ne contient ni Shapefile, ni GeoPackage, ni tableau ({listed or 'vide'}).", path)


def _zip_layer(path: Path, layers: list[str], members: list[str], journal: Journal, layer: str | None) -> Source:
    if len(layers) > 1:
        stems = {PurePosixPath(m).stem: m for m in layers}
        if layer in stems or layer in layers:
            layers, layer = [stems.get(layer, layer)], None
        else:
            listed = ", ".join(f"« {PurePosixPath(m).stem} »" for m in layers)
            raise TerritoireError(f"l'archive contient {len(layers)} couches ({listed}) : indiquez laquelle "
                                  "lire avec --couche NOM.", path)
    member = layers[0]
    if member.lower().endswith(".shp"):
        stem = member[:-4].lower()
        for ext in (".dbf", ".shx"):
            if stem + ext not in {m.lower() for m in members}:
                raise TerritoireError(f"le fichier {PurePosixPath(member).stem}{ext} qui accompagne le Shapefile "
                                      f"« {member} » manque dans l'archive.", path)
    if "/" in member:
        journal.info(f"Archive : couche « {member} » lue.")
    return _layer_or_table(f"/vsizip/{path.resolve()}/{member}", path, journal, layer)

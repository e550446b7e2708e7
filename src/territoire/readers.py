"""Readers: a file as users send it becomes a raw table (or layer), nothing more.

A raw table is a DataFrame of text cells under the file's own headers, with
``_ligne`` (line number in the file) so that every later message can name
the line and the column; ``attrs["headers"]`` holds the header texts. Raw
tables from files and from frames in memory (:func:`raw_from_frame`) are
alike: :mod:`territoire.normalise` turns either into validated perimeters or
populations.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import Journal, TerritoireError
from .normalise import detect_roles

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
LAYER_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}


def check_file(path: Path) -> None:
    """Refuse a missing, empty or folder path, in French."""
    if not path.exists():
        raise TerritoireError("fichier introuvable.", path)
    if path.is_dir():
        raise TerritoireError("c'est un dossier, pas un fichier.", path)
    if path.stat().st_size == 0:
        raise TerritoireError("le fichier est vide.", path)


def _decode(path: Path, journal: Journal) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise TerritoireError("ce n'est pas un tableau texte (contenu binaire). "
                              "Attendu : CSV, XLSX, GeoJSON, GeoPackage ou Shapefile.", path)
    for enc, _label in (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "cp1252":
            journal.info("Encodage lu : Windows-1252.")
        return text
    raise TerritoireError("encodage inconnu : ni UTF-8 ni Windows-1252. "
                          "Enregistrez le fichier en CSV UTF-8.", path)


def _rows_from_text(text: str, path: Path) -> list[list[str]]:
    lines = [ln for ln in text.splitlines()[:30] if ln.strip()]
    if not lines:
        raise TerritoireError("le fichier ne contient aucune ligne.", path)
    counts = {d: [ln.count(d) for ln in lines] for d in (";", "\t", ",")}
    # The separator present on most lines wins; ties go to ';' (French Excel).
    sep = max(counts, key=lambda d: (sum(c > 0 for c in counts[d]), min(counts[d]), d == ";"))
    if sum(counts[sep]) == 0:
        sep = ";"
    return [[undefuse(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]


def _grid(path: Path, journal: Journal) -> list[list[str]]:
    """Rows of cells (strings) of a CSV or of the right sheet of a workbook."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise TerritoireError("le format Excel 97 (.xls) n'est pas lu : enregistrez le classeur "
                              "en .xlsx ou en CSV.", path)
    if suffix in EXCEL_SUFFIXES:
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for broken files
            raise TerritoireError(f"classeur illisible ({type(exc).__name__}) : est-ce bien un "
                                  "fichier .xlsx ?", path) from None
        usable = []
        for name, df in sheets.items():
            grid = df.astype(object).where(df.notna(), "").map(_cell).values.tolist()
            if _find_header(grid)[0] is not None:
                usable.append((name, grid))
        if not usable:
            first = next(iter(sheets.items()), (None, pd.DataFrame()))
            return first[1].astype(object).where(first[1].notna(), "").map(_cell).values.tolist()
        if len(sheets) > 1:
            names = ", ".join(f"« {n} »" for n in sheets)
            journal.warn(f"Le classeur a {len(sheets)} feuilles ({names}) : "
                         f"feuille « {usable[0][0]} » lue.")
        return usable[0][1]
    return _rows_from_text(_decode(path, journal), path)


def _cell(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return undefuse("" if v is None else str(v).strip())


def undefuse(text: str) -> str:
    """Drop the ``'`` our CSV writer puts before text starting like a formula."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


def _find_header(grid: list[list[str]]) -> tuple[int | None, dict[str, int]]:
    for i, row in enumerate(grid[:15]):
        roles = detect_roles(row, ("cpts", "code", "commune", "statut", "departement", "population"))
        if "code" in roles or "commune" in roles:
            return i, roles
    return None, {}


def read_grid(path: str | Path, journal: Journal) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read a table, find its header row (not always the first) and its columns.

    Returns
    -------
    (pandas.DataFrame, dict)
        Cells as strings with the original headers, plus ``_ligne`` (line
        number in the file, 1-based); and role -> column position.
    """
    path = Path(path)
    check_file(path)
    grid = _grid(path, journal)
    header_at, roles = _find_header(grid)
    if header_at is None:
        first = grid[0] if grid else []
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



def raw_from_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """A table held in memory, as the same raw table a file gives (its columns are the headers).

    Codes may be integers (``91027``) or text; line numbers are those of the
    table written as a file with one header line (first row: line 2).
    """
    headers = [str(c) for c in frame.columns]
    roles = detect_roles(headers, ("cpts", "code", "commune", "statut", "departement", "population"))
    if "code" not in roles and "commune" not in roles:
        raise TerritoireError("aucune colonne de code INSEE ni de nom de commune reconnue parmi "
                              f"« {' | '.join(headers[:8])} ». En-têtes attendus : « Code INSEE », "
                              "« Commune », « CPTS », « Statut ».", "tableau en mémoire")
    cells = frame.astype(object).where(frame.notna(), "").map(_cell)
    df = pd.DataFrame(cells.to_numpy(), columns=range(len(headers)), dtype=object)
    df["_ligne"] = np.arange(2, 2 + len(df))
    df = df[df.drop(columns="_ligne").apply(lambda c: c.astype(str).str.strip() != "").any(axis=1)]
    df.attrs["headers"] = headers
    return df.reset_index(drop=True), roles


def read_layer_file(path: Path) -> gpd.GeoDataFrame:
    """A polygon layer file (GeoJSON, GeoPackage, Shapefile, zip) as a GeoDataFrame."""
    check_file(path)
    if path.suffix.lower() == ".shp":
        for ext in (".dbf", ".shx"):
            if not any(path.with_suffix(s).exists() for s in (ext, ext.upper())):
                raise TerritoireError(f"le fichier {path.stem}{ext} qui accompagne le Shapefile est "
                                      "absent : envoyez les fichiers .shp, .shx, .dbf et .prj ensemble.",
                                      path)
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        msg = str(exc).splitlines()[0][:200]
        raise TerritoireError(f"couche géographique illisible ({msg}).", path) from None
    if gdf.empty:
        raise TerritoireError("la couche ne contient aucun objet.", path)
    return gdf

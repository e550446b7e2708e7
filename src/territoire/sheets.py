"""Workbooks (XLSX from Excel, ODS from LibreOffice) as grids of text cells.

A merged range takes the value of its first cell in every cell it covers:
exactly the ranges the workbook declares, nothing guessed. A formula whose
value was never computed (a workbook written by a program, never opened) is
refused with its cell, since its value is unknown.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from .errors import Journal, TerritoireError

#: A sheet: its name and its rows of cells, each a raw value (str, int, float, date or None).
Sheet = tuple[str, list[list[Any]]]

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 container: Excel 97, or an encrypted workbook
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_PROTECTED = ("le classeur est protégé par un mot de passe : ouvrez-le, retirez le mot de passe "
              "(Fichier > Informations > Protéger le classeur), ou enregistrez-le en CSV.")


def read_workbook(data: bytes, path: Path, suffix: str) -> list[Sheet]:
    """The sheets of an XLSX or ODS workbook, merged ranges filled from their first cell."""
    if data.startswith(_CFB):
        if _ENCRYPTED in data:
            raise TerritoireError(_PROTECTED, path)
        raise TerritoireError("le format Excel 97 (.xls) n'est pas lu : enregistrez le classeur "
                              "en .xlsx ou en CSV.", path)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TerritoireError(f"classeur illisible (ce n'est pas un fichier {suffix} complet) : "
                              "est-il arrivé en entier ?", path)
    reader: Callable[[bytes, Path], list[Sheet]] = _ods if suffix == ".ods" else _xlsx
    try:
        return reader(data, path)
    except TerritoireError:
        raise
    except Exception as exc:  # openpyxl and XML parsers raise many types for broken files
        raise TerritoireError(f"classeur illisible ({type(exc).__name__}) : est-ce bien un "
                              f"fichier {suffix} ?", path) from None


def _xlsx(data: bytes, path: Path) -> list[Sheet]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    values = load_workbook(io.BytesIO(data), data_only=True)
    formulas = load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    sheets: list[Sheet] = []
    for ws in values.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        uncomputed = [
            f"{get_column_letter(c + 1)}{r + 1}"
            for r, row in enumerate(formulas[ws.title].iter_rows(values_only=True))
            for c, v in enumerate(row)
            if isinstance(v, str) and v.startswith("=")
            and (r >= len(rows) or c >= len(rows[r]) or rows[r][c] is None)
        ]
        if uncomputed:
            shown = ", ".join(uncomputed[:5]) + (" …" if len(uncomputed) > 5 else "")
            raise TerritoireError(
                f"feuille « {ws.title} », cellule(s) {shown} : formule sans valeur calculée (classeur "
                "écrit par un programme et jamais ouvert). Ouvrez-le dans Excel ou LibreOffice et "
                "enregistrez-le, ou remplacez les formules par leurs valeurs.", path)
        for rng in ws.merged_cells.ranges:
            first = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, min(rng.max_row, len(rows)) + 1):
                row = rows[r - 1]
                for c in range(rng.min_col, min(rng.max_col, len(row)) + 1):
                    row[c - 1] = first
        sheets.append((ws.title, rows))
    return sheets


_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
_T, _O, _X = (f"{{{_NS[k]}}}" for k in ("table", "office", "text"))
#: Past this many repeated empty rows or columns, a sheet has ended (LibreOffice pads to 1 048 576).
_PADDING = 10_000


def _ods(data: bytes, path: Path) -> list[Sheet]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        if "META-INF/manifest.xml" in names and b"encryption-data" in z.read("META-INF/manifest.xml"):
            raise TerritoireError(_PROTECTED, path)
        if "content.xml" not in names:
            raise TerritoireError("classeur illisible (content.xml absent) : est-ce bien un fichier .ods ?",
                                  path)
        root = ET.fromstring(z.read("content.xml"))
    sheets: list[Sheet] = []
    for table in root.iter(f"{_T}table"):
        sheets.append((table.get(f"{_T}name", f"Feuille{len(sheets) + 1}"), _ods_rows(table)))
    return sheets


def _ods_rows(table: ET.Element) -> list[list[Any]]:
    rows: list[list[Any]] = []
    spans: list[tuple[int, int, int, int]] = []  # first row, first col, rows, cols
    pending_empty = 0
    for row in table.iter(f"{_T}table-row"):
        cells: list[Any] = []
        for cell in row:
            repeat = int(cell.get(f"{_T}number-columns-repeated", "1"))
            value = _ods_value(cell) if cell.tag == f"{_T}table-cell" else None
            rs, cs = int(cell.get(f"{_T}number-rows-spanned", "1")), int(cell.get(f"{_T}number-columns-spanned", "1"))
            if rs > 1 or cs > 1:
                spans.append((len(rows) + pending_empty, len(cells), rs, cs))
            if value is None and repeat > _PADDING:
                break
            cells.extend([value] * repeat)
        while cells and cells[-1] is None:
            cells.pop()
        repeat = int(row.get(f"{_T}number-rows-repeated", "1"))
        if not cells:
            pending_empty += repeat
            continue
        rows.extend([[] for _ in range(pending_empty)])
        pending_empty = 0
        rows.extend([list(cells) for _ in range(min(repeat, _PADDING))])
    for r0, c0, rs, cs in spans:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        first = rows[r0][c0]
        for r in range(r0, min(r0 + rs, len(rows))):
            row_cells = rows[r]
            row_cells.extend([None] * (c0 + cs - len(row_cells)))
            for c in range(c0, c0 + cs):
                row_cells[c] = first
    return rows


def _ods_value(cell: ET.Element) -> Any:
    kind = cell.get(f"{_O}value-type")
    if kind in ("float", "percentage", "currency"):
        number = float(cell.get(f"{_O}value", "nan"))
        return int(number) if number.is_integer() else number
    paragraphs = ["".join(_ods_text(p)) for p in cell.iter(f"{_X}p")]
    text = "\n".join(paragraphs)
    return text if text else None


def _ods_text(node: ET.Element) -> list[str]:
    """The text of a paragraph, ``<text:s text:c="3"/>`` read as its spaces."""
    out = [node.text or ""]
    for child in node:
        if child.tag == f"{_X}s":
            out.append(" " * int(child.get(f"{_X}c", "1")))
        elif child.tag == f"{_X}tab":
            out.append("\t")
        else:
            out.extend(_ods_text(child))
        out.append(child.tail or "")
    return out


def sheet_choice(sheets: list[tuple[str, Any]], wanted: str | None, usable: list[str], path: Path,
                 journal: Journal) -> str:
    """The sheet to read: the one asked for, or the only one holding perimeters.

    Several usable sheets and no choice is an error listing them (reading the
    first would silently ignore the others).
    """
    names = [n for n, _ in sheets]
    listed = ", ".join(f"« {n} »" for n in names)
    if wanted is not None:
        if wanted not in names:
            raise TerritoireError(f"pas de feuille « {wanted} » dans le classeur ; feuilles : {listed}.", path)
        return wanted
    if len(usable) > 1:
        shown = ", ".join(f"« {n} »" for n in usable)
        raise TerritoireError(f"le classeur a {len(usable)} feuilles qui ressemblent à des listes de communes "
                              f"({shown}) : indiquez laquelle lire avec --feuille NOM.", path)
    chosen = usable[0] if usable else names[0]
    if len(names) > 1:
        journal.warn(f"Le classeur a {len(names)} feuilles ({listed}) : feuille « {chosen} » lue.")
    return chosen


def cell_text(value: Any) -> str:
    """A workbook value as the text a user sees (``91027.0`` is ``91027``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return str(value.strftime("%d/%m/%Y"))
    return re.sub(r"\s+$", "", str(value)).strip()

"""Text tables (CSV, TSV, Excel's "Texte Unicode") as rows of cells, each row one line of the file.

Decoding never guesses silently: UTF-16 is read from its byte order mark (or
its zero bytes), UTF-8 is preferred, a single-byte file is read as
Windows-1252 or Mac Roman (whichever gives French text) and said so, and a
UTF-8 file holding a few Windows-1252 lines is decoded line by line, the
lines named. A quote left open or a line break inside a cell is an error
naming the line: read loosely, it would swallow the rest of the file.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

from .errors import Journal, TerritoireError

#: The letters of French text (and its usual signs) an encoding is judged by.
_FRENCH = set("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ’‘“”«»–—°€\u00a0")
_SINGLE_BYTE = (("cp1252", "Windows-1252"), ("mac_roman", "Mac Roman"))
#: A cell longer than this is a quote left open or not a list of communes.
MAX_CELL = 10_000


def decode(data: bytes, path: Path, journal: Journal) -> str:
    """The text of a table file, its encoding found and reported when it is not UTF-8."""
    utf16 = _utf16(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            raise TerritoireError("texte UTF-16 illisible : enregistrez le fichier en CSV UTF-8.", path) from None
        journal.info("Encodage lu : UTF-16 (« Texte Unicode » d'Excel).")
        return text.lstrip("\ufeff")
    if b"\x00" in data[:8192]:
        raise TerritoireError("ce n'est pas un tableau texte (contenu binaire). Attendu : CSV, XLSX, ODS, "
                              "GeoJSON, GeoPackage ou Shapefile.", path)
    data = data.removeprefix(b"\xef\xbb\xbf").rstrip(b"\x1a")  # Ctrl-Z: end of file of old DOS tools
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    if any(not ln.isascii() and _is_utf8(ln) for ln in lines):
        return _mixed(lines, path, journal)
    text, label = _single_byte(data, path)
    journal.info(f"Encodage lu : {label}.")
    return text


def _utf16(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(b"\x00") * 3 > len(head):
        # ASCII text in UTF-16 without a BOM: zeros on one side of every character.
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd > 0.9 * len(head) / 2:
            return "utf-16-le"
        if even > 0.9 * len(head) / 2:
            return "utf-16-be"
    return None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _plausibility(text: str) -> int:
    """French letters minus capitals inside words (``SÈnart`` is Mac Roman read as Windows-1252)."""
    score = 0
    for prev, ch in zip(" " + text, text):
        if ch.isascii():
            continue
        score += 1 if ch in _FRENCH else -2
        if ch.isupper() and prev.islower():
            score -= 2
    return score


def _single_byte(data: bytes, path: Path, line: int | None = None) -> tuple[str, str]:
    candidates: list[tuple[int, int, str, str]] = []
    for enc, label in _SINGLE_BYTE:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_plausibility(text), -len(candidates), text, label))
    best = max(candidates) if candidates else None
    if best is None or best[0] <= 0:
        where = f"ligne {line} : " if line else ""
        raise TerritoireError(f"{where}encodage inconnu : ni UTF-8, ni Windows-1252, ni Mac Roman. "
                              "Enregistrez le fichier en CSV UTF-8.", path)
    return best[2], best[3]


def _mixed(lines: list[bytes], path: Path, journal: Journal) -> str:
    out, odd = [], []
    for number, raw in enumerate(lines, start=1):
        if _is_utf8(raw):
            out.append(raw.decode("utf-8"))
        else:
            out.append(_single_byte(raw, path, number)[0])
            odd.append(number)
    shown = ", ".join(map(str, odd[:10])) + (" …" if len(odd) > 10 else "")
    journal.warn(f"Ligne(s) {shown} : encodage Windows-1252 dans un fichier UTF-8 (lignes collées d'un autre "
                 "fichier ?) ; décodée(s) ligne par ligne, vérifiez les accents.")
    return "\n".join(out)


def _separator(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:30] if ln.strip()]
    counts = {d: [ln.count(d) for ln in lines] for d in (";", "\t", ",")}
    # The separator present on most lines wins; ties go to ';' (French Excel).
    sep = max(counts, key=lambda d: (sum(c > 0 for c in counts[d]), min(counts[d], default=0), d == ";"))
    return sep if sum(counts[sep]) else ";"


def rows(text: str, path: Path) -> list[list[str]]:
    """The cells of a delimited text, row ``i`` being line ``i + 1`` of the file.

    Raises
    ------
    TerritoireError
        On a quote left open, a line break inside a cell or a cell over
        :data:`MAX_CELL` characters, naming the line and column.
    """
    if not text.strip():
        raise TerritoireError("le fichier ne contient aucune ligne.", path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    out: list[list[str]] = []
    done = 0  # lines read before the current row
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        for row in reader:
            if reader.line_num - done > 1:
                _spanning(row, out, done + 1, reader.line_num, text, path)
            long = next((j for j, c in enumerate(row) if len(c) > MAX_CELL), None)
            if long is not None:
                raise TerritoireError(f"ligne {reader.line_num}, {_column(out, long)} : cellule de "
                                      f"{len(row[long]):,} caractères".replace(",", "\u202f")
                                      + " ; ce n'est pas un nom de CPTS ni de commune.", path)
            done = reader.line_num
            out.append([undefuse(c) for c in row])
    except csv.Error as exc:
        raise TerritoireError(f"ligne {done + 1} : tableau CSV illisible ({exc}).", path) from None
    finally:
        csv.field_size_limit(limit)
    return out


def _column(out: list[list[str]], j: int) -> str:
    header = next((r for r in out if any(c.strip() for c in r)), None)
    if header is not None and j < len(header) and header[j].strip():
        return f"colonne « {header[j].strip()} »"
    return f"colonne {j + 1}"


def _spanning(row: list[str], out: list[list[str]], first: int, last: int, text: str, path: Path) -> None:
    j = next((k for k, c in enumerate(row) if "\n" in c or "\r" in c), 0)
    shown = re.sub(r"\s+", " ", row[j])[:40] if j < len(row) else ""
    total = len(text.splitlines())
    if last >= total and text.count('"') % 2:
        raise TerritoireError(
            f"ligne {first}, {_column(out, j)} : un guillemet (\") ouvre une cellule qui n'est jamais fermée ; "
            f"les {total - first + 1} lignes suivantes y seraient avalées. Retirez ou fermez ce guillemet.", path)
    raise TerritoireError(
        f"ligne {first}, {_column(out, j)} : la cellule « {shown} » s'étend sur les lignes {first} à {last} "
        "(retour à la ligne dans une cellule, ou guillemet mal placé). Une commune par ligne : corrigez-la.", path)


def undefuse(cell: str) -> str:
    """Drop the ``'`` our CSV writer puts before text starting like a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell

"""Text from input files, made inert for each medium it reaches.

Names, statuses and values come from files sent by third parties. They are
data, never code: every output boundary passes them through one of these
functions, one per medium, instead of special-casing the dangerous values.

* HTML: :func:`html_text` (entities);
* a ``<script>`` of the map: :func:`json_for_script` (JSON with ``< > & { }``
  and the JavaScript line separators escaped, so the text can neither close
  the script nor be read as a template by folium/branca/Jinja);
* matplotlib: :func:`plain_text` plus ``parse_math=False`` on each text
  (``$`` would start mathtext);
* XLSX: :func:`xlsx_text` (characters the format forbids are removed);
* the terminal: :func:`terminal_text` (escape sequences and control
  characters removed, so a name cannot recolour, move the cursor or hide
  text);
* CSV: :func:`territoire.export.defuse_formulas` (a leading ``= + - @``).
"""

from __future__ import annotations

import html
import json
import re

#: C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi
#: overrides/isolates that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: ANSI/VT escape sequences: CSI (``ESC [ … final``), OSC (``ESC ] … BEL``) and
#: two-character escapes.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
#: What XLSX (XML 1.0) cannot hold: openpyxl refuses the whole workbook.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: A JSON string token (the only place where escaped characters can appear).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})
_BRACES = str.maketrans({"{": "\\u007b", "}": "\\u007d"})


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control or bidi character (invisible, or acting on the display)."""
    return _CONTROL.search(text) is not None


def plain_text(text: object) -> str:
    """``text`` without control characters, escape sequences or bidi overrides (tab and newline kept)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", "" if text is None else str(text)))


def terminal_text(text: str) -> str:
    """What may be printed on a terminal: escape sequences removed, other controls shown as ``?``."""
    return _CONTROL.sub("?", _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n")))


def html_text(value: object) -> str:
    """Text for HTML content or attributes (shown as text, never parsed as markup)."""
    return html.escape("" if value is None else str(value), quote=True)


def xlsx_text(value: str) -> str:
    """Text a workbook can hold: the characters XML 1.0 forbids are removed."""
    return _XLSX_ILLEGAL.sub("", value)


def json_for_script(data: object) -> str:
    r"""JSON to embed in an HTML ``<script>``, inert whatever its strings hold.

    ``<``, ``>`` and ``&`` (closing the script, HTML comments), U+2028/U+2029
    (line ends for old JavaScript engines) and, inside strings, ``{`` and
    ``}`` (template delimiters of Jinja, which folium and branca apply to
    scripts) are written as ``\uXXXX`` escapes: ``JSON.parse`` gives the exact
    text back.

    Examples
    --------
    >>> json_for_script({"nom": "</script>{{ 7*7 }}"})
    '{"nom":"\\u003c/script\\u003e\\u007b\\u007b 7*7 \\u007d\\u007d"}'
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _JSON_STRING.sub(lambda m: m.group(0).translate(_BRACES), text)
    return text.translate(_SCRIPT_ESCAPES)

"""Numbers as a French reader expects them, in every output (terminal, map, report, messages).

Thousands are separated by a narrow no-break space (U+202F) and decimals by a
comma; a percentage has a no-break space before ``%``. One formatter for each,
used everywhere, so that a figure reads the same on the terminal, the map and
the report.
"""

from __future__ import annotations

import math

#: Narrow no-break space: thousands separator and before ``%`` (French typography).
NNBSP = "\u202f"


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or str(x) in ("<NA>", "nan", "NaT")


def nombre(x: object, decimales: int = 0) -> str:
    r"""A number with French separators; ``—`` when missing.

    Examples
    --------
    >>> nombre(138231), nombre(1536.26, 1), nombre(None)
    ('138\u202f231', '1\u202f536,3', '—')
    """
    if _missing(x):
        return "—"
    value = float(x)  # type: ignore[arg-type]
    text = f"{value:,.{decimales}f}" if decimales else f"{int(round(value)):,}"
    return text.replace(",", NNBSP).replace(".", ",")


def pourcentage(x: object, decimales: int = 1) -> str:
    r"""A share (0-1) as a French percentage; ``—`` when missing.

    Examples
    --------
    >>> pourcentage(0.358), pourcentage(1)
    ('35,8\u202f%', '100,0\u202f%')
    """
    if _missing(x):
        return "—"
    return f"{float(x) * 100:.{decimales}f}".replace(".", ",") + NNBSP + "%"  # type: ignore[arg-type]

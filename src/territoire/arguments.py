"""Option values as French users type them (``0,6``, ``40 000``), range-checked for argparse."""

from __future__ import annotations

import argparse
import math


def number(text: str) -> float:
    """A number as French users type it: ``0,6``, ``40 000``."""
    try:
        value = float(text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre fini")
    return value


def share(text: str) -> float:
    """A share of a commune's area, in ]0, 1]."""
    value = number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"« {text} » hors de ]0, 1] : une part de surface, par exemple 0,5")
    return value


def inhabitants(text: str) -> int:
    """A number of inhabitants: a non-negative integer."""
    value = number(text)
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"« {text} » : un nombre d'habitants entier et positif est attendu")
    return int(value)


def percent(text: str) -> float:
    """A percentage (``50`` or ``50 %``), returned as a share (0.5)."""
    value = number(text.replace("%", "").strip())
    if value < 0:
        raise argparse.ArgumentTypeError(f"« {text} » : un pourcentage positif est attendu, par exemple 50")
    return value / 100

"""Option values as French users type them (``0,6``, ``40 000``), range-checked for argparse."""

from __future__ import annotations

import argparse
import math
import re


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


def version_text() -> str:
    """``--version``: the version and the embedded reference's vintages (``reference.json``, no heavy import)."""
    import json

    from . import __version__, settings

    try:
        meta = json.loads((settings.data_dir() / "reference.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"territoire {__version__}"
    return (f"territoire {__version__} — référence : communes du COG {meta['cog']}, population municipale "
            f"{meta['millesime_population']} (Mayotte {meta['millesime_population_mayotte']}), contours IGN "
            f"ADMIN EXPRESS du COG {meta.get('contours', {}).get('cog', '?')}")


def perimeter_file_back(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Options in any order: ``--departement 91 FICHIER`` gives FICHIER to ``--departement``; take it back.

    Without a file, ``analyse`` and ``planifier`` need ``--departement`` or ``--region`` (the scope
    is then all white).
    """
    if not hasattr(args, "perimetres"):
        return
    deps = args.departement or []
    while args.perimetres is None and deps and not re.fullmatch(r"\d{1,3}|2[abAB]", deps[-1].strip()):
        args.perimetres = deps.pop()
    if args.departement is not None and not deps:
        args.departement = None
    if args.perimetres is None and not args.departement and not args.region:
        parser.error("fichier de périmètres manquant (ou --departement/--region pour partir d'un territoire "
                     "sans CPTS)")

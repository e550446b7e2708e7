"""The area of a run: départements given, those of a région (by code or name), or those the perimeters touch."""

from __future__ import annotations

import pandas as pd

from . import reference
from .errors import TerritoireError
from .harmonise import name_key


def region_code(text: str) -> str:
    """The INSEE code of a région written as its code (``11``) or its name, accents and case free.

    Raises
    ------
    TerritoireError
        Unknown région; the message lists them all.
    """
    ref = reference.communes()
    regions = ref[["region", "region_nom"]].drop_duplicates().sort_values("region")
    wanted = text.strip()
    if wanted.isdigit() and wanted.zfill(2) in set(regions["region"]):
        return wanted.zfill(2)
    by_name = {name_key(n): c for c, n in zip(regions["region"], regions["region_nom"])}
    if name_key(wanted) in by_name:
        return by_name[name_key(wanted)]
    listed = ", ".join(f"{c} {n}" for c, n in zip(regions["region"], regions["region_nom"]))
    raise TerritoireError(f"région « {text} » inconnue. Régions : {listed}.")


def resolve_scope(perimeters: pd.DataFrame, departements: list[str] | None = None,
                  region: str | None = None) -> list[str]:
    """Départements of the scope.

    ``departements`` when given; with ``region`` too, they must all lie in
    it (the scope is then those départements, not the whole région); a
    ``region`` alone gives its départements; neither gives the départements
    the perimeters touch.
    """
    units = reference.units()
    known = set(units["departement"])
    given: set[str] = set()
    for d in departements or []:
        d = d.strip().upper().zfill(2)
        if d not in known:
            raise TerritoireError(f"département « {d} » inconnu (attendu : 01 à 95, 2A, 2B, 971 à 976).")
        given.add(d)
    if region:
        code = region_code(region)
        deps = set(reference.departements_of_region(code))
        outside = sorted(given - deps)
        if outside:
            raise TerritoireError(f"département(s) {', '.join(outside)} hors de la région « {region} » "
                                  f"(ses départements : {', '.join(sorted(deps))}) : --region et --departement "
                                  "ensemble ne désignent que des départements de la région.")
        return sorted(given or deps)
    if given:
        return sorted(given)
    if perimeters.empty:
        raise TerritoireError("aucune commune dans les périmètres : préciser --departement ou --region.")
    return sorted(set(units.loc[perimeters["code_commune"].unique(), "departement"]))

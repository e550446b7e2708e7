"""Titles and subtitles a CTS audience can read: département names, perimeter date, population vintage.

The title names the territory ("Essonne (91)", "Île-de-France", "France
entière") instead of listing codes; the subtitle states the population
vintage in plain words and the perimeters' date when the user gave one
(``--date-perimetres``, or a date written in the file's title row; never
the file's modification time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import reference
from ..formats import nombre, pourcentage

#: What every map, PNG and report credits (Licence Ouverte: mention the source).
SOURCES = "Sources : IGN, INSEE, DGCL — contours IGN ADMIN EXPRESS ; calculs : territoire"
OVERSEAS = {"971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte"}

_MONTHS = ("janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
           "novembre|décembre|decembre")
_DATE = re.compile(rf"(\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}}|(?:{_MONTHS})\s+\d{{4}}|"
                   r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{4})", re.IGNORECASE)


#: An integer with narrow no-break spaces between thousands (``1 320 757``); ``—`` when missing.
nbsp_number = nombre


def territory_name(departements: list[str]) -> str:
    """``Essonne (91)``, ``Essonne et Val-de-Marne``, ``Île-de-France``, ``France entière``..."""
    ref = reference.communes()
    deps = sorted(set(departements))
    names = ref.drop_duplicates("departement").set_index("departement")["departement_nom"]
    if set(deps) >= set(names.index):
        return "France entière"
    regions = ref.drop_duplicates("departement").set_index("departement")["region"]
    for region in sorted(regions.loc[deps].unique()) if len(deps) > 1 else []:
        if set(deps) == set(regions.index[regions == region]):
            return str(ref.loc[ref["region"] == region, "region_nom"].iloc[0])
    if len(deps) == 1:
        return f"{names.get(deps[0], deps[0])} ({deps[0]})"
    if len(deps) <= 4:
        listed = [str(names.get(d, d)) for d in deps]
        return ", ".join(listed[:-1]) + " et " + listed[-1]
    return f"{len(deps)} départements"


def population_words(vintage: str, departements: list[str]) -> str:
    """The population vintage in plain words, without Mayotte's when Mayotte is not on the map."""
    meta = reference.metadata()
    ref_words = f"population municipale {meta['millesime_population']} (INSEE)"
    if "976" in departements:
        ref_words += f", Mayotte {meta['millesime_population_mayotte']}"
    label = reference.population_vintage_label()
    m = re.match(r"mélangé : fichier fourni pour (\d+) commune\(s\), référence .* pour (\d+)$", vintage)
    if m:
        return f"fichier fourni pour {m.group(1)} communes, {ref_words} pour les {m.group(2)} autres"
    if vintage == label:
        return ref_words
    return vintage.replace(f"({label})", ref_words).replace(label, ref_words)


def perimeter_date(path: str | Path, given: str | None = None) -> str | None:
    """The perimeters' date: ``given`` (``--date-perimetres``), else a date in the file's title row.

    Only a first line that holds a date and no field separator counts as a
    title row (``CPTS de l'Essonne — décembre 2019``); the file's
    modification time is never used.
    """
    if given:
        return given
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            first = f.readline().strip()
    except (OSError, UnicodeError):
        return None
    cells = [c for c in re.split(r"[;,\t]", first) if c.strip()]
    if len(cells) != 1:
        return None
    m = _DATE.search(cells[0])
    return m.group(1) if m else None


def audit_title(departements: list[str]) -> str:
    """Title of an audit map, with the territory's name."""
    return f"CPTS et zones blanches — {territory_name(departements)}"


def plan_title(departements: list[str]) -> str:
    """Title of a plan map, with the territory's name."""
    return f"Plan 100 % CPTS — propositions, {territory_name(departements)}"


def audit_subtitle(s: Mapping[str, Any], date: str | None = None) -> str:
    """Subtitle of an audit map: coverage, perimeter date, population vintage in words, COG."""
    parts = [f"{pourcentage(s['taux_couverture'])} de la population dans une CPTS"]
    if date:
        parts.append(f"périmètres au {date}" if date[0].isdigit() else f"périmètres de {date}")
    parts.append("population : " + population_words(s["millesime_population"], s["perimetre"]))
    parts.append(f"communes au 1er janvier {s['cog']}")
    return " · ".join(parts)


def plan_subtitle(scen: Mapping[str, Any], date: str | None = None) -> str:
    """Subtitle of a plan map: proposals, perimeter date, population vintage in words, COG."""
    parts = [f"{scen['nb_communes_extension']} extension(s), {scen['nb_nouvelles_cpts']} nouvelle(s) CPTS, "
             f"{scen['nb_arbitrages_chevauchement']} chevauchement(s) à arbitrer"]
    if date:
        parts.append(f"périmètres au {date}" if date[0].isdigit() else f"périmètres de {date}")
    parts.append("population : " + population_words(scen["millesime_population"], scen["perimetre"]))
    parts.append(f"communes au 1er janvier {reference.metadata()['cog']}")
    return " · ".join(parts)


def before_after(cpts: pd.DataFrame, scen: Mapping[str, Any]) -> pd.DataFrame:
    """``cpts`` of a plan with ``nouvelle`` and the before columns of the scenario (for the popups)."""
    rows = {r["cpts"]: r for r in scen["cpts"]}
    out = cpts.copy()
    for col in ("nouvelle", "population_avant", "taille_avant", "financement_max_avant"):
        out[col] = out["cpts"].map({k: v.get(col) for k, v in rows.items()})
    out["nouvelle"] = out["nouvelle"].fillna(False).astype(bool)
    return out

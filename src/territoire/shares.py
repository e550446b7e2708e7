"""Shared communes: the share of a commune's inhabitants that belongs to each CPTS dividing it.

Big cities are divided between CPTS by quartier. A membership then carries
``part_population`` (0 to 1): the share of the commune's inhabitants in the
CPTS. Its unit is declared by the header, never guessed from the size of the
number:

* ``part_population``, « Part de la population », « Quote-part »: a fraction
  (``0,4``);
* a header with ``%`` or « pourcentage »: a percentage (``40``, ``40 %``);
* « Population de la CPTS dans la commune », « Population couverte »,
  « Habitants couverts »: inhabitants, divided by the commune's population of
  the reference.

A blank cell is the whole commune. Without such a column, a commune listed in
several CPTS is an overlap, unless :func:`declare_shared` says it is shared
(equal shares).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import harmonise, reference, settings
from .errors import Journal, TerritoireError

FRACTION = {"part population", "part de population", "part de la population", "quote part",
            "quote part population", "part des habitants", "part population cpts", "part_population"}
PERCENT_WORDS = ("pourcentage", "pct", "part")
COUNT = {"population dans la cpts", "population couverte", "habitants couverts", "population rattachee",
         "population de la cpts dans la commune", "habitants dans la cpts", "population de la commune dans la cpts",
         "nombre d habitants couverts"}
#: Shares of a commune summing to at least this are its whole population (the rest is rounding).
WHOLE = 0.995


def share_column(headers: list[str]) -> tuple[int, str] | None:
    """The column declaring population shares and its unit (``fraction``, ``pourcentage``, ``habitants``)."""
    for i, header in enumerate(headers):
        key = harmonise.name_key(str(header))
        percent = "%" in str(header) or key.startswith("pourcentage")
        if percent and (key in FRACTION or key.split(" ")[0] in PERCENT_WORDS):
            return i, "pourcentage"
        if key in FRACTION:
            return i, "fraction"
        if key in COUNT:
            return i, "habitants"
    return None


def parse_shares(cells: pd.Series, unit: str, line: pd.Series, header: str, path: Path) -> pd.Series:
    """Raw share cells as numbers in their declared unit (NaN for a blank: the whole commune)."""
    text = cells.astype(str).str.strip().str.replace("%", "", regex=False).str.replace(r"[\s\u00a0\u202f]", "",
                                                                                      regex=True)
    text = text.str.replace(",", ".", regex=False)
    blank = text == ""
    values = pd.to_numeric(text.where(~blank), errors="coerce")
    top = {"fraction": 1.0, "pourcentage": 100.0, "habitants": np.inf}[unit]
    bad = (~blank & (values.isna() | (values <= 0) | (values > top))) if unit != "habitants" else \
        (~blank & (values.isna() | (values < 0)))
    if bad.any():
        i = bad.idxmax()
        expected = {"fraction": "une part entre 0 (exclu) et 1 ; pour des pourcentages, nommez la colonne "
                                "« Part de la population (%) »",
                    "pourcentage": "un pourcentage entre 0 (exclu) et 100",
                    "habitants": "un nombre d'habitants positif"}[unit]
        raise TerritoireError(f"ligne {line[i]}, colonne « {header} » : « {cells[i]} » n'est pas {expected}.", path)
    return values


def to_fraction(values: pd.Series, unit: str, codes: pd.Series, journal: Journal) -> pd.Series:
    """Declared shares as fractions of the commune's population (1 where none is declared)."""
    if unit == "pourcentage":
        values = values / 100
    elif unit == "habitants":
        pop = codes.map(reference.units()["population"]).astype(float)
        over = values > pop * 1.001
        if over.sum() > 0.5 * values.notna().sum():
            # Mostly above the commune's own population: the CPTS's total, repeated on each row.
            journal.warn("La colonne de population par commune dépasse la population de la commune sur la plupart "
                         "des lignes : c'est sans doute la population de la CPTS ; communes lues entières.")
            return pd.Series(1.0, index=values.index)
        for i in values.index[over.fillna(False)]:
            journal.warn(f"Commune {codes[i]} : {values[i]:.0f} habitants déclarés pour la CPTS, plus que la "
                         f"commune n'en compte ({pop[i]:.0f}, référence) : part ramenée à 100 %.")
        values = (values / pop.where(pop > 0)).clip(upper=1)
        journal.info("Parts de population calculées sur la population municipale de la référence "
                     f"({reference.population_vintage_label()}).")
    return values.fillna(1.0).round(6)


def declare_shared(table: pd.DataFrame, codes: list[str] | None, journal: Journal) -> pd.DataFrame:
    """Communes listed whole in several CPTS, declared shared: equal shares instead of an overlap.

    ``codes`` limits the declaration to these communes (all such communes when empty or ``None``).
    """
    whole = table["part_population"] >= 1
    n = table[whole].groupby("code_commune")["cpts"].transform("nunique")
    multi = n.index[n > 1]
    wanted = set(table.loc[multi, "code_commune"]) if not codes else set(codes)
    for code in sorted(set(codes or []) - set(table.loc[multi, "code_commune"])):
        journal.warn(f"--communes-partagees : la commune {code} n'est pas listée entière dans plusieurs CPTS ; "
                     "rien à partager.")
    chosen = [i for i in multi if table.at[i, "code_commune"] in wanted]
    table = table.copy()
    table.loc[chosen, "part_population"] = (1 / n[chosen]).round(6)
    units = reference.units()
    for code, grp in table.loc[chosen].groupby("code_commune", sort=True):
        journal.info(f"Commune {code} ({units.at[code, 'nom']}) déclarée partagée entre {len(grp)} CPTS "
                     f"({', '.join(f'« {c} »' for c in sorted(grp['cpts']))}) : parts égales, à préciser.")
    return table


def polygon_shares(shares: pd.DataFrame, majority: float | None) -> pd.DataFrame:
    """Memberships from area shares: a commune held by several CPTS is shared, otherwise majority.

    With ``majority`` given, the whole-commune rule only (a commune goes to the
    CPTS holding at least that share of its area). Otherwise a commune of which
    two or more CPTS each hold at least ``settings.POLYGON_SHARE`` of the area is
    shared, each CPTS's population share taken equal to its area share (an
    approximation: inhabitants are not spread evenly), the shares summing to 1
    when they cover nearly all of it; other communes follow the majority rule.
    """
    if majority is not None:
        kept = shares[shares["part"] >= majority].copy()
        return kept.assign(part_population=1.0)
    big = shares[shares["part"] >= settings.POLYGON_SHARE]
    n = big.groupby("code_commune")["cpts"].transform("size")
    shared = big[n > 1].copy()
    total = shared.groupby("code_commune")["part"].transform("sum")
    shared["part_population"] = np.where(total >= 1 - settings.POLYGON_SLIVER * 2.5, shared["part"] / total,
                                         shared["part"]).round(6)
    single = shares[(shares["part"] >= settings.POLYGON_MAJORITY) & ~shares["code_commune"].isin(shared["code_commune"])]
    return pd.concat([shared, single.assign(part_population=1.0)], ignore_index=True)


def label(share: float) -> str:
    r"""A share as French readers write it, to a tenth of a percent.

    >>> label(1 / 3), label(0.45), label(1.0)
    ('33,3\xa0%', '45\xa0%', '100\xa0%')
    """
    return f"{round(share * 100, 1):g}".replace(".", ",") + "\u00a0%"

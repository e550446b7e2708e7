"""Populations of a table (``code;population``, any millésime): counts checked, codes harmonised.

Thousands separators are read as such in the population column only; a
column where a mark separates thousands on one line and decimals on another
is refused; a code listed twice is refused (its population would count twice).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import harmonise, reference
from .errors import Journal, TerritoireError
from .models import Population

#: A population as people write it: ``37000``, ``37 000``, ``37.000``, ``37,000`` (thousands
#: separators in groups of three), or ``37000,0`` as a spreadsheet exports it. Anything else
#: (``37,5``, ``1.5e3``) is not a count of inhabitants.
_POPULATION = re.compile(r"^(\d{1,3}(?:([\s\u00a0\u202f.,'])\d{3})?(?:\2\d{3})*|\d+)(?:[.,]0+)?$")
#: More than any commune, département or région of France: a typing or export error.
MAX_POPULATION = 100_000_000


def _parse_numbers(values: pd.Series) -> pd.Series:
    """Counts written with or without thousands separators; NaN where the text is not a count."""
    text = values.astype(str).str.strip()
    match = text.str.extract(_POPULATION)[0]
    digits = match.str.replace(r"[^0-9]", "", regex=True)
    return pd.to_numeric(digits, errors="coerce")



def _check_separators(cells: pd.Series, line: pd.Series, header: str, path: Path) -> None:
    """Refuse a column where ``.`` or ``,`` is a thousands separator on one line and a decimal mark on another.

    ``37.000`` alone is 37 000 inhabitants; next to ``1250.000`` (which can only
    be a decimal) it could be 37 as well: the column is ambiguous.
    """
    text = cells.astype(str).str.strip()
    for sep, label in ((".", "le point"), (",", "la virgule")):
        s = re.escape(sep)
        thousands = text.str.fullmatch(rf"\d{{1,3}}(?:{s}\d{{3}})+")
        decimal = text.str.fullmatch(rf"\d+{s}\d{{1,2}}|\d+{s}\d{{4,}}|\d{{4,}}{s}\d+")
        if thousands.any() and decimal.any():
            i, j = thousands.idxmax(), decimal.idxmax()
            raise TerritoireError(
                f"colonne « {header} » : {label} sépare les milliers ligne {line[i]} (« {text[i]} ») mais les "
                f"décimales ligne {line[j]} (« {text[j]} ») : « {text[i]} » serait lu {text[i].replace(sep, '')} "
                "ou moins de 1000. Écrivez les populations sans séparateur.", path)


def table_to_population(df: pd.DataFrame, roles: dict[str, int], path: Path, journal: Journal) -> Population:
    """Populations of a raw table (``code;population``, any millésime, codes of any vintage).

    Codes of merged communes are summed into the current commune. A year in
    the population header (``population_totale_2017``) is taken as its
    millésime.
    """
    headers = df.attrs["headers"]
    if "code" not in roles:
        raise TerritoireError("aucune colonne de code INSEE (attendu : « code », « Code INSEE »).", path)
    if "population" not in roles:
        numeric = [i for i in range(len(headers)) if i != roles["code"]
                   and _parse_numbers(df[i]).notna().mean() > 0.9]
        if not numeric:
            raise TerritoireError("aucune colonne de population (attendu : « population »).", path)
        roles["population"] = numeric[0]
    pop_header = headers[roles["population"]]
    journal.info(f"Colonne « {headers[roles['code']]} » lue comme code INSEE, « {pop_header} » comme population.")
    _check_separators(df[roles["population"]], df["_ligne"], pop_header, path)
    values = _parse_numbers(df[roles["population"]])
    bad = values.isna() | (values < 0) | (values != values.round())
    if bad.any():
        i = bad.idxmax()
        raise TerritoireError(f"ligne {df.at[i, '_ligne']}, colonne « {pop_header} » : "
                              f"« {df.at[i, roles['population']]} » n'est pas une population "
                              "(nombre entier positif attendu, avec ou sans séparateur de milliers).", path)
    huge = values > MAX_POPULATION
    if huge.any():
        i = huge.idxmax()
        raise TerritoireError(f"ligne {df.at[i, '_ligne']}, colonne « {pop_header} » : "
                              f"« {df.at[i, roles['population']]} » habitants, plus que la France entière : "
                              "erreur de saisie ou d'export.", path)
    codes = harmonise.normalise_code(df[roles["code"]])
    dup = codes["code"].notna() & codes["code"].duplicated(keep=False)
    if dup.any():
        code = codes.loc[dup, "code"].iloc[0]
        lines = df.loc[dup & (codes["code"] == code), "_ligne"].tolist()
        raise TerritoireError(f"le code INSEE {code} apparaît deux fois (lignes {lines[0]} et {lines[1]}) : "
                              "sa population serait comptée deux fois. Gardez une seule ligne par commune.",
                              path)
    harm = harmonise.harmonise_codes(codes["code"].fillna(""))
    unknown = harm["nature"] == "inconnu"
    for i in harm.index[unknown]:
        journal.warn(f"Ligne {df.at[i, '_ligne']} : code INSEE « {codes.at[i, 'brut']} » inconnu ; ignoré.")
    city = harm["nature"] == "ville"
    if city.any():
        for code in sorted(set(harm.loc[city, "code_source"])):
            journal.warn(f"Code {code} (ville entière) : sa population ne peut pas être répartie "
                         "entre arrondissements ; donnez les arrondissements. Ignoré.")
    harm = harm[~unknown & ~city]
    pops = values.loc[harm.index].astype("int64")
    merged = harm.groupby("code_commune")["code_source"].nunique()
    for code in merged[merged > 1].index:
        srcs = sorted(harm.loc[harm["code_commune"] == code, "code_source"])
        journal.info(f"Populations des codes {', '.join(srcs)} additionnées pour {code} "
                     f"({reference.units().at[code, 'nom']}).")
    series = pops.groupby(harm["code_commune"]).sum().astype("int64").sort_index().rename("population")
    year = re.search(r"(19|20)\d{2}", pop_header)
    return Population(valeurs=series, millesime=year.group(0) if year else None,
                      journal=journal, source=path.name)

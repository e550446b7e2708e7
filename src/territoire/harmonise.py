"""Harmonise what users write to the current COG: codes, names, statuses.

Pure functions over pandas objects; the readers in :mod:`territoire.io` call
them and turn their findings into messages.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

from . import reference, settings
from .errors import Journal
from .groups import isin as fast_isin

_NUMERIC = re.compile(r"^\d{1,5}(?:[.,]0+)?$")
_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def normalise_code(values: pd.Series) -> pd.DataFrame:
    """Clean raw INSEE codes and repair the ones a spreadsheet turned into numbers.

    Parameters
    ----------
    values : pandas.Series
        Raw cell values (any dtype).

    Returns
    -------
    pandas.DataFrame
        Columns ``brut`` (the text as read), ``code`` (five characters or
        ``None`` when empty) and ``repare`` (True where leading zeros were
        restored, e.g. ``1001`` -> ``01001``).
    """
    raw = values.astype("string").fillna("").str.strip().str.replace(r"\s+", "", regex=True).str.upper()
    numeric = raw.str.match(_NUMERIC.pattern).fillna(False)
    digits = raw.where(~numeric, raw.str.replace(r"[.,]0+$", "", regex=True))
    repaired = numeric & (digits.str.len() < 5)
    code = digits.where(~repaired, digits.str.zfill(5))
    return pd.DataFrame({
        "brut": raw.astype(object),
        "code": code.where(code != "", None).astype(object),
        "repare": repaired.to_numpy(bool),
    }, index=values.index)


def harmonise_codes(codes: pd.Series) -> pd.DataFrame:
    """Map codes of any COG vintage to current territorial units.

    A current code stands for itself; a former code (merged, delegated or
    associated commune) for the commune that absorbed it; a whole-city code
    of Paris, Lyon or Marseille for all its arrondissements (so that row is
    repeated once per arrondissement).

    Parameters
    ----------
    codes : pandas.Series
        Clean five-character codes (see :func:`normalise_code`).

    Returns
    -------
    pandas.DataFrame
        Same index as ``codes`` (repeated for whole cities), columns
        ``code_source``, ``code_commune`` (``None`` when unknown) and
        ``nature``: ``actuel``, ``ancien``, ``ville`` or ``inconnu``.
    """
    units = reference.units()
    former = reference.former_codes()
    src = codes.astype(object)
    current = pd.Series(fast_isin(src, units.index), index=src.index)  # pandas' isin on Arrow strings is slow
    old = ~current & fast_isin(src, former.index)
    target = src.where(current, None)
    target = target.where(~old, src.map(former))
    # A former code may point to a PLM city (e.g. an absorbed commune of
    # Marseille's past): treat it as the city.
    city = src.isin(settings.PLM_CITIES) | target.isin(settings.PLM_CITIES)
    nature = np.select([current, city, old], ["actuel", "ville", "ancien"], "inconnu")
    out = pd.DataFrame({"code_source": src, "code_commune": target, "nature": nature}, index=codes.index)
    if city.any():
        arrs = units.loc[units["type"] == "ARM", ["commune_parent"]]
        by_city = arrs.groupby("commune_parent").groups
        city_code = src.where(src.isin(settings.PLM_CITIES), target)
        out.loc[city, "code_commune"] = city_code[city].map(lambda c: sorted(by_city[c]))
        out = out.explode("code_commune")
    return out


# --- Names -------------------------------------------------------------------

_ARTICLES = {"le", "la", "les", "l"}
_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def name_key(name: str) -> str:
    """Comparison key of a commune name.

    No accents, case, hyphens or apostrophes; ``St``/``Ste`` spelt out; a
    trailing article in brackets, as in ``Ville-du-Bois (La)``, moved to the
    front.
    """
    text = str(name).replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    tokens = re.sub(r"[^a-z0-9]+", " ", text).split()
    tokens = [_ABBREV.get(t, t) for t in tokens]
    if len(tokens) > 1 and tokens[-1] in _ARTICLES and "(" in str(name):
        tokens = [tokens[-1], *tokens[:-1]]
    return " ".join(tokens)


@functools.cache
def _name_index() -> pd.DataFrame:
    """Comparison keys of current and delegated commune names (built once per process)."""
    units = reference.units()
    current = pd.DataFrame({"cle": units["nom"].map(name_key), "code_commune": units.index,
                            "departement": units["departement"], "nature": "actuel"})
    names = pd.read_csv(settings.data_dir() / "anciens_codes.csv", dtype=str).dropna(subset=["nom"])
    old = pd.DataFrame({"cle": names["nom"].map(name_key), "code_commune": names["code_actuel"],
                        "departement": names["code_actuel"].map(units["departement"]),
                        "nature": "ancien"})
    old = old[old["code_commune"].isin(units.index)]
    return pd.concat([current, old], ignore_index=True)


def match_names(names: pd.Series, departements: pd.Series) -> pd.DataFrame:
    """Find the current unit of each commune name, within its département.

    Parameters
    ----------
    names : pandas.Series
        Commune names as written.
    departements : pandas.Series
        Département code for each name (``None`` to search all of France).

    Returns
    -------
    pandas.DataFrame
        Same index; ``code_commune`` (``None`` unless exactly one commune
        matches), ``nb_candidats`` and ``candidats`` (codes, for messages).
        A name matching several communes is never guessed.
    """
    idx = _name_index()
    keys = names.map(name_key)
    query = pd.DataFrame({"cle": keys, "dep": departements.astype(object)}, index=names.index)
    query["_row"] = np.arange(len(query))
    m = query.merge(idx, on="cle", how="left")
    m = m[m["dep"].isna() | (m["departement"] == m["dep"])]
    # Prefer current names: drop delegated-name candidates when a current one exists.
    has_current = m.groupby("_row")["nature"].transform(lambda s: (s == "actuel").any())
    m = m[(m["nature"] == "actuel") | ~has_current]
    cands = m.dropna(subset=["code_commune"]).groupby("_row")["code_commune"].agg(lambda s: sorted(set(s)))
    out = pd.DataFrame(index=names.index)
    listed = pd.Series([cands.get(i, []) for i in range(len(query))], index=names.index)
    out["nb_candidats"] = listed.map(len)
    out["candidats"] = listed
    out["code_commune"] = listed.map(lambda c: c[0] if len(c) == 1 else None)
    return out


# --- Statuses ------------------------------------------------------------------

#: A step refused, ended, abandoned or only planned is not a step reached: such texts are never
#: mapped (the status stays unknown, and the text is reported).
NOT_REACHED = re.compile(r"\b(resili\w*|refus\w*|rejet\w*|abandon\w*|ex|ancien\w*|prevu\w*|envisag\w*|"
                         r"a venir|futur\w*|dissou\w*|suspendu\w*|arrete\w*|retir\w*|rompu\w*|denonc\w*|"
                         r"caduc\w*|termine\w*|en attente(?! de signature))\b")
#: A step denied ("pas encore de LI", "LI non validée", "sans projet de santé"): not reached, reported.
#: Checked after the pending signatures ("ACI non signé" is a validated health project awaiting signature).
NEGATED = re.compile(r"\b(pas|sans|aucune?|jamais|non|ni)\b")
#: A step still being prepared is the step before it: "LI en cours" is a project, "projet de santé
#: en cours de rédaction" a validated letter of intent.
_IN_PROGRESS = r"\b(en cours|en preparation|en redaction|a l etude|en construction|en elaboration)\b"

_PENDING_SIGNATURE = [
    # Pending signatures first: "ACI non signé" is not signed, its health project is validated.
    (r"\b(non|pas encore|en attente de|en cours de) sign", "projet_sante"),
    (r"\b(aci|contrat)\b.*\b(a signer|en negociation|en preparation)", "projet_sante"),
]
_STATUS_RULES: list[tuple[str, str]] = [
    (rf"(projet de sante|\bps\b).*{_IN_PROGRESS}", "lettre_intention"),
    (rf"(lettre d intention|\bli\b).*{_IN_PROGRESS}", "en_projet"),
    (r"signataire|\bsigne|contrat aci|\baci\b|contractualis|en fonctionnement|financee? par l aci", "signataire_aci"),
    (r"\bamont\b|emergence|emergente|reflexion|pre ?projet|initiative", "en_projet"),
    (r"(construction|redaction|elaboration|ecriture|preparation)\b.*projet de sante", "lettre_intention"),
    (r"projet de sante|\bps\b", "projet_sante"),
    (r"lettre d intention|\bli\b|\blettre\b|ingenierie|\bfir\b", "lettre_intention"),
    (r"projet|initiative|emergence|emergente|reflexion|amont|debut|constitution|pre ?projet|"
     r"construction|creation|en cours", "en_projet"),
]


def map_status(texts: pd.Series) -> pd.Series:
    """Map free French status text to the four maturity steps.

    Returns the step (``en_projet``, ``lettre_intention``, ``projet_sante``,
    ``signataire_aci``), ``None`` for an empty cell and ``pd.NA`` for text
    that could not be mapped (to be reported).
    """
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            return None
        key = name_key(str(value))
        compact = key.replace(" ", "_")
        if compact in settings.STATUS_RANK:
            return compact
        if NOT_REACHED.search(key):
            return pd.NA
        for pattern, status in _PENDING_SIGNATURE:
            if re.search(pattern, key):
                return status
        if NEGATED.search(key):
            return pd.NA
        for pattern, status in _STATUS_RULES:
            if re.search(pattern, key):
                return status
        return pd.NA

    # Files repeat a handful of status texts: map each distinct text once.
    values = texts.to_numpy(dtype=object)
    lookup = {v: one(v) for v in pd.unique(values) if isinstance(v, str)}
    return pd.Series([lookup[v] if isinstance(v, str) else one(v) for v in values], index=texts.index, dtype=object)


# --- Splits --------------------------------------------------------------------------------

def apply_splits(rows: pd.DataFrame, journal: Journal) -> pd.DataFrame:
    """Communes split off since the file's geography: said, and added when the file is evidently older.

    ``rows`` has ``cpts``, ``code_source``, ``code_commune`` and ``nature``
    (see :func:`harmonise_codes`). A current code whose commune has lost
    communes since (85084 Essarts-en-Bocage: L'Oie and Sainte-Florence, 2024)
    stays that commune; an information line names those split off. They are
    added to the perimeter, with a warning, only when the file's geography is
    evidently older than the split: it holds other codes abolished no later
    than the split's COG. A former code abolished by a split goes to all its
    successors, with a warning. Returns ``rows`` with the added rows
    (``nature`` ``scission``).
    """
    units = reference.units()
    splits = reference.splits()
    former = reference.former_table()
    added = []
    broken = former[former["nature"] == "scission"]
    for (code, cpts), grp in rows[fast_isin(rows["code_source"], set(broken["ancien_code"]))].groupby(
            ["code_source", "cpts"], sort=True):
        succ = sorted(set(broken.loc[broken["ancien_code"] == code, "code_actuel"]) - set(grp["code_commune"]))
        listed = ", ".join(f"{units.at[c, 'nom']} ({c})" for c in [*grp["code_commune"].unique(), *succ])
        journal.warn(f"Code {code} (commune scindée) : lu comme toutes les communes issues de la scission "
                     f"pour « {cpts} » ({listed}).")
        added += [grp.iloc[0].to_dict() | {"code_commune": c, "nature": "scission"} for c in succ]
    mine = splits[fast_isin(splits["code_commune"], set(rows.loc[rows["nature"] == "actuel", "code_commune"]))]
    mine = mine[~fast_isin(mine["code_separe"], set(rows["code_commune"]))]
    abolished = former.loc[fast_isin(former["ancien_code"], set(rows["code_source"])), ["ancien_code", "premier_cog_sans"]]
    abolished = abolished.dropna().drop_duplicates("ancien_code")
    for code, grp in mine.groupby("code_commune", sort=True):
        cog = int(grp["cog"].max())
        names = ", ".join(f"{units.at[c, 'nom']} ({c})" for c in grp["code_separe"])
        proof = abolished[abolished["premier_cog_sans"] <= cog].sort_values(["premier_cog_sans", "ancien_code"])
        whose = rows.loc[(rows["code_commune"] == code) & (rows["nature"] == "actuel")]
        if proof.empty:
            journal.info(f"Code {code} ({units.at[code, 'nom']}) : {names} en ont été séparées au COG {cog} ; "
                         "non ajoutées (rien n'indique que le fichier est antérieur à la scission).")
            continue
        first = proof.iloc[0]
        journal.warn(f"Code {code} ({units.at[code, 'nom']}) : le fichier est antérieur au COG {cog} (il cite "
                     f"{first['ancien_code']}, absent du COG {first['premier_cog_sans']}) ; {names}, séparées "
                     f"depuis, ajoutées à « {' », « '.join(sorted(whose['cpts'].unique()))} ».")
        for _, r in whose.drop_duplicates("cpts").iterrows():
            added += [r.to_dict() | {"code_commune": c, "nature": "scission"} for c in grp["code_separe"]]
    if not added:
        return rows
    return pd.concat([rows, pd.DataFrame(added)], ignore_index=True)

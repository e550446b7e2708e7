"""Normalisation: any table or layer of perimeters (or populations) becomes the validated result.

One way in, whatever the source: a raw table read from a file by
:mod:`territoire.readers` or given in memory, a polygon layer in any CRS.
Columns are recognised by their headers, codes are repaired and harmonised
to the current COG (former codes, whole cities), names are checked against
codes, statuses mapped, polygons attributed to communes; every choice and
problem goes to the journal with the line and column it concerns.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import harmonise, reference, settings, shares
from .errors import Journal, TerritoireError
from .models import Perimetres

#: Headers people write, by role (compared after :func:`harmonise.name_key`).
ALIASES: dict[str, list[str]] = {
    "cpts": ["cpts", "nom de la cpts", "nom cpts", "nom du projet", "projet", "projet de cpts",
             "nom de la communaute", "libelle cpts", "nom du projet de cpts", "communaute"],
    "code": ["code insee", "insee", "code commune", "codgeo", "code geo", "depcom", "com", "code",
             "cog", "code insee commune", "n insee", "numero insee", "code com", "insee com"],
    "commune": ["commune", "nom commune", "nom de la commune", "libelle commune", "libgeo",
                "libelle", "ville", "communes"],
    "statut": ["statut", "etat d avancement", "avancement", "stade", "maturite", "etat",
               "niveau d avancement", "statut cpts", "etape"],
    "departement": ["departement", "dep", "code departement", "dept", "num departement"],
    "population": ["population", "pop", "population totale", "population municipale", "ptot",
                   "pmun", "habitants", "nb habitants", "nombre d habitants"],
}
ROLE_LABELS = {"cpts": "nom de la CPTS", "code": "code INSEE", "commune": "nom de commune",
               "statut": "statut", "departement": "département", "population": "population"}



def _key(header: object) -> str:
    return harmonise.name_key(str(header)) if header is not None else ""


def _score(key: str, alias: str) -> int:
    if not key:
        return 0
    if key == alias:
        return 1000 + len(alias)
    # "Code INSEE (2017)", "Population totale (décembre 2017)": the alias opens the header.
    if re.match(rf"{re.escape(alias)}( |$)", key):
        return len(alias)
    return 0


#: Headers of postal codes: never an INSEE code (91200 is Athis-Mons by post, Dourdan by INSEE).
POSTAL = re.compile(r"\bpostale?s?\b|^cp\b|\bcp$|^cedex\b")


def detect_roles(headers: list[str], wanted: tuple[str, ...]) -> dict[str, int]:
    """Choose a column for each role from its header.

    An exact alias beats a header that merely contains one; a column serves
    one role at most; a postal code column is never the INSEE code.
    """
    keys = [_key(h) for h in headers]
    keys = [("" if POSTAL.search(k) else k) for k in keys]
    scored = []
    for role in wanted:
        for i, k in enumerate(keys):
            best = max(_score(k, a) for a in ALIASES[role])
            if best:
                scored.append((best, -wanted.index(role), -i, role, i))
    chosen: dict[str, int] = {}
    used: set[int] = set()
    for _, _, _, role, i in sorted(scored, reverse=True):
        if role not in chosen and i not in used:
            chosen[role] = i
            used.add(i)
    return chosen


def describe_columns(headers: list[str], roles: dict[str, int], journal: Journal) -> dict[str, str]:
    """The column taken for each role, each choice written to the journal."""
    taken = {role: headers[i] for role, i in roles.items() if role != "population"}
    for role, name in taken.items():
        journal.info(f"Colonne « {name} » lue comme {ROLE_LABELS[role]}.")
    return taken



def _cpts_names(df: pd.DataFrame, roles: dict[str, int], path: Path, journal: Journal,
                colonnes: dict[str, str]) -> pd.Series:
    """The CPTS name of each row: variants grouped, blanks of merged cells filled where they are merges."""
    headers, line = df.attrs["headers"], df["_ligne"]
    if "cpts" in roles:
        cpts = df[roles["cpts"]].astype(str).str.strip()
        cpts = _group_name_variants(cpts.mask(cpts.str.lower().isin(BLANK_NAMES), "").replace("", None), journal)
        if cpts.isna().all():
            raise TerritoireError(f"la colonne « {headers[roles['cpts']]} » (nom de la CPTS) est vide sur toutes "
                                  "les lignes : aucune commune n'est rattachée à une CPTS.", path)
        if not df.attrs.get("fusions_declarees"):
            cpts = fill_merged_names(cpts, line, journal)
        elif cpts.isna().any():
            journal.info(f"{int(cpts.isna().sum())} ligne(s) sans nom de CPTS (hors cellules fusionnées) : "
                         "communes sans CPTS.")
    else:
        cpts = pd.Series(path.stem, index=df.index, dtype=object)
        journal.warn(f"Aucune colonne de nom de CPTS : tout le fichier est lu comme une seule "
                     f"CPTS, « {path.stem} ».")
        colonnes["cpts"] = "(nom du fichier)"
    return cpts


def table_to_perimeters(df: pd.DataFrame, roles: dict[str, int], path: Path, journal: Journal,
                         colonnes: dict[str, str]) -> Perimetres:
    """A raw table of (CPTS, commune) rows to validated perimeters.

    Names left blank under merged cells are filled down, codes repaired and
    harmonised (former codes, whole cities), names matched where a code is
    missing and checked against codes, statuses mapped; each choice and
    problem goes to ``journal`` with its line and column.
    """
    headers = df.attrs["headers"]
    n = len(df)
    if n == 0:
        raise TerritoireError("le tableau n'a aucune ligne de données sous l'en-tête.", path)
    line = df["_ligne"]

    cpts = _cpts_names(df, roles, path, journal, colonnes)
    status_raw = (df[roles["statut"]].astype(str).str.strip().replace("", None)
                  if "statut" in roles else pd.Series(None, index=df.index, dtype=object))
    if "statut" in roles and "cpts" in roles:
        status_raw = status_raw.groupby(cpts).ffill()

    codes = (harmonise.normalise_code(df[roles["code"]]) if "code" in roles
             else pd.DataFrame({"brut": "", "code": None, "repare": False}, index=df.index))
    names = (df[roles["commune"]].astype(str).str.strip().replace("", None)
             if "commune" in roles else pd.Series(None, index=df.index, dtype=object))
    repaired = codes["repare"]
    if repaired.any():
        ex = codes[repaired].iloc[0]
        journal.info(f"{int(repaired.sum())} code(s) INSEE réparé(s) (zéro initial perdu par le "
                     f"tableur), par exemple {ex['brut']} → {ex['code']} (ligne {line[repaired].iloc[0]}).")

    well_formed = codes["code"].str.match(r"^(?:\d{5}|2[AB]\d{3})$").fillna(False).astype(bool)
    bad_format = codes["code"].notna() & ~well_formed
    for i in df.index[bad_format]:
        journal.warn(f"Ligne {line[i]}, colonne « {headers[roles['code']]} » : « {codes.at[i, 'brut']} » "
                     "n'est pas un code INSEE ; ligne ignorée.")
    codes.loc[bad_format, "code"] = None

    share_col = shares.share_column(headers)
    part_raw = (shares.parse_shares(df[share_col[0]], share_col[1], line, headers[share_col[0]], path)
                if share_col else pd.Series(np.nan, index=df.index))
    if share_col:
        journal.info(f"Colonne « {headers[share_col[0]]} » lue comme part de la population de la commune "
                     f"dans la CPTS ({share_col[1]}) ; vide : la commune entière.")
        colonnes["part_population"] = headers[share_col[0]]
    rows = pd.DataFrame({"cpts": cpts, "statut_brut": status_raw, "code": codes["code"],
                         "nom": names, "_ligne": line, "part_brute": part_raw})
    rows = rows[rows["cpts"].notna()]
    _names_for_unknown_codes(rows, journal)
    _match_missing_codes(rows, roles, df, headers, journal)
    rows = rows[rows["code"].notna()]
    if rows.empty:
        raise TerritoireError("aucune ligne exploitable : aucun code INSEE valide ni nom de "
                              "commune reconnu.", path)

    # A whole city becomes several rows (its arrondissements): one index entry per row from here on.
    rows = rows.drop(columns="code").join(harmonise.harmonise_codes(rows["code"])).reset_index(drop=True)
    _report_harmonisation(rows, journal)
    rows = rows[rows["code_commune"].notna()]
    rows = harmonise.apply_splits(rows, journal)
    if rows.empty:
        raise TerritoireError("aucun code de commune connu dans le fichier.", path)
    rows = _check_names_against_codes(rows, headers, roles, journal)

    statut = _statuses(rows, journal)
    part_population = (shares.to_fraction(rows["part_brute"], share_col[1], rows["code_commune"], journal)
                       if share_col else 1.0)
    table = rows[["cpts", "code_commune"]].assign(statut=rows["cpts"].map(statut), part=1.0,
                                                  part_population=part_population)
    return _finish(table, rows, journal, path, colonnes)


def fill_merged_names(cpts: pd.Series, line: pd.Series, journal: Journal) -> pd.Series:
    """Fill the blank names that merged cells left in a CSV export, and only those.

    A text file does not say which cells were merged. A run of blank names
    is read as merged under the name above it when a named row follows the
    run, or when the run is no longer than the longest group above it (a
    merged block ending the file). Otherwise (a list of all the communes of
    a département where only some have a CPTS) its rows are communes
    without CPTS, and the count is printed.
    """
    blank = cpts.isna().to_numpy()
    if not blank.any():
        return cpts
    values = cpts.to_numpy(dtype=object).copy()
    # Runs of equal blankness: [start, end) of each.
    edges = np.flatnonzero(np.diff(blank.astype(np.int8))) + 1
    longest, current, name = 0, 0, None  # longest group so far, length and name of the group above
    filled = left = 0
    for start, end in zip(np.r_[0, edges], np.r_[edges, len(values)]):
        if not blank[start]:
            for v in values[start:end]:
                longest, current, name = (longest, current + 1, name) if v == name else (max(longest, current), 1, v)
            continue
        if name is None:
            journal.warn(f"Ligne {int(line.iloc[start])} et suivantes : pas de nom de CPTS avant la première "
                         "ligne nommée ; communes sans CPTS.")
            left += end - start
        elif end < len(values) or end - start <= max(longest, current):
            values[start:end] = name
            filled += end - start
            current += end - start
        else:
            left += end - start
            journal.warn(f"Lignes {int(line.iloc[start])} à {int(line.iloc[end - 1])} : {end - start} communes "
                         f"sans nom de CPTS après « {name} », plus que n'en compte aucune CPTS au-dessus "
                         f"({max(longest, current)} lignes) : lues comme communes sans CPTS, pas comme des "
                         "cellules fusionnées.")
    if filled:
        journal.info(f"{filled} ligne(s) sans nom de CPTS rattachée(s) à la CPTS de la ligne au-dessus "
                     "(cellules fusionnées).")
    if left:
        journal.info(f"{left} ligne(s) sans nom de CPTS : communes sans CPTS.")
    return pd.Series(values, index=cpts.index, dtype=object)


#: What spreadsheets and exports write for "no value": never the name of a CPTS.
BLANK_NAMES = frozenset({"na", "n/a", "n.a.", "nan", "null", "none", "-", "--", "—", "#n/a", "néant", "?"})


def _group_name_variants(cpts: pd.Series, journal: Journal) -> pd.Series:
    """Names that differ only by case, accents, hyphens or spaces are one CPTS (the most written spelling)."""
    names = cpts.dropna()
    if names.empty:
        return cpts
    key_of = {v: harmonise.name_key(v) for v in names.unique()}  # once per distinct name, not per row
    keys = names.map(key_of)
    counts = pd.DataFrame({"nom": names, "cle": keys}).value_counts().reset_index(name="n")
    # The most written spelling; on a tie, one without doubled spaces and not all in lower case.
    counts["brouillon"] = counts["nom"].str.contains("  ", regex=False) | counts["nom"].str.islower()
    counts = counts.sort_values(["cle", "n", "brouillon", "nom"], ascending=[True, False, True, True])
    canonical = counts.drop_duplicates("cle").set_index("cle")["nom"]
    for key, grp in counts[counts["cle"].duplicated(keep=False)].groupby("cle", sort=True):
        variants = ", ".join(f"« {v} »" for v in sorted(grp["nom"]))
        journal.warn(f"Noms de CPTS qui ne diffèrent que par la casse, les accents ou les espaces, "
                     f"regroupés : {variants} → « {canonical[key]} ».")
    spelling = {v: canonical.get(k, v) for v, k in key_of.items()}
    return cpts.where(cpts.isna(), cpts.map(lambda v: spelling.get(v, v)))


def _match_missing_codes(rows: pd.DataFrame, roles: dict[str, int], df: pd.DataFrame,
                         headers: list[str], journal: Journal) -> None:
    for i in rows.index[rows["code"].isna() & rows["nom"].isna()]:
        journal.warn(f"Ligne {rows.at[i, '_ligne']} : ni code INSEE ni nom de commune ; ligne ignorée.")
    todo = rows["code"].isna() & rows["nom"].notna()
    if not todo.any():
        return
    units = reference.units()
    known = (harmonise.harmonise_codes(rows["code"].dropna())["code_commune"].groupby(level=0).first()
             .reindex(rows.index) if rows["code"].notna().any() else None)
    dep_of = pd.Series(None, index=rows.index, dtype=object)
    if "departement" in roles:
        dep_col = df.loc[rows.index, roles["departement"]].astype(str).str.strip()
        dep_of = dep_col.where(dep_col != "", None).map(
            lambda d: d.zfill(2) if d and d.isdigit() and len(d) < 2 else d)
    if known is not None:
        deps = known.map(units["departement"])
        by_cpts = deps.groupby(rows["cpts"]).agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
        file_dep = deps.mode().iloc[0] if deps.notna().any() else None
        dep_of = dep_of.fillna(rows["cpts"].map(by_cpts)).fillna(file_dep)
    res = harmonise.match_names(rows.loc[todo, "nom"], dep_of[todo])
    rows.loc[todo, "code"] = res["code_commune"]
    for i in res.index:
        nom, ln = rows.at[i, "nom"], rows.at[i, "_ligne"]
        dep = dep_of.get(i)
        where = f" dans le département {dep}" if dep else ""
        if res.at[i, "nb_candidats"] == 1:
            code = res.at[i, "code_commune"]
            journal.info(f"Ligne {ln} : commune « {nom} » reconnue par son nom → {code} "
                         f"({units.at[code, 'nom']}).")
        elif res.at[i, "nb_candidats"] == 0:
            journal.warn(f"Ligne {ln}, colonne « {headers[roles['commune']]} » : commune « {nom} » "
                         f"inconnue{where} ; ligne ignorée.")
        else:
            cands = ", ".join(f"{c} ({units.at[c, 'nom']})" for c in res.at[i, "candidats"])
            journal.warn(f"Ligne {ln}, colonne « {headers[roles['commune']]} » : le nom « {nom} » "
                         f"désigne plusieurs communes{where} ({cands}) ; indiquez le code INSEE. "
                         "Ligne ignorée.")


def _report_harmonisation(rows: pd.DataFrame, journal: Journal) -> None:
    units = reference.units()
    old = rows[rows["nature"] == "ancien"].drop_duplicates("code_source")
    for _, r in old.sort_values("code_source").iterrows():
        journal.info(f"Code {r['code_source']} (ancienne commune) harmonisé en {r['code_commune']} "
                     f"({units.at[r['code_commune'], 'nom']}, COG {reference.metadata()['cog']}).")
    city = rows[rows["nature"] == "ville"].drop_duplicates(["code_source", "cpts"])
    for _, r in city.iterrows():
        journal.info(f"Code {r['code_source']} (ville entière) lu comme tous ses arrondissements "
                     f"pour « {r['cpts']} ».")
    unknown = rows[rows["nature"] == "inconnu"]
    for _, r in unknown.iterrows():
        journal.warn(f"Ligne {r['_ligne']} : code INSEE {r['code_source']} inconnu (ni actuel ni "
                     "ancien) ; ligne ignorée.")


def _names_for_unknown_codes(rows: pd.DataFrame, journal: Journal) -> None:
    """A code that is no commune (a postal code, a typo) with a commune name: the name is looked up."""
    has_both = rows["code"].notna() & rows["nom"].notna()
    if not has_both.any():
        return
    nature = harmonise.harmonise_codes(rows.loc[has_both, "code"])["nature"].groupby(level=0).first()
    unknown = nature.index[nature == "inconnu"]
    for i in unknown:
        journal.warn(f"Ligne {rows.at[i, '_ligne']} : code {rows.at[i, 'code']} inconnu ; commune cherchée par son "
                     f"nom, « {rows.at[i, 'nom']} ».")
    rows.loc[unknown, "code"] = None


def _check_names_against_codes(rows: pd.DataFrame, headers: list[str], roles: dict[str, int],
                               journal: Journal) -> pd.DataFrame:
    """A row whose name designates another commune than its code: the name wins when it is unambiguous.

    The name is looked up in the département of the code; a name found
    nowhere there (a typo, a quartier) leaves the code as it is.
    """
    units = reference.units()
    both = rows[rows["nom"].notna() & (rows["nature"] == "actuel")]
    if both.empty:
        return rows
    # Compare spellings only where the text differs from the reference name.
    differ = both[both["nom"] != both["code_commune"].map(units["nom"])]
    same = differ["nom"].map(harmonise.name_key) == differ["code_commune"].map(units["nom"]).map(harmonise.name_key)
    suspect = differ[~same]
    if suspect.empty:
        return rows
    res = harmonise.match_names(suspect["nom"], suspect["code_commune"].map(units["departement"]))
    clash = (res["nb_candidats"] == 1) & res["code_commune"].notna() & (res["code_commune"] != suspect["code_commune"])
    column = headers[roles["code"]] if "code" in roles else "code"
    for i in res.index[clash]:
        old, new = rows.at[i, "code_commune"], res.at[i, "code_commune"]
        journal.warn(f"Ligne {rows.at[i, '_ligne']}, colonne « {column} » : le code {old} ({units.at[old, 'nom']}) ne "
                     f"correspond pas au nom « {rows.at[i, 'nom']} » : le nom est retenu, {new} "
                     f"({units.at[new, 'nom']}).")
    rows = rows.copy()
    rows.loc[res.index[clash], "code_commune"] = res.loc[clash, "code_commune"]
    return rows


def _statuses(rows: pd.DataFrame, journal: Journal) -> pd.Series:
    """One status per CPTS (the most mature when rows disagree)."""
    mapped = harmonise.map_status(rows["statut_brut"])
    unmapped = rows.loc[mapped.isna() & rows["statut_brut"].notna(), "statut_brut"]
    mapped_ok = mapped.where(mapped.notna() & (mapped.astype(str) != "<NA>"), None)
    mapped_ok = mapped_ok.where(~mapped.isna(), None)
    for text in sorted(set(unmapped)):
        if harmonise.NOT_REACHED.search(harmonise.name_key(str(text))) or harmonise.NEGATED.search(
                harmonise.name_key(str(text))):
            journal.warn(f"Statut « {text} » : étape refusée, niée, terminée ou seulement prévue, donc non atteinte ; "
                         "statut laissé inconnu, à préciser.")
        else:
            journal.warn(f"Statut « {text} » non reconnu (attendu : en projet, lettre d'intention, "
                         "projet de santé, signataire ACI) ; statut laissé inconnu.")
    read_as = {str(t): settings.STATUS_LABELS.get(str(m), "") for t, m in zip(rows["statut_brut"], mapped_ok)
               if isinstance(t, str) and m is not None}
    if read_as:
        journal.info("Statuts lus : " + " ; ".join(f"« {t} » → {label}" for t, label in sorted(read_as.items()))
                     + ".")
    per = pd.DataFrame({"cpts": rows["cpts"], "statut": mapped_ok}).dropna().drop_duplicates()
    per["rang"] = per["statut"].map(settings.STATUS_RANK)
    per = per.sort_values(["cpts", "rang"])
    out = dict.fromkeys(sorted(rows["cpts"].unique()))
    out.update(per.groupby("cpts", sort=True)["statut"].last().to_dict())
    for name, grp in per[per["cpts"].duplicated(keep=False)].groupby("cpts", sort=True):
        vals = list(grp["statut"])
        journal.warn(f"CPTS « {name} » : plusieurs statuts ({', '.join(vals)}) ; "
                     f"le plus avancé est retenu ({vals[-1]}).")
    if all(v is None for v in out.values()) and rows["statut_brut"].isna().all():
        journal.info("Aucun statut dans le fichier : statut inconnu pour toutes les CPTS.")
    return pd.Series(out, dtype=object)


def _finish(table: pd.DataFrame, rows: pd.DataFrame, journal: Journal, path: Path,
            colonnes: dict[str, str], coupees: pd.DataFrame | None = None) -> Perimetres:
    units = reference.units()
    dup = table.duplicated(["cpts", "code_commune"], keep="first")
    if dup.any():
        for (name, code), grp in table[table.duplicated(["cpts", "code_commune"], keep=False)].groupby(
                ["cpts", "code_commune"], sort=True):
            journal.info(f"CPTS « {name} » : commune {code} ({units.at[code, 'nom']}) citée "
                         f"{len(grp)} fois (codes {', '.join(sorted(set(rows.loc[grp.index, 'code_source'])))}) ; "
                         "comptée une fois.")
    table = table[~dup]
    # A commune far from the rest of its CPTS is often a typing error.
    deps = table["code_commune"].map(units["departement"])
    # Main département of each CPTS: the most frequent, the smallest code on a tie.
    counts = pd.DataFrame({"cpts": table["cpts"], "dep": deps}).value_counts().reset_index(name="n")
    main = counts.sort_values(["cpts", "n", "dep"], ascending=[True, False, True]).drop_duplicates("cpts")
    main = main.set_index("cpts")["dep"]
    odd = table[(deps != table["cpts"].map(main)).to_numpy()].assign(dep=deps)
    # One line per CPTS and département (a CPTS across a border is legitimate: not one line per commune).
    for (name, dep), grp in odd.sort_values("code_commune").groupby(["cpts", "dep"], sort=True):
        names = [f"{units.at[c, 'nom']} ({c})" for c in grp["code_commune"]]
        shown = ", ".join(names[:5]) + (f" et {len(names) - 5} autre(s)" if len(names) > 5 else "")
        journal.warn(f"CPTS « {name} » : {len(names)} commune(s) du département {dep} ({shown}), "
                     f"les autres surtout dans le {main[name]}.")
    if "part_population" not in table:
        table = table.assign(part_population=1.0)
    table = (table[["cpts", "statut", "code_commune", "part", "part_population"]]
             .astype({"cpts": object, "statut": object, "code_commune": object, "part": "float64",
                      "part_population": "float64"})
             .sort_values(["cpts", "code_commune"], kind="stable").reset_index(drop=True))
    return Perimetres(table=table, journal=journal, source=path.name, colonnes=colonnes,
                      communes_coupees=coupees if coupees is not None else pd.DataFrame())

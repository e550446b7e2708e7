"""Health indicators per territory: commune tables aggregated per CPTS, white zone, département and scope.

An ARS has commune-level tables (Rezone exports, DREES, INSEE, its own): one
row per commune, a code column and numeric columns. Each column is either

- a **count** (patients without a médecin traitant, people aged 75 or more):
  summed;
- a **rate** with its denominator (``part_ald`` beside ``part_ald_denominateur``,
  or ``denominateur_part_ald``): the ratio of the sums, never the mean of the
  rates; a rate above 1 anywhere in its column is read as a percentage.

A shared commune counts for its population share in each CPTS (the same rule
as its inhabitants). Statistical secrecy: a count under the threshold
(:data:`SEUIL_SECRET`, 11 by default), or a rate whose numerator or
denominator is under it, is never shown (``secret``); and when one cell of a
set adding up to a shown total is secret, the smallest other one is hidden
too (secondary secrecy), so that no hidden value can be recovered by
difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import harmonise
from .errors import Journal, TerritoireError
from .models import Audit

#: Counts under this are hidden (statistical secrecy).
SEUIL_SECRET = 11
SECRET = "secret"
_DENOMINATOR = re.compile(r"^(?:(?P<a>.+?)[_ ]d[ée]nominateur|d[ée]nominateur[_ ](?P<b>.+))$", re.IGNORECASE)


@dataclass
class Indicateurs:
    """Indicators by commune, as read.

    Attributes
    ----------
    comptes : pandas.DataFrame
        Index ``code_commune``; columns are internal keys (see ``cles``), never
        the file's headers, so that no header can be mistaken for another.
    cles : dict
        Indicator name (the file's header, in the file's order) -> (numerator
        column, denominator column or ``None`` for a count).
    source : str
    journal : Journal
    """

    comptes: pd.DataFrame
    cles: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    source: str = ""
    journal: Journal = field(default_factory=Journal)

    @property
    def noms(self) -> list[str]:
        """Indicator names in the file's order (counts and rates)."""
        return list(self.cles)

    @property
    def taux(self) -> list[str]:
        """The names of the rates."""
        return [n for n, (_, den) in self.cles.items() if den is not None]


def _number(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip().str.replace("\u202f", "").str.replace("\u00a0", "").str.replace(" ", "")
    text = text.str.replace("%", "").str.replace(",", ".")
    return pd.to_numeric(text.replace({"": None, "nan": None}), errors="coerce")


def table_to_indicators(df: pd.DataFrame, roles: dict[str, int], path: Path, journal: Journal) -> Indicateurs:
    """Indicators of a raw table (a code column, numeric columns; see the module docstring)."""
    headers: list[str] = df.attrs["headers"]
    if "code" not in roles:
        raise TerritoireError("aucune colonne de code INSEE (attendu : « code », « Code INSEE »).", path)
    numeric = {i: _number(df[i]) for i in range(len(headers)) if i != roles["code"]}
    numeric = {i: v for i, v in numeric.items() if v.notna().any() and v.notna().sum() >= 0.9 * df[i].notna().sum()}
    if not numeric:
        raise TerritoireError("aucune colonne numérique d'indicateur.", path)
    by_name = {headers[i]: i for i in numeric}
    rates: dict[str, str] = {}
    for name in by_name:
        m = _DENOMINATOR.match(name)
        base = m and (m.group("a") or m.group("b"))
        if base and base in by_name:
            rates[base] = name
    codes = harmonise.harmonise_codes(harmonise.normalise_code(df[roles["code"]])["code"].fillna(""))
    keep = codes["nature"].isin(["actuel", "ancien"]).to_numpy()
    for i in codes.index[~keep]:
        journal.warn(f"Indicateurs, ligne {df.at[i, '_ligne']} : code « {codes.at[i, 'code_source']} » inconnu ou "
                     "ville entière ; ignoré.")
    out: dict[str, pd.Series] = {}
    keys: dict[str, tuple[str, str | None]] = {}
    for name, i in by_name.items():
        if name in rates.values():
            continue
        values = numeric[i]
        if (values < 0).any():
            j = values.index[(values < 0).to_numpy()][0]
            raise TerritoireError(f"ligne {df.at[j, '_ligne']}, colonne « {name} » : valeur négative.", path)
        if name in rates:
            den = numeric[by_name[rates[name]]]
            share = values / 100 if (values > 1).any() else values
            keys[name] = (f"{len(keys)}/num", f"{len(keys)}/den")
            out[keys[name][0]], out[keys[name][1]] = share * den, den  # type: ignore[index]
        else:
            keys[name] = (str(len(keys)), None)
            out[keys[name][0]] = values
    table = pd.DataFrame(out)[keep]
    table.index = pd.Index(codes.loc[keep, "code_commune"].to_numpy(), name="code_commune")
    table = table.groupby(level=0).sum(min_count=1).sort_index()
    journal.info(f"Indicateurs lus : {', '.join(n for n in keys if n not in rates)}"
                 + (f" ; taux : {', '.join(f'{r} (dénominateur « {d} »)' for r, d in rates.items())}" if rates else "")
                 + f" ({len(table)} communes).")
    return Indicateurs(comptes=table, cles=keys, source=path.name, journal=journal)


def aggregate(ind: Indicateurs, members: pd.DataFrame) -> pd.DataFrame:
    """Sums (counts, numerators, denominators) per group: ``members`` has ``groupe``, ``code_commune``, ``poids``.

    A commune absent from the file makes its group's sums missing (never a silent zero).
    """
    m = members.assign(poids=members["poids"].astype(float))
    values = ind.comptes.reindex(m["code_commune"].to_numpy())
    weighted = values.mul(m["poids"].to_numpy(), axis=0)
    weighted.index = m["groupe"].to_numpy()
    return weighted.groupby(level=0).sum(min_count=1).where(
        values.notna().groupby(m["groupe"].to_numpy()).all())


def with_secrecy(sums: pd.DataFrame, ind: Indicateurs, partitions: list[tuple[str, list[str]]],
                 threshold: int = SEUIL_SECRET) -> pd.DataFrame:
    """The shown values per group: counts, rates (ratio of sums), ``secret`` where statistical secrecy applies.

    ``partitions``: (total row, member rows) whose members add up to the total;
    within each, a lone secret cell makes the smallest other one secret too.
    """
    shown = pd.DataFrame(index=sums.index)
    for name, (num_key, den_key) in ind.cles.items():
        num = sums[num_key]
        den = sums[den_key] if den_key is not None else None
        hidden = (num > 0) & (num < threshold)
        if den is not None:
            hidden |= (den > 0) & (den < threshold)
        hidden = hidden.fillna(False).astype(bool)
        changed = True
        while changed:  # secondary secrecy until no partition has a single secret member
            changed = False
            for total, rows in partitions:
                rows = [r for r in rows if r in hidden.index]
                if total in hidden.index and not hidden[total] and sum(hidden[r] for r in rows) == 1:
                    others = num.reindex([r for r in rows if not hidden[r] and pd.notna(num[r])]).sort_values()
                    if len(others):
                        hidden[others.index[0]] = True
                        changed = True
        value = (num / den.where(den > 0)).round(4) if den is not None else rounded(num.round(2))
        shown[name] = value.astype(object).where(~hidden, SECRET)
        shown.loc[value.isna() & ~hidden, name] = None
    return shown


def rounded(values: pd.Series) -> pd.Series:
    """Counts as integers where they are whole (weighted shares of a shared commune may not be)."""
    return values.map(lambda v: int(v) if isinstance(v, float) and np.isfinite(v) and v == int(v) else v)


def by_territory(audit: Audit, ind: Indicateurs, units: pd.DataFrame,
                 threshold: int = SEUIL_SECRET) -> pd.DataFrame:
    """The indicators per CPTS, white zone, département, région, France and the whole scope, secrecy applied.

    Région and France appear only when the file covers all their communes.
    Columns: ``niveau``, ``territoire``, ``departements``, then one per indicator.
    """
    from .analyse import with_shares

    scope = audit.synthese["perimetre"]
    in_scope = units[units["departement"].isin(scope)]
    per = with_shares(audit.perimetres)
    white = audit.communes[audit.communes["zone_blanche"].astype(bool)]
    groups = [pd.DataFrame({"groupe": "CPTS|" + per["cpts"], "code_commune": per["code_commune"],
                            "poids": per["part_population"]}),
              pd.DataFrame({"groupe": "Zone blanche|" + white["zone_blanche_id"], "code_commune": white["code_commune"],
                            "poids": 1.0}),
              pd.DataFrame({"groupe": "Département|" + in_scope["departement"], "code_commune": in_scope.index,
                            "poids": 1.0}),
              pd.DataFrame({"groupe": "Territoire|" + ", ".join(scope), "code_commune": in_scope.index, "poids": 1.0})]
    covered = set(ind.comptes.index)
    for level, col in (("Région", "region_nom"), ("France", None)):
        areas = units.groupby(units[col] if col else pd.Series("France", index=units.index))
        for name, idx in areas.groups.items():
            if (level == "France" or name in set(in_scope[col])) and set(idx) <= covered:
                groups.append(pd.DataFrame({"groupe": f"{level}|{name}", "code_commune": idx, "poids": 1.0}))
    members = pd.concat(groups, ignore_index=True)
    sums = aggregate(ind, members)
    total = "Territoire|" + ", ".join(scope)
    cells = [g for g in sums.index if g.startswith(("CPTS|", "Zone blanche|"))]
    partitions = [(total, cells)]
    for dep in scope:  # a département whose CPTS and white zones lie wholly in it: they add up to it
        inside = [g for g in cells if set(members.loc[members["groupe"] == g, "code_commune"].map(units["departement"]))
                  == {dep}]
        codes = set(members.loc[members["groupe"].isin(inside), "code_commune"])
        if codes == set(in_scope.index[in_scope["departement"] == dep]):
            partitions.append((f"Département|{dep}", inside))
    shown = with_secrecy(sums, ind, partitions, threshold)
    deps = members.assign(d=members["code_commune"].map(units["departement"])).groupby("groupe")["d"].agg(
        lambda s: ", ".join(sorted(set(s.dropna()))))
    order = {"CPTS": 0, "Zone blanche": 1, "Département": 2, "Région": 3, "France": 4, "Territoire": 5}
    out = shown.assign(niveau=[g.split("|", 1)[0] for g in shown.index],
                       territoire=[g.split("|", 1)[1] for g in shown.index],
                       departements=deps.reindex(shown.index).to_numpy())
    out = out.sort_values(["niveau", "territoire"], key=lambda s: s.map(order) if s.name == "niveau" else s)
    return out[["niveau", "territoire", "departements", *ind.noms]].reset_index(drop=True)


def attach(audit: Audit, ind: Indicateurs, units: pd.DataFrame, threshold: int = SEUIL_SECRET) -> None:
    """Add the indicators to an audit.

    Columns ``indicateur_<name>`` of ``cpts`` and ``zones_blanches``, the
    table ``audit.indicateurs`` (``indicateurs.csv``), and the file's warnings.
    """
    table = by_territory(audit, ind, units, threshold)
    names = ind.noms
    for frame, level, key in ((audit.cpts, "CPTS", "cpts"), (audit.zones_blanches, "Zone blanche", "zone_blanche_id")):
        rows = table[table["niveau"] == level].set_index("territoire")[names]
        for name in names:
            frame[f"indicateur_{name}"] = frame[key].map(rows[name]).astype(object)
    audit.indicateurs = table
    audit.synthese["avertissements"] = list(audit.synthese["avertissements"]) + ind.journal.avertissements

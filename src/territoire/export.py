"""Write results: tables (CSV for French spreadsheets), JSON, atomically.

Every file is written under a temporary name and renamed; a results folder
is built aside and swapped in only when complete, so an interrupted or failed
run never leaves half-written outputs nor destroys earlier ones.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .errors import TerritoireError

#: CSV dialect: what French Excel opens with a double click.
CSV_OPTIONS = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "index": False, "lineterminator": "\n"}


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read back a CSV written by :func:`write_csv` (codes kept as text)."""
    return pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig",
                       dtype={"code_commune": str, "departement": str, "epci_siren": str},
                       keep_default_na=False, na_values=[""])


def _writable_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TerritoireError(f"impossible de créer le dossier {path.parent} ({exc.strerror}).") from None
    if not os.access(path.parent, os.W_OK):
        raise TerritoireError(f"le dossier {path.parent} n'est pas accessible en écriture.")


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix with ``'`` the text cells a spreadsheet would run as a formula (``= + - @``).

    :func:`territoire.read.read_perimeters` strips that prefix again, so names survive a round trip.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:  # mixed cells: only text is defused
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in FORMULA_START else v)
        elif pd.api.types.is_string_dtype(out[col]):
            risky = out[col].str[:1].isin(FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out.loc[risky, col] = "'" + out.loc[risky, col]
    return out


FORMULA_START = ("=", "+", "-", "@")


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically in the CSV dialect of :data:`CSV_OPTIONS` (formulas defused)."""
    df = defuse_formulas(df)
    write_bytes(df.to_csv(**{k: v for k, v in CSV_OPTIONS.items() if k != "encoding"}).encode("utf-8-sig"), path)


def write_json(data: dict, path: str | Path) -> None:
    """Write JSON atomically (UTF-8, indented, stable key order)."""
    write_bytes((json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), path)


def write_bytes(data: bytes, path: str | Path) -> None:
    """Write bytes to ``path`` through a temporary file and a rename."""
    path = Path(path)
    _writable_parent(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(dest: str | Path) -> Iterator[Path]:
    """Build a results folder aside, then swap it in place of ``dest``.

    Yields the temporary folder to write into. On error nothing changes.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise TerritoireError(f"{dest} existe et n'est pas un dossier.")
    _writable_parent(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.chmod(tmp, 0o755)
    if dest.exists():
        backup = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".ancien", dir=dest.parent))
        os.replace(dest, backup / dest.name)
        os.replace(tmp, dest)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def audit_tables(audit) -> dict[str, pd.DataFrame]:
    """The CSV tables of an audit, by file name."""
    communes = pd.DataFrame(audit.communes.drop(columns="geometry"))
    communes["superficie_km2"] = communes["superficie_km2"].round(3)
    communes["zone_blanche"] = communes["zone_blanche"].map({True: "true", False: "false"})
    zones = pd.DataFrame(audit.zones_blanches.drop(columns="geometry"))
    return {
        "cpts.csv": audit.cpts,
        "communes.csv": communes[["code_commune", "nom", "departement", "population", "cpts", "nb_cpts",
                                  "statut", "zone_blanche", "zone_blanche_id", "epci_siren", "epci_nom",
                                  "superficie_km2"]],
        "chevauchements.csv": audit.chevauchements,
        "chevauchements_paires.csv": audit.chevauchements_paires,
        "zones_blanches.csv": zones,
        "perimetres.csv": normalised(audit.perimetres),
    }


def normalised(perimeters: pd.DataFrame) -> pd.DataFrame:
    """The normalised perimeter format every command reads."""
    out = perimeters[["cpts", "statut", "code_commune", "part"]].copy()
    out["statut"] = out["statut"].fillna("")
    return out.sort_values(["cpts", "code_commune"], kind="stable").reset_index(drop=True)


def write_audit(audit, folder: str | Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write ``synthese.json`` and the CSV tables of an audit into ``folder`` (atomically)."""
    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        write_json(audit.synthese, tmp / "synthese.json")
        for name, df in audit_tables(audit).items():
            write_csv(df, tmp / name)
        for name, data in (extra or {}).items():
            write_bytes(data, tmp / name)
    return folder


def plan_tables(plan) -> dict[str, pd.DataFrame]:
    """The CSV tables of a plan, by file name."""
    cpts = pd.DataFrame(plan.scenario["cpts"])
    return {
        "propositions.csv": plan.propositions,
        "perimetres_proposes.csv": normalised(plan.perimetres),
        "cpts_avant_apres.csv": cpts,
        **{k: v for k, v in audit_tables(plan.apres).items() if k in ("communes.csv", "cpts.csv")},
    }


def write_plan(plan, folder: str | Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write ``scenario.json``, ``propositions.csv``, ``perimetres_proposes.csv`` and the
    ``communes.csv`` / ``cpts.csv`` of the proposed situation (atomically)."""
    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        write_json(plan.scenario, tmp / "scenario.json")
        for name, df in plan_tables(plan).items():
            write_csv(df, tmp / name)
        for name, data in (extra or {}).items():
            write_bytes(data, tmp / name)
    return folder

"""Write results: tables (CSV for French spreadsheets), JSON, atomically.

Every file is written under a temporary name and renamed; a results folder
is built aside and swapped in only when complete, so an interrupted or failed
run never leaves half-written outputs nor destroys earlier ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import destination
from .errors import TerritoireError, checkpoint

if TYPE_CHECKING:
    from .render import MapData
from .models import Audit, Plan

#: CSV dialect: what French Excel opens with a double click.
CSV_OPTIONS = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "index": False, "lineterminator": "\n"}


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read back a CSV written by :func:`write_csv`, even after a spreadsheet re-saved it.

    Excel or LibreOffice may have changed its encoding (Windows-1252), its
    separator (``,``), its decimal mark or dropped the leading zero of codes:
    codes are kept as text (zero restored), other columns are numbers where
    every value reads as one, and formulas are no longer defused.
    """
    from . import textfiles
    from .errors import Journal

    path = Path(path)
    rows = textfiles.rows(textfiles.decode(path.read_bytes(), path, Journal()), path)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise TerritoireError("le fichier est vide.", path)
    header, body = rows[0], rows[1:]
    body = [(r + [""] * len(header))[:len(header)] for r in body]
    df = pd.DataFrame(body, columns=header, dtype=object).replace("", None)
    for col in df.columns:
        values = df[col]
        if col in CODE_COLUMNS or str(col).startswith("code"):
            df[col] = values.where(~values.fillna("").str.fullmatch(r"\d{4}"), values.str.zfill(5))
            continue
        lowered = values.dropna().str.lower()
        if len(lowered) and lowered.isin(["true", "false", "vrai", "faux"]).all():
            df[col] = values.str.lower().isin(["true", "vrai"]).where(values.notna(), None)
            continue
        numbers = pd.to_numeric(values.str.replace("\u202f", "").str.replace(" ", "").str.replace(",", "."),
                                errors="coerce")
        if values.notna().any() and numbers[values.notna()].notna().all():
            df[col] = numbers
    return df


#: Columns of codes: text, whatever they look like.
CODE_COLUMNS = frozenset({"code_commune", "departement", "epci_siren", "zone_blanche_id", "siren"})


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
    # A header can be input text too (an indicator's name): defused like a cell.
    out.columns = ["'" + c if isinstance(c, str) and c[:1] in FORMULA_START else c for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object:  # mixed cells: only text is defused
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in FORMULA_START else v)
        elif pd.api.types.is_string_dtype(out[col]):
            risky = out[col].str[:1].isin(FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out.loc[risky, col] = "'" + out.loc[risky, col]
    return out


FORMULA_START = ("=", "+", "-", "@")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """A table in the CSV dialect of :data:`CSV_OPTIONS` (formulas defused; booleans ``true``/``false`` in every file)."""
    flags = [c for c in df.columns if pd.api.types.is_bool_dtype(df[c])]
    if flags:
        df = df.assign(**{c: df[c].map({True: "true", False: "false"}) for c in flags})
    mixed = [c for c in df.columns if df[c].dtype == object
             and pd.api.types.infer_dtype(df[c], skipna=True) in ("mixed", "floating", "mixed-integer-float")]
    if mixed:  # numbers among text (« secret »): the same decimal comma as the numeric columns
        df = df.assign(**{c: df[c].map(lambda v: str(v).replace(".", ",") if isinstance(v, float) else v)
                          for c in mixed})
    return defuse_formulas(df).to_csv(**{k: v for k, v in CSV_OPTIONS.items() if k != "encoding"}).encode("utf-8-sig")


def json_bytes(data: Mapping[str, Any]) -> bytes:
    """JSON as written in results (UTF-8, indented, stable key order)."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically in the CSV dialect of :data:`CSV_OPTIONS` (formulas defused)."""
    write_bytes(csv_bytes(df), path)


def write_json(data: Mapping[str, Any], path: str | Path) -> None:
    """Write JSON atomically (UTF-8, indented, stable key order)."""
    write_bytes(json_bytes(data), path)


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


#: Formats of ``territoire perimetres --sortie``, by extension.
PERIMETER_FORMATS = (".csv", ".xlsx")
_PERIMETER_HEADER = "\ufeffcpts;statut;code_commune;part;part_population"
#: The header written before shared communes existed (still recognised as ours).
_PERIMETER_HEADER_V1 = "\ufeffcpts;statut;code_commune;part"


def perimeter_bytes(table: pd.DataFrame, suffix: str) -> bytes:
    """The normalised perimeters as a CSV or a one-sheet workbook."""
    df = normalised(table)
    if suffix.lower() == ".xlsx":
        from . import report

        return report.table_workbook(df, "Périmètres")
    return csv_bytes(df)


def is_perimeter_output(path: Path) -> bool:
    """Whether ``path`` is a normalised perimeter file territoire wrote (so it may be replaced)."""
    try:
        if path.suffix.lower() == ".xlsx":
            import zipfile

            with zipfile.ZipFile(path) as z:
                return b"<dc:creator>territoire</dc:creator>" in z.read("docProps/core.xml")
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.readline().rstrip("\r\n") in (_PERIMETER_HEADER, _PERIMETER_HEADER_V1)
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return False


def write_perimeters(table: pd.DataFrame, path: str | Path) -> None:
    """Write the normalised perimeters atomically, in the format the extension says."""
    path = Path(path)
    write_bytes(perimeter_bytes(table, path.suffix), path)


def audit_tables(audit: Audit) -> dict[str, pd.DataFrame]:
    """The CSV tables of an audit, by file name."""
    communes = pd.DataFrame(audit.communes.drop(columns="geometry"))
    communes["superficie_km2"] = communes["superficie_km2"].round(3)
    communes["zone_blanche"] = communes["zone_blanche"].map({True: "true", False: "false"})
    zones = pd.DataFrame(audit.zones_blanches.drop(columns="geometry"))
    return {
        "cpts.csv": audit.cpts,
        "communes.csv": communes[["code_commune", "nom", "departement", "population", "cpts", "nb_cpts",
                                  "statut", "zone_blanche", "zone_blanche_id", "epci_siren", "epci_nom",
                                  "superficie_km2", "part_couverte", "parts_population"]],
        "chevauchements.csv": audit.chevauchements,
        "chevauchements_paires.csv": audit.chevauchements_paires,
        "zones_blanches.csv": zones,
        "perimetres.csv": normalised(audit.perimetres),
        **({"indicateurs.csv": audit.indicateurs} if audit.indicateurs is not None else {}),
    }


def normalised(perimeters: pd.DataFrame) -> pd.DataFrame:
    """The normalised perimeter format every command reads."""
    from .analyse import with_shares

    out = with_shares(perimeters)[["cpts", "statut", "code_commune", "part", "part_population"]].copy()
    out["statut"] = out["statut"].fillna("")
    return out.sort_values(["cpts", "code_commune"], kind="stable").reset_index(drop=True)


def audit_files(audit: Audit, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every file of an audit's results folder, as bytes."""
    files = {"synthese.json": json_bytes(audit.synthese)}
    files.update({name: csv_bytes(df) for name, df in audit_tables(audit).items()})
    return {**files, **(extra or {})}


def write_audit(audit: Audit, folder: str | Path, extra: dict[str, bytes] | None = None,
                inputs: Sequence[str | Path] = ()) -> Path:
    """Write ``synthese.json`` and the CSV tables of an audit into ``folder`` (see :func:`write_results`)."""
    return write_results(audit_files(audit, extra), folder, inputs)


def plan_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """The CSV tables of a plan, by file name."""
    from . import variants

    cpts = pd.DataFrame(plan.scenario["cpts"])
    for col in ("taille_avant", "taille_apres"):  # a size class, blank for a new or emptied CPTS: never "4,0"
        cpts[col] = cpts[col].astype("Int64")
    return {
        "propositions.csv": plan.propositions,
        "perimetres_proposes.csv": normalised(plan.perimetres),
        "cpts_avant_apres.csv": cpts,
        **({"variantes.csv": variants.table(plan.scenario["variantes"])} if plan.scenario.get("variantes") else {}),
        **({"options_chevauchements.csv": options_frame(plan.scenario["options_chevauchement"])}
           if plan.scenario.get("options_chevauchement") else {}),
        **{k: v for k, v in audit_tables(plan.apres).items() if k in ("communes.csv", "cpts.csv")},
    }


def options_frame(pairs: list[dict]) -> pd.DataFrame:
    """The overlap options of a plan, one row per (pair, option)."""
    rows = [{"cpts_a": p["cpts_a"], "cpts_b": p["cpts_b"], "nb_communes_disputees": p["nb_communes_disputees"],
             "population_disputee": p["population_disputee"], "option": o["option"],
             "population_a": o["population_a"], "taille_a": o["taille_a"], "population_b": o["population_b"],
             "taille_b": o["taille_b"], "financement_max_annuel": o["financement_max_annuel"],
             "coupe_une_cpts": "oui" if o["coupe"] else "non",
             "recommandee": "oui" if o["option"] == p["recommandee"] else "non", "remarque": o["remarque"]}
            for p in pairs for o in p["options"]]
    df = pd.DataFrame(rows)
    for col in ("taille_a", "taille_b"):
        df[col] = df[col].astype("Int64")
    return df


def write_plan(plan: Plan, folder: str | Path, extra: dict[str, bytes] | None = None,
               inputs: Sequence[str | Path] = ()) -> Path:
    """Write a plan's results folder (see :func:`write_results`).

    ``scenario.json``, ``propositions.csv``, ``perimetres_proposes.csv`` and
    the ``communes.csv`` / ``cpts.csv`` of the proposed situation.
    """
    files = {"scenario.json": json_bytes(plan.scenario)}
    files.update({name: csv_bytes(df) for name, df in plan_tables(plan).items()})
    return write_results({**files, **(extra or {})}, folder, inputs)


def write_results(files: dict[str, bytes], folder: str | Path, inputs: Sequence[str | Path] = ()) -> Path:
    """Write a results folder: complete or not at all, never over files territoire did not write.

    The rules are those of :mod:`territoire.destination`; ``inputs`` are the
    files the results come from (never inside ``folder``).
    """
    folder = Path(folder)
    with destination.results_folder(folder, inputs) as tmp:
        for i, (name, data) in enumerate(sorted(files.items())):
            write_bytes(data, tmp / name)
            if i == 0:
                checkpoint("ecriture")
        write_bytes(destination.marker_bytes(list(files)), tmp / destination.MARKER)
        checkpoint("echange")
    return folder


def results_folder_files(folder: Path) -> set[str]:
    """The files territoire wrote in an existing results folder; an error for any other folder."""
    if folder.is_symlink() or not folder.is_dir():
        raise TerritoireError(f"le dossier « {folder} » n'existe pas (ou n'est pas un dossier réel).")
    ours = destination.written_files(folder)
    if ours is None:
        raise TerritoireError(f"« {folder} » n'est pas un dossier de résultats écrit par territoire (fichier "
                              f"{destination.MARKER} absent) : il n'est pas modifié. Relancez « territoire "
                              "analyse » ou « territoire planifier ».")
    return ours


def update_results(files: dict[str, bytes], folder: str | Path) -> None:
    """Add or replace files in a results folder territoire wrote (``territoire carte``), each atomically."""
    folder = Path(folder)
    ours = results_folder_files(folder)
    foreign = sorted(n for n in files if (folder / n).exists() and n not in ours)
    if foreign:
        raise TerritoireError(f"« {folder} » contient {', '.join(foreign)}, que territoire n'a pas écrit : "
                              "rien n'est remplacé.")
    with destination.locked(folder):
        for name, data in sorted(files.items()):
            write_bytes(data, folder / name)
        known = destination.written_files(folder) or set()
        write_bytes(destination.marker_bytes(sorted(known | set(files))), folder / destination.MARKER)


def read_map_data(folder: Path) -> MapData:
    """Rebuild a map's content from the files ``analyse`` or ``planifier`` wrote."""
    import json

    from . import reference, render
    from .mapping import titles

    if not (folder / "communes.csv").exists() or not (folder / "cpts.csv").exists():
        raise TerritoireError(f"{folder} ne contient pas de résultats de « territoire analyse » ou "
                              "« territoire planifier » (communes.csv et cpts.csv attendus).")
    needed = ["scenario.json", "propositions.csv"] if (folder / "scenario.json").exists() else ["synthese.json"]
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        raise TerritoireError(f"{folder} : {', '.join(missing)} manque ; relancez « territoire analyse » ou "
                              "« territoire planifier » pour réécrire le dossier.")
    com = read_csv(folder / "communes.csv")
    known = reference.units().index
    unknown = ~com["code_commune"].isin(known)
    if unknown.any():
        i = int(unknown.to_numpy().argmax())
        raise TerritoireError(f"ligne {i + 2}, colonne « code_commune » : « {com['code_commune'].iloc[i]} » n'est "
                              f"pas une commune du référentiel ({int(unknown.sum())} ligne(s) ainsi) : "
                              "le fichier a été modifié ; relancez l'analyse.", folder / "communes.csv")
    com["zone_blanche"] = com["zone_blanche"].astype(str).str.lower().eq("true")
    com["cpts"] = com["cpts"].fillna("")
    com["statut"] = com["statut"].fillna("")
    cpts = read_csv(folder / "cpts.csv")
    cpts["communes_en_chevauchement"] = cpts["communes_en_chevauchement"].fillna("")
    if (folder / "scenario.json").exists():
        scen = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        props = read_csv(folder / "propositions.csv")
        com["action"] = com["code_commune"].map(props.drop_duplicates("code_commune")
                                                .set_index("code_commune")["action"]).fillna("")
        return render.MapData(communes=com, cpts=titles.before_after(cpts, scen), plan=True,
                              titre=render.plan_title(scen),
                              sous_titre=render.plan_subtitle(scen, scen.get("date_perimetres")))
    synth = json.loads((folder / "synthese.json").read_text(encoding="utf-8"))
    return render.MapData(communes=com, cpts=cpts,
                          titre=titles.audit_title(synth["perimetre"]),
                          sous_titre=render.audit_subtitle(synth, synth.get("date_perimetres")))

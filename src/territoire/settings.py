"""Rules of the field and tunable defaults, in one place.

Size classes and ACI amounts follow the accord conventionnel interprofessionnel
as summarised in ``shared/DOMAIN.md`` (sources: ARS Île-de-France slides 2019,
CMG 2024 congress, Guichet CPTS Occitanie guide).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path

# --- Data -----------------------------------------------------------------

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Folder of the embedded reference.

    ``TERRITOIRE_DATA`` wins; then ``data/`` of a source checkout (editable
    install); then the copy shipped inside a wheel.
    """
    env = os.environ.get("TERRITOIRE_DATA")
    if env:
        return Path(env)
    checkout = PACKAGE_DIR.parents[1] / "data"
    if (checkout / "communes.parquet").exists():
        return checkout
    return PACKAGE_DIR / "data"


def cache_dir() -> Path:
    """User cache folder (never inside the installed package)."""
    env = os.environ.get("TERRITOIRE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "territoire"


# Whole-city codes of Paris, Lyon and Marseille: a perimeter citing one of
# them means all of its arrondissements municipaux.
PLM_CITIES: tuple[str, ...] = ("13055", "69123", "75056")

# --- Statuses -------------------------------------------------------------

#: Maturity steps, least to most formal.
STATUSES: tuple[str, ...] = ("en_projet", "lettre_intention", "projet_sante", "signataire_aci")
STATUS_RANK: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
STATUS_UNKNOWN = "inconnu"
STATUS_LABELS: dict[str, str] = {
    "en_projet": "En projet",
    "lettre_intention": "Lettre d'intention validée",
    "projet_sante": "Projet de santé validé",
    "signataire_aci": "Signataire ACI",
    STATUS_UNKNOWN: "Statut inconnu",
}
#: What the planner proposes for a commune, as a CTS audience reads it.
ACTION_LABELS: dict[str, str] = {
    "extension": "Extension proposée",
    "nouvelle_cpts": "Nouvelle CPTS proposée",
    "arbitrage_chevauchement": "Chevauchement à arbitrer",
    "partage_commune": "Commune partagée (parts à valider)",
}

# --- Size classes and funding ---------------------------------------------
# The scale is data (``regles/bareme_aci.json``: thresholds, amounts, source
# and date), read when a figure is computed: the ACI is renegotiated in 2026,
# and a user may give another scale with ``TERRITOIRE_BAREME``.

#: The scale shipped with the package.
DEFAULT_SCALE = PACKAGE_DIR / "regles" / "bareme_aci.json"


#: A scale given for one run (``--bareme``); see :func:`scale_from`.
_RUN_SCALE: list[Path] = []


def scale_path() -> Path:
    """The ACI scale in force: the run's (``--bareme``), else ``TERRITOIRE_BAREME``, else the shipped one."""
    if _RUN_SCALE:
        return _RUN_SCALE[-1]
    env = os.environ.get("TERRITOIRE_BAREME")
    return Path(env) if env else DEFAULT_SCALE


@contextlib.contextmanager
def scale_from(path: str | Path | None) -> Iterator[None]:
    """Use the scale in ``path`` (checked first: a French error if it is not a valid scale) within the block."""
    if path is None:
        yield
        return
    _RUN_SCALE.append(Path(path).resolve())
    try:
        scale()
        yield
    finally:
        _RUN_SCALE.pop()


@functools.lru_cache(maxsize=8)
def _load_scale(path: Path, mtime_ns: int) -> dict:
    from .errors import TerritoireError

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        thresholds = tuple(int(v) for v in doc["seuils_taille"])
        operating = {int(k): int(v) for k, v in doc["financement_fonctionnement"].items()}
        maximum = {int(k): int(v) for k, v in doc["financement_max_annuel"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TerritoireError(f"barème ACI illisible ({type(exc).__name__} : {exc}).", path) from None
    if len(thresholds) != 3 or list(thresholds) != sorted(set(thresholds)) or thresholds[0] <= 0:
        raise TerritoireError("barème ACI : « seuils_taille » doit donner trois seuils croissants.", path)
    for key, table in (("financement_fonctionnement", operating), ("financement_max_annuel", maximum)):
        if set(table) != {1, 2, 3, 4} or min(table.values()) < 0:
            raise TerritoireError(f"barème ACI : « {key} » doit donner un montant positif pour les "
                                  "tailles 1, 2, 3 et 4.", path)
    return {"nom": str(doc.get("nom", path.stem)), "date": str(doc.get("date", "")),
            "seuils_taille": thresholds, "financement_fonctionnement": operating,
            "financement_max_annuel": maximum}


def scale() -> dict:
    """The ACI scale in force (thresholds, amounts by taille, name and date), read from its file."""
    path = scale_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _load_scale(path, mtime)


def scale_label() -> str:
    """Name and date of the scale in force, as written in every output."""
    sc = scale()
    return f"{sc['nom']} ({sc['date']})" if sc["date"] else sc["nom"]


def size_thresholds() -> tuple[int, int, int]:
    """Lower bounds of tailles 2, 3 and 4 (40 000 and 80 000 open the higher class; 175 000 stays in 3)."""
    return scale()["seuils_taille"]


def funding_operating() -> dict[int, int]:
    """Annual operating grant (fonctionnement) by taille 1-4, euros."""
    return dict(scale()["financement_fonctionnement"])


def funding_max() -> dict[int, int]:
    """Maximum possible ACI amount per year by taille 1-4, euros."""
    return dict(scale()["financement_max_annuel"])


# --- Geometry ---------------------------------------------------------------

#: Metric projection by département prefix (overseas) and for métropole.
METRIC_CRS_OVERSEAS: dict[str, int] = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
METRIC_CRS_METRO = 2154

#: Two communes are neighbours when their outlines come closer than this
#: (metres): generalised outlines leave gaps and slivers of a few metres.
ADJACENCY_TOLERANCE_M = 20.0
#: A connected piece of the national graph with at most this many communes is an
#: island (Ouessant, Belle-Île, Marie-Galante): it borders no other commune, so it does
#: not count as a piece of its CPTS and the planner joins it to the CPTS ashore.
ISLAND_MAX_COMMUNES = 8

#: A polygon perimeter takes a commune when it covers at least this share of
#: the commune's area.
POLYGON_MAJORITY = 0.5
#: Shares below this are slivers of generalisation, not a border crossing.
POLYGON_SLIVER = 0.02
#: Share of a commune's area from which a CPTS polygon holds part of it: two or more such
#: CPTS share the commune (population shares approximated by area shares).
POLYGON_SHARE = 0.2
#: Population from which a commune claimed whole by several CPTS that are not nested is
#: proposed as shared by the planner rather than given to one of them.
POPULATION_VILLE_PARTAGEE = 100_000

# --- White zones -------------------------------------------------------------

#: Density thresholds (inhabitants per km²) of the white-zone typology:
#: below RURAL is ``rural``, from URBAN up is ``urbain``, between is
#: ``intermédiaire``. An approximation of INSEE's density grid at zone scale.
DENSITY_RURAL = 150.0
DENSITY_URBAN = 1_500.0


def metric_crs(departement: str) -> int:
    """EPSG code of the metric projection used for a département."""
    return METRIC_CRS_OVERSEAS.get(departement[:3], METRIC_CRS_METRO)

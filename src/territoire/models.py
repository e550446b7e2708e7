"""Typed results of each stage: perimeters and populations read, audit, plan.

The figures written to ``synthese.json`` and ``scenario.json`` are the
:class:`Synthese` and :class:`Scenario` dictionaries below, written as they
are: the file contract and the types are one and the same (a test checks the
keys of the files against these definitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import geopandas as gpd
import pandas as pd

from .errors import Journal

# --- Reading ---------------------------------------------------------------------------------


@dataclass
class Perimetres:
    """Perimeters read and validated: the only way into the audit and the planner.

    Attributes
    ----------
    table : pandas.DataFrame
        Normalised perimeters: ``cpts``, ``statut`` (one of
        ``settings.STATUSES`` or ``None``), ``code_commune`` (current unit),
        ``part`` (share of the commune's area inside the perimeter, 1 for
        tables), ``part_population`` (share of the commune's inhabitants in
        the CPTS, 1 for a whole commune; see :mod:`territoire.shares`).
        Sorted by CPTS then code.
    journal : Journal
        Column choices, harmonisations, repairs, matches and problems.
    source : str
        File name, or a description of the table given in memory.
    colonnes : dict
        Role -> column taken.
    communes_coupees : pandas.DataFrame
        For polygon layers, communes cut by a perimeter border with their share.
    """

    table: pd.DataFrame
    journal: Journal
    source: str
    colonnes: dict[str, str] = field(default_factory=dict)
    communes_coupees: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class Population:
    """Populations supplied by the user, harmonised to current units.

    Attributes
    ----------
    valeurs : pandas.Series
        ``code_commune`` -> population (int).
    millesime : str or None
        Year read from the population header, when there is one.
    journal : Journal
    source : str
    """

    valeurs: pd.Series
    millesime: str | None
    journal: Journal
    source: str


# --- Audit -----------------------------------------------------------------------------------


class Chiffres(TypedDict):
    """Key figures of a scope or of one of its départements."""

    population_totale: int
    population_couverte: int
    taux_couverture: float
    population_couverte_par_statut: dict[str, int]
    taux_couverture_aci: float
    nb_communes: int
    nb_cpts: int
    nb_cpts_par_taille: dict[str, int]
    nb_communes_en_chevauchement: int
    population_en_chevauchement: int
    nb_zones_blanches: int
    nb_communes_zones_blanches: int
    population_zones_blanches: int
    #: Communes divided between CPTS (or partly covered), their population, and the
    #: uncovered remainder of partly covered communes (included in ``population_zones_blanches``).
    nb_communes_partagees: int
    population_communes_partagees: int
    population_zones_blanches_infracommunales: int


class ChiffresDepartement(Chiffres):
    """:class:`Chiffres` of one département, with its name."""

    nom: str


class Synthese(Chiffres):
    """The figures of an audit, as written in ``synthese.json``."""

    millesime_population: str
    cog: int
    #: Name and date of the ACI scale used (``--bareme`` or the shipped one).
    bareme: str
    perimetre: list[str]
    par_departement: dict[str, ChiffresDepartement]
    avertissements: list[str]
    date_perimetres: str | None


@dataclass
class Audit:
    """Result of the territorial audit.

    Attributes
    ----------
    communes : geopandas.GeoDataFrame
        Units of the scope: ``code_commune``, ``nom``, ``departement``,
        ``population``, ``cpts``, ``nb_cpts``, ``statut``, ``zone_blanche``,
        ``zone_blanche_id``, ``epci_siren``, ``epci_nom``, ``superficie_km2``.
    cpts : pandas.DataFrame
        One row per CPTS with population, taille, funding, pieces, enclaves...
    chevauchements, chevauchements_paires : pandas.DataFrame
        Communes in several CPTS; pairs of CPTS sharing communes.
    zones_blanches : geopandas.GeoDataFrame
        Connected groups of uncovered communes.
    synthese : Synthese
        Key figures (``synthese.json``).
    perimetres : pandas.DataFrame
        The normalised perimeters analysed.
    journal : Journal
    indicateurs : pandas.DataFrame or None
        Health indicators per territory, when given (see :mod:`territoire.indicators`).
    """

    communes: gpd.GeoDataFrame
    cpts: pd.DataFrame
    chevauchements: pd.DataFrame
    chevauchements_paires: pd.DataFrame
    zones_blanches: gpd.GeoDataFrame
    synthese: Synthese
    perimetres: pd.DataFrame
    journal: Journal = field(default_factory=Journal)
    indicateurs: pd.DataFrame | None = None


# --- Plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parametres:
    """Thresholds of the planner (all documented in the README).

    Attributes
    ----------
    population_max_zone_extension : int
        A white zone up to this population is covered by extending
        neighbouring CPTS; above it, new CPTS are proposed.
    population_min_nouvelle_cpts : int
        Population floor of a proposed new CPTS (reached whenever the zone as
        a whole allows it).
    population_max_cpts : int
        An extension never takes a CPTS above this population.
    franchir_seuil_taille : bool
        Allow an extension to move a CPTS to another taille (changes its funding).
    franchir_departement : bool
        Allow an extension into a département the CPTS does not touch yet.
    preferer_aci : bool
        Between equal choices, prefer the most mature CPTS (signataire ACI first).
    croissance_max_sans_alerte : float
        An existing CPTS whose population grows by more than this share
        through the plan is flagged « à valider avec la CPTS ».
    """

    population_max_zone_extension: int = 20_000
    population_min_nouvelle_cpts: int = 20_000
    population_max_cpts: int = 250_000
    franchir_seuil_taille: bool = False
    franchir_departement: bool = False
    preferer_aci: bool = True
    croissance_max_sans_alerte: float = 0.5


class ChiffresPlan(TypedDict):
    """The figures of :class:`Chiffres` compared before and after a plan."""

    population_totale: int
    population_couverte: int
    taux_couverture: float
    taux_couverture_aci: float
    nb_cpts: int
    nb_communes_en_chevauchement: int
    population_en_chevauchement: int
    nb_zones_blanches: int
    nb_communes_zones_blanches: int
    population_zones_blanches: int


class CptsAvantApres(TypedDict):
    """One CPTS before and after a plan (a row of ``cpts_avant_apres.csv``)."""

    cpts: str
    nouvelle: bool
    population_avant: int
    taille_avant: int | None
    financement_max_avant: int
    population_apres: int
    taille_apres: int | None
    financement_max_apres: int
    financement_fonctionnement_avant: int
    financement_fonctionnement_apres: int
    nb_morceaux_apres: int
    compacite_apres: float | None
    #: Population after / before − 1 (``None`` for a new CPTS).
    croissance: float | None
    #: Grows by more than ``Parametres.croissance_max_sans_alerte``: to validate with the CPTS.
    forte_croissance: bool


class Variante(TypedDict):
    """A plan under other rules, summed up for comparison (a row of ``variantes.csv``)."""

    variante: str
    description: str
    nb_cpts: int
    nb_nouvelles_cpts: int
    population_min: int
    population_mediane: int
    population_max: int
    nb_cpts_par_taille: dict[str, int]
    nb_epci_scindes_apres: int
    compacite_moyenne_apres: float | None
    financement_max_total_apres: int
    nb_changements_taille: int
    taux_couverture_apres: float


class Scenario(TypedDict):
    """The figures of a plan, as written in ``scenario.json``."""

    perimetre: list[str]
    millesime_population: str
    bareme: str
    avant: ChiffresPlan
    apres: ChiffresPlan
    nb_arbitrages_chevauchement: int
    #: Communes the plan proposes to share between the CPTS claiming them (shares to validate).
    nb_communes_partagees_proposees: int
    nb_communes_extension: int
    nb_cpts_etendues: int
    nb_nouvelles_cpts: int
    nb_changements_taille: int
    financement_max_total_avant: int
    financement_max_total_apres: int
    nb_epci_scindes_avant: int
    nb_epci_scindes_apres: int
    compacite_moyenne_apres: float | None
    compacite_min_apres: float | None
    #: Existing CPTS growing by more than ``Parametres.croissance_max_sans_alerte``.
    nb_cpts_forte_croissance: int
    cpts: list[CptsAvantApres]
    parametres: dict[str, int | bool]
    date_perimetres: str | None
    #: The plan and its variants side by side (the plan first); empty when not computed.
    variantes: list[Variante]
    #: Each pair of CPTS claiming the same communes, with its options side by side (see
    #: :func:`territoire.overlaps.options_table`).
    options_chevauchement: list[dict]


@dataclass
class Plan:
    """Proposals and their effect.

    Attributes
    ----------
    propositions : pandas.DataFrame
        ``code_commune``, ``nom``, ``population``, ``action``, ``cpts_cible``,
        ``alternative``, ``motif``.
    perimetres : pandas.DataFrame
        Resulting perimeters, normalised (``cpts``, ``statut``, ``code_commune``, ``part``).
    scenario : Scenario
        Figures before and after (``scenario.json``).
    avant, apres : Audit
        Audits of the current and proposed perimeters.
    journal : Journal
    """

    propositions: pd.DataFrame
    perimetres: pd.DataFrame
    scenario: Scenario
    avant: Audit
    apres: Audit
    journal: Journal = field(default_factory=Journal)

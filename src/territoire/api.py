"""The public API, in the users' words: read, analyse, plan, write, show.

Everything a notebook needs, re-exported flatly by :mod:`territoire`::

    import territoire as t
    per = t.lire_perimetres("perimetres.csv")      # or a DataFrame / GeoDataFrame
    audit = t.analyser(per)
    plan = t.planifier(per)
    t.ecrire_resultats(plan, "plan")               # tables, maps, meeting pack

Every entry goes through the same validation as the command line
(:func:`lire_perimetres`), and every result is typed
(:mod:`territoire.models`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import networkx as nx
import pandas as pd

from . import analyse as _analyse
from . import graph, read, reference, settings
from . import plan as _plan
from .models import Audit, Parametres, Perimetres, Plan, Population

SourcePerimetres: TypeAlias = str | Path | pd.DataFrame | Perimetres
SourcePopulation: TypeAlias = str | Path | pd.DataFrame | Population


def lire_perimetres(source: SourcePerimetres, *, majorite: float | None = None, couche: str | None = None,
                    feuille: str | None = None, communes_partagees: bool | list[str] = False) -> Perimetres:
    """Read and validate CPTS perimeters, from a file or a table held in memory.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or geopandas.GeoDataFrame
        A file (CSV, XLSX, ODS, GeoJSON, GeoPackage, Shapefile, or a zip of
        one, UTF-16 text included); or a table with one
        row per (CPTS, commune) and the columns a file would have (« CPTS »,
        « Code INSEE » as text or integers, former codes allowed, « Statut »...);
        or CPTS polygons in any CRS. An already validated :class:`Perimetres`
        is returned as it is.
    majorite : float, optional
        For polygons: share of a commune's area a CPTS must cover to take it
        (default ``settings.POLYGON_MAJORITY``, 0.5), in ]0, 1].
    couche : str, optional
        The layer to read when a GeoPackage (or a zip) holds several.
    feuille : str, optional
        The sheet to read when a workbook holds several lists of communes.
    communes_partagees : bool or list of str, optional
        Communes listed whole in several CPTS are shared between them (equal
        shares, to be refined) rather than overlaps: all such communes
        (``True``) or the codes given. A file can also declare shares in a
        ``part_population`` column (see the README).

    Returns
    -------
    Perimetres
        ``table`` (``cpts``, ``statut``, ``code_commune``, ``part``) and the
        ``journal`` of what was repaired, harmonised or ignored.

    Raises
    ------
    TerritoireError
        A source that cannot be read as perimeters (French message naming the
        line, column and value).

    Examples
    --------
    >>> import pandas as pd, territoire as t
    >>> per = t.lire_perimetres(pd.DataFrame({"CPTS": ["Centre Essonne"] * 2, "Code INSEE": [91182, 91228]}))
    >>> per.table[["cpts", "code_commune"]].to_dict("records")
    [{'cpts': 'Centre Essonne', 'code_commune': '91228'}]
    >>> per.journal.infos[-1]
    'CPTS « Centre Essonne » : commune 91228 (Évry-Courcouronnes) citée 2 fois (codes 91182, 91228) ; comptée une fois.'
    """
    if isinstance(source, Perimetres):
        return source
    return read.read_perimeters(source, majority=majorite, layer=couche, sheet=feuille, shared=communes_partagees)


def lire_population(source: SourcePopulation) -> Population:
    """Read populations (a code column and a population column, any millésime).

    Parameters
    ----------
    source : str, pathlib.Path or pandas.DataFrame
        CSV or XLSX file, or a table in memory. Former codes are summed into
        the current commune; a year in the population header is its millésime.

    Returns
    -------
    Population

    Examples
    --------
    >>> import pandas as pd, territoire as t
    >>> pop = t.lire_population(pd.DataFrame({"code": ["91182", "91228"], "population_2017": [13495, 54603]}))
    >>> pop.valeurs.to_dict(), pop.millesime
    ({'91228': 68098}, '2017')
    """
    if isinstance(source, Population):
        return source
    return read.read_population(source)


def analyser(perimetres: SourcePerimetres, population: SourcePopulation | None = None, *,
             departements: list[str] | None = None, region: str | None = None, cache: bool = True) -> Audit:
    """Audit perimeters: overlaps, tailles, ACI funding, coverage, white zones.

    Parameters
    ----------
    perimetres : Perimetres, or any source of :func:`lire_perimetres`
    population : Population, or any source of :func:`lire_population`, optional
        Populations replacing the reference's where given.
    departements : list of str, optional
        Scope (default: the départements the perimeters touch).
    region : str, optional
        A région code: its départements are the scope.
    cache : bool, default True
        Keep the national adjacency graph in the user's cache folder; with
        ``False`` nothing is written to disk.

    Returns
    -------
    Audit
        ``synthese`` (the figures of ``synthese.json``), ``cpts``,
        ``communes``, ``chevauchements``, ``zones_blanches``...

    Examples
    --------
    >>> import pandas as pd, territoire as t
    >>> audit = t.analyser(pd.DataFrame({"CPTS": ["Nord"] * 3, "Code INSEE": [91027, 91326, 91432]}))
    >>> audit.cpts[["cpts", "nb_communes", "taille"]].to_dict("records")
    [{'cpts': 'Nord', 'nb_communes': 3, 'taille': 2}]
    >>> audit.synthese["nb_zones_blanches"]
    1
    """
    per = lire_perimetres(perimetres)
    pop = lire_population(population) if population is not None else None
    return _analyse.analyse(per, pop, departements, region, cache=cache)


def planifier(perimetres: SourcePerimetres, population: SourcePopulation | None = None, *,
              departements: list[str] | None = None, region: str | None = None,
              parametres: Parametres | None = None, cache: bool = True) -> Plan:
    """Propose how to settle every overlap and cover every white zone (Plan 100 % CPTS).

    Parameters
    ----------
    perimetres, population, departements, region, cache
        As for :func:`analyser`.
    parametres : Parametres, optional
        The planner's thresholds (default :class:`Parametres`).

    Returns
    -------
    Plan
        ``propositions`` (one row per commune), ``perimetres`` proposed,
        ``scenario`` (the figures of ``scenario.json``), audits ``avant`` and
        ``apres``.

    Examples
    --------
    >>> import pandas as pd, territoire as t
    >>> plan = t.planifier(pd.DataFrame({"CPTS": ["Nord"] * 3, "Code INSEE": [91027, 91326, 91432]}))
    >>> plan.scenario["apres"]["nb_zones_blanches"], plan.scenario["apres"]["taux_couverture"]
    (0, 1.0)
    """
    per = lire_perimetres(perimetres)
    pop = lire_population(population) if population is not None else None
    return _plan.planifier(per, pop, departements, region, parametres, cache=cache)


def referentiel_communes() -> gpd.GeoDataFrame:
    """The embedded commune reference (a copy: changing it changes nothing else).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by code (communes and arrondissements municipaux of the
        current COG): ``nom``, ``departement``, ``region``, ``population``,
        ``epci_siren``, ``superficie_km2``... in WGS 84.

    Examples
    --------
    >>> import territoire as t
    >>> ref = t.referentiel_communes()
    >>> ref.loc["91228", "nom"]
    'Évry-Courcouronnes'
    """
    return reference.units().copy()


def graphe_communes(codes: list[str] | pd.Index | None = None, *, cache: bool = True) -> nx.Graph:
    """The adjacency graph of communes (all of France, or of ``codes``).

    Parameters
    ----------
    codes : list of str, optional
        The communes to keep (default: all).
    cache : bool, default True
        As for :func:`analyser`.

    Returns
    -------
    networkx.Graph
        Nodes are codes; each edge has ``longueur`` (shared border, metres).

    Examples
    --------
    >>> import territoire as t
    >>> g = t.graphe_communes(["91027", "91326", "91432"])
    >>> sorted(g.neighbors("91027")), round(g.edges["91027", "91326"]["longueur"])
    (['91326'], 2769)
    """
    return graph.adjacency_graph(codes, cache=cache)


def bareme_aci() -> dict:
    """The ACI scale in force: size thresholds and amounts by taille, with its name and date.

    Read from ``regles/bareme_aci.json`` (or the file ``TERRITOIRE_BAREME``
    names) each time a figure is computed.

    Examples
    --------
    >>> import territoire as t
    >>> t.bareme_aci()["seuils_taille"]
    (40000, 80000, 175000)
    """
    return dict(settings.scale())


def ecrire_resultats(resultat: Audit | Plan, dossier: str | Path, *, carte: bool = True) -> Path:
    """Write an audit's or a plan's results folder, as the command line does.

    Parameters
    ----------
    resultat : Audit or Plan
    dossier : str or pathlib.Path
        A new or empty folder, or one territoire wrote before (never a folder
        holding other files: see the README, « Robustesse »).
    carte : bool, default True
        Also write the map (HTML, PNG) and the meeting pack (workbook, report).

    Returns
    -------
    pathlib.Path
    """
    from . import export

    extra: dict[str, bytes] = {}
    if isinstance(resultat, Plan):
        if carte:
            from . import gis, render, report

            plan_tables = export.plan_tables(resultat)
            tables = {**export.audit_tables(resultat.apres), "propositions.csv": resultat.propositions,
                      **{k: v for k, v in plan_tables.items()
                         if k in ("cpts_avant_apres.csv", "variantes.csv", "options_chevauchements.csv")}}
            extra = report.meeting_pack(render.plan_map_data(resultat), resultat.apres.synthese, tables, True)
            extra["resultats.gpkg"] = gis.geopackage(gis.plan_layers(resultat, reference.units()),
                                                     resultat.scenario["perimetre"])
        return export.write_plan(resultat, dossier, extra)
    if carte:
        from . import gis, render, report

        extra = report.meeting_pack(render.audit_map_data(resultat), resultat.synthese,
                                    export.audit_tables(resultat), True)
        extra["resultats.gpkg"] = gis.geopackage(gis.audit_layers(resultat, reference.units()),
                                                 resultat.synthese["perimetre"])
    return export.write_audit(resultat, dossier, extra)


def carte(resultat: Audit | Plan, hauteur: int = 600) -> object:
    """The interactive map of an audit or a plan, shown in a notebook cell (offline).

    Returns
    -------
    territoire.render.InlineMap
        Displayed by Jupyter; ``.document`` holds the HTML page.
    """
    from . import render

    data = render.plan_map_data(resultat) if isinstance(resultat, Plan) else render.audit_map_data(resultat)
    return render.map_inline(data, hauteur)

"""The one way in: perimeters and populations from a file or from a frame in memory.

Files (CSV in any of ``,`` ``;`` tab, in UTF-8, UTF-16, Windows-1252 or Mac
Roman; XLSX; ODS; GeoJSON, GeoPackage, Shapefile; a zip of any of them) are
read to a raw table or layer by :mod:`territoire.readers`; a DataFrame or
GeoDataFrame held in memory is taken as it is; both then go through
:mod:`territoire.normalise` to the same validated
:class:`~territoire.models.Perimetres`: ``cpts``, ``statut``,
``code_commune``, ``part``, ``part_population``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import pandas as pd

from . import indicators, normalise, polygons, populations, readers, shares
from .errors import Journal
from .indicators import Indicateurs
from .models import Perimetres, Population

#: Name given in messages to a table passed in memory.
IN_MEMORY = "tableau en mémoire"

Source: TypeAlias = str | Path | pd.DataFrame


def _is_layer(frame: pd.DataFrame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return False
    types = set(frame.geometry.geom_type.dropna())
    return bool(types) and types <= {"Polygon", "MultiPolygon"}


def read_perimeters(source: Source, *, majority: float | None = None, layer: str | None = None,
                    sheet: str | None = None, shared: bool | list[str] = False) -> Perimetres:
    """Read perimeters (a file, a table or a polygon layer) into the validated, normalised table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or geopandas.GeoDataFrame
        A CSV, XLSX, GeoJSON, GeoPackage or Shapefile (or a normalised
        perimeter CSV written by ``territoire perimetres --sortie``); or a
        table in memory with the columns a file would have (codes as text or
        integers, former codes allowed); or CPTS polygons in any CRS.
    majority : float, optional
        For polygons: take whole communes only, each going to the perimeter
        covering at least this share of its area. By default a commune of which
        several perimeters hold at least ``settings.POLYGON_SHARE`` is shared
        between them, others go to the perimeter holding
        ``settings.POLYGON_MAJORITY`` (both read at call time).
    layer : str, optional
        The layer to read in a GeoPackage (or the Shapefile in a zip) holding
        several; required then, since reading the first would ignore the others.
    sheet : str, optional
        The sheet to read in a workbook holding several lists of communes.
    shared : bool or list of str, optional
        Communes listed whole in several CPTS are shared (equal shares) rather
        than overlaps: all of them (``True``) or those listed.

    Returns
    -------
    Perimetres

    Raises
    ------
    TerritoireError
        When the source cannot be read as perimeters (message in French naming
        the file, line or column and value).
    """
    per = _read_perimeters(source, majority=majority, layer=layer, sheet=sheet)
    if shared:
        per.table = shares.declare_shared(per.table, None if shared is True else list(shared), per.journal)
    return per


def _read_perimeters(source: Source, *, majority: float | None, layer: str | None, sheet: str | None) -> Perimetres:
    journal = Journal()
    if isinstance(source, pd.DataFrame):
        if _is_layer(source):
            return polygons.layer_to_perimeters(gpd.GeoDataFrame(source), Path(IN_MEMORY), journal,
                                                 majority=majority)
        df, roles = readers.raw_from_frame(pd.DataFrame(source).drop(
            columns=[c for c in ("geometry",) if isinstance(source, gpd.GeoDataFrame)], errors="ignore"))
        return _table(df, roles, Path(IN_MEMORY), journal)
    path = Path(source)
    src = readers.read_source(path, journal, layer=layer, sheet=sheet)
    if isinstance(src, gpd.GeoDataFrame):
        return polygons.layer_to_perimeters(src, path, journal, majority=majority)
    df, roles = src
    return _table(df, roles, path, journal)


def _table(df: pd.DataFrame, roles: dict[str, int], path: Path, journal: Journal) -> Perimetres:
    colonnes = normalise.describe_columns(df.attrs["headers"], roles, journal)
    return normalise.table_to_perimeters(df, roles, path, journal, colonnes)


def read_population(source: Source, *, sheet: str | None = None) -> Population:
    """Read populations (``code;population``, any millésime) from a file or a table in memory.

    Codes of merged communes are summed into the current commune. A year in
    the population header (``population_totale_2017``) is taken as its
    millésime.
    """
    journal = Journal()
    return populations.table_to_population(*_grid(source, journal, sheet), journal)


def _grid(source: Source, journal: Journal, sheet: str | None) -> tuple[pd.DataFrame, dict[str, int], Path]:
    """A table of codes and figures, from a file or a DataFrame: its raw cells, column roles and path."""
    if isinstance(source, pd.DataFrame):
        df, roles = readers.raw_from_frame(source)
        return df, roles, Path(IN_MEMORY)
    path = Path(source)
    df, roles = readers.read_grid(path, journal, sheet=sheet)
    return df, roles, path


def no_perimeters() -> Perimetres:
    """No perimeter file: a scope with no CPTS yet, all white (the start of a Plan 100 % CPTS)."""
    journal = Journal()
    journal.info("Aucun fichier de périmètres : toutes les communes du territoire choisi sont en zone blanche "
                 "(point de départ d'un Plan 100 % CPTS).")
    table = pd.DataFrame({"cpts": pd.Series([], dtype=object), "statut": pd.Series([], dtype=object),
                          "code_commune": pd.Series([], dtype=object), "part": pd.Series([], dtype="float64"),
                          "part_population": pd.Series([], dtype="float64")})
    return Perimetres(table=table, journal=journal, source="aucun fichier")


def perimeters_of(path: str | Path, **kwargs: object) -> Perimetres:
    """A perimeter file, or the perimeters of a results folder (``perimetres.csv``, else ``perimetres_proposes.csv``)."""
    from .errors import TerritoireError

    folder = Path(path)
    if folder.is_dir():
        found = [folder / n for n in ("perimetres.csv", "perimetres_proposes.csv") if (folder / n).is_file()]
        if not found:
            raise TerritoireError("ni perimetres.csv ni perimetres_proposes.csv dans ce dossier.", folder)
        folder = found[0]
    return read_perimeters(folder, **kwargs)  # type: ignore[arg-type]


def read_indicators(source: Source, *, sheet: str | None = None) -> Indicateurs:
    """Read health indicators by commune (a code column, counts and rates; see :mod:`territoire.indicators`)."""
    journal = Journal()
    return indicators.table_to_indicators(*_grid(source, journal, sheet), journal)

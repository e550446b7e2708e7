"""The embedded national commune reference (COG, populations, outlines).

Built by ``scripts/build_reference.py``; see ``data/README.md`` for sources,
versions and vintages.
"""

from __future__ import annotations

import functools
import hashlib
import json

import geopandas as gpd
import pandas as pd

from . import settings


@functools.cache
def communes() -> gpd.GeoDataFrame:
    """Every current commune and the 45 arrondissements municipaux.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by INSEE ``code``; columns ``nom``, ``type`` (``COM`` or
        ``ARM``), ``commune_parent`` (city of an arrondissement),
        ``departement``, ``departement_nom``, ``region``, ``region_nom``,
        ``epci_siren``, ``epci_nom``, ``population`` (municipale),
        ``millesime_population``, ``population_totale`` (vintage in
        :func:`metadata`), ``origine_contour``, ``superficie_km2`` and ``perimetre_m``
        (geodesic area and outline length); geometry in WGS84 (EPSG:4326).
    """
    gdf = gpd.read_parquet(settings.data_dir() / "communes.parquet")
    return gdf.set_index("code", drop=False).rename_axis(None)


@functools.cache
def units() -> gpd.GeoDataFrame:
    """The territorial units of analysis.

    Communes, with Paris, Lyon and Marseille replaced by their arrondissements
    (so no inhabitant counts twice). Shared and cached: never modify it (the
    public :func:`territoire.referentiel_communes` hands out a copy).
    """
    ref = communes()
    return ref[~ref.index.isin(settings.PLM_CITIES)]


@functools.cache
def former_table() -> pd.DataFrame:
    """``data/anciens_codes.csv``: former code, current code(s), nature, name, COG dates, decision.

    A code abolished by a split has one row per successor (nature ``scission``).
    """
    df = pd.read_csv(settings.data_dir() / "anciens_codes.csv", dtype=str)
    for col in ("dernier_cog", "premier_cog_sans"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return df


@functools.cache
def former_codes() -> pd.Series:
    """Former INSEE code -> current code (mergers, delegated and associated communes; first successor of a split)."""
    return former_table().drop_duplicates("ancien_code").set_index("ancien_code")["code_actuel"]


@functools.cache
def splits() -> pd.DataFrame:
    """``data/scissions.csv``: communes split since an earlier COG.

    ``code_commune`` is still a commune; ``code_separe`` became a commune
    again from COG ``cog``.
    """
    df = pd.read_csv(settings.data_dir() / "scissions.csv", dtype=str)
    return df.assign(cog=pd.to_numeric(df["cog"]).astype("int64"))


@functools.cache
def metadata() -> dict:
    """Sources, versions and vintages of the reference (``data/reference.json``)."""
    return json.loads((settings.data_dir() / "reference.json").read_text(encoding="utf-8"))


@functools.cache
def fingerprint() -> str:
    """Content hash of the reference, to key on-disk caches."""
    h = hashlib.sha256()
    for name in ("communes.parquet", "anciens_codes.csv", "scissions.csv"):
        h.update((settings.data_dir() / name).read_bytes())
    return h.hexdigest()[:16]


def population_vintage_label() -> str:
    """Human label of the embedded population vintage."""
    meta = metadata()
    return (f"population municipale {meta['millesime_population']} (INSEE, COG {meta['cog']}; "
            f"Mayotte {meta['millesime_population_mayotte']})")


def departements_of_region(region: str) -> list[str]:
    """Départements of a région code (e.g. ``"11"`` for Île-de-France)."""
    ref = communes()
    return sorted(ref.loc[ref["region"] == region, "departement"].unique())

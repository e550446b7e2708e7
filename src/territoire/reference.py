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
        ``millesime_population``, ``population_totale_2022``,
        ``geometrie_approchee``, ``superficie_km2`` and ``perimetre_m``
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
def former_codes() -> pd.Series:
    """Former INSEE code -> current code (mergers, delegated and associated communes)."""
    df = pd.read_csv(settings.data_dir() / "anciens_codes.csv", dtype=str)
    return df.set_index("ancien_code")["code_actuel"]


@functools.cache
def metadata() -> dict:
    """Sources, versions and vintages of the reference (``data/reference.json``)."""
    return json.loads((settings.data_dir() / "reference.json").read_text(encoding="utf-8"))


@functools.cache
def fingerprint() -> str:
    """Content hash of the reference, to key on-disk caches."""
    h = hashlib.sha256()
    for name in ("communes.parquet", "anciens_codes.csv"):
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

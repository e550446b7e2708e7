"""New CPTS in a white zone: territoire's partition against spopt and a baseline, on the same zones.

A fair comparison (issue 17): every method gets the same zones (whole
départements of at least 300 communes, as at the start of a Plan 100 % CPTS),
the same contiguity (territoire's commune graph, passed to spopt as a libpysal
``W``, so neither side is judged on its own graph), a real attribute
(population density, for the methods that minimise heterogeneity) and, where
the method asks for one, the number of groups territoire found. Each result
is scored by the same metrics: number of groups, population min / median /
max, groups inside the target range and under the minimum, EPCIs split,
mean Polsby-Popper compactness, contiguity, time.

Methods:

- ``territoire``: :class:`territoire.partition.PartitionBlocs` (EPCI parts
  merged towards the target range of the zone's typology);
- ``EPCI entiers``: the baseline, one group per EPCI part, split only above
  the maximum (the blocks territoire starts from, not merged);
- ``spopt max-p``: :class:`spopt.region.MaxPHeuristic`, floor = the target's
  minimum on population, attribute = density;
- ``spopt région-k-means``: :class:`spopt.region.RegionKMeansHeuristic` on
  density, as many groups as territoire;
- ``spopt SKATER``: :class:`spopt.region.Skater` on density, as many groups
  as territoire.

Run: ``python3 benchmarks/partition.py`` (``pip install -e ".[bench]"``);
writes ``benchmarks/PARTITION.md``. Not part of the test suite (minutes).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from datetime import date
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ZONES = {"50": "Manche", "22": "Côtes-d'Armor", "77": "Seine-et-Marne"}


def zone_graph(codes: list[str], edges: pd.DataFrame) -> nx.Graph:
    sub = edges[edges["u"].isin(codes) & edges["v"].isin(codes)]
    g = nx.Graph()
    g.add_nodes_from(codes)
    g.add_weighted_edges_from(zip(sub["u"], sub["v"], sub["longueur_m"]), weight="longueur")
    return g


def score(groups: list[list[str]], units: pd.DataFrame, edges: pd.DataFrame, g: nx.Graph, target) -> dict:
    """The metrics of one partition (same for every method)."""
    from territoire import analyse

    pops = np.array([units.loc[grp, "population"].sum() for grp in groups], dtype=float)
    members = pd.DataFrame([(i, c) for i, grp in enumerate(groups) for c in grp], columns=["groupe", "code_commune"])
    area = members["code_commune"].map(units["superficie_km2"] * 1e6).groupby(members["groupe"]).sum()
    outline = analyse.group_outlines(members, units, edges).reindex(area.index)
    pp = (4 * math.pi * area / outline.clip(lower=1) ** 2).clip(upper=1)
    epci = members.assign(e=members["code_commune"].map(units["epci_siren"])).dropna(subset=["e"])
    return {
        "groupes": len(groups),
        "pop_min": int(pops.min()), "pop_mediane": int(np.median(pops)), "pop_max": int(pops.max()),
        "dans_cible": int(((pops >= target.cible_min) & (pops <= target.cible_max)).sum()),
        "sous_minimum": int((pops < target.minimum).sum()),
        "epci_scindes": int((epci.groupby("e")["groupe"].nunique() > 1).sum()),
        "compacite": round(float(pp.mean()), 3),
        "contigus": all(nx.is_connected(g.subgraph(grp)) for grp in groups),
    }


def labels_to_groups(codes: list[str], labels) -> list[list[str]]:
    out: dict[object, list[str]] = {}
    for c, lab in zip(codes, labels):
        out.setdefault(lab, []).append(c)
    return sorted((sorted(v) for v in out.values()), key=lambda v: v[0])


def run_zone(dep: str, units: pd.DataFrame, edges: pd.DataFrame, with_spopt: bool) -> list[dict]:
    import geopandas as gpd

    from territoire import graph, partition, settings
    from territoire.models import Parametres

    # Islands are left out: the planner joins them ashore (``extensions.islands_ashore``), not the partition.
    islands = graph.islands(edges, units.index)
    codes = sorted(c for c in units.index[units["departement"] == dep] if c not in islands)
    z = units.loc[codes]
    density = z["population"].sum() / z["superficie_km2"].sum()
    typ = ("rural" if density < settings.DENSITY_RURAL else "urbain" if density >= settings.DENSITY_URBAN
           else "intermédiaire")
    target = partition.cibles(typ, Parametres())
    g = zone_graph(codes, edges)
    pop = z["population"].fillna(0).astype(float).to_dict()
    epci = z["epci_siren"].fillna("").astype(str).to_dict()
    rows = []

    def record(method: str, groups: list[list[str]], seconds: float) -> None:
        rows.append({"zone": f"{ZONES.get(dep, dep)} ({dep})", "communes": len(codes), "typologie": typ,
                     "methode": method, "secondes": seconds, **score(groups, units, edges, g, target)})

    t = time.perf_counter()
    model = partition.PartitionBlocs(g, pop, epci, target).fit()
    record("territoire", model.groupes_, time.perf_counter() - t)
    n = len(model.groupes_)
    t = time.perf_counter()
    blocks = partition.PartitionBlocs(g, pop, epci, target)._blocks()
    record("EPCI entiers", sorted((sorted(b) for b in blocks), key=lambda b: b[0]), time.perf_counter() - t)
    if not with_spopt:
        return rows
    import libpysal
    from spopt.region import MaxPHeuristic, RegionKMeansHeuristic, Skater

    neighbors = {i: [codes.index(v) for v in sorted(g.neighbors(c))] for i, c in enumerate(codes)}
    w = libpysal.weights.W(neighbors, silence_warnings=True)
    gdf = gpd.GeoDataFrame({"population": z["population"].fillna(0).to_numpy(float),
                            "densite": np.log1p(z["population"].fillna(0) / z["superficie_km2"]).to_numpy()},
                           geometry=z.geometry.to_numpy(), crs=4326)
    t = time.perf_counter()
    mp = MaxPHeuristic(gdf, w, ["densite"], "population", target.minimum, top_n=2, max_iterations_construction=99)
    mp.solve()
    record("spopt max-p", labels_to_groups(codes, mp.labels_), time.perf_counter() - t)
    t = time.perf_counter()
    km = RegionKMeansHeuristic(gdf[["densite"]].to_numpy(), n, w, seed=0)
    km.solve()
    record("spopt région-k-means", labels_to_groups(codes, km.labels_), time.perf_counter() - t)
    t = time.perf_counter()
    sk = Skater(gdf, w, ["densite"], n_clusters=n, floor=3)
    sk.solve()
    record("spopt SKATER", labels_to_groups(codes, sk.labels_), time.perf_counter() - t)
    return rows


def _fr(x: float, digits: int = 3) -> str:
    return f"{x:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def write(rows: list[dict], path: Path) -> None:
    import geopandas
    import shapely

    import territoire

    try:
        import spopt
        versions = f", spopt {spopt.__version__}"
    except ImportError:
        versions = ""
    lines = [f"# Nouvelles CPTS : partition de territoire contre spopt — {date.today().isoformat()}", "",
             f"Machine : {platform.machine()}, Python {platform.python_version()} ; territoire "
             f"{territoire.__version__}, shapely {shapely.__version__}, geopandas {geopandas.__version__}{versions}.",
             "", "Produit par `python3 benchmarks/partition.py` (voir son en-tête pour la méthode). Chaque zone est "
             "un département entier pris comme zone blanche (le point de départ d'un Plan 100 % CPTS) ; "
             "même graphe des communes pour toutes les méthodes, îles exclues (le planificateur les rattache à la côte) ; cible selon la typologie de densité de la "
             "zone (rural : minimum 15 000, cible 25 000–60 000 ; intermédiaire et urbain : minimum 40 000, "
             "cible 60 000–120 000).", "",
             "| zone | méthode | groupes | pop. min / médiane / max | dans la cible | sous le minimum | "
             "EPCI scindés | compacité moyenne | contigus | temps (s) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in rows:
        lines.append(f"| {r['zone']}, {r['communes']} communes, {r['typologie']} | {r['methode']} | {r['groupes']} | "
                     f"{_fr(r['pop_min'], 0)} / {_fr(r['pop_mediane'], 0)} / {_fr(r['pop_max'], 0)} | "
                     f"{r['dans_cible']} | {r['sous_minimum']} | {r['epci_scindes']} | {_fr(r['compacite'])} | "
                     f"{'oui' if r['contigus'] else 'non'} | {_fr(r['secondes'], 2)} |")
    lines += ["", "Rapport de temps (spopt / territoire), par zone :", ""]
    for zone, grp in pd.DataFrame(rows).groupby("zone", sort=False):
        base = grp.loc[grp["methode"] == "territoire", "secondes"].iloc[0]
        ratios = [f"{m} {_fr(s / max(base, 1e-9), 0)} ×" for m, s in zip(grp["methode"], grp["secondes"])
                  if m.startswith("spopt")]
        lines.append(f"- {zone} : territoire {_fr(base, 2)} s ; " + (" ; ".join(ratios) or "spopt non mesuré"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sans-spopt", action="store_true", help="territoire et la référence EPCI seulement")
    ap.add_argument("--sortie", default=str(ROOT / "benchmarks" / "PARTITION.md"))
    args = ap.parse_args()
    from territoire import graph, reference

    units, edges = reference.units(), graph.national_edges()
    rows = [r for dep in ZONES for r in run_zone(dep, units, edges, not args.sans_spopt)]
    write(rows, Path(args.sortie))
    print(Path(args.sortie).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

"""Benchmarks of territoire at département, région and national scale (synthetic national scenario).

Usage (from the repository root, after ``pip install -e ".[bench]"``)::

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --rapide   # smoke run (one repetition, no comparison libraries)

Each timed step runs in a fresh Python process (cold caches of the process,
warm disk cache of the adjacency graph unless stated) and reports wall time and
peak resident memory; figures are the median of several runs and their spread.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = Path(tempfile.gettempdir()) / "territoire-scenario-national.csv"

# One child process per measurement: prints {"s": seconds, "rss_mb": peak RSS}.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
dt = time.perf_counter() - t0
print(json.dumps({"s": dt, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **globals().get("extra", {})}))
"""

STEPS = {
    "chargement de la référence": "from territoire import reference; reference.units()",
    "lecture + harmonisation des périmètres nationaux": f"from territoire import read; read.read_perimeters(r'{SCENARIO}')",
    "graphe d'adjacence national (sans cache)": "from territoire import graph, reference; graph.build_edges(reference.units())",
}
for label, scope in [("département (91)", "['91']"), ("région (Auvergne-Rhône-Alpes, 84)", None), ("France entière", "'FR'")]:
    if scope == "'FR'":
        args = "departements=sorted(reference.units()['departement'].unique())"
    elif scope is None:
        args = "region='84'"
    else:
        args = f"departements={scope}"
    STEPS[f"analyse — {label}"] = (
        f"from territoire import analyse, export, read, reference; p = read.read_perimeters(r'{SCENARIO}'); "
        f"t = time.perf_counter(); a = analyse.analyse(p, {args}); extra = {{'coeur_s': time.perf_counter() - t}}")
    STEPS[f"planifier — {label}"] = (
        f"from territoire import plan, read, reference; p = read.read_perimeters(r'{SCENARIO}'); "
        f"t = time.perf_counter(); pl = plan.planifier(p, {args.replace('departements', 'departements')}); "
        f"extra = {{'coeur_s': time.perf_counter() - t}}")


def measure(code: str, runs: int) -> dict:
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", CHILD, code], capture_output=True, text=True, cwd=ROOT)
        if res.returncode != 0:
            raise SystemExit(res.stderr)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    s = [o["s"] for o in out]
    core = [o.get("coeur_s", o["s"]) for o in out]
    return {"median_s": statistics.median(s), "spread_s": max(s) - min(s),
            "core_median_s": statistics.median(core), "core_spread_s": max(core) - min(core),
            "rss_mb": max(o["rss_mb"] for o in out), "runs": runs}


def libpysal_comparison() -> dict:
    import libpysal.graph
    import numpy as np
    from territoire import graph, reference

    units = reference.units()
    t = time.perf_counter()
    ours = graph.build_edges(units)
    t_ours = time.perf_counter() - t
    parts = []
    t = time.perf_counter()
    for _, grp in units.groupby(units["departement"].map(__import__("territoire.settings").settings.metric_crs)):
        g = libpysal.graph.Graph.build_contiguity(grp.geometry, rook=False)
        adj = g.adjacency.reset_index()
        adj = adj[adj["weight"] > 0]
        parts.append(adj)
    t_lib = time.perf_counter() - t
    import pandas as pd
    lib = pd.concat(parts)
    a, b = lib["focal"].to_numpy(), lib["neighbor"].to_numpy()
    lib_pairs = {(x, y) if x < y else (y, x) for x, y in zip(a, b) if x != y}
    our_pairs = set(zip(ours["u"], ours["v"]))
    return {"territoire_s": t_ours, "libpysal_s": t_lib, "ratio": t_lib / t_ours,
            "aretes_communes": len(our_pairs & lib_pairs), "seulement_territoire": len(our_pairs - lib_pairs),
            "seulement_libpysal": len(lib_pairs - our_pairs), "n": int(np.int64(len(units)))}


def maxp_comparison(floor: int = 20_000) -> dict:
    """Our regionalisation against spopt's MaxPHeuristic on the same white zones."""
    import geopandas as gpd
    import libpysal
    import networkx as nx
    from spopt.region import MaxPHeuristic
    from territoire import analyse, graph, plan, read, reference

    per = read.read_perimeters(SCENARIO)
    a = analyse.analyse(per, departements=["29", "35", "56", "22"])
    units = reference.units()
    edges = graph.national_edges()
    zones = [z.split(" | ") for z in a.zones_blanches["communes"] if sum(units.loc[z.split(" | "), "population"]) >= 2 * floor]
    res = {"zones": len(zones), "territoire_s": 0.0, "spopt_s": 0.0, "territoire_groupes": 0, "spopt_groupes": 0,
           "territoire_contigus": True, "spopt_contigus": True}
    for codes in zones:
        sub = edges[edges["u"].isin(codes) & edges["v"].isin(codes)]
        g = nx.Graph()
        g.add_nodes_from(codes)
        g.add_weighted_edges_from(sub[["u", "v", "longueur_m"]].itertuples(index=False, name=None), weight="longueur")
        pop = units.loc[codes, "population"].astype(float).to_dict()
        t = time.perf_counter()
        groups = plan.regionalise(g, pop, units.loc[codes, "epci_siren"].to_dict(), floor)
        res["territoire_s"] += time.perf_counter() - t
        res["territoire_groupes"] += sum(sum(pop[c] for c in grp) >= floor for grp in groups)
        res["territoire_contigus"] &= all(nx.is_connected(g.subgraph(grp)) for grp in groups)
        gdf = gpd.GeoDataFrame({"population": [pop[c] for c in codes], "x": 1.0},
                               geometry=units.loc[codes].geometry.to_numpy(), crs=4326).to_crs(2154)
        w = libpysal.weights.Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
        t = time.perf_counter()
        try:
            model = MaxPHeuristic(gdf, w, ["x"], "population", floor, top_n=2, max_iterations_construction=99)
            model.solve()
        except Exception:  # spopt fails on some graphs (islands, enclaves): counted, not fatal
            res["spopt_s"] += time.perf_counter() - t
            res["spopt_echecs"] = res.get("spopt_echecs", 0) + 1
            continue
        res["spopt_s"] += time.perf_counter() - t
        labels = model.labels_
        for lab in set(labels):
            idx = [i for i, v in enumerate(labels) if v == lab]
            if lab > 0 and gdf["population"].iloc[idx].sum() >= floor:
                res["spopt_groupes"] += 1
    res["ratio"] = res["spopt_s"] / max(res["territoire_s"], 1e-9)
    return res


def map_sizes() -> dict:
    from territoire import analyse, read, render

    per = read.read_perimeters(SCENARIO)
    out = {}
    for label, deps in [("département (91)", ["91"]), ("France entière", None)]:
        import pandas as pd
        from territoire import reference
        scope = deps or sorted(reference.units()["departement"].unique())
        a = analyse.analyse(per, departements=scope)
        t = time.perf_counter()
        html = render.map_html(render.audit_map_data(a), hors_ligne=True)
        t_build = time.perf_counter() - t
        path = Path(tempfile.gettempdir()) / f"territoire-bench-{len(scope)}.html"
        path.write_text(html, encoding="utf-8")
        t = time.perf_counter()
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tempfile.mkdtemp()}", "--virtual-time-budget=60000",
                        "--dump-dom", path.as_uri()], capture_output=True, timeout=600)
        out[label] = {"taille_mo": len(html.encode()) / 1e6, "construction_s": t_build,
                      "rendu_chromium_s": time.perf_counter() - t}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rapide", action="store_true", help="une répétition, sans bibliothèques de comparaison")
    ap.add_argument("--sortie", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = ap.parse_args()
    runs = 1 if args.rapide else 3
    from territoire import export, synthetic

    export.write_csv(synthetic.national_scenario(), SCENARIO)
    results = {label: measure(code, runs) for label, code in STEPS.items()}
    extra = {}
    if not args.rapide:
        extra["libpysal"] = libpysal_comparison()
        extra["maxp"] = maxp_comparison()
        extra["cartes"] = map_sizes()
    write_results(results, extra, Path(args.sortie))


def write_results(results: dict, extra: dict, path: Path) -> None:
    import geopandas, networkx, pandas, shapely  # noqa: E401
    import territoire

    lines = [f"# Résultats des mesures — {date.today().isoformat()}", "",
             f"Machine : {platform.machine()}, {__import__('os').cpu_count()} cœurs, Python {platform.python_version()} ; "
             f"territoire {territoire.__version__}, shapely {shapely.__version__}, geopandas {geopandas.__version__}, "
             f"pandas {pandas.__version__}, networkx {networkx.__version__}.", "",
             "Données : scénario national **synthétique** (`territoire.synthetic.national_scenario`, graine 2024) "
             "sur la référence réelle (COG 2026, 34 920 unités).", "",
             "| étape | médiane totale (s) | écart (s) | dont calcul (s) | mémoire max (Mo) | répétitions |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, r in results.items():
        lines.append(f"| {label} | {r['median_s']:.2f} | {r['spread_s']:.2f} | {r['core_median_s']:.2f} | "
                     f"{r['rss_mb']:.0f} | {r['runs']} |")
    if "libpysal" in extra:
        x = extra["libpysal"]
        lines += ["", "## Graphe d'adjacence contre libpysal (contiguïté reine), toutes les communes", "",
                  f"territoire {x['territoire_s']:.1f} s, libpysal {x['libpysal_s']:.1f} s : rapport {x['ratio']:.1f}. "
                  f"Arêtes en commun {x['aretes_communes']}, seulement territoire {x['seulement_territoire']} "
                  f"(interstices de moins de 20 m), seulement libpysal {x['seulement_libpysal']}."]
    if "maxp" in extra:
        x = extra["maxp"]
        lines += ["", "## Nouvelles CPTS contre spopt MaxPHeuristic (plancher 20 000 hab.)", "",
                  f"{x['zones']} zones blanches (Bretagne) : territoire {x['territoire_s']:.2f} s, "
                  f"{x['territoire_groupes']} groupes au-dessus du plancher (contigus : {x['territoire_contigus']}) ; "
                  f"spopt {x['spopt_s']:.2f} s, {x['spopt_groupes']} groupes, {x.get('spopt_echecs', 0)} zone(s) où spopt "
                  f"échoue (IndexError dans _assign_enclave) ; rapport de temps {x['ratio']:.0f}."]
    if "cartes" in extra:
        lines += ["", "## Cartes HTML hors ligne", "", "| carte | taille (Mo) | construction (s) | rendu Chromium (s) |",
                  "| --- | ---: | ---: | ---: |"]
        for label, x in extra["cartes"].items():
            lines.append(f"| {label} | {x['taille_mo']:.1f} | {x['construction_s']:.1f} | {x['rendu_chromium_s']:.1f} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

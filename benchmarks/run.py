"""Benchmarks of territoire at département, région and national scale (synthetic national scenario).

Usage (from the repository root, after ``pip install -e ".[bench]"``)::

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/run.py --rapide   # smoke run: one repetition, département scale, no comparison

Each timed step runs in a fresh Python process (the process's caches cold,
the disk cache of the adjacency graph warm unless stated) and reports wall
time and peak resident memory; figures are the median of several runs and
their spread (max - min). The comparisons with libpysal and spopt run in one
process, on the same data, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "territoire-bench"
SCENARIO = WORK / "scenario-national-synthetique.csv"

# One child process per measurement: runs the code, prints seconds and peak RSS
# (its own, or that of the command it ran, whichever is larger).
CHILD = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
dt = time.perf_counter() - t0
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"s": dt, "rss_mb": rss / 1024, **globals().get("extra", {})}))
"""

SCALES = {
    "département (91)": "departements=['91']",
    "région (Auvergne-Rhône-Alpes, 84)": "region='84'",
    "France entière": "departements=sorted(reference.units()['departement'].unique())",
}


def steps(rapide: bool) -> dict[str, str]:
    """Label -> code run in a fresh process (``extra['coeur_s']``: time of the computation alone)."""
    out = {
        "chargement de la référence": "from territoire import reference; reference.units()",
        "lecture + harmonisation des périmètres nationaux":
            f"from territoire import read; read.read_perimeters(r'{SCENARIO}')",
    }
    if not rapide:
        out["graphe d'adjacence national (sans cache)"] = (
            "from territoire import graph, reference; u = reference.units(); "
            "t = time.perf_counter(); graph.build_edges(u); extra = {'coeur_s': time.perf_counter() - t}")
    for label, args in SCALES.items():
        if rapide and not label.startswith("département"):
            continue
        for fn, mod in (("analyse", "analyse"), ("planifier", "plan")):
            out[f"{fn} — {label}"] = (
                f"from territoire import {mod}, read, reference; p = read.read_perimeters(r'{SCENARIO}'); "
                f"t = time.perf_counter(); {mod}.{fn}(p, {args}); extra = {{'coeur_s': time.perf_counter() - t}}")
    if not rapide:
        deps = "sorted(reference.units()['departement'].unique())"
        for cmd in ("analyse", "planifier"):
            out[f"commande `territoire {cmd}` — France entière, sans carte"] = (
                f"from territoire import reference; deps = {deps}; "
                f"subprocess.run([sys.executable, '-m', 'territoire.cli', '{cmd}', r'{SCENARIO}', '--sans-carte', "
                f"'--sortie', r'{WORK / ('sortie-' + cmd)}', '--departement', *deps], check=True, "
                "stdout=subprocess.DEVNULL)")
    return out


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
            "core_median_s": statistics.median(core), "rss_mb": max(o["rss_mb"] for o in out), "runs": runs}


def _timed(fn, runs: int) -> tuple[float, float, object]:
    """Median and spread of ``runs`` calls, and the last result."""
    times, res = [], None
    for _ in range(runs):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), max(times) - min(times), res


def libpysal_comparison(runs: int = 3) -> dict:
    """Our adjacency graph against libpysal's queen contiguity, all communes of France."""
    import libpysal.graph

    from territoire import graph, reference

    units = reference.units()
    t_ours, d_ours, ours = _timed(lambda: graph.build_edges(units), runs)
    # libpysal's fastest path: one call on every outline (vertex-based, any projection).
    t_lib, d_lib, lib = _timed(lambda: libpysal.graph.Graph.build_contiguity(units.geometry, rook=False), runs)
    adj = lib.adjacency.reset_index()
    adj = adj[(adj["weight"] > 0) & (adj["focal"] != adj["neighbor"])]
    lib_pairs = {(a, b) if a < b else (b, a) for a, b in zip(adj["focal"], adj["neighbor"])}
    our_pairs = set(zip(ours["u"], ours["v"]))
    return {"territoire_s": t_ours, "territoire_ecart_s": d_ours, "libpysal_s": t_lib, "libpysal_ecart_s": d_lib,
            "ratio": t_lib / t_ours, "n": len(units), "aretes_communes": len(our_pairs & lib_pairs),
            "seulement_territoire": len(our_pairs - lib_pairs), "seulement_libpysal": len(lib_pairs - our_pairs),
            "runs": runs}


def map_sizes() -> dict:
    from territoire import analyse, read, reference, render

    per = read.read_perimeters(SCENARIO)
    out = {}
    for label, deps in [("département (91)", ["91"]), ("France entière", None)]:
        scope = deps or sorted(reference.units()["departement"].unique())
        a = analyse.analyse(per, departements=scope)
        t = time.perf_counter()
        html = render.map_html(render.audit_map_data(a), hors_ligne=True)
        t_build = time.perf_counter() - t
        path = WORK / f"carte-{len(scope)}.html"
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rapide", action="store_true", help="une répétition, échelle départementale, sans comparaison")
    ap.add_argument("--repetitions", type=int, default=3, help="répétitions de chaque mesure (défaut : 3)")
    ap.add_argument("--sortie", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = ap.parse_args()
    runs = 1 if args.rapide else args.repetitions
    from territoire import export, synthetic

    WORK.mkdir(parents=True, exist_ok=True)
    export.write_csv(synthetic.national_scenario(), SCENARIO)
    results = {label: measure(code, runs) for label, code in steps(args.rapide).items()}
    extra = {}
    if not args.rapide:
        extra["libpysal"] = libpysal_comparison(runs)
        extra["cartes"] = map_sizes()
    write_results(results, extra, Path(args.sortie))


def _fr(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def targets(results: dict, extra: dict) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each target of the brief that this run measured."""
    out = []
    if "libpysal" in extra:
        x = extra["libpysal"]
        out.append(("graphe d'adjacence ≥ 5 × plus rapide que libpysal, mêmes arêtes",
                    f"{_fr(x['ratio'], 1)} × ({_fr(x['territoire_s'])} s contre {_fr(x['libpysal_s'])} s) ; "
                    f"{x['aretes_communes']} arêtes en commun, {x['seulement_libpysal']} seulement chez libpysal, "
                    f"{x['seulement_territoire']} seulement chez territoire",
                    x["ratio"] >= 5 and x["seulement_libpysal"] == 0))
    for cmd, limit in (("analyse", 5), ("planifier", 10)):
        key = f"commande `territoire {cmd}` — France entière, sans carte"
        if key in results:
            r = results[key]
            out.append((f"`territoire {cmd}` France ≤ {limit} s", f"{_fr(r['median_s'])} s (médiane)",
                        r["median_s"] <= limit))
    if results:
        peak = max(r["rss_mb"] for r in results.values())
        out.append(("mémoire maximale < 1,5 Go", f"{peak:.0f} Mo au plus", peak < 1536))
    if "cartes" in extra:
        c = extra["cartes"]
        dep, fr = c["département (91)"]["taille_mo"], c["France entière"]["taille_mo"]
        out.append(("carte départementale ≤ 2 Mo, nationale ≤ 25 Mo", f"{_fr(dep, 1)} Mo ; {_fr(fr, 1)} Mo",
                    dep <= 2 and fr <= 25))
    return out


def write_results(results: dict, extra: dict, path: Path) -> None:
    import geopandas
    import networkx
    import pandas
    import shapely

    import territoire

    versions = (f"territoire {territoire.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
                f"geopandas {geopandas.__version__}, pandas {pandas.__version__}, networkx {networkx.__version__}")
    if "libpysal" in extra:
        import libpysal
        versions += f", libpysal {libpysal.__version__}"
    lines = [f"# Résultats des mesures — {date.today().isoformat()}", "",
             f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()} ; "
             f"{versions}.", "",
             "Données : scénario national **synthétique** (`territoire.synthetic.national_scenario`, graine 2024, "
             "périmètres fictifs tirés au sort sur le vrai graphe des communes) sur la référence réelle (COG 2026). "
             "Produit par `python3 benchmarks/run.py`.", "",
             "Chaque mesure est faite dans un processus neuf (imports compris, cache disque du graphe déjà "
             "construit sauf mention) ; « dont calcul » est le temps de la fonction seule.", "",
             "| étape | médiane (s) | écart (s) | dont calcul (s) | mémoire max (Mo) | répétitions |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, r in results.items():
        lines.append(f"| {label} | {_fr(r['median_s'])} | {_fr(r['spread_s'])} | {_fr(r['core_median_s'])} | "
                     f"{r['rss_mb']:.0f} | {r['runs']} |")
    if "libpysal" in extra:
        x = extra["libpysal"]
        lines += ["", "## Graphe d'adjacence contre libpysal (contiguïté reine), toutes les communes", "",
                  f"{x['n']} unités, même processus, médiane de {x['runs']} exécutions : territoire "
                  f"{_fr(x['territoire_s'])} s (écart {_fr(x['territoire_ecart_s'])}), "
                  f"`libpysal.graph.Graph.build_contiguity(rook=False)` {_fr(x['libpysal_s'])} s "
                  f"(écart {_fr(x['libpysal_ecart_s'])}) : territoire est {_fr(x['ratio'], 1)} fois plus rapide, "
                  "et calcule en plus la longueur de chaque frontière.", "",
                  f"Arêtes en commun : {x['aretes_communes']} ; seulement libpysal : {x['seulement_libpysal']} ; "
                  f"seulement territoire : {x['seulement_territoire']} (communes face à face de part et d'autre "
                  "d'un interstice de moins de 20 m des contours généralisés, qu'aucune autre commune ne comble)."]
    lines += ["", "## Nouvelles CPTS contre spopt", "",
              "Voir `PARTITION.md` (`python3 benchmarks/partition.py`) : mêmes zones d'au moins 300 communes, "
              "même graphe, attribut réel, métriques de qualité et rapport de temps."]
    if "cartes" in extra:
        lines += ["", "## Cartes HTML hors ligne", "", "| carte | taille (Mo) | construction (s) | rendu Chromium (s) |",
                  "| --- | ---: | ---: | ---: |"]
        for label, x in extra["cartes"].items():
            lines.append(f"| {label} | {_fr(x['taille_mo'], 1)} | {_fr(x['construction_s'], 1)} | "
                         f"{_fr(x['rendu_chromium_s'], 1)} |")
    goals = targets(results, extra)
    if goals:
        lines += ["", "## Objectifs (machine à 2 cœurs)", "", "| objectif | mesuré | atteint |", "| --- | --- | --- |"]
        lines += [f"| {g} | {m} | {'oui' if ok else '**non**'} |" for g, m, ok in goals]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

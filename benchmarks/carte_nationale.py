"""The national map in headless Chromium: file size, first complete render, worst frame while panning and zooming.

Usage (from the repository root, Chromium installed: ``apt-get install chromium``)::

    python benchmarks/carte_nationale.py            # prints the figures as JSON
    python benchmarks/carte_nationale.py --repetitions 3

The map is the audit of the synthetic national scenario
(``territoire.synthetic.national_scenario``), built by ``render.map_html``.
The page is opened from a file with every network request refused. "First
complete render" is the time from navigation start to the first frame after
``carte.js`` has drawn the layers and labels. A frame is the interval between
two ``requestAnimationFrame`` callbacks while the map pans (``panBy``,
animated) and zooms (``setZoom``, animated) at national zoom, at régional zoom
(Auvergne-Rhône-Alpes, zoom 8) and at commune zoom (zoom 10, communes decoded
on the way); the worst interval of each phase is reported, with the longest
task the browser reports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(tempfile.gettempdir()) / "territoire-bench"

RECORD = """() => {
  window.__frames = []; window.__longest = 0; let last = performance.now();
  const tick = t => { window.__frames.push(t - last); last = t; window.__raf = requestAnimationFrame(tick); };
  window.__raf = requestAnimationFrame(tick);
  new PerformanceObserver(l => l.getEntries().forEach(e => { window.__longest = Math.max(window.__longest, e.duration); }))
    .observe({entryTypes: ['longtask']});
}"""
READY = """() => new Promise(r => {
  const wait = () => window.territoireCarte ? requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())))
                                            : setTimeout(wait, 5);
  wait();
})"""
PHASES = {
    "nationale": (None, None),
    "régionale": ([45.6, 4.9], 8),
    "communes": ([45.75, 4.85], 10),
}


def build_map() -> tuple[Path, float]:
    from territoire import analyse, export, read, reference, render, synthetic

    WORK.mkdir(parents=True, exist_ok=True)
    scenario = WORK / "scenario-national-synthetique.csv"
    export.write_csv(synthetic.national_scenario(), scenario)
    audit = analyse.analyse(read.read_perimeters(scenario),
                            departements=sorted(reference.units()["departement"].unique()))
    t = time.perf_counter()
    html = render.map_html(render.audit_map_data(audit))
    seconds = time.perf_counter() - t
    path = WORK / "carte-nationale.html"
    path.write_text(html, encoding="utf-8")
    return path, seconds


def measure(path: Path, browser) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="commit")
    first = page.evaluate(READY) / 1000
    out = {"premier_rendu_s": first, "erreurs": errors}
    for phase, (centre, zoom) in PHASES.items():
        if centre:
            page.evaluate("([c, z]) => { window.territoireCarte.map.setView(c, z, {animate: false}); }", [centre, zoom])
            page.wait_for_timeout(1500)
        page.evaluate(RECORD)
        for dx, dy in [(200, 0), (0, 150), (-200, 0), (0, -150)] * 2:
            page.evaluate("([x, y]) => { window.territoireCarte.map.panBy([x, y], {animate: true, duration: 0.3}); }",
                          [dx, dy])
            page.wait_for_timeout(450)
        for step in (1, -1):
            page.evaluate("s => { const m = window.territoireCarte.map; m.setZoom(m.getZoom() + s); }", step)
            page.wait_for_timeout(700)
        frames = page.evaluate("() => { cancelAnimationFrame(window.__raf); return window.__frames.slice(1); }")
        out[phase] = {"pire_image_ms": max(frames), "image_mediane_ms": statistics.median(frames),
                      "tache_la_plus_longue_ms": page.evaluate("window.__longest")}
    context.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repetitions", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    path, build_s = build_map()
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for _ in range(args.repetitions):
            runs.append(measure(path, browser))
        browser.close()
    result = {"taille_mo": path.stat().st_size / 1e6, "construction_s": build_s,
              "premier_rendu_s": statistics.median(r["premier_rendu_s"] for r in runs),
              "erreurs": sorted({e for r in runs for e in r["erreurs"]})}
    for phase in PHASES:
        result[phase] = {k: max(r[phase][k] for r in runs) for k in runs[0][phase]}
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()

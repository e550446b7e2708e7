#!/usr/bin/env bash
# Regenerate the Essonne example maps in maps/ (self-contained HTML, PNG, report) from the embedded data,
# audit and plan with the same population file, and screenshots at 1280×720 (needs Chromium + Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pop=data/exemples/essonne_2017_population_totale.csv
for cmd in analyse planifier; do
  territoire "$cmd" data/exemples/essonne_2019_perimetres.csv --population "$pop" \
    --date-perimetres "décembre 2019" --sortie "$tmp/$cmd" >/dev/null
done
mkdir -p maps
cp "$tmp/analyse/carte.html" maps/essonne_2019_analyse.html
cp "$tmp/analyse/carte.png" maps/essonne_2019_analyse.png
cp "$tmp/analyse/rapport.html" maps/essonne_2019_rapport.html
cp "$tmp/planifier/carte.html" maps/essonne_2019_plan.html
cp "$tmp/planifier/carte.png" maps/essonne_2019_plan.png
python3 scripts/captures.py maps/essonne_2019_analyse.html maps/essonne_2019_plan.html
ls -l maps

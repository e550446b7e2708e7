#!/usr/bin/env bash
# Regenerate the Essonne example maps in maps/ (offline HTML + PNG), from the embedded data.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
territoire analyse data/exemples/essonne_2019_perimetres.csv \
  --population data/exemples/essonne_2017_population_totale.csv --hors-ligne --sortie "$tmp/analyse" >/dev/null
territoire planifier data/exemples/essonne_2019_perimetres.csv --hors-ligne --sortie "$tmp/plan" >/dev/null
mkdir -p maps
cp "$tmp/analyse/carte.html" maps/essonne_2019_analyse.html
cp "$tmp/analyse/carte.png" maps/essonne_2019_analyse.png
cp "$tmp/analyse/rapport.html" maps/essonne_2019_rapport.html
cp "$tmp/plan/carte.html" maps/essonne_2019_plan.html
cp "$tmp/plan/carte.png" maps/essonne_2019_plan.png
ls -l maps

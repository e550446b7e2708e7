#!/usr/bin/env bash
# Vendor Leaflet (BSD-2-Clause) from the npm registry, for offline maps (--hors-ligne).
# The version matches the one folium links from its CDN.
set -euo pipefail
VERSION=1.9.3
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
(cd "$tmp" && npm pack --silent "leaflet@${VERSION}" >/dev/null && tar xzf "leaflet-${VERSION}.tgz")
dest=src/territoire/static
cp "$tmp/package/dist/leaflet.js" "$tmp/package/dist/leaflet.css" "$dest/"
cp "$tmp/package/LICENSE" "$dest/LICENSE-leaflet"
echo "leaflet ${VERSION} (npm), BSD-2-Clause" > "$dest/VERSION-leaflet"
rm -rf "$tmp"

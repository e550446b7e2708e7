"""The interactive map page: folium skeleton, embedded Leaflet, our style sheet, the data island, carte.js.

folium renders only the skeleton (map and canvas renderer), which holds no
text from the inputs; everything shown is in one JSON island (see
:func:`territoire.escaping.json_for_script`) drawn by ``static/carte.js``
with ``textContent``. Leaflet is always embedded: the page works with no
network. ``fond_de_carte`` adds an OpenStreetMap background (the only thing
that then needs a network; the layers never depend on it).
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import TYPE_CHECKING

import branca.element
import folium

from .. import escaping
from .document import legend, map_document

if TYPE_CHECKING:
    from ..render import Layers, MapData

#: Everything is at least 16 px: the map is read on a projector across a meeting room.
CSS = """html,body{margin:0;height:100%;font:16px/1.35 "DejaVu Sans",Arial,sans-serif;color:#111}
:root{--entete:76px;--panneau:360px}
.folium-map{position:fixed!important;top:var(--entete)!important;left:0!important;right:var(--panneau)!important;
  bottom:0!important;width:auto!important;height:auto!important}
body.sans-panneau{--panneau:0px} body.sans-panneau .territoire-panneau{display:none}
.territoire-entete{position:fixed;top:0;left:0;right:0;padding:6px 12px;background:#fff;border-bottom:2px solid #444;
  display:flex;gap:12px;align-items:flex-start;z-index:1001;box-sizing:border-box}
.territoire-entete .textes{flex:1}
.territoire-titre{font-size:22px;font-weight:bold;margin:0}
.territoire-sous-titre{font-size:16px;color:#333}
.territoire-boutons{display:flex;gap:6px}
.territoire-boutons button,.territoire-vues button{font:16px sans-serif;padding:4px 10px;border:1px solid #555;
  border-radius:4px;background:#f4f4f4;cursor:pointer}
.territoire-panneau{position:fixed;top:var(--entete);right:0;width:var(--panneau);bottom:0;overflow-y:auto;
  background:#fff;border-left:2px solid #444;box-sizing:border-box;padding:8px 10px;z-index:1000}
.territoire-panneau h2{font-size:18px;margin:10px 0 4px}
.territoire-panneau summary{font-size:18px;font-weight:bold;cursor:pointer;margin:8px 0 4px}
.recherche input{width:100%;font:16px sans-serif;padding:5px;box-sizing:border-box;border:1px solid #555}
.recherche ul{list-style:none;margin:0;padding:0;border:1px solid #ccc;border-top:0}
.recherche li{padding:4px 6px;cursor:pointer} .recherche li:hover,.recherche li.actif{background:#e6ecf5}
.ligne{display:flex;gap:8px;padding:5px 4px;border-bottom:1px solid #ddd;cursor:pointer;align-items:flex-start}
.ligne:hover,.ligne.choisie{background:#e6ecf5}
.ligne .nom{font-weight:bold} .ligne .resume{color:#333}
.puce{flex:none;display:inline-block;min-width:28px;height:28px;border-radius:14px;border:2px solid #111;
  background:#fff;font:bold 16px/28px sans-serif;text-align:center;box-sizing:border-box;line-height:24px}
.puce-zone{border:2px dashed #b2182b;color:#b2182b;border-radius:3px;padding:0 3px}
.lg-row{display:flex;align-items:center;gap:8px;margin-top:4px}
.lg-box{flex:none;display:inline-block;width:28px;height:18px;box-sizing:border-box}
.lg-line{flex:none;display:inline-block;width:28px}
.territoire-etiquettes{pointer-events:none}
.etiquette{position:absolute;white-space:nowrap;font:bold 16px/20px sans-serif;color:#111;
  text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 4px #fff,0 0 4px #fff}
.etiquette.cpts-numero{min-width:28px;height:28px;border-radius:14px;
  border:2px solid #111;background:#fff;text-align:center;line-height:24px;box-sizing:border-box;text-shadow:none;
  padding:0 3px}
.etiquette.zone-nom{color:#8c0f1f;background:rgba(255,255,255,.9);border:2px dashed #b2182b;padding:1px 5px;
  text-shadow:none}
.etiquette.ville-nom{font-weight:normal;font-style:italic;color:#222}
.leaflet-tooltip,.leaflet-popup-content,.leaflet-control-layers,.leaflet-control-attribution,
.leaflet-control-scale-line{font-size:16px!important}
.leaflet-popup-content{margin:10px 14px}
.leaflet-control-layers-toggle{background-image:none!important;width:auto!important;height:auto!important;
  padding:4px 10px;font:16px sans-serif;color:#111;text-decoration:none}
.leaflet-control-layers-toggle::after{content:"Couches"}
.territoire-info{border-collapse:collapse;margin-bottom:6px}
.territoire-info caption{text-align:left;font-weight:bold;font-size:17px;padding-bottom:4px}
.territoire-info th{text-align:left;padding-right:10px;font-weight:normal;color:#333;vertical-align:top}
.territoire-info td{font-weight:bold}
.territoire-vues{position:absolute;left:54px;top:10px;z-index:1000;display:flex;gap:4px;flex-wrap:wrap}
@media print{
  @page{size:A4 landscape;margin:8mm}
  .territoire-boutons,.recherche,.territoire-vues,.leaflet-control-zoom,.leaflet-control-layers{display:none!important}
  :root{--panneau:300px}
  .territoire-panneau{overflow:visible}
}
"""


def _static(name: str) -> str:
    return (resources.files("territoire") / "static" / name).read_text(encoding="utf-8")


def _deterministic_ids(text: str) -> str:
    """Folium names elements with random UUIDs: renumber them so reruns give identical files.

    Applied to the folium skeleton only, which holds no text from the inputs.
    """
    seen: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        return seen.setdefault(m.group(0), f"{len(seen) + 1:032x}")

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", repl, text)


def page_html(data: MapData, layers: Layers, fond_de_carte: bool = False) -> str:
    """The self-contained interactive map (see the module docstring)."""
    m = folium.Map(tiles="OpenStreetMap" if fond_de_carte else None, control_scale=False, prefer_canvas=True,
                   attribution_control=fond_de_carte, zoom_snap=0.25)
    m.default_js, m.default_css = [], []
    assets = f"<style>{_static('leaflet.css')}</style>\n<script>{_static('leaflet.js')}</script>"
    root = m.get_root()
    assert isinstance(root, branca.element.Figure)
    root.header.add_child(folium.Element(assets))
    root.header.add_child(folium.Element(f"<style>{CSS}</style>"))
    skeleton = _deterministic_ids(root.render())
    head, sep, tail = skeleton.partition("<head>")
    skeleton = f"{head}{sep}\n<title>{html.escape(data.titre)}</title>{tail}"
    page, sep, end = skeleton.rpartition("</html>")
    island = escaping.json_for_script(map_document(data, layers, legend(data)))
    return (f'{page}<script type="application/json" id="territoire-donnees">{island}</script>\n'
            f"<script>{_static('carte.js')}</script>\n{sep}{end}")

"""The map as a CTS audience sees it (issue 18), in headless Chromium with the network off.

Every CPTS is numbered on the map and listed in the side panel (a click zooms
to it and opens its card, nested ones included); commune tooltips work inside
CPTS; white zones carry one label each, matching ``zones_blanches.csv``; a
commune can be found by name offline; the plan shows before → after.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from territoire import export
from territoire.mapping import encode, titles

from .conftest import ESSONNE, ESSONNE_POP, cli_en_processus
from .navigateur import ETAT_CARTE, survoler


def cli(*args):
    return cli_en_processus(*args)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reunion")
    for command, out in (("analyse", "audit"), ("planifier", "plan")):
        res = cli(command, ESSONNE, "--population", ESSONNE_POP, "--date-perimetres", "décembre 2019",
                  "--sortie", root / out)
        assert res.returncode == 0, res.stderr
    return root


def open_map(navigateur, path):
    page = navigateur.ouvrir(path, width=1280, height=720)
    assert page.erreurs == [] and page.requetes_externes == []
    return page


def click_row(page, name: str) -> str:
    """Click the side-panel row of a CPTS; the text of the popup opened."""
    page.page.locator(".cpts-ligne", has_text=name).first.click()
    page.page.wait_for_timeout(300)
    return page.evaluate("() => { const t = document.querySelectorAll('.leaflet-popup-content');"
                         " return t.length ? t[t.length - 1].textContent : ''; }")


def test_every_cpts_numbered_listed_and_selectable(runs, navigateur):
    page = open_map(navigateur, runs / "audit" / "carte.html")
    state = page.evaluate(ETAT_CARTE)
    names = sorted(export.read_csv(runs / "audit" / "cpts.csv")["cpts"], key=str.casefold)
    assert state["textes_noms"] == names  # numbered in alphabetical order
    assert sorted(state["numeros"], key=int) == [str(i) for i in range(1, 6)]
    for name in names:  # AMSAVI, every commune of which is also in Hygie, included
        popup = click_row(page, name)
        assert popup.startswith(f"n° {names.index(name) + 1} — {name}"), popup
        assert "Lettre d'intention validée" in popup or "En projet" in popup


def test_commune_tooltip_inside_a_cpts_names_every_claiming_cpts(runs, navigateur):
    page = open_map(navigateur, runs / "audit" / "carte.html")
    athis = survoler(page, "91027")
    assert "Athis-Mons" in athis and "Projet AMSAVI (Espace Vie) | Projet Hygie (CPTS Nord Essonne)" in athis
    bondoufle = survoler(page, "91086")  # inside APES only
    assert "Bondoufle" in bondoufle and "Projet APES (CPTS Centre Essonne)" in bondoufle
    white = survoler(page, "91223")  # Étampes, white zone
    assert "zone blanche ZB-91001" in white


def test_white_zone_labels_match_the_table(runs, navigateur):
    page = open_map(navigateur, runs / "audit" / "carte.html")
    zones = export.read_csv(runs / "audit" / "zones_blanches.csv")
    expected = {f"{r.zone_blanche_id} : {r.nb_communes} communes, {titles.nbsp_number(r.population)} hab."
                for r in zones.itertuples()}
    assert set(page.evaluate(ETAT_CARTE)["zones"]) == expected
    panel = page.evaluate("() => Array.from(document.querySelectorAll('.zone-ligne')).map(n => n.textContent)")
    assert {t.removeprefix("ZB") for t in panel} == expected


def test_search_finds_a_commune_offline(runs, navigateur):
    page = open_map(navigateur, runs / "audit" / "carte.html")
    assert "Évry-Courcouronnes (91228)" in page.evaluate("window.territoireCarte.rechercher('evry courc')")
    assert page.evaluate("window.territoireCarte.rechercher('91228')") == ["Évry-Courcouronnes (91228)"]
    page.page.locator(".recherche li").first.click()
    page.page.wait_for_timeout(200)
    assert "Évry-Courcouronnes" in page.evaluate("document.querySelector('.leaflet-popup-content').textContent")


def test_title_scale_sources_and_projector_font_sizes(runs, navigateur):
    page = open_map(navigateur, runs / "audit" / "carte.html")
    title = page.evaluate("document.querySelector('.territoire-titre').textContent")
    subtitle = page.evaluate("document.querySelector('.territoire-sous-titre').textContent")
    assert title == "CPTS et zones blanches — Essonne (91)"
    assert "périmètres de décembre 2019" in subtitle and "Mayotte" not in subtitle and "((" not in subtitle
    scale = page.evaluate("Array.from(document.querySelectorAll('.leaflet-control-scale-line')).map(n => n.textContent)")
    assert len(scale) == 1 and scale[0].endswith(("km", " m"))
    assert "IGN, INSEE, DGCL" in page.evaluate("document.body.innerText")
    survoler(page, "91027")
    sizes = page.evaluate("""() => ['.etiquette', '.leaflet-tooltip', '.ligne .resume', '.lg-row',
        '.territoire-sous-titre', '.leaflet-control-scale-line', '.leaflet-control-layers-toggle']
        .map(s => [s, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)])""")
    assert all(size >= 16 for _, size in sizes), sizes
    assert page.evaluate("document.querySelector('.leaflet-control-layers-expanded')") is None  # collapsed


def test_plan_popups_before_after_and_new_cpts(runs, navigateur):
    page = open_map(navigateur, runs / "plan" / "carte.html")
    assert page.evaluate(ETAT_CARTE)["cpts"] == 14  # 5 projects, AMSAVI merged into Hygie, 10 new CPTS
    new = click_row(page, "Nouvelle CPTS Étampes")
    assert "Nouvelle CPTS proposée" in new and "Statut" not in new
    sse = click_row(page, "Projet Santé Seine Essonne (Espace Vie)")
    assert "163\u202f633 → 95\u202f535 hab." in sse and re.search(r"Taille3 → 3", sse) and " € → " in sse
    page.evaluate("() => { window.territoireCarte.map.closePopup(); }")
    page.page.wait_for_timeout(300)
    assert "Projet" in survoler(page, "91027")  # commune tooltips on the plan map too


def test_compact_geometry_round_trips():
    square = shapely.Polygon([(2.0, 48.0), (2.1, 48.0), (2.1, 48.1), (2.0, 48.1)], holes=[
        [(2.02, 48.02), (2.03, 48.02), (2.03, 48.03)]])
    multi = shapely.MultiPolygon([square, shapely.box(3.0, 49.0, 3.00001, 49.5)])
    layer = encode.encode(np.array([square, multi]), 1e5)
    back = encode.decode(layer)
    assert [len(f) for f in back] == [1, 2] and [len(p) for p in back[1]] == [2, 1]
    assert back[0][0][0] == [(2.0, 48.0), (2.1, 48.0), (2.1, 48.1), (2.0, 48.1)]
    assert shapely.Polygon(back[0][0][0], back[0][0][1:]).equals_exact(square, 1e-5)

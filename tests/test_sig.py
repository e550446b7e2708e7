"""``resultats.gpkg``: layers for QGIS, projected, styled like the HTML legend, identical from run to run."""

import sqlite3
import xml.etree.ElementTree as ET

import pyogrio
import pytest

from territoire import render, settings
from territoire.mapping import document

from .conftest import ESSONNE, cli_en_processus


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("sig")
    for name, cmd in (("a1", "analyse"), ("a2", "analyse"), ("p", "planifier")):
        res = cli_en_processus(cmd, ESSONNE, "--sortie", base / name)
        assert res.returncode == 0, res.stderr
    return base


def qml(path, layer):
    con = sqlite3.connect(path)
    try:
        (text,) = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1",
                              (layer,)).fetchone()
    finally:
        con.close()
    return ET.fromstring(text.split(">", 1)[1])  # after the DOCTYPE


def categories(root):
    symbols = {s.get("name"): s for s in root.iter("symbol")}
    out = {}
    for c in root.iter("category"):
        props = {o.get("name"): o.get("value") for o in symbols[c.get("symbol")].iter("Option") if o.get("name")}
        out[c.get("label")] = props
    return out


def rgba(hex_colour):
    return f"{int(hex_colour[1:3], 16)},{int(hex_colour[3:5], 16)},{int(hex_colour[5:7], 16)},255"


def test_layers_crs_and_identical_bytes(runs):
    path = runs / "a1" / "resultats.gpkg"
    assert path.read_bytes() == (runs / "a2" / "resultats.gpkg").read_bytes()
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"cpts", "zones_blanches", "communes", "layer_styles"} <= layers
    assert pyogrio.read_info(path, layer="cpts")["crs"] == "EPSG:2154"
    cpts = pyogrio.read_dataframe(path, layer="cpts")
    table = __import__("pandas").read_csv(runs / "a1" / "cpts.csv", sep=";")
    assert list(cpts.columns[:-1]) == list(table.columns) and len(cpts) == 5
    assert set(cpts["population"]) == set(table["population"])
    zones = pyogrio.read_dataframe(path, layer="zones_blanches")
    assert sorted(zones["zone_blanche_id"]) == ["ZB-91001", "ZB-91097"]
    plan = {name for name, _ in pyogrio.list_layers(runs / "p" / "resultats.gpkg")}
    assert {"propositions", "cpts_proposees"} <= plan
    proposed = pyogrio.read_dataframe(runs / "p" / "resultats.gpkg", layer="cpts_proposees")
    assert proposed["nouvelle"].sum() == 10 and proposed.geometry.is_valid.all()


def test_default_qgis_style_has_the_colours_of_the_html_legend(runs):
    from territoire import analyse, read

    audit = analyse.analyse(read.read_perimeters(ESSONNE))
    legend = {r["texte"]: r for r in document.legend(render.audit_map_data(audit)) if "fond" in r}
    cats = categories(qml(runs / "a1" / "resultats.gpkg", "communes"))
    for status in settings.STATUSES:
        label = settings.STATUS_LABELS[status]
        assert cats[label]["color"] == rgba(legend[label]["fond"]), label
    white = next(r for t, r in legend.items() if t.startswith("Zone blanche"))
    assert cats["Zone blanche : aucune CPTS"]["color"] == rgba(white["fond"])
    assert cats["Zone blanche : aucune CPTS"]["outline_color"] == rgba(white["bord"])
    zones = qml(runs / "a1" / "resultats.gpkg", "zones_blanches")
    props = {o.get("name"): o.get("value") for o in zones.iter("Option") if o.get("name")}
    assert props["outline_color"] == rgba(white["bord"]) and props["outline_style"] == "dash"


def test_workbook_has_filters_french_words_a_before_after_sheet_and_no_empty_sheet(runs):
    from openpyxl import load_workbook

    wb = load_workbook(runs / "p" / "rapport.xlsx")
    assert "Avant - après" in wb.sheetnames and "Chevauchements" not in wb.sheetnames  # none left after the plan
    for ws in wb:
        assert ws.max_row > 1 and ws.auto_filter.ref == ws.dimensions, ws.title
    headers = [c.value for c in wb["CPTS"][1]]
    assert len(headers) == len(set(headers)) and "Nombre de communes" in headers
    before_after = wb["Avant - après"]
    col = [c.value for c in before_after[1]].index("Nouvelle CPTS")
    assert {row[col].value for row in before_after.iter_rows(min_row=2)} == {"oui", "non"}
    communes = wb["Communes"]
    col = [c.value for c in communes[1]].index("Zone blanche")
    assert {row[col].value for row in communes.iter_rows(min_row=2)} == {"non"}
    motives = wb["Propositions"]
    col = [c.value for c in motives[1]].index("Motif") + 1
    assert motives.cell(2, col).alignment.wrap_text
    # Booleans are written the same way in every CSV file.
    assert "true" in (runs / "p" / "cpts_avant_apres.csv").read_text(encoding="utf-8-sig")
    assert "True" not in (runs / "p" / "cpts_avant_apres.csv").read_text(encoding="utf-8-sig")

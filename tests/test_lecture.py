"""Reading what users send (#14): no silent distortion, every administration format, French messages.

Each case reproduces a file as it arrives (typed by hand, exported from another
tool, re-saved by Excel or LibreOffice). Fatal ones exit 2 with a French
message naming the file and line, column or layer, write nothing and leave the
inputs byte-identical; the others give the right figures and say what was done.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from territoire import read, reference

from .conftest import ROOT, cli_en_processus
from .test_robustesse import _text

ESSONNE_CODES = sorted(reference.units().query("departement == '91'").index)


def _units(codes: list[str]) -> gpd.GeoDataFrame:
    return reference.units().loc[codes]


def _zip(name: str, members: dict[str, bytes]) -> callable:
    def make(d: Path) -> Path:
        p = d / name
        with zipfile.ZipFile(p, "w") as z:
            for member, data in members.items():
                z.writestr(member, data)
        return p
    return make


def _shapefile_bytes(gdf: gpd.GeoDataFrame, stem: str) -> dict[str, bytes]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        gdf.to_file(Path(tmp) / f"{stem}.shp")
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir()}


def _cpts_layer(names: list[str], groups: list[list[str]]) -> gpd.GeoDataFrame:
    geoms = [shapely.union_all(_units(g).geometry.to_numpy()) for g in groups]
    return gpd.GeoDataFrame({"nom": names}, geometry=geoms, crs=4326)


def _gpkg_two_layers(d: Path) -> Path:
    p = d / "cpts.gpkg"
    _cpts_layer(["Nord"], [["91027", "91326"]]).to_file(p, layer="cpts_2024")
    _cpts_layer(["Ancienne"], [["91432"]]).to_file(p, layer="cpts_2019")
    return p


def _points_layer(with_codes: bool):
    def make(d: Path) -> Path:
        p = d / "points.geojson"
        pts = shapely.point_on_surface(_units(["91027", "91326"]).geometry.to_numpy())
        cols = {"CPTS": ["Nord", "Nord"]}
        if with_codes:
            cols["Code INSEE"] = ["91027", "91326"]
        gpd.GeoDataFrame(cols, geometry=pts, crs=4326).to_file(p)
        return p
    return make


def _lines_layer(d: Path) -> Path:
    p = d / "traits.geojson"
    lines = shapely.boundary(_units(["91027"]).geometry.to_numpy())
    gpd.GeoDataFrame({"CPTS": ["Nord"]}, geometry=lines, crs=4326).to_file(p)
    return p


def _xlsx_sheets(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None,
                 name: str = "classeur.xlsx"):
    def make(d: Path) -> Path:
        wb = Workbook()
        wb.remove(wb.active)
        for title, rows in sheets.items():
            ws = wb.create_sheet(title)
            for r in rows:
                ws.append(r)
            for rng in (merges or {}).get(title, []):
                ws.merge_cells(rng)
        p = d / name
        wb.save(p)
        return p
    return make


def _encrypted_xlsx(d: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = _xlsx_sheets({"P": [["CPTS", "Code INSEE"], ["Nord", "91027"]]}, name="clair.xlsx")(d)
    out = d / "protege.xlsx"
    with plain.open("rb") as f, out.open("wb") as g:
        OOXMLFile(f).encrypt("secret", g)
    plain.unlink()
    return out


def ods_bytes(rows: list[list], spans: dict[tuple[int, int], tuple[int, int]] | None = None,
              sheet: str = "Feuille1") -> bytes:
    """An ODS workbook as LibreOffice writes it: covered cells under merges, padding rows at the end."""
    spans = spans or {}
    covered = {(r0 + i, c0 + j) for (r0, c0), (rs, cs) in spans.items() for i in range(rs) for j in range(cs)
               if (i, j) != (0, 0)}
    xml_rows = []
    for r, row in enumerate(rows):
        cells = []
        for c, v in enumerate(row):
            if (r, c) in covered:
                cells.append("<table:covered-table-cell/>")
                continue
            span = spans.get((r, c))
            attrs = (f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"'
                     if span else "")
            if v is None or v == "":
                cells.append(f"<table:table-cell{attrs}/>")
            elif isinstance(v, int | float):
                cells.append(f'<table:table-cell{attrs} office:value-type="float" office:value="{v}">'
                             f"<text:p>{v}</text:p></table:table-cell>")
            else:
                cells.append(f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(v)}</text:p>'
                             "</table:table-cell>")
        cells.append('<table:table-cell table:number-columns-repeated="1020"/>')
        xml_rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    xml_rows.append('<table:table-row table:number-rows-repeated="1048560">'
                    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f'<office:body><office:spreadsheet><table:table table:name="{sheet}">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        + "".join(xml_rows) + "</table:table></office:spreadsheet></office:body></office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buf.getvalue()


def _formula_xlsx(d: Path) -> Path:
    # openpyxl writes formulas without their computed value, as any program that never opened the file.
    return _xlsx_sheets({"P": [["CPTS", "Code INSEE"], ["Nord", "91027"], ['=UPPER("sud")', "91326"]]},
                        name="formules.xlsx")(d)


def _folder_without(*names: str):
    def make(d: Path) -> Path:
        res = cli_en_processus("analyse", ROOT / "data/exemples/essonne_2019_perimetres.csv", "--sortie",
                               d / "resultats", "--sans-carte")
        assert res.returncode == 0, res.stderr
        for n in names:
            (d / "resultats" / n).unlink()
        return d / "resultats"
    return make


def _folder_edited(d: Path) -> Path:
    folder = _folder_without()(d)
    text = (folder / "communes.csv").read_text(encoding="utf-8-sig").splitlines()
    text[5] = "99999" + text[5][5:]
    (folder / "communes.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    return folder


POP = "code;population\n91027;37.000\n91326;1250.000\n"

# (id, file maker, extra arguments, command, fragments expected in the message)
FATAL = [
    ("guillemet jamais fermé", _text("q.csv", 'CPTS;Code INSEE\nA;91027\nA;91326\n"B;91432\nB;91021\nC;91022\n'),
     [], "analyse", ["ligne 4", "jamais fermée"]),
    ("guillemet ouvert dans la colonne des codes", _text("q2.csv", 'CPTS;Code INSEE\nA;"91027\nB;91326\n'),
     [], "analyse", ["ligne 2", "colonne « Code INSEE »", "jamais fermée"]),
    ("retour à la ligne dans une cellule", _text("nl.csv", 'CPTS;Code INSEE\n"CPTS\nNord";91027\nA;91326\n'),
     [], "analyse", ["ligne 2", "lignes 2 à 3"]),
    ("cellule de 10 Mo", _text("big.csv", "CPTS;Code INSEE\n" + "A" * 10_000_000 + ";91027\n"),
     [], "analyse", ["ligne 2", "colonne « CPTS »", "caractères"]),
    ("GeoPackage à deux couches", _gpkg_two_layers, [], "analyse", ["2 couches", "cpts_2024", "cpts_2019", "--couche"]),
    ("couche qui n'existe pas", _gpkg_two_layers, ["--couche", "cpts"], "analyse", ["pas de couche « cpts »"]),
    ("classeur à deux feuilles de communes",
     _xlsx_sheets({"2023": [["CPTS", "Code INSEE"], ["A", "91027"]], "2024": [["CPTS", "Code INSEE"], ["A", "91326"]]}),
     [], "analyse", ["« 2023 »", "« 2024 »", "--feuille"]),
    ("feuille qui n'existe pas", _xlsx_sheets({"P": [["CPTS", "Code INSEE"], ["A", "91027"]]}),
     ["--feuille", "Q"], "analyse", ["pas de feuille « Q »", "« P »"]),
    ("classeur protégé par un mot de passe", _encrypted_xlsx, [], "analyse", ["protégé par un mot de passe"]),
    ("formule jamais calculée", _formula_xlsx, [], "analyse", ["A3", "formule sans valeur calculée"]),
    ("archive sans tableau ni couche", _zip("envoi.zip", {"notes.pdf": b"%PDF-1.4"}), [], "analyse",
     ["ni Shapefile", "notes.pdf"]),
    ("archive à deux tableaux", _zip("envoi.zip", {"a.csv": b"CPTS;Code INSEE\nA;91027\n",
                                                    "b.csv": b"CPTS;Code INSEE\nB;91326\n"}), [], "analyse",
     ["plusieurs tableaux", "a.csv", "b.csv"]),
    ("points sans code de commune", _points_layer(False), [], "analyse", ["des points, pas des polygones"]),
    ("lignes au lieu de polygones", _lines_layer, [], "analyse", ["des lignes, pas des polygones"]),
    ("tous les noms de CPTS vides", _text("vides.csv", "CPTS;Code INSEE\n;91027\n;91326\n"), [], "analyse",
     ["colonne « CPTS »", "vide sur toutes les lignes"]),
    ("noms de CPTS tous « NA »", _text("na.csv", "CPTS;Code INSEE\nNA;91027\n#N/A;91326\n"), [], "analyse",
     ["vide sur toutes les lignes"]),
    ("population : point des milliers et des décimales", _text("ok.csv", "CPTS;Code INSEE\nA;91027\nA;91326\n"),
     ["--population", "POP"], "analyse", ["ligne 2", "« 37.000 »", "ligne 3", "« 1250.000 »"]),
    ("carte d'un dossier sans synthese.json", _folder_without("synthese.json"), [], "carte", ["synthese.json manque"]),
    ("carte d'un dossier au code inconnu", _folder_edited, [], "carte",
     ["communes.csv", "ligne 6", "« 99999 »"]),
]


@pytest.mark.parametrize("case,make,extra,command,fragments", FATAL, ids=[c[0] for c in FATAL])
def test_fatal_file_exits_2_names_where_and_changes_nothing(tmp_path, case, make, extra, command, fragments):
    src = tmp_path / "entrees"
    src.mkdir()
    path = make(src)
    args = [a if a != "POP" else _pop_file(src) for a in extra]
    if command != "carte":
        args += ["--sortie", tmp_path / "sortie"]
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    res = cli_en_processus(command, path, *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("Erreur : ") and "Traceback" not in res.stderr
    assert "inattendue" not in res.stderr
    for fragment in fragments:
        assert fragment in res.stderr, res.stderr
    assert not (tmp_path / "sortie").exists()
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before


def _pop_file(d: Path) -> Path:
    p = d / "population.csv"
    p.write_text(POP, encoding="utf-8")
    return p


@pytest.mark.parametrize("value,words", [("1.5", "hors de ]0, 1]"), ("nan", "nombre fini"), ("-1", "hors de ]0, 1]"),
                                         ("0", "hors de ]0, 1]"), ("beaucoup", "n'est pas un nombre")])
def test_majority_outside_0_1_is_refused(tmp_path, value, words):
    p = _text("ok.csv", "CPTS;Code INSEE\nA;91027\n")(tmp_path)
    res = cli_en_processus("analyse", p, "--majorite", value, "--sortie", tmp_path / "s")
    assert res.returncode == 2 and words in res.stderr and "--majorite" in res.stderr
    assert not (tmp_path / "s").exists()
    with pytest.raises(Exception, match=r"hors de \]0, 1\]"):
        read.read_perimeters(_units(["91027"]).reset_index().assign(cpts="A")[["cpts", "geometry"]]
                             .pipe(gpd.GeoDataFrame, crs=4326), majority=float(value) if value != "beaucoup" else 2)


def test_negative_inhabitants_option_is_refused(tmp_path):
    p = _text("ok.csv", "CPTS;Code INSEE\nA;91027\n")(tmp_path)
    res = cli_en_processus("planifier", p, "--min-nouvelle", "-5", "--sortie", tmp_path / "s")
    assert res.returncode == 2 and "entier et positif" in res.stderr


# --- files that read, with the right figures --------------------------------------------------

def _codes(per) -> dict[str, list[str]]:
    t = per.table
    return {k: sorted(v) for k, v in t.groupby("cpts")["code_commune"]}


def _journal(per) -> str:
    return "\n".join(per.journal.infos + per.journal.avertissements)


def test_a_whole_departement_list_is_not_filled_down(tmp_path):
    # Every commune of the Essonne; only the first five belong to a CPTS.
    lines = ["CPTS;Code INSEE;Commune"] + [
        f"{'CPTS Nord' if i < 5 else ''};{c};{reference.units().at[c, 'nom']}" for i, c in enumerate(ESSONNE_CODES)]
    p = tmp_path / "essonne.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    per = read.read_perimeters(p)
    assert _codes(per) == {"CPTS Nord": ESSONNE_CODES[:5]}
    assert f"{len(ESSONNE_CODES) - 5} communes sans nom de CPTS" in _journal(per)
    res = cli_en_processus("analyse", p, "--sortie", tmp_path / "r", "--sans-carte")
    synth = json.loads((tmp_path / "r" / "synthese.json").read_text(encoding="utf-8"))
    assert res.returncode == 0
    assert synth["taux_couverture"] < 0.06


def test_merged_cells_exported_to_csv_are_filled(tmp_path):
    p = _text("fusion.csv", "CPTS;Code INSEE\nNord;91027\n;91326\n;91432\nSud;91021\n;91022\n")(tmp_path)
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91326", "91432"], "Sud": ["91021", "91022"]}
    assert "cellules fusionnées" in _journal(per)


def test_xlsx_fills_exactly_the_merged_ranges_it_declares(tmp_path):
    rows = [["CPTS", "Code INSEE"], ["Nord", "91027"], [None, "91326"], [None, "91432"], [None, "91021"]]
    p = _xlsx_sheets({"P": rows}, {"P": ["A2:A3"]})(tmp_path)
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91326"]}  # A4, A5 blank and not merged: no CPTS
    assert "2 ligne(s) sans nom de CPTS" in _journal(per)


def test_ods_from_libreoffice_with_merged_cells(tmp_path):
    rows = [["Périmètres au 1er janvier 2025"], [], ["CPTS", "Code INSEE", "Statut"],
            ["CPTS Nord  Essonne", 91027, "Signataire ACI"], [None, 91326, None], [None, 91432, None],
            ["CPTS Sud", "91021", "LI validée"], [None, "91022", None]]
    p = tmp_path / "perimetres.ods"
    p.write_bytes(ods_bytes(rows, {(3, 0): (3, 1), (3, 2): (3, 1), (6, 0): (1, 1)}))
    per = read.read_perimeters(p)
    assert _codes(per) == {"CPTS Nord  Essonne": ["91027", "91326", "91432"], "CPTS Sud": ["91021"]}
    assert dict(per.table.drop_duplicates("cpts")[["cpts", "statut"]].values) == {
        "CPTS Nord  Essonne": "signataire_aci", "CPTS Sud": "lettre_intention"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_unicode_text_as_excel_writes_it(tmp_path, encoding):
    text = "CPTS\tCode INSEE\tCommune\r\nCPTS Évry\t91228\tÉvry-Courcouronnes\r\nCPTS Évry\t91027\tAthis-Mons\r\n"
    p = tmp_path / "texte_unicode.txt"
    p.write_bytes(text.encode(encoding))
    per = read.read_perimeters(p)
    assert _codes(per) == {"CPTS Évry": ["91027", "91228"]}


def test_one_windows_byte_in_a_utf8_file_spoils_only_its_line(tmp_path):
    content = ("CPTS;Code INSEE;Commune\nCPTS Sénart;91228;Évry-Courcouronnes\n".encode()
               + "CPTS Sénart;91027;Athis-Mons\n".encode("cp1252") + "CPTS Orée;91326;Juvisy\n".encode())
    per = read.read_perimeters(_text("mixte.csv", content)(tmp_path))
    assert _codes(per) == {"CPTS Orée": ["91326"], "CPTS Sénart": ["91027", "91228"]}
    assert "Ligne(s) 3 : encodage Windows-1252" in _journal(per)


def test_mac_roman_file_reads_its_accents(tmp_path):
    content = "CPTS;Commune\nCPTS Sénart Val d'Yerres;Évry-Courcouronnes\nCPTS Sénart Val d'Yerres;Étampes\n"
    per = read.read_perimeters(_text("mac.csv", content.encode("mac_roman"))(tmp_path))
    assert _codes(per) == {"CPTS Sénart Val d'Yerres": ["91223", "91228"]}
    assert "Mac Roman" in _journal(per)


@pytest.mark.parametrize("layout", ["racine", "sous-dossier"])
def test_zipped_shapefile_anywhere_in_the_archive(tmp_path, layout):
    shp = _shapefile_bytes(_cpts_layer(["Nord", "Sud"], [["91027", "91326"], ["91021", "91022"]]), "cpts")
    prefix = "" if layout == "racine" else "export ARS/couches/"
    p = _zip("envoi.zip", {f"{prefix}{k}": v for k, v in shp.items()} | {"LISEZMOI.txt": b"voir couches"})(tmp_path)
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91326"], "Sud": ["91021", "91022"]}


def test_zip_of_a_csv_reads_the_csv(tmp_path):
    p = _zip("envoi.zip", {"dossier/perimetres.csv": "CPTS;Code INSEE\nNord;91027\n".encode("cp1252")})(tmp_path)
    assert _codes(read.read_perimeters(p)) == {"Nord": ["91027"]}


def test_two_layers_read_with_couche(tmp_path):
    p = _gpkg_two_layers(tmp_path)
    assert _codes(read.read_perimeters(p, layer="cpts_2019")) == {"Ancienne": ["91432"]}
    res = cli_en_processus("perimetres", p, "--couche", "cpts_2024")
    assert res.returncode == 0 and "Nord" in res.stdout


def test_two_sheets_read_with_feuille(tmp_path):
    p = _xlsx_sheets({"2023": [["CPTS", "Code INSEE"], ["A", "91027"]],
                      "2024": [["CPTS", "Code INSEE"], ["B", "91326"]]})(tmp_path)
    assert _codes(read.read_perimeters(p, sheet="2024")) == {"B": ["91326"]}


def test_geopackage_without_geometry_is_a_table(tmp_path):
    import pyogrio

    p = tmp_path / "liste.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"CPTS": ["Nord", "Nord"], "Code INSEE": ["91027", "91326"]}), p,
                            layer="liste")
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91326"]}
    assert "sans géométrie" in _journal(per)


def test_points_with_commune_codes_are_read_from_their_attributes(tmp_path):
    per = read.read_perimeters(_points_layer(True)(tmp_path))
    assert _codes(per) == {"Nord": ["91027", "91326"]}
    assert "des points, pas des polygones" in _journal(per)


@pytest.mark.parametrize("header", ["Code postal", "CP", "code_postal"])
def test_a_postal_code_column_is_never_the_insee_code(tmp_path, header):
    # 91200 is Athis-Mons by post and Dourdan by INSEE.
    p = _text("cp.csv", f"CPTS;Commune;{header}\nNord;Athis-Mons;91200\nNord;Juvisy-sur-Orge;91260\n")(tmp_path)
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91326"]}


def test_a_code_that_disagrees_with_the_name_gives_way_to_the_name(tmp_path):
    p = _text("c.csv", "CPTS;Code INSEE;Commune\nNord;91200;Athis-Mons\nNord;91900;Corbeil-Essonnes\n"
                       "Nord;91326;Juvisy-sur-Orge\n")(tmp_path)
    per = read.read_perimeters(p)
    assert _codes(per) == {"Nord": ["91027", "91174", "91326"]}
    log = _journal(per)
    assert "Ligne 2, colonne « Code INSEE » : le code 91200 (Dourdan)" in log and "le nom est retenu" in log
    assert "Ligne 3 : code 91900 inconnu" in log


def test_whole_city_listed_beside_neighbouring_communes(tmp_path):
    hauts_de_seine = sorted(reference.units().query("departement == '92'").index)[:25]
    p = tmp_path / "ouest.csv"
    p.write_text("CPTS;Code INSEE\n" + "".join(f"Ouest;{c}\n" for c in ["75056", *hauts_de_seine]), encoding="utf-8")
    per = read.read_perimeters(p)
    codes = _codes(per)["Ouest"]
    assert len(codes) == 45 and "75056" not in codes and "75116" in codes


def test_separators_and_hex_tokens_in_names_survive_to_every_output(tmp_path, navigateur):
    names = ["CPTS Nord | Sud", "CPTS 0123456789abcdef0123456789abcdef"]
    p = _text("n.csv", f"CPTS;Code INSEE\n{names[0]};91027\n{names[0]};91326\n{names[1]};91432\n")(tmp_path)
    res = cli_en_processus("analyse", p, "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    cpts = pd.read_csv(tmp_path / "r" / "cpts.csv", sep=";", dtype=str)
    assert sorted(cpts["cpts"]) == sorted(names)
    page = navigateur.ouvrir(tmp_path / "r" / "carte.html")
    listed = page.evaluate("() => Array.from(document.querySelectorAll('.cpts-ligne .nom')).map(n => n.textContent)")
    assert sorted(listed) == sorted(names)
    assert page.erreurs == []


def test_piped_into_head_ends_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "territoire.cli", "analyse",
                             ROOT / "data/exemples/essonne_2019_perimetres.csv", "--sortie", tmp_path / "r",
                             "--sans-carte"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "inattendue" not in err and "BrokenPipe" not in err


def test_carte_after_excel_resaved_communes_csv(tmp_path):
    folder = _folder_without()(tmp_path)
    com = pd.read_csv(folder / "communes.csv", sep=";", dtype=str, encoding="utf-8-sig")
    com["code_commune"] = com["code_commune"].str.lstrip("0")
    com.to_csv(folder / "communes.csv", sep=",", index=False, encoding="cp1252")
    res = cli_en_processus("carte", folder)
    assert res.returncode == 0, res.stderr
    assert (folder / "carte.html").stat().st_size > 100_000


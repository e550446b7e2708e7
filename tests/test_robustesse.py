"""Corpus of bad inputs: each gets a clear French answer; fatal ones change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook

from territoire import reference

from .conftest import cli_en_processus

GOOD = "CPTS;Code INSEE;Statut\nNord;91027;Signataire ACI\nNord;91326;Signataire ACI\n"


def cli(*args):
    return cli_en_processus(*args)


def _text(name, content, encoding="utf-8"):
    def make(d: Path) -> Path:
        p = d / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return p
    return make


def _layer(name, gdf_factory, drop=()):
    def make(d: Path) -> Path:
        p = d / name
        gdf_factory().to_file(p)
        for ext in drop:
            p.with_suffix(ext).unlink(missing_ok=True)
        return p
    return make


def _units(codes):
    return reference.units().loc[codes]


def _xlsx(name, sheets):
    def make(d: Path) -> Path:
        p = d / name
        wb = Workbook()
        wb.remove(wb.active)
        for title, rows in sheets:
            ws = wb.create_sheet(title)
            for r in rows:
                ws.append(r)
        wb.save(p)
        return p
    return make


def _nowhere(d: Path) -> Path:
    return d / "absent.csv"


def _folder(d: Path) -> Path:
    (d / "dossier.csv").mkdir()
    return d / "dossier.csv"


def far_away():
    return gpd.GeoDataFrame({"cpts": ["X"]}, geometry=[shapely.box(5e6, 5e6, 5.1e6, 5.1e6)], crs=None)


# (id, file maker, extra CLI args, fragment expected in the message)
FATAL = [
    ("fichier absent", _nowhere, [], "fichier introuvable"),
    ("dossier au lieu d'un fichier", _folder, [], "c'est un dossier"),
    ("fichier vide", _text("vide.csv", b""), [], "le fichier est vide"),
    ("fichier binaire", _text("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), [], "contenu binaire"),
    ("texte qui n'est pas un tableau", _text("lettre.csv", "Bonjour,\nvoici nos communes.\n"), [],
     "aucune colonne de code INSEE ni de nom de commune"),
    ("encodage inconnu", _text("enc.csv", b"CPTS;Commune\nA;\x81\x8d\x90\n"), [], "encodage inconnu"),
    ("aucune colonne reconnue", _text("cols.csv", "Nom;Valeur\nfoo;bar\n"), [], "aucune colonne de code INSEE"),
    ("en-tête seul", _text("entete.csv", "CPTS;Code INSEE\n"), [], "aucune ligne de données"),
    ("codes tous inconnus", _text("inconnus.csv", "CPTS;Code INSEE\nA;99999\nA;99998\n"), [],
     "aucun code de commune connu"),
    ("codes illisibles", _text("illisibles.csv", "CPTS;Code INSEE\nA;abc\n"), [], "aucune ligne exploitable"),
    ("Excel 97", _text("vieux.xls", b"\xd0\xcf\x11\xe0 fake"), [], "Excel 97"),
    ("XLSX corrompu", _text("casse.xlsx", b"PK\x03\x04 pas un zip complet"), [], "classeur illisible"),
    ("GeoJSON mal formé", _text("mal.geojson", '{"type": "FeatureCollection", "features": [}'), [],
     "couche géographique illisible"),
    ("GeoJSON sans nom de CPTS", _layer("sansnom.geojson", lambda: gpd.GeoDataFrame(
        {"surface": [1.0, 1.0]}, geometry=list(_units(["91027", "91326"]).geometry), crs=4326)), [],
     "aucun champ ne donne le nom des CPTS"),
    ("Shapefile sans .dbf", _layer("sansdbf.shp", lambda: gpd.GeoDataFrame(
        {"cpts": ["A"]}, geometry=[_units(["91027"]).geometry.iloc[0]], crs=4326), drop=(".dbf",)), [], ".dbf"),
    ("projection non déclarée et invraisemblable", _layer("loin.shp", far_away, drop=(".prj",)), [],
     "aucune projection française connue"),
    ("population négative", _text("ok.csv", GOOD), ["--population", "POP:code;population\n91027;33180\n91326;-4\n"],
     "ligne 3, colonne « population » : « -4 »"),
    ("population non numérique", _text("ok.csv", GOOD), ["--population", "POP:code;population\n91027;beaucoup\n"],
     "« beaucoup » n'est pas une population"),
    ("population sans colonne de code", _text("ok.csv", GOOD), ["--population", "POP:commune;population\nAthis;3\n"],
     "aucune colonne de code INSEE"),
    ("département inconnu", _text("ok.csv", GOOD), ["--departement", "99"], "département « 99 » inconnu"),
    ("région inconnue", _text("ok.csv", GOOD), ["--region", "99"], "région « 99 » inconnue"),
    ("dossier de sortie impossible", _text("ok.csv", GOOD), ["--sortie", "FICHIER/sous/dossier"],
     "impossible de créer le dossier"),
]


@pytest.mark.parametrize("case,make,extra,fragment", FATAL, ids=[c[0] for c in FATAL])
def test_fatal_inputs_exit_2_with_a_french_message_and_write_nothing(tmp_path, case, make, extra, fragment):
    src = tmp_path / "entrees"
    src.mkdir()
    path = make(src)
    args = []
    for a in extra:
        if a.startswith("POP:"):
            pop = src / "population.csv"
            pop.write_text(a[4:], encoding="utf-8")
            a = pop
        elif a == "FICHIER/sous/dossier":
            blocker = tmp_path / "bloque"
            blocker.write_text("x")
            a = blocker / "sous" / "dossier"
        args.append(a)
    if "--sortie" not in extra:
        args += ["--sortie", tmp_path / "sortie"]
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    res = cli("analyse", path, *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("Erreur : ")
    assert fragment in res.stderr, res.stderr
    if path.exists() and not path.is_dir() and "population" not in case and "département" not in case \
            and "région" not in case and "sortie" not in case:
        assert path.name in res.stderr
    assert not (tmp_path / "sortie").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before  # inputs untouched


def _bowtie_layer():
    geoms = list(_units(["91027", "91326"]).geometry)
    x0, y0, x1, y1 = geoms[0].bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # self-intersecting
    return gpd.GeoDataFrame({"cpts": ["Papillon", "Juvisy"]}, geometry=[bow, geoms[1]], crs=4326)


def _lambert_no_prj():
    g = shapely.union_all(_units(["91027", "91326"]).to_crs(2154).geometry.to_numpy())
    return gpd.GeoDataFrame({"NOM": ["Nord"]}, geometry=[g], crs=2154)


def _unnamed_feature():
    geoms = list(_units(["91027", "91326"]).geometry)
    return gpd.GeoDataFrame({"cpts": ["Athis", None]}, geometry=geoms, crs=4326)


RECOVERABLE = [
    ("code inconnu parmi des bons", _text("a.csv", GOOD + "Nord;99999;Signataire ACI\n"), "99999 inconnu"),
    ("code d'un autre département", _text("b.csv", GOOD + "Nord;01053;Signataire ACI\n"), "commune(s) du département 01"),
    ("deux statuts pour une CPTS", _text("c.csv", GOOD + "Nord;91432;LI validée\n"), "plusieurs statuts"),
    ("statut non reconnu", _text("d.csv", "CPTS;INSEE;Statut\nA;91027;blabla\n"), "Statut « blabla » non reconnu"),
    ("nom de commune inconnu", _text("e.csv", "CPTS;INSEE;Commune\nA;91027;Athis-Mons\nA;;Atlantide\n"),
     "commune « Atlantide » inconnue dans le département 91"),
    ("ligne sans code ni nom", _text("f.csv", "CPTS;INSEE;Commune\nA;91027;Athis-Mons\nA;;\n"), "ni code INSEE ni nom"),
    ("valeur qui n'est pas un code", _text("g.csv", GOOD + "Nord;91-027;x\n"), "n'est pas un code INSEE"),
    ("classeur à plusieurs feuilles", _xlsx("h.xlsx", [("Notes", [["Réunion du 3 mars"]]),
                                                       ("Périmètres", [["CPTS", "Code INSEE"], ["A", 91027]])]),
     "feuilles"),
    ("polygone invalide", _layer("i.geojson", _bowtie_layer), "géométrie invalide"),
    ("Lambert-93 sans .prj", _layer("j.shp", _lambert_no_prj, drop=(".prj",)), "Lambert-93"),
    ("objet sans nom", _layer("k.geojson", _unnamed_feature), "pas de nom de CPTS"),
    ("population partielle", _text("l.csv", GOOD), "Millésimes de population mélangés"),
    ("CPTS sans nom avant la première ligne nommée", _text("m.csv", "CPTS;INSEE\n;91027\nB;91326\n"),
     "pas de nom de CPTS avant la première ligne nommée"),
]


@pytest.mark.parametrize("case,make,fragment", RECOVERABLE, ids=[c[0] for c in RECOVERABLE])
def test_recoverable_inputs_give_results_and_say_what_was_wrong(tmp_path, case, make, fragment):
    path = make(tmp_path)
    out = tmp_path / "sortie"
    extra = []
    if case == "population partielle":
        pop = tmp_path / "pop.csv"
        pop.write_text("code;population\n91027;30000\n", encoding="utf-8")
        extra = ["--population", pop]
    res = cli("analyse", path, "--sortie", out, "--sans-carte", *extra)
    assert res.returncode == 0, res.stderr
    assert fragment in res.stdout
    synth = json.loads((out / "synthese.json").read_text(encoding="utf-8"))
    assert any(fragment in w for w in synth["avertissements"]), synth["avertissements"]


def test_corpus_size():
    assert len(FATAL) + len(RECOVERABLE) >= 30


def test_a_windows_cp1252_console_gets_readable_french_output(tmp_path):
    import os
    import subprocess
    import sys

    from .conftest import ESSONNE

    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    res = subprocess.run([sys.executable, "-m", "territoire.cli", "planifier", str(ESSONNE), "--sans-carte",
                          "--sortie", str(tmp_path / "p")], capture_output=True, env=env)
    assert res.returncode == 0, res.stderr.decode("cp1252")
    out = res.stdout.decode("cp1252")  # every byte is cp1252: the console shows it as written
    assert "35,8\u00a0% -> 100,0\u00a0%" in out and "859\u00a0909 hab." in out and "6\u00a0195\u00a0000 €" in out
    assert "?" not in out.replace("(voir propositions.csv)", "")


def test_progress_lines_for_a_person_watching_and_none_otherwise(tmp_path, capsys):
    from territoire import console
    from territoire.errors import checkpoint

    from .conftest import ESSONNE

    with console.progress(True):
        for stage in ("demarrage", "lecture", "analyse", "carte"):
            checkpoint(stage)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("] ")[1] for line in lines] == [
        "lecture des fichiers…", "analyse du territoire…", "carte, rapport et couches SIG…", "écriture des résultats…"]
    checkpoint("lecture")  # outside a run: nothing
    assert capsys.readouterr().err == ""
    # stderr not a terminal (a pipe, a log file): no progress line at all.
    res = cli_en_processus("analyse", ESSONNE, "--sans-carte", "--sortie", tmp_path / "r")
    assert res.returncode == 0 and "[" not in res.stderr


def test_many_warnings_the_most_serious_first_and_the_full_list_in_the_workbook(tmp_path):
    from openpyxl import load_workbook

    rows = ["CPTS;Code INSEE", "Nord;91027", "Nord;91326", "Nord;77001", "Sud;91432", "Sud;78003"]
    rows += [f"Nord;{96000 + i}" for i in range(20)]  # 20 unknown codes: lines left out of the figures
    path = tmp_path / "p.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = cli_en_processus("analyse", path, "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    shown = [line for line in res.stdout.splitlines() if line.startswith("  ! ")]
    assert len(shown) == 15 and all("inconnu" in line for line in shown)
    assert "… et 7 autre(s)" in res.stdout  # 20 unknown codes + 2 communes in another département
    sheet = load_workbook(tmp_path / "r" / "rapport.xlsx")["Avertissements"]
    texts = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert len([t for t in texts if "inconnu" in t]) == 20 and any("département 77" in t for t in texts)

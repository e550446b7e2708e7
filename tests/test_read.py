"""Reading perimeters and populations as users send them."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territoire import harmonise, read, reference
from territoire.errors import TerritoireError

from .conftest import ESSONNE, ESSONNE_POP, ESSONNE_TOTALS, cli_en_processus

# A small perimeter in the Ain: codes that lose their leading zero in Excel.
AIN = pd.DataFrame({
    "CPTS": ["CPTS Bourg"] * 3 + ["CPTS Plaine de l'Ain"] * 2,
    "Code INSEE": ["01053", "01344", "01451", "01004", "01007"],
    "Commune": ["Bourg-en-Bresse", "Saint-Denis-lès-Bourg", "Viriat", "Ambérieu-en-Bugey", "Ambronay"],
    "Statut": ["Signataire ACI"] * 3 + ["LI validée"] * 2,
})


def run_cli(*args):
    return cli_en_processus(*args)


def test_essonne_totals_are_the_seed_totals_with_the_2017_population():
    res = run_cli("perimetres", ESSONNE, "--population", ESSONNE_POP)
    assert res.returncode == 0, res.stderr
    for name, total in ESSONNE_TOTALS.items():
        line = next(ln for ln in res.stdout.splitlines() if ln.startswith(name))
        assert f"{total:,}".replace(",", "\u202f") in line
        assert line.rstrip().endswith("3")  # taille 3
    assert "91182 (ancienne commune) harmonisé en 91228" in res.stdout


def test_evry_and_courcouronnes_are_one_commune_counted_once():
    per = read.read_perimeters(ESSONNE)
    apes = per.table[per.table["cpts"].str.contains("APES")]
    assert list(apes["code_commune"]) == ["91086", "91228", "91286", "91340", "91521"]
    pop = read.read_population(ESSONNE_POP)
    assert pop.valeurs["91228"] == 54_603 + 13_495
    assert pop.millesime == "2017"


def _normalised(path):
    return read.read_perimeters(path).table.reset_index(drop=True)


def test_the_same_perimeters_in_four_formats_read_identically(tmp_path):
    utf8 = tmp_path / "ain.csv"
    AIN.rename(columns={"CPTS": "Nom de la CPTS", "Statut": "État d'avancement"}).to_csv(utf8, index=False)
    cp1252 = tmp_path / "ain_excel.csv"
    numeric = AIN.assign(**{"Code INSEE": AIN["Code INSEE"].astype(int)})
    numeric.to_csv(cp1252, sep=";", index=False, encoding="cp1252")
    xlsx = tmp_path / "ain.xlsx"
    numeric.rename(columns={"Code INSEE": "code_commune"}).to_excel(xlsx, index=False)
    geo = tmp_path / "ain.geojson"
    units = reference.units()
    layer = AIN.assign(geometry=AIN["Code INSEE"].map(units.geometry))
    gdf = gpd.GeoDataFrame(layer, geometry="geometry", crs=4326).dissolve("CPTS", aggfunc="first").reset_index()
    gdf[["CPTS", "Statut", "geometry"]].to_file(geo, driver="GeoJSON")

    ref = _normalised(utf8)
    assert list(ref.columns) == ["cpts", "statut", "code_commune", "part", "part_population"]
    assert set(ref["statut"]) == {"signataire_aci", "lettre_intention"}
    assert len(ref) == 5
    for other in (cp1252, xlsx):
        pd.testing.assert_frame_equal(_normalised(other), ref)
    poly = _normalised(geo)
    pd.testing.assert_frame_equal(poly.drop(columns="part"), ref.drop(columns="part"))
    assert (poly["part"] > 0.99).all()
    assert "réparé" in " ".join(read.read_perimeters(cp1252).journal.infos)


def test_dissolved_polygons_moved_30_m_in_lambert93_read_back_exactly(tmp_path):
    per = read.read_perimeters(ESSONNE).table
    units = reference.units()
    layer = gpd.GeoDataFrame(per.assign(geometry=per["code_commune"].map(units.geometry)),
                             geometry="geometry", crs=4326)
    # Overlapping perimeters are separate features.
    dissolved = layer.dissolve("cpts", aggfunc="first").reset_index().to_crs(2154)
    dissolved["geometry"] = dissolved.geometry.translate(xoff=21.2, yoff=-21.2)  # 30 m
    path = tmp_path / "essonne_l93.gpkg"
    dissolved[["cpts", "statut", "geometry"]].rename(columns={"cpts": "NOM_CPTS"}).to_file(path)
    got = read.read_perimeters(path).table
    pd.testing.assert_frame_equal(got[["cpts", "code_commune"]], per[["cpts", "code_commune"]])


def test_shapefile_without_prj_in_lambert93_is_recognised(tmp_path):
    units = reference.units()
    geom = shapely.union_all(units.loc[["91027", "91326", "91432"]].to_crs(2154).geometry.to_numpy())
    path = tmp_path / "nord.shp"
    gpd.GeoDataFrame({"cpts": ["Nord"]}, geometry=[geom], crs=2154).to_file(path)
    path.with_suffix(".prj").unlink()
    per = read.read_perimeters(path)
    assert list(per.table["code_commune"]) == ["91027", "91326", "91432"]
    assert any("Lambert-93" in w for w in per.journal.avertissements)


def test_names_without_codes_are_matched_within_the_departement(tmp_path):
    path = tmp_path / "noms.csv"
    path.write_text("CPTS;Code INSEE;Commune\n"
                    "A;91027;Athis-Mons\n"
                    "A;;JUVISY SUR ORGE\n"
                    "A;;St-Germain-les-Corbeil\n"
                    "A;;Ville-du-Bois (La)\n"
                    "A;;Commune Imaginaire\n", encoding="utf-8")
    per = read.read_perimeters(path)
    assert list(per.table["code_commune"]) == ["91027", "91326", "91553", "91665"]
    assert any("Commune Imaginaire" in w and "ligne 6" in w.lower() for w in per.journal.avertissements)


def test_an_ambiguous_name_is_reported_never_guessed():
    # Several "Saint-Martin" exist in France: without a département, no guess.
    res = harmonise.match_names(pd.Series(["Saint-Martin"]), pd.Series([None]))
    assert res.loc[0, "code_commune"] is None
    assert res.loc[0, "nb_candidats"] > 1


def test_whole_city_code_means_all_arrondissements():
    out = harmonise.harmonise_codes(pd.Series(["75056", "69388"]))
    assert (out["code_commune"].str.startswith("751")).sum() == 20
    assert "69388" in set(out["code_commune"])


@pytest.mark.parametrize("text,expected", [
    ("Signataire ACI", "signataire_aci"),
    ("contrat signé", "signataire_aci"),
    ("ACI non signé", "projet_sante"),
    ("LI validée", "lettre_intention"),
    ("Lettre d'intention validée", "lettre_intention"),
    ("en construction du projet de santé", "lettre_intention"),
    ("Projet de santé validé", "projet_sante"),
    ("en projet", "en_projet"),
    ("En amont de l'ingénierie de projet", "en_projet"),
    ("signataire_aci", "signataire_aci"),
    ("LI en cours", "en_projet"),  # a step still being prepared is the step before it
    ("Projet de santé en cours de rédaction", "lettre_intention"),
    ("PS à l'étude", "lettre_intention"),
])
def test_free_status_text_is_mapped(text, expected):
    assert harmonise.map_status(pd.Series([text])).iloc[0] == expected


def test_unmappable_status_is_reported(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("CPTS,INSEE,Statut\nA,91027,blabla\n", encoding="utf-8")
    per = read.read_perimeters(path)
    assert per.table["statut"].isna().all()
    assert any("blabla" in w for w in per.journal.avertissements)


def test_header_on_the_third_row_and_merged_cpts_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Export ARS;;\nDate : 2024;;\nCPTS;Code commune;Statut\n"
                    "Nord;91027;LI validée\n;91326;\n;91432;\nSud;91021;\n", encoding="utf-8")
    per = read.read_perimeters(path)
    nord = per.table[per.table["cpts"] == "Nord"]
    assert list(nord["code_commune"]) == ["91027", "91326", "91432"]
    assert set(nord["statut"]) == {"lettre_intention"}


@pytest.mark.parametrize("content,needle", [
    (b"", "vide"),
    (b"\x00\x01\x02PK\x00binary", "binaire"),
    (b"Nom;Valeur\nfoo;bar\n", "aucune colonne de code INSEE"),
])
def test_bad_files_exit_2_with_a_french_message(tmp_path, content, needle):
    path = tmp_path / "mauvais.csv"
    path.write_bytes(content)
    res = run_cli("perimetres", path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "mauvais.csv" in res.stderr and needle in res.stderr


def test_bad_population_value_names_line_column_and_value(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("code;population\n91027;33180\n91326;-4\n", encoding="utf-8")
    res = run_cli("perimetres", ESSONNE, "--population", path)
    assert res.returncode == 2
    assert "ligne 3" in res.stderr and "« population »" in res.stderr and "-4" in res.stderr


def test_the_readme_example_of_a_received_table_reads_as_documented(tmp_path):
    """The spreadsheet shown in the README (title row, merged cells, name without code) stays true."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("il\nest lu tel quel :\n\n```\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "recu.csv"
    path.write_text(block, encoding="utf-8")
    per = read.read_perimeters(path)
    t = per.table
    assert sorted(t.loc[t["cpts"] == "Projet Hygie (CPTS Nord Essonne)", "code_commune"]) == ["91027", "91326", "91432"]
    assert set(t["statut"]) == {"lettre_intention", "en_projet"}
    assert any("Morangis" in line and "91432" in line for line in per.journal.infos)


@pytest.mark.parametrize("text", ["ACI résilié", "Ex-signataire ACI", "Signature ACI prévue en 2026",
                                  "Projet de santé refusé", "LI refusée", "Lettre d'intention abandonnée",
                                  "ACI en attente", "CPTS dissoute", "pas encore de LI", "sans LI",
                                  "aucune lettre d'intention", "LI non validée", "Contrat ACI rompu",
                                  "ACI dénoncé", "Projet de santé non validé"])
def test_refused_ended_or_future_steps_are_never_read_as_reached(text, tmp_path):
    assert harmonise.map_status(pd.Series([text])).isna().iloc[0]
    path = tmp_path / "s.csv"
    path.write_text(f"CPTS;INSEE;Statut\nA;91027;{text}\nB;91326;LI validée\n", encoding="utf-8")
    per = read.read_perimeters(path)
    assert pd.isna(per.table.set_index("cpts").loc["A", "statut"])
    assert any(text in w and "non atteinte" in w for w in per.journal.avertissements)
    assert any("« LI validée » → Lettre d'intention validée" in i for i in per.journal.infos)


def test_name_variants_are_one_cpts_and_na_is_no_name(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("CPTS;INSEE\nCPTS Évry;91228\nCPTS  Évry;91340\ncpts evry;91521\nNA;91027\n"
                    "NULL;91326\n", encoding="utf-8")
    per = read.read_perimeters(path)
    assert set(per.table["cpts"]) == {"CPTS Évry"}  # NA/NULL rows: merged-cell fill-down, not CPTS "NA"
    assert any("« CPTS  Évry », « CPTS Évry », « cpts evry » → « CPTS Évry »" in w for w in per.journal.avertissements)


@pytest.mark.parametrize("written,value", [("37000", 37000), ("37 000", 37000), ("37.000", 37000),
                                           ("37,000", 37000), ("37000,0", 37000), ("1.234.567", 1234567)])
def test_population_thousands_separators(written, value, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(f"code;population\n91027;\"{written}\"\n", encoding="utf-8")
    assert read.read_population(path).valeurs["91027"] == value


@pytest.mark.parametrize("content,words", [
    ("code;population\n91027;33180\n91326;16544\n91027;33180\n", ["91027", "lignes 2 et 4"]),
    ("code;population\n91027;100000000000000000000000\n", ["ligne 2", "plus que la France"]),
    ("code;population\n91027;37,5\n", ["ligne 2", "37,5"]),
])
def test_population_files_that_would_distort_figures_are_refused(content, words, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TerritoireError) as err:
        read.read_population(path)
    for w in words:
        assert w in str(err.value)

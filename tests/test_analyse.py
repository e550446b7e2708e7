"""Territorial audit on the Essonne example and on hand-made cases."""

import filecmp
import json
import subprocess
import sys

import numpy as np
import pandas as pd

from territoire import analyse, export, reference

from .conftest import ESSONNE, ESSONNE_POP


def table(rows):
    return pd.DataFrame(rows, columns=["cpts", "statut", "code_commune"]).assign(part=1.0)


def touching(code):
    """Neighbours computed directly from the outlines (independent of territoire.graph)."""
    units = reference.units().to_crs(2154)
    geom = units.at[code, "geometry"]
    near = units[units.geometry.dwithin(geom, 20)]
    return sorted(c for c in near.index if c != code)


def test_essonne_overlaps_are_exactly_the_seed_overlaps(essonne_audit):
    a = essonne_audit
    assert list(a.chevauchements["code_commune"]) == ["91027", "91228", "91340", "91589", "91687"]
    assert a.synthese["population_en_chevauchement"] == 176_866
    assert a.synthese["nb_communes_en_chevauchement"] == 5
    pairs = a.chevauchements_paires.set_index(["cpts_a", "cpts_b"])
    assert pairs.loc[("Projet AMSAVI (Espace Vie)", "Projet Hygie (CPTS Nord Essonne)"), "nb_communes"] == 3
    assert pairs.loc[("Projet APES (CPTS Centre Essonne)", "Projet Santé Seine Essonne (Espace Vie)"),
                     "population"] == 54_603 + 13_495 + 7_704


def test_essonne_cpts_sizes_and_funding(essonne_audit):
    cpts = essonne_audit.cpts.set_index("cpts")
    assert (cpts["taille"] == 3).all()
    assert (cpts["financement_fonctionnement"] == 75_000).all()
    assert (cpts["financement_max_annuel"] == 487_500).all()
    assert cpts.at["Projet Hygie (CPTS Nord Essonne)", "ecart_seuil"] == 138_231 - 175_000
    assert cpts.at["Projet Cœur Santé Orge Yvette", "ecart_seuil"] == 93_122 - 80_000
    assert (cpts["nb_morceaux"] == 1).all()


def test_essonne_white_zones_with_their_neighbouring_cpts(essonne_audit):
    a = essonne_audit
    com = a.communes.set_index("code_commune")
    zones = a.zones_blanches.set_index("zone_blanche_id")
    assert a.synthese["perimetre"] == ["91"]
    assert len(com) == 194  # all units of Essonne (COG 2026)
    assert zones["nb_communes"].sum() == (~com["nb_cpts"].astype(bool)).sum() == 194 - 29
    assert a.synthese["population_couverte"] + a.synthese["population_zones_blanches"] == \
        a.synthese["population_totale"]
    # Every CPTS borders some white zone, and Morangis' neighbour Wissous is white.
    assert com.at["91689", "zone_blanche"]  # Wissous
    zid = com.at["91689", "zone_blanche_id"]
    assert "Projet Hygie (CPTS Nord Essonne)" in zones.at[zid, "cpts_voisines"]
    assert set(zones["typologie"]) <= {"rural", "intermédiaire", "urbain"}


def test_coverage_recomputed_independently_on_random_perimeters():
    units = reference.units()
    codes = sorted(units.index[units["departement"] == "91"])
    rng = np.random.default_rng(7)
    a = rng.choice(codes, 60, replace=False)
    b = rng.choice(codes, 60, replace=False)
    per = table([("A", "signataire_aci", c) for c in a] + [("B", "en_projet", c) for c in b])
    res = analyse.analyse(per)
    pop = units["population"]
    covered = set(a) | set(b)
    assert res.synthese["population_couverte"] == pop[list(covered)].sum()
    assert res.synthese["population_totale"] == pop[codes].sum()
    assert res.synthese["population_couverte_par_statut"]["signataire_aci"] == pop[list(set(a))].sum()
    assert res.synthese["population_en_chevauchement"] == pop[list(set(a) & set(b))].sum()
    assert res.synthese["nb_communes_zones_blanches"] == len(set(codes) - covered)


def test_an_enclave_is_a_white_zone_surrounded_by_one_cpts():
    centre = "91432"  # Morangis, inland
    ring = touching(centre)
    res = analyse.analyse(table([("Anneau", "projet_sante", c) for c in ring]))
    cpts = res.cpts.set_index("cpts")
    assert cpts.at["Anneau", "enclaves"] == centre
    zone = res.zones_blanches.set_index("zone_blanche_id").loc[f"ZB-{centre}"]
    assert zone["nb_communes"] == 1 and zone["cpts_voisines"] == "Anneau"


def test_a_perimeter_in_two_pieces():
    res = analyse.analyse(table([("Deux", None, "91027"), ("Deux", None, "91326"), ("Deux", None, "91001")]))
    row = res.cpts.set_index("cpts").loc["Deux"]
    assert row["nb_morceaux"] == 2
    assert row["statut"] == "inconnu"


def test_plm_city_by_arrondissements():
    per = table([("Paris 13", "signataire_aci", "75113"), ("Paris 14", "signataire_aci", "75114"),
                 ("Tout Paris", "en_projet", "75056")])
    from territoire import harmonise
    per = per.drop(columns="code_commune").join(harmonise.harmonise_codes(per["code_commune"])["code_commune"])
    res = analyse.analyse(per)
    s = res.synthese
    paris = reference.communes().at["75056", "population"]
    assert s["perimetre"] == ["75"] and s["population_totale"] == paris
    assert s["taux_couverture"] == 1.0
    assert s["nb_communes_en_chevauchement"] == 2
    arr = reference.units().loc[["75113", "75114"], "population"].sum()
    assert s["population_couverte_par_statut"]["signataire_aci"] == arr
    assert s["nb_zones_blanches"] == 0


def test_size_class_boundaries():
    pops = [0, 39_999, 40_000, 79_999, 80_000, 175_000, 175_001]
    assert list(analyse.size_class(pops)) == [1, 1, 2, 2, 3, 3, 4]
    assert [analyse.taille(p) for p in pops] == [1, 1, 2, 2, 3, 3, 4]  # the planner's scalar version


def test_api_and_cli_give_the_same_files_and_reruns_are_byte_identical(tmp_path, essonne_audit):
    out1, out2 = tmp_path / "r1", tmp_path / "r2"
    for out in (out1, out2):
        res = subprocess.run([sys.executable, "-m", "territoire.cli", "analyse", str(ESSONNE),
                              "--population", str(ESSONNE_POP), "--sortie", str(out)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in out1.iterdir())
    assert names == [".territoire", "carte.html", "carte.png", "chevauchements.csv", "chevauchements_paires.csv",
                     "communes.csv", "cpts.csv", "perimetres.csv", "rapport.html", "rapport.xlsx",
                     "resultats.gpkg", "synthese.json", "zones_blanches.csv"]
    # Every file, maps and workbook included, is byte-identical on a rerun.
    match, mismatch, errors = filecmp.cmpfiles(out1, out2, names, shallow=False)
    assert mismatch == [] and errors == []
    api = tmp_path / "api"
    export.write_audit(essonne_audit, api)
    for name in sorted(p.name for p in api.iterdir()):
        if name != ".territoire":  # the marker lists the files written: no maps here
            assert (api / name).read_bytes() == (out1 / name).read_bytes(), name
    synth = json.loads((out1 / "synthese.json").read_text(encoding="utf-8"))
    assert 0 <= synth["taux_couverture"] <= 1
    cpts = export.read_csv(out1 / "cpts.csv")
    assert cpts["population"].sum() == 138_231 + 141_664 + 93_122 + 101_064 + 163_633


def test_failed_run_leaves_earlier_results_untouched(tmp_path):
    out = tmp_path / "res"
    ok = subprocess.run([sys.executable, "-m", "territoire.cli", "analyse", str(ESSONNE), "--sortie", str(out)],
                        capture_output=True, text=True)
    assert ok.returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text("x;y\n1;2\n")
    res = subprocess.run([sys.executable, "-m", "territoire.cli", "analyse", str(bad), "--sortie", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- Choosing the area (issue 19, item 7) --------------------------------------------------------------

def test_options_in_any_order_and_a_departement_without_perimeters_is_all_white(tmp_path):
    from .conftest import ESSONNE, cli_en_processus

    a = cli_en_processus("analyse", "--departement", "91", ESSONNE, "--sans-carte", "--sortie", tmp_path / "a")
    b = cli_en_processus("analyse", ESSONNE, "--departement", "91", "--sans-carte", "--sortie", tmp_path / "b")
    assert a.returncode == b.returncode == 0, a.stderr
    assert (tmp_path / "a" / "synthese.json").read_bytes() == (tmp_path / "b" / "synthese.json").read_bytes()
    c = cli_en_processus("analyse", "--departement", "91", "--sans-carte", "--sortie", tmp_path / "c")
    assert c.returncode == 0, c.stderr
    s = json.loads((tmp_path / "c" / "synthese.json").read_text(encoding="utf-8"))
    assert s["taux_couverture"] == 0.0 and s["nb_zones_blanches"] == 1 and s["nb_communes_zones_blanches"] == 194
    assert s["population_zones_blanches"] == s["population_totale"]
    d = cli_en_processus("analyse", "--sans-carte", "--sortie", tmp_path / "d")
    assert d.returncode == 2 and "fichier de périmètres manquant" in d.stderr


def test_region_by_code_or_name_and_with_departements_only_inside_it(tmp_path):
    from .conftest import cli_en_processus

    r = cli_en_processus("analyse", "--region", "ile-de-FRANCE", "--departement", "91", "78", "--sans-carte",
                         "--sortie", tmp_path / "r")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "r" / "synthese.json").read_text(encoding="utf-8"))["perimetre"] == ["78", "91"]
    bad = cli_en_processus("analyse", "--region", "Bretagne", "--departement", "91", "--sans-carte",
                           "--sortie", tmp_path / "x")
    assert bad.returncode == 2 and "hors de la région « Bretagne »" in bad.stderr and "Traceback" not in bad.stderr
    unknown = cli_en_processus("analyse", "--region", "Atlantis", "--sans-carte", "--sortie", tmp_path / "y")
    assert unknown.returncode == 2 and "53 Bretagne" in unknown.stderr and "11 Île-de-France" in unknown.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_another_aci_scale_changes_tailles_and_funding_in_every_output(tmp_path):
    from territoire import settings

    from .conftest import ESSONNE, cli_en_processus

    doc = json.loads(settings.DEFAULT_SCALE.read_text(encoding="utf-8"))
    doc.update(nom="Barème d'essai (avenant négocié)", date="2026-10", seuils_taille=[30_000, 100_000, 140_000],
               financement_max_annuel={"1": 300_000, "2": 400_000, "3": 500_000, "4": 600_000})
    scale = tmp_path / "bareme.json"
    scale.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = cli_en_processus("analyse", ESSONNE, "--bareme", scale, "--sortie", tmp_path / "r")
    assert res.returncode == 0, res.stderr
    cpts = pd.read_csv(tmp_path / "r" / "cpts.csv", sep=";").set_index("cpts")
    # Hygie (146 675 hab.) is taille 4 above 140 000; APES (101 064) taille 3 from 100 000; Coeur Santé (93 122) 2.
    hygie = next(n for n in cpts.index if "Hygie" in n)
    assert cpts.at[hygie, "taille"] == 4 and cpts.at[hygie, "financement_max_annuel"] == 600_000
    assert sorted(cpts["taille"]) == sorted(
        [4 if p >= 140_000 else 3 if p >= 100_000 else 2 if p >= 30_000 else 1 for p in cpts["population"]])
    synthese = json.loads((tmp_path / "r" / "synthese.json").read_text(encoding="utf-8"))
    assert synthese["bareme"] == "Barème d'essai (avenant négocié) (2026-10)"
    assert "barème ACI : Barème d&#39;essai (avenant négocié)" in (tmp_path / "r" / "rapport.html").read_text(
        encoding="utf-8")  # text from a file is escaped, like every text in the report
    # The shipped scale is back for the next run, and a broken scale is refused in French.
    assert settings.scale()["seuils_taille"] == (40_000, 80_000, 175_000)
    doc["seuils_taille"] = [80_000, 40_000, 175_000]
    scale.write_text(json.dumps(doc), encoding="utf-8")
    bad = cli_en_processus("analyse", ESSONNE, "--bareme", scale, "--sortie", tmp_path / "x")
    assert bad.returncode == 2 and "trois seuils croissants" in bad.stderr and not (tmp_path / "x").exists()

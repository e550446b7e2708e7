"""``territoire comparer``: the follow-up between two dates lists exactly the changes made."""

import json

import pandas as pd

from .conftest import ESSONNE, cli_en_processus


def edited_copy(path):
    """The 2019 Essonne perimeters with six known edits, as an analyst would make them a year later."""
    df = pd.read_csv(ESSONNE, sep=";", dtype=str)
    df.loc[df["CPTS"] == "Projet AMSAVI (Espace Vie)", "CPTS"] = "CPTS AMSAVI"  # renamed, same communes
    df.loc[df["CPTS"].str.startswith("Projet APES"), "Statut"] = "Signataire ACI"  # status advanced
    df = df[~df["CPTS"].str.startswith("Projet Cœur Santé")]  # removed
    df = df[~((df["CPTS"].str.startswith("Projet Hygie")) & (df["Code INSEE"] == "91479"))]  # Paray-Vieille-Poste out
    new = pd.DataFrame({"CPTS": ["CPTS Sud Essonne"] * 3, "Statut": ["En projet"] * 3,  # created, white communes
                        "Code INSEE": ["91223", "91433", "91109"], "Commune": ["", "", ""]})
    seine = df[df["CPTS"].str.startswith("Projet Santé Seine")].iloc[[0]].assign(**{"Code INSEE": "91191",
                                                                                     "Commune": ""})
    df = pd.concat([df, new, seine], ignore_index=True)  # Santé Seine Essonne gains 91191
    df.to_csv(path, sep=";", index=False)
    return path


def test_comparing_2019_with_an_edited_copy_lists_exactly_the_edits(tmp_path):
    after = edited_copy(tmp_path / "essonne_2020.csv")
    res = cli_en_processus("comparer", ESSONNE, after, "--sortie", tmp_path / "suivi")
    assert res.returncode == 0, res.stderr
    cpts = pd.read_csv(tmp_path / "suivi" / "comparaison_cpts.csv", sep=";", dtype=str, keep_default_na=False)
    changed = cpts[cpts["evenement"] != "inchangée"].set_index("evenement")
    events = sorted(zip(cpts["evenement"], cpts["cpts_avant"], cpts["cpts_apres"]))
    assert ("renommée", "Projet AMSAVI (Espace Vie)", "CPTS AMSAVI") in events
    assert ("créée", "", "CPTS Sud Essonne") in events
    assert ("supprimée", "Projet Cœur Santé Orge Yvette", "") in events
    assert sorted(cpts["evenement"]) == sorted(["renommée", "créée", "supprimée", "modifiée", "modifiée", "modifiée"])
    by_after = cpts.set_index("cpts_apres")
    apes = by_after.loc["Projet APES (CPTS Centre Essonne)"]
    assert apes["evolution_statut"] == "avancé" and apes["statut_apres"] == "signataire_aci"
    assert "Paray-Vieille-Poste (91479)" in by_after.loc["Projet Hygie (CPTS Nord Essonne)", "communes_retirees"]
    assert by_after.loc["Projet Santé Seine Essonne (Espace Vie)", "communes_ajoutees"].endswith("(91191)")
    assert by_after.loc["CPTS AMSAVI", "communes_ajoutees"] == "" == by_after.loc["CPTS AMSAVI", "communes_retirees"]
    assert len(changed) == 6
    communes = pd.read_csv(tmp_path / "suivi" / "comparaison_communes.csv", sep=";", dtype=str, keep_default_na=False)
    moved = set(communes["code_commune"])
    coeur = set(pd.read_csv(ESSONNE, sep=";", dtype=str).query("CPTS.str.startswith('Projet Cœur')")["Code INSEE"])
    amsavi = {"91027", "91589", "91687"}  # renamed: their CPTS name changed too
    assert moved == coeur | amsavi | {"91479", "91223", "91433", "91109", "91191"}
    summary = json.loads((tmp_path / "suivi" / "comparaison.json").read_text(encoding="utf-8"))
    assert summary["nb_cpts_creee"] == summary["nb_cpts_supprimee"] == summary["nb_cpts_renommee"] == 1
    assert summary["nb_statuts_avances"] == 1 and summary["nb_statuts_recules"] == 0
    assert summary["avant"]["nb_cpts"] == 5 and summary["apres"]["nb_cpts"] == 5
    assert summary["ecart_financement_max_total"] == int(
        pd.to_numeric(cpts["financement_max_apres"]).sum() - pd.to_numeric(cpts["financement_max_avant"]).sum())
    assert "Évolution des CPTS" in __import__("openpyxl").load_workbook(tmp_path / "suivi" / "rapport.xlsx").sheetnames
    assert "renommée : CPTS AMSAVI (ex-« Projet AMSAVI (Espace Vie) »)" in res.stdout


def test_comparing_two_results_folders_reads_their_perimeters(tmp_path):
    for name, src in (("a", ESSONNE), ("b", edited_copy(tmp_path / "e.csv"))):
        assert cli_en_processus("analyse", src, "--sans-carte", "--sortie", tmp_path / name).returncode == 0
    res = cli_en_processus("comparer", tmp_path / "a", tmp_path / "b", "--sans-carte", "--sortie", tmp_path / "c")
    assert res.returncode == 0, res.stderr
    cpts = pd.read_csv(tmp_path / "c" / "comparaison_cpts.csv", sep=";", dtype=str)
    assert (cpts["evenement"] == "renommée").sum() == 1 and (cpts["evenement"] == "créée").sum() == 1

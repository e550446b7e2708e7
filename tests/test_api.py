"""The library from a notebook (issue 13): one validated way in, typed results, same figures as the CLI."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import territoire as t
from territoire import cli, models

from .conftest import ESSONNE, ESSONNE_POP, ROOT


def _cli(*args: object) -> None:
    assert cli.main([str(a) for a in args]) == 0


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_table_in_memory_gives_the_figures_of_the_cli(tmp_path):
    # As a notebook user builds it: integer codes (leading zeros irrelevant here), a 2017 code (91182).
    frame = pd.read_csv(ESSONNE, sep=";")
    code_col = next(c for c in frame.columns if "code" in c.lower())
    frame[code_col] = frame[code_col].astype(int)
    assert 91182 in set(frame[code_col])
    pop = pd.read_csv(ESSONNE_POP, sep=";")
    audit = t.analyser(frame, pop)
    _cli("analyse", ESSONNE, "--population", ESSONNE_POP, "--sortie", tmp_path / "a", "--sans-carte")
    assert audit.synthese == _json(tmp_path / "a" / "synthese.json")
    plan = t.planifier(t.lire_perimetres(frame), t.lire_population(pop))
    _cli("planifier", ESSONNE, "--population", ESSONNE_POP, "--sortie", tmp_path / "p", "--sans-carte")
    assert plan.scenario == _json(tmp_path / "p" / "scenario.json")


def test_polygons_in_lambert93_in_memory_give_the_figures_of_the_file(tmp_path):
    ref = t.referentiel_communes()
    per = t.lire_perimetres(ESSONNE).table
    # One polygon per CPTS, as a GIS layer would hold them: no overlaps, so take each commune once.
    first = per.drop_duplicates("code_commune")
    gdf = gpd.GeoDataFrame({"CPTS": first["cpts"].to_numpy()},
                           geometry=ref.loc[first["code_commune"]].geometry.to_numpy(), crs=ref.crs)
    layer = gdf.dissolve("CPTS").reset_index().to_crs(2154)
    layer.to_file(tmp_path / "cpts.gpkg", driver="GPKG")
    from_memory = t.analyser(layer)
    _cli("analyse", tmp_path / "cpts.gpkg", "--sortie", tmp_path / "a", "--sans-carte")
    from_file = _json(tmp_path / "a" / "synthese.json")
    assert from_memory.synthese == from_file
    assert set(from_memory.cpts["cpts"]) == set(first["cpts"])


def test_public_api_is_flat_documented_and_listed_in_the_readme():
    assert set(dir(t)) >= set(t.__all__)
    for name in t.__all__:
        obj = getattr(t, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
    functions = [n for n in t.__all__ if callable(getattr(t, n)) and n[0].islower()]
    for name in functions:
        doc = getattr(t, name).__doc__
        assert "Returns" in doc or "Examples" in doc, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Bibliothèque Python"):]
    section = section[:section.index("\n## ", 3)]
    listed = set(re.findall(r"^\| `(\w+)", section, flags=re.M))
    assert listed == set(t.__all__)
    import territoire
    modules = {p.stem for p in Path(territoire.__file__).parent.glob("*.py")}
    assert not modules & set(t.__all__)  # no public name shadows a module


def test_result_types_are_the_file_contract(essonne_audit, tmp_path):
    keys = set(typing.get_type_hints(models.Synthese))
    assert set(essonne_audit.synthese) == keys
    dep = next(iter(essonne_audit.synthese["par_departement"].values()))
    assert set(dep) == set(typing.get_type_hints(models.ChiffresDepartement))
    plan = t.planifier(pd.DataFrame({"CPTS": ["Nord"] * 3, "Code INSEE": [91027, 91326, 91432]}))
    assert set(plan.scenario) == set(typing.get_type_hints(models.Scenario))
    assert set(plan.scenario["avant"]) == set(typing.get_type_hints(models.ChiffresPlan))
    assert set(plan.scenario["cpts"][0]) == set(typing.get_type_hints(models.CptsAvantApres))


def test_no_side_effects_on_import_or_on_the_caller(tmp_path):
    import argparse
    import subprocess
    import sys

    code = ("import argparse, sys; before = argparse._; import territoire.cli, territoire.render, territoire.api; "
            "import matplotlib; assert argparse._ is before; "
            "assert 'matplotlib.pyplot' not in sys.modules; print(matplotlib.get_backend())")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"MPLBACKEND": "svg", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "svg"
    ref = t.referentiel_communes()
    ref.loc["91228", "nom"] = "changé"
    assert t.referentiel_communes().loc["91228", "nom"] == "Évry-Courcouronnes"
    # The scale is data read at call time.
    scale = json.loads((Path(t.__file__).parent / "regles" / "bareme_aci.json").read_text(encoding="utf-8"))
    scale["seuils_taille"] = [20000, 60000, 175000]
    (tmp_path / "bareme.json").write_text(json.dumps(scale), encoding="utf-8")
    frame = pd.DataFrame({"CPTS": ["Nord"] * 2, "Code INSEE": [91326, 91479]})  # about 24 000 inhabitants
    assert t.analyser(frame).cpts["taille"].tolist() == [1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TERRITOIRE_BAREME", str(tmp_path / "bareme.json"))
        assert t.analyser(frame).cpts["taille"].tolist() == [2]
    assert argparse.ArgumentParser  # argparse untouched in this process too


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITOIRE_CACHE", str(tmp_path / "cache"))
    t.analyser(pd.DataFrame({"CPTS": ["Nord"] * 2, "Code INSEE": [91027, 91326]}), cache=False)
    assert not (tmp_path / "cache").exists()

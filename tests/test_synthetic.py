"""The synthetic national scenario used by the benchmarks and the national notebook."""

import pytest

from territoire import analyse, synthetic


def test_national_scenario_is_realistic_and_deterministic():
    a = synthetic.national_scenario()
    assert a.equals(synthetic.national_scenario())
    assert a["cpts"].str.startswith("CPTS fictive").all()
    res = analyse.analyse(a, departements=["29", "75", "91", "974"])
    s = res.synthese
    assert 0.7 < s["taux_couverture"] < 0.97
    assert s["nb_communes_en_chevauchement"] > 0 and s["nb_zones_blanches"] > 0
    sizes = analyse.size_class(a.merge(analyse.units_with_population(None, analyse.Journal())["population"],
                                       left_on="code_commune", right_index=True)
                               .groupby("cpts")["population"].sum())
    assert set(sizes) == {1, 2, 3, 4}


@pytest.mark.lent
def test_benchmark_smoke_run_writes_its_results(tmp_path):
    """The quick run of benchmarks/run.py (one repetition, département scale) still works."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "RESULTS.md"
    res = subprocess.run([sys.executable, str(root / "benchmarks" / "run.py"), "--rapide", "--sortie", str(out)],
                         capture_output=True, text=True, cwd=root)
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "scénario national **synthétique**" in text
    for step in ("chargement de la référence", "analyse — département (91)", "planifier — département (91)"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {step} |"))
        assert float(row.split("|")[2].replace(",", ".")) > 0

"""The synthetic national scenario used by the benchmarks and the national notebook."""

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

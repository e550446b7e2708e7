"""The embedded national reference."""

import shapely

from territoire import reference


def test_every_commune_and_the_45_arrondissements():
    ref = reference.communes()
    assert (ref["type"] == "COM").sum() == 34_875
    assert (ref["type"] == "ARM").sum() == 45
    assert not ref.index.duplicated().any()
    assert ref["code"].str.match(r"^(\d{5}|2[AB]\d{3})$").all()
    assert {"75056", "69123", "13055", "97101", "97411", "97302", "97611", "2A004"} <= set(ref.index)
    # Arrondissements: 20 in Paris, 9 in Lyon, 16 in Marseille.
    counts = ref.loc[ref["type"] == "ARM", "commune_parent"].value_counts()
    assert counts.to_dict() == {"75056": 20, "13055": 16, "69123": 9}


def test_geometries_are_valid_and_present():
    geoms = reference.communes().geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert reference.communes().crs.to_epsg() == 4326


def test_population_total_matches_insee_within_half_a_percent():
    ref = reference.communes()
    com = ref[(ref["type"] == "COM") & (ref["departement"] != "976")]
    total = com["population"].sum()
    # INSEE: population of France (hors Mayotte) on 1 January 2023: 68 094 000.
    assert abs(total / 68_094_000 - 1) < 0.005
    # Arrondissements add up to their city.
    arm = ref[ref["type"] == "ARM"].groupby("commune_parent")["population"].sum()
    assert (arm == ref.loc[arm.index, "population"]).all()
    assert reference.metadata()["millesime_population"] == 2023


def test_units_replace_plm_cities_by_arrondissements():
    units = reference.units()
    assert not units.index.isin(["75056", "69123", "13055"]).any()
    assert "75113" in units.index
    assert units["population"].sum() == reference.communes().query("type == 'COM'")["population"].sum()


def test_former_codes_cover_recent_mergers():
    former = reference.former_codes()
    assert former["91182"] == "91228"  # Courcouronnes -> Évry-Courcouronnes (2019)
    assert not former.index.isin(reference.units().index).any()
    assert former.isin(reference.communes().index).all()

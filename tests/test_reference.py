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


# --- Issue 15: outlines of the current COG, restored communes, history of codes ----------------------

def test_no_hole_above_one_square_km_in_metropole_but_llivia():
    units = reference.units()
    metro = units[~units["departement"].str.startswith("97")].to_crs(2154)
    merged = shapely.union_all(shapely.make_valid(metro.geometry.to_numpy()))
    holes = [shapely.Polygon(r) for p in shapely.get_parts(merged) for r in p.interiors]
    big = [h for h in holes if h.area > 1e6]
    # Llívia, the Spanish enclave in the Pyrénées-Orientales (about 13 km²), is the only one.
    assert len(big) == 1 and 12e6 < big[0].area < 14e6
    import geopandas as gpd

    assert big[0].contains(gpd.GeoSeries([shapely.Point(1.98, 42.465)], crs=4326).to_crs(2154).iloc[0])


def test_communes_that_absorbed_others_in_2025_have_their_whole_outline():
    from territoire import graph

    ref = reference.communes()
    assert ref.at["93066", "superficie_km2"] > 15.5  # Saint-Denis with Pierrefitte-sur-Seine
    assert ref.at["62447", "superficie_km2"] > 20  # Hesdin-la-Forêt, was 0.86 km²
    assert ref.at["25390", "superficie_km2"] > 45  # Pays-de-Montbenoît, was 4.98 km²
    edges = graph.national_edges()
    neighbours = set(edges.loc[edges["u"] == "62447", "v"]) | set(edges.loc[edges["v"] == "62447", "u"])
    assert len(neighbours) >= 10
    assert ref.at["93066", "origine_contour"].startswith("union avec")


def test_restored_cantal_communes_take_their_true_outlines():
    import geopandas as gpd

    from .conftest import DONNEES

    truth = gpd.read_file(DONNEES / "neussargues_communes_deleguees_2024.geojson").set_index("code")
    ref = reference.communes()
    for code in ("15031", "15035", "15047", "15141", "15171"):
        a, b = truth.at[code, "geometry"], ref.at[code, "geometry"]
        iou = shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))
        assert iou > 0.95, (code, iou)
        assert ref.at[code, "origine_contour"].startswith("contour de sa commune déléguée")
    assert "geometrie_approchee" not in ref.columns


def test_former_codes_where_the_sources_disagree_follow_the_geometry():
    former = reference.former_codes()
    assert former["60455"] == "60694"  # La Neuville-Garnier, commune déléguée of Les Hauts Talican's successor
    assert former["55273"] == "55386"  # Lamarche-en-Woëvre, commune associée
    table = reference.former_table().set_index("ancien_code")
    assert "géométrie" in table.at["60455", "decision"]
    assert table.at["93059", "nature"] == "commune déléguée" and table.at["93059", "premier_cog_sans"] == 2025


def test_reading_a_split_commune_names_the_communes_split_off(tmp_path):
    from territoire import read

    path = tmp_path / "p.csv"
    path.write_text("CPTS;Code INSEE\nA;85084\nA;85001\n", encoding="utf-8")
    per = read.read_perimeters(path)
    line = next(t for t in per.journal.infos if "85084" in t and "séparées" in t)
    assert "85165" in line and "85212" in line and "2024" in line
    assert set(per.table["code_commune"]) == {"85084", "85001"}
    # An evidently older file (it cites a code abolished by 2019): the communes split off are added, with a warning.
    path.write_text("CPTS;Code INSEE\nA;85084\nA;01018\n", encoding="utf-8")
    per = read.read_perimeters(path)
    assert {"85165", "85212"} <= set(per.table["code_commune"])
    assert any("antérieur au COG 2024" in t for t in per.journal.avertissements)


def test_vintages_are_data_and_the_build_recorded_its_controls():
    meta = reference.metadata()
    assert meta["cog"] == 2026 and meta["millesime_population_totale"] == 2022
    assert meta["nb_trous_metropole_plus_1_km2"] == 0 and meta["contours"]["cog"] == 2024
    assert abs(meta["ecart_insee"]) < 1e-4
    assert "population_totale" in reference.communes().columns
    assert all(len(v) == 64 for v in meta["sources"].values())  # sha256 of every download

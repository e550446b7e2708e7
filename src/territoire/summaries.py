"""What the commands print on the terminal at the end of a run (figures in French typography)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .formats import nombre as fmt
from .formats import pourcentage as pct


def plan(s: Mapping[str, Any]) -> None:
    """The summary of a plan (``territoire planifier``)."""
    av, ap = s["avant"], s["apres"]
    print(f"Plan 100 % CPTS pour le(s) département(s) {', '.join(s['perimetre'])} "
          f"(population : {s['millesime_population']}).")
    print(f"  Couverture        : {pct(av['taux_couverture'])} → {pct(ap['taux_couverture'])}")
    print(f"  Zones blanches    : {av['nb_zones_blanches']} ({fmt(av['population_zones_blanches'])} hab.) → "
          f"{ap['nb_zones_blanches']}")
    print(f"  Chevauchements    : {av['nb_communes_en_chevauchement']} commune(s) → "
          f"{ap['nb_communes_en_chevauchement']} ({s['nb_arbitrages_chevauchement']} arbitrage(s) à valider"
          + (f", {s['nb_communes_partagees_proposees']} commune(s) partagée(s) à valider" if
             s["nb_communes_partagees_proposees"] else "") + ")")
    print(f"  Extensions        : {s['nb_communes_extension']} commune(s) rattachée(s) à "
          f"{s['nb_cpts_etendues']} CPTS voisine(s)")
    print(f"  Nouvelles CPTS    : {s['nb_nouvelles_cpts']}")
    print(f"  Changements de taille : {s['nb_changements_taille']} ; financement maximal annuel "
          f"{fmt(s['financement_max_total_avant'])} € → {fmt(s['financement_max_total_apres'])} €")
    for r in s["cpts"]:
        if not r["nouvelle"] and r["taille_avant"] != r["taille_apres"]:
            after = (f"taille {r['taille_avant']} → {r['taille_apres']}" if r["taille_apres"] is not None
                     else f"taille {r['taille_avant']} → plus aucune commune propre : fusion ou arbitrage à discuter "
                     "(voir propositions.csv)")
            print(f"    - {r['cpts']} : {fmt(r['population_avant'])} → {fmt(r['population_apres'])} hab., {after}")
    if s["variantes"]:
        print("\nVariantes (variantes.csv) : CPTS (nouvelles) · population min./médiane/max. · EPCI scindés · "
              "financement ACI maximal")
        for v in s["variantes"]:
            print(f"  {v['variante']:<22} {v['nb_cpts']:>3} ({v['nb_nouvelles_cpts']:>2}) · "
                  f"{fmt(v['population_min'])} / {fmt(v['population_mediane'])} / {fmt(v['population_max'])} · "
                  f"{v['nb_epci_scindes_apres']} · {fmt(v['financement_max_total_apres'])} €")


def comparison(summary: Mapping[str, Any], cpts: pd.DataFrame, before: str, after: str, scope: list[str]) -> None:
    """The summary of a comparison (``territoire comparer``)."""
    print(f"Comparaison de {before} et {after} sur le(s) département(s) {', '.join(scope)}.")
    av, ap = summary["avant"], summary["apres"]
    print(f"  Couverture     : {pct(av['taux_couverture'])} → {pct(ap['taux_couverture'])}")
    print(f"  Zones blanches : {av['nb_zones_blanches']} ({fmt(av['population_zones_blanches'])} hab.) → "
          f"{ap['nb_zones_blanches']} ({fmt(ap['population_zones_blanches'])} hab.)")
    print(f"  CPTS : {summary['nb_cpts_creee']} créée(s), {summary['nb_cpts_supprimee']} supprimée(s), "
          f"{summary['nb_cpts_renommee']} renommée(s), {summary['nb_cpts_modifiee']} modifiée(s) ; statuts : "
          f"{summary['nb_statuts_avances']} avancé(s), {summary['nb_statuts_recules']} reculé(s)")
    print(f"  Changements de taille : {summary['nb_changements_taille']} ; financement maximal annuel "
          f"{fmt(summary['ecart_financement_max_total'])} € d'écart")
    for r in cpts[cpts["evenement"] != "inchangée"].itertuples():
        print(f"    - {r.evenement} : {r.cpts_apres or r.cpts_avant}"
              + (f" (ex-« {r.cpts_avant} »)" if r.evenement == "renommée" else ""))

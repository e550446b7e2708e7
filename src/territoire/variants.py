"""Variants of a plan, side by side: the same white zones and overlaps settled under other rules.

A working group compares before it adopts: the default plan, EPCI first (no
extension, every zone cut into new CPTS of whole EPCI parts: the baseline of
issue 17), a larger minimum for new CPTS, and extensions allowed to change a
CPTS's taille. Each variant is summed up by the figures a group weighs:
number and sizes of CPTS, EPCIs split, compactness, total €/yr.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from .models import Audit, Parametres, Plan, Variante

#: (name, description, parameter changes); the first is the plan itself.
VARIANTS: list[tuple[str, str, dict[str, object]]] = [
    ("par défaut", "règles par défaut", {}),
    ("EPCI d'abord", "sans extension : chaque zone découpée en nouvelles CPTS de parties d'EPCI entières",
     {"population_max_zone_extension": 0}),
    ("minimum 40 000", "nouvelles CPTS d'au moins 40 000 hab. quand la zone le permet",
     {"population_min_nouvelle_cpts": 40_000}),
    ("seuils franchissables", "extensions autorisées à changer la taille (et le financement) d'une CPTS",
     {"franchir_seuil_taille": True}),
]
#: Beyond this many départements, variants run only when asked for (``--variantes``).
MAX_DEPARTEMENTS = 13


def summary(plan: Plan, name: str, description: str) -> Variante:
    """The figures of one plan a group compares."""
    s = plan.scenario
    rows = [r for r in s["cpts"] if r["population_apres"] > 0]
    pops = np.array([r["population_apres"] for r in rows], dtype=float)
    tailles = pd.Series([r["taille_apres"] for r in rows]).value_counts()
    return {
        "variante": name,
        "description": description,
        "nb_cpts": len(rows),
        "nb_nouvelles_cpts": s["nb_nouvelles_cpts"],
        "population_min": int(pops.min()) if len(pops) else 0,
        "population_mediane": int(np.median(pops)) if len(pops) else 0,
        "population_max": int(pops.max()) if len(pops) else 0,
        "nb_cpts_par_taille": {str(t): int(tailles.get(t, 0)) for t in (1, 2, 3, 4)},
        "nb_epci_scindes_apres": s["nb_epci_scindes_apres"],
        "compacite_moyenne_apres": s["compacite_moyenne_apres"],
        "financement_max_total_apres": s["financement_max_total_apres"],
        "nb_changements_taille": s["nb_changements_taille"],
        "taux_couverture_apres": s["apres"]["taux_couverture"],
    }


def compare(plan: Plan, before: Audit, units: gpd.GeoDataFrame, edges: pd.DataFrame,
            params: Parametres) -> list[Variante]:
    """The plan and its variants (each computed on the same audit, from the same parameters)."""
    from .plan import plan_audit

    out = [summary(plan, *VARIANTS[0][:2])]
    for name, description, changes in VARIANTS[1:]:
        changed = replace(params, **changes)  # type: ignore[arg-type]
        if changed == params:
            continue  # the user's own settings already are this variant
        out.append(summary(plan_audit(before, units, edges, changed), name, description))
    return out


def table(variants: list[Variante]) -> pd.DataFrame:
    """The variants as a table (one row each), for ``variantes.csv``, the workbook and the report."""
    df = pd.DataFrame(variants)
    for t in "1234":
        df[f"taille_{t}"] = [v["nb_cpts_par_taille"][t] for v in variants]
    return df.drop(columns="nb_cpts_par_taille")

"""Follow-up between two dates: what changed in the CPTS of a territory since the last CTS.

Two audits of the same scope (before, after) are compared CPTS by CPTS:
created, removed, renamed (a CPTS that disappears while another appears
with mostly the same communes: Jaccard index of their communes at least
:data:`RENAMED_OVERLAP`), statuses advanced or regressed, communes added and
removed, population, taille and maximum ACI funding before and after; and
the territory's coverage and white zones before and after.
"""

from __future__ import annotations

import pandas as pd

from . import settings
from .models import Audit

#: Share of common communes (intersection over union) from which a CPTS gone and one new are one renamed CPTS.
RENAMED_OVERLAP = 0.5

EVENTS = {"creee": "créée", "supprimee": "supprimée", "renommee": "renommée", "modifiee": "modifiée",
          "inchangee": "inchangée"}


def _members(audit: Audit) -> dict[str, set[str]]:
    return audit.perimetres.groupby("cpts")["code_commune"].agg(set).to_dict()


def _renamed(gone: list[str], new: list[str], before: dict[str, set[str]],
             after: dict[str, set[str]]) -> dict[str, str]:
    """Old name -> new name for the pairs whose communes mostly coincide (best pair first, each used once)."""
    scored = sorted(((len(before[a] & after[b]) / len(before[a] | after[b]), a, b) for a in gone for b in new
                     if before[a] & after[b]), key=lambda t: (-t[0], t[1], t[2]))
    out: dict[str, str] = {}
    for score, a, b in scored:
        if score >= RENAMED_OVERLAP and a not in out and b not in out.values():
            out[a] = b
    return out


def _status_move(before: object, after: object) -> str:
    rank = settings.STATUS_RANK
    if not isinstance(before, str) or not isinstance(after, str) or before not in rank or after not in rank:
        return "" if before == after else "changé"
    return "avancé" if rank[after] > rank[before] else "reculé" if rank[after] < rank[before] else ""


def cpts_changes(before: Audit, after: Audit, names: pd.Series) -> pd.DataFrame:
    """One row per CPTS of either date: event, status move, communes added and removed, figures before/after."""
    mb, ma = _members(before), _members(after)
    gone, new = sorted(set(mb) - set(ma)), sorted(set(ma) - set(mb))
    renamed = _renamed(gone, new, mb, ma)
    pairs = ([(n, n) for n in sorted(set(mb) & set(ma))] + [(a, b) for a, b in renamed.items()]
             + [(a, None) for a in gone if a not in renamed] + [(None, b) for b in new if b not in renamed.values()])
    cb, ca = before.cpts.set_index("cpts"), after.cpts.set_index("cpts")
    rows = []
    for a, b in pairs:
        ra = cb.loc[a] if a is not None else None
        rb = ca.loc[b] if b is not None else None
        sa, sb = mb.get(a or "", set()), ma.get(b or "", set())
        added, removed = sorted(sb - sa) if b is not None else [], sorted(sa - sb) if a is not None else []
        if ra is None or rb is None:
            event = "creee" if ra is None else "supprimee"
        elif a != b:
            event = "renommee"
        else:
            event = "modifiee" if added or removed or ra["statut"] != rb["statut"] else "inchangee"
        fmax_a = int(ra["financement_max_annuel"]) if ra is not None else 0
        fmax_b = int(rb["financement_max_annuel"]) if rb is not None else 0
        rows.append({
            "cpts_avant": a or "", "cpts_apres": b or "", "evenement": EVENTS[event],
            "statut_avant": ra["statut"] if ra is not None else None, "statut_apres": rb["statut"] if rb is not None else None,
            "evolution_statut": _status_move(ra["statut"], rb["statut"]) if ra is not None and rb is not None else "",
            "communes_ajoutees": " | ".join(f"{names.get(c, c)} ({c})" for c in added),
            "communes_retirees": " | ".join(f"{names.get(c, c)} ({c})" for c in removed),
            "population_avant": int(ra["population"]) if ra is not None else 0,
            "population_apres": int(rb["population"]) if rb is not None else 0,
            "taille_avant": int(ra["taille"]) if ra is not None else None,
            "taille_apres": int(rb["taille"]) if rb is not None else None,
            "financement_max_avant": fmax_a, "financement_max_apres": fmax_b, "ecart_financement_max": fmax_b - fmax_a,
        })
    df = pd.DataFrame(rows)
    for col in ("taille_avant", "taille_apres"):
        df[col] = df[col].astype("Int64")
    order = {e: i for i, e in enumerate(["créée", "supprimée", "renommée", "modifiée", "inchangée"])}
    return df.sort_values(["evenement", "cpts_apres", "cpts_avant"], key=lambda s: s.map(order)
                          if s.name == "evenement" else s).reset_index(drop=True)


def commune_changes(before: Audit, after: Audit) -> pd.DataFrame:
    """Communes whose CPTS changed: code, name, CPTS before and after, white zone before and after."""
    b = before.communes.set_index("code_commune")
    a = after.communes.set_index("code_commune")
    codes = sorted(set(b.index) | set(a.index))
    df = pd.DataFrame({
        "code_commune": codes,
        "nom": [a["nom"].get(c, b["nom"].get(c)) for c in codes],
        "cpts_avant": [b["cpts"].get(c, "") or "" for c in codes],
        "cpts_apres": [a["cpts"].get(c, "") or "" for c in codes],
        "zone_blanche_avant": [bool(b["zone_blanche"].get(c, False)) for c in codes],
        "zone_blanche_apres": [bool(a["zone_blanche"].get(c, False)) for c in codes],
    })
    return df[df["cpts_avant"] != df["cpts_apres"]].reset_index(drop=True)


def summary(before: Audit, after: Audit, cpts: pd.DataFrame) -> dict:
    """Territory figures before and after, and counts of each kind of change."""
    keys = ["population_totale", "population_couverte", "taux_couverture", "taux_couverture_aci", "nb_cpts",
            "nb_communes_en_chevauchement", "nb_zones_blanches", "nb_communes_zones_blanches",
            "population_zones_blanches"]
    events = cpts["evenement"].value_counts()
    sizes = cpts[cpts["taille_avant"].notna() & cpts["taille_apres"].notna()
                 & (cpts["taille_avant"] != cpts["taille_apres"])]
    return {
        "perimetre": sorted(set(before.synthese["perimetre"]) | set(after.synthese["perimetre"])),
        "avant": {k: dict(before.synthese)[k] for k in keys},
        "apres": {k: dict(after.synthese)[k] for k in keys},
        **{f"nb_cpts_{k}": int(events.get(v, 0)) for k, v in EVENTS.items()},
        "nb_statuts_avances": int((cpts["evolution_statut"] == "avancé").sum()),
        "nb_statuts_recules": int((cpts["evolution_statut"] == "reculé").sum()),
        "nb_changements_taille": len(sizes),
        "ecart_financement_max_total": int(cpts["ecart_financement_max"].sum()),
    }

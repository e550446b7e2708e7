"""Symbology shared by the interactive map and the PNG, chosen for a projector and for colour-blind readers.

Every fill has at least 3:1 contrast against the white-zone fill (white) and
lets the CPTS outline (near black) keep 3:1 against it; the four maturity
steps stay at least ΔE2000 15 apart for deuteranopes, protanopes and
tritanopes (tests/test_couleurs.py). Overlaps and white zones are also told
apart by pattern (cross-hatching, hatching), not by colour alone.
"""

from __future__ import annotations

from .. import settings

STATUS_FILLS: dict[str, str] = {
    "en_projet": "#c8660a",
    "lettre_intention": "#a26ff6",
    "projet_sante": "#219b85",
    "signataire_aci": "#556598",
    settings.STATUS_UNKNOWN: "#8a8a8a",
}
WHITE_ZONE_FILL = "#ffffff"
WHITE_ZONE_HATCH = "#6e6e6e"
WHITE_ZONE_EDGE = "#b2182b"
CPTS_EDGE = "#111111"
OVERLAP_EDGE = "#4a0026"
DEPARTEMENT_EDGE = "#444444"
#: Plan maps: one colour per CPTS, neighbours different (graph colouring); all dark enough for 3:1 on white.
PLAN_PALETTE = ["#c8660a", "#a26ff6", "#219b85", "#556598", "#c0467e", "#7a8b2b", "#3d87c9"]

"""Colours for a projector and colour-blind readers (issue 18): contrast and ΔE2000 under simulated deficiencies."""

from __future__ import annotations

import numpy as np

from territoire import settings
from territoire.mapping import colours, style


def test_ciede2000_matches_the_published_test_data():
    # Sharma, Wu and Dalal (2005), pairs 1 and 24.
    assert abs(colours.delta_e2000(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485])) - 2.0425) < 1e-4
    assert abs(colours.delta_e2000(np.array([50, 2.5, 0]), np.array([73, 25, -18])) - 27.1492) < 1e-4


def test_every_fill_stands_out_from_the_white_zone_fill():
    fills = [*style.STATUS_FILLS.values(), *style.PLAN_PALETTE]
    assert min(colours.contrast(f, style.WHITE_ZONE_FILL) for f in fills) >= 3.0
    # The old "en projet" yellow was 1.26:1: invisible next to a white zone on a projector.
    assert colours.contrast("#fde725", style.WHITE_ZONE_FILL) < 1.3


def test_cpts_outlines_contrast_with_both_sides():
    for fill in [*style.STATUS_FILLS.values(), style.WHITE_ZONE_FILL]:
        assert colours.contrast(style.CPTS_EDGE, fill) >= 3.0, fill
    assert colours.contrast(style.WHITE_ZONE_EDGE, style.WHITE_ZONE_FILL) >= 3.0


def test_neighbouring_maturity_steps_stay_apart_for_colour_blind_readers():
    steps = [style.STATUS_FILLS[s] for s in settings.STATUSES]
    pairs = [(i, j) for i in range(len(steps)) for j in range(i + 1, len(steps))]
    assert colours.min_difference(steps, pairs) >= 15.0
    # The former teal and overlap pink merged for deuteranopes.
    old = ["#21918c", "#cc79a7"]
    assert colours.delta_e2000(colours.simulate(old[0], "deuteranopie"), colours.simulate(old[1], "deuteranopie")) < 15

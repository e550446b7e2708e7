"""Colour checks for maps shown on a projector: WCAG contrast, CIEDE2000, colour-vision deficiency.

The palette of the maps is data (``STATUS_FILLS``...); these functions let a
test prove it stays readable: every fill at least 3:1 against the white-zone
fill, CPTS outlines at least 3:1 against both sides, neighbouring classes at
least ΔE2000 15 apart for deuteranopes, protanopes and tritanopes
(simulation of Machado, Oliveira and Fernandes 2009, severity 1).
"""

from __future__ import annotations

import numpy as np

#: Machado et al. (2009) matrices, severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "deuteranopie": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopie": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopie": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                 [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def linear_rgb(hex_colour: str) -> np.ndarray:
    """Linear RGB (0-1) of ``#rrggbb``."""
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    return float(linear_rgb(hex_colour) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of a linear RGB triple."""
    xyz = _XYZ @ np.clip(rgb_linear, 0, 1) / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def simulate(hex_colour: str, deficiency: str | None = None) -> np.ndarray:
    """L*a*b* of a colour as seen with a colour-vision deficiency (``None``: normal vision)."""
    rgb = linear_rgb(hex_colour)
    return lab(CVD_MATRICES[deficiency] @ rgb if deficiency else rgb)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    cbar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(cbar ** 7 / (cbar ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p if abs(h2p - h1p) <= 180 else h2p - h1p - 360 * np.sign(h2p - h1p)
    dh = 0.0 if c1p * c2p == 0 else dh
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    lbar, cbarp = (l1 + l2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hbar = hsum if c1p * c2p == 0 else (hsum / 2 if abs(h1p - h2p) <= 180 else
                                        (hsum + 360) / 2 if hsum < 360 else (hsum - 360) / 2)
    t = (1 - 0.17 * np.cos(np.radians(hbar - 30)) + 0.24 * np.cos(np.radians(2 * hbar))
         + 0.32 * np.cos(np.radians(3 * hbar + 6)) - 0.20 * np.cos(np.radians(4 * hbar - 63)))
    sl = 1 + 0.015 * (lbar - 50) ** 2 / np.sqrt(20 + (lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    rt = (-2 * np.sqrt(cbarp ** 7 / (cbarp ** 7 + 25 ** 7))
          * np.sin(np.radians(60 * np.exp(-(((hbar - 275) / 25) ** 2)))))
    return float(np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh)))


def min_difference(colours: list[str], pairs: list[tuple[int, int]]) -> float:
    """Smallest ΔE2000 over ``pairs`` of ``colours``, for normal vision and each deficiency."""
    return min(delta_e2000(simulate(colours[i], d), simulate(colours[j], d))
               for d in (None, *CVD_MATRICES) for i, j in pairs)

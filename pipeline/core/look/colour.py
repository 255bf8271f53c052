"""Colour maths for garment colorways (no bpy): sRGB <-> linear <-> CIE XYZ (D65) <-> CIELAB, the CIEDE2000
colour difference, named colorways, `--color` parsing and recolouring a texture while keeping its detail.

sRGB values are floats in [0, 1] (IEC 61966-2-1 transfer curve); Lab uses the D65 white of sRGB, so sRGB white
is L*=100, a*=b*=0. CIEDE2000 follows Sharma, Wu and Dalal (2005), checked against their published test pairs.
"""

from __future__ import annotations

import re

import numpy as np

from pipeline.core.errors import UserError

# Named colorways: catalog colour names -> sRGB hex. The first 12 are the colour bench's swatches.
COLORWAYS: dict[str, str] = {
    "black": "#1c1c1e",
    "white": "#f4f4f1",
    "navy": "#1f2a44",
    "red": "#b3202a",
    "burgundy": "#6d1a2b",
    "forest": "#2c4a34",
    "olive": "#6b6b3a",
    "camel": "#b98a5b",
    "sand": "#d8c7a6",
    "heather-grey": "#9a9a9c",
    "sky": "#8eb6d9",
    "blush": "#e7b7b5",
    "mustard": "#d1a22c",
    "indigo": "#2e3f5c",
    "charcoal": "#3a3b3f",
    "ecru": "#e9e1cf",
}
BENCH_SWATCHES: tuple[str, ...] = tuple(COLORWAYS)[:12]

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_XYZ_TO_SRGB = np.linalg.inv(_SRGB_TO_XYZ)
_WHITE_D65 = _SRGB_TO_XYZ @ np.ones(3)  # the XYZ of sRGB white, so that white maps to L*=100 exactly
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Decode sRGB (the transfer curve) into linear light."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear light with the sRGB transfer curve (negative values clipped to 0)."""
    c = np.maximum(np.asarray(linear, dtype=np.float64), 0.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def luminance(srgb: np.ndarray) -> np.ndarray:
    """Relative luminance Y (Rec. 709 weights on linear light) of sRGB colours, shape (..., 3) -> (...)."""
    return srgb_to_linear(srgb) @ _SRGB_TO_XYZ[1]


def srgb_to_lab(srgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB colours, shape (..., 3)."""
    xyz = (srgb_to_linear(srgb) @ _SRGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """sRGB of CIELAB (D65) colours, clipped into the sRGB gamut [0, 1]."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE_D65
    return np.clip(linear_to_srgb(xyz @ _XYZ_TO_SRGB.T), 0.0, 1.0)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between Lab colours (kL = kC = kH = 1), shape (..., 3) -> (...)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    L_bar, c_bar_p = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2)
    )
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = (
        -2
        * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25.0**7))
        * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2))))
    )
    return np.sqrt((dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dCp / s_c) * (dHp / s_h))


def hex_to_srgb(value: str) -> tuple[float, float, float]:
    """'#RRGGBB' -> sRGB floats in [0, 1]."""
    m = _HEX.match(value.strip())
    if m is None:
        raise UserError(f"--color must be a colour name or #RRGGBB, not {value!r}")
    h = m.group(1)
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def parse_colour(value: str) -> tuple[float, float, float]:
    """A `--color` value (a colorway name such as 'navy', or '#RRGGBB') as sRGB floats; one error line otherwise."""
    name = value.strip().lower()
    if name in COLORWAYS:
        return hex_to_srgb(COLORWAYS[name])
    if _HEX.match(name):
        return hex_to_srgb(name)
    raise UserError(f"--color must be #RRGGBB or one of {', '.join(COLORWAYS)}, not {value!r}")


def colour_label(value: str) -> str:
    """A file-name-safe label for a `--color` value: the name, or the hex digits."""
    return value.strip().lower().lstrip("#")


def recolour(
    srgb: np.ndarray, target_srgb: tuple[float, float, float], mask: np.ndarray | None = None
) -> np.ndarray:
    """Recolour an sRGB image (H, W, 3) to `target_srgb`, keeping its detail.

    Luminance: every pixel keeps its luminance relative to the image's mean (Y' = Y * Y_target / mean Y), so
    weave, print and baked shading stay, and the mean lands on the colorway's luminance (a white tee recoloured
    navy is navy, not pale blue). Hue and chroma: a*, b* move by the shift that takes the mean onto the target,
    so deviations (a print's own colours) are kept. A flat texture becomes exactly the target. `mask` (H, W)
    picks the pixels that count for the means (e.g. alpha > 0). Colours outside sRGB are clipped."""
    srgb = np.asarray(srgb, dtype=np.float64)
    sel = np.ones(srgb.shape[:-1], bool) if mask is None else np.asarray(mask, bool)
    y = luminance(srgb)
    target = np.asarray(target_srgb, dtype=np.float64)
    y_new = np.clip(y * (luminance(target) / max(float(y[sel].mean()), 1e-6)), 0.0, 1.0)
    lab = srgb_to_lab(srgb)
    shift = srgb_to_lab(target)[1:] - lab[sel][:, 1:].mean(axis=0)
    L_new = _lightness_of_luminance(y_new)
    out = np.concatenate([L_new[..., None], lab[..., 1:] + shift], axis=-1)
    return lab_to_srgb(out)


def _lightness_of_luminance(y: np.ndarray) -> np.ndarray:
    """CIE L* of relative luminance Y in [0, 1]."""
    return 116 * np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29) - 16


def luminance_correlation(a_srgb: np.ndarray, b_srgb: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Pearson correlation of two images' luminance: how much of one's detail the other keeps (1 = all)."""
    ya, yb = luminance(a_srgb), luminance(b_srgb)
    if mask is not None:
        ya, yb = ya[np.asarray(mask, bool)], yb[np.asarray(mask, bool)]
    return float(np.corrcoef(ya.ravel(), yb.ravel())[0, 1])


def is_light_neutral(srgb: tuple[float, ...], max_chroma: float = 10.0, min_lightness: float = 75.0) -> bool:
    """True for a colour that would vanish on the white mannequin (light and nearly grey)."""
    L, a, b = srgb_to_lab(np.asarray(srgb[:3]))
    return bool(L >= min_lightness and np.hypot(a, b) <= max_chroma)

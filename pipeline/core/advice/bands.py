"""Ease bands: how many centimetres of ease read as tight, regular or loose, per garment type, region and
fabric. Girth bands are set for woven cloth and widened on the tight side for knits (they stretch over the
body); length is read as short / regular / long against a body landmark."""

from __future__ import annotations

from typing import Literal

Word = Literal["tight", "regular", "loose", "short", "long"]
GIRTH_REGIONS = ("chest", "waist", "hip", "sleeve")
LENGTH_REGIONS = ("length",)

# (tight below, loose above) in cm of ease, woven cloth. Length: (short below, long above) in cm of the hem
# past its landmark (tops: the crotch, skirts and dresses: the knee); positive = longer.
WOVEN_BANDS: dict[str, dict[str, tuple[float, float]]] = {
    "top": {"chest": (4.0, 16.0), "waist": (4.0, 22.0), "hip": (3.0, 16.0), "sleeve": (3.0, 14.0)},
    "outerwear": {"chest": (8.0, 24.0), "waist": (8.0, 28.0), "hip": (6.0, 24.0), "sleeve": (6.0, 18.0)},
    "dress": {"chest": (4.0, 14.0), "waist": (3.0, 16.0), "hip": (3.0, 16.0), "sleeve": (3.0, 14.0)},
    "bottom": {"waist": (0.0, 5.0), "hip": (2.0, 12.0)},
}
LENGTH_BANDS: dict[str, tuple[float, float]] = {
    "top": (-14.0, 4.0),
    "outerwear": (-12.0, 15.0),
    "dress": (-25.0, 15.0),
    "bottom": (-25.0, 12.0),
}
# cm a knit gives on the tight side (negative ease still fits: a close jersey T-shirt is worn from about
# -1 cm of ease over the tape chest); woven cloth gives nothing
STRETCH_CM: dict[str, float] = {
    "cotton-jersey": 5.0,
    "spandex": 8.0,
    "wool": 1.0,
    "cotton-woven": 0.0,
    "denim": 0.0,
    "silk": 0.0,
}
# the regions that pick a size (the nearest to its design ease; the limiting one wins): a top by its chest,
# a dress by its chest and waist, a bottom by its waistband and its hip ...
DECIDING_REGIONS: dict[str, tuple[str, ...]] = {
    "top": ("chest",),
    "outerwear": ("chest",),
    "dress": ("chest", "waist"),
    "bottom": ("waist", "hip"),
}
# ... and those that rule a size out when tight: every girth the garment covers
RULING_REGIONS: dict[str, tuple[str, ...]] = {
    "top": ("chest", "waist", "hip", "sleeve"),
    "outerwear": ("chest", "waist", "hip", "sleeve"),
    "dress": ("chest", "waist", "hip", "sleeve"),
    "bottom": ("waist", "hip"),
}


def type_group(garment_type: str) -> str:
    """The band group of a garment type (skirts and trousers are bottoms)."""
    return "bottom" if garment_type in ("bottom", "skirt", "trousers") else garment_type


def bands_for(garment_type: str, fabric: str) -> dict[str, dict[str, float]]:
    """The bands of one garment type and fabric, as written into the advice: region -> {low, high, unit}."""
    group = type_group(garment_type)
    give = STRETCH_CM.get(fabric, 0.0)
    out = {
        r: {"tight_below_cm": lo - give, "loose_above_cm": hi} for r, (lo, hi) in WOVEN_BANDS[group].items()
    }
    lo, hi = LENGTH_BANDS[group]
    out["length"] = {"short_below_cm": lo, "long_above_cm": hi}
    return out


def word_for(region: str, value_cm: float, bands: dict[str, dict[str, float]]) -> str:
    """tight / regular / loose for a girth's ease, short / regular / long for a length."""
    b = bands[region]
    if region in LENGTH_REGIONS:
        return (
            "short"
            if value_cm < b["short_below_cm"]
            else "long"
            if value_cm > b["long_above_cm"]
            else "regular"
        )
    return (
        "tight"
        if value_cm < b["tight_below_cm"]
        else "loose"
        if value_cm > b["loose_above_cm"]
        else "regular"
    )

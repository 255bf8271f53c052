"""Body measurement files: JSON in centimetres with ISO 8559-1 names, any subset of them.

Format (one JSON object):

    {
      "unit": "cm",                 required, must be "cm"
      "sex": "female",              optional, "female" or "male" (fixes anny's gender; else it is fitted)
      "stature": 168.0,             any subset of the measurements below, numbers in cm
      "chest_girth": 92.0,          "bust_girth" is accepted instead of "chest_girth" (same measure), not both
      "waist_girth": 74.5,
      "hip_girth": 99.0
    }

Supported measurements and their accepted ranges (cm; adult range, roughly ANSUR II 0.1st to 99.9th
percentile widened a little) are in RANGES_CM; how each one is taken is in `pipeline.core.body.measure`.
Any other key, a unit other than "cm", a value that is not a number or lies outside its range is a UserError
naming the field and the range.
"""

from __future__ import annotations

import math
import os
from typing import Any

from pipeline.core.errors import UserError
from pipeline.core.files import read_json
from pipeline.core.untrusted import clip
from pipeline.core.vocab import SEXES

RANGES_CM: dict[str, tuple[float, float]] = {
    "stature": (135.0, 210.0),
    "neck_girth": (26.0, 52.0),
    "chest_girth": (68.0, 150.0),
    "bust_girth": (68.0, 150.0),
    "underbust_girth": (58.0, 135.0),
    "waist_girth": (52.0, 150.0),
    "hip_girth": (75.0, 155.0),
    "thigh_girth": (38.0, 85.0),
    "upper_arm_girth": (20.0, 50.0),
    "shoulder_width": (28.0, 50.0),
    "arm_length": (45.0, 75.0),
    "inside_leg_length": (60.0, 100.0),
    "back_waist_length": (32.0, 56.0),
}
META_KEYS = ("unit", "sex")
MAX_FILE_BYTES = 2**20  # a measurements file is a few hundred bytes
# Ratios two measurements of one person can take: the extremes over all 6,068 ANSUR II subjects (both sexes),
# widened by about 12 % each way for people unlike soldiers. Outside them the combination is a typo or a
# wrong unit (a hip missed by 39 cm), and no body can reach it.
PAIR_RATIOS: dict[tuple[str, str], tuple[float, float]] = {
    ("waist_girth", "hip_girth"): (0.62, 1.37),
    ("chest_girth", "hip_girth"): (0.66, 1.41),
    ("chest_girth", "waist_girth"): (0.76, 1.61),
    ("thigh_girth", "hip_girth"): (0.46, 0.77),
    ("neck_girth", "chest_girth"): (0.25, 0.50),
    ("underbust_girth", "chest_girth"): (0.60, 1.02),
    ("inside_leg_length", "stature"): (0.37, 0.61),
    ("arm_length", "stature"): (0.25, 0.43),
    ("shoulder_width", "stature"): (0.16, 0.30),
    ("hip_girth", "stature"): (0.39, 0.91),
    ("waist_girth", "stature"): (0.31, 0.88),
    ("chest_girth", "stature"): (0.38, 0.89),
}


def validate_measurements(obj: Any, source: str = "measurements") -> dict[str, Any]:
    """Check a measurements object; return {"sex": str|None, "measurements": {name: cm}}. UserError if bad."""
    if not isinstance(obj, dict):
        raise UserError(f'{source}: expected a JSON object with "unit": "cm" and ISO 8559-1 measurements')
    unit = obj.get("unit")
    if unit is None:
        raise UserError(f"{source}: field 'unit' is missing; expected \"cm\"")
    if unit != "cm":
        raise UserError(
            f"{source}: field 'unit' is {clip(unit)}; expected \"cm\" (convert the values to centimetres)"
        )
    sex = obj.get("sex")
    if sex is not None and sex not in SEXES:
        raise UserError(
            f'{source}: field \'sex\' is {clip(sex)}; expected "female" or "male" (or leave it out)'
        )
    values: dict[str, float] = {}
    for key, value in obj.items():
        if key in META_KEYS:
            continue
        if key not in RANGES_CM:
            raise UserError(
                f"{source}: unknown field {clip(key)}; expected one of: unit, sex, {', '.join(RANGES_CM)}"
            )
        lo, hi = RANGES_CM[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise UserError(
                f"{source}: field '{key}' must be a number in cm between {lo:g} and {hi:g}, got {clip(value)}"
            )
        if not lo <= value <= hi:
            raise UserError(
                f"{source}: field '{key}' = {value:g} cm is outside the supported range {lo:g} to {hi:g} cm"
            )
        values[key] = float(value)
    if "chest_girth" in values and "bust_girth" in values:
        raise UserError(f"{source}: give either 'chest_girth' or 'bust_girth' (the same measure), not both")
    if not values:
        raise UserError(f"{source}: no measurements given; expected at least one of: {', '.join(RANGES_CM)}")
    check_plausible(values, source)
    return {"sex": sex, "measurements": values}


def check_plausible(values: dict[str, float], source: str = "measurements") -> None:
    """Refuse pairs of measurements no person combines (see PAIR_RATIOS), naming both and the range."""
    named = {("chest_girth" if k == "bust_girth" else k): v for k, v in values.items()}
    for (a, b), (lo, hi) in PAIR_RATIOS.items():
        if a in named and b in named:
            ratio = named[a] / named[b]
            if not lo <= ratio <= hi:
                raise UserError(
                    f"{source}: {a} {named[a]:g} cm with {b} {named[b]:g} cm is a ratio of {ratio:.2f}, outside "
                    f"what people have ({lo:g} to {hi:g}); check both values and their unit"
                )


def load_measurements(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a measurements JSON file: {"sex": str|None, "measurements": {name: cm}}."""
    return validate_measurements(read_measurements_json(path), source=clip(str(path), 160))


def read_measurements_json(path: str | os.PathLike) -> Any:
    """The raw JSON of a measurements file (at most 1 MB, no NaN/Infinity, nested at most 8 deep)."""
    return read_json(path, "measurements file", max_bytes=MAX_FILE_BYTES, max_depth=8)


def to_file_object(measurements_cm: dict[str, float], sex: str | None = None) -> dict[str, Any]:
    """The JSON object of a measurements file for these values (the inverse of validate_measurements)."""
    obj: dict[str, Any] = {"unit": "cm"}
    if sex:
        obj["sex"] = sex
    obj.update({k: round(float(v), 1) for k, v in measurements_cm.items()})
    return obj

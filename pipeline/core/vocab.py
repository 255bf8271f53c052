"""The project's words, once: sizes, sexes, garment types, poses, fabrics, looks, views and engines.

Each is a `Literal` alias (as anny's `typing.py` does) with its values as a tuple; argparse choices, job-file
checks and the add-on's enum items are all made from these tuples, so a new word is added here only.
"""

from __future__ import annotations

from typing import Literal, get_args

Size = Literal["XS", "S", "M", "L", "XL", "XXL"]
Sex = Literal["female", "male"]
# A garment piece's type: "bottom" is the generic lower garment (detect tells trousers from a skirt).
GarmentType = Literal["top", "bottom", "trousers", "skirt", "dress", "outerwear"]
Pose = Literal["a-pose", "t-pose", "relaxed", "walking"]
Fabric = Literal["cotton-jersey", "cotton-woven", "denim", "silk", "wool", "spandex"]
AvatarMaterial = Literal["mannequin", "skin"]  # how the avatar's body looks
Look = Literal["studio", "white", "ghost"]  # how the still looks (e-commerce presets)
View = Literal["front", "three-quarter", "side", "back"]
Engine = Literal["cycles", "eevee", "workbench"]
CaptureView = Literal["front", "turn"]
# ISO 8559-1 body measurements a measurements file may give (cm); "bust_girth" is read as "chest_girth"
Measurement = Literal[
    "stature",
    "neck_girth",
    "chest_girth",
    "underbust_girth",
    "waist_girth",
    "hip_girth",
    "thigh_girth",
    "upper_arm_girth",
    "shoulder_width",
    "arm_length",
    "inside_leg_length",
    "back_waist_length",
]
# anny's six base phenotypes, each in [0, 1] (0.5 = average)
Phenotype = Literal["gender", "age", "muscle", "weight", "height", "proportions"]

SIZES: tuple[str, ...] = get_args(Size)
SEXES: tuple[str, ...] = get_args(Sex)
GARMENT_TYPES: tuple[str, ...] = get_args(GarmentType)
POSES: tuple[str, ...] = get_args(Pose)
FABRICS: tuple[str, ...] = get_args(Fabric)
AVATAR_MATERIALS: tuple[str, ...] = get_args(AvatarMaterial)
LOOKS: tuple[str, ...] = get_args(Look)
VIEWS: tuple[str, ...] = get_args(View)
ENGINES: tuple[str, ...] = get_args(Engine)
CAPTURE_VIEWS: tuple[str, ...] = get_args(CaptureView)
PHENOTYPES: tuple[str, ...] = get_args(Phenotype)
MEASUREMENTS: tuple[str, ...] = get_args(Measurement)

DEFAULT_POSE: Pose = "a-pose"
DEFAULT_FABRIC: Fabric = "cotton-jersey"
DEFAULT_LOOK: Look = "studio"
DEFAULT_VIEW: View = "front"
DEFAULT_SIZE: Size = "M"
DEFAULT_MATERIAL: AvatarMaterial = "mannequin"
# anny's age phenotype over adult ages (about 16 to 64 years); left free, a fit drifts to teenage proportions
ADULT_AGE_RANGE: tuple[float, float] = (0.67, 0.83)


def enum_items(values: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Blender EnumProperty items for `values`: ("three-quarter", "Three-Quarter", "")."""
    return [(v, v.replace("-", " ").title().replace(" ", "-") if "-" in v else v.title(), "") for v in values]

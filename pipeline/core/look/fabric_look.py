"""How each fabric preset looks in a render (no bpy): default colour, Principled BSDF settings, the kind and true
scale (mm) of its surface detail, and its thickness. `pipeline/blender/materials.py` builds the node tree.

Scales are those of real cloth: jersey ~1.2 mm wales (about 20 per inch of a 28-gauge knit), denim 3/1 twill
~0.7 mm between diagonal ribs, satin floats ~0.3 mm, hand-knit wool ~5 mm stitches, leather grain ~1.5 mm cells.
At a full-figure catalog framing one pixel spans 1-2 mm, so fine weaves read as texture only; close-ups show
them. Each also carries a slub/mottle scale (cm) that stays visible at catalog size."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import UserError
from pipeline.core.look.colour import hex_to_srgb, is_light_neutral
from pipeline.core.vocab import FABRIC_ALIASES, FABRICS, canonical_fabric


@dataclasses.dataclass(frozen=True)
class FabricLook:
    name: str
    colour: str  # default colour (sRGB hex) of a garment that brings none of its own
    roughness: float
    sheen: float  # Principled sheen weight (fibre fuzz at grazing angles)
    sheen_roughness: float
    specular: float  # Principled "Specular IOR Level" (0.5 = IOR 1.5 default)
    anisotropic: float  # 0 = isotropic; satin's floats give a stretched highlight
    detail: str  # "knit", "twill", "plain", "satin" or "grain"
    period_mm: float  # repeat of the weave or knit (true scale)
    bump_mm: float  # height of the weave relief
    mottle_cm: float  # scale of slub / heather / hide mottling
    mottle: float  # its strength: the value varies by about +-mottle/3 (one standard deviation ~ mottle/5)
    thickness_mm: float  # cloth thickness: the Solidify modifier gives hems an edge


LOOKS_BY_FABRIC: dict[str, FabricLook] = {
    f.name: f
    for f in (
        FabricLook("cotton-jersey", "#4a5d7e", 0.82, 0.35, 0.5, 0.35, 0.0, "knit", 1.2, 0.25, 2.0, 0.2, 0.6),
        FabricLook("cotton-woven", "#8fa9c9", 0.75, 0.2, 0.4, 0.4, 0.0, "plain", 0.5, 0.15, 3.0, 0.12, 0.4),
        FabricLook("denim-twill", "#2e4a6b", 0.85, 0.15, 0.6, 0.3, 0.0, "twill", 0.7, 0.3, 1.5, 0.25, 0.9),
        FabricLook("silk-satin", "#7a2e3a", 0.22, 0.1, 0.3, 0.6, 0.7, "satin", 0.3, 0.03, 4.0, 0.06, 0.2),
        FabricLook("wool-knit", "#b08a5a", 0.9, 0.6, 0.7, 0.25, 0.0, "knit", 5.0, 1.2, 1.0, 0.25, 2.5),
        FabricLook("leather", "#3b2a22", 0.45, 0.0, 0.5, 0.6, 0.0, "grain", 1.5, 0.12, 3.0, 0.3, 1.1),
        FabricLook("polyester", "#b5322e", 0.5, 0.15, 0.4, 0.5, 0.0, "plain", 0.35, 0.08, 4.0, 0.08, 0.3),
        FabricLook("spandex", "#222226", 0.38, 0.2, 0.4, 0.55, 0.0, "knit", 0.6, 0.1, 3.0, 0.08, 0.5),
    )
}
assert tuple(LOOKS_BY_FABRIC) == FABRICS, "every fabric in vocab needs a look"


def fabric_look(name: str) -> FabricLook:
    """The look of fabric `name` (aliases such as 'denim' allowed); one error line for an unknown name."""
    try:
        return LOOKS_BY_FABRIC[canonical_fabric(name)]
    except KeyError:
        known = ", ".join([*LOOKS_BY_FABRIC, *FABRIC_ALIASES])
        raise UserError(f"--fabric must be one of {known}, not {name!r}") from None


def base_colour(
    fabric: str, own: tuple[float, ...] | None = None, colour: tuple[float, float, float] | None = None
) -> tuple[float, float, float]:
    """The sRGB colour of an untextured garment: the colorway asked for, else the file's own colour unless it
    would vanish on the white mannequin (light and nearly grey, e.g. an importer's default 0.8 grey), else the
    fabric's default colour."""
    if colour is not None:
        return tuple(colour[:3])  # type: ignore[return-value]
    if own is not None and not is_light_neutral(own[:3]):
        return tuple(own[:3])  # type: ignore[return-value]
    return hex_to_srgb(fabric_look(fabric).colour)

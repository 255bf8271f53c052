"""Fabric presets for the drape solver: stretch/compression/bend stiffness (per-iteration PBD factors in
[0, 1]), areal density, friction against skin and velocity damping."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import UserError


@dataclasses.dataclass(frozen=True)
class Fabric:
    name: str
    stretch: float  # resistance to lengthening
    compress: float  # resistance to shortening (low: cloth buckles instead)
    bend: float  # resistance to folding
    density_kg_m2: float
    friction: float  # share of tangential slip removed on contact
    damping: float  # velocity kept per step
    max_strain: float  # hard limit on stretch (strain limiting), e.g. 0.08 = 8 %


FABRICS: dict[str, Fabric] = {
    f.name: f
    for f in (
        Fabric(
            "cotton-jersey",
            stretch=0.9,
            compress=0.15,
            bend=0.02,
            density_kg_m2=0.18,
            friction=0.8,
            damping=0.9,
            max_strain=0.08,
        ),
        Fabric(
            "cotton-woven",
            stretch=1.0,
            compress=0.3,
            bend=0.06,
            density_kg_m2=0.14,
            friction=0.5,
            damping=0.9,
            max_strain=0.03,
        ),
        Fabric(
            "denim",
            stretch=1.0,
            compress=0.4,
            bend=0.15,
            density_kg_m2=0.35,
            friction=0.6,
            damping=0.88,
            max_strain=0.02,
        ),
        Fabric(
            "silk",
            stretch=1.0,
            compress=0.1,
            bend=0.005,
            density_kg_m2=0.08,
            friction=0.2,
            damping=0.93,
            max_strain=0.03,
        ),
        Fabric(
            "wool",
            stretch=1.0,
            compress=0.3,
            bend=0.08,
            density_kg_m2=0.3,
            friction=0.6,
            damping=0.88,
            max_strain=0.04,
        ),
        Fabric(
            "spandex",
            stretch=0.7,
            compress=0.15,
            bend=0.01,
            density_kg_m2=0.2,
            friction=0.6,
            damping=0.9,
            max_strain=0.2,
        ),
    )
}


def get_fabric(name: str) -> Fabric:
    """The preset called `name`, or a one-line error listing the known ones."""
    try:
        return FABRICS[name]
    except KeyError:
        raise UserError(f"--fabric must be one of {', '.join(FABRICS)}, not {name!r}") from None

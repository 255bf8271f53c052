"""Fabric presets for the drape solver: stretch/compression/bend stiffness (per-iteration PBD factors in
[0, 1]), areal density, friction against skin and velocity damping. Names are `vocab.FABRICS`; the older names
in `vocab.FABRIC_ALIASES` (denim, silk, wool) still work. Leather and polyester are first estimates from
typical weights (leather garment hide 0.9-1.2 mm, ~0.6 kg/m2; polyester crepe ~0.12 kg/m2) for the drape
engineer to tune."""

from __future__ import annotations

import dataclasses

from pipeline.core.errors import UserError
from pipeline.core.vocab import FABRIC_ALIASES, canonical_fabric


@dataclasses.dataclass(frozen=True)
class Fabric:
    name: str
    stretch: float  # resistance to lengthening
    compress: float  # resistance to shortening (low: cloth buckles instead)
    bend: float  # resistance to folding of the distance bending model (a per-iteration factor)
    density_kg_m2: float
    friction: float  # share of tangential slip removed on contact
    damping: float  # velocity kept per step
    max_strain: float  # hard limit on stretch (strain limiting), e.g. 0.08 = 8 %
    # bending rigidity per unit width (N m) of the dihedral bending (`bending.py`): typical KES-F bending
    # figures (silk ~0.01, jersey ~0.05, denim ~0.25, leather several gf cm^2/cm; 1 gf cm^2/cm = 9.8e-5 N m),
    # rounded; a bending length (B / (density g))^(1/3) of about 1.2 cm (silk) to 3.7 cm (leather). Cusick drape
    # coefficients with the panel-drape settings (bench_drape --cusick): silk 0.40, jersey 0.47, denim 0.70,
    # leather 0.83
    bend_rigidity_nm: float = 5e-6


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
            bend_rigidity_nm=5e-6,
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
            bend_rigidity_nm=1.2e-5,
        ),
        Fabric(
            "denim-twill",
            stretch=1.0,
            compress=0.4,
            bend=0.15,
            density_kg_m2=0.35,
            friction=0.6,
            damping=0.88,
            max_strain=0.02,
            bend_rigidity_nm=2.5e-5,
        ),
        Fabric(
            "silk-satin",
            stretch=1.0,
            compress=0.1,
            bend=0.005,
            density_kg_m2=0.08,
            friction=0.2,
            damping=0.93,
            max_strain=0.03,
            bend_rigidity_nm=1.2e-6,
        ),
        Fabric(
            "wool-knit",
            stretch=1.0,
            compress=0.3,
            bend=0.08,
            density_kg_m2=0.3,
            friction=0.6,
            damping=0.88,
            max_strain=0.04,
            bend_rigidity_nm=1e-5,
        ),
        Fabric(
            "leather",
            stretch=1.0,
            compress=0.6,
            bend=0.3,
            density_kg_m2=0.6,
            friction=0.5,
            damping=0.85,
            max_strain=0.03,
            bend_rigidity_nm=3e-4,
        ),
        Fabric(
            "polyester",
            stretch=1.0,
            compress=0.25,
            bend=0.03,
            density_kg_m2=0.12,
            friction=0.35,
            damping=0.9,
            max_strain=0.03,
            bend_rigidity_nm=6e-6,
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
            bend_rigidity_nm=2e-6,
        ),
    )
}


def get_fabric(name: str) -> Fabric:
    """The preset called `name`, or a one-line error listing the known ones."""
    try:
        return FABRICS[canonical_fabric(name)]
    except KeyError:
        known = ", ".join([*FABRICS, *FABRIC_ALIASES])
        raise UserError(f"--fabric must be one of {known}, not {name!r}") from None

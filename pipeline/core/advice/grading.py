"""Graded sample garments: the project's own sewing patterns (`pipeline.core.fit.pattern`) drafted for each
size's body from the size table, sewn and draped on it, as `make-garment` does for the default body. The
draft rules stay the same (ease, neckline, sleeve, flare); what changes per size are the body's girths and
lengths, so the size steps follow the size table's girth and height steps. Graded, never refitted to a
shopper: the shopper only ever wears one of these."""

from __future__ import annotations

import dataclasses
import functools

from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.progress import ProgressCallback, silent

SAMPLE_GARMENTS = {"tshirt": "top", "skirt": "bottom"}


@dataclasses.dataclass
class GradedSize:
    """One size of a graded garment, the body it was drafted on, and its fit there (the design's ease)."""

    size: str
    garment: GarmentMesh
    body: object  # BodyArrays of the size's table measurements
    design_ease_cm: dict[str, float]


@functools.lru_cache(maxsize=32)
def graded_size(kind: str, size: str, sex: str) -> GradedSize:
    """Draft, sew and drape sample garment `kind` for size `size` of the `sex` size table (cached per process:
    about 2-10 s for the size's body, well under a second for the drape)."""
    from pipeline.core.advice.ease import body_planes, region_ease
    from pipeline.core.body.avatar_body import fit_body
    from pipeline.core.fit.make import drape_sewn, draped_mesh, sewn_garment

    body, _ = fit_body(size=size, sex=sex)
    sewn, _ = sewn_garment(kind, body)
    result = drape_sewn(sewn, body)
    mesh = draped_mesh(kind, sewn, result, name=f"{kind}-{sex}-{size}")
    ease = region_ease(result.vertices, sewn.faces, SAMPLE_GARMENTS[kind], body_planes(body), result.vertices)
    return GradedSize(size, mesh, body, ease)


def grade(kind: str, sizes: list[str], sex: str, progress: ProgressCallback = silent) -> list[GradedSize]:
    """The sample garment `kind` graded over `sizes`."""
    out = []
    for i, s in enumerate(sizes):
        progress(i / len(sizes), f"grading the {kind}: {s}")
        out.append(graded_size(kind, s, sex))
    return out

"""A garment's size chart, measured on its mesh as given (as a garment is laid flat and measured): the cloth's
length round it at heights relative to the garment itself, the openings, and its length."""

from __future__ import annotations

import numpy as np

from pipeline.core.advice.bands import type_group
from pipeline.core.advice.ease import hip_line_girth, loop_length
from pipeline.core.advice.sections import cloth_girth
from pipeline.core.topology import boundary_loops

HIP_SEARCH_M = 0.30  # a bottom's hip is looked for this far below its waistband
HIP_SLOPE_TOLERANCE = (
    0.05  # girth growth (m per m of drop) within this of the least is the fall below the hip
)


def garment_chart(vertices: np.ndarray, faces: np.ndarray, garment_type: str) -> dict[str, float]:
    """Girths and length (cm) of a garment: tops `chest` (widest just below the armholes), `waist`
    (narrowest of the middle), `hem`, `length`; bottoms `waist` (waistband), `hip`, `hem`, `length`."""
    v = np.asarray(vertices, dtype=np.float64)
    loops = sorted(boundary_loops(np.asarray(faces)), key=lambda lp: float(v[lp, 2].mean()))
    z0, z1 = float(v[:, 2].min()), float(v[:, 2].max())
    axis = np.median(v[:, :2], axis=0)

    def girth(z: float) -> float:
        return cloth_girth(v, faces, v, np.array([axis[0], axis[1], z]), np.array([0.0, 0.0, 1.0]))

    def at(fractions) -> list[float]:
        return [girth(z0 + f * (z1 - z0)) for f in fractions]

    chart: dict[str, float] = {"length": z1 - z0}
    if loops:
        chart["hem"] = loop_length(v, loops[0])
    if type_group(garment_type) == "bottom":
        if loops:
            band = loops[-1]
            chart["waist"] = loop_length(v, band)
            hip = hip_line_girth(girth, float(v[band, 2].mean()), z0)
            if hip:
                chart["hip"] = hip
    else:
        chart["chest"] = max(at(np.linspace(0.45, 0.58, 5)))
        chart["waist"] = min(at(np.linspace(0.25, 0.45, 5)))
    return {k: round(100 * x, 1) for k, x in chart.items()}

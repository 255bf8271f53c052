"""Ease per body region of a garment fitted on a body, as a fit technician reads it: the garment's measure less
the body's (chest, waist, hip: the body's tape measures; upper arm: the section round it), the garment's taken
as the cloth's own length round the body where that part of the garment lies, and where its hem falls against
a body landmark (length)."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.advice.bands import type_group
from pipeline.core.advice.sections import cloth_girth, girth_at
from pipeline.core.fit.landmarks import body_landmarks
from pipeline.core.topology import boundary_loops

UP = np.array([0.0, 0.0, 1.0])
SLEEVE_FROM_SHOULDER_M = 0.13  # the upper-arm girth: about midway from the shoulder joint to the elbow
SLEEVE_RADIUS_M = 0.09  # near the armpit a sleeve's section joins the body's: keep what lies round the arm
# the garment's chest is read on a band of planes from just under the armpit to below the bust (and the bust
# itself): a plane through a low armhole, or through sleeves hanging down to it, is no chest girth; one
# through sleeve and torso together catches more cloth than the chest
CHEST_BELOW_ARMPIT_M = (0.04, 0.06, 0.08, 0.10, 0.12)
# the body's girths are its tape measures (ISO 8559-1, as the size table and the shopper's file take them)
TAPES = {"chest": "chest_girth", "waist": "waist_girth", "hip": "hip_girth"}
HEM_CLEAR_M = 0.05  # a top's girth is read only this far above its hem
HIP_SEARCH_M = 0.30  # a bottom's hip line is looked for this far below its waistband
HIP_SLOPE_TOLERANCE = 0.05  # girth growth (m per m of drop) within this of the least: below the hip curve


@dataclasses.dataclass
class BodyPlanes:
    """Where a body is measured: a point and normal per girth region with the body's girth there (its tape
    measure), the chest band's planes and landmark heights for lengths."""

    planes: dict[str, tuple[np.ndarray, np.ndarray]]
    girths_m: dict[str, float]
    chest_points: list[np.ndarray]  # points of the horizontal planes of the chest band
    crotch_z: float
    knee_z: float
    body_vertices: np.ndarray
    body_faces: np.ndarray


def body_planes(body) -> BodyPlanes:
    """The measuring planes of `body` (a BodyArrays, any preset pose) and its girths there: chest, waist and
    hip as the tape takes them (`pipeline.core.body.measure`: at the bust point, the natural waist and the
    buttock, arms left out), the upper arm as the section round it."""
    from pipeline.core.body.measure import body_landmarks as tape_landmarks
    from pipeline.core.body.measure import measure_body

    lm = body_landmarks(body)
    tape_lm = tape_landmarks(body)
    v, f = body.vertices, body.faces
    centre = np.array([0.0, lm.centre_y, 0.0])
    planes = {r: (centre + [0, 0, tape_lm[f"{r}_z"]], UP) for r in TAPES}
    d = lm.arm_direction("l")
    planes["sleeve"] = (lm.shoulder_l + SLEEVE_FROM_SHOULDER_M * d, d)
    tapes = measure_body(v, tuple(TAPES.values()))
    girths = {r: tapes[name] / 100 for r, name in TAPES.items()}
    girths["sleeve"] = girth_at(v, f, *planes["sleeve"], radius_m=SLEEVE_RADIUS_M)
    chest = [
        centre + [0, 0, z] for z in (tape_lm["chest_z"], *(lm.armpit_z - dz for dz in CHEST_BELOW_ARMPIT_M))
    ]
    return BodyPlanes(planes, girths, chest, lm.crotch_z, lm.knee_z, v, f)


def _loops_by_height(vertices: np.ndarray, faces: np.ndarray) -> list[np.ndarray]:
    return sorted(boundary_loops(np.asarray(faces)), key=lambda lp: float(vertices[lp, 2].mean()))


def loop_length(rest_vertices: np.ndarray, loop: np.ndarray) -> float:
    """Length (m) of a boundary loop on the garment's rest shape (a waistband's cloth length)."""
    r = np.asarray(rest_vertices, dtype=np.float64)[loop]
    return float(np.linalg.norm(r - np.roll(r, -1, axis=0), axis=1).sum())


def chest_ease_m(g: np.ndarray, faces: np.ndarray, rest: np.ndarray, planes: BodyPlanes) -> float | None:
    """The garment's chest (the least cloth round the chest band, a closed loop: a loop through sleeve and
    torso together holds more) less the body's tape chest; None when no plane of the band holds a closed loop
    of the garment. The least, not the highest plane's: just under the armhole the cloth grows fast with
    height, and which planes clear a garment's armhole changes from size to size."""
    cloth = [cloth_girth(g, faces, rest, p, UP) for p in planes.chest_points]
    cloth = [c for c in cloth if c > 0]
    return min(cloth) - planes.girths_m["chest"] if cloth else None


def hip_line_girth(girth, band_z: float, hem_z: float) -> float:
    """A bottom's hip girth (m) from `girth(z)` (its cloth round the plane at height z): the side profile grows
    fast over the curve from the waistband to the hip, then falls straight (a pencil skirt) or flares on at a
    steady rate (an A-line), both slower; the hip is the mean girth over the first run of heights below the
    band where the growth per centimetre is within `HIP_SLOPE_TOLERANCE` of its least. 0 when the garment is
    too short to tell."""
    drops = np.arange(0.0, min(HIP_SEARCH_M, band_z - hem_z - 0.02), 0.01)
    g = np.array([girth(band_z - d) for d in drops])
    keep = g > 0
    drops, g = drops[keep], g[keep]
    if len(drops) < 8:
        return 0.0
    slope = np.convolve(np.gradient(g, drops), np.ones(3) / 3, mode="valid")
    flat = np.flatnonzero(slope <= slope.min() + HIP_SLOPE_TOLERANCE)
    run = flat[: int(np.argmax(np.diff(np.append(flat, flat[-1] + 2)) > 1)) + 1]
    return float(g[run + 1].mean())


def bottom_hip_ease_m(
    g: np.ndarray, faces: np.ndarray, rest: np.ndarray, planes: BodyPlanes, band: np.ndarray
) -> float | None:
    """A bottom's hip measure (`hip_line_girth`, read on the garment as it hangs on the body, its cloth
    measured on the rest shape) less the body's tape hip. Read at the garment's own hip line, not at the
    body's hip plane: a skirt too tight at the waist rides up and one too loose slides down, and the body's
    plane would then cut it in its flare or in its waist curve. None when the garment is too short to tell."""
    axis = np.median(g[:, :2], axis=0)

    def girth(z: float) -> float:
        return cloth_girth(g, faces, rest, np.array([axis[0], axis[1], z]), UP)

    cloth = hip_line_girth(girth, float(g[band, 2].mean()), float(g[:, 2].min()))
    return cloth - planes.girths_m["hip"] if cloth > 0 else None


def region_ease(
    garment_vertices: np.ndarray,
    faces: np.ndarray,
    garment_type: str,
    planes: BodyPlanes,
    rest_vertices: np.ndarray | None = None,
) -> dict[str, float]:
    """Ease in cm per region the garment covers: the cloth's own length round the body at the region's plane
    (on `rest_vertices`, default the fitted shape) less the body's tape girth there; the chest over a band of
    planes (`chest_ease_m`); a bottom's waist is its waistband's length less the body's waist girth (where it
    would sit; a band that slides down is loose), its hip the cloth at the body's hip depth below the
    waistband (`bottom_hip_ease_m`). `length`: the hem's position in cm past its landmark (tops: below the
    crotch, bottoms and dresses: below the knee; negative = above). Sleeve: the tape girth of the sleeve round
    the upper arm."""
    g = np.asarray(garment_vertices, dtype=np.float64)
    rest = g if rest_vertices is None else np.asarray(rest_vertices, dtype=np.float64)
    group = type_group(garment_type)
    loops = _loops_by_height(g, faces)
    hem_z = float(g[loops[0], 2].mean()) if loops else float(g[:, 2].min())
    top_z = float(g[:, 2].max())
    ease_m: dict[str, float | None] = {}
    if group == "bottom":
        if loops:
            ease_m["waist"] = loop_length(rest, loops[-1]) - planes.girths_m["waist"]
            ease_m["hip"] = bottom_hip_ease_m(g, faces, rest, planes, loops[-1])
    else:
        ease_m["chest"] = chest_ease_m(g, faces, rest, planes)
        for region in ("waist", "hip"):
            point, normal = planes.planes[region]
            # else the garment does not reach this height, or its hem band lies there (a hem just below the
            # hip rides up over it: no fit point)
            if hem_z + HEM_CLEAR_M < point[2] < top_z - 0.01:
                cloth = cloth_girth(g, faces, rest, point, normal)
                ease_m[region] = cloth - planes.girths_m[region] if cloth > 0 else None
        point, normal = planes.planes["sleeve"]
        sleeve = girth_at(g, faces, point, normal, max_gap_m=0.08, radius_m=SLEEVE_RADIUS_M)
        ease_m["sleeve"] = sleeve - planes.girths_m["sleeve"] if sleeve > 0 else None
    out = {r: round(100 * e, 2) for r, e in ease_m.items() if e is not None}
    landmark_z = planes.crotch_z if group in ("top", "outerwear") else planes.knee_z
    out["length"] = round(100 * (landmark_z - hem_z), 2)
    return out

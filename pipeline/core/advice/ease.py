"""Ease per body region of a garment fitted on a body: the garment's tape girth minus the body's at the same
plane (chest, waist, hip, upper arm), and where its hem falls against a body landmark (length)."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.advice.bands import type_group
from pipeline.core.advice.sections import cloth_girth, girth_at
from pipeline.core.fit.landmarks import Landmarks, body_landmarks
from pipeline.core.topology import boundary_loops

UP = np.array([0.0, 0.0, 1.0])
SLEEVE_FROM_SHOULDER_M = 0.13  # the upper-arm girth: about midway from the shoulder joint to the elbow
SLEEVE_RADIUS_M = 0.09  # near the armpit a sleeve's section joins the body's: keep what lies round the arm
# the chest is read on a few planes from just under the armpit to below the bust, and the least ease kept: where
# a garment's armhole hangs lower than the body's, a plane through it also catches the sleeves (more cloth)
CHEST_BELOW_ARMPIT_M = (0.04, 0.06, 0.08, 0.10)


@dataclasses.dataclass
class BodyPlanes:
    """Where a body is measured: a point and normal per girth region, and landmark heights for lengths."""

    planes: dict[str, tuple[np.ndarray, np.ndarray]]
    girths_m: dict[str, float]
    chest_planes: list[tuple[np.ndarray, float]]  # (point, body girth) per chest plane
    crotch_z: float
    knee_z: float
    body_vertices: np.ndarray
    body_faces: np.ndarray


def hip_level(vertices: np.ndarray, faces: np.ndarray, lm: Landmarks, steps: int = 10) -> float:
    """Height of the greatest girth between crotch and waist (the hip, greatest buttock prominence)."""
    zs = np.linspace(lm.crotch_z + 0.02, lm.waist_z - 0.04, steps)
    g = [girth_at(vertices, faces, np.array([0.0, lm.centre_y, z])) for z in zs]
    return float(zs[int(np.argmax(g))])


def body_planes(body) -> BodyPlanes:
    """The measuring planes of `body` (a BodyArrays, any preset pose) and its girths there."""
    lm = body_landmarks(body)
    v, f = body.vertices, body.faces
    centre = np.array([0.0, lm.centre_y, 0.0])
    planes = {
        "chest": (centre + [0, 0, lm.armpit_z - CHEST_BELOW_ARMPIT_M[1]], UP),
        "waist": (centre + [0, 0, lm.waist_z], UP),
        "hip": (centre + [0, 0, hip_level(v, f, lm)], UP),
    }
    d = lm.arm_direction("l")
    planes["sleeve"] = (lm.shoulder_l + SLEEVE_FROM_SHOULDER_M * d, d)
    girths = {
        r: girth_at(v, f, p, n, radius_m=SLEEVE_RADIUS_M if r == "sleeve" else None)
        for r, (p, n) in planes.items()
    }
    chest = [centre + [0, 0, lm.armpit_z - dz] for dz in CHEST_BELOW_ARMPIT_M]
    chest_planes = [(p, girth_at(v, f, p)) for p in chest]
    return BodyPlanes(planes, girths, chest_planes, lm.crotch_z, lm.knee_z, v, f)


def _loops_by_height(vertices: np.ndarray, faces: np.ndarray) -> list[np.ndarray]:
    return sorted(boundary_loops(np.asarray(faces)), key=lambda lp: float(vertices[lp, 2].mean()))


def loop_length(rest_vertices: np.ndarray, loop: np.ndarray) -> float:
    """Length (m) of a boundary loop on the garment's rest shape (a waistband's cloth length)."""
    r = np.asarray(rest_vertices, dtype=np.float64)[loop]
    return float(np.linalg.norm(r - np.roll(r, -1, axis=0), axis=1).sum())


def region_ease(
    garment_vertices: np.ndarray,
    faces: np.ndarray,
    garment_type: str,
    planes: BodyPlanes,
    rest_vertices: np.ndarray | None = None,
) -> dict[str, float]:
    """Ease in cm per region the garment covers: the cloth's own length round the body at the region's plane
    (on `rest_vertices`, default the fitted shape) less the body's tape girth there; a bottom's waist is its
    waistband's length less the body's waist girth (where it would sit; a band that slides down is loose).
    `length`: the hem's position in cm past its landmark (tops: below the crotch, bottoms and dresses: below
    the knee; negative = above). Sleeve: the tape girth of the sleeve round the upper arm."""
    g = np.asarray(garment_vertices, dtype=np.float64)
    rest = g if rest_vertices is None else np.asarray(rest_vertices, dtype=np.float64)
    group = type_group(garment_type)
    loops = _loops_by_height(g, faces)
    hem_z = float(g[loops[0], 2].mean()) if loops else float(g[:, 2].min())
    top_z = float(g[:, 2].max())
    out: dict[str, float] = {}
    regions = ("waist", "hip") if group == "bottom" else ("chest", "waist", "hip", "sleeve")
    for region in regions:
        point, normal = planes.planes[region]
        if group == "bottom" and region == "waist" and loops:
            out[region] = round(100 * (loop_length(rest, loops[-1]) - planes.girths_m[region]), 2)
            continue
        if region == "chest":
            cloth = [(cloth_girth(g, faces, rest, p, UP), body_g) for p, body_g in planes.chest_planes]
            eases = [c - b for (c, b), (p, _) in zip(cloth, planes.chest_planes, strict=True) if c > 0]
            if eases:
                out[region] = round(100 * min(eases), 2)
            continue
        if region == "sleeve":
            garment_g = girth_at(g, faces, point, normal, max_gap_m=0.08, radius_m=SLEEVE_RADIUS_M)
        elif hem_z + 0.01 < point[2] < top_z - 0.01:
            garment_g = cloth_girth(g, faces, rest, point, normal)
        else:
            continue  # the garment does not reach this height
        if garment_g > 0:
            out[region] = round(100 * (garment_g - planes.girths_m[region]), 2)
    landmark_z = planes.crotch_z if group in ("top", "outerwear") else planes.knee_z
    out["length"] = round(100 * (landmark_z - hem_z), 2)
    return out

"""Put an imported garment in the project's frame: metres, Z up, centred on the origin. Units and up-axis are
guessed from the shape of a plausible garment (size, and the planes of its openings) and every change is
recorded for the report."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.garment.repair import merge_duplicate_vertices
from pipeline.core.topology import boundary_loops, loop_perimeter, loop_size

UNIT_SCALES = {"mm": 0.001, "cm": 0.01, "dm": 0.1, "m": 1.0}
TYPICAL_SIZE_M = 0.8  # the largest bounding-box side of a typical garment
PLAUSIBLE_SIZE_M = (0.15, 2.5)
AXES = {"x": 0, "y": 1, "z": 2}


def detect_units(vertices: np.ndarray) -> tuple[str, bool]:
    """The unit (mm/cm/dm/m) that makes the garment's largest side closest to a typical garment; plausible?"""
    size = float(np.ptp(vertices, axis=0).max())
    if not math.isfinite(size) or size <= 0:
        raise UserError("the garment has no extent (all vertices at one point, or NaN coordinates)")
    best = min(UNIT_SCALES, key=lambda u: abs(math.log(size * UNIT_SCALES[u] / TYPICAL_SIZE_M)))
    lo, hi = PLAUSIBLE_SIZE_M
    return best, lo <= size * UNIT_SCALES[best] <= hi


def detect_up_axis(mesh: GarmentMesh, loops: list[np.ndarray] | None = None) -> tuple[str, str]:
    """Guess the up axis ('+z', '-y', ...) from the planes of the garment's large openings; and why.

    Openings (neck, hem, waist, cuffs) lie across the up axis. When that is Z the importer's sign is kept
    (Blender's importers already map the file's up axis to +Z); otherwise the bottom is the end with more
    openings (trouser legs) or the widest one (a hem). Without openings (a closed scan) Z up is kept.
    """
    loops = boundary_loops(mesh.faces) if loops is None else loops
    if not loops:
        return "+z", "no openings to judge by: kept Z up"
    perims = np.array([loop_perimeter(mesh.vertices, lp) for lp in loops])
    big = [i for i in range(len(loops)) if perims[i] >= 0.25 * perims.max()]
    normals = {i: _plane_normal(mesh.vertices[loops[i]]) for i in big}
    score = sum(perims[i] * np.abs(normals[i]) for i in big)
    axis = int(np.argmax(score))
    if score[axis] < 0.5 * score.sum():
        return "+z", "openings give no clear up axis: kept Z up"
    name = "xyz"[axis]
    if axis == 2:
        return "+z", "openings lie across Z: the file's up axis is right"
    # The bottom end holds more openings across the axis (trouser legs) or, as many, the widest (a hem).
    across = [i for i in big if abs(normals[i][axis]) > 0.7]
    centre = 0.5 * (mesh.vertices[:, axis].min() + mesh.vertices[:, axis].max())
    low = [i for i in across if mesh.vertices[loops[i], axis].mean() < centre]
    high = [i for i in across if i not in low]
    if len(low) != len(high):
        low_is_bottom = len(low) > len(high)
    else:
        low_is_bottom = max((perims[i] for i in low), default=0) >= max((perims[i] for i in high), default=0)
    sign = "+" if low_is_bottom else "-"
    return f"{sign}{name}", f"openings lie across {name.upper()}; the hem end is taken as the bottom"


def _plane_normal(points: np.ndarray) -> np.ndarray:
    return np.linalg.svd(points - points.mean(axis=0), full_matrices=False)[2][-1]


def detect_front(
    mesh: GarmentMesh, min_tilt: float = 0.1, loops: list[np.ndarray] | None = None
) -> tuple[float, str]:
    """Turn about Z (degrees, a multiple of 90) that makes the garment face -Y, and why.

    A neckline or waistband dips at the front: the lowest point of the top opening shows where the front
    is, when that opening is tilted by at least `min_tilt` of its width. Otherwise nothing is turned.
    """
    loops = boundary_loops(mesh.faces) if loops is None else loops
    loops = [lp for lp in loops if loop_size(mesh.vertices, lp) > 0.05]
    if not loops:
        return 0.0, "no openings: front kept"
    top = max(loops, key=lambda lp: mesh.vertices[lp, 2].mean())
    pts = mesh.vertices[top]
    centre = pts.mean(axis=0)
    lowest = pts[np.argmin(pts[:, 2])]
    if centre[2] - lowest[2] < min_tilt * loop_size(mesh.vertices, top):
        return 0.0, "top opening is level: front kept"
    facing = math.degrees(math.atan2(lowest[1] - centre[1], lowest[0] - centre[0]))  # -90 = facing -Y
    turn = (round((-90.0 - facing) / 90.0) * 90.0) % 360.0
    if turn == 0.0:
        return 0.0, "the top opening dips towards -Y: already facing -Y"
    return turn, f"the top opening dips towards {_heading(facing)}: turned {turn:.0f} degrees to face -Y"


def _heading(degrees: float) -> str:
    return {0: "+X", 90: "+Y", 180: "-X", 270: "-Y"}[int(round(degrees / 90.0) * 90) % 360]


def rotation_to_z_up(up: str) -> np.ndarray:
    """The rotation taking axis `up` (e.g. '+y') onto +Z, keeping a right-handed frame."""
    sign = -1.0 if up[0] == "-" else 1.0
    a = AXES[up[1]]
    if a == 2:
        return np.diag([1.0, sign, sign])  # -z up: turn half round X
    src = np.zeros(3)
    src[a] = sign
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(src, z)
    axis /= np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + k + k @ k  # Rodrigues for a 90-degree turn


def normalise_garment(
    mesh: GarmentMesh, units: str = "auto", up: str = "auto", centre: bool = True, front: str = "auto"
) -> tuple[GarmentMesh, dict]:
    """Scale to metres, rotate to Z up (and facing -Y), centre the bounding box on the origin; return what
    changed. `front="keep"` leaves the heading alone."""
    out = mesh.copy()
    record: dict = {"warnings": []}
    if units == "auto":
        unit, plausible = detect_units(out.vertices)
        record["units_detected"] = unit
        if not plausible:
            size = float(np.ptp(out.vertices, axis=0).max()) * UNIT_SCALES[unit]
            record["warnings"].append(
                f"garment size {size:.2f} m is implausible even in {unit}: check the units"
            )
    elif units in UNIT_SCALES:
        unit = units
    else:
        raise UserError(f"--units must be auto, mm, cm, dm or m, not {units!r}")
    scale = UNIT_SCALES[unit]
    record["units"] = unit
    record["scale"] = scale
    if scale != 1.0:
        out.vertices = out.vertices * scale
    # Judge axes on a welded copy (scans with split vertices have broken boundary loops), finding loops once.
    probe = loops = None
    if up == "auto" or front == "auto":
        probe, _ = merge_duplicate_vertices(out, tolerance_m=1e-6 * float(np.ptp(out.vertices, axis=0).max()))
        probe = dataclasses.replace(probe)  # its own object even when nothing merged (it may be `out`)
        loops = boundary_loops(probe.faces)
    if up == "auto":
        up_axis, why = detect_up_axis(probe, loops)
        record["up_reason"] = why
    elif len(up) == 2 and up[0] in "+-" and up[1] in AXES:
        up_axis = up
    elif up in AXES:
        up_axis = "+" + up
    else:
        raise UserError(f"--up must be auto or one of +x -x +y -y +z -z, not {up!r}")
    record["up_axis"] = up_axis
    rot = rotation_to_z_up(up_axis)
    if up_axis != "+z":
        out.vertices = out.vertices @ rot.T  # a proper rotation: windings stay valid
    if front == "auto":
        turned = dataclasses.replace(probe, vertices=probe.vertices @ rot.T)
        turn, why = detect_front(turned, loops=loops)
        record["front_reason"] = why
        if turn:
            c, s_ = round(math.cos(math.radians(turn))), round(math.sin(math.radians(turn)))
            spin = np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])
            out.vertices = out.vertices @ spin.T
            rot = spin @ rot
        record["front_turn_deg"] = turn
    elif front != "keep":
        raise UserError(f"--front must be auto or keep, not {front!r}")
    record["rotation"] = rot.round(6).tolist()
    offset = np.zeros(3)
    if centre:
        offset = -0.5 * (out.vertices.min(axis=0) + out.vertices.max(axis=0))
        out.vertices = out.vertices + offset
    record["translation_m"] = [round(float(x), 6) for x in offset]
    record["size_m"] = [round(float(x), 4) for x in np.ptp(out.vertices, axis=0)]
    return out, record

"""Sewing patterns: 2D panel outlines (T-shirt, skirt) sized from a body's landmarks, triangulated, with
UVs = pattern coordinates in metres, sewn at their seams into one welded mesh with open neck/hem/cuff loops."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from matplotlib.path import Path as MplPath
from scipy.spatial import Delaunay

from pipeline.fit.landmarks import Landmarks, body_landmarks, girth_m

OPEN_EDGES = ("hem", "neck", "cuff_l", "cuff_r", "waist")


@dataclasses.dataclass
class Panel:
    """One pattern piece: a closed outline as labelled segments (CCW seen from the panel's outer side)."""

    name: str
    segments: list[tuple[str, np.ndarray]]  # (label, (n, 2) polyline in metres: x across, z up)
    side: str = "front"  # which way its outer face looks: front (-Y) or back (+Y)


@dataclasses.dataclass
class SewnGarment:
    """A sewn pattern: welded mesh (flat layout in x/z, panel per vertex) plus the pattern for reference."""

    vertices2d: np.ndarray  # (V, 2) position in the frontal layout (x, z), metres
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (T, 2) pattern coordinates, metres, panels side by side
    face_uv: np.ndarray  # (F, 3)
    vertex_side: np.ndarray  # (V,) +1 front panel, -1 back panel, 0 seam (shared)
    panels: list[Panel]
    kind: str


def _polyline(*pts) -> np.ndarray:
    return np.asarray(pts, dtype=np.float64)


def _arc(p0, p1, depth: float, n: int = 12) -> np.ndarray:
    """A smooth neckline from p0 to p1 dipping `depth` below their chord, mid-point at x=0."""
    t = np.linspace(0, 1, n)
    x = p0[0] + (p1[0] - p0[0]) * t
    zc = p0[1] + (p1[1] - p0[1]) * t
    return np.stack([x, zc - depth * np.sin(np.pi * t) ** 0.8], axis=1)


def _mirror(poly: np.ndarray) -> np.ndarray:
    out = poly[::-1].copy()
    out[:, 0] *= -1
    return out


# ---------------------------------------------------------------- T-shirt


@dataclasses.dataclass
class TShirtSpec:
    """Measurements of a T-shirt pattern (metres), derived from a body with ease."""

    hem_z: float
    hem_half_w: float
    chest_half_w: float
    armpit_z: float
    shoulder: tuple[float, float]  # shoulder joint (x, z) on the model's left side
    arm_angle_rad: float  # sleeve axis below the horizontal
    sleeve_half_w: float
    sleeve_len: float
    neck_half_w: float
    neck_z: float
    front_neck_drop: float
    back_neck_drop: float
    shoulder_tip: tuple[float, float]


def tshirt_spec(body, ease_m: float = 0.10, lm: Landmarks | None = None, shoulder_allowance_m: float = 0.045) -> TShirtSpec:
    """A regular-fit T-shirt for `body`: chest girth + `ease_m`, hem at the high hip, short sleeves."""
    lm = lm or body_landmarks(body)
    chest = max(girth_m(body, z) for z in np.linspace(lm.chest_z - 0.06, lm.chest_z + 0.02, 5))
    hem_z = lm.crotch_z + 0.07
    hip = max(girth_m(body, z) for z in np.linspace(hem_z, hem_z + 0.1, 5))
    s = lm.shoulder_l
    e = lm.elbow_l
    angle = math.atan2(s[2] - e[2], e[0] - s[0])
    arm_len = float(np.linalg.norm(e - s))
    neck_hw = lm.neck_half_width_m + 0.02
    v = body.vertices
    head_free = v[(np.abs(v[:, 0] - (neck_hw + 0.005)) < 0.01) & (v[:, 2] < lm.neck_base[2] + 0.06)]
    neck_z = float(head_free[:, 2].max()) + 0.012 if len(head_free) else lm.shoulder_top_z + 0.04
    # the panels go up and over the shoulder: add the extra surface length a frontal outline lacks
    over = shoulder_allowance_m
    return TShirtSpec(
        hem_z=hem_z,
        hem_half_w=(hip + ease_m) / 4,
        chest_half_w=(chest + ease_m) / 4,
        armpit_z=lm.armpit_z - 0.05,
        shoulder=(float(s[0]), float(s[2])),
        arm_angle_rad=angle,
        sleeve_half_w=0.088,
        sleeve_len=0.8 * arm_len,
        neck_half_w=neck_hw,
        neck_z=neck_z + over,
        front_neck_drop=0.075,
        back_neck_drop=0.02,
        shoulder_tip=(float(s[0]) + 0.03, lm.shoulder_top_z + 0.015 + 0.6 * over),
    )


def tshirt_panels(spec: TShirtSpec) -> list[Panel]:
    """Front and back panels of a kimono-sleeve T-shirt (sleeves cut on, overarm seam = shoulder seam)."""
    d = np.array([math.cos(spec.arm_angle_rad), -math.sin(spec.arm_angle_rad)])  # along the arm
    n = np.array([-d[1], d[0]])  # across the arm, pointing up/out
    if n[1] < 0:
        n = -n
    s = np.array(spec.shoulder)
    under0 = s - spec.sleeve_half_w * n
    # armpit corner: where the underarm line meets the side seam x = chest_half_w
    t_pit = (spec.chest_half_w - under0[0]) / d[0]
    armpit = np.array([spec.chest_half_w, under0[1] + d[1] * t_pit])
    armpit[1] = min(armpit[1], spec.armpit_z)
    t_end = spec.sleeve_len
    cuff_under = s - spec.sleeve_half_w * 0.92 * n + t_end * d
    cuff_over = s + spec.sleeve_half_w * 0.92 * n + t_end * d
    over0 = np.array(spec.shoulder_tip)
    neck_side = np.array([spec.neck_half_w, spec.neck_z])
    side_l = _polyline((spec.hem_half_w, spec.hem_z), (spec.chest_half_w, armpit[1] - 0.06), armpit)
    under_l = _polyline(armpit, cuff_under)
    cuff_l = _polyline(cuff_under, cuff_over)
    over_l = _polyline(cuff_over, over0, neck_side)
    panels = []
    for name, drop in (("front", spec.front_neck_drop), ("back", spec.back_neck_drop)):
        neck = _arc(neck_side, neck_side * [-1, 1], drop)
        segs = [
            ("hem", _polyline((-spec.hem_half_w, spec.hem_z), (spec.hem_half_w, spec.hem_z))),
            ("side_l", side_l),
            ("under_l", under_l),
            ("cuff_l", cuff_l),
            ("over_l", over_l),
            ("neck", neck),
            ("over_r", _mirror(over_l)),
            ("cuff_r", _mirror(cuff_l)),
            ("under_r", _mirror(under_l)),
            ("side_r", _mirror(side_l)),
        ]
        panels.append(Panel(name, segs, side=name))
    return panels


# ---------------------------------------------------------------- skirt


@dataclasses.dataclass
class SkirtSpec:
    waist_z: float
    waist_half_w: float
    hip_z: float
    hip_half_w: float
    hem_z: float
    hem_half_w: float


def skirt_spec(body, ease_m: float = 0.04, flare: float = 1.5, lm: Landmarks | None = None) -> SkirtSpec:
    """An A-line skirt from the waist to just above the knee; `flare` = hem width over hip width."""
    lm = lm or body_landmarks(body)
    waist_z = lm.waist_z - 0.03
    waist = girth_m(body, waist_z)
    zs = np.linspace(lm.crotch_z, lm.waist_z - 0.04, 10)
    g = [girth_m(body, z) for z in zs]
    hip_i = int(np.argmax(g))
    hem_z = lm.knee_z + 0.08
    return SkirtSpec(
        waist_z=waist_z,
        waist_half_w=(waist + 0.02) / 4,
        hip_z=float(zs[hip_i]),
        hip_half_w=(g[hip_i] + ease_m) / 4,
        hem_z=hem_z,
        hem_half_w=(g[hip_i] + ease_m) / 4 * flare,
    )


def skirt_panels(spec: SkirtSpec) -> list[Panel]:
    """Front and back panels of an A-line skirt, sewn at both sides; waist and hem open."""
    t = np.linspace(0, 1, 6)
    curve = np.stack([spec.waist_half_w + (spec.hip_half_w - spec.waist_half_w) * np.sin(t * np.pi / 2),
                      spec.waist_z + (spec.hip_z - spec.waist_z) * t], 1)
    side_l = np.vstack([_polyline((spec.hem_half_w, spec.hem_z)), curve[::-1]])
    panels = []
    for name in ("front", "back"):
        segs = [
            ("hem", _polyline((-spec.hem_half_w, spec.hem_z), (spec.hem_half_w, spec.hem_z))),
            ("side_l", side_l),
            ("waist", _polyline((spec.waist_half_w, spec.waist_z), (-spec.waist_half_w, spec.waist_z))),
            ("side_r", _mirror(side_l)),
        ]
        panels.append(Panel(name, segs, side=name))
    return panels


# ---------------------------------------------------------------- triangulate and sew


def _resample(poly: np.ndarray, h: float) -> np.ndarray:
    """Points along a polyline at spacing about h, keeping its end points (and corners)."""
    out = [poly[0]]
    for a, b in zip(poly[:-1], poly[1:], strict=True):
        n = max(1, int(math.ceil(np.linalg.norm(b - a) / h)))
        t = np.linspace(0, 1, n + 1)[1:]
        out.extend(a + (b - a) * t[:, None])
    return np.asarray(out)


def triangulate_panel(panel: Panel, h: float):
    """Boundary samples + a hexagonal interior grid, Delaunay, triangles outside the outline dropped.

    Returns (points (n, 2), triangles (m, 3), seam_flags (n,) True where the point lies on a sewn seam).
    """
    pts, seam = [], []
    for label, poly in panel.segments:
        r = _resample(poly, h)[:-1]  # the next segment starts where this one ends
        pts.append(r)
        is_seam = label not in OPEN_EDGES
        flags = np.full(len(r), is_seam)
        if not is_seam:
            flags[0] = False
        seam.append(flags)
    boundary = np.vstack(pts)
    seam_flags = np.concatenate(seam)
    # a corner point belongs to a seam if either adjacent segment is a seam
    starts = np.cumsum([0] + [len(p) for p in pts[:-1]])
    labels = [lab for lab, _ in panel.segments]
    for i, st in enumerate(starts):
        prev_seam = labels[i - 1] not in OPEN_EDGES
        seam_flags[st] = (labels[i] not in OPEN_EDGES) or prev_seam
    outline = MplPath(np.vstack([boundary, boundary[:1]]))
    lo, hi = boundary.min(0), boundary.max(0)
    dy = h * math.sqrt(3) / 2
    grid = []
    for j, z in enumerate(np.arange(lo[1] + dy / 2, hi[1], dy)):
        xs = np.arange(lo[0] + (h / 2 if j % 2 else 0), hi[0], h)
        grid.append(np.stack([xs, np.full_like(xs, z)], 1))
    grid = np.vstack(grid)
    inside = outline.contains_points(grid)
    grid = grid[inside]
    # keep interior points away from the boundary so no sliver triangles form
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(boundary).query(grid)
    grid = grid[dist > 0.6 * h]
    points = np.vstack([boundary, grid])
    tri = Delaunay(points).simplices
    cent = points[tri].mean(1)
    keep = outline.contains_points(cent)
    tri = tri[keep]
    # orient counter-clockwise in (x, z)
    a, b, c = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    cross = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
    tri = np.where((cross < 0)[:, None], tri[:, [0, 2, 1]], tri)
    tri = tri[np.abs(cross) > 1e-10]
    flags = np.concatenate([seam_flags, np.zeros(len(grid), bool)])
    return points, tri, flags


def sew(panels: list[Panel], h: float, kind: str) -> SewnGarment:
    """Triangulate every panel and weld the points of matching seams into one mesh."""
    verts: list[np.ndarray] = []
    side: list[int] = []
    key_to_index: dict[tuple[int, int], int] = {}
    faces, uv, face_uv = [], [], []
    u_offset = 0.0
    for panel in panels:
        pts, tri, seam = triangulate_panel(panel, h)
        local = np.empty(len(pts), dtype=np.int64)
        sgn = 1 if panel.side == "front" else -1
        for i, (p, s) in enumerate(zip(pts, seam, strict=True)):
            key = (round(p[0] * 1e5), round(p[1] * 1e5))
            if s and key in key_to_index:
                local[i] = key_to_index[key]
                side[local[i]] = 0
                continue
            local[i] = len(verts)
            verts.append(p)
            side.append(sgn)
            if s:
                key_to_index[key] = local[i]
        lo = pts.min(0)
        uv_local = pts - lo + [u_offset, 0.0]
        base = sum(len(x) for x in uv)
        uv.append(uv_local)
        u_offset += float(np.ptp(pts[:, 0])) + 0.05
        f = local[tri]
        fu = tri + base
        if panel.side == "back":  # back panels face +Y: flip winding
            f, fu = f[:, [0, 2, 1]], fu[:, [0, 2, 1]]
        faces.append(f)
        face_uv.append(fu)
    return SewnGarment(
        vertices2d=np.asarray(verts),
        faces=np.vstack(faces),
        uv=np.vstack(uv),
        face_uv=np.vstack(face_uv),
        vertex_side=np.asarray(side),
        panels=panels,
        kind=kind,
    )


def pattern_rest_lengths(sewn: SewnGarment, edges: np.ndarray) -> np.ndarray:
    """Rest length of each mesh edge measured on the flat pattern (via the per-corner UVs)."""
    lookup: dict[tuple[int, int], float] = {}
    for f, fu in zip(sewn.faces, sewn.face_uv, strict=True):
        for k in range(3):
            a, b = f[k], f[(k + 1) % 3]
            la = float(np.linalg.norm(sewn.uv[fu[k]] - sewn.uv[fu[(k + 1) % 3]]))
            lookup[(min(a, b), max(a, b))] = la
    return np.array([lookup[(min(a, b), max(a, b))] for a, b in edges])

"""Sewing patterns: 2D panel outlines (T-shirt, skirt) sized from a body's landmarks, triangulated, with
UVs = pattern coordinates in metres, sewn at their seams into one welded mesh with open neck/hem/cuff loops."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from matplotlib.path import Path as MplPath
from scipy.spatial import Delaunay

from pipeline.core.fit.landmarks import Landmarks, body_landmarks, girth_m

OPEN_EDGES = ("hem", "neck", "cuff_l", "cuff_r", "waist")
SAME_SIDE_SEAMS = ("armhole_l", "armhole_r")  # sewn to a sleeve cap on the same side, not front to back


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
    panels: list
    kind: str
    vertex_panel: np.ndarray | None = None  # (V,) index of the panel that made each vertex
    uv_panel: np.ndarray | None = (
        None  # (T,) index of the panel of each UV point (the unwelded panel vertices)
    )


def _polyline(*pts) -> np.ndarray:
    return np.asarray(pts, dtype=np.float64)


def _arc(p0, p1, depth: float, n: int = 12) -> np.ndarray:
    """A smooth, round (crew) neckline from p0 to p1 dipping `depth` below their chord, mid-point at x=0."""
    t = np.linspace(0, 1, n)
    x = p0[0] + (p1[0] - p0[0]) * t
    zc = p0[1] + (p1[1] - p0[1]) * t
    return np.stack([x, zc - depth * np.sin(np.pi * t) ** 0.6], axis=1)


def _mirror(poly: np.ndarray) -> np.ndarray:
    out = poly[::-1].copy()
    out[:, 0] *= -1
    return out


# ---------------------------------------------------------------- T-shirt


@dataclasses.dataclass
class TShirtSpec:
    """Measurements of a set-in-sleeve T-shirt pattern (metres), derived from a body with ease."""

    hem_z: float
    hem_half_w: float
    chest_half_w: float
    armpit: tuple[float, float]  # (x, z) where side seam, armhole and underarm seam meet (model's left)
    shoulder_point: tuple[float, float]  # (x, z) end of the shoulder seam at the arm (top of the sleeve cap)
    shoulder: tuple[float, float]  # shoulder joint (x, z)
    arm_angle_rad: float  # arm axis below the horizontal (the sleeves are laid out along it)
    bicep_half_w: float  # half the sleeve's flat width at the cap base (front or back half of the sleeve)
    cuff_half_w: float
    sleeve_under_len: float  # underarm seam length
    neck_half_w: float
    neck_z: float
    front_neck_drop: float
    back_neck_drop: float


def arm_girth_m(body, lm: Landmarks, from_shoulder_m: float = 0.09) -> float:
    """Convex-hull girth of the left upper arm, cut across the arm axis `from_shoulder_m` from the joint."""
    from scipy.spatial import ConvexHull

    from pipeline.core.fit.landmarks import dominant_bone_masks

    d = lm.arm_direction("l")
    pts = body.vertices[dominant_bone_masks(body)["arm"] & (body.vertices[:, 0] > 0)] - lm.shoulder_l
    along = pts @ d
    sl = pts[np.abs(along - from_shoulder_m) < 0.008]
    if len(sl) < 8:
        return 0.28
    u = np.cross(d, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    w = np.cross(d, u)
    return float(ConvexHull(np.c_[sl @ u, sl @ w]).area)


# The tee's hem over the hip (the tape's girth, legs in): at 6 cm the heavy body's hem still ended 1.2 % stretched
# round its spread thighs (hoop strain 1.012), at 10 cm neither sample body's does (0.994 / 1.000)
HIP_EASE_M = 0.10


def tshirt_spec(
    body,
    ease_m: float = 0.07,
    lm: Landmarks | None = None,
    shoulder_allowance_m: float = 0.045,
    sleeve_ease_m: float = 0.06,
    hip_ease_m: float = HIP_EASE_M,
) -> TShirtSpec:
    """A regular-fit crew-neck T-shirt for `body`: chest girth + `ease_m`, set-in short sleeves (upper-arm
    girth + `sleeve_ease_m`), the shoulder seam along the body's shoulder slope, and straight side seams from
    the underarm to a hem at the high hip as wide as the chest, widened (flared) only where the hip plus
    `hip_ease_m` needs more, so the hem never ends stretched round the hips (the spare width is there to fall
    into folds; the panel drape hangs it as a loose, nearly straight tube with few of them). The hip is the
    tape's (torso and legs, `girth_m(part="hips")`) over the band the hem can reach once the tee hangs (it
    hangs about 3 cm under its draft on the sample bodies)."""
    lm = lm or body_landmarks(body)
    chest = max(girth_m(body, z) for z in np.linspace(lm.chest_z - 0.06, lm.chest_z + 0.02, 5))
    hem_z = lm.crotch_z + 0.07
    hip = max(girth_m(body, z, part="hips") for z in np.linspace(hem_z - 0.06, hem_z + 0.1, 9))
    s = lm.shoulder_l
    e = lm.elbow_l
    angle = math.atan2(s[2] - e[2], e[0] - s[0])
    neck_hw = lm.neck_half_width_m + 0.02
    v = body.vertices
    head_free = v[(np.abs(v[:, 0] - (neck_hw + 0.005)) < 0.01) & (v[:, 2] < lm.neck_base[2] + 0.06)]
    neck_z = float(head_free[:, 2].max()) + 0.012 if len(head_free) else lm.shoulder_top_z + 0.04
    # the shoulder point sits on the body's own shoulder line at the acromion, a little outside the joint
    sp_x = float(s[0]) + 0.03
    top = v[np.abs(v[:, 0] - sp_x) < 0.006]
    sp_z = float(top[:, 2].max()) if len(top) else lm.shoulder_top_z
    # the panels go up and over the shoulder: add the extra surface length a frontal outline lacks
    over = shoulder_allowance_m
    bicep = arm_girth_m(body, lm)
    chest_half_w = (chest + ease_m) / 4
    return TShirtSpec(
        hem_z=hem_z,
        hem_half_w=max((hip + hip_ease_m) / 4, chest_half_w),
        chest_half_w=chest_half_w,
        armpit=(chest_half_w, lm.armpit_z - 0.025),
        shoulder_point=(sp_x, sp_z + 0.01 + 0.6 * over),
        shoulder=(float(s[0]), float(s[2])),
        arm_angle_rad=angle,
        bicep_half_w=(bicep + sleeve_ease_m) / 2,
        cuff_half_w=(bicep + sleeve_ease_m) / 2 - 0.012,
        sleeve_under_len=0.11,
        neck_half_w=neck_hw,
        neck_z=neck_z + over,
        front_neck_drop=0.065,
        back_neck_drop=0.02,
    )


@dataclasses.dataclass
class SleevePanel:
    """Half a set-in sleeve (front or back of the arm) as a ruled grid between its cap and its cuff: laid out
    along the arm in the frontal layout (cap = the body's armhole there), cut as a flat sleeve pattern."""

    name: str
    side: str  # front or back
    armhole: np.ndarray  # (n, 2) layout: armpit -> shoulder point (the body panel's armhole segment)
    cuff_layout: np.ndarray  # (2, 2) layout: underarm end, overarm end
    bicep_half_w: float
    cuff_half_w: float
    under_len: float
    cuff_label: str

    @functools.cached_property
    def cap_height(self) -> float:
        """Cap height that makes the cap curve as long as the armhole it is sewn to (found once: the pattern
        asks for it at every point it places)."""
        target = float(np.linalg.norm(np.diff(self.armhole, axis=0), axis=1).sum())
        lo, hi = 0.0, target
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _length(self._cap(mid)) < target else (lo, mid)
        return (lo + hi) / 2

    def _cap(self, cap_h: float, n: int = 64) -> np.ndarray:
        t = np.linspace(0, 1, n)
        return np.stack([self.bicep_half_w * t, cap_h * (3 * t**2 - 2 * t**3)], 1)

    def pattern(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Flat pattern position of grid parameters s (0 underarm .. 1 overarm) and t (0 cap .. 1 cuff)."""
        cap_h = self.cap_height
        cap = np.stack([self.bicep_half_w * s, cap_h * (3 * s**2 - 2 * s**3)], -1)
        x0 = self.bicep_half_w - self.cuff_half_w
        cuff = np.stack([x0 + self.cuff_half_w * s, np.full_like(s, -self.under_len)], -1)
        return cap * (1 - t[..., None]) + cuff * t[..., None]

    @property
    def segments(self) -> list[tuple[str, np.ndarray]]:
        s = np.linspace(0, 1, 9)
        return [
            ("cap", self.pattern(s, np.zeros_like(s))),
            ("under", self.pattern(np.zeros(2), np.array([0.0, 1.0]))),
            (self.cuff_label, self.pattern(s, np.ones_like(s))),
            ("over", self.pattern(np.ones(2), np.array([1.0, 0.0]))),
        ]

    def mesh(self, h: float):
        """(layout points, pattern points, triangles, cross-side seam flags, same-side seam flags)."""
        cap = _resample(self.armhole, h)
        ns = len(cap) - 1
        s_cap = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(cap, axis=0), axis=1))]
        s_cap /= s_cap[-1]
        over_len = float(np.linalg.norm(self.cuff_layout[1] - cap[-1]))
        nt = max(2, int(math.ceil(over_len / h)))
        t = np.linspace(0, 1, nt + 1)
        tt, ii = np.meshgrid(t, np.arange(ns + 1), indexing="ij")  # (nt+1, ns+1)
        ss = s_cap[ii]
        cuff = self.cuff_layout[0] + (self.cuff_layout[1] - self.cuff_layout[0]) * ss[..., None]
        layout = cap[ii] * (1 - tt[..., None]) + cuff * tt[..., None]
        layout[0] = cap  # exactly the armhole's points, so they weld
        pattern = self.pattern(ss, tt)
        idx = np.arange((nt + 1) * (ns + 1)).reshape(nt + 1, ns + 1)
        a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
        tri = np.vstack([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
        pts = layout.reshape(-1, 2)
        flat = pattern.reshape(-1, 2)
        # orient by the flat pattern (a proper grid) rather than the layout, which folds over itself near the
        # armpit: all triangles the same way round, then the whole piece turned to run counter-clockwise in the
        # layout (as the body panels do) where most of it does
        tri = np.where((_cross2d(flat[tri]) < 0)[:, None], tri[:, [0, 2, 1]], tri)
        if (_cross2d(pts[tri]) < 0).sum() > len(tri) / 2:
            tri = tri[:, [0, 2, 1]]
        cross_seam = np.zeros(idx.shape, bool)
        cross_seam[:, 0] = cross_seam[:, -1] = True  # underarm and overarm seams (sleeve front to back)
        same_seam = np.zeros(idx.shape, bool)
        same_seam[0, 1:-1] = True  # the cap, sewn to this side's armhole
        return pts, flat, tri, cross_seam.ravel(), same_seam.ravel()


def _cross2d(p: np.ndarray) -> np.ndarray:
    """z of the cross product of each triangle's two edges, for (m, 3, 2) corner points."""
    a, b = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]


def _length(poly: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(poly, axis=0), axis=1).sum())


def _bezier(p0, p1, p2, n: int = 10) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


def tshirt_panels(spec: TShirtSpec) -> list:
    """Front and back body panels (armholes, shoulder seams along the body's slope, crew neck) and four
    half sleeves laid out along the A-pose arms, each cap sewn to its side's armhole."""
    d = np.array([math.cos(spec.arm_angle_rad), -math.sin(spec.arm_angle_rad)])  # along the arm
    n = np.array([-d[1], d[0]])  # across the arm, pointing up/out
    if n[1] < 0:
        n = -n
    a = np.array(spec.armpit)
    sp = np.array(spec.shoulder_point)
    armhole = _bezier(a, (sp[0] + 0.004, a[1] + 0.35 * (sp[1] - a[1])), sp)
    neck_side = np.array([spec.neck_half_w, spec.neck_z])
    side_l = _polyline((spec.hem_half_w, spec.hem_z), (spec.chest_half_w, a[1] - 0.08), a)
    shoulder_l = _polyline(sp, neck_side)
    # the sleeve's layout: cap on the armhole, cuff across the arm axis one sleeve length out
    joint = np.array(spec.shoulder)
    out = float((sp - joint) @ d) + spec.sleeve_under_len + 0.06
    centre = joint + out * d
    half = 0.055
    cuff_layout = np.stack([centre - half * n, centre + half * n])
    panels: list = []
    for name, drop in (("front", spec.front_neck_drop), ("back", spec.back_neck_drop)):
        neck = _arc(neck_side, neck_side * [-1, 1], drop)
        segs = [
            ("hem", _polyline((-spec.hem_half_w, spec.hem_z), (spec.hem_half_w, spec.hem_z))),
            ("side_l", side_l),
            ("armhole_l", armhole),
            ("shoulder_l", shoulder_l),
            ("neck", neck),
            ("shoulder_r", _mirror(shoulder_l)),
            ("armhole_r", _mirror(armhole)),
            ("side_r", _mirror(side_l)),
        ]
        panels.append(Panel(name, segs, side=name))
    for side in ("front", "back"):
        for lr, sign in (("l", 1.0), ("r", -1.0)):
            flip = np.array([sign, 1.0])
            panels.append(
                SleevePanel(
                    f"sleeve_{lr}_{side}",
                    side,
                    armhole * flip,
                    cuff_layout * flip,
                    spec.bicep_half_w,
                    spec.cuff_half_w,
                    spec.sleeve_under_len,
                    f"cuff_{lr}",
                )
            )
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
    # the waistband sits snugly at the narrowest part of the waist, so it has something to hang from
    levels = np.arange(lm.waist_z - 0.06, lm.waist_z + 0.011, 0.005)
    girths = [girth_m(body, z) for z in levels]
    waist_z = float(levels[int(np.argmin(girths))])
    waist = min(girths)
    zs = np.linspace(lm.crotch_z, lm.waist_z - 0.04, 10)
    g = [girth_m(body, z) for z in zs]
    hip_i = int(np.argmax(g))
    hem_z = lm.knee_z + 0.08
    return SkirtSpec(
        waist_z=waist_z,
        waist_half_w=(waist + 0.01) / 4,
        hip_z=float(zs[hip_i]),
        hip_half_w=(g[hip_i] + ease_m) / 4,
        hem_z=hem_z,
        hem_half_w=(g[hip_i] + ease_m) / 4 * flare,
    )


def skirt_panels(spec: SkirtSpec) -> list[Panel]:
    """Front and back panels of an A-line skirt, sewn at both sides; waist and hem open."""
    t = np.linspace(0, 1, 6)
    curve = np.stack(
        [
            spec.waist_half_w + (spec.hip_half_w - spec.waist_half_w) * np.sin(t * np.pi / 2),
            spec.waist_z + (spec.hip_z - spec.waist_z) * t,
        ],
        1,
    )
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

    Returns (points (n, 2), triangles (m, 3), seam_flags (n,) True where the point lies on a seam sewn front to
    back, same_flags (n,) True where it lies on a seam sewn to another piece on the same side: an armhole).
    """
    pts, seam, same = [], [], []
    for label, poly in panel.segments:
        r = _resample(poly, h)[:-1]  # the next segment starts where this one ends
        pts.append(r)
        is_seam = label not in OPEN_EDGES and label not in SAME_SIDE_SEAMS
        flags = np.full(len(r), is_seam)
        if not is_seam:
            flags[0] = False
        seam.append(flags)
        same.append(np.full(len(r), label in SAME_SIDE_SEAMS))
    boundary = np.vstack(pts)
    seam_flags = np.concatenate(seam)
    same_flags = np.concatenate(same)
    # a corner point belongs to a front-to-back seam if either adjacent segment is one (then it welds there)
    starts = np.cumsum([0] + [len(p) for p in pts[:-1]])
    labels = [lab for lab, _ in panel.segments]
    cross = [lab not in OPEN_EDGES and lab not in SAME_SIDE_SEAMS for lab in labels]
    for i, st in enumerate(starts):
        seam_flags[st] = cross[i] or cross[i - 1]
        same_flags[st] = same_flags[st] or labels[i - 1] in SAME_SIDE_SEAMS
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
    same = np.concatenate([same_flags, np.zeros(len(grid), bool)])
    return points, tri, flags, same


def sew(panels: list, h: float, kind: str) -> SewnGarment:
    """Triangulate every panel and weld the points of matching seams into one mesh: front to back where
    the layout points coincide, and (armholes) a sleeve cap only to the body panel on its own side."""
    verts: list[np.ndarray] = []
    side: list[int] = []
    owner: list[int] = []
    key_to_index: dict[tuple, int] = {}
    faces, uv, face_uv, uv_panel = [], [], [], []
    u_offset = 0.0
    for k, panel in enumerate(panels):
        if isinstance(panel, SleevePanel):
            pts, flat, tri, seam, same = panel.mesh(h)
        else:
            pts, tri, seam, same = triangulate_panel(panel, h)
            flat = pts
        local = np.empty(len(pts), dtype=np.int64)
        sgn = 1 if panel.side == "front" else -1
        for i, (p, s) in enumerate(zip(pts, seam | same, strict=True)):
            key = (round(p[0] * 1e5), round(p[1] * 1e5)) + ((sgn,) if same[i] and not seam[i] else ())
            if s and key in key_to_index:
                local[i] = key_to_index[key]
                if not same[i] or seam[i]:
                    side[local[i]] = 0
                continue
            local[i] = len(verts)
            verts.append(p)
            side.append(sgn)
            owner.append(k)
            if s:
                key_to_index[key] = local[i]
        lo = flat.min(0)
        uv_local = flat - lo + [u_offset, 0.0]
        base = sum(len(x) for x in uv)
        uv.append(uv_local)
        uv_panel.append(np.full(len(uv_local), k))
        u_offset += float(np.ptp(flat[:, 0])) + 0.05
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
        vertex_panel=np.asarray(owner),
        uv_panel=np.concatenate(uv_panel),
    )


def pattern_rest_lengths(sewn: SewnGarment, edges: np.ndarray) -> np.ndarray:
    """Rest length of each mesh edge measured on the flat pattern (via the per-corner UVs); an edge on a seam
    takes the length in the last face (in face order) that has it, as a loop over the faces writing each would."""
    f, fu, uv = np.asarray(sewn.faces, np.int64), np.asarray(sewn.face_uv, np.int64), np.asarray(sewn.uv)
    g, gu = np.roll(f, -1, axis=1), np.roll(fu, -1, axis=1)
    length = np.sqrt(((uv[fu] - uv[gu]) ** 2).sum(-1)).ravel()  # face by face, corner by corner
    n = int(f.max()) + 1
    key = (np.minimum(f, g) * n + np.maximum(f, g)).ravel()
    keys, last = np.unique(key[::-1], return_index=True)  # the last write of each edge wins
    e = np.asarray(edges, np.int64)
    want = np.minimum(e[:, 0], e[:, 1]) * n + np.maximum(e[:, 0], e[:, 1])
    at = np.searchsorted(keys, want)
    if (at >= len(keys)).any() or (keys[np.minimum(at, len(keys) - 1)] != want).any():
        raise KeyError("an edge belongs to no face of the sewn garment")
    return length[::-1][last][at]

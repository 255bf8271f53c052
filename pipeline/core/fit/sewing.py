"""Draping a sewing pattern the way CLO3D, Marvelous Designer and GarmentCode do: the flat 2D panels are laid
out around the body (body panels flat in front of and behind the torso, half sleeves in front of and behind
the arms), sewing springs pull each seam's two edges together round the body, and gravity settles the cloth.
Rest lengths (and flat bending rests) come from the 2D panels, so the shape comes from the pattern and the
physics, not from a placement that hugs the body. Limits: panels are laid flat (no arrangement cylinders), so
a very tight pattern on a very large body may not close round it within the step budget."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.fabrics import get_fabric
from pipeline.core.fit.landmarks import body_landmarks, dominant_bone_masks
from pipeline.core.fit.pattern import SewnGarment, pattern_rest_lengths
from pipeline.core.fit.place import wrap_sewn
from pipeline.core.fit.solver import ClothSolver, DrapeSettings
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.topology import unique_edges


@dataclasses.dataclass
class FlatPanels:
    """The unwelded panels of a sewn pattern laid out flat around a body, and the seams that join them."""

    start: np.ndarray  # (U, 3) start positions of the panel points (one per UV point)
    faces: np.ndarray  # (F, 3) into the panel points (the sewn garment's face_uv)
    pattern: np.ndarray  # (U, 3) the flat pattern (u, 0, v): rest lengths and flat bending rests
    weld: np.ndarray  # (U,) welded vertex of each panel point
    seams: np.ndarray  # (S, 2) panel points sewn together (every pair of copies of one welded vertex)


def seam_pairs(weld: np.ndarray) -> np.ndarray:
    """All pairs of panel points that weld into the same vertex (a seam corner joins up to four panels)."""
    order = np.argsort(weld, kind="stable")
    w = weld[order]
    starts = np.r_[0, np.nonzero(np.diff(w))[0] + 1]
    counts = np.diff(np.r_[starts, len(w)])
    pairs = []
    for s, c in zip(starts[counts > 1], counts[counts > 1], strict=True):
        grp = order[s : s + c]
        a, b = np.triu_indices(c, 1)
        pairs.append(np.stack([grp[a], grp[b]], 1))
    return np.vstack(pairs) if pairs else np.zeros((0, 2), np.int64)


def lay_out_panels(
    sewn: SewnGarment,
    body,
    gap_m: float = 0.03,
    blend_m: float = 0.06,
    arrange: str = "wrap",
) -> FlatPanels:
    """Lay the panels out round the body (`arrange="wrap"`, the default): below the chest (a top) or the hips
    (a skirt) the body panels hang flat, `gap_m` in front of and behind the torso, their side seams open (front
    and back edges apart, to be sewn); from the chest up, where the body carries the cloth (shoulders, upper
    chest and back), they start on the body as `place.wrap_sewn` wraps them, with their seams closed; a
    `blend_m` band joins the two. Half sleeves start on a half cylinder round the upper arm
    (`_sleeve_on_cylinder`).

    `arrange="flat"`: the body panels start wholly flat (no wrapped part), as a Marvelous Designer arrangement
    does, the sewing springs closing the shoulder (or waist) seams too; every panel edge starts at its pattern
    length and none starts through the body (the wrapped start crosses the body where the frontal projection
    is steep at its sides: edges up to 12x their pattern length, a few points 1-6 cm inside), which an
    explicit collision solver such as Blender's cannot undo.

    `arrange="cylinder"`: as Marvelous Designer's arrangement points or a Blender artist's set-up, each body
    panel is bent round the body (`_panel_on_ellipses`: row by row on an ellipse `gap_m` outside the torso's
    or legs' cross-section, by arc length from the panel's centre line, the ellipse widened where a row of the
    panel is longer than its half, a flared hem), so the seams start a few cm apart instead of the body's
    depth, every edge at its pattern length across, and none through the body; above the armpits (tops) the
    panel blends into the flat layout over the shoulders. The rest shape is still the flat pattern."""
    if arrange not in ("flat", "wrap", "cylinder"):
        raise ValueError(f"arrange must be flat, wrap or cylinder, not {arrange!r}")
    all_flat = arrange != "wrap"
    if sewn.uv_panel is None:
        raise ValueError("the sewn garment has no per-panel UV points (made by an older sew())")
    n_uv = len(sewn.uv)
    weld = np.full(n_uv, -1, dtype=np.int64)
    weld[sewn.face_uv.ravel()] = sewn.faces.ravel()
    if (weld < 0).any():
        raise ValueError("a pattern point belongs to no triangle")
    layout = sewn.vertices2d[weld]
    start = wrap_sewn(sewn, body)[weld]
    lm = body_landmarks(body)
    masks = dominant_bone_masks(body)
    bv = body.vertices[~(masks["arm"] | masks["head"])]
    top = lm.chest_z if sewn.kind != "bottom" else lm.hip_z  # where the body stops carrying the cloth
    for k, panel in enumerate(sewn.panels):
        pts = np.nonzero(sewn.uv_panel == k)[0]
        if _is_sleeve(panel):
            start[pts] = _sleeve_on_cylinder(
                layout[pts], body, lm, masks["arm"], panel.side == "front", gap_m
            )
            continue
        xz = layout[pts]
        half_w = float(np.abs(xz[:, 0]).max())
        z_top = float(xz[:, 1].max()) if all_flat else top
        under = bv[(np.abs(bv[:, 0]) <= half_w) & (bv[:, 2] >= xz[:, 1].min()) & (bv[:, 2] <= z_top)]
        if not len(under):
            continue
        y = under[:, 1].min() - gap_m if panel.side == "front" else under[:, 1].max() + gap_m
        flat = np.c_[xz[:, 0], np.full(len(pts), y), xz[:, 1]]
        w = np.clip((top - xz[:, 1]) / blend_m, 0.0, 1.0)[:, None]  # 1 below the chest, 0 above the band
        w = np.ones_like(w) if all_flat else w
        start[pts] = w * flat + (1 - w) * start[pts]
        if arrange == "cylinder":
            bent = _panel_on_ellipses(xz, bv, panel.side == "front", gap_m)
            # tops: round the torso, blending into the flat layout (over the shoulders) in the 15 cm below the
            # armpits, clear of the arms
            up = np.clip((xz[:, 1] - lm.armpit_z) / 0.15 + 1, 0, 1)[:, None] if sewn.kind != "bottom" else 0
            start[pts] = (1 - up) * bent + up * start[pts]
    pattern = np.c_[sewn.uv[:, 0], np.zeros(n_uv), sewn.uv[:, 1]]
    return FlatPanels(start, np.asarray(sewn.face_uv), pattern, weld, seam_pairs(weld))


def _panel_on_ellipses(
    xz: np.ndarray, bv: np.ndarray, front: bool, gap_m: float, bin_m: float = 0.01, smooth_m: float = 0.1
):
    """A body panel (frontal layout `xz`, centred on x = 0) bent round the body row by row: each row on an
    ellipse `gap_m` outside the body's cross-section within +-3 cm of its height (`bv`: torso and legs; the
    ellipse of the section's extents grown until it encloses it), front panels on its front half, back panels
    on its back half, by arc length from the centre line. Where the panel is wider than the ellipse's quarter
    perimeter (a flared hem) the ellipse is widened to fit; where it is narrower the side seams start apart
    and the sewing closes them. The ellipses change smoothly with height (running max, then mean, over
    `smooth_m`), so edges down the panel keep close to their pattern length (p99 1.16-1.25 on the sample
    skirt; rows keep theirs exactly)."""
    z = xz[:, 1]
    zc = np.arange(z.min() - bin_m, z.max() + 2 * bin_m, bin_m)
    par = np.zeros((len(zc), 5))  # cx, cy, a, b, half width of the panel's row
    for r, zr in enumerate(zc):
        near = bv[np.abs(bv[:, 2] - zr) <= 0.03]
        if len(near) < 8:
            near = bv[np.argsort(np.abs(bv[:, 2] - zr))[:64]]
        in_row = np.abs(z - zr) <= 0.03
        hw = float(np.abs(xz[in_row, 0]).max()) if in_row.any() else 0.0
        c = 0.5 * (near[:, :2].max(0) + near[:, :2].min(0))
        half = np.maximum(0.5 * np.ptp(near[:, :2], axis=0), 1e-3)
        grow = float(np.sqrt((((near[:, :2] - c) / half) ** 2).sum(1)).max())  # enclose the cross-section
        par[r] = (*c, *(grow * half + gap_m), hw)
    width = max(1, int(round(smooth_m / bin_m)))
    pad = ((width // 2, width - 1 - width // 2), (0, 0))
    grown = np.lib.stride_tricks.sliding_window_view(np.pad(par, pad, mode="edge"), width, axis=0).max(2)
    grown[:, :2] = par[:, :2]  # running max of the sizes (still enclosing), then a running mean of all
    kernel = np.ones(width) / width
    par = np.stack(
        [np.convolve(np.pad(grown[:, c], pad[0], mode="edge"), kernel, "valid") for c in range(5)], 1
    )
    cx, cy, a, b, hw = (np.interp(z, zc, par[:, c]) for c in range(5))
    phi = np.linspace(0.0, np.pi / 2, 129)
    da = np.diff(np.sin(phi))[None, :] * a[:, None]
    db = np.diff(np.cos(phi))[None, :] * b[:, None]
    arc = np.c_[np.zeros(len(z)), np.cumsum(np.hypot(da, db), axis=1)]
    k = np.maximum(1.0, hw / arc[:, -1])  # widen the ellipse to fit a row longer than its half
    t = np.minimum(np.abs(xz[:, 0]) / (k * arc[:, -1]), 1.0)  # share of the quarter perimeter
    ph = np.array([np.interp(ti, ar / ar[-1], phi) for ti, ar in zip(t, arc, strict=True)]) * np.sign(
        xz[:, 0]
    )
    side = -1.0 if front else 1.0
    return np.c_[cx + k * a * np.sin(ph), cy + side * k * b * np.cos(ph), z]


def _sleeve_on_cylinder(xz: np.ndarray, body, lm, arm: np.ndarray, front: bool, gap_m: float) -> np.ndarray:
    """A half sleeve on a half cylinder round the upper arm's axis (front half in front, back half behind), wide
    enough to clear the arm by `gap_m`: the sleeve starts round the arm, its under- and over-arm seam edges
    below and above it (up to some 18 cm apart where the frontal layout is narrower than its widest row; the
    sewing closes them), so no seam starts through the arm at the armpit."""
    side = "l" if xz[:, 0].mean() > 0 else "r"
    joint = lm.shoulder_l if side == "l" else lm.shoulder_r
    d3 = lm.arm_direction(side)
    d = d3[[0, 2]] / np.linalg.norm(d3[[0, 2]])
    n = np.array([-d[1], d[0]])  # across the arm in the frontal plane
    rel = xz - joint[[0, 2]]
    along, across = rel @ d, rel @ n
    av = body.vertices[arm & (np.sign(body.vertices[:, 0]) == (1.0 if side == "l" else -1.0))] - joint
    a_along = av @ d3
    near = av[(a_along > max(along.min(), 0.0)) & (a_along < along.max())]
    near = near if len(near) > 8 else av
    radial = near - np.outer(near @ d3, d3)
    radius = float(np.percentile(np.linalg.norm(radial, axis=1), 98)) + gap_m
    centre_y = float(joint[1] + np.median(near[:, 1]))
    half = max(float(np.abs(across).max()), 1e-6)
    theta = np.clip(across / half, -1.0, 1.0) * (np.pi / 2)
    n3 = np.array([n[0], 0.0, n[1]])
    out = joint + np.outer(along, d3)
    out[:, 1] = centre_y
    r = max(radius, half)
    depth = -1.0 if front else 1.0
    return out + r * (
        np.sin(theta)[:, None] * n3 + depth * np.cos(theta)[:, None] * np.array([0.0, 1.0, 0.0])
    )


def _is_sleeve(panel) -> bool:
    return not any(label.startswith("side") for label, _ in panel.segments)


def weld_points(points: np.ndarray, weld: np.ndarray, n_vertices: int) -> np.ndarray:
    """Welded vertex positions: the mean of each vertex's panel copies."""
    out = np.zeros((n_vertices, 3))
    np.add.at(out, weld, points)
    return out / np.maximum(np.bincount(weld, minlength=n_vertices), 1)[:, None]


# Velocity kept per step in a hanging skirt's fall (`DrapeSettings.damping`). The fabrics' own 0.85-0.93 stop a
# fall within some ten steps (1/90 s each), so the flare stayed out as a smooth cone (hem hull perimeter over
# its length 0.94 on the sample skirt, non-crumple folds 0.007 after the fit); kept at 0.99 it falls in round
# the legs and buckles into flutes (0.92, 0.020; Blender's arranged reference: 0.91, 0.023). 0.97: 0.92,
# 0.016; 0.995: 0.90, 0.022 (drape alone, 10 iterations, before the tethers). Tops keep the fabric's: the
# sample tee's folds changed by under 0.003 at 0.97 or 0.995 (its hem lies on the hips).
HANG_DAMPING = 0.99
# Sewing steps of a skirt (tops: `TOP_SEW_STEPS`). Its side seams close in 25 as in 40 (largest gap 0.4 mm, heavy
# body 0.0), the folds after the hung settle the same (non-crumple 0.024 / 0.025), and the heavy body's drape takes
# 0.4 s less CPU (2.6 -> 1.9 s), which keeps the hung skirt's whole fit 10x faster than Blender's.
SKIRT_SEW_STEPS = 25
# Sewing steps of a top. 30 (40 before) with `SEW_ITERATIONS`: the sample tee's seams close as well or better
# (largest gap 4.2 -> 1.9 mm, heavy body 7.9 -> 1.7 mm), the settled tee the same (strain p99 1.252 -> 1.243,
# hem hoop 0.994 / 1.001, folds 0.043 -> 0.040 / 0.035 -> 0.036), its whole fit 2.44 -> 2.01 s (heavy 2.80 -> 2.46).
TOP_SEW_STEPS = 30
# Constraint sweeps a sewing step, every garment (tops swept `TOP_ITERATIONS` before): the sewing runs without
# gravity, so there is no weight to stretch the cloth, and fewer sweeps let the sewing springs close the seams
# against a softer membrane.
SEW_ITERATIONS = 10

# Constraint sweeps a step of a top's panel drape (skirts: 10). At 10 the tee hanging from its shoulders
# stretched under its weight (strain p50 1.036) and slid down until its hem caught on the widest part of the
# hips and thighs (default body: the hem 6.6 cm under its drafted height, at the crotch, once the hem was drafted
# with ease over the hip); at 30 it hangs 1.7 % stretched and its hem 3 cm under the draft, for about 0.3 s more.
TOP_ITERATIONS = 30


def drape_settings(kind: str = "top", hang: bool = True) -> DrapeSettings:
    """Settings of the panel drape: dihedral bending per fabric with a membrane that keeps its length (excess
    cloth buckles), a 2 mm seeded nudge so a symmetric start can leave its equilibrium, and a damped dynamic
    fall (velocity carried) so gravity pulls the excess cloth into folds. Contact: vertex-triangle and (every 8
    steps) edge-edge, with itself and with the body.

    A skirt (`hang`, the default; its waistband pinned by `drape_panels`) falls for at least 60 steps with
    little damping (`HANG_DAMPING`), so its flare falls in round the legs and buckles into flutes.
    `hang=False`: the earlier quasi-static skirt settle (no velocity carried, which would drag an unpinned
    skirt down the hips, no nudge), which stops while the flare still stands out as a smooth cone."""
    hanging = hang and kind == "bottom"
    return DrapeSettings(
        steps=160,
        min_steps=60 if hanging else 30,
        iterations=TOP_ITERATIONS if kind == "top" else 10,
        dt=1 / 90,
        inertia=kind != "bottom" or hanging,
        bending="dihedral",
        perturb_m=0.002 if kind != "bottom" or hanging else 0.0,
        self_triangles=True,
        edge_edge=True,
        damping=HANG_DAMPING if hanging else None,
    )


def drape_panels(
    sewn: SewnGarment,
    body,
    fabric: str = "cotton-jersey",
    settings: DrapeSettings | None = None,
    sew_steps: int | None = None,
    progress: ProgressCallback = silent,
    field: BodyField | None = None,
    sew_gravity: bool = False,
    arrange: str = "wrap",
    hang: bool = True,
) -> tuple[np.ndarray, dict]:
    """Drape a sewn pattern on `body` from its flat panels: returns the welded vertex positions (V, 3) of
    `sewn.faces` and figures (steps, seconds, largest seam gap left before welding).

    Two phases, as in CLO3D or GarmentCode: the loose panels are sewn together without gravity (sewing springs
    shortened step by step, body contact on; the distance bending model here: cheaper than the hinges, and its
    softer membrane lets the seams close tighter), then welded into one mesh and settled under gravity with the
    pattern's rest lengths and flat bending rests across the seams too (a loose seam would act as a hinge and
    let the cloth fold through itself there). `sew_steps`: default `TOP_SEW_STEPS` for tops, `SKIRT_SEW_STEPS` for skirts
    (each step `SEW_ITERATIONS` sweeps).
    `sew_gravity`: gravity during the sewing too (off: on the sample tee and skirt it changed the fold share by
    under 0.01). `arrange`: the panels' start (`lay_out_panels`;
    "cylinder", bent round the body 2 cm out, leaves the skirt's hem unstretched after sewing, 1.002 against
    1.047 round, but changed the sample garments' fold shares by under 0.004 and leaves 5-10 mm seam gaps
    after the 40 sewing steps, so the default stays "wrap"). `hang` (skirts; the default): the waistband (its top
    3 cm) is pinned where the sewing put it, as Blender artists pin a skirt's waistband, and the settle is
    `drape_settings(hang=True)`'s lightly damped fall: the flare falls in round the legs and buckles into flutes.
    Each free point is also tethered to the waistband (`_tethers`: long-range attachments), so the skirt
    hanging from its pinned band does not stretch under its weight at 10 sweeps a step (heavy body's skirt:
    strain p99 1.24 -> 1.17 after the fit, non-crumple folds 0.012 -> 0.025).
    (`hang=False`: the earlier quasi-static settle, which stops while the hem is still held out round; run
    longer it lets the skirt slide down the hips, its waistband stretching past its limit)."""
    t0 = time.perf_counter()
    fab = get_fabric(fabric)
    field = field or BodyField(body.vertices, body.faces)
    flat = lay_out_panels(sewn, body, arrange=arrange, gap_m=0.02 if arrange == "cylinder" else 0.03)
    s = settings or drape_settings(sewn.kind, hang)
    sew_steps = sew_steps or (SKIRT_SEW_STEPS if sewn.kind == "bottom" else TOP_SEW_STEPS)
    sew_s = dataclasses.replace(
        s,
        steps=sew_steps + 10,
        min_steps=sew_steps + 10,
        iterations=SEW_ITERATIONS,
        gravity_after=0 if sew_gravity else 10**9,
        inertia=False,
        bending="distance",
        self_triangles=False,
    )
    sewing = ClothSolver(flat.faces, flat.pattern, fab, field, sew_s, seams=flat.seams)
    d0 = np.linalg.norm(flat.start[flat.seams[:, 0]] - flat.start[flat.seams[:, 1]], axis=1)
    speed = float(d0.max()) / sew_steps if len(d0) else 0.0

    def close_seams(step: int, x: np.ndarray) -> None:
        sewing.sew_to(np.maximum(d0 - speed * (step + 1), 0.0))

    x, sew_info = sewing.settle(
        flat.start, progress=lambda f, m="": progress(0.4 * f, "sewing"), before_step=close_seams
    )
    gap = np.linalg.norm(x[flat.seams[:, 0]] - x[flat.seams[:, 1]], axis=1)
    welded = weld_points(x, flat.weld, len(sewn.vertices2d))
    edges = unique_edges(sewn.faces)
    rest = pattern_rest_lengths(sewn, edges)
    band = _waistband(sewn, edges, fab.max_strain)
    pinned = _waistband_points(sewn) if hang and sewn.kind == "bottom" else None  # held where sewn
    solver = ClothSolver(
        sewn.faces,
        welded,
        fab,
        field,
        s,
        rest_edge_lengths=rest,
        edge_limit=band,
        flat_rest=True,
        pinned=pinned,
        tethers=None if pinned is None else _tethers(sewn, welded, pinned, fab.max_strain),
    )
    vertices, info = solver.settle(welded, progress=lambda f, m="": progress(0.4 + 0.6 * f, "settling"))
    info = {
        "sew_steps": sew_info["steps"],
        "settle_steps": info["steps"],
        "drape_s": round(time.perf_counter() - t0, 3),
        "seam_gap_max_mm": round(float(gap.max()) * 1000, 2) if len(gap) else 0.0,
        "panel_points": len(flat.start),
    }
    return vertices, info


def _tethers(sewn: SewnGarment, start: np.ndarray, pinned: np.ndarray, max_strain: float, k: int = 8):
    """Long-range attachments of a hung skirt: each free point tied to the pinned point nearest it on the
    pattern (of its `k` nearest in the frontal layout, within 1 cm of the nearest, the one nearest in 3D at the
    start: front and back panels share the layout), no further than that pattern distance times 1 + the
    fabric's strain limit."""
    from scipy.spatial import cKDTree

    free = np.nonzero(~pinned)[0]
    anchors = np.nonzero(pinned)[0]
    d2, j = cKDTree(sewn.vertices2d[anchors]).query(sewn.vertices2d[free], k=min(k, len(anchors)))
    d3 = np.linalg.norm(start[anchors[j]] - start[free][:, None], axis=2)
    d3[d2 > d2[:, :1] + 0.01] = np.inf
    pick = np.argmin(d3, axis=1)
    rows = np.arange(len(free))
    return free, anchors[j[rows, pick]], d2[rows, pick] * (1.0 + max_strain)


def _waistband_points(sewn: SewnGarment, band_m: float = 0.03) -> np.ndarray:
    """(V,) bool: a skirt's waistband, the pattern points within `band_m` of its waist line."""
    z = sewn.vertices2d[:, 1]
    return z >= z.max() - band_m


def _waistband(sewn: SewnGarment, edges: np.ndarray, max_strain: float):
    """A skirt's waistband (`_waistband_points`) is interfaced, nearly inextensible, so the skirt hangs from the
    waist instead of sliding over the hips (as `api.waistband_limits`)."""
    if sewn.kind != "bottom":
        return None
    band = _waistband_points(sewn)
    return np.where(band[edges[:, 0]] & band[edges[:, 1]], 1.01, 1.0 + max_strain)

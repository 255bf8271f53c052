"""Fit anny's shape and pose to a capture: camera-frame person points and 2D MediaPipe landmarks per view.

Each view (a still stretch of frames, or one step of a turn) has its own rigid placement of the body in
the camera frame; shape and a few joint angles are shared. The shape space is the avatar fit's
(`pipeline.core.body.shape_fit`): phenotypes, anny's tape-measure local controls, the trunk shapes real people
need (belly, breast volume, buttocks, torso height, nape-to-waist and waist-to-hip lengths) and, after the
first third of the iterations, the smooth corrective band scalings of the neck, chest, waist, hip and thigh
girths (`pipeline.core.body.corrective`), carried to the posed body by the skinning.
Phenotypes and controls are optimised in their box (projected Adam), so bodies on its bounds (the heaviest
ANSUR II people) are reachable.
Loss: Geman-McClure depth residual of each point along its camera ray against the camera-facing side of the
body (the vertex on the same ray, as a z-buffer would pick it, and its tangent plane), silhouette terms (the
body must stay inside the person mask, and its rim must reach the mask's outline), 2D landmark reprojection
(left/right may swap, as MediaPipe does on back views; each bone head moved by where MediaPipe is measured to put
that landmark, `LANDMARK_OFFSETS_PATH`), a shape prior (local controls held near real people's mean,
`SHAPE_PRIOR_PATH`) and, optionally (off: see
W_DEPTH_PRIOR), when no view sees the back, ANSUR II's chest depth given stature and waist breadth
(`depth_prior.py`). The depth residual's Geman-McClure scale is annealed from wide to narrow (graduated
non-convexity), so the points of a belly or bust that the starting body lacks by more than a few centimetres
still pull at first instead of counting as outliers. Why the waist of heavy
ANSUR II people came out 11-18 cm small before: the initialiser (then trained on anny's own range only) started them
40+ cm small, anny's controls lacked the belly, and the shape prior outweighed the depth term (a mean over
all points, of which the belly is a small share): started at the true shape, the fit still shrank the waist.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from pipeline.core.body.corrective import MAX_AMPLITUDE
from pipeline.core.capture.depth_prior import DepthPrior
from pipeline.core.capture.frames import Intrinsics
from pipeline.core.capture.person import PersonFrame
from pipeline.core.capture.virtual_camera import WORLD_FROM_CAMERA_ROT
from pipeline.core.deps import REPO_ROOT
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.vocab import ADULT_AGE_RANGE, PHENOTYPES

AGE_RANGE = ADULT_AGE_RANGE
# The tape-measure controls (the initialiser's random anny training bodies vary these, `initialiser.random_params`).
SHAPE_LOCALS = (
    "measure-bust-circ-incr",
    "measure-underbust-circ-incr",
    "measure-waist-circ-incr",
    "measure-hips-circ-incr",
    "measure-thigh-circ-incr",
    "measure-upperarm-circ-incr",
    "measure-neck-circ-incr",
    "measure-shoulder-dist-incr",
    "measure-upperleg-height-incr",
    "measure-lowerleg-height-incr",
    "measure-napetowaist-dist-incr",
    "measure-upperarm-length-incr",
)
# The trunk and length controls the avatar fit uses for real people (`shape_fit.CONTROLS`) beyond those. The
# learned initialiser predicts all of FIT_LOCALS (its trained outputs: retrain it with `python -m pipeline
# train-initialiser` when they change).
TRUNK_LOCALS = (
    "measure-waisttohip-dist-incr",
    "measure-neck-height-incr",
    "measure-lowerarm-length-incr",
    "stomach-pregnant-incr",
    "breast-volume-vert-up",
    "buttocks-volume-incr",
    "torso-scale-vert-incr",
)
FIT_LOCALS = SHAPE_LOCALS + TRUNK_LOCALS
LOCAL_LIMIT = 1.0  # as the avatar fit: anny's full range of a local control
# The corrective band scalings the fit may add (girths only: horizontal, so no joint moves).
CORRECTIVE_GIRTHS = ("neck_girth", "chest_girth", "waist_girth", "hip_girth", "thigh_girth")
CORRECTIVE_FROM = 1 / 3  # share of the iterations before the corrective joins (the anny shape settles first)
CORRECTIVE_REFRESH = 10  # iterations between re-computations of the corrective fields on the current body
# Shape priors, per unit^2 of a control (tanh of its raw value) or of a corrective amplitude / MAX_AMPLITUDE.
# The depth term is a mean over all points, so a belly or a thigh is a small share of it: with 0.02 per control
# (the earlier prior) it outweighed the data and held the heaviest ANSUR II woman's waist 11 cm small even when
# the fit started at her true shape. 0.3x that, chosen on 3 ANSUR-built bodies (0.1x follows the noise more).
PRIOR_MEASURE = 0.006  # a tape-measure control
PRIOR_TRUNK = 0.015  # a trunk shape: larger, as they are not tape-measure controls
# The controls' prior is centred on real people's mean (`control_prior_means`: the avatar fits of 40 ANSUR II people
# the bench never draws), not on anny's 0: ANSUR II-built bodies have waist-to-hip length -0.43 on average, neck
# height -0.26, waist girth +0.40, thigh +0.35, and a prior at 0 pulled every capture towards anny's average trunk.
# Started at the true shape on noise-free depth (bench/capture_error_sources.py, 6 bench bodies, turn) the fit
# still drifted (waist-to-hip +0.2 to +0.5 back towards 0); the noisy turns' stature bias was +0.56 cm. The
# controls start at that mean where no initialiser gives them. On the 12-body bench (424 px): turn stature bias +0.39 ->
# -0.03 cm (ISO 95 % CI [-0.00, +0.78] -> [-0.38, +0.32]: passes), hip 1.43 -> 1.07, inside leg 2.69 -> 1.73,
# girths 1.94 -> 1.94; front girths 2.24 -> 2.29 (chest bias -3.7 -> -4.4), inside leg 2.78 -> 1.81, all twelve
# measurements 1.94 -> 1.90 front, 1.67 -> 1.61 turn. Absent file: centred on 0, as before.
SHAPE_PRIOR_PATH = REPO_ROOT / "models" / "capture_shape_prior.json"
USE_SHAPE_PRIOR_MEANS = True
# per unit^2 of a phenotype's change from its start (0.002 per unit^2 of its logit before: 16x that at 0.5)
PRIOR_PHENOTYPE = 0.032
LR_PHENOTYPE = 0.015  # Adam's step on a phenotype (0.06 on its logit before: ~0.015 at 0.5)
# The silhouette's reach term pulls, per outline pixel, the nearest RIM vertex: camera-facing with |cos| of its
# normal to its ray below this. 0.3 and 0.5 on 6 ANSUR-built bodies: turn girths 2.16 / 2.10 cm, front 2.76 /
# 2.39 (2.37 / 2.38 with any camera-facing vertex); but 0.5 turned bench_ar's crossed-arms man's turn female
# (IoU 0.925 -> 0.783); 0.7 keeps him a man (0.913)
RIM_COS = 0.7
# The chest-depth prior's weight per unit of its negative log-likelihood (depth_prior.py), used when no view
# sees the back (a still front view). OFF by default: on 6 ANSUR-built bodies, 0.005 cut the front's chest error
# (mean |err| 5.2 -> 4.1 cm) but the heaviest man's chest, 4 conditional std deeper than his waist predicts, went
# -6 -> -15 cm, and the other girths moved: girths 2.37 -> 2.51 cm. Set BodyFitter.w_depth to use it.
W_DEPTH_PRIOR = 0.0
BACK_SEEN_FACING = 0.5  # cos of the body's turn from the camera below which a view sees the back's profile
PRIOR_CORRECTIVE = 0.015  # a corrective amplitude: a full 12 % costs like a trunk shape at its limit
# The depth term's Geman-McClure scale, annealed over the first half of the fit, ends at 5 cm (about twice a
# D435's per-point noise at 2-3 m, 424 px; 3 cm before). Alone, on 12 ANSUR-built bench bodies: girths 2.42 ->
# 2.28 cm front, 2.02 -> 1.93 turn, stature 0.74 -> 0.66 / 0.76 -> 0.73, but bench_ar's crossed-arms man in a
# turn was then graded on the women's chart (IoU 0.913 -> 0.776); with the landmark offsets below he is a man
# again (bench_ar --n 4: every recording on its own sex's chart, his IoU 0.926). On 12 held-out bodies (front):
# girths 2.19 -> 2.19, stature 0.79 -> 0.73.
GM_SIGMA_M = (0.10, 0.05)
POSE_BONES = ("upperleg01.L", "upperleg01.R")  # abduction about the forward axis
# The arms turn freely (a rotation vector each, in the world axes of anny's reference pose, as its "local-ref"
# pose parameters take them): upper arm at the shoulder, forearm at the elbow. Started from the elbows and
# wrists the views show (MediaPipe's 2D landmarks lifted by the depth points), so crossed arms and bent
# elbows are reached, which abduction alone (the earlier fit) could not.
ARM_BONES = ("upperarm01.L", "lowerarm01.L", "upperarm01.R", "lowerarm01.R")
ARM_CHAINS = {"L": (11, 13, 15), "R": (12, 14, 16)}  # MediaPipe shoulder, elbow, wrist of each side
# a lifted elbow or wrist: the joint centre lies this far behind the arm's front (measured on the AR bench's
# synthetic recordings: the front-most points around the landmark are 2-10 cm nearer than the elbow joint)
ARM_JOINT_DEPTH_M = {"elbow": 0.045, "wrist": 0.03}
PRIOR_ARM = 0.01  # per rad^2 of an arm rotation away from its start (the data decide; it only steadies)
# MediaPipe landmark -> anny bone whose head stands for it (left = the person's left = anny's +X = ".L")
LANDMARK_BONES = {
    11: "upperarm01.L",
    12: "upperarm01.R",
    13: "lowerarm01.L",
    14: "lowerarm01.R",
    15: "wrist.L",
    16: "wrist.R",
    23: "upperleg01.L",
    24: "upperleg01.R",
    25: "lowerleg01.L",
    26: "lowerleg01.R",
    27: "foot.L",
    28: "foot.R",
}
# Where MediaPipe puts a landmark relative to the anny bone head that stands for it, in the body's frame: metres
# outward from the midline and down, per landmark (left and right averaged). Measured on synthetic front views of
# 24 ANSUR II-built bodies disjoint from the bench's (scripts/calibrate_landmark_offsets.py writes the file):
# MediaPipe's shoulders lie 1.8 cm inside and 1.4 cm above anny's upper-arm heads, its elbows 2.2 cm inside and
# 2.3 cm above, its hips 1.0 cm inside and 1.5 cm below. Matched to the heads themselves, they narrowed the fitted
# shoulders and chest (front, 12 bench bodies: shoulder width bias -2.8 cm, chest girth -4.6). The same offsets
# serve every view of a turn (measured on front views only). Absent file: no offsets.
LANDMARK_OFFSETS_PATH = REPO_ROOT / "models" / "landmark_offsets.json"
USE_LANDMARK_OFFSETS = True
# The arms' and hips' offsets are applied; the knees' and ankles' (MediaPipe's knee 3 cm below anny's) are not:
# with them too, on 12 bench bodies (front, GM scale 5 cm) girths 2.24 -> 2.31 cm (waist bias -1.1 -> -1.6) and
# on 12 held-out bodies 2.21 -> 2.26, though the inside leg improved (2.78 -> 2.19, 2.27 -> 1.46).
OFFSET_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24)
SWAP = {11: 12, 12: 11, 13: 14, 14: 13, 15: 16, 16: 15, 23: 24, 24: 23, 25: 26, 26: 25, 27: 28, 28: 27}
# A still view's points: 3000 (1500 before) on the 64 calibration bodies at 640 px (front, leave-one-out girths
# after the calibration) 1.544 -> 1.504 cm, fit time unchanged; a turn's views keep 600 each (MAX_POINTS_TOTAL).
MAX_POINTS_PER_VIEW = 3000
MAX_POINTS_TOTAL = 3000  # over all views: keeps a turn's fit time near a still view's
YAW_SEARCH_VERTEX_STEP = 3  # the initial placement's yaw search runs on every 3rd vertex ...
YAW_SEARCH_POINTS = 600  # ... and at most this many points per view
# Fit iterations when the caller gives none. A still view gets more: on the 64 calibration bodies at 640 px
# (front, 3000 points, leave-one-out girths after the calibration, ridge 1) 60 / 80 / 100 iterations:
# 1.466 / 1.443 / 1.423 cm. 80, as 100 would take the still view's fit past the bench's 5 s goal (3.2 s at 60);
# a turn keeps 60 (4.4 s).
ITERATIONS = 60
STILL_VIEW_ITERATIONS = 80
# fewer views are a still capture (measure_capture also asks a turn's views to span over 60 degrees)
TURN_MIN_VIEWS = 3


def default_iterations(n_views: int) -> int:
    """The fit's iterations for a capture of `n_views` views."""
    return ITERATIONS if n_views >= TURN_MIN_VIEWS else STILL_VIEW_ITERATIONS


REFRESH_EVERY = (
    3  # after the first iterations, correspondences are re-found every 3rd iteration (they move slowly)
)


@dataclasses.dataclass
class View:
    """Fused observations of one body placement: points (N, 3), median landmarks, their visibility."""

    points: np.ndarray
    landmarks_px: np.ndarray
    visibility: np.ndarray
    intrinsics: Intrinsics
    frames: list[int]
    outside_px: np.ndarray | None = None  # (H, W) distance (px) to the silhouette, 0 inside
    boundary_px: np.ndarray | None = None  # (M, 2) silhouette outline pixels (u, v)


@dataclasses.dataclass
class FitResult:
    """Fitted anny parameters, per-view yaw and quality figures."""

    phenotypes: dict[str, float]
    local_changes: dict[str, float]
    pose_deg: dict[str, list[float]]  # bone -> rotation vector (degrees), see BodyFitter.pose_deg
    yaws_deg: list[float]
    residual_m: float  # robust RMS depth residual of the points along their camera rays
    time_s: float
    iterations: int
    # per view: (R (3, 3), t (3,)) taking the posed body in anny's frame (origin at the root) to the camera frame
    placements: list[tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=list)
    # corrective band amplitudes (girth -> share, see corrective.py), as `anny_model.body_arrays` takes them
    corrective: dict[str, float] = dataclasses.field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The fitted rest shape as `anny_model.body_arrays(**fit.params())` takes it."""
        return {"phenotypes": self.phenotypes, "local_changes": self.local_changes} | (
            {"corrective": self.corrective} if self.corrective else {}
        )


def _voxel_mean(points: np.ndarray, voxel_m: float) -> np.ndarray:
    """Average the points in each voxel (fuses frames and averages sensor noise)."""
    if len(points) == 0:
        return points
    keys = np.floor(points / voxel_m).astype(np.int64)
    _, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), 3))
    np.add.at(sums, inv.ravel(), points)
    return sums / counts[:, None]


def group_views(frames: list[PersonFrame], still_px: float = 0.02) -> list[View]:
    """Fuse consecutive frames whose landmarks barely move (a still person) into one view."""
    groups: list[list[PersonFrame]] = []
    for pf in frames:
        if groups:
            ref = groups[-1][0]
            scale = max(np.ptp(ref.landmarks_px[:, 1]), 1.0)
            moved = np.median(np.linalg.norm(pf.landmarks_px - ref.landmarks_px, axis=1)) / scale
            if moved < still_px:
                groups[-1].append(pf)
                continue
        groups.append([pf])
    views = []
    rng = np.random.default_rng(0)
    per_view = (
        int(np.clip(MAX_POINTS_TOTAL // len(groups), 500, MAX_POINTS_PER_VIEW))
        if groups
        else MAX_POINTS_PER_VIEW
    )
    for g in groups:
        pts = _voxel_mean(np.concatenate([p.points for p in g]), 0.012)
        if len(pts) > per_view:
            pts = pts[rng.choice(len(pts), per_view, replace=False)]
        view = View(
            pts,
            np.median([p.landmarks_px for p in g], axis=0),
            np.median([p.visibility for p in g], axis=0),
            g[0].intrinsics,
            [p.index for p in g],
        )
        masks = [p.mask for p in g if p.mask is not None]
        if masks:
            view.outside_px, view.boundary_px = _silhouette_maps(np.mean(masks, axis=0) > 0.5)
        views.append(view)
    return views


def _silhouette_maps(mask: np.ndarray, max_outline: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Distance-to-silhouette image and (subsampled) outline pixels of a person mask."""
    import cv2

    m = mask.astype(np.uint8)
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, 3).astype(np.float32)
    outline = m - cv2.erode(m, np.ones((3, 3), np.uint8))
    vs, us = np.nonzero(outline)
    step = max(len(us) // max_outline, 1)
    return outside, np.stack([us[::step], vs[::step]], axis=1).astype(np.float64)


def _rodrigues(r):
    import torch

    theta = torch.sqrt((r * r).sum() + 1e-12)
    k = r / theta
    kx = torch.zeros(3, 3, dtype=r.dtype)
    kx[0, 1], kx[0, 2], kx[1, 0], kx[1, 2], kx[2, 0], kx[2, 1] = -k[2], k[1], k[2], -k[0], -k[1], k[0]
    return torch.eye(3, dtype=r.dtype) + torch.sin(theta) * kx + (1 - torch.cos(theta)) * (kx @ kx)


def _rot_y(angle):
    import torch

    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(angle), torch.ones_like(angle)
    return torch.stack([torch.stack([c, z, s]), torch.stack([z, o, z]), torch.stack([-s, z, c])])


def _rz(yaw_deg: float) -> np.ndarray:
    a = np.radians(yaw_deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


YAW_GRID_DEG = 30.0
FACE_SEEN = 0.6  # MediaPipe visibility of the nose above which a view is taken to show the face ...
SHOULDERS_APART = (
    0.08  # ... when its left shoulder is also this far (share of the body's height) right of the right
)


# A view's nose this far (share of the body's height in the image) to one side of its shoulders' midpoint says
# which way the person faces: on the AR bench's turn, 0.07 and 0.05 in its views turned 60 and 120 degrees, to the
# side the person faces, and 0.00 in its front view (`nose_side`).
NOSE_SIDE_MIN = 0.03
FACES_SIDE = 0.2  # a grid yaw facing this far (camera x of its forward direction) the other way is excluded


def _forward_camera(yaw_deg: float) -> np.ndarray:
    """The forward direction (camera frame: x right, y down, z away) of a body placed at `yaw_deg`."""
    return (WORLD_FROM_CAMERA_ROT.T @ _rz(yaw_deg)) @ np.array([0.0, -1.0, 0.0])


def _facing_camera(yaw_deg: float) -> float:
    """How squarely a body placed at `yaw_deg` (as `_try_yaw` takes it) faces the camera: 1 front, -1 back."""
    return float(-_forward_camera(yaw_deg)[2])


def shows_front(view: View) -> bool:
    """MediaPipe's word that the person faces the camera: the face seen and the person's left shoulder well to
    the right of the right one in the image (a body seen from behind has them the other way round)."""
    lm = view.landmarks_px
    height = max(float(np.ptp(lm[:, 1])), 1.0)
    apart = (lm[11, 0] - lm[12, 0]) / height
    return bool(
        view.visibility[0] > FACE_SEEN
        and min(view.visibility[11], view.visibility[12]) > 0.5
        and apart > SHOULDERS_APART
    )


def nose_side(view: View) -> float:
    """Which side of the image the person faces, from MediaPipe: +1 right, -1 left, 0 when the nose is not
    clearly to one side of the shoulders' midpoint (a front or back view, or the nose unseen). The nose lies in
    front of the neck, so it shows the way the head faces even on a view turned past 90 degrees, where
    MediaPipe still places it on the head's forward side."""
    lm = view.landmarks_px
    height = max(float(np.ptp(lm[:, 1])), 1.0)
    offset = (lm[0, 0] - (lm[11, 0] + lm[12, 0]) / 2) / height
    if view.visibility[0] < 0.5 or abs(offset) < NOSE_SIDE_MIN:
        return 0.0
    return float(np.sign(offset))


def _choose_yaws(costs: np.ndarray, grid: np.ndarray, views: list[View]) -> list[int]:
    """Per view, the grid yaw to start from: the least total cost (dynamic programming over the views in
    order) where a view that `shows_front` must face the camera, a view whose nose is to one side of its
    shoulders (`nose_side`) must face that side, and consecutive views (a turn) differ by less than 90 degrees.
    Why: a side or front view of a body and of the same body turned 180 degrees leave nearly the same depth
    points and outline (on the AR bench's turn recordings the front view was placed facing away, and the
    garment drawn back to front), and a turn to the left and its mirror turn to the right nearly so (the AR
    bench's turn with crossed arms was placed turning the wrong way, 120 degrees off, from a start only a
    little heavier)."""
    big = 10.0 * (float(np.nanmax(costs)) + 1.0)
    unary = costs.copy()
    for k, view in enumerate(views):
        if shows_front(view):
            unary[k] += np.where([_facing_camera(y) > 0.2 for y in grid], 0.0, big)
        side = nose_side(view)
        if side:
            unary[k] += np.where([side * _forward_camera(y)[0] > -FACES_SIDE for y in grid], 0.0, big)
    gap = np.abs((grid[:, None] - grid[None, :] + 180.0) % 360.0 - 180.0)
    step = np.where(gap < 90.0, 0.0, big)
    total, back = unary[0].copy(), []
    for k in range(1, len(views)):
        cand = total[:, None] + step  # previous grid index x this one
        back.append(np.argmin(cand, axis=0))
        total = cand.min(axis=0) + unary[k]
    chosen = [int(np.argmin(total))]
    for b in reversed(back):
        chosen.append(int(b[chosen[-1]]))
    return chosen[::-1]


def _unit_phenotype(name: str, value: float) -> float:
    """A phenotype on [0, 1] (age scaled from AGE_RANGE)."""
    return (value - AGE_RANGE[0]) / (AGE_RANGE[1] - AGE_RANGE[0]) if name == "age" else value


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a onto direction b (as the pose presets' aims)."""
    from pipeline.core.body.poses import _rotation_between as between

    return between(np.asarray(a, float), np.asarray(b, float))


def _on_ray(view: View, landmark: int, z: float) -> np.ndarray:
    """A landmark of a view in the camera frame at depth `z` along its pixel's ray."""
    intr = view.intrinsics
    u, v = view.landmarks_px[landmark]
    return np.array([(u - intr.ppx) / intr.fx * z, (v - intr.ppy) / intr.fy * z, z])


def _lift(view: View, landmark: int, joint_depth_m: float, radius_frac: float = 0.03) -> np.ndarray | None:
    """A landmark of a view in the camera frame: its pixel's ray at the depth of the front-most person points
    around it (their 20th percentile, plus `joint_depth_m`, the joint behind the skin), or None when no points
    are there (a depth hole, a thin arm eroded from the mask, or the landmark outside the person)."""
    intr = view.intrinsics
    u, v = view.landmarks_px[landmark]
    p = view.points
    pu = p[:, 0] / p[:, 2] * intr.fx + intr.ppx
    pv = p[:, 1] / p[:, 2] * intr.fy + intr.ppy
    radius = max(radius_frac * float(np.ptp(view.landmarks_px[:, 1])), 4.0)
    near = (pu - u) ** 2 + (pv - v) ** 2 < radius**2
    if near.sum() < 3:
        return None
    return _on_ray(view, landmark, float(np.percentile(p[near, 2], 20)) + joint_depth_m)


def landmark_offsets_m(lm_ids: list[int]) -> np.ndarray:
    """(L, 3) offsets in anny's frame (+X the person's left, Z up) from each landmark's bone head to where
    MediaPipe puts the landmark (`LANDMARK_OFFSETS_PATH`); zeros when the file is absent or the offsets are off."""
    import json

    out = np.zeros((len(lm_ids), 3))
    if not USE_LANDMARK_OFFSETS or not LANDMARK_OFFSETS_PATH.is_file():
        return out
    table = json.loads(LANDMARK_OFFSETS_PATH.read_text())["offsets_m"]
    for row, i in enumerate(lm_ids):
        if i not in OFFSET_LANDMARKS:
            continue
        outward_m, down_m = table.get(str(i), (0.0, 0.0))
        side = 1.0 if LANDMARK_BONES[i].endswith(".L") else -1.0
        out[row] = (side * outward_m, 0.0, -down_m)
    return out


def control_prior_means() -> dict[str, float]:
    """Per local control of the fit, the centre of its prior: the mean over ANSUR II-built bodies
    (`SHAPE_PRIOR_PATH`, written by scripts/calibrate_capture_prior.py); {} when the file is absent or off."""
    import json

    if not USE_SHAPE_PRIOR_MEANS or not SHAPE_PRIOR_PATH.is_file():
        return {}
    table = json.loads(SHAPE_PRIOR_PATH.read_text())["controls"]
    return {k: float(table[k]["mean"]) for k in FIT_LOCALS if k in table}


def _gm(d2, sigma: float):
    """Geman-McClure of squared residuals: quadratic near 0, flat for outliers."""
    return d2 / (d2 + sigma * sigma)


def _vertex_normals(v, faces):
    import torch

    fn = torch.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]], dim=1)
    n = (
        torch.zeros_like(v)
        .index_add_(0, faces[:, 0], fn)
        .index_add_(0, faces[:, 1], fn)
        .index_add_(0, faces[:, 2], fn)
    )
    return n / (n.norm(dim=1, keepdim=True) + 1e-12)


def fit_model():
    """The anny model the fit runs on: only the `FIT_LOCALS` controls, the others held at 0
    (`anny_model.load_model_with_controls`, built once per process)."""
    from pipeline.core.body.anny_model import load_model_with_controls

    return load_model_with_controls(tuple(FIT_LOCALS))


class BodyFitter:
    """Holds the model, the free parameters and the per-view data for one fit."""

    def __init__(self, views: list[View], init: dict[str, Any] | None = None) -> None:
        import torch

        self.model = fit_model()
        self.torch = torch
        self.views = views
        self.w_lm = 1.0
        self.w_sil = 0.5
        self.grazing_power = 1.0
        self.w_prior = 1.0
        self.w_depth = W_DEPTH_PRIOR
        self.back_seen = False  # set by init_placement: some view shows the body's back (a turn)
        # the chest-depth prior, built when first used (w_depth > 0 and no view sees the back)
        self.depth_prior: DepthPrior | None = None
        self.rest: Any = None  # the current rest body (corrective included), set by forward
        self.faces = self.model.faces.long()
        names = list(self.model.bone_labels)
        self.lm_ids = sorted(LANDMARK_BONES)
        self.lm_bone_idx = torch.tensor([names.index(LANDMARK_BONES[i]) for i in self.lm_ids])
        self.lm_offset = torch.tensor(landmark_offsets_m(self.lm_ids), dtype=torch.float32)
        init = init or {}
        ph = {k: 0.5 for k in PHENOTYPES} | {"age": 0.75} | dict(init.get("phenotypes", {}))
        centre = control_prior_means()
        lc = {k: centre.get(k, 0.0) for k in FIT_LOCALS} | {
            k: v for k, v in init.get("local_changes", {}).items() if k in FIT_LOCALS
        }

        # Phenotypes (scaled to [0, 1]) and local controls (in [-LOCAL_LIMIT, LOCAL_LIMIT]) are optimised as
        # they are and clamped to their box after each step (projected gradient). Why not a sigmoid / tanh of a
        # raw value: the ANSUR II bodies the avatar fit builds sit on the box (the heaviest woman: weight 1,
        # muscle 0, six controls at +-1), where a squashing function's gradient vanishes, so the fit could not
        # reach them (started at her true shape, the squashed start alone was 3.4 cm tall and 2.4 cm small
        # in the waist).
        self.ph = torch.tensor(
            [float(np.clip(_unit_phenotype(k, ph[k]), 0.0, 1.0)) for k in PHENOTYPES], requires_grad=True
        )
        self.lc = torch.tensor(
            [float(np.clip(lc[k], -LOCAL_LIMIT, LOCAL_LIMIT)) for k in FIT_LOCALS], requires_grad=True
        )
        self.lc_prior = torch.tensor(
            [PRIOR_MEASURE if k.startswith("measure-") else PRIOR_TRUNK for k in FIT_LOCALS]
        )
        self.lc_centre = torch.tensor([centre.get(k, 0.0) for k in FIT_LOCALS])
        # corrective amplitudes (MAX_AMPLITUDE * tanh), their unit fields on the current body (None until the
        # corrective joins) and each vertex's blended skinning rotation, which carries them to the posed body
        self.amp_raw = torch.zeros(len(CORRECTIVE_GIRTHS), requires_grad=True)
        self.fields: Any = None
        self.gm_sigma = GM_SIGMA_M[1]
        self.ph_init = self.ph.detach().clone()
        self.pose = torch.zeros(len(POSE_BONES), requires_grad=True)
        self.arm_rot = torch.zeros(len(ARM_BONES), 3, requires_grad=True)
        self.arm_start = torch.zeros(len(ARM_BONES), 3)
        self.rot = [torch.zeros(3, requires_grad=True) for _ in views]
        self.trans = [torch.zeros(3, requires_grad=True) for _ in views]
        self.base_rot = [np.eye(3) for _ in views]
        self.pts = [torch.tensor(v.points, dtype=torch.float32) for v in views]
        self.rays = [p / p.norm(dim=1, keepdim=True) for p in self.pts]
        self.refresh = True
        self.refresh_sections = True
        self.corr: list[Any] = [None] * len(views)
        self.outline_corr: list[Any] = [None] * len(views)
        self.pts_uv = [v.points[:, :2] / v.points[:, 2:3] for v in views]

    # --- parameters -> body ----------------------------------------------------------------------------
    def params(self) -> tuple[dict, dict]:
        ph = {
            k: (AGE_RANGE[0] + (AGE_RANGE[1] - AGE_RANGE[0]) * self.ph[i]) if k == "age" else self.ph[i]
            for i, k in enumerate(PHENOTYPES)
        }
        lc = {k: self.lc[i] for i, k in enumerate(FIT_LOCALS)}
        return ph, lc

    def clamp_(self) -> None:
        """Project the shape parameters back into their box (after each optimiser step)."""
        with self.torch.no_grad():
            self.ph.clamp_(0.0, 1.0)
            self.lc.clamp_(-LOCAL_LIMIT, LOCAL_LIMIT)

    def corrective(self) -> dict[str, float]:
        """The corrective amplitudes, or {} while the corrective has not joined the fit."""
        if self.fields is None:
            return {}
        amps = MAX_AMPLITUDE * self.torch.tanh(self.amp_raw.detach())
        return {k: round(float(a), 5) for k, a in zip(CORRECTIVE_GIRTHS, amps, strict=True)}

    def refresh_fields(self) -> None:
        """(Re)compute the corrective's unit fields on the current uncorrected rest body, as
        `anny_model.body_arrays` does on the final one (so the measured body is the fitted one)."""
        from pipeline.core.body.corrective import corrective_fields

        m = self.model
        with self.torch.no_grad():
            rest = self._out()["rest_vertices"][0].double().numpy()
        fields = corrective_fields(
            rest,
            m.vertex_bone_weights.double().numpy(),
            m.vertex_bone_indices.long().numpy(),
            list(m.bone_labels),
        )
        self.fields = self.torch.tensor(
            np.stack([fields[k] for k in CORRECTIVE_GIRTHS]), dtype=self.torch.float32
        )

    def forward(self):
        """Posed body vertices (V, 3) and landmark joints (J, 3) in anny's frame (the rest body in self.rest)."""
        out = self._out()
        verts = out["vertices"][0]
        self.rest = out["rest_vertices"][0]
        if self.fields is not None:  # the rest-pose corrective, turned by each vertex's skinning rotation
            torch = self.torch
            d = torch.einsum("g,gvc->vc", MAX_AMPLITUDE * torch.tanh(self.amp_raw), self.fields)
            skin = (out["bone_poses"][0] @ torch.linalg.inv(out["rest_bone_poses"][0]))[:, :3, :3].detach()
            m = self.model
            rot = torch.einsum("vk,vkij->vij", m.vertex_bone_weights, skin[m.vertex_bone_indices.long()])
            verts = verts + torch.einsum("vij,vj->vi", rot, d)
            self.rest = self.rest + d
        return verts, out["bone_poses"][0][self.lm_bone_idx, :3, 3]

    def _out(self) -> dict:
        torch = self.torch
        ph, lc = self.params()
        pose = {}
        for i, b in enumerate(POSE_BONES):
            T = torch.eye(4)
            T = torch.cat([torch.cat([_rot_y(self.pose[i]), torch.zeros(3, 1)], 1), T[3:]], 0)
            pose[b] = T[None]
        for i, b in enumerate(ARM_BONES):
            T = torch.eye(4)
            T = torch.cat([torch.cat([_rodrigues(self.arm_rot[i]), torch.zeros(3, 1)], 1), T[3:]], 0)
            pose[b] = T[None]
        return self.model(
            phenotype_kwargs={k: v.reshape(1) for k, v in ph.items()},
            local_changes_kwargs={k: v.reshape(1) for k, v in lc.items()},
            pose_parameters=pose,
        )

    def pose_deg(self) -> dict[str, list[float]]:
        """Per posed bone, its rotation vector in degrees (world axes of anny's reference pose): the legs'
        abduction about the forward axis, the arms' free rotations."""
        legs = {
            b: [0.0, float(np.degrees(a)), 0.0] for b, a in zip(POSE_BONES, self.pose.detach(), strict=True)
        }
        arms = {
            b: np.degrees(r).tolist() for b, r in zip(ARM_BONES, self.arm_rot.detach().numpy(), strict=True)
        }
        return legs | arms

    def placement(self, k: int):
        torch = self.torch
        R = _rodrigues(self.rot[k]) @ torch.tensor(self.base_rot[k], dtype=torch.float32)
        return R, self.trans[k]

    # --- initial placement ---------------------------------------------------------------------------
    def init_placement(self) -> None:
        """Per view: translation from the points, yaw by a grid search of the visible-side distance, refined
        around the grid's choice to 2.5 degrees. Depth and silhouette alone hardly tell a body's
        front from its back, so the grid's choice per view is constrained (`_choose_yaws`): a view where
        MediaPipe sees the face and the shoulders well apart faces the camera, and the views of a turn follow
        each other (less than 90 degrees apart)."""
        torch = self.torch

        with torch.no_grad():
            v, _ = self.forward()
        v = v.numpy().astype(np.float64)
        normals = _vertex_normals(torch.tensor(v), self.faces).numpy()
        v, normals = (
            v[::YAW_SEARCH_VERTEX_STEP],
            normals[::YAW_SEARCH_VERTEX_STEP],
        )  # a coarse body is enough to place it
        views, centres = [], []
        for view in self.views:
            centres.append(np.median(view.points, axis=0))
            if len(view.points) > YAW_SEARCH_POINTS:
                view = dataclasses.replace(
                    view, points=view.points[:: len(view.points) // YAW_SEARCH_POINTS + 1]
                )
            views.append(view)
        grid = np.arange(0.0, 360.0, YAW_GRID_DEG)
        tries = [
            [self._try_yaw(v, normals, vw, c, float(y)) for y in grid]
            for vw, c in zip(views, centres, strict=True)
        ]
        chosen = _choose_yaws(np.array([[t[0] for t in row] for row in tries]), grid, self.views)
        bests = [tries[k][j] for k, j in enumerate(chosen)]
        for k, (view, centre) in enumerate(zip(views, centres, strict=True)):
            best = bests[k]
            for step in (10.0, 5.0, 2.5):  # refine around the grid's choice
                base = best[1]
                for yaw in (base - step, base + step):
                    best = min(best, self._try_yaw(v, normals, view, centre, yaw), key=lambda b: b[0])
            self.base_rot[k] = WORLD_FROM_CAMERA_ROT.T @ _rz(best[1])
            self.trans[k].data = torch.tensor(best[2], dtype=torch.float32)
            # a view turned 60 degrees or more from the camera sees the back's profile: the chest-depth prior
            # is for fits where none does
            self.back_seen |= _facing_camera(best[1]) < BACK_SEEN_FACING

    @staticmethod
    def _try_yaw(
        v: np.ndarray, normals: np.ndarray, view: View, centre: np.ndarray, yaw: float
    ) -> tuple[float, float, np.ndarray]:
        """(cost, yaw, translation) of the body turned by `yaw` and shifted onto the points by ICP. The cost is
        two-sided: the points' distance to the body's camera-facing side, and how far the body's projection
        leaves the person's silhouette (in metres at the vertex's depth). The points alone do not see a body
        wider than the person: on a turn's side view of a heavy woman a placement 45 degrees off, its arm and
        leg sticking out in front, matched the points as well as the right one."""
        from scipy.spatial import cKDTree

        R = WORLD_FROM_CAMERA_ROT.T @ _rz(yaw)
        vc, nc = v @ R.T, normals @ R.T
        t = centre - np.median(vc, axis=0)
        for _ in range(3):  # ICP on the translation, with the camera-facing side re-chosen each step
            vis = (nc * (vc + t)).sum(1) < 0
            _, j = cKDTree(vc[vis] + t).query(view.points)
            t = t + np.median(view.points - (vc[vis][j] + t), axis=0)
        vis = (nc * (vc + t)).sum(1) < 0
        d, _ = cKDTree(vc[vis] + t).query(view.points)
        cost = float(np.mean(np.minimum(d, 0.1) ** 2))
        if view.outside_px is not None:
            p = vc[vis] + t
            intr = view.intrinsics
            h, w = view.outside_px.shape
            u = np.clip(np.round(p[:, 0] / p[:, 2] * intr.fx + intr.ppx).astype(int), 0, w - 1)
            r = np.clip(np.round(p[:, 1] / p[:, 2] * intr.fy + intr.ppy).astype(int), 0, h - 1)
            out_m = view.outside_px[r, u] * p[:, 2] / intr.fx
            cost += float(np.mean(np.minimum(out_m, 0.1) ** 2))
            if view.boundary_px is not None and len(view.boundary_px):
                # and the other way: the person's outline must be reached by the body (a body turned side-on
                # is narrower than a front-facing person and would otherwise fit inside any silhouette)
                gap_px, _ = cKDTree(np.stack([u, r], 1)).query(view.boundary_px)
                gap_m = gap_px * float(np.median(p[:, 2])) / intr.fx
                cost += float(np.mean(np.minimum(gap_m, 0.1) ** 2))
        return cost, yaw, t

    # --- the arms' start -------------------------------------------------------------------------------
    def init_arm_pose(self) -> None:
        """Aim each upper arm at its elbow and each forearm at its wrist as the views show them: MediaPipe's
        2D elbow and wrist lifted to 3D by the front-most depth points around them (an arm crossing the chest
        is in front of it), the shoulder taken from the placed body. Directions are averaged over the views
        facing the camera (weighted by visibility); the aims are the smallest rotations, as the pose presets'."""
        from scipy.spatial.transform import Rotation

        torch = self.torch
        with torch.no_grad():
            self.arm_rot.zero_()
            heads = self._out()["bone_poses"][0][:, :3, 3].double().numpy()
        names = list(self.model.bone_labels)
        start = np.zeros((len(ARM_BONES), 3))
        for side, chain in ARM_CHAINS.items():
            sh, el, wr = (names.index(f"{b}.{side}") for b in ("upperarm01", "lowerarm01", "wrist"))
            upper, fore = self._arm_directions(heads[[sh, el, wr]], chain)
            if upper is None:
                continue
            g_upper = _rotation_between(heads[el] - heads[sh], upper)
            g_fore = _rotation_between(heads[wr] - heads[el], g_upper.T @ fore)
            start[ARM_BONES.index(f"upperarm01.{side}")] = Rotation.from_matrix(g_upper).as_rotvec()
            start[ARM_BONES.index(f"lowerarm01.{side}")] = Rotation.from_matrix(g_fore).as_rotvec()
        with torch.no_grad():
            self.arm_start = torch.tensor(start, dtype=torch.float32)
            self.arm_rot.copy_(self.arm_start)

    def _arm_directions(self, joints: np.ndarray, chain: tuple[int, int, int]):
        """(upper arm, forearm) unit directions in anny's frame from the views facing the camera, or (None,
        None) when no view shows the arm. `joints`: the body's shoulder, elbow and wrist (anny's frame) as it
        stands: its depths are kept where the depth frame has no points on the arm (a thin arm held away from
        the body loses them to the mask's erosion; lifting by the bone's length instead turns a landmark a
        pixel or two off into a forearm 10 cm forward or back)."""
        up, fore = np.zeros(3), np.zeros(3)
        for k, view in enumerate(self.views):
            R, t = (a.detach().double().numpy() for a in self.placement(k))
            facing = -(R @ np.array([0.0, -1.0, 0.0]))[2]  # 1 facing the camera, 0 side-on
            weight = float(min(view.visibility[chain[1]], view.visibility[chain[2]])) * facing
            if weight < 0.2:
                continue
            cam = joints @ R.T + t
            s_cam = _on_ray(view, chain[0], float(cam[0, 2]))  # the placed body's depth
            e_cam = _lift(view, chain[1], ARM_JOINT_DEPTH_M["elbow"])
            if e_cam is None:
                e_cam = _on_ray(view, chain[1], float(cam[1, 2]))
            w_cam = _lift(view, chain[2], ARM_JOINT_DEPTH_M["wrist"])
            if w_cam is None:
                w_cam = _on_ray(view, chain[2], float(cam[2, 2]))
            up += weight * _unit(R.T @ (e_cam - s_cam))
            fore += weight * _unit(R.T @ (w_cam - e_cam))
        if not up.any():
            return None, None
        return _unit(up), _unit(fore)

    # --- loss ------------------------------------------------------------------------------------------
    def loss(self, w_lm: float = 1.0, w_prior: float = 1.0):
        torch = self.torch

        verts, joints = self.forward()
        normals = _vertex_normals(verts, self.faces)
        total = torch.zeros(())
        res2 = []
        for k, view in enumerate(self.views):
            R, t = self.placement(k)
            vc = verts @ R.T + t
            nc = normals @ R.T
            vis = ((nc * vc).sum(1) < 0).detach().numpy()
            idx = np.nonzero(vis)[0]
            if self.refresh or self.corr[k] is None:
                self.corr[k] = torch.as_tensor(idx[self._ray_correspondence(vc.detach().numpy()[idx], k)])
            corr = self.corr[k]
            # residual along the camera ray (where stereo depth errs): the point's range minus the range of
            # the body's tangent plane on the same ray. Unbiased under zero-mean depth noise, unlike a 3D
            # nearest-point distance, which turns noise behind a curved surface into an inward pull at the sides.
            ray = self.rays[k]
            cos = -(nc[corr] * ray).sum(1)
            plane = ((self.pts[k] - vc[corr]) * nc[corr]).sum(1)
            d2 = (plane / cos.clamp(min=0.25)) ** 2
            facing = cos.detach().clamp(0.1, 1.0) ** self.grazing_power
            total = total + (_gm(d2, self.gm_sigma) * facing).sum() / facing.sum()
            res2.append(d2.detach())
            if view.outside_px is not None:
                total = total + self.w_sil * self._silhouette(vc, nc, idx, k)
            # 2D landmarks, left/right possibly swapped
            jc = (joints + self.lm_offset) @ R.T + t
            intr = view.intrinsics
            uv = torch.stack(
                [jc[:, 0] / jc[:, 2] * intr.fx + intr.ppx, jc[:, 1] / jc[:, 2] * intr.fy + intr.ppy], 1
            )
            scale = max(float(np.ptp(view.landmarks_px[:, 1])), 50.0)
            obs = torch.tensor(view.landmarks_px[self.lm_ids], dtype=torch.float32)
            obs_sw = torch.tensor(view.landmarks_px[[SWAP[i] for i in self.lm_ids]], dtype=torch.float32)
            w = torch.tensor(view.visibility[self.lm_ids], dtype=torch.float32)
            e1 = (_gm((((uv - obs) / scale) ** 2).sum(1), 0.05) * w).mean()
            e2 = (_gm((((uv - obs_sw) / scale) ** 2).sum(1), 0.05) * w).mean()
            total = total + w_lm * 0.3 * torch.minimum(e1, e2)
        prior = (
            (self.lc_prior * ((self.lc - self.lc_centre) / LOCAL_LIMIT) ** 2).sum()
            + PRIOR_CORRECTIVE * (torch.tanh(self.amp_raw) ** 2).sum()
            + PRIOR_PHENOTYPE * ((self.ph - self.ph_init) ** 2).sum()
            + 0.05 * (self.pose**2).sum()
            + PRIOR_ARM * ((self.arm_rot - self.arm_start) ** 2).sum()
        )
        if self.w_depth > 0 and not self.back_seen:
            self.depth_prior = self.depth_prior or DepthPrior()
            if self.depth_prior.sections is None or self.refresh_sections:
                self.depth_prior.refresh(self.rest.detach().numpy())
            female = float(self.ph[PHENOTYPES.index("gender")].detach())
            prior = prior + self.w_depth * self.depth_prior.nll(self.rest, female)
        return total / len(self.views) + w_prior * prior, torch.cat(res2)

    def _ray_correspondence(
        self, vis_cam: np.ndarray, k: int, candidates: int = 6, layer_m: float = 0.1
    ) -> np.ndarray:
        """Per point of view k, the visible vertex on (nearly) the same camera ray, chosen as a z-buffer does:
        the image-nearest vertex of the front-most surface among the candidates. Never by the point's measured
        range: that would match points that noise pushed deeper to more grazing vertices (and nearer ones to more
        frontal vertices), which pulls the sides in and shrinks every girth."""
        from scipy.spatial import cKDTree

        uv = vis_cam[:, :2] / vis_cam[:, 2:3]
        d_img, j = cKDTree(uv).query(self.pts_uv[k], k=candidates)
        rng_v = np.linalg.norm(vis_cam, axis=1)[j]
        behind = rng_v > rng_v.min(axis=1, keepdims=True) + layer_m  # another body part behind the front one
        return j[np.arange(len(j)), np.argmin(np.where(behind, np.inf, d_img), axis=1)]

    def _silhouette(self, vc, nc, idx, k: int):
        """2D terms: the camera-facing side must not leave the silhouette, and must reach its outline."""
        torch = self.torch
        from scipy.spatial import cKDTree

        view = self.views[k]
        intr = view.intrinsics
        sub = torch.as_tensor(idx[:: max(len(idx) * len(self.views) // 3000, 1)])
        p = vc[sub]
        uv = torch.stack([p[:, 0] / p[:, 2] * intr.fx + intr.ppx, p[:, 1] / p[:, 2] * intr.fy + intr.ppy], 1)
        h, w = view.outside_px.shape
        grid = torch.stack([uv[:, 0] / (w - 1) * 2 - 1, uv[:, 1] / (h - 1) * 2 - 1], 1)[None, None]
        img = torch.as_tensor(view.outside_px)[None, None]
        out = torch.nn.functional.grid_sample(img, grid, align_corners=True, padding_mode="border")[0, 0, 0]
        scale = max(float(np.ptp(view.boundary_px[:, 1])), 50.0) / 100.0  # px per % of body height
        outside = _gm((torch.relu(out - 1.0) / scale) ** 2, 1.0).mean()
        if (
            self.refresh or self.outline_corr[k] is None
        ):  # the vertex (of the subsample) nearest each outline pixel
            # the rim vertex (camera-facing, its normal within RIM_COS of perpendicular to its ray) nearest each
            # outline pixel: matched to any camera-facing vertex, an outline pixel pulled out whichever vertex
            # lay nearest in the image, often one inside the body's projection (the front of a hip beside the
            # arm's inner edge, the crown of the head below the top of the mask), which inflated the hips and
            # stretched the body (turn stature +1.2 cm on 6 ANSUR-built bodies, 0.5 with the rim)
            ia = torch.as_tensor(idx)
            pv, nv = vc.detach()[ia], nc.detach()[ia]
            rim = ia[-(nv * pv).sum(1) / pv.norm(dim=1) < RIM_COS]
            pr = vc.detach()[rim]
            uvr = torch.stack(
                [pr[:, 0] / pr[:, 2] * intr.fx + intr.ppx, pr[:, 1] / pr[:, 2] * intr.fy + intr.ppy], 1
            )
            _, j = cKDTree(uvr.numpy()).query(view.boundary_px)
            self.outline_corr[k] = rim[torch.as_tensor(j)]
        q = vc[self.outline_corr[k]]
        uvq = torch.stack([q[:, 0] / q[:, 2] * intr.fx + intr.ppx, q[:, 1] / q[:, 2] * intr.fy + intr.ppy], 1)
        reach = ((uvq - torch.as_tensor(view.boundary_px, dtype=uv.dtype)) / scale).pow(2).sum(1)
        return outside + _gm(torch.relu((reach + 1e-9).sqrt() - 1.0 / scale) ** 2, 1.0).mean()

    def run(self, iterations: int, progress: ProgressCallback) -> float:
        torch = self.torch
        rigid = [*self.rot, *self.trans]
        opt = torch.optim.Adam(
            [
                {"params": [self.ph], "lr": LR_PHENOTYPE},
                {"params": [self.lc, self.amp_raw], "lr": 0.06},
                {"params": [self.pose, self.arm_rot], "lr": 0.02},
                {"params": rigid, "lr": 0.01},
            ]
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations, eta_min=0.002)
        res = torch.zeros(1)
        start = int(CORRECTIVE_FROM * iterations)
        for it in range(iterations):
            if it >= start and (it - start) % CORRECTIVE_REFRESH == 0:
                self.refresh_fields()
            anneal = min(it / max(iterations / 2, 1), 1.0)  # wide to narrow over the first half
            self.gm_sigma = float(
                np.exp((1 - anneal) * np.log(GM_SIGMA_M[0]) + anneal * np.log(GM_SIGMA_M[1]))
            )
            opt.zero_grad()
            self.refresh = it < 10 or it % REFRESH_EVERY == 0
            self.refresh_sections = it % CORRECTIVE_REFRESH == 0
            loss, res = self.loss(w_lm=self.w_lm, w_prior=self.w_prior)
            loss.backward()
            opt.step()
            self.clamp_()
            sched.step()
            if it % 10 == 0:
                progress(0.1 + 0.85 * it / iterations, f"fitting ({it}/{iterations})")
        if iterations > start:  # the measured body's fields are computed on the final body: refresh them
            self.refresh_fields()
        return float(torch.sqrt(torch.clamp(res, max=0.05**2).mean()))


def fit_body(
    views: list[View],
    init: dict[str, Any] | None = None,
    iterations: int | None = None,
    progress: ProgressCallback = silent,
) -> FitResult:
    """Fit anny to the views; `init` (phenotypes/local_changes dicts) starts it, else the average adult.
    `iterations`: None for `default_iterations` of the views."""
    import torch

    if iterations is None:
        iterations = default_iterations(len(views))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small ops: one thread is fastest and does not collapse on a busy machine
    try:
        return _fit_body(views, init, iterations, progress)
    finally:
        torch.set_num_threads(threads)


def _fit_body(
    views: list[View], init: dict[str, Any] | None, iterations: int, progress: ProgressCallback
) -> FitResult:
    t0 = time.perf_counter()
    fitter = BodyFitter(views, init)
    progress(0.02, "placing the body")
    fitter.init_placement()
    # the arms where the views show them (placing the body again with them moved it: the forearms in front
    # of the chest pulled the translation's ICP, and the legs grew 18 cm on a crossed-arms recording)
    fitter.init_arm_pose()
    residual = fitter.run(iterations, progress)
    ph, lc = fitter.params()
    yaws, placements = [], []
    for k in range(len(views)):
        R, t = fitter.placement(k)
        placements.append((R.detach().numpy().astype(np.float64), t.detach().numpy().astype(np.float64)))
        body_fwd_cam = R.detach().numpy() @ np.array([0.0, -1.0, 0.0])  # the body's facing direction
        yaws.append(float(np.degrees(np.arctan2(body_fwd_cam[0], -body_fwd_cam[2]))))
    progress(1.0, "fitted")
    return FitResult(
        phenotypes={k: float(v.detach()) for k, v in ph.items()},
        local_changes={k: float(v.detach()) for k, v in lc.items()},
        pose_deg=fitter.pose_deg(),
        yaws_deg=yaws,
        residual_m=residual,
        time_s=time.perf_counter() - t0,
        iterations=iterations,
        placements=placements,
        corrective=fitter.corrective(),
    )

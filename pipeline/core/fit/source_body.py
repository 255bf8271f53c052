"""Estimate the body a garment was made for: the angles of its shoulders, elbows, hips and knees, where it
stands in the garment and the garment's scale (its units), by fitting anny inside the garment.

Any garment mesh is modelled around some body in some pose (A-pose at any arm angle, T-pose, relaxed, a CLO or
Marvelous Designer export, MakeHuman's base pose). Knowing that body lets the garment be bound to its surface
and moved onto another body (`pipeline.core.fit.transfer`) before draping.

The fit is a derivative-free search, robust to a poor start: for each candidate pose (anny's average adult
skinned with one rotation per upper arm, forearm, thigh and shin, about their heads), a robust ICP (weighted
Procrustes for scale and translation, Geman-McClure weights so a flared hem pulls little) brings the garment
within a small gap of the skin; the pose is scored by the robust distance plus garment points left inside the
body. Both arms are searched together first (20-90 degrees), then each joint on its own over a few angles
(coordinate descent), only for the limbs the garment reaches. On every 4th body vertex; about 2 s of CPU.

Shape: after the pose, anny's gender (0 or 1 against 0.5) and weight (0.25 or 0.8 against 0.5) are tried, each on
its own. Limits: muscle, proportions and height stay at an average adult's; a garment made for a body between
those shapes reads as a slightly looser or tighter one (the transfer keeps its ease);
angles are on a grid (15-degree steps at the shoulder); hands, feet, spine and head are not posed; a garment
that covers no limb leaves that limb at the A-pose."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from pipeline.core.errors import UserError
from pipeline.core.fit.bodyfield import vertex_normals

BASE_PHENOTYPES = {
    "gender": 0.5,
    "age": 0.75,
    "muscle": 0.5,
    "weight": 0.5,
    "height": 0.5,
    "proportions": 0.5,
}
DRIVERS = (
    "upperarm01.L",
    "lowerarm01.L",
    "upperarm01.R",
    "lowerarm01.R",
    "upperleg01.L",
    "lowerleg01.L",
    "upperleg01.R",
    "lowerleg01.R",
)
GAP_M = 0.008  # the garment's target distance from the skin
INSIDE_MARGIN_M = 0.002
PULL_SCALE_M = 0.03  # Geman-McClure scale: points much further off (a flared hem) pull little
UNIT_NAMES = {"mm": 0.001, "cm": 0.01, "in": 0.0254, "dm": 0.1, "ft": 0.3048, "m": 1.0}
SNAP_TOLERANCE = 0.2  # a fitted scale within 20 % of a named unit is taken as that unit
SCALE_RANGE = (0.2, 5.0)  # the fit may rescale the loaded garment this much at most
MAX_POINTS = 1500
START_SCALES = (0.6, 1.0, 1.6, 2.5)  # the search starts from each (the importer's unit may be off)
BODY_STRIDE = 4  # the fit runs on every 4th body vertex (about 3,400)


@dataclasses.dataclass
class SourceBody:
    """The body a garment was made for, in the garment's frame after `scale` (metres)."""

    vertices: np.ndarray  # (V, 3) anny body, posed, in the scaled garment's frame
    faces: np.ndarray  # (F, 3)
    scale: float  # factor applied to the garment as loaded to bring it to metres
    translation_m: np.ndarray  # (3,) where the body's root sits in the garment's (scaled) frame
    phenotypes: dict[str, float]
    pose_deg: dict[str, float]
    residual_mm: float  # median distance of the garment from the body's surface
    inside_share: float  # share of garment points left inside the body
    covered_share: float  # share of garment points within 8 cm of the body
    height_m: float
    fit_s: float

    def record(self, units_loaded: str | None = None) -> dict[str, Any]:
        """What goes in the fit JSON as `source_body`."""
        return {
            "phenotypes": {k: round(v, 3) for k, v in self.phenotypes.items()},
            "pose_deg": {k: round(v, 1) for k, v in self.pose_deg.items()},
            "scale": round(self.scale, 5),
            "units_loaded": units_loaded,
            **unit_guess(self.scale, units_loaded),
            "height_m": round(self.height_m, 3),
            "residual_mm": round(self.residual_mm, 1),
            "inside_share": round(self.inside_share, 4),
            "covered_share": round(self.covered_share, 4),
            "fit_s": round(self.fit_s, 3),
        }


def unit_guess(scale: float, units_loaded: str | None) -> dict[str, Any]:
    """Name the garment file's unit from the fitted scale: the loaded unit times `scale` metres per file unit,
    snapped to a named unit when within 20 %; otherwise the plain metres-per-unit figure."""
    per_unit = scale * UNIT_NAMES.get(units_loaded or "m", 1.0)
    name, ratio = min(((n, per_unit / u) for n, u in UNIT_NAMES.items()), key=lambda nr: abs(math.log(nr[1])))
    snapped = abs(math.log(ratio)) < math.log(1 + SNAP_TOLERANCE)
    return {
        "units_guess": name if snapped else "unknown",
        "metres_per_file_unit": round(per_unit, 6),
    }


@dataclasses.dataclass
class _Linear:
    """anny's average adult as arrays, with the skin weights gathered per posed limb ("driver slot")."""

    rest: np.ndarray  # (V, 3)
    heads: np.ndarray  # (B, 3)
    faces: np.ndarray
    slot_weights: np.ndarray  # (V, 1 + len(DRIVERS)): skin weight per driver slot (0 = unposed)
    driver_parent: list[int]  # slot of each driver's nearest driver ancestor (0 = none)
    driver_bones: list[int]  # bone index of each driver
    bone_names: list[str]
    slot_of_bone: np.ndarray  # (B,) the slot whose transform moves each bone's head


def _anny_rest(model, phenotypes: dict[str, float]):
    import torch

    with torch.no_grad():
        out = model(phenotype_kwargs={k: torch.tensor([float(v)]) for k, v in phenotypes.items()})
    return out["rest_vertices"][0].double().numpy(), out["rest_bone_poses"][0, :, :3, 3].double().numpy()


@functools.lru_cache(maxsize=1)
def linear_anny() -> _Linear:
    """anny's average adult and its limb skinning slots (one anny evaluation, once per process)."""
    from pipeline.core.body.anny_model import load_model

    model = load_model()
    rest, heads = _anny_rest(model, BASE_PHENOTYPES)
    names = list(model.bone_labels)
    parents = np.asarray(model.bone_parents, dtype=np.int64)
    driver_bones = [names.index(b) for b in DRIVERS]
    slot_of_bone = np.zeros(len(names), dtype=np.int64)
    for b in _parents_first(parents):
        if b in driver_bones:
            slot_of_bone[b] = driver_bones.index(b) + 1
        elif parents[b] >= 0:
            slot_of_bone[b] = slot_of_bone[parents[b]]
    driver_parent = [int(slot_of_bone[parents[b]]) for b in driver_bones]
    w = model.vertex_bone_weights.double().numpy()
    idx = model.vertex_bone_indices.long().numpy()
    slots = np.zeros((len(rest), len(DRIVERS) + 1))
    np.add.at(slots, (np.repeat(np.arange(len(rest)), w.shape[1]), slot_of_bone[idx].ravel()), w.ravel())
    return _Linear(
        rest, heads, model.faces.long().numpy(), slots, driver_parent, driver_bones, names, slot_of_bone
    )


def _parents_first(parents: np.ndarray) -> list[int]:
    order, seen = [], set()
    while len(order) < len(parents):
        for b in range(len(parents)):
            if b not in seen and (parents[b] < 0 or int(parents[b]) in seen):
                order.append(b)
                seen.add(b)
    return order


def _rodrigues(w):
    import torch

    theta = torch.sqrt((w * w).sum(-1, keepdim=True) + 1e-12)
    k = w / theta
    kx, ky, kz = k.unbind(-1)
    zero = torch.zeros_like(kx)
    skew = torch.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(*w.shape[:-1], 3, 3)
    s, c = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
    eye = torch.eye(3, dtype=w.dtype).expand_as(skew)
    return eye + s * skew + (1 - c) * skew @ skew


def _pose(lin: _Linear, rest, heads, w):
    """Skin `rest` with one rotation per driver (axis-angle `w`, (D, 3)) about its head, down the chain."""
    import torch

    rots = _rodrigues(w)
    heads_d = heads[lin.driver_bones]
    r_all = [torch.eye(3, dtype=rest.dtype)]
    t_all = [torch.zeros(3, dtype=rest.dtype)]
    for d in range(len(DRIVERS)):
        p = lin.driver_parent[d]
        r_g = rots[d]
        t_g = heads_d[d] - r_g @ heads_d[d]
        r_all.append(r_all[p] @ r_g)
        t_all.append(r_all[p] @ t_g + t_all[p])
    r = torch.stack(r_all)  # (S, 3, 3)
    t = torch.stack(t_all)  # (S, 3)
    sw = torch.as_tensor(lin.slot_weights, dtype=rest.dtype)
    moved = torch.einsum("sij,vj->vsi", r, rest) + t[None]
    return (sw[..., None] * moved).sum(1), r, t


def _initial_placement(points: np.ndarray, lin: _Linear, covers_shoulders: bool) -> tuple[float, np.ndarray]:
    """Scale 1 and a translation putting the garment's top at the body's neck base (tops, dresses, outfits)
    or at its waist (bottoms), centred on the body in x and y."""
    v = lin.rest
    names = lin.bone_names
    neck = lin.heads[names.index("neck01")] if "neck01" in names else v[np.argmax(v[:, 2])]
    pelvis = lin.heads[0]
    top_z = neck[2] + 0.02 if covers_shoulders else pelvis[2] + 0.12
    lo, hi = points.min(0), points.max(0)
    t = np.array([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2 + 0.01 + pelvis[1], top_z - hi[2]])
    return 1.0, t


def fit_source_body(
    vertices: np.ndarray,
    faces: np.ndarray,
    covers_shoulders: bool = True,
    seed: int = 0,
    check: bool = True,
    fix_scale: bool = False,
) -> SourceBody:
    """Fit anny inside the garment (`vertices` as loaded, metres by the importer's guess). Raises UserError
    when no body explains the garment (then its scale must be given with --scale)."""

    t0 = time.perf_counter()
    lin = linear_anny()
    verts = np.asarray(vertices, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sample = verts if len(verts) <= MAX_POINTS else verts[rng.choice(len(verts), MAX_POINTS, replace=False)]
    centre = 0.5 * (sample.min(0) + sample.max(0))
    angles, scale, trans, score, shape = search_source_body(sample - centre, covers_shoulders, fix_scale)
    fit = _finish(lin, verts, centre, scale, trans, angles, shape, t0)
    if check:
        check_explained(fit)
    return fit


def _finish(lin: _Linear, verts, centre, scale: float, trans, angles, shape, t0) -> SourceBody:
    """The whole body in the found pose, in the frame of the garment scaled to metres, and the fit's figures
    over all garment vertices."""
    import torch

    from pipeline.core.fit.bodyfield import BodyField

    rest, heads, _ = shaped_anny(shape["gender"], shape["weight"])
    w = torch.as_tensor(driver_rotations(lin, heads, angles))
    with torch.no_grad():
        body, r, t = _pose(lin, torch.as_tensor(rest), torch.as_tensor(heads), w)
        slot = torch.as_tensor(lin.slot_of_bone)
        heads_posed = (r[slot] @ torch.as_tensor(heads)[..., None])[..., 0] + t[slot]
    # garment point q (scaled) = p + centre * scale - trans, with p in the body's frame
    offset = centre * scale - np.asarray(trans, dtype=np.float64)
    body_np = body.numpy() + offset
    sd = BodyField(body_np, lin.faces, use_warp=False).closest(np.asarray(verts) * scale).signed_distance
    return SourceBody(
        vertices=body_np,
        faces=lin.faces,
        scale=float(scale),
        translation_m=offset,
        phenotypes=dict(BASE_PHENOTYPES, **shape),
        pose_deg=pose_angles(lin, heads_posed.numpy()),
        residual_mm=float(np.median(np.abs(sd))) * 1000,
        inside_share=float((sd < -0.005).mean()),
        covered_share=float((np.abs(sd) < 0.08).mean()),
        height_m=float(np.ptp(rest[:, 2])),
        fit_s=time.perf_counter() - t0,
    )


def pose_angles(lin: _Linear, heads_posed: np.ndarray) -> dict[str, float]:
    """Joint angles of the fitted pose in degrees: arm abduction from hanging straight down (90 = T-pose),
    elbow and knee bend, hip abduction (sideways) and flexion (forward) of the thigh."""
    idx = {n: i for i, n in enumerate(lin.bone_names)}
    out: dict[str, float] = {}
    down = np.array([0.0, 0.0, -1.0])
    for side in ("L", "R"):
        sh, el, wr = (heads_posed[idx[f"{b}.{side}"]] for b in ("upperarm01", "lowerarm01", "wrist"))
        hip, knee, ankle = (heads_posed[idx[f"{b}.{side}"]] for b in ("upperleg01", "lowerleg01", "foot"))
        out[f"shoulder_{side}"] = _angle(el - sh, down)
        out[f"elbow_{side}"] = _angle(el - sh, wr - el)
        out[f"hip_abduction_{side}"] = math.degrees(math.atan2(abs(knee[0] - hip[0]), hip[2] - knee[2]))
        out[f"hip_flexion_{side}"] = math.degrees(math.atan2(hip[1] - knee[1], hip[2] - knee[2]))
        out[f"knee_{side}"] = _angle(knee - hip, ankle - knee)
    return out


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    c = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def check_explained(fit: SourceBody) -> None:
    """A garment no body explains (most of it far from any body, or the body through it) is refused."""
    in_range = SCALE_RANGE[0] <= fit.scale <= SCALE_RANGE[1]
    if fit.covered_share < 0.6 or fit.residual_mm > 40 or not in_range:
        raise UserError(
            f"no body fits inside this garment (median {fit.residual_mm:.0f} mm off the body, "
            f"{100 * fit.covered_share:.0f} % near it, scale {fit.scale:.3g}): give its scale with --scale"
        )


# ---- the search: a coarse, derivative-free fit of pose, scale and placement (robust to a bad start) ----

# Joint angles searched (degrees): arm abduction (0 = hanging, 90 = T-pose), elbow bend (forward), hip
# abduction, hip flexion (forward), knee bend, and the body's weight phenotype (an offset from 0.5).
SHAPE_STEPS = {"gender": (0.0, 1.0), "weight": (0.25, 0.8)}  # tried after the pose, each on its own
ANGLE_STEPS = {
    "shoulder": (20.0, 35.0, 50.0, 65.0, 80.0, 90.0),
    "elbow": (0.0, 20.0, 45.0),
    "hip_abduction": (0.0, 6.0, 12.0),
    "hip_flexion": (-25.0, -12.0, 0.0, 12.0, 25.0),
    "knee": (0.0, 20.0, 40.0),
}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _axis_angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    s = float(np.linalg.norm(axis))
    angle = math.atan2(s, float(np.dot(a, b)))
    return np.zeros(3) if s < 1e-9 else axis / s * angle


def _rotvec_matrix(w: np.ndarray) -> np.ndarray:
    theta = float(np.linalg.norm(w))
    if theta < 1e-12:
        return np.eye(3)
    k = w / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * kx + (1 - math.cos(theta)) * kx @ kx


def driver_rotations(lin: _Linear, heads: np.ndarray, angles: dict[str, float]) -> np.ndarray:
    """Axis-angle rotations (len(DRIVERS), 3) that put the limbs at `angles` (degrees, keys like
    'shoulder_L', 'elbow_R', 'hip_abduction_L', 'hip_flexion_R', 'knee_L'), each in its parent's frame."""
    idx = {n: i for i, n in enumerate(lin.bone_names)}
    w = np.zeros((len(DRIVERS), 3))
    for side, sx in (("L", 1.0), ("R", -1.0)):
        a = math.radians(angles[f"shoulder_{side}"])
        arm = np.array([sx * math.sin(a), 0.0, -math.cos(a)])
        e = math.radians(angles[f"elbow_{side}"])
        forearm = _unit(arm * math.cos(e) + np.array([0.0, -1.0, 0.0]) * math.sin(e))
        ab, fl = math.radians(angles[f"hip_abduction_{side}"]), math.radians(angles[f"hip_flexion_{side}"])
        thigh = _unit(np.array([sx * math.sin(ab), -math.sin(fl), -math.cos(ab) * math.cos(fl)]))
        k = math.radians(angles[f"knee_{side}"])
        shin = _unit(thigh * math.cos(k) + np.array([0.0, 1.0, 0.0]) * math.sin(k))
        for upper, lower, tail, d1, d2 in (
            ("upperarm01", "lowerarm01", "wrist", arm, forearm),
            ("upperleg01", "lowerleg01", "foot", thigh, shin),
        ):
            u, lo, t = idx[f"{upper}.{side}"], idx[f"{lower}.{side}"], idx[f"{tail}.{side}"]
            wu = _axis_angle_between(heads[lo] - heads[u], d1)
            r_u = _rotvec_matrix(wu)
            wl = _axis_angle_between(heads[t] - heads[lo], r_u.T @ d2)
            w[DRIVERS.index(f"{upper}.{side}")] = wu
            w[DRIVERS.index(f"{lower}.{side}")] = wl
    return w


def _posed(
    lin_sub: _Linear, heads: np.ndarray, rest: np.ndarray, angles: dict[str, float], rest_normals=None
):
    """Vertices (and, given rest normals, normals turned by the same blended rotations) in pose `angles`."""
    import torch

    w = torch.as_tensor(driver_rotations(lin_sub, heads, angles))
    with torch.no_grad():
        body, r, _ = _pose(lin_sub, torch.as_tensor(rest), torch.as_tensor(heads), w)
    if rest_normals is None:
        return body.numpy()
    rot = np.einsum("vs,sij->vij", lin_sub.slot_weights, r.numpy())
    n = np.einsum("vij,vj->vi", rot, rest_normals)
    return body.numpy(), n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _align(
    points: np.ndarray,
    body: np.ndarray,
    normals: np.ndarray,
    s: float,
    t: np.ndarray,
    fix_scale: bool,
    iters: int,
) -> tuple[float, np.ndarray, float]:
    """Scale and translation of `points` onto the body (robust ICP towards the skin plus a gap), and a score."""
    tree = cKDTree(body)
    score = np.inf
    for it in range(iters + 1):
        p = points * s + t
        d, j = tree.query(p)
        sd = np.einsum("ij,ij->i", p - body[j], normals[j])
        sigma = 0.12 if it < iters // 2 else PULL_SCALE_M
        r = np.maximum(d - GAP_M, 0.0)
        inside = np.maximum(INSIDE_MARGIN_M - sd, 0.0)
        score = float((r**2 / (r**2 + PULL_SCALE_M**2)).mean() + 0.3 * ((inside / 0.01) ** 2).mean())
        if it == iters:
            break
        target = body[j] + normals[j] * GAP_M
        wgt = sigma**2 / (d**2 + sigma**2)
        gm = (wgt[:, None] * points).sum(0) / wgt.sum()
        tm = (wgt[:, None] * target).sum(0) / wgt.sum()
        if not fix_scale:
            num = (wgt * np.einsum("ij,ij->i", points - gm, target - tm)).sum()
            den = (wgt * ((points - gm) ** 2).sum(1)).sum()
            s = float(np.clip(num / max(den, 1e-12), s * 0.7, s * 1.4))
        t = tm - s * gm
    return s, t, score


@functools.lru_cache(maxsize=16)
def shaped_anny(gender: float, weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rest vertices, bone heads and vertex normals of anny's adult with this gender and weight (cached)."""
    from pipeline.core.body.anny_model import load_model

    rest, heads = _anny_rest(load_model(), dict(BASE_PHENOTYPES, gender=gender, weight=weight))
    return rest, heads, vertex_normals(rest, linear_anny().faces)


BEND_PRIOR = 0.03  # score added per (bend / 90 degrees)^2 of elbows, knees and hip flexion


def _bend_prior(angles: dict[str, float]) -> float:
    return BEND_PRIOR * sum(
        (v / 90.0) ** 2 for k, v in angles.items() if k.startswith(("elbow", "knee", "hip_flexion"))
    )


def search_source_body(
    points: np.ndarray, covers_shoulders: bool, fix_scale: bool = False
) -> tuple[dict[str, float], float, np.ndarray, float, dict[str, float]]:
    """Joint angles, scale, translation, score and shape (gender, weight) of the best body found for garment
    `points` (centred): all arm angles with both arms alike first, then each joint on its own (coordinate
    descent), then a few body shapes."""
    lin = linear_anny()
    sub = np.arange(0, len(lin.rest), BODY_STRIDE)
    lin_sub = dataclasses.replace(lin, rest=lin.rest[sub], slot_weights=lin.slot_weights[sub])
    heads = lin.heads
    angles = {f"{j}_{s}": 0.0 for j in ANGLE_STEPS for s in ("L", "R")}
    angles.update({"shoulder_L": 45.0, "shoulder_R": 45.0, "hip_abduction_L": 6.0, "hip_abduction_R": 6.0})
    state: dict[str, Any] = {}

    rest_normals = vertex_normals(lin.rest, lin.faces)[sub]

    def evaluate(a: dict[str, float], iters: int = 6) -> float:
        body, normals = _posed(lin_sub, heads, lin_sub.rest, a, rest_normals)
        s, t, score = _align(points, body, normals, state["s"], state["t"], fix_scale, iters)
        return score, s, t

    # several starting scales: ICP alone settles on a garment shrunk inside the body when started too small
    best = np.inf
    for s0 in (1.0,) if fix_scale else START_SCALES:
        state["s"] = s0
        state["t"] = _initial_placement(points * s0, lin, covers_shoulders)[1]
        score, s, t = evaluate(angles, iters=16)
        if score < best:
            best, best_s, best_t = score, s, t
    state["s"], state["t"] = best_s, best_t
    for value in ANGLE_STEPS["shoulder"] if covers_shoulders else ():  # both arms alike first
        trial = dict(angles, shoulder_L=value, shoulder_R=value)
        score, s, t = evaluate(trial)
        if score < best:
            best, angles, state["s"], state["t"] = score, trial, s, t
    # only the joints the garment reaches: arms for tops, legs for what goes below the crotch
    crotch_z = heads[lin.bone_names.index("upperleg01.L")][2] - 0.05
    low = float((points[:, 2] * state["s"] + state["t"][2]).min())
    joints = [
        j
        for j in ANGLE_STEPS
        if (j in ("shoulder", "elbow") and covers_shoulders)
        or (j not in ("shoulder", "elbow") and low < crotch_z - 0.1)
    ]
    for _ in range(1):
        for joint in joints:
            values = ANGLE_STEPS[joint]
            for side in ("L", "R"):
                for value in values:
                    key = f"{joint}_{side}"
                    if value == angles[key]:
                        continue
                    trial = dict(angles, **{key: value})
                    score, s, t = evaluate(trial, iters=3)
                    # a bent elbow or knee must earn its place: a small prior towards straight limbs keeps
                    # noise in the score from bending a tight legging's knee
                    if score + _bend_prior(trial) < best + _bend_prior(angles) - 1e-4:
                        best, angles, state["s"], state["t"] = score, trial, s, t
    best, state["s"], state["t"] = evaluate(angles, iters=10)
    shape = {"gender": BASE_PHENOTYPES["gender"], "weight": BASE_PHENOTYPES["weight"]}
    for key, values in SHAPE_STEPS.items():
        for value in values:
            trial_shape = dict(shape, **{key: value})
            rest, heads_s, normals_s = shaped_anny(trial_shape["gender"], trial_shape["weight"])
            body, normals = _posed(lin_sub, heads_s, rest[sub], angles, normals_s[sub])
            s_, t_, score = _align(points, body, normals, state["s"], state["t"], fix_scale, 6)
            if score < best - 1e-4:
                best, shape, state["s"], state["t"] = score, trial_shape, s_, t_
    return angles, state["s"], state["t"], best, shape

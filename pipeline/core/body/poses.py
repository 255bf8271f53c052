"""Pose presets for the anny rig, in plain numpy so anny (core) and Blender (armature) pose a body identically.

A pose is a set of rotations about bone heads, each given in world-aligned axes of the rest pose (Z up,
body faces -Y, +X is the model's left), applied down the hierarchy: bone c's skinning transform is
T_c = T_parent @ G_c, with G_c a rotation about c's rest head. A bone left out keeps G_c = I. Rotations are
either explicit (axis, degrees) or "aims": turn the segment from the bone's head to a joint further down the
chain (e.g. shoulder to elbow) onto a target direction. Skinning is anny's linear blend skinning, so
`pose_body` gives the same vertices as Blender's Armature modifier with the same bone matrices.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.errors import UserError

# Each entry: bone -> ("aim", end_joint_bone, direction) or ("rot", axis, degrees). Directions and axes are in
# the rest frame's world axes. Order matters only through the hierarchy (parents first), handled in code.
_ARM_L = ("upperarm01.L", "lowerarm01.L")
_FOREARM_L = ("lowerarm01.L", "wrist.L")
_ARM_R = ("upperarm01.R", "lowerarm01.R")
_FOREARM_R = ("lowerarm01.R", "wrist.R")
_THIGH_L = ("upperleg01.L", "lowerleg01.L")
_SHIN_L = ("lowerleg01.L", "foot.L")
_THIGH_R = ("upperleg01.R", "lowerleg01.R")
_SHIN_R = ("lowerleg01.R", "foot.R")


def _dir(x: float, y: float, z: float) -> tuple[float, float, float]:
    v = np.array([x, y, z], dtype=float)
    return tuple(v / np.linalg.norm(v))


def _aims(pairs: list[tuple[tuple[str, str], tuple[float, float, float]]]) -> dict:
    return {bone: ("aim", end, d) for (bone, end), d in pairs}


POSES: dict[str, dict] = {
    # Catalog default: arms straight, 45 degrees down in the frontal plane, legs straight and slightly apart.
    "a-pose": _aims(
        [
            (_ARM_L, _dir(0.7, -0.04, -0.7)),
            (_FOREARM_L, _dir(0.7, -0.1, -0.7)),
            (_ARM_R, _dir(-0.7, -0.04, -0.7)),
            (_FOREARM_R, _dir(-0.7, -0.1, -0.7)),
        ]
    ),
    "t-pose": _aims(
        [
            (_ARM_L, _dir(1, 0, 0)),
            (_FOREARM_L, _dir(1, -0.02, 0)),
            (_ARM_R, _dir(-1, 0, 0)),
            (_FOREARM_R, _dir(-1, -0.02, 0)),
        ]
    ),
    # Arms hanging by the sides, just clear of the hips (angle found per body), elbows softly bent forward.
    "relaxed": {
        "upperarm01.L": ("hang", "lowerarm01.L", 1.0, 0.03),
        "lowerarm01.L": ("hang", "wrist.L", 1.0, -0.3),
        "upperarm01.R": ("hang", "lowerarm01.R", -1.0, 0.03),
        "lowerarm01.R": ("hang", "wrist.R", -1.0, -0.3),
    },
    # Mid-stride: left leg forward, right leg back with the knee bent, arms swinging opposite to the legs.
    "walking": _aims(
        [
            (_THIGH_L, _dir(0.04, -0.36, -1)),
            (_SHIN_L, _dir(0.04, -0.12, -1)),
            (_THIGH_R, _dir(-0.04, 0.3, -1)),
            (_SHIN_R, _dir(-0.04, 0.75, -1)),
            (_ARM_L, _dir(0.22, 0.3, -1)),
            (_FOREARM_L, _dir(0.15, 0.05, -1)),
            (_ARM_R, _dir(-0.22, -0.35, -1)),
            (_FOREARM_R, _dir(-0.12, -0.75, -1)),
        ]
    ),
    # Arms folded in front of the chest: upper arms down and a little forward, forearms across the body, the
    # left one above and in front of the right (the AR bench's occlusion case).
    "arms-crossed": _aims(
        [
            (_ARM_L, _dir(0.22, -0.35, -1)),
            (_FOREARM_L, _dir(-1, -0.45, 0.28)),
            (_ARM_R, _dir(-0.22, -0.3, -1)),
            (_FOREARM_R, _dir(1, -0.3, 0.12)),
        ]
    ),
}
POSE_NAMES = tuple(POSES)
DEFAULT_POSE = "a-pose"


def check_pose(name: str) -> str:
    """The pose name if it is a preset, else a one-line UserError listing the presets."""
    if name not in POSES:
        raise UserError(f"unknown pose '{name}'; expected one of: {', '.join(POSE_NAMES)}")
    return name


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector a onto unit vector b."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -0.999999:  # opposite: turn half a turn about any perpendicular axis
        axis = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
        return _axis_angle(axis, 180.0)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def _axis_angle(axis, degrees: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    t = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k


ARM_BONE_PREFIXES = ("shoulder01", "upperarm", "lowerarm", "wrist", "finger", "metacarpal")
HANG_CLEARANCE_M = 0.075  # from the wrist joint centre: half a wrist (~3 cm) plus a gap
HANG_LIMITS_DEG = (6.0, 35.0)


def hang_angle(bone_names, bone_parents, rest_bone_poses, rest_vertices, weights, weight_bones) -> float:
    """Angle (radians) from vertical at which a hanging arm's wrist joint passes ~7.5 cm outside the body's side."""
    heads = rest_bone_poses[:, :3, 3]
    shoulder = heads[bone_names.index("upperarm01.L")]
    wrist = heads[bone_names.index("wrist.L")]
    length = float(np.linalg.norm(wrist - shoulder))
    is_arm = np.array([n.startswith(ARM_BONE_PREFIXES) for n in bone_names])
    body = (weights * is_arm[weight_bones]).sum(axis=1) < 0.5
    z = rest_vertices[:, 2]
    band = body & (z < shoulder[2] - 0.45 * length) & (z > shoulder[2] - 1.05 * length)
    side = float(np.abs(rest_vertices[band, 0]).max()) if band.any() else shoulder[0]
    sine = np.clip((side + HANG_CLEARANCE_M - shoulder[0]) / length, -1.0, 1.0)
    lo, hi = np.radians(HANG_LIMITS_DEG)
    return float(np.clip(np.arcsin(sine), lo, hi))


def skinning_transforms(
    bone_names: list[str],
    bone_parents: np.ndarray,
    rest_bone_poses: np.ndarray,
    pose: str,
    rest_vertices: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    weight_bones: np.ndarray | None = None,
) -> np.ndarray:
    """(B, 4, 4) transforms T_c mapping the rest pose to `pose` (without the floor offset). The mesh and weights
    are needed by poses that adapt to the body (relaxed arms clearing the hips)."""
    spec = POSES[check_pose(pose)]
    index = {n: i for i, n in enumerate(bone_names)}
    heads = rest_bone_poses[:, :3, 3]
    count = len(bone_names)
    transforms = np.tile(np.eye(4), (count, 1, 1))
    for c in _parents_first(bone_parents):
        parent = int(bone_parents[c])
        t_parent = transforms[parent] if parent >= 0 else np.eye(4)
        rule = spec.get(bone_names[c])
        rot = np.eye(3)
        if rule is not None and rule[0] == "aim":
            rest_dir = heads[index[rule[1]]] - heads[c]
            target_in_rest = t_parent[:3, :3].T @ np.asarray(rule[2], dtype=float)
            rot = _rotation_between(rest_dir, target_in_rest)
        elif rule is not None and rule[0] == "hang":
            rest_dir = heads[index[rule[1]]] - heads[c]
            tilt = hang_angle(bone_names, bone_parents, rest_bone_poses, rest_vertices, weights, weight_bones)
            target = np.array([rule[2] * np.sin(tilt), rule[3], -np.cos(tilt)])
            target_in_rest = t_parent[:3, :3].T @ (target / np.linalg.norm(target))
            rot = _rotation_between(rest_dir, target_in_rest)
        elif rule is not None and rule[0] == "rot":
            rot = _axis_angle(rule[1], rule[2])
        g = np.eye(4)
        g[:3, :3] = rot
        g[:3, 3] = heads[c] - rot @ heads[c]
        transforms[c] = t_parent @ g
    return transforms


def _parents_first(bone_parents: np.ndarray) -> list[int]:
    order, seen = [], set()
    remaining = list(range(len(bone_parents)))
    while remaining:
        nxt = [c for c in remaining if bone_parents[c] < 0 or int(bone_parents[c]) in seen]
        order += nxt
        seen.update(nxt)
        remaining = [c for c in remaining if c not in seen]
    return order


def linear_blend_skinning(
    rest_vertices: np.ndarray, weights: np.ndarray, weight_bones: np.ndarray, transforms: np.ndarray
) -> np.ndarray:
    """anny's LBS: each vertex moved by the weighted sum of its bones' transforms."""
    per_vertex = np.einsum("vk,vkij->vij", weights, transforms[weight_bones])  # (V, 4, 4)
    return np.einsum("vij,vj->vi", per_vertex[:, :3, :3], rest_vertices) + per_vertex[:, :3, 3]


def pose_body(body, pose: str = DEFAULT_POSE):
    """A copy of `body` (BodyArrays) posed with a preset, feet put back on the floor (z=0)."""
    transforms = skinning_transforms(
        body.bone_names,
        body.bone_parents,
        body.rest_bone_poses,
        pose,
        body.rest_vertices,
        body.weights,
        body.weight_bones,
    )
    verts = linear_blend_skinning(body.rest_vertices, body.weights, body.weight_bones, transforms)
    lift = np.eye(4)
    lift[2, 3] = -verts[:, 2].min()
    transforms = lift @ transforms
    verts[:, 2] += lift[2, 3]
    params = dict(body.params, pose=pose)
    return dataclasses.replace(
        body, vertices=verts, bone_poses=transforms @ body.rest_bone_poses, params=params
    )


def pose_transforms(body, pose: str = DEFAULT_POSE) -> np.ndarray:
    """(B, 4, 4) world bone poses of `body` in a preset, feet on the floor (what Blender's pose bones get)."""
    return pose_body(body, pose).bone_poses


def anny_pose_parameters(body, pose: str = DEFAULT_POSE) -> np.ndarray:
    """(B, 4, 4) bone poses for anny itself (`model(pose_parameters=..., pose_parameterization="world")`),
    in anny's frame (origin at the root): anny then returns `pose_body(body, pose).vertices - body.offset_m`."""
    shift = np.eye(4)
    shift[:3, 3] = -np.asarray(body.offset_m, dtype=np.float64)
    return shift @ pose_body(body, pose).bone_poses

"""Pose presets in numpy (the same maths Blender's armature reproduces, see test_avatar_blender.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from pipeline.core.body.poses import ARM_BONE_PREFIXES, POSE_NAMES, check_pose, pose_body
from pipeline.core.errors import UserError


@pytest.fixture(scope="module")
def heavy(anny_model):
    from pipeline.core.body.anny_model import body_arrays

    return body_arrays({"gender": 1.0, "age": 0.75, "weight": 1.0, "muscle": 0.2})


def _head(body, name):
    return body.bone_poses[body.bone_names.index(name)][:3, 3]


def test_every_preset_stands_on_the_floor_and_keeps_the_trunk(heavy):
    for pose in POSE_NAMES:
        posed = pose_body(heavy, pose)
        assert posed.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)
        assert posed.params["pose"] == pose
        spine = posed.bone_names.index("spine03")
        assert np.allclose(posed.bone_poses[spine][:3, :3], heavy.rest_bone_poses[spine][:3, :3])


def test_t_pose_arms_are_horizontal_and_a_pose_at_45_degrees(heavy):
    t = pose_body(heavy, "t-pose")
    sh, wr = _head(t, "upperarm01.L"), _head(t, "wrist.L")
    assert abs(wr[2] - sh[2]) < 0.03 and wr[0] - sh[0] > 0.45
    a = pose_body(heavy, "a-pose")
    d = _head(a, "lowerarm01.L") - _head(a, "upperarm01.L")
    assert np.degrees(np.arctan2(-d[2], d[0])) == pytest.approx(45, abs=3)


def test_relaxed_hands_clear_the_hips_of_a_heavy_body(heavy):
    posed = pose_body(heavy, "relaxed")
    is_arm = np.array([n.startswith(ARM_BONE_PREFIXES) for n in heavy.bone_names])
    arm = (heavy.weights * is_arm[heavy.weight_bones]).sum(1) > 0.5
    lower = np.array([n.startswith(("lowerarm", "wrist", "finger", "metacarpal")) for n in heavy.bone_names])
    forearm = (heavy.weights * lower[heavy.weight_bones]).sum(1) > 0.5
    gap, _ = cKDTree(posed.vertices[~arm]).query(posed.vertices[forearm])
    assert gap.min() > 0.005


def test_walking_moves_the_left_foot_forward(heavy):
    w = pose_body(heavy, "walking")
    assert _head(w, "foot.L")[1] < _head(w, "foot.R")[1] - 0.2  # the body faces -Y


def test_unknown_pose_is_a_user_error():
    with pytest.raises(UserError, match="expected one of: a-pose, t-pose, relaxed, walking"):
        check_pose("sitting")


def test_anny_itself_poses_the_same_way(heavy, anny_model):
    """Core (anny's own skinning, world pose parameters) and pose_body agree: one pose, two code paths."""
    import torch

    from pipeline.core.body.poses import anny_pose_parameters

    params = heavy.params["phenotypes"]
    for pose in ("t-pose", "walking"):
        world = torch.tensor(anny_pose_parameters(heavy, pose), dtype=torch.float32)[None]
        with torch.no_grad():
            out = anny_model(
                pose_parameters=world,
                pose_parameterization="world",
                phenotype_kwargs={k: torch.tensor([v]) for k, v in params.items()},
            )
        got = out["vertices"][0].double().numpy() + heavy.offset_m
        assert np.abs(got - pose_body(heavy, pose).vertices).max() < 1e-4, pose

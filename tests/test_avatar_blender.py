"""The avatar in Blender: rig matches anny's skinning, bones deform the mesh, the verb writes a .blend that
loads back with its measurements record, also through the worker process."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.app.cli import main
from pipeline.core.body.poses import POSE_NAMES, pose_body


@pytest.fixture(scope="module")
def body(default_body):
    return default_body


def test_build_avatar_rig_equals_numpy_pose_for_every_preset(body, fresh_scene):
    from pipeline.blender.avatar import apply_pose, build_avatar, evaluated_vertices

    obj = build_avatar(body, name="Test", material="mannequin", pose="a-pose")
    arm = obj.parent
    assert arm.type == "ARMATURE" and len(arm.data.bones) == len(body.bone_names)
    assert len(obj.vertex_groups) == len(body.bone_names)
    assert obj.modifiers["Armature"].object == arm
    assert len(obj.data.uv_layers) == 1 and obj.data.materials[0].name == "TryOn Mannequin"
    for pose in POSE_NAMES:
        apply_pose(obj, body, pose)
        got = evaluated_vertices(obj)
        want = pose_body(body, pose).vertices
        assert np.abs(got - want).max() < 1e-4, pose
        assert got[:, 2].min() == pytest.approx(0.0, abs=1e-4)  # feet on the floor


def test_rotating_a_bone_deforms_its_side_only(body, fresh_scene):
    from mathutils import Matrix

    from pipeline.blender.avatar import build_avatar, evaluated_vertices

    obj = build_avatar(body, material="skin", pose="a-pose")
    before = evaluated_vertices(obj)
    bone = obj.parent.pose.bones["upperarm01.L"]
    bone.matrix_basis = Matrix.Rotation(0.6, 4, "X") @ bone.matrix_basis
    import bpy

    bpy.context.view_layer.update()
    moved = np.linalg.norm(evaluated_vertices(obj) - before, axis=1)
    left_hand = before[:, 0] > 0.45
    right_side = before[:, 0] < -0.15
    assert moved[left_hand].min() > 0.05
    assert moved[right_side].max() < 1e-6


def test_avatar_verb_writes_blend_that_loads_back(tmp_path, capsys):
    import bpy

    from pipeline.blender.avatar import evaluated_vertices
    from pipeline.blender.blendfile import open_blend

    m = tmp_path / "me.json"
    m.write_text(
        json.dumps(
            {
                "unit": "cm",
                "sex": "female",
                "stature": 165,
                "bust_girth": 94,
                "waist_girth": 76,
                "hip_girth": 101,
            }
        )
    )
    out = tmp_path / "me.blend"
    assert main(["avatar", "--measurements", str(m), "--pose", "t-pose", "--out", str(out)]) == 0
    record = json.loads((tmp_path / "me.measurements.json").read_text())
    assert record["within_tolerance"] and record["reached"]["hip_girth"] == pytest.approx(101, abs=0.5)
    assert record["pose"] == "t-pose" and record["unit"] == "cm"
    open_blend(out)
    obj = bpy.data.objects["Avatar"]
    assert obj["tryon_pose"] == "t-pose" and obj.parent.type == "ARMATURE"
    v = evaluated_vertices(obj)
    assert 100 * np.ptp(v[:, 2]) == pytest.approx(165, abs=0.5)  # the posed avatar keeps its stature
    assert np.ptp(v[:, 0]) > 1.4  # t-pose arm span


def test_avatar_from_size_through_the_worker(tmp_path, monkeypatch):
    """Blender's own Python has no torch: the fit then runs in `python -m pipeline avatar-body`."""
    monkeypatch.setenv("TRYON_WORKER", "1")
    out = tmp_path / "m.blend"
    assert main(["avatar", "--size", "L", "--sex", "male", "--material", "skin", "--out", str(out)]) == 0
    record = json.loads((tmp_path / "m.measurements.json").read_text())
    assert record["size"] == "L" and record["sex"] == "male"
    assert max(abs(e) for e in record["errors"].values()) < 1.0
    assert out.stat().st_size > 100_000

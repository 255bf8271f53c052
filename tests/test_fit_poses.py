"""Garments sit at the same place on the body in every pose preset (a walking stride or hanging arms must not
move a skirt's waistband down to the thighs)."""

from __future__ import annotations

import pytest

from pipeline.app.tryon import load_garment_file
from pipeline.core.body.poses import pose_body
from pipeline.core.fit.api import fit_garment
from pipeline.core.fit.landmarks import body_landmarks


@pytest.mark.parametrize("pose", ["walking", "relaxed", "t-pose"])
def test_torso_landmarks_hold_in_every_pose(default_body, pose):
    ref = body_landmarks(pose_body(default_body, "a-pose"))
    lm = body_landmarks(pose_body(default_body, pose))
    for name in ("waist_z", "hip_z", "crotch_z", "armpit_z"):
        assert abs(getattr(lm, name) - getattr(ref, name)) < 0.03, name
    assert lm.crotch_z < lm.hip_z < lm.waist_z < lm.armpit_z


def test_skirt_waistband_stays_at_the_waist_when_walking(default_body, repo_root, fresh_scene):
    skirt = load_garment_file(repo_root / "garments" / "skirt.obj")
    tops = {}
    for pose in ("a-pose", "walking"):
        result = fit_garment(skirt, pose_body(default_body, pose), garment_type="bottom")
        assert result.stats["max_penetration_mm"] <= 2.0
        tops[pose] = result.vertices[:, 2].max()
    assert abs(tops["walking"] - tops["a-pose"]) < 0.04

"""The capture fit's arm pose, which the AR composite dresses: the arms start where the view shows the elbows
and wrists (2D landmarks lifted by the depth points), so crossed arms are reached; and the composite poses
the shopper with the fit's rotations. Noise-free views of anny bodies (no rendering, no MediaPipe)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")

from tests.test_capture_fit import _view_of  # noqa: E402

LANDMARK_JOINTS = {0: "head", 11: "upperarm01.L", 12: "upperarm01.R", 13: "lowerarm01.L", 14: "lowerarm01.R"}
LANDMARK_JOINTS |= {15: "wrist.L", 16: "wrist.R", 23: "upperleg01.L", 24: "upperleg01.R"}
LANDMARK_JOINTS |= {25: "lowerleg01.L", 26: "lowerleg01.R", 27: "foot.L", 28: "foot.R"}


def _camera_joints(body, yaw_deg: float = 0.0) -> tuple[dict[str, np.ndarray], object]:
    from pipeline.core.capture.virtual_camera import VirtualCamera, d435_intrinsics, rotate_z

    cam = VirtualCamera(d435_intrinsics(424, 318), 2.4, 1.0)
    heads = cam.world_to_camera(rotate_z(body.bone_poses[:, :3, 3], yaw_deg))
    return {n: heads[body.bone_names.index(n)] for n in set(LANDMARK_JOINTS.values())}, cam.intrinsics


def _view_with_landmarks(body, yaw_deg: float = 0.0):
    """`_view_of` plus MediaPipe-like landmarks: the joints' true projections, all visible."""
    from pipeline.core.capture.frames import project

    view = _view_of(body, yaw_deg)
    joints, intr = _camera_joints(body, yaw_deg)
    feet = project(joints["foot.L"][None], intr)[0]
    view.landmarks_px = np.tile(feet, (33, 1))
    view.visibility = np.zeros(33)
    for i, name in LANDMARK_JOINTS.items():
        view.landmarks_px[i] = project(joints[name][None], intr)[0]
        view.visibility[i] = 1.0
    return view


def _arm_angles_off_deg(fitter, body) -> float:
    """Mean angle (degrees) between the fitted and the true upper arms and forearms, in the camera frame (the
    directions the arm start sets; the placement is the fit's to refine)."""
    import torch

    from pipeline.core.capture.body_fit import LANDMARK_BONES

    with torch.no_grad():
        _, joints = fitter.forward()
        R, t = fitter.placement(0)
        cam = (joints @ R.T + t).numpy()
    truth, _ = _camera_joints(body)
    got = {i: cam[fitter.lm_ids.index(i)] for i in (11, 12, 13, 14, 15, 16)}
    want = {i: truth[LANDMARK_BONES[i]] for i in got}
    angles = []
    for a, b in ((11, 13), (13, 15), (12, 14), (14, 16)):
        u, v = got[b] - got[a], want[b] - want[a]
        angles.append(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))
    return float(np.mean(angles))


def test_crossed_arms_start_where_the_view_shows_them():
    """Forearms folded across the chest: aimed from the lifted landmarks, the upper arms and forearms start
    within a few degrees of the truth; left in the rest A-pose (what the fit started from before) they are
    far off (60+ degrees)."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body
    from pipeline.core.capture.body_fit import BodyFitter

    params = {"phenotypes": {"gender": 0.0, "weight": 0.5, "height": 0.5}, "local_changes": {}}
    body = pose_body(body_arrays(**params), "arms-crossed")
    fitter = BodyFitter([_view_with_landmarks(body)], params)
    fitter.init_placement()
    rest_off = _arm_angles_off_deg(fitter, body)
    fitter.init_arm_pose()
    aimed_off = _arm_angles_off_deg(fitter, body)
    assert rest_off > 45.0, rest_off
    assert aimed_off < 10.0, aimed_off


def test_composite_poses_the_shopper_as_the_fit_did():
    """`capture_pose_parameters` turns the fit's rotation vectors (and an older fit's abduction angle) into
    the pose anny is run with, so the dressed body is the fitted one."""
    import torch

    from pipeline.app.ar import capture_pose_parameters
    from pipeline.core.capture.body_fit import _rodrigues

    rotvec = np.array([20.0, -35.0, 60.0])
    got = capture_pose_parameters({"lowerarm01.L": rotvec.tolist(), "upperleg01.L": 10.0})
    want = _rodrigues(torch.tensor(np.radians(rotvec), dtype=torch.float64)).numpy()
    assert np.allclose(got["lowerarm01.L"][0, :3, :3].numpy(), want, atol=1e-6)
    a = np.radians(10.0)
    about_forward = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    assert np.allclose(got["upperleg01.L"][0, :3, :3].numpy(), about_forward, atol=1e-6)


def _fake_view(front: bool, nose_side: float = 0.0):
    """A view whose MediaPipe landmarks say front (face seen, left shoulder on the image's right) or not, its
    nose `nose_side` (share of the body's height) right of the shoulders' midpoint."""
    from pipeline.core.capture.body_fit import View
    from pipeline.core.capture.frames import Intrinsics

    lm = np.zeros((33, 2))
    lm[:, 1] = np.linspace(50, 250, 33)
    lm[11, 0], lm[12, 0] = (140.0, 100.0) if front else (100.0, 140.0)
    lm[0, 0] = 120.0 + nose_side * np.ptp(lm[:, 1])
    vis = np.ones(33) * (1.0 if front or nose_side else 0.3)
    intr = Intrinsics(width=320, height=240, fx=190.0, fy=190.0, ppx=160.0, ppy=120.0, depth_scale=0.001)
    return View(np.zeros((0, 3)), lm, vis, intr, [0])


def test_a_turn_is_not_placed_back_to_front():
    """Depth and outline alone cannot tell front from back: each view's cost is the same at a yaw and at it
    +180 degrees (here slightly lower at the wrong one). The view showing the face and the shoulders in
    order must face the camera, and the turn's next views follow it, not the flipped minimum."""
    from pipeline.core.capture.body_fit import _choose_yaws, _facing_camera

    grid = np.arange(0.0, 360.0, 30.0)
    truth = [0.0, 60.0, 120.0, 180.0]
    costs = np.ones((4, len(grid)))
    for k, yaw in enumerate(truth):
        costs[k, int(yaw // 30)] = 0.11
        costs[k, int(((yaw + 180) % 360) // 30)] = 0.10  # the flipped placement fits a little better
    views = [_fake_view(True), _fake_view(True), _fake_view(False), _fake_view(False)]
    chosen = [grid[j] for j in _choose_yaws(costs, grid, views)]
    assert _facing_camera(chosen[0]) > 0.9
    assert chosen == [(y + (chosen[0] - truth[0])) % 360 for y in truth]


def test_a_turn_is_not_placed_turning_the_wrong_way():
    """A turn and its mirror turn leave nearly the same depth and outline (here the mirror fits a little
    better). Where the nose is clearly to one side of the shoulders, the person faces that side, and the turn
    is placed turning that way."""
    from pipeline.core.capture.body_fit import _choose_yaws, _forward_camera

    grid = np.arange(0.0, 360.0, 30.0)
    truth = [0.0, 60.0, 120.0, 180.0]
    costs = np.ones((4, len(grid)))
    for k, yaw in enumerate(truth):
        costs[k, int(yaw // 30)] = 0.11
        costs[k, int((-yaw % 360) // 30)] = 0.10  # the mirrored turn fits a little better
    side = [float(np.sign(_forward_camera(y)[0])) if abs(_forward_camera(y)[0]) > 0.5 else 0.0 for y in truth]
    assert side == [0.0, 1.0, 1.0, 0.0]
    views = [_fake_view(True), _fake_view(False, 0.06), _fake_view(False, 0.05), _fake_view(False)]
    assert [grid[j] for j in _choose_yaws(costs, grid, views)] == truth
    mirrored = [_fake_view(True), _fake_view(False, -0.06), _fake_view(False, -0.05), _fake_view(False)]
    assert [grid[j] for j in _choose_yaws(costs, grid, mirrored)] == [-y % 360 for y in truth]

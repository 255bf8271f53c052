"""The capture fit's shape space: the avatar fit's controls and corrective, and the body it fits is the body
it measures. Small and fast (no rendering); accuracy is the bench's job (bench/bench_measure.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")


def test_fit_reaches_every_control_the_avatar_fit_uses():
    """A body the avatar fit builds for a real person is inside the capture fit's shape space."""
    from pipeline.core.body.corrective import CORRECTED_GIRTHS
    from pipeline.core.body.shape_fit import CONTROLS
    from pipeline.core.body.shape_fit import LOCAL_LIMIT as AVATAR_LIMIT
    from pipeline.core.capture.body_fit import CORRECTIVE_GIRTHS, FIT_LOCALS, LOCAL_LIMIT, SHAPE_LOCALS

    used = {c for controls in CONTROLS.values() for c in controls}
    assert used <= set(FIT_LOCALS), sorted(used - set(FIT_LOCALS))
    assert LOCAL_LIMIT >= AVATAR_LIMIT
    assert set(CORRECTIVE_GIRTHS) == set(CORRECTED_GIRTHS)
    assert FIT_LOCALS[: len(SHAPE_LOCALS)] == SHAPE_LOCALS  # the initialiser's outputs come first


def test_model_with_few_controls_makes_the_full_models_body(anny_model):
    """The fit's model keeps only its controls' blend shapes; for the same parameters it makes the same
    body and rig as the full model, which it leaves whole."""
    import torch

    from pipeline.core.body.anny_model import load_model_with_controls
    from pipeline.core.capture.body_fit import FIT_LOCALS, PHENOTYPES

    few = load_model_with_controls(tuple(FIT_LOCALS))
    g = torch.Generator().manual_seed(3)
    kwargs = {
        "phenotype_kwargs": {k: torch.rand(1, generator=g) for k in PHENOTYPES},
        "local_changes_kwargs": {k: 2 * torch.rand(1, generator=g) - 1 for k in FIT_LOCALS},
    }
    full_out, few_out = anny_model(**kwargs), few(**kwargs)
    for key in ("vertices", "rest_vertices", "bone_poses"):
        assert torch.allclose(full_out[key], few_out[key], atol=1e-5), key
    assert few.blendshapes.shape[0] == len(few.blendshape_labels) < anny_model.blendshapes.shape[0]
    assert anny_model.blendshapes.shape[0] == len(anny_model.blendshape_labels)  # the full model left whole
    assert len(anny_model.local_change_labels) > len(few.local_change_labels) == len(FIT_LOCALS)
    with pytest.raises(ValueError, match="unknown local controls"):
        load_model_with_controls(("no-such-control",))


def test_initialiser_predicts_every_fit_control():
    """The committed initialiser predicts the phenotypes and every local control the fit frees."""
    from pipeline.core.capture.body_fit import FIT_LOCALS, PHENOTYPES
    from pipeline.core.capture.initialiser import load_initialiser

    model = load_initialiser()
    assert model is not None
    assert model.w[2].shape[1] == len(PHENOTYPES) + len(FIT_LOCALS)
    params = model.predict(model.mu.copy())
    assert list(params["local_changes"]) == list(FIT_LOCALS)


def test_initialiser_trains_on_people_the_benches_never_use(tmp_path, shared_data):
    """`train-initialiser` at a tiny size: its ANSUR II people are none of those the measure bench can draw or the
    calibrations were made from, and the weights it writes load and predict."""
    import json

    from conftest import run_pipeline

    from pipeline.core.capture.body_fit import FIT_LOCALS
    from pipeline.core.capture.initialiser import Initialiser, held_out_ids

    out = tmp_path / "init.npz"
    args = ("train-initialiser", "--samples", "20", "--people", "3", "--epochs", "5", "--out", str(out))
    proc = run_pipeline(*args, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.with_suffix(".json").read_text())
    assert len(record["ansur_people"]) == 3 and record["samples"] == 23
    assert not set(record["ansur_people"]) & held_out_ids()
    model = Initialiser(out)
    assert list(model.predict(model.mu.copy())["local_changes"]) == list(FIT_LOCALS)


def test_fitted_body_is_the_measured_body():
    """The fit's forward pass (locals + corrective carried by the skinning) equals `body_arrays` with the
    parameters it reports, which is what the tape measures read: both sides of the hand-over."""
    import torch

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import CORRECTIVE_GIRTHS, FIT_LOCALS, BodyFitter

    init = {
        "phenotypes": {"gender": 1.0, "weight": 0.9, "muscle": 0.2, "height": 0.6},
        "local_changes": {"stomach-pregnant-incr": 0.8, "measure-waist-circ-incr": 0.5},
    }
    fitter = BodyFitter([], init)
    with torch.no_grad():
        fitter.amp_raw[:] = torch.tensor([0.2, -0.3, 0.6, 0.1, 0.4])
    fitter.refresh_fields()
    verts = fitter.forward()[0].detach().numpy().astype(np.float64)
    ph, lc = fitter.params()
    corrective = fitter.corrective()
    assert set(corrective) == set(CORRECTIVE_GIRTHS) and corrective["waist_girth"] > 0.05
    body = body_arrays(
        {k: float(v.detach()) for k, v in ph.items()},
        {k: float(lc[k].detach()) for k in FIT_LOCALS},
        corrective=corrective,
    )
    assert np.abs(verts - (body.vertices - body.offset_m)).max() < 2e-4


def _view_of(body, yaw_deg: float):
    """A noise-free view of `body` turned by `yaw_deg`: its camera-facing vertices as points and its
    rasterised silhouette (no rendering, no MediaPipe)."""
    import cv2

    from pipeline.core.capture.body_fit import View, _silhouette_maps
    from pipeline.core.capture.frames import project
    from pipeline.core.capture.virtual_camera import VirtualCamera, d435_intrinsics, rotate_z

    intr = d435_intrinsics(424, 318)
    cam = VirtualCamera(intr, 2.4, 1.0)
    pc = cam.world_to_camera(rotate_z(body.vertices, yaw_deg))
    tri = pc[body.faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    facing = (normals * tri.mean(axis=1)).sum(axis=1) < 0
    mask = np.zeros((intr.height, intr.width), np.uint8)
    uv = np.round(project(pc, intr)).astype(np.int32)
    cv2.fillPoly(mask, list(uv[body.faces]), 1)
    points = np.unique(pc[body.faces[facing]].reshape(-1, 3), axis=0)[::4]
    outside, boundary = _silhouette_maps(mask.astype(bool))
    return View(points, np.zeros((33, 2)), np.zeros(33), intr, [0], outside, boundary)


def test_side_view_of_a_heavy_body_is_placed_at_its_yaw():
    """The initial yaw search (points against the body, and the body's projection against the silhouette)
    places a heavy body's front and side views 90 degrees apart. Noise-free, so the points alone would do here
    too; the noisy side view they placed 45 degrees off is in bench/capture_overlay.py (female-11783)."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import BodyFitter

    params = {
        "phenotypes": {"gender": 1.0, "weight": 1.0, "muscle": 0.1, "height": 0.6, "proportions": 0.9},
        "local_changes": {"stomach-pregnant-incr": 1.0, "measure-waist-circ-incr": 0.9},
    }
    body = body_arrays(**params)
    fitter = BodyFitter([_view_of(body, 0.0), _view_of(body, 90.0)], params)
    fitter.init_placement()
    forward = [R @ np.array([0.0, -1.0, 0.0]) for R in fitter.base_rot]
    yaws = [np.degrees(np.arctan2(f[0], -f[2])) for f in forward]
    turned = (yaws[1] - yaws[0] + 180) % 360 - 180
    assert abs(abs(turned) - 90) <= 15, yaws

"""The capture fit's population prior on the chest's depth (pipeline/core/capture/depth_prior.py), its ANSUR II
regression (population.trunk_depth_regression), the box-bounded shape parameters and the silhouette's rim
correspondences. Small and fast (no rendering); accuracy is bench/bench_measure.py's job."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")


def test_trunk_depth_regression_is_ansur_conditional():
    """Both sides of the hand-over: the committed file's regression equals the conditional computed from the
    survey's raw columns, and a wider waist predicts a deeper chest."""
    from pipeline.core.body.data.derive_trunk_depths import COLUMNS, trunk_table
    from pipeline.core.body.population import trunk_depth_regression

    names = list(COLUMNS)
    for sex in ("female", "male"):
        gain, offset, cov = trunk_depth_regression(sex, ("stature", "waist_breadth"), ("chest_depth",))
        x = trunk_table(sex)
        g = x[:, [names.index("stature"), names.index("waist_breadth")]]
        y = x[:, names.index("chest_depth")]
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(g)), g]), y, rcond=None)
        assert np.allclose(gain[0], coef[1:], atol=1e-3) and abs(offset[0] - coef[0]) < 0.05
        resid = y - np.column_stack([np.ones(len(g)), g]) @ coef
        assert abs(np.sqrt(cov[0, 0]) - resid.std()) < 0.02
        assert gain[0, 1] > 0.5 and 1.3 < np.sqrt(cov[0, 0]) < 1.9


def _rest_body():
    from pipeline.core.body.anny_model import body_arrays

    return body_arrays({"gender": 1.0, "weight": 0.6, "muscle": 0.4, "height": 0.5}).rest_vertices


def test_depth_prior_pulls_a_thin_torso_toward_the_population_depth():
    """A body squashed front to back (as a front view's fit made the heaviest woman) is pushed deeper by the
    prior's gradient, and its breadths (the data's) get no gradient."""
    import torch

    from pipeline.core.capture.depth_prior import DepthPrior

    rest = torch.tensor(_rest_body(), dtype=torch.float32)
    prior = DepthPrior()
    prior.refresh(rest.numpy())
    squash = torch.tensor(0.7, requires_grad=True)
    v = rest * torch.stack([torch.tensor(1.0), squash, torch.tensor(1.0)])
    thin = prior.nll(v, 1.0)
    thin.backward()
    assert squash.grad < 0  # descending the prior deepens the torso
    with torch.no_grad():
        assert prior.nll(rest, 1.0) < thin  # the unsquashed body is likelier
    xs = rest.clone().requires_grad_(True)
    dims = prior.dims_cm(xs)
    prior.nll(xs, 1.0).backward()
    assert float(dims["chest_depth"].detach()) > 15
    assert torch.all(xs.grad[:, 0] == 0)  # the breadths are held


def test_box_parameters_reach_the_bounds_and_stay_in_them():
    """Shape parameters on their box (the heaviest ANSUR II bodies: weight 1, controls at +-1) start there
    exactly, and a step that would leave the box is projected back."""
    import torch

    from pipeline.core.capture.body_fit import LOCAL_LIMIT, BodyFitter

    init = {"phenotypes": {"weight": 1.0, "muscle": 0.0}, "local_changes": {"measure-waist-circ-incr": 1.0}}
    fitter = BodyFitter([], init)
    ph, lc = fitter.params()
    assert float(ph["weight"]) == 1.0 and float(ph["muscle"]) == 0.0
    assert float(lc["measure-waist-circ-incr"]) == LOCAL_LIMIT
    with torch.no_grad():
        fitter.ph += 0.3
        fitter.lc -= 3.0
    fitter.clamp_()
    assert float(fitter.ph.max()) <= 1.0 and float(fitter.lc.min()) >= -LOCAL_LIMIT


def test_outline_pulls_rim_vertices():
    """The silhouette's reach term pairs each outline pixel with a rim vertex of the body (normal nearly
    perpendicular to its ray), never one inside the body's projection; on a noise-free view of the body itself
    the pairs lie within a few pixels."""
    import torch
    from test_capture_fit import _view_of

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import RIM_COS, BodyFitter, _vertex_normals

    params = {"phenotypes": {"gender": 0.0, "weight": 0.5, "height": 0.5}, "local_changes": {}}
    view = _view_of(body_arrays(**params), 0.0)
    fitter = BodyFitter([view], params)
    fitter.init_placement()
    assert not fitter.back_seen  # a front view: the chest-depth prior is on
    with torch.no_grad():
        verts, _ = fitter.forward()
        R, t = fitter.placement(0)
        vc, nc = verts @ R.T + t, _vertex_normals(verts, fitter.faces) @ R.T
        idx = np.nonzero(((nc * vc).sum(1) < 0).numpy())[0]
        fitter._silhouette(vc, nc, idx, 0)
    pairs = fitter.outline_corr[0]
    cos = -(nc[pairs] * vc[pairs]).sum(1) / vc[pairs].norm(dim=1)
    assert float(cos.max()) < RIM_COS
    intr = view.intrinsics
    p = vc[pairs].numpy()
    uv = np.stack([p[:, 0] / p[:, 2] * intr.fx + intr.ppx, p[:, 1] / p[:, 2] * intr.fy + intr.ppy], 1)
    assert np.median(np.linalg.norm(uv - view.boundary_px, axis=1)) < 3.0


def test_depth_prior_is_off_once_a_view_sees_the_back():
    """A side view (90 degrees) shows the back's profile: the fit leaves the depth to the points."""
    from test_capture_fit import _view_of

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import BodyFitter

    params = {"phenotypes": {"gender": 1.0, "weight": 0.5, "height": 0.5}, "local_changes": {}}
    body = body_arrays(**params)
    fitter = BodyFitter([_view_of(body, 0.0), _view_of(body, 90.0)], params)
    fitter.init_placement()
    assert fitter.back_seen

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


def test_initialiser_predicts_its_trained_subset():
    """The committed initialiser was trained on SHAPE_LOCALS; the fit adds the rest after it, from 0."""
    from pipeline.core.capture.body_fit import PHENOTYPES, SHAPE_LOCALS
    from pipeline.core.capture.initialiser import load_initialiser

    model = load_initialiser()
    assert model is not None
    assert model.w[2].shape[1] == len(PHENOTYPES) + len(SHAPE_LOCALS)
    params = model.predict(model.mu.copy())
    assert list(params["local_changes"]) == list(SHAPE_LOCALS)


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

"""Where the capture fit's shape prior is centred: real people's mean local controls (models/capture_shape_prior.json,
scripts/calibrate_capture_prior.py), not anny's 0. Small and fast: no rendering, no fitting."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")


def test_shipped_centres_cover_every_control_within_its_range():
    """Every control the fit moves has a centre inside anny's range; real people's waist-to-hip length is
    shorter than anny's average (what pulled the fitted trunks, and the statures, long)."""
    from pipeline.core.capture.body_fit import FIT_LOCALS, LOCAL_LIMIT, control_prior_means

    centre = control_prior_means()
    assert set(centre) == set(FIT_LOCALS)
    assert all(abs(v) < LOCAL_LIMIT for v in centre.values())
    assert centre["measure-waisttohip-dist-incr"] < -0.2


def test_fitter_starts_unpredicted_controls_at_the_centre():
    """Controls the start does not give begin at their centre (the prior's), those it gives keep their value."""
    from test_capture_fit import _view_of

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import FIT_LOCALS, BodyFitter, control_prior_means

    params = {"phenotypes": {"gender": 0.0}, "local_changes": {"measure-waist-circ-incr": 0.9}}
    fitter = BodyFitter([_view_of(body_arrays(**params), 0.0)], params)
    centre = control_prior_means()
    lc = dict(zip(FIT_LOCALS, fitter.lc.detach().numpy().tolist(), strict=True))
    assert lc["measure-waist-circ-incr"] == pytest.approx(0.9)
    assert lc["measure-waisttohip-dist-incr"] == pytest.approx(
        centre["measure-waisttohip-dist-incr"], abs=1e-6
    )
    np.testing.assert_allclose(fitter.lc_centre.numpy(), [centre[k] for k in FIT_LOCALS], atol=1e-6)

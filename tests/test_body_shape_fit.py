"""Round trip: measure a body -> fit anny to the measurements -> measure the fitted body."""

from __future__ import annotations

import pytest

from pipeline.core.body.measure import measure_body
from pipeline.core.body.shape_fit import TOLERANCE_CM, fit_shape


@pytest.fixture(scope="module")
def truth(anny_model):
    from pipeline.core.body.anny_model import body_arrays

    body = body_arrays(
        {"gender": 0.0, "age": 0.72, "muscle": 0.6, "weight": 0.65, "height": 0.4, "proportions": 0.45},
        {"measure-waist-circ-incr": 0.3, "measure-thigh-circ-incr": -0.2},
    )
    return measure_body(body.rest_vertices)


def test_round_trip_reproduces_all_measurements(truth):
    from pipeline.core.body.anny_model import body_arrays

    targets = {k: v for k, v in truth.items() if k != "bust_girth"}
    fit = fit_shape(targets, sex="male")
    assert all(abs(e) <= TOLERANCE_CM for e in fit.errors_cm().values()), fit.errors_cm()
    again = measure_body(body_arrays(**fit.params()).rest_vertices)  # through anny itself
    for name, value in targets.items():
        assert again[name] == pytest.approx(value, abs=TOLERANCE_CM), name


def test_subset_fit_holds_the_rest_plausible(truth):
    targets = {k: truth[k] for k in ("stature", "chest_girth", "waist_girth", "hip_girth")}
    fit = fit_shape(targets)
    assert all(abs(e) <= TOLERANCE_CM for e in fit.errors_cm().values()), fit.errors_cm()
    assert 0.0 <= fit.phenotypes["gender"] <= 1.0
    assert abs(fit.reached_cm["inside_leg_length"] - truth["inside_leg_length"]) < 5.0

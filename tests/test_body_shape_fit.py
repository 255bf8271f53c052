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


def test_phenotype_blend_matches_anny(anny_model):
    """The fit's vectorised phenotype blend gives anny's own blendshape weights (in float64), also outside
    [0, 1] where anny clamps."""
    import torch
    from anny.models.phenotype import phenotype_blendshape_weights

    from pipeline.core.body.shape_fit import _basis

    model, *_, blend = _basis()
    pheno = torch.rand(
        16, len(model.phenotype_labels), dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    pheno = pheno * 1.4 - 0.2
    anchors = {k: model.anchors[k].double() for k in blend.anchors}
    ref = phenotype_blendshape_weights(
        pheno,
        model.phenotype_labels,
        anchors,
        model.stacked_phenotype_blend_shapes_mask.double(),
        extrapolate=model.extrapolate_phenotypes,
    )
    ref = ref @ model.phenotype_blendshape_projection.double()
    assert torch.allclose(blend(pheno), ref, rtol=0, atol=1e-12)

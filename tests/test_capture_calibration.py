"""The capture's calibration (models/capture_calibration.json, scripts/calibrate_capture_measurements.py): it loads,
corrects each kind's measurements, and the body re-fitted to the corrected measurements measures what is reported.
Small and fast: no rendering, no capture fit (the bench measures the effect: bench/bench_measure.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("anny")


def test_shipped_calibration_loads_and_corrects_each_kind():
    """Both capture kinds are calibrated, at each width; a row corrects by offset + slope * value, plus for a
    kernel row its kernel regression on the capture's girth / stature ratios; other names pass."""
    from pipeline.core.capture.measure_capture import load_calibration

    for table in (load_calibration(424), load_calibration(640)):
        _check_table(table)


def test_calibration_table_follows_the_stream_width():
    """The table of the nearest calibrated width (by ratio) is used: the D435's 424 and 640 px depth modes get
    their own, a 1280 px stream and an unspecified one the widest, a 320 px stream the 424 table."""
    from pipeline.core.capture.measure_capture import load_calibration

    assert [load_calibration(w)["width_px"] for w in (320, 424, 480, 640, 1280)] == [424, 424, 424, 640, 640]
    assert load_calibration()["width_px"] == 640
    assert load_calibration(424)["kinds"] != load_calibration(640)["kinds"]


def _check_table(table: dict) -> None:
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS, calibrated, kernel_correction

    assert table is not None and set(table["kinds"]) == {"front", "turn"}
    average = {k: float(v) for k, v in measurements_of_params({}, {}).items() if k in OUTPUT_MEASUREMENTS}
    for kind, rows in table["kinds"].items():
        assert set(rows) <= set(OUTPUT_MEASUREMENTS) and rows, kind
        for k, row in rows.items():
            assert abs(row["slope"] - 1.0) < 0.3, (kind, k)  # a correction, not a new scale
            # anny's average adult, all measurements given: each corrected by less than 5 cm
            assert abs(calibrated(average, kind, table)[k] - average[k]) < 5.0, (kind, k)
            assert table["leave_one_out"][kind][k]["model"] in ("offset", "slope", "kernel")
            if "dual" in row:  # one weight per calibration body, on the kind's basis
                basis = table["kernels"][kind]
                assert len(row["dual"]) == len(basis["points"]) == len(table["bodies"]), (kind, k)
    raw = {k: 90.0 + i for i, k in enumerate(OUTPUT_MEASUREMENTS)} | {"other": 1.0}
    got = calibrated(raw, "front", table)
    for k, row in table["kinds"]["front"].items():
        expected = row["offset_cm"] + row["slope"] * raw[k]
        if "dual" in row:
            expected += kernel_correction(raw, table["kernels"]["front"], row["dual"])
        assert got[k] == pytest.approx(expected)
    assert got["other"] == 1.0
    assert calibrated(raw, "no such kind", table) == raw


def test_kernel_correction_reproduces_its_calibration_bodies():
    """The kernel regression learnt on the calibration bodies' girth / stature ratios: at a calibration body's
    own inputs it gives that body's fitted correction, a missing input counts at the set's mean, and far from
    every body (a capture twice as deep as anyone) the Gaussian part fades and only the linear trend is left."""
    import numpy as np

    from pipeline.core.capture.measure_capture import (
        REGRESSION_GIRTHS,
        kernel_correction,
        load_calibration,
        regression_inputs,
        regression_kernel,
    )

    table = load_calibration(640)
    basis = table["kernels"]["front"]
    dual = next(row["dual"] for row in table["kinds"]["front"].values() if "dual" in row)
    mean, scale, points = (np.array(basis[k]) for k in ("mean", "scale", "points"))
    body = {"stature": 170.0} | {
        g: float(170.0 * x) for g, x in zip(REGRESSION_GIRTHS, mean + scale * points[0], strict=True)
    }
    fitted = regression_kernel(points[:1], points, basis["gamma"], basis["linear"])[0] @ np.array(dual)
    assert kernel_correction(body, basis, dual) == pytest.approx(float(fitted), abs=1e-3)
    assert regression_inputs({"stature": 170.0}, fill=mean) == pytest.approx(mean)
    at_mean = kernel_correction({}, basis, dual)
    assert np.isfinite(at_mean) and abs(at_mean) < 5.0
    deep = {"stature": 170.0} | {g: 2.0 * 170.0 * m for g, m in zip(REGRESSION_GIRTHS, mean, strict=True)}
    z = (regression_inputs(deep) - mean) / scale
    linear_only = (basis["linear"] * points @ z + 1.0) @ np.array(dual)
    assert kernel_correction(deep, basis, dual) == pytest.approx(float(linear_only), abs=0.05)


def test_refitted_body_measures_what_is_reported():
    """A capture's measurements (here those of a real person's body, a woman of ANSUR II the bench does not
    draw) corrected and re-fitted: the reported figures are the re-fitted body's own tape (within 0.5 cm) and
    land within 0.5 cm of the corrected values."""
    from pipeline.core.body.data.ansur import ansur_subjects, fit_targets
    from pipeline.core.body.shape_fit import fit_shape, measurements_of_params
    from pipeline.core.capture.measure_capture import (
        OUTPUT_MEASUREMENTS,
        calibrated,
        load_calibration,
        refit_calibrated,
    )

    person = next(p for p in ansur_subjects(30, seed=99) if p["sex"] == "female")
    truth = measurements_of_params(**fit_shape(fit_targets(person), sex="female").params())
    raw = {k: round(float(truth[k]), 1) for k in OUTPUT_MEASUREMENTS}
    table = load_calibration()
    for kind in ("front", "turn"):
        shape, reported, record = refit_calibrated(raw, kind, "female", table)
        body = measurements_of_params(shape["phenotypes"], shape["local_changes"], shape["corrective"])
        corrected = calibrated(raw, kind, table)
        assert record["applied"] and record["uncalibrated_cm"] == raw
        for k in OUTPUT_MEASUREMENTS:
            assert abs(reported[k] - body[k]) <= 0.5, (kind, k, reported[k], body[k])
            assert abs(reported[k] - corrected[k]) <= 0.5, (kind, k, reported[k], corrected[k])

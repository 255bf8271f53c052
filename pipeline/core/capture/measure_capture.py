"""Capture -> measurements: the per-frame stage, fusion into views, the body fit and the tape measures.

The measurements come from the fitted rest body with the avatar's definitions
(`pipeline.core.body.shape_fit.measurements_of_params`), so the file feeds `pipeline avatar` directly.

Calibration (on by default, `calibrate=False` / `pipeline measure --no-calibration` turns it off): the capture
fit's measurements carry systematic errors (on the synthetic bench a still front view's chest about 4 cm short
on almost every body, a turn's neck long and thigh short), which a survey scanner removes by calibration against
the tape. `models/capture_calibration.json` (scripts/calibrate_capture_measurements.py, ANSUR II people the bench
never draws) holds one table per depth-stream width (424 and 640 px: the biases depend on the pixel size) and in
it, per capture kind and measurement, an offset, an offset + slope, each only where it is at least twice its
standard error, or a kernel ridge regression of the error on the capture's girths over its stature together (a
front view sees half of each girth; the others carry what it misses), each only where leave-one-out on the
calibration set showed it helps (others pass unchanged); the corrected measurements then go through the avatar fit from
measurements (`shape_fit.fit_shape`), and
that body's own measurements are the ones reported, so the measurements file builds that body in `pipeline avatar`
(report["calibration"]["anny"] holds it) and body and numbers agree. report["anny"] stays the capture fit's body,
registered to the frames (pose, view placements): `pipeline ar` composites with it, because the re-fitted body put
in the fitted pose and placement no longer lines up with the person (bench_ar --n 4: garment IoU 0.921 -> 0.873,
shoulders poking through the tee). Limits: it removes the average error of the synthetic D435 path and of
the current capture fit (re-run the script when either changes); a real camera needs its own calibration; the
kernel rows learn how the synthetic bodies' errors go with their shape (114 ANSUR II people at 640 px, 20 at
424): near them the correction follows their neighbours, and a body shaped unlike any of them gets only the
regression's linear trend, an extrapolation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from pipeline.core import vocab
from pipeline.core.capture.frames import RGBDFrame
from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent

# 1-sigma error (cm) per measurement of a fit from one still view and from a turn, calibrated on the synthetic
# bench (bench/bench_measure.py); scaled up when the fit's residual is worse than the bench's typical one.
DEFAULT_SIGMA_CM = {
    "front": {
        "stature": 1.0,
        "neck_girth": 1.5,
        "chest_girth": 3.0,
        "underbust_girth": 3.0,
        "waist_girth": 3.0,
        "hip_girth": 3.0,
        "thigh_girth": 2.0,
        "upper_arm_girth": 1.5,
        "shoulder_width": 1.5,
        "arm_length": 1.5,
        "inside_leg_length": 2.0,
        "back_waist_length": 1.5,
    },
    "turn": {
        "stature": 1.0,
        "neck_girth": 1.2,
        "chest_girth": 2.0,
        "underbust_girth": 2.0,
        "waist_girth": 2.0,
        "hip_girth": 2.0,
        "thigh_girth": 1.5,
        "upper_arm_girth": 1.2,
        "shoulder_width": 1.2,
        "arm_length": 1.2,
        "inside_leg_length": 1.5,
        "back_waist_length": 1.2,
    },
}
TYPICAL_RESIDUAL_M = (
    0.022  # the bench's typical depth residual along the rays at 1.9-2.8 m (mostly sensor noise)
)
OUTPUT_MEASUREMENTS = vocab.MEASUREMENTS


@dataclasses.dataclass
class CaptureMeasurement:
    """Measurements (cm), their 1-sigma uncertainty, and how they were obtained (no image data)."""

    measurements_cm: dict[str, float]
    uncertainty_cm: dict[str, float]
    sex: str | None
    report: dict[str, Any]


def sigma_table() -> dict[str, dict[str, float]]:
    """Per-view-kind 1-sigma errors: the bench's calibration in models/ when present, else the defaults."""
    from pipeline.core.deps import REPO_ROOT

    path = REPO_ROOT / "models" / "measure_uncertainty.json"
    if path.is_file():
        import json

        data = json.loads(path.read_text())
        return {k: DEFAULT_SIGMA_CM[k] | data.get(k, {}) for k in DEFAULT_SIGMA_CM}
    return DEFAULT_SIGMA_CM


CALIBRATION_FILE = "capture_calibration.json"


def load_calibration(width_px: int | None = None) -> dict[str, Any] | None:
    """The capture calibration (models/capture_calibration.json) for a depth stream `width_px` wide, or None when
    absent. The file holds one table per render width it was derived at (`by_width`): the capture's systematic
    errors depend on the pixel size (on the calibration sets, a still front view's stature bias -0.66 cm at 424 px
    and +0.09 cm at 640 px, a turn's chest -2.13 and -0.73 cm), so the table of the nearest width (by ratio) is
    used; None picks the widest. Limit: only the widths in the file are calibrated (424 and 640, the D435's usual
    depth modes); a 1280 px stream gets the 640 table."""
    import json

    from pipeline.core.deps import REPO_ROOT

    path = REPO_ROOT / "models" / CALIBRATION_FILE
    if not path.is_file():
        return None
    tables = json.loads(path.read_text())["by_width"]
    widths = [int(w) for w in tables]
    chosen = max(widths) if width_px is None else min(widths, key=lambda w: abs(np.log(w / width_px)))
    return tables[str(chosen)] | {"width_px": chosen}


# The kernel regression's inputs: each girth over the stature (the body's shape, not its size: a single view's
# error follows how deep a body is for its width, and a tall slim man is no extrapolation of the set's heavy ones).
REGRESSION_GIRTHS = tuple(m for m in vocab.MEASUREMENTS if m.endswith("_girth"))


def regression_inputs(measurements_cm: dict[str, float], fill: np.ndarray | None = None) -> np.ndarray:
    """The kernel regression's inputs from a capture's measurements: each girth over the stature (dimensionless).
    A girth or stature missing from `measurements_cm` takes that input's `fill` (the calibration set's mean)."""
    stature = measurements_cm.get("stature")
    out = []
    for j, g in enumerate(REGRESSION_GIRTHS):
        value = measurements_cm.get(g)
        if value is None or not stature:
            out.append(np.nan if fill is None else float(fill[j]))
        else:
            out.append(float(value) / float(stature))
    return np.array(out)


def regression_kernel(a: np.ndarray, b: np.ndarray, gamma: float, linear: float) -> np.ndarray:
    """Kernel between standardised input rows: a Gaussian (width set by `gamma`, per input dimension), a
    `linear` part and a constant, so the regression is linear far from the calibration bodies and bends near them."""
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / a.shape[1]
    return np.exp(-gamma * d2) + linear * (a @ b.T) + 1.0


def kernel_predict(inputs: np.ndarray, basis: dict[str, Any], dual) -> np.ndarray:
    """A kernel regression row's correction (cm) at rows of regression inputs (`regression_inputs`): sum over the
    calibration bodies of `dual * kernel(input, body)` on the inputs standardised by the `basis`."""
    mean, scale = np.asarray(basis["mean"]), np.asarray(basis["scale"])
    k = regression_kernel(
        (inputs - mean) / scale, np.asarray(basis["points"]), basis["gamma"], basis["linear"]
    )
    return k @ np.asarray(dual)


def kernel_correction(measurements_cm: dict[str, float], basis: dict[str, Any], dual: list[float]) -> float:
    """A kernel regression row's correction (cm) for one capture's measurements (`kernel_predict`)."""
    inputs = regression_inputs(measurements_cm, fill=np.asarray(basis["mean"]))
    return float(kernel_predict(inputs[None], basis, dual)[0])


def calibrated(measurements_cm: dict[str, float], kind: str, table: dict[str, Any]) -> dict[str, float]:
    """Measurements corrected by the calibration of a capture kind: `offset_cm + slope * raw` per measurement,
    plus, for a kernel regression row (`dual`), `kernel_correction` on the table's `kernels[kind]` basis. Those
    the table lacks pass unchanged. The regression's inputs are the capture's own (uncorrected) values, as the
    calibration was fitted."""
    rows = table.get("kinds", {}).get(kind, {})
    out = {}
    for k, v in measurements_cm.items():
        row = rows.get(k)
        if row is None:
            out[k] = float(v)
            continue
        value = row["offset_cm"] + row.get("slope", 1.0) * v
        if "dual" in row:
            value += kernel_correction(measurements_cm, table["kernels"][kind], row["dual"])
        out[k] = float(value)
    return out


def refit_calibrated(
    raw_cm: dict[str, float], kind: str, sex: str | None, table: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, float], dict[str, Any]]:
    """Correct a capture's measurements (`calibrated`) and fit the avatar to them (`shape_fit.fit_shape`, the
    capture's sure sex fixed, else the population's likelier one): (anny shape, that body's measurements
    (cm, rounded), the calibration record for the report). The measurements reported are the re-fitted body's
    own, so the body and the numbers agree; `refit_worst_cm` says how far they land from the corrected values
    (the avatar fit reaches real people within 0.5 cm). Raises UserError outside the avatar's accepted ranges."""
    from pipeline.core.body.shape_fit import fit_shape

    targets = calibrated(raw_cm, kind, table)
    refit = fit_shape(targets, sex=sex)
    measurements = {k: round(float(refit.reached_cm[k]), 1) for k in raw_cm}
    shape = {
        "phenotypes": refit.phenotypes,
        "local_changes": refit.local_changes,
        "corrective": refit.corrective,
    }
    record = {
        "applied": True,
        "file": f"models/{CALIBRATION_FILE}",
        "width_px": table.get("width_px"),
        "uncalibrated_cm": dict(raw_cm),
        "corrected_cm": {k: round(v, 1) for k, v in targets.items()},
        "refit_worst_cm": round(max(abs(refit.reached_cm[k] - targets[k]) for k in raw_cm), 2),
        "refit_s": round(refit.seconds, 2),
    }
    return shape, measurements, record


def _front_view(views) -> int:
    """The view most squarely facing the camera: left shoulder on the image's right, widest shoulders."""
    best, score = 0, -np.inf
    for k, v in enumerate(views):
        dx = v.landmarks_px[11, 0] - v.landmarks_px[12, 0]
        s = dx / max(np.ptp(v.landmarks_px[:, 1]), 1.0)
        if s > score:
            best, score = k, s
    return best


def measure_frames(
    frames: Iterable[RGBDFrame],
    use_initialiser: bool = True,
    iterations: int | None = None,
    progress: ProgressCallback = silent,
    warn: Callable[[str], None] = print,
    keep: Callable[[RGBDFrame], None] | None = None,
    calibrate: bool = True,
) -> CaptureMeasurement:
    """Measure the person in a stream of frames (a source); `keep` sees each raw frame (for --keep-frames).
    `iterations`: the body fit's, None for its default per capture kind (`body_fit.default_iterations`).
    `calibrate`: correct the systematic errors and re-fit the body to the corrected measurements (module
    docstring); off, or without models/capture_calibration.json, the capture fit's body and its tape are reported."""
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.body_fit import TURN_MIN_VIEWS, fit_body, fit_model, group_views
    from pipeline.core.capture.initialiser import load_initialiser
    from pipeline.core.capture.person import observe, usable_frames

    def tee(it):
        for n, f in enumerate(it):
            if keep is not None:
                keep(f)
            if n % 5 == 0:
                progress(min(0.3, 0.01 * n), f"frame {n}")
            yield f

    person_frames, stats = observe(tee(frames))
    good = usable_frames(person_frames, stats["frames"], warn)
    views = group_views(good)
    progress(0.35, f"{len(good)} frame(s) -> {len(views)} view(s)")
    init, init_source = None, "average adult"
    front = _front_view(views)
    feats = [p.features for p in good if p.index in views[front].frames and p.features is not None]
    model = load_initialiser() if use_initialiser else None
    if model is not None and feats:
        init, init_source = model.predict(np.median(feats, axis=0)), "learned initialiser"
    fit_model()  # loading the fit's model (once per process) is not part of the fit time
    t0 = time.perf_counter()
    fit = fit_body(views, init, iterations=iterations, progress=lambda f, m: progress(0.35 + 0.55 * f, m))
    fit_s = time.perf_counter() - t0
    progress(0.92, "measuring the fitted body")
    all_cm = measurements_of_params(fit.phenotypes, fit.local_changes, fit.corrective)
    raw = {k: round(float(all_cm[k]), 1) for k in OUTPUT_MEASUREMENTS if k in all_cm}
    kind = "turn" if len(views) >= TURN_MIN_VIEWS and np.ptp(fit.yaws_deg) > 60 else "front"
    g = fit.phenotypes["gender"]
    sex = "female" if g > 0.8 else "male" if g < 0.2 else None  # anny: gender 1 is female
    table = load_calibration(views[0].intrinsics.width) if calibrate else None
    calibration: dict[str, Any] = {"applied": False}
    measurements = raw
    if table is not None:
        progress(0.95, "calibrating and re-fitting the body")
        try:
            refit_shape, measurements, calibration = refit_calibrated(raw, kind, sex, table)
        except UserError as exc:  # corrected values outside the avatar's accepted ranges: the fit's own
            warn(f"calibration not applied: {exc}")
        else:
            calibration["anny"] = refit_shape
    factor = float(np.clip(fit.residual_m / TYPICAL_RESIDUAL_M, 1.0, 3.0))
    sigmas = sigma_table()[kind]
    uncertainty = {k: round(sigmas.get(k, 2.0) * factor, 1) for k in measurements}
    report = {
        "frames": stats["frames"],
        "frames_with_person": stats["person_frames"],
        "frames_used": len(good),
        "views": len(views),
        "capture_kind": kind,
        "per_frame_s": round(stats["per_frame_s"], 4),
        "per_frame_fps": round(1.0 / max(stats["per_frame_s"], 1e-6), 1),
        "fit_s": round(fit_s, 2),
        "fit_iterations": fit.iterations,
        "fit_residual_mm": round(1000 * fit.residual_m, 1),
        "initialisation": init_source,
        "view_yaws_deg": [round(y, 1) for y in fit.yaws_deg],
        "mean_distance_m": round(float(np.mean([p.distance_m for p in good])), 2),
        "calibration": calibration,
        "anny": {
            "phenotypes": fit.phenotypes,
            "local_changes": fit.local_changes,
            "corrective": fit.corrective,
            "pose_deg": fit.pose_deg,
            "views": [
                {"frames": list(v.frames), "rotation": R.tolist(), "translation_m": t.tolist()}
                for v, (R, t) in zip(views, fit.placements, strict=True)
            ],
        },
        "uncertainty_note": "1-sigma, calibrated on synthetic captures (bench/bench_measure.py), scaled by the fit residual",
    }
    progress(1.0, "measured")
    return CaptureMeasurement(measurements, uncertainty, sex, report)

"""From a measurements request (file object, or standard size + sex) to a fitted anny body (BodyArrays) and a
record of the measurements reached: in this process when it has torch, else in a worker process."""

from __future__ import annotations

from typing import Any

from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.body.measurements import validate_measurements
from pipeline.core.body.sizes import size_measurements
from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent


def as_file_object(measurements: dict[str, Any] | None) -> dict[str, Any] | None:
    """Accept either a measurements file object ({"unit": "cm", ...}) or what `load_measurements` returns
    ({"sex": ..., "measurements": {...}}); return the file object."""
    if isinstance(measurements, dict) and isinstance(measurements.get("measurements"), dict):
        obj: dict[str, Any] = {"unit": "cm"}
        if measurements.get("sex"):
            obj["sex"] = measurements["sex"]
        obj.update(measurements["measurements"])
        return obj
    return measurements


def resolve_request(
    measurements: dict[str, Any] | None, size: str | None, sex: str | None, source: str = "measurements"
) -> tuple[dict[str, float], str | None]:
    """Validated target measurements (cm) and sex from either a measurements object or a size + sex."""
    measurements = as_file_object(measurements)
    if (measurements is None) == (size is None):
        raise UserError(
            "give either measurements (--measurements FILE) or a standard size (--size S --sex F/M)"
        )
    if size is not None:
        return size_measurements(size, sex or ""), sex
    checked = validate_measurements(measurements, source)
    if sex is not None and checked["sex"] is not None and sex != checked["sex"]:
        raise UserError(f"{source}: field 'sex' is {checked['sex']!r} but {sex!r} was asked for")
    return checked["measurements"], sex or checked["sex"]


def fit_body(
    measurements: dict[str, Any] | None = None,
    size: str | None = None,
    sex: str | None = None,
    progress: ProgressCallback = silent,
    source: str = "measurements",
) -> tuple[BodyArrays, dict[str, Any]]:
    """Fit anny to the request in this process (needs torch); returns the body (posed in the a-pose preset,
    feet on the floor) and the fit record (targets, reached, errors in cm, anny parameters, seconds)."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import DEFAULT_POSE, pose_body
    from pipeline.core.body.shape_fit import fit_shape, fit_summary

    targets, sex = resolve_request(measurements, size, sex, source)
    fit = fit_shape(targets, sex=sex, progress=lambda f, m: progress(0.9 * f, m))
    # Posed in the catalog default, so `body.vertices` match the avatar `build_avatar` shows by default.
    body = pose_body(body_arrays(fit.phenotypes, fit.local_changes), DEFAULT_POSE)
    summary = fit_summary(fit)
    summary["sex"] = sex
    if size is not None:
        summary["size"] = size.upper()
    body.params["fit"] = {k: summary[k] for k in ("targets", "errors", "within_tolerance")}
    progress(1.0, "body ready")
    return body, summary


def body_from_params(params: dict[str, Any], pose: str = "a-pose") -> BodyArrays:
    """The avatar body, posed, from its anny parameters as an avatar object stores them."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body

    if not isinstance(params, dict):
        raise UserError('avatar parameters: expected {"phenotypes": {...}, "local_changes": {...}}')
    body = body_arrays(params.get("phenotypes") or None, params.get("local_changes") or None)
    return pose_body(body, pose)

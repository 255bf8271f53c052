"""The avatar job shared by the `avatar` verb and the panel's Build Avatar button: anny fitted to measurements
(here when torch is available, else in the project's environment) and built as a rigged Blender avatar."""

from __future__ import annotations

from typing import Any

import bpy

from pipeline.app import worker
from pipeline.blender.avatar import DEFAULT_MATERIAL, MATERIALS, build_avatar
from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.body.avatar_body import as_file_object, resolve_request
from pipeline.core.body.poses import DEFAULT_POSE, check_pose
from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent


def fit_body_anywhere(
    measurements: dict[str, Any] | None = None,
    size: str | None = None,
    sex: str | None = None,
    progress: ProgressCallback = silent,
    source: str = "measurements",
) -> tuple[BodyArrays, dict[str, Any]]:
    """`fit_body` here when this Python has torch, else in the project's environment (one worker call)."""
    measurements = as_file_object(measurements)
    resolve_request(measurements, size, sex, source)  # fail fast, before starting a worker
    return worker.call("fit-body", progress, measurements=measurements, size=size, sex=sex, source=source)


def avatar_from_measurements(
    measurements: dict[str, Any] | None = None,
    size: str | None = None,
    sex: str | None = None,
    pose: str = DEFAULT_POSE,
    material: str = DEFAULT_MATERIAL,
    progress: ProgressCallback = silent,
    name: str = "Avatar",
    source: str = "measurements",
) -> tuple[bpy.types.Object, dict[str, Any]]:
    """Fit anny to a measurements object (file format, see pipeline.core.body.measurements) or a size + sex, and
    build the rigged, posed avatar in the current scene; returns (mesh object, fit record with `reached`).
    Works in Blender's own Python: the torch fit then runs in a worker process."""
    check_pose(pose)
    if material not in MATERIALS:
        raise UserError(f"unknown material '{material}'; expected one of: {', '.join(MATERIALS)}")
    body, record = fit_body_anywhere(measurements, size, sex, lambda f, m: progress(0.85 * f, m), source)
    progress(0.9, "building the avatar in Blender")
    obj = build_avatar(body, name=name, material=material, pose=pose)
    record = dict(record, pose=pose, material=material)
    progress(1.0, "avatar ready")
    return obj, record

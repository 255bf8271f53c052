"""The measure job shared by the `measure` verb and the panel's Measure button: body measurements (cm,
ISO 8559-1) of the person in an RGB-D capture, with their uncertainty and a fit report."""

from __future__ import annotations

from typing import Any

from pipeline.core.progress import ProgressCallback, silent


def measure_capture(
    bag: str | None = None,
    rgbd: str | None = None,
    source: str | None = None,
    max_frames: int | None = None,
    iterations: int | None = None,
    use_initialiser: bool = True,
    keep_frames: str | None = None,
    calibrate: bool = True,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Measure the person in a recording, frame folder or live camera; returns the measurements file object
    (`measurements`), the report (`report`) and any warnings. Frames are written only to `keep_frames`."""
    import bpy  # noqa: F401  (bpy before anything that might load pymeshlab)

    from pipeline.core.body.measurements import to_file_object
    from pipeline.core.capture.measure_capture import measure_frames
    from pipeline.core.capture.recording import write_frame_folder
    from pipeline.core.capture.sources import open_source

    kept: list = []
    warnings: list[str] = []
    with open_source(bag=bag, rgbd=rgbd, source=source, max_frames=max_frames) as src:
        result = measure_frames(
            src,
            use_initialiser=use_initialiser,
            calibrate=calibrate,
            iterations=iterations,
            progress=progress,
            warn=warnings.append,
            keep=kept.append if keep_frames else None,
        )
        intr = src.intrinsics
    if keep_frames:
        write_frame_folder(keep_frames, kept, intr)
    report = {"unit": "cm", "measurements": result.measurements_cm, "uncertainty_cm": result.uncertainty_cm}
    return {
        "measurements": to_file_object(result.measurements_cm, result.sex),
        "report": {**report, **result.report},
        "warnings": warnings,
    }

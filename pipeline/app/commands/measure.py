"""`pipeline measure`: body measurements (cm, ISO 8559-1) of a person from an RGB-D capture, for `pipeline avatar`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "measure"
HELP = "measure a person from a RealSense camera, a recording (.bag/.db3) or a frame folder; writes measurements JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--bag", metavar="FILE", help="RealSense recording (.bag or .db3), played back without a camera"
    )
    src.add_argument(
        "--rgbd", metavar="DIR", help="frame folder: intrinsics.json, color/*.png, depth/*.png (16-bit)"
    )
    src.add_argument("--source", choices=("realsense",), help="live RealSense D4xx camera")
    parser.add_argument(
        "--out",
        required=True,
        metavar="measurements.json",
        help="measurements file for `pipeline avatar --measurements`; a report with the per-measurement "
        "uncertainty goes beside it as <name>.report.json",
    )
    parser.add_argument(
        "--max-frames", type=int, default=None, metavar="N", help="use at most N frames (live: default 30)"
    )
    parser.add_argument(
        "--iterations", type=int, default=60, metavar="N", help="body-fit iterations (default 60)"
    )
    parser.add_argument(
        "--no-initialiser",
        action="store_true",
        help="start the fit from the average adult, not the learned initialiser",
    )
    parser.add_argument(
        "--keep-frames", metavar="DIR", help="also save the raw frames there (off by default: privacy)"
    )


def report_path(out: Path) -> Path:
    """Where the uncertainty/fit report goes for a measurements output."""
    return out.with_name(out.stem + ".report.json")


def run(args: argparse.Namespace) -> int:
    from pipeline.app.worker import run_worker, use_worker_for
    from pipeline.core.deps import require
    from pipeline.core.errors import UserError
    from pipeline.core.files import check_output_file

    out = check_output_file(args.out, "--out", (".json",))
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames must be at least 1, got {args.max_frames}")
    if args.iterations < 1:
        raise UserError(f"--iterations must be at least 1, got {args.iterations}")
    if args.rgbd:
        from pipeline.core.capture.sources import FolderSource

        FolderSource(
            args.rgbd, args.max_frames
        )  # intrinsics and frame headers checked before any model loads
    if any(use_worker_for(m) for m in ("torch", "mediapipe", "cv2")):
        run_worker(_argv(args), step="measure")
        return 0
    for mod in ("torch", "anny", "mediapipe", "cv2"):
        require(mod, "measuring from a capture")

    import bpy  # noqa: F401  (bpy before anything that might load pymeshlab)

    from pipeline.core.body.measurements import to_file_object, validate_measurements
    from pipeline.core.capture.measure_capture import measure_frames
    from pipeline.core.capture.recording import write_frame_folder
    from pipeline.core.capture.sources import open_source
    from pipeline.core.files import write_json
    from pipeline.core.progress import TerminalProgress

    kept = []
    with open_source(bag=args.bag, rgbd=args.rgbd, source=args.source, max_frames=args.max_frames) as src:
        result = measure_frames(
            src,
            use_initialiser=not args.no_initialiser,
            iterations=args.iterations,
            progress=TerminalProgress("measure"),
            warn=lambda m: sys.stderr.write(f"warning: {m}\n"),
            keep=kept.append if args.keep_frames else None,
        )
        intr = src.intrinsics
    if args.keep_frames:
        write_frame_folder(args.keep_frames, kept, intr)
    obj = to_file_object(result.measurements_cm, result.sex)
    validate_measurements(obj, source=str(out))  # what `avatar` will accept
    write_json(out, obj)
    write_json(
        report_path(out),
        {
            "unit": "cm",
            "measurements": result.measurements_cm,
            "uncertainty_cm": result.uncertainty_cm,
            **result.report,
        },
    )
    r = result.report
    print(
        f"wrote {out} and {report_path(out)}: {r['frames_used']} frame(s), {r['views']} view(s), "
        f"per-frame {r['per_frame_fps']} fps, fit {r['fit_s']} s, residual {r['fit_residual_mm']} mm"
    )
    return 0


def _argv(args: argparse.Namespace) -> list[str]:
    argv = ["measure", "--out", str(args.out), "--iterations", str(args.iterations)]
    for flag, value in (
        ("--bag", args.bag),
        ("--rgbd", args.rgbd),
        ("--source", args.source),
        ("--keep-frames", args.keep_frames),
    ):
        if value:
            argv += [flag, str(value)]
    if args.max_frames:
        argv += ["--max-frames", str(args.max_frames)]
    if args.no_initialiser:
        argv.append("--no-initialiser")
    return argv

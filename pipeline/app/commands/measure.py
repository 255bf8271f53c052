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
        "--iterations",
        type=int,
        default=None,
        metavar="N",
        help="body-fit iterations (default: 80 for a still view, 60 for a turn)",
    )
    parser.add_argument(
        "--no-initialiser",
        action="store_true",
        help="start the fit from the average adult, not the learned initialiser",
    )
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="report the capture fit's own body and tape, without the calibration of its systematic errors "
        "(models/capture_calibration.json) and the re-fit of the body to the corrected measurements",
    )
    parser.add_argument(
        "--keep-frames", metavar="DIR", help="also save the raw frames there (off by default: privacy)"
    )


def report_path(out: Path) -> Path:
    """Where the uncertainty/fit report goes for a measurements output."""
    return out.with_name(out.stem + ".report.json")


def run(args: argparse.Namespace) -> int:
    from pipeline.app import worker
    from pipeline.core.body.measurements import validate_measurements
    from pipeline.core.errors import UserError
    from pipeline.core.files import check_output_file, write_json
    from pipeline.core.progress import TerminalProgress

    out = check_output_file(args.out, "--out", (".json",))
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames must be at least 1, got {args.max_frames}")
    if args.iterations is not None and args.iterations < 1:
        raise UserError(f"--iterations must be at least 1, got {args.iterations}")
    if args.rgbd:  # intrinsics and frame headers checked here, before any model loads
        from pipeline.core.capture.sources import FolderSource

        FolderSource(args.rgbd, args.max_frames)
    result = worker.call(
        "measure",
        TerminalProgress("measure"),
        bag=args.bag,
        rgbd=args.rgbd,
        source=args.source,
        max_frames=args.max_frames,
        iterations=args.iterations,
        use_initialiser=not args.no_initialiser,
        calibrate=not args.no_calibration,
        keep_frames=args.keep_frames,
    )
    for warning in result["warnings"]:
        sys.stderr.write(f"warning: {warning}\n")
    validate_measurements(result["measurements"], source=str(out))  # what `avatar` will accept
    write_json(out, result["measurements"])
    write_json(report_path(out), result["report"])
    r = result["report"]
    print(
        f"wrote {out} and {report_path(out)}: {r['frames_used']} frame(s), {r['views']} view(s), "
        f"per-frame {r['per_frame_fps']} fps, fit {r['fit_s']} s, residual {r['fit_residual_mm']} mm"
    )
    return 0

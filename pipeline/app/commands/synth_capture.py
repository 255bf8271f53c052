"""`pipeline synth-capture`: a synthetic RGB-D capture of a known avatar (frame folder + .db3 recording + truth)."""

from __future__ import annotations

import argparse

from pipeline.core import vocab

NAME = "synth-capture"
HELP = "render a synthetic RealSense capture of an avatar built from measurements, with the true measurements beside it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument(
        "--measurements",
        metavar="M.json",
        help="measurements file (cm, ISO 8559-1 names) of the person to render",
    )
    body.add_argument(
        "--params",
        metavar="P.json",
        help='anny parameters {"phenotypes": {...}, "local_changes": {...}} instead',
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output folder: frames/, capture.db3, true_measurements.json, truth.json",
    )
    parser.add_argument(
        "--view",
        choices=vocab.CAPTURE_VIEWS,
        default="front",
        help="still front view, or a slow turn front-side-back",
    )
    parser.add_argument(
        "--distance-m",
        type=float,
        default=2.0,
        help="camera distance in metres (1.5-3 is typical; default 2.0)",
    )
    parser.add_argument(
        "--width", type=int, default=640, help="image width (height = 3/4 of it; default 640)"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=None,
        metavar="N",
        help="frames: front view repeats (default 4), turn steps (default 7)",
    )
    parser.add_argument(
        "--samples", type=int, default=8, help="Cycles samples per colour frame (default 8, denoised)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the look and the sensor noise")


def run(args: argparse.Namespace) -> int:
    from pipeline.app import worker
    from pipeline.core.errors import UserError
    from pipeline.core.files import check_output_dir, read_json
    from pipeline.core.progress import TerminalProgress

    check_output_dir(args.out, "--out")
    if args.width < 64 or args.width % 4:
        raise UserError(f"--width must be a multiple of 4 and at least 64, got {args.width}")
    if args.frames is not None and not 1 <= args.frames <= 120:
        raise UserError(f"--frames must be between 1 and 120, got {args.frames}")
    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    measurements = read_json(args.measurements, "measurements file") if args.measurements else None
    params = read_json(args.params, "anny parameters file") if args.params else None
    summary = worker.call(
        "synth-capture",
        TerminalProgress("synth-capture"),
        out=str(args.out),
        measurements=measurements,
        params=params,
        view=args.view,
        distance_m=args.distance_m,
        width=args.width,
        frames=args.frames,
        samples=args.samples,
        seed=args.seed,
    )
    print(
        f"wrote {args.out}: {summary['frames']} frame(s) ({args.view}), capture.db3, "
        f"true stature {summary['true_stature_cm']} cm"
    )
    return 0

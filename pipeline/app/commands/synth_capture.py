"""`pipeline synth-capture`: a synthetic RGB-D capture of a known avatar (frame folder + .db3 recording + truth)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core.vocab import POSES, SIZES

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
        choices=("front", "turn"),
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
    parser.add_argument("--pose", choices=POSES, help="pose the person (default: anny's rest A-pose)")
    parser.add_argument(
        "--garment",
        help="also render the truth of a try-on: this garment (tshirt, skirt or a file) on the same avatar, "
        "as truth_garment_NNN.png and truth_garment_mask_NNN.png",
    )
    parser.add_argument(
        "--size", type=str.upper, choices=SIZES, default="M", help="size of --garment (default M)"
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.app.worker import run_worker, use_worker_for
    from pipeline.core.deps import require
    from pipeline.core.errors import UserError
    from pipeline.core.files import read_json

    if args.width < 64 or args.width % 4:
        raise UserError(f"--width must be a multiple of 4 and at least 64, got {args.width}")
    if args.frames is not None and not 1 <= args.frames <= 120:
        raise UserError(f"--frames must be between 1 and 120, got {args.frames}")
    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    if any(use_worker_for(m) for m in ("torch", "cv2", "pyrealsense2")):
        argv = [
            "synth-capture",
            "--out",
            str(args.out),
            "--view",
            args.view,
            "--distance-m",
            str(args.distance_m),
            "--width",
            str(args.width),
            "--samples",
            str(args.samples),
            "--seed",
            str(args.seed),
        ]
        argv += ["--measurements", args.measurements] if args.measurements else ["--params", args.params]
        if args.frames:
            argv += ["--frames", str(args.frames)]
        if args.pose:
            argv += ["--pose", args.pose]
        if args.garment:
            argv += ["--garment", args.garment, "--size", args.size]
        run_worker(argv, step="synth-capture")
        return 0
    require("torch", "synth-capture")
    require("pyrealsense2", "synth-capture")

    import bpy  # noqa: F401

    from pipeline.app.synth_capture import SynthSettings, synthesise
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.progress import TerminalProgress

    progress = TerminalProgress("synth-capture")
    if args.measurements:
        from pipeline.core.body.measurements import load_measurements
        from pipeline.core.body.shape_fit import fit_shape

        m = load_measurements(args.measurements)
        fit = fit_shape(m["measurements"], m["sex"])
        params = {"phenotypes": fit.phenotypes, "local_changes": fit.local_changes}
    else:
        params = read_json(args.params, "anny parameters file")
        if not isinstance(params, dict) or not isinstance(params.get("phenotypes", {}), dict):
            raise UserError(f'{args.params}: expected {{"phenotypes": {{...}}, "local_changes": {{...}}}}')
    settings = SynthSettings(
        view=args.view,
        distance_m=args.distance_m,
        width=args.width,
        height=args.width * 3 // 4,
        samples=args.samples,
        seed=args.seed,
    )
    if args.frames:
        settings.front_frames = settings.turn_frames = args.frames
    body = body_arrays(params.get("phenotypes"), params.get("local_changes"))
    if args.pose:
        from pipeline.core.body.poses import pose_body

        body = pose_body(body, args.pose)
    summary = synthesise(body, args.out, settings, progress)
    summary["pose"] = args.pose or "rest"
    if args.garment:
        from pipeline.app.synth_capture import render_truth_garment

        g = params.get("phenotypes", {}).get("gender", 0.5)
        sex = "female" if g > 0.5 else "male"
        progress(0.95, "rendering the dressed truth")
        summary["truth_garment"] = render_truth_garment(
            body, args.garment, args.size, sex, settings, Path(args.out)
        )
    truth = write_truth(
        Path(args.out),
        params,
        summary,
        measurements_of_params(params.get("phenotypes") or {}, params.get("local_changes") or {}),
    )
    print(
        f"wrote {args.out}: {summary['frames']} frame(s) ({args.view}), capture.db3, true stature {truth['stature']} cm"
    )
    return 0


def write_truth(out: Path, params: dict, summary: dict, measured_cm: dict) -> dict:
    """true_measurements.json (a measurements file) and truth.json (anny parameters + capture settings)."""
    from pipeline.core.body.measurements import to_file_object
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS
    from pipeline.core.files import write_json

    obj = to_file_object({k: measured_cm[k] for k in OUTPUT_MEASUREMENTS if k in measured_cm})
    write_json(out / "true_measurements.json", obj)
    write_json(out / "truth.json", {"anny": params, "capture": summary, "measurements_cm": measured_cm})
    return obj

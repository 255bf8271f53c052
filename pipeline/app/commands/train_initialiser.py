"""`pipeline train-initialiser`: train the body-fit initialiser on synthetic captures it generates (models/)."""

from __future__ import annotations

import argparse

NAME = "train-initialiser"
HELP = "train the capture fit's learned initialiser on synthetic depth captures (writes models/capture_initialiser.npz)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples", type=int, default=600, help="synthetic captures to generate (default 600)"
    )
    parser.add_argument(
        "--people",
        type=int,
        default=1200,
        help="ANSUR II people built by the avatar fit to add, none the measure bench or the calibrations use "
        "(default 1200; 0: random anny bodies only; needs ../shared/data/bodies)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--epochs", type=int, default=800, help="full-batch training steps (default 800)")
    parser.add_argument(
        "--out",
        default=None,
        metavar="FILE.npz",
        help="weights file (default models/capture_initialiser.npz)",
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.app import worker
    from pipeline.core.errors import UserError
    from pipeline.core.progress import TerminalProgress

    if args.samples < 20:
        raise UserError(f"--samples must be at least 20, got {args.samples}")
    if args.people < 0:
        raise UserError(f"--people must be 0 or more, got {args.people}")
    record = worker.call(
        "train-initialiser",
        TerminalProgress("train-initialiser"),
        samples=args.samples,
        seed=args.seed,
        people=args.people,
        out=args.out,
        epochs=args.epochs,
    )
    worst = max(record["validation_rmse"].items(), key=lambda kv: kv[1])
    rmse = ", ".join(f"{k} {v:.3f}" for k, v in list(record["validation_rmse"].items())[:6])
    print(
        f"trained on {record['samples']} captures in {record['total_s']} s; validation RMSE: {rmse}; "
        f"worst {worst[0]} {worst[1]:.3f}"
    )
    return 0

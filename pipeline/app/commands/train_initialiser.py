"""`pipeline train-initialiser`: train the body-fit initialiser on synthetic captures it generates (models/)."""

from __future__ import annotations

import argparse

NAME = "train-initialiser"
HELP = "train the capture fit's learned initialiser on synthetic depth captures (writes models/capture_initialiser.npz)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples", type=int, default=600, help="synthetic captures to generate (default 600)"
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
    from pathlib import Path

    from pipeline.app.worker import run_worker, use_worker_for
    from pipeline.core.deps import require
    from pipeline.core.errors import UserError

    if args.samples < 20:
        raise UserError(f"--samples must be at least 20, got {args.samples}")
    if use_worker_for("torch"):
        argv = [
            "train-initialiser",
            "--samples",
            str(args.samples),
            "--seed",
            str(args.seed),
            "--epochs",
            str(args.epochs),
        ]
        run_worker(argv + (["--out", args.out] if args.out else []), step="train-initialiser")
        return 0
    require("torch", "training the initialiser")
    from pipeline.blender.raycast import raycast_depth
    from pipeline.core.capture.initialiser import MODEL_PATH, train
    from pipeline.core.progress import TerminalProgress

    out = Path(args.out) if args.out else MODEL_PATH
    record = train(
        args.samples, args.seed, raycast_depth, out, args.epochs, TerminalProgress("train-initialiser")
    )
    worst = max(record["validation_rmse"].items(), key=lambda kv: kv[1])
    print(
        f"trained on {record['samples']} captures in {record['total_s']} s; validation RMSE: "
        + ", ".join(f"{k} {v:.3f}" for k, v in list(record["validation_rmse"].items())[:6])
        + f"; worst {worst[0]} {worst[1]:.3f}"
    )
    return 0

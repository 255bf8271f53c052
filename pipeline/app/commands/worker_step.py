"""`worker-step` (internal): run one core step for `pipeline.app.worker.call` in the project's environment."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "worker-step"
HELP = None  # internal verb: not listed in --help


def add_arguments(p: argparse.ArgumentParser) -> None:
    from pipeline.app.worker import STEPS

    p.add_argument("step", choices=tuple(STEPS))
    p.add_argument("inputs", type=Path, help="the step's inputs (.npz, pipeline.core.codec)")
    p.add_argument("result", type=Path, help="where its result goes (.npz, pipeline.core.codec)")


def run(args: argparse.Namespace) -> int:
    from pipeline.app.worker import run_step

    run_step(args.step, args.inputs, args.result)
    return 0

"""`fit-compute` (internal): the numeric half of the panel's Fit button, run in the project's environment when
Blender's own Python lacks scipy/torch: body from anny parameters, garment OBJ in, FitResult .npz out."""

from __future__ import annotations

import argparse

NAME = "fit-compute"
HELP = None  # internal verb: not listed in --help


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--garment", required=True, help="garment OBJ (world frame)")
    p.add_argument("--params", required=True, help="JSON file: the avatar's anny parameters")
    p.add_argument("--pose", default="a-pose")
    p.add_argument("--type", dest="garment_type", default=None)
    p.add_argument("--fabric", default="cotton-jersey")
    p.add_argument("--out", required=True, help="output .npz (the body goes beside it as .body.npz)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.core.body.avatar_body import body_from_params
    from pipeline.core.fit.api import fit_garment, save_fit
    from pipeline.core.garment.mesh import read_obj

    body = body_from_params(args.params, args.pose)
    result = fit_garment(read_obj(args.garment), body, garment_type=args.garment_type, fabric=args.fabric)
    body.save(Path(args.out).with_suffix(".body.npz"))
    save_fit(args.out, result)
    return 0

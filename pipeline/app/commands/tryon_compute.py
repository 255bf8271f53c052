"""`tryon-compute` (internal): the torch half of a try-on run, for Blender's own Python to call as a worker."""

from __future__ import annotations

import argparse

NAME = "tryon-compute"
HELP = None  # internal verb: not listed in --help


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--garment", required=True, action="append")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--type", dest="garment_type", action="append", default=None)
    p.add_argument("--fabric", default="cotton-jersey")
    p.add_argument("--pose", default="a-pose")
    p.add_argument("--measurements", default=None)
    p.add_argument("--size", default=None)
    p.add_argument("--sex", default=None)
    p.add_argument("--placement", default="auto")
    p.add_argument("--scale", default=None)


def run(args: argparse.Namespace) -> int:
    from pipeline.app.commands.tryon import body_request, parse_scale
    from pipeline.app.tryon import dress

    dress(
        args.garment,
        body_request(args),
        args.pose,
        args.garment_type,
        args.fabric,
        placement=args.placement,
        scale=parse_scale(args.scale),
    ).save(args.out)
    return 0

"""`demo`: the main job end to end on bundled defaults: default anny avatar (A-pose), the sample T-shirt from
garments/, fitted onto it, a 1080x1350 Cycles still (CPU unless a GPU is found, denoised) and the .blend."""

from __future__ import annotations

import argparse

from pipeline.app.commands.render import add_render_options
from pipeline.core import vocab

NAME = "demo"
HELP = "dress the default avatar in the sample T-shirt and render a try-on still + .blend into --out"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (tryon.png, tryon.blend, tryon.json)")
    p.add_argument("--garment", default=None, help="garment file (default: garments/tshirt.obj)")
    p.add_argument(
        "--material", choices=vocab.AVATAR_MATERIALS, default=vocab.DEFAULT_MATERIAL, help="avatar look"
    )
    p.add_argument("--pose", default="a-pose", help="pose preset (default a-pose)")
    add_render_options(p, samples=32)


def run(args: argparse.Namespace) -> int:
    from pipeline.app.commands.tryon import render_options
    from pipeline.app.tryon import DEFAULT_GARMENT, run_tryon
    from pipeline.core.body.poses import check_pose
    from pipeline.core.files import check_output_dir
    from pipeline.core.progress import TerminalProgress

    check_pose(args.pose)
    check_output_dir(args.out, "--out")
    summary = run_tryon(
        args.out,
        args.garment or DEFAULT_GARMENT,
        render=render_options(args),
        material=args.material,
        pose=args.pose,
        progress=TerminalProgress("demo"),
    )
    print(
        f"wrote {summary['png']} and {summary['blend']} in {summary['total_s']} s "
        f"(render {summary['render']['render_s']} s on {summary['render']['device']})"
    )
    return 0

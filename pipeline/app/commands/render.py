"""`render`: a try-on still of a saved scene (avatar and garments), lit and framed in the studio."""

from __future__ import annotations

import argparse

from pipeline.core import vocab

NAME = "render"
HELP = "render a studio still (PNG) of a .blend scene: whole figure framed, Cycles/Eevee/Workbench, GPU if present"


def add_render_options(p: argparse.ArgumentParser, samples: int = 64) -> None:
    """Options shared by every verb that renders."""
    p.add_argument("--width", type=int, default=1080, help="image width in pixels (default 1080)")
    p.add_argument("--height", type=int, default=1350, help="image height in pixels (default 1350)")
    p.add_argument("--engine", choices=vocab.ENGINES, default="cycles", help="render engine")
    p.add_argument("--samples", type=int, default=samples, help=f"samples per pixel (default {samples})")
    p.add_argument(
        "--device",
        choices=("auto", "gpu", "cpu"),
        default="auto",
        help="Cycles device: auto uses a GPU when one is found and says when it falls back to the CPU",
    )
    p.add_argument("--view", choices=vocab.VIEWS, default=vocab.DEFAULT_VIEW, help="camera view")
    p.add_argument("--no-denoise", dest="denoise", action="store_false", help="turn off OpenImageDenoise")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scene", help="a .blend file with the avatar and garments")
    p.add_argument("--out", required=True, help="output PNG")
    add_render_options(p)


def run(args: argparse.Namespace) -> int:
    from pipeline.blender.blendfile import open_blend
    from pipeline.blender.render import render_scene_still
    from pipeline.core.files import check_output_file

    check_output_file(args.out, "--out", (".png",))
    scene = open_blend(args.scene)
    info = render_scene_still(
        scene,
        args.out,
        args.width,
        args.height,
        args.engine,
        args.samples,
        args.device,
        args.view,
        args.denoise,
    )
    print(f"wrote {info['png']} ({info['engine']} on {info['device']}, {info['render_s']} s)")
    return 0

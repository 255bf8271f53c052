"""`render`: a try-on still of a saved scene (avatar and garments), lit and framed in the studio."""

from __future__ import annotations

import argparse

from pipeline.core import vocab

NAME = "render"
HELP = "render a studio still (PNG) of a .blend scene: whole figure framed, Cycles/Eevee/Workbench, GPU if present"


def add_render_options(p: argparse.ArgumentParser, samples: int = 64) -> None:
    """Options shared by every verb that renders."""
    from pipeline.core.look.colour import COLORWAYS
    from pipeline.core.vocab import DEFAULT_LOOK, FRAMES, LOOKS

    p.add_argument(
        "--width", type=int, default=None, help="image width in pixels (default: from --frame, 1080)"
    )
    p.add_argument(
        "--height", type=int, default=None, help="image height in pixels (default: from --frame, 1350)"
    )
    p.add_argument(
        "--frame",
        choices=FRAMES,
        default=None,
        help="frame preset: 4:5 (1080x1350), 1:1.44 (1800x2592), square (2048x2048); --width/--height win",
    )
    p.add_argument(
        "--look",
        choices=LOOKS,
        default=DEFAULT_LOOK,
        help="studio (grey cyclorama), white (marketplace main image: pure white, contact shadow, 90%% fill) "
        "or ghost (invisible mannequin: body hidden, the garment's inside showing)",
    )
    p.add_argument(
        "--color",
        default=None,
        metavar="NAME|#RRGGBB",
        help=f"garment colorway: #RRGGBB or a name ({', '.join(COLORWAYS)}); a texture is recoloured, keeping "
        "its detail (default: the garment's own colour or texture, else its fabric's colour)",
    )
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


def check_render_options(args: argparse.Namespace) -> None:
    """Fail early, before any fitting or loading, on a bad --color (one error line, exit 2)."""
    from pipeline.core.look.colour import parse_colour

    if args.color is not None:
        parse_colour(args.color)


def render_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of `render_scene_still` that the render options ask for."""
    return {
        "width": args.width,
        "height": args.height,
        "engine": args.engine,
        "samples": args.samples,
        "device": args.device,
        "view": args.view,
        "denoise": args.denoise,
        "look": args.look,
        "color": args.color,
        "frame": args.frame,
    }


def run(args: argparse.Namespace) -> int:
    from pipeline.blender.blendfile import open_blend
    from pipeline.blender.render import render_scene_still
    from pipeline.core.files import check_output_file
    from pipeline.core.progress import TerminalProgress

    check_output_file(args.out, "--out", (".png",))
    check_render_options(args)
    scene = open_blend(args.scene)
    progress = TerminalProgress("render")
    info = render_scene_still(scene, args.out, progress=progress, **render_options(args))
    print(f"wrote {info['png']} ({info['engine']} on {info['device']}, {info['render_s']} s)")
    return 0

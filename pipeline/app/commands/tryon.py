"""`tryon`: one catalog still: an avatar (measurements file, size + sex, or the default body) dressed in a garment,
rendered in the studio; writes tryon.png, tryon.blend and tryon.json into --out. One batch item is one such call."""

from __future__ import annotations

import argparse

from pipeline.app.commands.render import add_render_options
from pipeline.core import vocab

NAME = "tryon"
HELP = "dress an avatar (measurements, size or default) in a garment and render a try-on still + .blend"


def add_body_options(p: argparse.ArgumentParser) -> None:
    """--measurements / --size / --sex, shared by the verbs that build an avatar."""
    p.add_argument("--measurements", help="measurements JSON (cm, ISO 8559-1 names; see README)")
    p.add_argument("--size", help="standard size XS, S, M, L, XL or XXL (with --sex)")
    p.add_argument("--sex", choices=vocab.SEXES, help="with --size, or to fix the body's sex")


def body_request(args: argparse.Namespace):
    """The BodyRequest the body options ask for (None for the default body)."""
    from pipeline.core.body.measurements import load_measurements, read_measurements_json
    from pipeline.core.errors import UserError
    from pipeline.core.fit.dressed import BodyRequest

    if args.measurements and args.size:
        raise UserError("give either --measurements or --size, not both")
    if args.size and not args.sex:
        raise UserError("--size needs --sex female or --sex male (size tables differ)")
    if args.measurements:
        load_measurements(args.measurements)  # validate early: one line naming the field and its range
        return BodyRequest(
            measurements=read_measurements_json(args.measurements),
            sex=args.sex,
            source=str(args.measurements),
        )
    if args.size:
        return BodyRequest(size=args.size, sex=args.sex)
    return None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--garment", required=True, help="garment file (OBJ, GLB/glTF, FBX, USD, PLY, STL, .blend)"
    )
    p.add_argument("--out", required=True, help="output folder (tryon.png, tryon.blend, tryon.json)")
    add_body_options(p)
    p.add_argument(
        "--type",
        dest="garment_type",
        choices=vocab.GARMENT_TYPES,
        help="garment type (default: detected from its shape)",
    )
    p.add_argument("--fabric", default="cotton-jersey", help="fabric preset (default cotton-jersey)")
    p.add_argument(
        "--material", choices=vocab.AVATAR_MATERIALS, default=vocab.DEFAULT_MATERIAL, help="avatar look"
    )
    p.add_argument("--pose", default="a-pose", help="pose preset: a-pose, t-pose, relaxed, walking")
    add_render_options(p, samples=32)


def render_options(args: argparse.Namespace) -> dict:
    return {
        "width": args.width,
        "height": args.height,
        "engine": args.engine,
        "samples": args.samples,
        "device": args.device,
        "view": args.view,
        "denoise": args.denoise,
    }


def run(args: argparse.Namespace) -> int:
    from pipeline.app.tryon import run_tryon
    from pipeline.core.body.poses import check_pose
    from pipeline.core.files import check_output_dir
    from pipeline.core.garment.filecheck import check_garment_input
    from pipeline.core.progress import TerminalProgress

    check_pose(args.pose)
    check_output_dir(args.out, "--out")
    check_garment_input(args.garment)  # refuse a broken garment before building any body
    summary = run_tryon(
        args.out,
        args.garment,
        body_request(args),
        render=render_options(args),
        material=args.material,
        pose=args.pose,
        garment_type=args.garment_type,
        fabric=args.fabric,
        progress=TerminalProgress("tryon"),
    )
    print(f"wrote {summary['png']} and {summary['blend']} in {summary['total_s']} s")
    return 0

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
        "--garment",
        required=True,
        action="append",
        help="garment file (OBJ, GLB/glTF, FBX, USD, PLY, STL, .blend); repeat it to wear several together "
        "(a top and a bottom); a file holding several pieces (a suit) is split into them",
    )
    p.add_argument("--out", required=True, help="output folder (tryon.png, tryon.blend, tryon.json)")
    add_body_options(p)
    add_type_options(p)
    p.add_argument("--fabric", default="cotton-jersey", help="fabric preset (default cotton-jersey)")
    p.add_argument(
        "--material", choices=vocab.AVATAR_MATERIALS, default=vocab.DEFAULT_MATERIAL, help="avatar look"
    )
    p.add_argument("--pose", default="a-pose", help="pose preset: a-pose, t-pose, relaxed, walking")
    add_placement_options(p)
    add_render_options(p, samples=32)


def add_type_options(p: argparse.ArgumentParser) -> None:
    """--type (one per --garment, one-piece files only) and --strict, shared by `tryon` and `fit`."""
    from pipeline.core.vocab import GARMENT_TYPES

    p.add_argument(
        "--type",
        dest="garment_type",
        action="append",
        choices=GARMENT_TYPES,
        help="garment type, once per --garment in the same order (default: detected from its openings)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="a fit past its quality limits (strain, poke-through, off the body, off a limb) is an error (exit 2)",
    )


def report_warnings(warnings: list[str], strict: bool) -> None:
    """One `warning:` line per failed quality gate on stderr; with --strict, then one error (exit 2)."""
    import sys

    from pipeline.core.errors import UserError

    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if strict and warnings:
        raise UserError(f"the fit failed {len(warnings)} quality gate(s) (--strict): {warnings[0]}")


def parse_scale(text: str | None) -> float | tuple[float, float, float] | None:
    """--scale: one factor or three (x,y,z), each between 0.2 and 5."""
    from pipeline.core.errors import UserError

    if text is None:
        return None
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 3) or not all(0.2 <= x <= 5.0 for x in parts):
        raise UserError(f"--scale must be one factor or three (x,y,z), each between 0.2 and 5, not {text!r}")
    return parts[0] if len(parts) == 1 else (parts[0], parts[1], parts[2])


def add_placement_options(p: argparse.ArgumentParser, scale: bool = True) -> None:
    """--placement and --scale, shared by the verbs that fit a garment."""
    from pipeline.core.fit.api import PLACEMENTS

    p.add_argument(
        "--placement",
        choices=PLACEMENTS,
        default="auto",
        help="how the garment reaches the avatar before draping: auto (MakeHuman's .mhclo binding when one "
        "sits beside the file, else landmarks), landmarks, mhclo, source-body (experimental: anny fitted inside "
        "the garment, then a surface transfer) (default auto)",
    )
    if scale:
        p.add_argument(
            "--scale",
            metavar="S | SX,SY,SZ",
            help="scale the garment as imported (0.2-5, one factor or x,y,z) when its units cannot be worked "
            "out (default: units detected, then checked by the source-body fit)",
        )


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
    for garment in args.garment:
        check_garment_input(garment)  # refuse a broken garment before building any body
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
        placement=args.placement,
        scale=parse_scale(args.scale),
    )
    verdict = (
        ""
        if summary.get("passed", True)
        else f" (fit past its limits: {len(summary['warnings'])} warning(s))"
    )
    print(f"wrote {summary['png']} and {summary['blend']} in {summary['total_s']} s{verdict}")
    report_warnings(summary.get("warnings", []), args.strict)
    return 0

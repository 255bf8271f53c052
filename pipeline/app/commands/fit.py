"""`fit`: fit (place, drape, rig) a garment onto an avatar from measurements, a size, or an avatar .blend;
grade it over several sizes; save rigged .blend scenes and fit maps."""

from __future__ import annotations

import argparse

from pipeline.app.commands.tryon import add_placement_options, parse_scale
from pipeline.core import vocab

NAME = "fit"
HELP = "fit a garment onto an avatar (drape, rig, fit map); --grade S,M,L fits several sizes in one call"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--garment",
        required=True,
        action="append",
        help="garment file (.obj .glb .fbx .ply .stl .usd .blend); repeat it to wear several together; a file "
        "holding several pieces (a suit) is split into them",
    )
    src = p.add_argument_group("body (one of)")
    src.add_argument(
        "--measurements", nargs="+", metavar="M.json", help="measurements file(s); several = one fit each"
    )
    src.add_argument(
        "--size",
        type=str.upper,
        choices=vocab.SIZES,
        help="standard size (with --sex)",
    )
    src.add_argument(
        "--grade",
        type=lambda s: [x.strip().upper() for x in s.split(",") if x.strip()],
        metavar="S,M,L,XL",
        help="fit every listed size (with --sex)",
    )
    src.add_argument("--avatar", metavar="A.blend", help="an avatar scene made by `pipeline avatar`")
    p.add_argument("--sex", choices=vocab.SEXES, help="with --size/--grade (optional with --measurements)")
    p.add_argument(
        "--out", required=True, metavar="FITTED.blend", help="output scene (graded: FITTED_<SIZE>.blend)"
    )
    from pipeline.app.commands.tryon import add_type_options

    add_type_options(p)
    p.add_argument(
        "--fabric",
        default="cotton-jersey",
        help="fabric preset (cotton-jersey, cotton-woven, denim, silk, wool, spandex)",
    )
    p.add_argument("--pose", default="a-pose", help="pose preset to fit in (default a-pose)")
    p.add_argument(
        "--scale",
        metavar="S | SX,SY,SZ",
        help="scale the garment as imported (0.2-5) when its units cannot be worked out (default: units "
        "detected, then checked by the source-body fit)",
    )
    add_placement_options(p, scale=False)
    p.add_argument(
        "--fit-map", metavar="FITMAP.png", help="also draw the strain fit map (graded: FITMAP_<SIZE>.png)"
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.app.fit_job import resolve_bodies, run_fit
    from pipeline.core.body.poses import check_pose
    from pipeline.core.errors import UserError
    from pipeline.core.fit.fabrics import get_fabric
    from pipeline.core.progress import TerminalProgress

    get_fabric(args.fabric)
    scale = parse_scale(args.scale)
    check_pose(args.pose)
    from pipeline.core.files import check_output_file
    from pipeline.core.untrusted import check_regular

    check_output_file(args.out, "--out", (".blend",))
    if args.fit_map:
        check_output_file(args.fit_map, "--fit-map", (".png",))
    sizes = vocab.SIZES
    for s in args.grade or []:
        if s not in sizes:
            raise UserError(f"--grade: unknown size {s!r}; expected some of {','.join(sizes)}")

    from pipeline.core.garment.filecheck import check_garment_input

    for g in args.garment:
        check_regular(g, "--garment")
        check_garment_input(g)  # refuse a broken garment before fitting any body
    bodies = resolve_bodies(
        args.measurements, args.size, args.sex, args.grade, args.avatar, TerminalProgress("avatar")
    )
    records = run_fit(
        args.garment,
        args.out,
        bodies,
        args.garment_type,
        args.fabric,
        args.pose,
        args.fit_map,
        scale=scale,
        placement=args.placement,
        progress=TerminalProgress("fit"),
    )
    for r in records:
        for piece in r["pieces"]:
            print(
                f"{r['label']}: {r['blend']} {piece.get('piece', '')} ({piece['garment_type']}, "
                f"max penetration {piece['max_penetration_mm']} mm, poke-through {100 * piece['poke_share']:.2f} % "
                f"up to {piece['poke_max_mm']} mm, off body {100 * piece['off_body_share']:.1f} %, "
                f"strain p95 {piece['strain_p95']:.3f}, {piece['fit_s']:.1f} s)"
            )
    from pipeline.app.commands.tryon import report_warnings

    report_warnings([w for r in records for w in r["warnings"]], args.strict)
    return 0

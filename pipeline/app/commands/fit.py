"""`fit`: fit (place, drape, rig) a garment onto an avatar from measurements, a size, or an avatar .blend;
grade it over several sizes; save rigged .blend scenes and fit maps."""

from __future__ import annotations

import argparse

from pipeline.core import vocab

NAME = "fit"
HELP = "fit a garment onto an avatar (drape, rig, fit map); --grade S,M,L fits several sizes in one call"


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


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--garment", required=True, help="cleaned garment file (.obj .glb .fbx .ply .stl .usd .blend), metres"
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
    p.add_argument(
        "--type",
        dest="garment_type",
        choices=vocab.GARMENT_TYPES,
        help="garment type (default: detected from its openings)",
    )
    p.add_argument(
        "--fabric",
        default="cotton-jersey",
        help="fabric preset (cotton-jersey, cotton-woven, denim, silk, wool, spandex)",
    )
    p.add_argument("--pose", default="a-pose", help="pose preset to fit in (default a-pose)")
    p.add_argument(
        "--scale",
        metavar="S | SX,SY,SZ",
        help="scale the garment about its centre before fitting (only when asked; default: as given)",
    )
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

    check_regular(args.garment, "--garment")
    check_garment_input(args.garment)  # refuse a broken garment before fitting any body
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
        progress=TerminalProgress("fit"),
    )
    for r in records:
        print(
            f"{r['label']}: {r['blend']} ({r['garment_type']}, max penetration {r['max_penetration_mm']} mm, "
            f"strain p95 {r['strain_p95']:.3f}, {r['fit_s']:.1f} s)"
        )
    return 0

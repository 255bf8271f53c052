"""`pipeline clean GARMENT --out CLEAN.glb --report report.json`: import, normalise, repair, decimate, export."""

from __future__ import annotations

import argparse

NAME = "clean"
HELP = "clean a garment mesh or scan: units/axis/centre, repairs, small holes, decimation, colour bake; with a report"

_SWITCHES = {
    "normalise": "unit/up-axis detection and centring",
    "merge": "merging duplicate vertices",
    "degenerate": "removing degenerate and duplicate faces",
    "non_manifold": "removing faces at non-manifold edges",
    "floaters": "removing small loose parts",
    "normals": "making normals consistent and outward",
    "holes": "filling small holes",
    "decimate": "decimation to --target-faces",
    "bake": "baking vertex colours into a texture (for scans without UVs)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "garment", help="garment file: .obj .ply .stl .glb .gltf .fbx .usd/.usda/.usdc/.usdz .blend"
    )
    parser.add_argument("--out", required=True, help="cleaned garment to write: .glb, .gltf, .obj or .blend")
    parser.add_argument("--report", help="write the JSON report here (a summary is printed either way)")
    parser.add_argument("--target-faces", type=int, default=50_000, help="triangle budget (default 50000)")
    parser.add_argument(
        "--object", dest="object_name", help="use only this object of the file (default: join all)"
    )
    parser.add_argument(
        "--units", default="auto", choices=["auto", "mm", "cm", "dm", "m"], help="file units (default auto)"
    )
    parser.add_argument(
        "--up",
        default="auto",
        choices=["auto", "+x", "-x", "+y", "-y", "+z", "-z"],
        help="up axis after import (default auto)",
    )
    parser.add_argument(
        "--front",
        default="auto",
        choices=["auto", "keep"],
        help="auto: turn the garment to face -Y when its neckline/waistband dips at the front",
    )
    parser.add_argument(
        "--no-centre", dest="centre", action="store_false", help="keep the garment where it is"
    )
    parser.add_argument(
        "--max-hole-size",
        type=float,
        default=0.05,
        metavar="M",
        help="boundary loops narrower than this (metres) are holes and get filled; wider ones are "
        "openings and stay open (default 0.05)",
    )
    parser.add_argument(
        "--texture-size", type=int, default=1024, help="baked texture size in pixels (default 1024)"
    )
    parser.add_argument(
        "--max-faces", type=int, default=3_000_000, help="refuse files with more faces (default 3000000)"
    )
    parser.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder besides the garment's own that its referenced files (textures, material libraries, "
        "buffers) may come from; anything else is skipped with a warning",
    )
    for step, what in _SWITCHES.items():
        parser.add_argument(
            f"--no-{step.replace('_', '-')}", dest=step, action="store_false", help=f"skip {what}"
        )


def run(args: argparse.Namespace) -> int:
    from pipeline.app.clean_job import CleanOptions, clean_garment_file
    from pipeline.core.progress import TerminalProgress

    options = CleanOptions(
        units=args.units,
        up=args.up,
        centre=args.centre,
        front=args.front,
        max_hole_size_m=args.max_hole_size,
        target_faces=args.target_faces,
        texture_size=args.texture_size,
        max_faces=args.max_faces,
        object_name=args.object_name,
        allowed_dirs=tuple(args.allow_dir),
        **{step: getattr(args, step) for step in _SWITCHES},
    )
    from pipeline.core.files import check_output_file

    if args.report:
        check_output_file(args.report, "--report")  # before the garment is replaced, not after
    report = clean_garment_file(args.garment, args.out, options, TerminalProgress("clean"))
    if args.report:
        report.write(args.report)
    print(report.summary())
    return 0

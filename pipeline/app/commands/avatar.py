"""`pipeline avatar`: a rigged, posed anny avatar from body measurements or a standard size, saved as .blend."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.core import vocab

NAME = "avatar"
HELP = "build a rigged avatar from body measurements (JSON, cm, ISO 8559-1 names) or a standard size"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--measurements", metavar="M.json", help='measurements file: {"unit": "cm", "stature": ...}'
    )
    src.add_argument("--size", choices=vocab.SIZES, type=str.upper, help="standard size")
    parser.add_argument("--sex", choices=vocab.SEXES, help="needed with --size; optional with --measurements")
    parser.add_argument(
        "--pose", choices=vocab.POSES, default=vocab.DEFAULT_POSE, help="pose preset (default: a-pose)"
    )
    parser.add_argument(
        "--material", choices=vocab.AVATAR_MATERIALS, default=vocab.DEFAULT_MATERIAL, help="avatar material"
    )
    parser.add_argument("--name", default="Avatar", help="object name in the scene")
    parser.add_argument(
        "--out",
        required=True,
        metavar="avatar.blend",
        help="output .blend; the reached measurements go beside it as <name>.measurements.json",
    )


def measurements_path(out: Path) -> Path:
    """Where the reached-measurements record goes for a given .blend output."""
    return out.with_name(out.stem + ".measurements.json")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.errors import UserError
    from pipeline.core.files import check_output_file, write_json
    from pipeline.core.progress import TerminalProgress

    out = check_output_file(args.out, "--out", (".blend",))
    if args.size and not args.sex:
        raise UserError("--size needs --sex female or --sex male")
    from pipeline.core.body.measurements import read_measurements_json, validate_measurements

    measurements = read_measurements_json(args.measurements) if args.measurements else None
    if measurements is not None:
        validate_measurements(measurements, str(args.measurements))  # one line before 10 s of fitting

    import bpy  # noqa: F401  (before anything that could import pymeshlab)

    from pipeline.app.avatar_job import avatar_from_measurements
    from pipeline.blender.blendfile import new_scene, save_blend

    progress = TerminalProgress("avatar")
    new_scene()
    _, record = avatar_from_measurements(
        measurements,
        args.size,
        args.sex,
        pose=args.pose,
        material=args.material,
        progress=progress,
        name=args.name,
        source=str(args.measurements or "size table"),
    )
    save_blend(out)
    write_json(measurements_path(out), record)
    errors = record.get("errors", {})
    worst = max((abs(e) for e in errors.values()), default=0.0)
    print(
        f"wrote {out} and {measurements_path(out)} (worst error {worst:.2f} cm, fit {record.get('seconds')} s)"
    )
    off = {k: e for k, e in errors.items() if abs(e) > record.get("tolerance_cm", 0.5)}
    if off:
        import sys

        listed = ", ".join(f"{k} {e:+.1f} cm" for k, e in off.items())
        sys.stderr.write(
            f"note: not reached within {record.get('tolerance_cm', 0.5)} cm (outside what the body model "
            f"can combine): {listed}\n"
        )
    return 0

"""`pipeline import-garment`: internal step of `clean`/`fit`/`tryon`: import a garment file with Blender's
importers in a memory- and time-limited child process and write its arrays (.npz)."""

from __future__ import annotations

import argparse

NAME = "import-garment"
HELP = None  # internal: started by pipeline.app.limited_import


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("garment")
    parser.add_argument("--out", required=True, metavar="garment.npz")
    parser.add_argument("--object", dest="object_name")
    parser.add_argument("--max-faces", type=int, default=3_000_000)
    parser.add_argument("--allow-dir", action="append", default=[], help="another folder references may use")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import bpy  # noqa: F401  (before anything that could import pymeshlab)

    from pipeline.app.limited_import import save_import
    from pipeline.blender.importers import import_garment_info

    mesh, info = import_garment_info(args.garment, args.object_name, args.max_faces, tuple(args.allow_dir))
    save_import(args.out, mesh, dataclasses.asdict(info))
    return 0

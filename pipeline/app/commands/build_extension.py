"""`build-extension`: validate blender_manifest.toml and build the Blender extension zip."""

from __future__ import annotations

import argparse

NAME = "build-extension"
HELP = "validate the manifest and build the Blender extension zip (install it with Edit > Preferences > Get Extensions)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="dist", help="output folder for the zip (default: dist)")


def run(args: argparse.Namespace) -> int:
    from pipeline.app.extension import build_extension

    zip_path = build_extension(args.out)
    print(f"built and validated {zip_path}")
    return 0

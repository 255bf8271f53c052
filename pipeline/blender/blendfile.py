"""Opening, resetting and saving .blend files (bpy), atomically and without .blend1 backups."""

from __future__ import annotations

from pathlib import Path

import bpy

from pipeline.blender.importers import captured_output
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path


def new_scene() -> bpy.types.Scene:
    """Start from an empty factory scene (headless runs); returns the scene."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def open_blend(path: str | Path) -> bpy.types.Scene:
    """Open a .blend file, with a clear error when it is missing or not a .blend."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f".blend file not found: {path}")
    try:
        with captured_output():  # Blender's "Read blend" / "Info:" lines
            bpy.ops.wm.open_mainfile(filepath=str(path.resolve()))
    except RuntimeError as exc:
        raise UserError(f"cannot open {path} as a .blend file: {str(exc).strip().splitlines()[-1]}") from None
    return bpy.context.scene


def save_blend(path: str | Path) -> Path:
    """Save the current session to `path` atomically (a copy: the session keeps its own file path)."""
    path = Path(path)
    if path.suffix.lower() != ".blend":
        raise UserError(f"output scene must end in .blend: {path}")
    bpy.context.preferences.filepaths.save_version = 0
    with atomic_path(path) as tmp:
        with captured_output():  # "Info: Saved copy as ..."
            bpy.ops.wm.save_as_mainfile(filepath=str(tmp.resolve()), copy=True, compress=True)
    return path

"""Opening, resetting and saving .blend files (bpy), atomically and without .blend1 backups."""

from __future__ import annotations

from pathlib import Path

import bpy

from pipeline.blender.importers import captured_output
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path
from pipeline.core.untrusted import check_regular, clip, read_head


def new_scene() -> bpy.types.Scene:
    """Start from an empty factory scene (headless runs); returns the scene."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def open_blend(path: str | Path) -> bpy.types.Scene:
    """Open a .blend file, with a clear error when it is missing, not a regular file or not a .blend (by its
    header: Blender's reader is not hardened against arbitrary bytes). Scripts in it never run (bpy's default)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f".blend file not found: {clip(str(path))}")
    check_regular(path, ".blend file")
    if not read_head(path, 16).startswith((b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):
        raise UserError(f"{clip(str(path))} is not a .blend file (no BLENDER header)")
    try:
        with captured_output():  # Blender's "Read blend" / "Info:" lines
            bpy.ops.wm.open_mainfile(filepath=str(path.resolve()))
    except RuntimeError as exc:
        detail = clip(str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable", 160)
        raise UserError(f"cannot open {clip(str(path))} as a .blend file: {detail}") from None
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

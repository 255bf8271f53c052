"""Scratch folders for files a run makes for itself (a texture unpacked from a GLB, a vertex-colour bake): all
inside one folder per process, removed when the process exits, so nothing a run unpacks stays in the temp
folder after it.

A child process that hands files back to its parent (the limited garment import) is given the parent's
folder in `TRYON_SCRATCH_DIR`; it never removes that folder, the parent does. Limit: a process killed by a
signal (SIGKILL, an out-of-memory kill) leaves its folder behind; the temp folder's own cleaning takes it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "TRYON_SCRATCH_DIR"
_root: Path | None = None


def scratch_dir(prefix: str) -> Path:
    """A new empty folder for this run's own files; gone when the process exits."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_process_root()))


def adopt(path: str | os.PathLike, prefix: str = "adopted-") -> Path:
    """Move a file a child wrote (in a folder the caller is about to remove) into this process's scratch."""
    path = Path(path)
    target = scratch_dir(prefix) / path.name
    shutil.move(path, target)
    return target


def _process_root() -> Path:
    global _root
    if _root is not None and _root.is_dir():
        return _root
    given = os.environ.get(ENV)
    if given and Path(given).is_dir():
        _root = Path(given)  # the parent's: it removes it
        return _root
    _root = Path(tempfile.mkdtemp(prefix="tryon-scratch-"))
    atexit.register(shutil.rmtree, _root, True)
    return _root

"""Atomic file writes (temp file in the same folder, then rename), so a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it to `path`, on failure delete it.

    The temporary name keeps the suffix, so writers that choose a format by extension (bpy, cv2) work.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON to `path` atomically."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


MAX_JSON_BYTES = (
    8 * 2**20
)  # job, measurement and intrinsics files are a few KB; a glTF's JSON is read elsewhere
MAX_JSON_DEPTH = 64


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} overflows a double")
    return value


def json_depth(obj: Any) -> int:
    """Nesting depth of a parsed JSON value (iterative: safe on any depth)."""
    depth, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict | list):
            depth = max(depth, d)
            stack.extend((child, d + 1) for child in (node.values() if isinstance(node, dict) else node))
    return depth


def parse_json(
    text: str | bytes, where: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Parse untrusted JSON: at most `max_bytes`, nested at most `max_depth` deep, no NaN/Infinity
    (Python's json accepts them; they are not JSON and poison every sum); one-line UserError otherwise."""
    from pipeline.core.errors import UserError

    if len(text) > max_bytes:
        raise UserError(
            f"{where} is {len(text):,} bytes, over the limit of {max_bytes:,} for this kind of file"
        )
    try:
        obj = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise UserError(f"{where} is nested too deeply (limit {max_depth} levels)") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        detail = str(exc).splitlines()[0][:120]
        raise UserError(f"{where} is not valid JSON: {detail}") from None
    if json_depth(obj) > max_depth:
        raise UserError(f"{where} is nested too deeply (limit {max_depth} levels)")
    return obj


def read_json(
    path: str | os.PathLike,
    what: str = "JSON file",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Read an untrusted JSON file (a regular file of at most `max_bytes`; see `parse_json`), turning a
    missing, oversized or malformed file into a one-line UserError."""
    from pipeline.core.errors import UserError
    from pipeline.core.untrusted import check_regular, clip

    p = Path(path)
    st = check_regular(p, what)
    where = f"{what} {clip(str(p), 160)}"
    if st.st_size > max_bytes:
        raise UserError(
            f"{where} is {st.st_size:,} bytes, over the limit of {max_bytes:,} for this kind of file"
        )
    with open(p, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return parse_json(data, where, max_bytes, max_depth)


def check_output_file(path: str | os.PathLike, what: str = "--out", suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse, before any long work, an output path that cannot be written: a folder, a path under a file,
    under /proc or /sys, or in a folder that refuses a new file (probed with a temporary file)."""
    from pipeline.core.errors import UserError
    from pipeline.core.untrusted import clip

    p = Path(path)
    shown = clip(str(p), 160)
    if suffixes and p.suffix.lower() not in suffixes:
        names = f"{', '.join(suffixes[:-1])} or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise UserError(f"{what} {shown}: expected a {names} file name")
    if p.is_dir():
        raise UserError(f"{what} {shown} is a folder; give a file name")
    if p.exists() and not p.is_file():
        raise UserError(f"{what} {shown} exists and is not a regular file")
    check_output_dir(p.parent, what, shown)
    return p


def check_output_dir(folder: str | os.PathLike, what: str = "--out", shown: str | None = None) -> Path:
    """Make sure `folder` is (or can become) a writable folder: create it and probe it with a temporary file."""
    from pipeline.core.errors import UserError
    from pipeline.core.untrusted import clip

    d = Path(folder)
    shown = shown or clip(str(d), 160)
    real = Path(os.path.realpath(d))
    if real.parts[1:2] in (("proc",), ("sys",), ("dev",)):
        raise UserError(f"{what} {shown} lies under /{real.parts[1]}, which holds no ordinary files")
    for parent in [d, *d.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"{what} {shown}: {clip(str(parent), 120)} is a file, not a folder")
            break
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tryon-probe-", dir=d)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"{what} {shown} cannot be written: {exc.strerror or exc}") from None
    return d

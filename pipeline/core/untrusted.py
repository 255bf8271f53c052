"""Untrusted input: files a garment references must resolve inside its folder (or a folder the user names) and
be regular files; image sizes are read from headers before any decoder sees them; values echoed in error
lines are cut short. Every place that follows a reference (OBJ mtllib/map_Kd, glTF uri, FBX/USD/.blend image
paths) goes through `resolve_inside`, so a crafted file can neither pull an outside file into an output nor
block on a FIFO."""

from __future__ import annotations

import os
import stat
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

from pipeline.core.errors import UserError

MAX_IMAGE_SIDE_PX = 16_384  # Blender's own texture limit on most GPUs; larger is a bomb, not a garment
MAX_IMAGE_PIXELS = 16_384 * 8_192


class UnsafeReference(UserError):
    """A referenced file lies outside the allowed folders, is missing, or is not a regular file."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def clip(value: object, limit: int = 80) -> str:
    """`repr(value)` cut to about `limit` characters, for echoing user values in one error line."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[: limit - 20]!r}... ({len(value):,} chars)"
    text = repr(value)  # repr escapes newlines, so the line stays one line
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text):,} chars)"


def check_regular(path: str | os.PathLike, what: str = "file") -> os.stat_result:
    """Stat `path` (following links) and refuse anything that is not a regular file: FIFOs, devices, sockets
    and folders would block or stream forever when read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{what} not found: {clip(str(path), 200)}") from None
    except OSError as exc:
        raise UserError(f"{what} {clip(str(path), 200)} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (FIFO, device or socket)"
        raise UserError(f"{what} {clip(str(path), 200)} is {kind}")
    return st


def read_head(path: str | os.PathLike, n: int) -> bytes:
    """The first `n` bytes of a regular file, opened non-blocking so a FIFO swapped in after the check
    cannot hang the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"{clip(str(path), 200)} is not a regular file")
        return os.read(fd, n)
    finally:
        os.close(fd)


def _inside(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def resolve_inside(
    base_dir: str | os.PathLike, ref: str, allowed_dirs: Iterable[str | os.PathLike] = ()
) -> Path:
    """The real path of `ref` (relative to `base_dir`, or absolute) when it lies inside `base_dir` or one of
    `allowed_dirs` after following every link, and is a regular file; else UnsafeReference.

    URL schemes (http:, file:) are refused; percent-escapes are decoded as glTF URIs need."""
    ref = ref.strip().strip('"')
    if not ref or "\0" in ref:
        raise UnsafeReference(f"empty or malformed file reference {clip(ref)}")
    scheme = ref.split(":", 1)[0] if ":" in ref else ""
    if len(scheme) > 1 and scheme.isalpha():  # a URL (one letter would be a Windows drive)
        raise UnsafeReference(f"reference {clip(ref)} is a URL, not a file beside the garment")
    ref = unquote(ref).replace("\\", "/")
    if "\0" in ref:  # a percent-escaped NUL ("%00")
        raise UnsafeReference(f"malformed file reference {clip(ref)}")
    base = Path(os.path.realpath(base_dir))
    folders = [base] + [Path(os.path.realpath(d)) for d in allowed_dirs]
    target = Path(os.path.realpath(base / ref))
    if not _inside(target, folders):
        raise UnsafeReference(f"reference {clip(ref)} points outside the garment's folder")
    try:
        st = os.stat(target)
    except OSError:
        raise UnsafeReference(f"referenced file {clip(ref)} is missing", missing=True) from None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeReference(f"referenced file {clip(ref)} is not a regular file")
    return target


def link_checked(real: Path, folder: Path) -> str:
    """Link the checked file `real` into the scratch `folder` under its own base name (in a sub-folder of its
    own, so names never collide; whitespace replaced), and return the link's path relative to `folder`."""
    sub = Path(tempfile.mkdtemp(prefix="l", dir=folder))
    link = sub / "_".join(real.name.split())
    os.symlink(real, link)
    return link.relative_to(folder).as_posix()


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, BMP, GIF or WebP header; None when the format is not recognised
    or the JPEG's size marker lies beyond `head`."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head.startswith(b"GIF8") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(head)
    return None


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", head[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", head[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return None


def check_image_header(head: bytes, name: str) -> None:
    """Refuse an image whose header claims more pixels than any garment texture needs (decoding a 600 KB PNG
    of 25000x25000 takes gigabytes)."""
    size = image_size(head)
    if size is None:
        return
    w, h = size
    if w > MAX_IMAGE_SIDE_PX or h > MAX_IMAGE_SIDE_PX or w * h > MAX_IMAGE_PIXELS:
        raise UserError(
            f"image {clip(name)} is {w}x{h} pixels, over the limit of {MAX_IMAGE_SIDE_PX} per side "
            f"and {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        )


def check_image_file(path: str | os.PathLike, name: str | None = None) -> None:
    """`check_image_header` on a file's first 64 KB (a regular file only)."""
    check_regular(path, "image")
    check_image_header(read_head(path, 65_536), name or Path(path).name)

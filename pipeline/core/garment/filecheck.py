"""Cheap checks on a garment file before any importer touches it: exists, not empty, the format its suffix
claims (magic bytes), and not too many faces, so bad input gets one clear line instead of a crash or a hang."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from pipeline.core.errors import UserError

FORMATS = {
    ".obj": "obj",
    ".ply": "ply",
    ".stl": "stl",
    ".gltf": "gltf",
    ".glb": "gltf",
    ".fbx": "fbx",
    ".usd": "usd",
    ".usda": "usd",
    ".usdc": "usd",
    ".usdz": "usd",
    ".blend": "blend",
}
# Bytes per triangle, roughly, for formats whose face count is not in a header (used for the size guard only).
_BYTES_PER_FACE = {"gltf": 30, "fbx": 30, "usd": 30, "blend": 40}  # on the low side: no false refusals


def check_garment_file(path: str | Path, max_faces: int = 3_000_000) -> tuple[str, list[str]]:
    """Return (format, warnings) for a readable garment file, or raise a one-line UserError."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{path.name}: unsupported garment format {path.suffix or '(none)'}; expected one of "
            f"{', '.join(sorted(FORMATS))}"
        )
    if not path.is_file():
        raise UserError(f"garment file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path} is empty")
    head = path.read_bytes()[:4096] if size < 4096 else _read_head(path)
    _check_magic(path, fmt, head, size)
    faces = _estimate_faces(path, fmt, head, size)
    if faces is not None and faces > max_faces:
        raise UserError(
            f"{path.name} has about {faces:,} faces, over the limit of {max_faces:,}; decimate it first "
            f"or raise --max-faces"
        )
    return fmt, []


def _read_head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _check_magic(path: Path, fmt: str, head: bytes, size: int) -> None:
    bad = None
    if fmt == "ply" and not head.startswith(b"ply"):
        bad = "no 'ply' header"
    elif fmt == "gltf" and path.suffix.lower() == ".glb" and not head.startswith(b"glTF"):
        bad = "no 'glTF' binary header"
    elif fmt == "gltf" and path.suffix.lower() == ".gltf" and not head.lstrip().startswith(b"{"):
        bad = "not JSON"
    elif fmt == "fbx" and not (head.startswith(b"Kaydara FBX Binary") or b"FBX" in head[:1024]):
        bad = "no FBX header"
    elif fmt == "blend" and not head.startswith((b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):
        bad = "no BLENDER header (nor gzip/zstd compression)"
    elif fmt == "usd":
        suffix = path.suffix.lower()
        ok = (
            head.startswith(b"PXR-USDC")
            or head.startswith(b"#usda")
            or (suffix == ".usdz" and head.startswith(b"PK"))
        )
        bad = None if ok else "no USD header (PXR-USDC, #usda or a .usdz zip)"
    elif fmt == "stl":
        if not head.lstrip().lower().startswith(b"solid") or b"\0" in head[:512]:
            if size < 84:
                bad = "too short for a binary STL"
            else:
                (n,) = struct.unpack("<I", head[80:84])
                if 84 + 50 * n != size:
                    bad = f"binary STL says {n} triangles but the file size does not match"
    elif fmt == "obj" and b"\0" in head:
        bad = "binary data in a text OBJ"
    if bad:
        raise UserError(f"{path} is not a valid {fmt.upper()} file ({bad})")


def _estimate_faces(path: Path, fmt: str, head: bytes, size: int) -> int | None:
    """Face count from the header (PLY, binary STL) or a quick scan (OBJ); a size-based guess otherwise."""
    if fmt == "ply":
        m = re.search(rb"element face (\d+)", head)
        return int(m.group(1)) if m else 0
    if fmt == "stl":
        if head.lstrip().lower().startswith(b"solid") and b"\0" not in head[:512]:
            return size // 250
        return struct.unpack("<I", head[80:84])[0]
    if fmt == "obj":
        if size < 64 * 2**20:
            return path.read_bytes().count(b"\nf ")
        return size // 30
    return size // _BYTES_PER_FACE[fmt]

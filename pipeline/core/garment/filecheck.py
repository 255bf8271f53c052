"""Checks on a garment file before any importer touches it: a regular file, the format its suffix claims, a
header whose counts fit the file's size, no more faces than allowed (counted, not estimated), no NaN or
infinite coordinates, and every file it references inside its folder. Bad input gets one clear line instead
of a crash, a hang or gigabytes of memory.

`prepare_garment_file` also returns the path the importer should read: the file itself, or a sanitised copy
in a temporary folder whose references (OBJ mtllib and texture maps, glTF buffers and images) point only at
checked files, so an importer never follows a reference we refused.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.errors import UserError
from pipeline.core.untrusted import check_regular, clip, read_head

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
HEAD_BYTES = 65_536


@dataclasses.dataclass
class PreparedFile:
    """A checked garment file: its format, the path to import (maybe a sanitised copy), warnings, and the
    temporary folder to delete after the import (None when the original is imported)."""

    path: Path
    format: str
    import_path: Path
    faces: int | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    temp_dir: Path | None = None

    def cleanup(self) -> None:
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def check_garment_file(path: str | Path, max_faces: int = 3_000_000) -> tuple[str, list[str]]:
    """Return (format, warnings) for a readable garment file, or raise a one-line UserError."""
    prepared = prepare_garment_file(path, max_faces)
    prepared.cleanup()
    return prepared.format, prepared.warnings


def prepare_garment_file(
    path: str | Path, max_faces: int = 3_000_000, allowed_dirs: Iterable[str | Path] = ()
) -> PreparedFile:
    """Check `path` (see the module doc) and return what to import; referenced files must lie in the file's
    folder or in `allowed_dirs`, else they are skipped with a warning (textures) or refused (geometry)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{clip(path.name)}: unsupported garment format {clip(path.suffix or '(none)', 20)}; expected one "
            f"of {', '.join(sorted(FORMATS))}"
        )
    size = check_regular(path, "garment file").st_size
    if size == 0:
        raise UserError(f"{clip(str(path))} is empty")
    head = read_head(path, HEAD_BYTES)
    _check_magic(path, fmt, head, size)
    prepared = PreparedFile(path=path, format=fmt, import_path=path)
    try:
        _check_contents(prepared, head, size, max_faces, list(allowed_dirs))
    except BaseException:
        prepared.cleanup()
        raise
    if prepared.faces == 0 and fmt in ("obj", "ply", "stl"):
        prepared.cleanup()
        raise UserError(f"{clip(str(path))} has no faces (a point cloud?); a garment needs a surface mesh")
    if prepared.faces is not None and prepared.faces > max_faces:
        prepared.cleanup()
        raise UserError(
            f"{clip(path.name)} has {prepared.faces:,} faces, over the limit of {max_faces:,}; decimate it "
            f"first or raise --max-faces"
        )
    return prepared


def check_garment_input(path: str | Path, max_faces: int = 3_000_000, allowed_dirs: Iterable = ()) -> str:
    """`prepare_garment_file` for a garment about to be cleaned or fitted: also refuse, from the counted faces,
    a file too small to be a garment before any body is built. Returns the format."""
    from pipeline.core.garment.mesh import MIN_GARMENT_FACES

    prepared = prepare_garment_file(path, max_faces, allowed_dirs)
    prepared.cleanup()
    if prepared.faces is not None and prepared.faces < MIN_GARMENT_FACES:
        raise UserError(
            f"{clip(str(path))} is not a garment: {prepared.faces} face(s), fewer than {MIN_GARMENT_FACES}"
        )
    return prepared.format


def _check_contents(prepared: PreparedFile, head: bytes, size: int, max_faces: int, allowed: list) -> None:
    from pipeline.core.garment import headers, refs_gltf, refs_obj

    path, fmt = prepared.path, prepared.format
    if fmt == "obj":
        refs_obj.check_obj(prepared, size, allowed, _temp_dir)
    elif fmt == "ply":
        prepared.faces = headers.check_ply(path, head, size, max_faces)
    elif fmt == "stl":
        binary = _binary_stl(head)
        prepared.faces = struct.unpack("<I", head[80:84])[0] if binary else count_pattern(path, b"endfacet")
    elif fmt == "gltf":
        refs_gltf.check_gltf(prepared, head, size, max_faces, allowed, _temp_dir)
    elif fmt == "fbx":
        refs: list[tuple[int, int, str]] = []
        prepared.faces = headers.check_fbx(path, size, max_faces, refs)
        _fbx_references(prepared, refs, allowed)
    elif fmt == "usd":
        headers.check_usd(path, head, size, max_faces)


def _fbx_references(prepared: PreparedFile, refs: list[tuple[int, int, str]], allowed: list) -> None:
    """Texture files an FBX names outside its folder (or FIFOs, devices) are blanked in a sanitised copy."""
    from pipeline.core.garment import headers
    from pipeline.core.untrusted import UnsafeReference, resolve_inside

    refused = []
    for offset, length, name in refs:
        if not name.strip():
            continue
        try:
            resolve_inside(prepared.path.parent, name, allowed)
        except UnsafeReference as exc:
            if exc.missing and not Path(name).is_absolute() and ".." not in Path(name).parts:
                continue  # a missing file inside the folder: the importer reports it
            refused.append((offset, length))
            warning = f"texture skipped: {exc}"
            if warning not in prepared.warnings:
                prepared.warnings.append(warning)
    if refused:
        out = _temp_dir(prepared) / prepared.path.name
        headers.sanitise_fbx(prepared.path, out, refused)
        prepared.import_path = out


def _temp_dir(prepared: PreparedFile) -> Path:
    if prepared.temp_dir is None:
        prepared.temp_dir = Path(tempfile.mkdtemp(prefix="tryon-import-"))
    return prepared.temp_dir


def _check_magic(path: Path, fmt: str, head: bytes, size: int) -> None:
    bad = None
    suffix = path.suffix.lower()
    if fmt == "ply" and not head.startswith(b"ply"):
        bad = "no 'ply' header"
    elif fmt == "gltf" and suffix == ".glb" and not head.startswith(b"glTF"):
        bad = "no 'glTF' binary header"
    elif fmt == "gltf" and suffix == ".gltf" and not head.lstrip().startswith(b"{"):
        bad = "not JSON"
    elif fmt == "fbx" and not head.startswith(b"Kaydara FBX Binary"):
        bad = (
            "an ASCII FBX, which Blender's importer does not read; export it as binary FBX"
            if b"FBXHeaderExtension" in head or head.lstrip().startswith(b"; FBX")
            else "no 'Kaydara FBX Binary' header"
        )
    elif fmt == "blend" and not head.startswith((b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):
        bad = "no BLENDER header (nor gzip/zstd compression)"
    elif fmt == "usd":
        ok = (
            head.startswith(b"PXR-USDC")
            or head.startswith(b"#usda")
            or (suffix == ".usdz" and head.startswith(b"PK"))
        )
        bad = None if ok else "no USD header (PXR-USDC, #usda or a .usdz zip)"
    elif fmt == "stl" and _binary_stl(head):
        if size < 84:
            bad = "too short for a binary STL"
        elif 84 + 50 * struct.unpack("<I", head[80:84])[0] != size:
            bad = f"binary STL says {struct.unpack('<I', head[80:84])[0]:,} triangles but the file size does not match"
    elif fmt == "obj" and b"\0" in head:
        bad = "binary data in a text OBJ"
    if bad:
        raise UserError(f"{clip(str(path))} is not a valid {fmt.upper()} file ({bad})")


def _binary_stl(head: bytes) -> bool:
    return not head.lstrip().lower().startswith(b"solid") or b"\0" in head[:512]


def count_pattern(path: Path, pattern: bytes, chunk: int = 8 * 2**20) -> int:
    """How often `pattern` occurs in the file (a leading b"\\n" also matches at the very start), read in
    chunks so memory stays constant."""
    total, carry = 0, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            data = carry + block
            total += data.count(pattern)
            carry = data[-(len(pattern) - 1) :]
    return total

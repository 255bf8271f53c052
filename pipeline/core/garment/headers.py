"""Header checks for binary-ish garment formats, read before any importer: PLY element counts against the file
size, the FBX node tree (every offset, array length and decompressed size within bounds; faces counted from
`PolygonVertexIndex`), USD crate/zip headers. A file whose header promises more than it holds is refused in
milliseconds instead of making Blender allocate gigabytes or abort."""

from __future__ import annotations

import mmap
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.untrusted import clip

PLY_TYPES = {
    "char": 1,
    "int8": 1,
    "uchar": 1,
    "uint8": 1,
    "short": 2,
    "int16": 2,
    "ushort": 2,
    "uint16": 2,
    "int": 4,
    "int32": 4,
    "uint": 4,
    "uint32": 4,
    "float": 4,
    "float32": 4,
    "double": 8,
    "float64": 8,
}


def _bad(path: Path, fmt: str, why: str) -> UserError:
    return UserError(f"{clip(str(path))} is not a valid {fmt} file ({why})")


def check_ply(path: Path, head: bytes, size: int, max_faces: int) -> int:
    """Parse the PLY header; refuse counts the file cannot hold or more vertices than 3x the face limit.
    Returns the face count the header states."""
    end = head.find(b"end_header")
    if end < 0:
        raise _bad(path, "PLY", f"no end_header in the first {len(head):,} bytes")
    body_start = head.find(b"\n", end) + 1 or end + len(b"end_header")
    fmt, elements = _ply_elements(path, head[:end].decode("ascii", "replace"))
    faces = next((count for name, count, _ in elements if name == "face"), 0)
    if faces > max_faces:
        raise UserError(
            f"{clip(path.name)} has {faces:,} faces, over the limit of {max_faces:,}; decimate it first "
            f"or raise --max-faces"
        )
    min_bytes = 0
    for name, count, props in elements:
        if name == "vertex" and count > 3 * max_faces:
            raise UserError(
                f"{clip(path.name)}: its header claims {count:,} vertices, over the limit of "
                f"{3 * max_faces:,} (3x --max-faces)"
            )
        row = sum(_ply_min_row(p, fmt) for p in props)
        min_bytes += count * max(row, 1)
    if min_bytes > size - body_start:
        raise _bad(
            path, "PLY", f"its header needs at least {min_bytes:,} bytes of data but the file holds {size:,}"
        )
    return faces


def _ply_elements(path: Path, header: str) -> tuple[str, list[tuple[str, int, list[list[str]]]]]:
    fmt, elements = "", []
    for line in header.splitlines()[1:]:
        parts = line.split()
        if not parts or parts[0] in ("comment", "obj_info"):
            continue
        if parts[0] == "format" and len(parts) >= 2:
            fmt = parts[1]
        elif parts[0] == "element" and len(parts) == 3 and parts[2].isdigit():
            elements.append((parts[1], int(parts[2]), []))
        elif parts[0] == "property" and elements and _ply_property_ok(parts):
            elements[-1][2].append(parts[1:])
        else:
            raise _bad(path, "PLY", f"header line {clip(line, 60)} is malformed")
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise _bad(path, "PLY", f"unknown format {clip(fmt, 40)}")
    return fmt, elements


def _ply_property_ok(parts: list[str]) -> bool:
    if len(parts) == 3:
        return parts[1] in PLY_TYPES
    return len(parts) == 5 and parts[1] == "list" and parts[2] in PLY_TYPES and parts[3] in PLY_TYPES


def _ply_min_row(prop: list[str], fmt: str) -> int:
    """Fewest bytes one value of this property takes (a face list holds at least 3 indices)."""
    if fmt == "ascii":
        return 2 if prop[0] != "list" else 2 + (6 if "vertex_ind" in prop[-1] else 0)
    if prop[0] != "list":
        return PLY_TYPES[prop[0]]
    items = 3 if "vertex_ind" in prop[-1] else 0
    return PLY_TYPES[prop[1]] + items * PLY_TYPES[prop[2]]


# --- FBX (binary; Blender reads no ASCII FBX) -------------------------------------------------------------

_FBX_MAGIC = b"Kaydara FBX Binary  \x00\x1a\x00"
_FBX_SCALAR = {b"Y": 2, b"C": 1, b"I": 4, b"F": 4, b"D": 8, b"L": 8}
_FBX_ARRAY = {b"f": 4, b"d": 8, b"l": 8, b"i": 4, b"b": 1}
FBX_MAX_NODES = 5_000_000
_FBX_FILE_NODES = (b"FileName", b"Filename", b"RelativeFilename")  # where Texture and Video nodes name files
FBX_MAX_DEPTH = 64


class _FbxWalk:
    """A bounds-checked walk over every node and property of a binary FBX (nothing is decompressed except
    the polygon index arrays, whose negative entries count the faces)."""

    def __init__(self, path: Path, data, version: int, max_array_bytes: int) -> None:
        self.path, self.data, self.size = path, data, len(data)
        self.wide = version >= 7500
        self.header = 25 if self.wide else 13
        self.nodes = 0
        self.array_bytes = 0
        self.max_array_bytes = max_array_bytes
        self.faces = 0
        self.file_refs: list[tuple[int, int]] = []  # (offset, length) of texture/video file-name strings

    def fail(self, why: str) -> UserError:
        return _bad(self.path, "FBX", why)

    def nodes_in(self, pos: int, limit: int, depth: int) -> None:
        if depth > FBX_MAX_DEPTH:
            raise self.fail(f"nodes nested over {FBX_MAX_DEPTH} deep")
        while pos + self.header <= limit:
            fmt = "<QQQB" if self.wide else "<IIIB"
            end, nprops, plen, nlen = struct.unpack_from(fmt, self.data, pos)
            if end == 0:
                return  # null record: end of this list
            self.nodes += 1
            if self.nodes > FBX_MAX_NODES:
                raise self.fail(f"over {FBX_MAX_NODES:,} nodes")
            start = pos + self.header + nlen
            if not pos < end <= limit or start + plen > end:
                raise self.fail(f"a node at byte {pos:,} ends outside its parent")
            name = bytes(self.data[pos + self.header : start])
            self.properties(name, start, start + plen, nprops)
            if start + plen < end:
                self.nodes_in(start + plen, end, depth + 1)
            pos = end
        if pos != limit and depth == 0 and pos + self.header > self.size:
            raise self.fail("the node list runs past the end of the file")

    def properties(self, name: bytes, pos: int, end: int, count: int) -> None:
        for _ in range(count):
            if pos >= end:
                raise self.fail(f"node {clip(name.decode('latin-1'), 40)} has fewer properties than it says")
            kind = bytes(self.data[pos : pos + 1])
            pos += 1
            if kind in _FBX_SCALAR:
                pos += _FBX_SCALAR[kind]
            elif kind in (b"S", b"R"):
                (n,) = struct.unpack_from("<I", self.data, pos)
                if kind == b"S" and name in _FBX_FILE_NODES:
                    self.file_refs.append((pos + 4, n))
                pos += 4 + n
            elif kind in _FBX_ARRAY:
                pos = self.array(name, kind, pos, end)
            else:
                raise self.fail(f"unknown property type {kind!r}")
            if pos > end:
                raise self.fail(f"a property of node {clip(name.decode('latin-1'), 40)} overruns it")

    def array(self, name: bytes, kind: bytes, pos: int, end: int) -> int:
        length, encoding, stored = struct.unpack_from("<III", self.data, pos)
        pos += 12
        nbytes = length * _FBX_ARRAY[kind]
        if pos + stored > end:
            raise self.fail("an array overruns its node")
        if encoding not in (0, 1) or (encoding == 0 and stored != nbytes):
            raise self.fail("an array's stored size does not match its length")
        self.array_bytes += nbytes
        if self.array_bytes > self.max_array_bytes:
            raise UserError(
                f"{clip(self.path.name)}: its arrays would take over {self.max_array_bytes // 2**20:,} MB "
                f"(more than --max-faces allows)"
            )
        if name == b"PolygonVertexIndex" and kind == b"i":
            raw = bytes(self.data[pos : pos + stored])
            if encoding == 1:
                raw = self._inflate(raw, nbytes)
            self.faces += int(np.count_nonzero(np.frombuffer(raw, dtype="<i4") < 0))
        return pos + stored

    def _inflate(self, raw: bytes, nbytes: int) -> bytes:
        d = zlib.decompressobj()
        try:
            out = d.decompress(raw, nbytes)
        except zlib.error:
            raise self.fail("a compressed array is corrupt") from None
        if len(out) != nbytes or d.unconsumed_tail:
            raise self.fail("a compressed array does not hold the length it states")
        return out


def check_fbx(path: Path, size: int, max_faces: int, refs: list[tuple[int, int, str]] | None = None) -> int:
    """Walk a binary FBX's node tree within bounds; return its face count (UserError when malformed).
    `refs`, when given, receives (offset, byte length, file name) of every texture/video file reference."""
    if size < 27 + 13:
        raise _bad(path, "FBX", "too short")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:23] != _FBX_MAGIC:
            raise _bad(path, "FBX", "damaged 'Kaydara FBX Binary' header")
        (version,) = struct.unpack_from("<I", data, 23)
        if not 7100 <= version <= 7700:
            raise _bad(path, "FBX", f"version {version} (Blender reads binary FBX 7.1 to 7.7)")
        walk = _FbxWalk(path, data, version, max(256 * 2**20, 240 * max_faces))
        try:
            walk.nodes_in(27, size, 0)
        except struct.error:
            raise _bad(path, "FBX", "it ends inside a node") from None
        if walk.nodes == 0:
            raise _bad(path, "FBX", "no nodes")
        if refs is not None:
            refs.extend((o, n, bytes(data[o : o + n]).decode("utf-8", "replace")) for o, n in walk.file_refs)
        return walk.faces


def sanitise_fbx(path: Path, out: Path, offsets: list[tuple[int, int]]) -> None:
    """Copy the FBX with the file names at `offsets` ((offset, length)) blanked to underscores of the same
    length, so every offset stays valid and the importer finds no such file (it warns and goes on)."""
    data = bytearray(path.read_bytes())
    for offset, length in offsets:
        data[offset : offset + length] = b"_" * length
    out.write_bytes(bytes(data))


# --- USD --------------------------------------------------------------------------------------------------

USDZ_MAX_BYTES = 4 * 2**30


def check_usd(path: Path, head: bytes, size: int, max_faces: int) -> None:
    """USD crate: the table of contents lies inside the file. USDZ: a zip whose members are stored (the
    format forbids compression) and add up to at most 4 GB."""
    if head.startswith(b"PXR-USDC"):
        if size < 24:
            raise _bad(path, "USD", "too short for a crate file")
        (toc,) = struct.unpack_from("<q", head, 16)
        if not 24 <= toc < size:
            raise _bad(path, "USD", f"table of contents at {toc:,} lies outside the {size:,}-byte file")
    elif path.suffix.lower() == ".usdz":
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _bad(path, "USDZ", f"not a readable zip: {clip(str(exc), 60)}") from None
        total = sum(i.file_size for i in infos)
        if len(infos) > 10_000 or total > USDZ_MAX_BYTES:
            raise UserError(f"{clip(path.name)}: {len(infos):,} members of {total:,} bytes in all: too big")
        if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
            raise _bad(path, "USDZ", "compressed members (USDZ stores its files uncompressed)")

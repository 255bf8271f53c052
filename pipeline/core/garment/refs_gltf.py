"""glTF/GLB checks before Blender's importer: the container's chunk lengths, the JSON (size and depth capped),
every accessor within its buffer view and every view within its buffer (an accessor of 600M entries and no
view would make the importer allocate gigabytes), faces counted from the primitives, embedded and external
images checked from their headers, and external buffers/images only inside the garment's folder. When the
file names external files, the importer reads a sanitised copy whose URIs point at checked files (linked into
a temporary folder); refused images are dropped with a warning, refused buffers refuse the file."""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.core.errors import UserError
from pipeline.core.files import parse_json
from pipeline.core.untrusted import (
    UnsafeReference,
    check_image_file,
    check_image_header,
    clip,
    link_checked,
    resolve_inside,
)

MAX_JSON_BYTES = 64 * 2**20
COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COUNT = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


def _bad(path: Path, why: str) -> UserError:
    return UserError(f"{clip(str(path))} is not a valid glTF file ({why})")


def check_gltf(prepared, head: bytes, size: int, max_faces: int, allowed: list, temp_dir: Callable) -> None:
    """Check a .gltf or .glb (see the module doc); sets faces, warnings and, when needed, import_path."""
    path = prepared.path
    glb = path.suffix.lower() == ".glb"
    if not glb and size > MAX_JSON_BYTES:
        raise UserError(
            f"{clip(path.name)} is {size:,} bytes of glTF JSON, over the limit of {MAX_JSON_BYTES:,}"
        )
    doc, bin_range = _read_glb(path, head, size) if glb else (_read_json(path, path.read_bytes()), None)
    if not isinstance(doc, dict):
        raise _bad(path, "the JSON is not an object")
    buffer_sizes = _buffer_sizes(prepared, doc, bin_range, allowed)
    _check_accessors(path, doc, buffer_sizes, max_faces)
    prepared.faces = count_faces(doc)
    _check_images(prepared, doc, bin_range, allowed)
    if _has_file_uris(doc):
        _write_sanitised(prepared, doc, bin_range, temp_dir(prepared), allowed)


def _read_json(path: Path, data: bytes) -> Any:
    return parse_json(data, f"glTF JSON of {clip(path.name)}", MAX_JSON_BYTES, max_depth=64)


def _read_glb(path: Path, head: bytes, size: int) -> tuple[Any, tuple[int, int] | None]:
    """The GLB's JSON and the (offset, length) of its BIN chunk, after checking every length."""
    if len(head) < 20:
        raise _bad(path, "too short for a GLB")
    _, version, length = struct.unpack_from("<III", head, 0)
    if version != 2:
        raise _bad(path, f"GLB version {version}; Blender reads glTF 2.0")
    if length > size:
        raise _bad(path, f"the header says {length:,} bytes but the file holds {size:,}")
    json_len, kind = struct.unpack_from("<II", head, 12)
    if kind != 0x4E4F534A or 20 + json_len > length:
        raise _bad(path, "the JSON chunk is missing or longer than the file")
    with open(path, "rb") as fh:
        fh.seek(20)
        doc = _read_json(path, fh.read(min(json_len, MAX_JSON_BYTES + 1)))
        pos = 20 + json_len
        bin_range = None
        if pos + 8 <= length:
            fh.seek(pos)
            bin_len, bin_kind = struct.unpack("<II", fh.read(8))
            if bin_kind == 0x004E4942:
                if pos + 8 + bin_len > length:
                    raise _bad(path, "the BIN chunk is longer than the file")
                bin_range = (pos + 8, bin_len)
    return doc, bin_range


def _list(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise UserError(f"glTF '{key}' must be a list of objects")
    return value


def _int(obj: dict, key: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"glTF field '{key}' must be a non-negative integer, not {clip(value)}")
    return value


def _buffer_sizes(prepared, doc: dict, bin_range, allowed: list) -> list[int]:
    """Each buffer's byteLength, checked against the bytes actually there (BIN chunk, data URI or file)."""
    path, sizes = prepared.path, []
    for i, buf in enumerate(_list(doc, "buffers")):
        length = _int(buf, "byteLength")
        uri = buf.get("uri")
        if uri is None:
            have = bin_range[1] if (bin_range and i == 0) else 0
        elif not isinstance(uri, str):
            raise _bad(path, f"buffer {i} has a non-text uri")
        elif uri.startswith("data:"):
            have = len(uri) * 3 // 4
        else:
            try:
                have = os.stat(resolve_inside(path.parent, uri, allowed)).st_size
            except UnsafeReference as exc:
                raise UserError(f"{clip(path.name)}: buffer {i} refused: {exc}") from None
        if length > have:
            raise _bad(path, f"buffer {i} claims {length:,} bytes but only {have:,} are there")
        sizes.append(length)
    return sizes


def _check_accessors(path: Path, doc: dict, buffer_sizes: list[int], max_faces: int) -> None:
    views = _list(doc, "bufferViews")
    for i, view in enumerate(views):
        b = _int(view, "buffer")
        if b >= len(buffer_sizes) or _int(view, "byteOffset", 0) + _int(view, "byteLength") > buffer_sizes[b]:
            raise _bad(path, f"bufferView {i} lies outside its buffer")
    for i, acc in enumerate(_list(doc, "accessors")):
        count = _int(acc, "count")
        comp = COMPONENT_BYTES.get(acc.get("componentType"))
        dims = TYPE_COUNT.get(acc.get("type"))
        if comp is None or dims is None:
            raise _bad(path, f"accessor {i} has an unknown componentType or type")
        if count > 4 * max_faces:
            raise UserError(
                f"{clip(path.name)}: accessor {i} has {count:,} entries, over the limit of {4 * max_faces:,} "
                f"(4x --max-faces)"
            )
        if "bufferView" in acc:
            v = _int(acc, "bufferView")
            if v >= len(views):
                raise _bad(path, f"accessor {i} names a missing bufferView")
            stride = _int(views[v], "byteStride", 0) or comp * dims
            need = _int(acc, "byteOffset", 0) + (stride * (count - 1) + comp * dims if count else 0)
            if need > _int(views[v], "byteLength"):
                raise _bad(path, f"accessor {i} needs {need:,} bytes but its bufferView holds fewer")


def count_faces(doc: dict) -> int:
    """Triangles of every mesh primitive (each mesh counted once): indices/3 or vertices/3 for mode 4,
    strips and fans n-2; points and lines count none."""
    accessors = doc.get("accessors", [])
    total = 0
    for mesh in doc.get("meshes", []) if isinstance(doc.get("meshes"), list) else []:
        for prim in mesh.get("primitives", []) if isinstance(mesh, dict) else []:
            if not isinstance(prim, dict):
                continue
            idx = prim.get("indices")
            attrs = prim.get("attributes") if isinstance(prim.get("attributes"), dict) else {}
            src = idx if idx is not None else attrs.get("POSITION")
            if not isinstance(src, int) or not 0 <= src < len(accessors):
                continue
            n = accessors[src].get("count", 0)
            mode = prim.get("mode", 4)
            total += n // 3 if mode == 4 else max(n - 2, 0) if mode in (5, 6) else 0
    return total


def _check_images(prepared, doc: dict, bin_range, allowed: list) -> None:
    path = prepared.path
    views = doc.get("bufferViews", [])
    for i, img in enumerate(_list(doc, "images")):
        uri = img.get("uri")
        name = img.get("name") or f"image {i}"
        if isinstance(uri, str) and uri.startswith("data:"):
            payload = uri.split(",", 1)[-1][:90_000]
            check_image_header(
                base64.b64decode(payload[: len(payload) // 4 * 4] or b"", validate=False), name
            )
        elif isinstance(uri, str):
            try:
                check_image_file(resolve_inside(path.parent, uri, allowed), uri)
            except UserError as exc:
                prepared.warnings.append(f"texture skipped: {exc}")
                img["uri"] = "refused-outside-reference.png"  # not created: the importer warns and goes on
        elif "bufferView" in img and bin_range is not None:
            v = _int(img, "bufferView")
            if v < len(views) and views[v].get("buffer", 0) == 0:
                with open(path, "rb") as fh:
                    fh.seek(bin_range[0] + _int(views[v], "byteOffset", 0))
                    check_image_header(fh.read(min(65_536, _int(views[v], "byteLength"))), name)


def _has_file_uris(doc: dict) -> bool:
    items = doc.get("buffers", []) + doc.get("images", [])
    return any(isinstance(x.get("uri"), str) and not x["uri"].startswith("data:") for x in items)


def _write_sanitised(prepared, doc: dict, bin_range, tmp: Path, allowed: list) -> None:
    """Write the glTF (or GLB) into `tmp` with every file URI replaced by a link to its checked target."""
    base = prepared.path.parent
    for kind in ("buffers", "images"):
        for item in doc.get(kind, []):
            uri = item.get("uri")
            if not isinstance(uri, str) or uri.startswith("data:") or uri == "refused-outside-reference.png":
                continue
            real = resolve_inside(base, uri, allowed)
            item["uri"] = quote(link_checked(real, tmp))
    out = tmp / prepared.path.name
    text = json.dumps(doc).encode()
    if bin_range is None:
        out.write_bytes(text)
    else:
        text += b" " * (-len(text) % 4)
        with open(prepared.path, "rb") as fi, open(out, "wb") as fo:
            fi.seek(bin_range[0])
            body = fi.read(bin_range[1])
            body += b"\0" * (-len(body) % 4)
            total = 12 + 8 + len(text) + 8 + len(body)
            fo.write(struct.pack("<III", 0x46546C67, 2, total))
            fo.write(struct.pack("<II", len(text), 0x4E4F534A) + text)
            fo.write(struct.pack("<II", len(body), 0x004E4942) + body)
    prepared.import_path = out

"""OBJ checks in one pass over the file: faces counted (lines starting with `f`), NaN/Inf or overflowing
coordinates refused (Blender's importer would silently turn them into 0), and `mtllib` libraries and their
texture maps followed only inside the garment's folder. When the OBJ names material libraries, the importer
reads a sanitised copy in a temporary folder (the OBJ linked or rewritten, each MTL rewritten with only
checked texture paths), so a refused reference is never opened."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path

from pipeline.core.errors import UserError
from pipeline.core.untrusted import UnsafeReference, check_image_file, clip, link_checked, resolve_inside

CHUNK = 8 * 2**20
MAX_MTL_BYTES = 4 * 2**20
_SUSPECT_VERTEX = re.compile(rb"(?im)^v[ \t][^\n]*(?:nan|inf|[eE]\+?\d{3})[^\n]*")
_MTLLIB = re.compile(rb"(?m)^[ \t]*mtllib[ \t]+([^\r\n]*)")
# MTL statements whose last token is a file (options such as `-s 1 1 1` come before it).
_MAP_KEYS = ("map_", "bump", "disp", "decal", "refl", "norm")


def check_obj(prepared, size: int, allowed: list, temp_dir: Callable) -> None:
    """Count faces, refuse non-finite coordinates and set up the sanitised import (see the module doc)."""
    faces, libs = scan_obj(prepared.path)
    prepared.faces = faces
    if not libs:
        return
    base = prepared.path.parent
    safe: list[tuple[str, Path]] = []
    for name in libs:
        try:
            safe.append((name, resolve_inside(base, name, allowed)))
        except UnsafeReference as exc:
            prepared.warnings.append(
                f"material library missing: {Path(name).name}"
                if exc.missing
                else f"material library skipped: {exc}"
            )
    tmp = temp_dir(prepared)
    simple = all(Path(n).name == n and n not in (".", "..") for n in libs)
    mapping = {}
    for i, (name, real) in enumerate(safe):
        mtl_name = name if simple else f"m{i}.mtl"
        (tmp / mtl_name).write_text(
            sanitise_mtl(real, base, allowed, tmp, prepared.warnings), encoding="utf-8"
        )
        mapping[name] = mtl_name
    target = tmp / prepared.path.name
    if simple:
        os.symlink(os.path.realpath(prepared.path), target)  # the OBJ's own mtllib names now find our MTLs
    else:
        _rewrite_mtllib(prepared.path, target, mapping)
    prepared.import_path = target


def scan_obj(path: Path) -> tuple[int, list[str]]:
    """(face count, material library names) of an OBJ, read in chunks; UserError on NaN/Inf coordinates."""
    faces, libs, carry = 0, [], b""
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < 2 * CHUNK:  # a line longer than a chunk: wait for its end once
                carry = data
                continue
            lines, carry = (data[:cut], data[cut:]) if cut else (data, b"")
            faces, libs = faces + _count_faces(lines), libs + _scan_lines(lines, path)
    if carry:
        faces, libs = faces + _count_faces(carry), libs + _scan_lines(carry, path)
    return faces, list(dict.fromkeys(libs))


def _count_faces(lines: bytes) -> int:
    return lines.startswith((b"f ", b"f\t")) + lines.count(b"\nf ") + lines.count(b"\nf\t")


def _scan_lines(lines: bytes, path: Path) -> list[str]:
    low = lines.lower()
    if b"nan" in low or b"inf" in low or b"e+" in low or re.search(rb"[eE]\d{3}", lines):
        for m in _SUSPECT_VERTEX.finditer(lines):
            for token in m.group(0).split()[1:4]:
                try:
                    finite = math.isfinite(float(token))
                except ValueError:
                    finite = True  # not a number at all: the importer reports it
                if not finite:
                    raise UserError(
                        f"{clip(path.name)}: vertex coordinate {clip(token.decode(errors='replace'), 30)} "
                        f"is not a finite number; fix or remove that vertex"
                    )
    if b"mtllib" not in lines:
        return []
    names = []
    for m in _MTLLIB.finditer(lines):
        text = m.group(1).decode("utf-8", "replace").strip()
        parts = text.split()
        names.extend(parts if len(parts) > 1 and all(p.lower().endswith(".mtl") for p in parts) else [text])
    return [n for n in names if n]


def sanitise_mtl(mtl: Path, base: Path, allowed: list, tmp: Path, warnings: list[str]) -> str:
    """The MTL's text with every texture map either pointing at a checked file (linked into `tmp`) or
    dropped with a warning."""
    if mtl.stat().st_size > MAX_MTL_BYTES:
        warnings.append(f"material library {clip(mtl.name)} is over {MAX_MTL_BYTES // 2**20} MB: skipped")
        return ""
    out = []
    for line in mtl.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if not parts or not parts[0].lower().startswith(_MAP_KEYS):
            out.append(line)
            continue
        whole = line.split(None, 1)[1].strip()  # a name with spaces, when there are no options before it
        ref = whole if not whole.startswith("-") and (mtl.parent / whole).is_file() else parts[-1]
        try:
            real = resolve_inside(mtl.parent, ref, [base, *allowed])
            check_image_file(real, ref)
        except UnsafeReference as exc:
            warnings.append(
                f"texture missing: {Path(ref).name}" if exc.missing else f"texture skipped: {exc}"
            )
            continue
        except UserError as exc:
            warnings.append(f"texture skipped: {exc}")
            continue
        options = parts[1:-1] if ref == parts[-1] else []
        out.append(" ".join([parts[0], *options, link_checked(real, tmp)]))
    return "\n".join(out) + "\n"


def _rewrite_mtllib(src: Path, dst: Path, mapping: dict[str, str]) -> None:
    """Copy the OBJ with its mtllib lines replaced by the sanitised libraries (dropped when refused)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        for line in fi:
            m = _MTLLIB.match(line)
            if m is None:
                fo.write(line)
                continue
            text = m.group(1).decode("utf-8", "replace").strip()
            parts = text.split()
            names = parts if len(parts) > 1 and all(p.lower().endswith(".mtl") for p in parts) else [text]
            kept = [mapping[n] for n in names if n in mapping]
            fo.write(f"mtllib {' '.join(kept)}\n".encode() if kept else b"\n")

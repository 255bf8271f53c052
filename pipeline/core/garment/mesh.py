"""The garment interchange type: welded vertices with per-corner UVs, as plain numpy arrays (no bpy),
plus a small OBJ reader/writer so core code and worker processes can exchange garments without Blender.

OBJ files are Y up with the front towards +Z, the convention of the format and of Blender's OBJ importer and
exporter; in memory everything is Blender's Z up with the front towards -Y. Both functions convert."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path


@dataclasses.dataclass
class GarmentMesh:
    """A triangle mesh in metres (Z up, front towards -Y) with optional UVs, colours and a texture."""

    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64
    uv: np.ndarray | None = None  # (T, 2) float64
    face_uv: np.ndarray | None = None  # (F, 3) int64 indices into uv, per corner
    vertex_colors: np.ndarray | None = None  # (V, 4) float in [0, 1]
    texture_path: str | None = None  # base-colour image, if any
    base_color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    name: str = "Garment"

    def copy(self) -> GarmentMesh:
        return dataclasses.replace(
            self, **{f.name: _copy(getattr(self, f.name)) for f in dataclasses.fields(self)}
        )


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def write_obj(mesh: GarmentMesh, path: str | os.PathLike) -> Path:
    """Write `mesh` as OBJ (v, vt, f v/vt) with an MTL beside it, atomically."""
    path = Path(path)
    mtl_name = path.with_suffix(".mtl").name
    lines = [f"# {mesh.name}: written by the try-on pipeline", f"mtllib {mtl_name}", f"o {mesh.name}"]
    lines += [f"v {x:.6f} {z:.6f} {-y:.6f}" for x, y, z in mesh.vertices]  # Z up, -Y front -> Y up, +Z front
    if mesh.uv is not None:
        lines += [f"vt {u:.6f} {v:.6f}" for u, v in mesh.uv]
    lines.append(f"usemtl {mesh.name}_mat")
    faces = mesh.faces + 1
    if mesh.uv is not None and mesh.face_uv is not None:
        fuv = mesh.face_uv + 1
        lines += [f"f {a}/{ta} {b}/{tb} {c}/{tc}" for (a, b, c), (ta, tb, tc) in zip(faces, fuv, strict=True)]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in faces]
    r, g, b, _ = mesh.base_color
    mtl = [f"newmtl {mesh.name}_mat", f"Kd {r:.4f} {g:.4f} {b:.4f}", "Ks 0.0 0.0 0.0", "d 1.0"]
    if mesh.texture_path:
        mtl.append(f"map_Kd {mesh.texture_path}")
    with atomic_path(path.with_suffix(".mtl")) as tmp:
        tmp.write_text("\n".join(mtl) + "\n")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def read_obj(path: str | os.PathLike) -> GarmentMesh:
    """Read a triangle/polygon OBJ (v, vt, f) into a GarmentMesh; polygons are fanned into triangles."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"garment file not found: {path}")
    verts, uvs, faces, face_uv, mtllibs = [], [], [], [], []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "mtllib":
            mtllibs.append(line.split(None, 1)[1].strip())
        elif parts[0] == "v":
            verts.append([float(x) for x in parts[1:4]])
        elif parts[0] == "vt":
            uvs.append([float(x) for x in parts[1:3]])
        elif parts[0] == "f":
            idx = [p.split("/") for p in parts[1:]]
            vi = [int(p[0]) for p in idx]
            ti = [int(p[1]) if len(p) > 1 and p[1] else 0 for p in idx]
            for k in range(1, len(vi) - 1):
                faces.append([vi[0], vi[k], vi[k + 1]])
                face_uv.append([ti[0], ti[k], ti[k + 1]])
    if not verts or not faces:
        raise UserError(f"{path} holds no mesh faces")
    v = np.asarray(verts, dtype=np.float64)
    v = np.c_[
        v[:, 0], -v[:, 2], v[:, 1]
    ]  # the file's Y up, +Z front -> Z up, -Y front (as Blender imports it)
    f = np.asarray(faces, dtype=np.int64)
    f = np.where(f < 0, f + len(v), f - 1)
    has_uv = bool(uvs) and all(t != 0 for row in face_uv for t in row)
    uv = np.asarray(uvs, dtype=np.float64) if has_uv else None
    fuv = None
    if has_uv:
        fuv = np.asarray(face_uv, dtype=np.int64)
        fuv = np.where(fuv < 0, fuv + len(uv), fuv - 1)
    mesh = GarmentMesh(vertices=v, faces=f, uv=uv, face_uv=fuv, name=path.stem)
    for lib in mtllibs:
        _apply_mtl(mesh, path.parent / lib)
    return mesh


def _apply_mtl(mesh: GarmentMesh, mtl: Path) -> None:
    """Take the first material's diffuse colour (Kd) and texture (map_Kd, when the file exists)."""
    if not mtl.is_file():
        return
    for line in mtl.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "Kd":
            mesh.base_color = (float(parts[1]), float(parts[2]), float(parts[3]), 1.0)
        elif len(parts) >= 2 and parts[0] == "map_Kd":
            tex = mtl.parent / line.split(None, 1)[1].strip().split()[-1]
            mesh.texture_path = str(tex) if tex.is_file() else mesh.texture_path
        elif parts and parts[0] == "newmtl" and mesh.base_color != (0.8, 0.8, 0.8, 1.0):
            break


MIN_GARMENT_FACES = (
    20  # a garment has a front, a back and openings; fewer faces is a stray part, not a garment
)


def require_garment(mesh: GarmentMesh, source: str) -> None:
    """Refuse a mesh that cannot be a garment: too few faces, no area, or non-finite coordinates."""
    if not np.isfinite(mesh.vertices).all():
        raise UserError(f"{source} has NaN or infinite vertex coordinates")
    if len(mesh.faces) < MIN_GARMENT_FACES:
        raise UserError(
            f"{source} is not a garment: {len(mesh.faces)} face(s), fewer than {MIN_GARMENT_FACES}"
        )
    v = mesh.vertices[mesh.faces]
    area = 0.5 * np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1).sum()
    if not area > 0:
        raise UserError(f"{source} is not a garment: its faces have no area")

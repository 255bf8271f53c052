"""Generated garments with known defects, for tests and benches: a textured tube top (neck and hem
openings, a UV seam), a noisy coloured scan, and functions that add duplicates, floaters, holes, flipped and
degenerate faces."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from pipeline.core.garment.mesh import GarmentMesh


def tube_garment(
    n_around: int = 48,
    n_up: int = 24,
    radius_m: float = 0.16,
    height_m: float = 0.6,
    noise_m: float = 0.0,
    seed: int = 0,
) -> GarmentMesh:
    """An open tube like a sleeveless top: Z up, centred, outward normals, per-corner UVs with one seam.

    The neck end is narrower than the hem so the two openings differ; both are far longer than any hole.
    """
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, 2 * np.pi, n_around, endpoint=False)
    z = np.linspace(-height_m / 2, height_m / 2, n_up)
    t, zz = np.meshgrid(theta, z)
    r = radius_m * (1.0 - 0.25 * (zz - z[0]) / height_m) * (1 + 0.08 * np.cos(2 * t))
    verts = np.stack([r * np.cos(t), 0.75 * r * np.sin(t), zz], axis=-1).reshape(-1, 3)
    if noise_m:
        verts = verts + rng.normal(0, noise_m, verts.shape)
    idx = np.arange(n_around * n_up).reshape(n_up, n_around)
    a, b = idx[:-1], np.roll(idx, -1, axis=1)[:-1]
    c, d = idx[1:], np.roll(idx, -1, axis=1)[1:]
    faces = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    # UVs: a (n_around+1) x n_up grid, the last column duplicating the first at u=1 (the seam).
    u, v = np.meshgrid(np.linspace(0, 1, n_around + 1), np.linspace(0, 1, n_up))
    uv = np.stack([u, v], -1).reshape(-1, 2)
    uidx = np.arange((n_around + 1) * n_up).reshape(n_up, n_around + 1)
    ua, ub, uc, ud = uidx[:-1, :-1], uidx[:-1, 1:], uidx[1:, :-1], uidx[1:, 1:]
    face_uv = np.concatenate(
        [np.stack([ua, ub, ud], -1).reshape(-1, 3), np.stack([ua, ud, uc], -1).reshape(-1, 3)]
    )
    return GarmentMesh(
        vertices=verts, faces=faces.astype(np.int64), uv=uv, face_uv=face_uv.astype(np.int64), name="tube_top"
    )


def stripe_texture(path: str | Path, size: int = 256) -> Path:
    """Write a PNG of coloured vertical stripes and a horizontal band, so UV damage shows at a glance."""
    u = np.linspace(0, 1, size, endpoint=False)
    stripes = (np.floor(u * 8) % 2).astype(bool)
    img = np.empty((size, size, 3), dtype=np.uint8)
    img[:] = np.where(stripes[None, :, None], [200, 40, 40], [240, 220, 180])
    img[size // 2 - size // 16 : size // 2 + size // 16] = [30, 60, 160]
    return write_png(path, img[::-1])


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 array as PNG (plain zlib; works in Blender's Python too)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    path = Path(path)
    path.write_bytes(png)
    return path


def noisy_scan(
    target_faces: int = 1_000_000, noise_m: float = 0.001, seed: int = 0, uvs: bool = False
) -> GarmentMesh:
    """A scan-like garment: a dense noisy tube with vertex colours and no UVs (or, with `uvs`, a photo-texture
    style UV map instead of colours), about `target_faces` triangles, with scan defects added (duplicates,
    floaters, small holes, flipped and degenerate faces)."""
    n_up = int(np.sqrt(target_faces / 2 / 2.2))
    n_around = int(target_faces / 2 / max(n_up - 1, 1))
    mesh = tube_garment(n_around, n_up, noise_m=noise_m, seed=seed)
    if not uvs:
        mesh.uv = mesh.face_uv = None
    rng = np.random.default_rng(seed + 1)
    theta = np.arctan2(mesh.vertices[:, 1], mesh.vertices[:, 0])
    col = np.stack(
        [0.5 + 0.4 * np.sin(3 * theta), 0.4 + 0.3 * np.cos(mesh.vertices[:, 2] * 20), 0.6 + 0 * theta], 1
    )
    if not uvs:
        mesh.vertex_colors = np.clip(np.c_[col + rng.normal(0, 0.03, col.shape), np.ones(len(col))], 0, 1)
    mesh = punch_holes(mesh, 40, 0.008, rng)
    mesh = add_floaters(mesh, 200, rng)
    mesh = flip_faces(mesh, 0.02, rng)
    mesh = add_degenerate_faces(mesh, 500, rng)
    mesh = split_vertices(mesh, 0.01, rng)
    mesh.name = "noisy_scan"
    return mesh


def split_vertices(mesh: GarmentMesh, fraction: float, rng: np.random.Generator) -> GarmentMesh:
    """Give a `fraction` of faces their own copies of their vertices (exact duplicates, as scans have)."""
    out = mesh.copy()
    pick = np.flatnonzero(rng.random(len(mesh.faces)) < fraction)
    new_idx = len(mesh.vertices) + np.arange(len(pick) * 3)
    out.vertices = np.concatenate([mesh.vertices, mesh.vertices[mesh.faces[pick].ravel()]])
    if mesh.vertex_colors is not None:
        out.vertex_colors = np.concatenate([mesh.vertex_colors, mesh.vertex_colors[mesh.faces[pick].ravel()]])
    out.faces = mesh.faces.copy()
    out.faces[pick] = new_idx.reshape(-1, 3)
    return out


def add_floaters(
    mesh: GarmentMesh, count: int, rng: np.random.Generator, size_m: float = 0.01
) -> GarmentMesh:
    """Add `count` small closed tetrahedra near the garment (scan debris)."""
    lo, hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    centres = lo - 0.05 + rng.random((count, 3)) * (hi - lo + 0.1)
    tet = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float) * size_m
    tet_f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    verts = (centres[:, None, :] + tet[None]).reshape(-1, 3)
    faces = (tet_f[None] + 4 * np.arange(count)[:, None, None]).reshape(-1, 3) + len(mesh.vertices)
    return _append(mesh, verts, faces)


def punch_holes(mesh: GarmentMesh, count: int, radius_m: float, rng: np.random.Generator) -> GarmentMesh:
    """Remove the faces within `radius_m` of `count` random surface points away from the ends (small holes)."""
    from pipeline.core.garment.repair import keep_faces

    centres = mesh.vertices[mesh.faces].mean(axis=1)
    z = centres[:, 2]
    inner = np.flatnonzero((z > z.min() + 0.1) & (z < z.max() - 0.1))
    seeds = centres[rng.choice(inner, count, replace=False)]
    keep = np.ones(len(mesh.faces), dtype=bool)
    for s in seeds:
        keep &= np.linalg.norm(centres - s, axis=1) > radius_m
    return keep_faces(mesh, keep)


def flip_faces(mesh: GarmentMesh, fraction: float, rng: np.random.Generator) -> GarmentMesh:
    """Reverse the winding of a random `fraction` of faces."""
    out = mesh.copy()
    pick = rng.random(len(mesh.faces)) < fraction
    out.faces = mesh.faces.copy()
    out.faces[pick] = mesh.faces[pick][:, ::-1]
    if mesh.face_uv is not None:
        out.face_uv = mesh.face_uv.copy()
        out.face_uv[pick] = mesh.face_uv[pick][:, ::-1]
    return out


def add_degenerate_faces(mesh: GarmentMesh, count: int, rng: np.random.Generator) -> GarmentMesh:
    """Append `count` zero-area faces (a repeated vertex) on existing vertices."""
    a = rng.integers(0, len(mesh.vertices), count)
    b = rng.integers(0, len(mesh.vertices), count)
    faces = np.stack([a, b, b], axis=1)
    out = mesh.copy()
    out.faces = np.concatenate([mesh.faces, faces])
    if mesh.face_uv is not None:
        out.face_uv = np.concatenate([mesh.face_uv, np.zeros((count, 3), dtype=np.int64)])
    return out


def _append(mesh: GarmentMesh, verts: np.ndarray, faces: np.ndarray) -> GarmentMesh:
    out = mesh.copy()
    out.vertices = np.concatenate([mesh.vertices, verts])
    out.faces = np.concatenate([mesh.faces, faces])
    if mesh.vertex_colors is not None:
        out.vertex_colors = np.concatenate(
            [mesh.vertex_colors, np.tile([0.1, 0.1, 0.1, 1.0], (len(verts), 1))]
        )
    if mesh.face_uv is not None:
        out.face_uv = np.concatenate([mesh.face_uv, np.zeros((len(faces), 3), dtype=np.int64)])
    return out

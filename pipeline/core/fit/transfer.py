"""Move a garment from the body it was made for onto another body of the same topology (anny's), before any
draping: each garment vertex is bound to its nearest source-body triangle (barycentric coordinates plus an
offset in a local frame there, what MakeHuman's `.mhclo` files store), and the binding is evaluated on the
target body in its own shape and pose. Sleeves follow the arms and trouser legs the legs whatever angle they
were modelled at, and a garment made for a slim body grows with a heavy one (the ease, the offset from the
skin, is kept; the surface it sits on is the target's).

Limits: a vertex far from the body (a long skirt's hem, a wide cape) keeps its offset rigidly in the frame of
one triangle, so very loose parts move like a stiff shell; the drape that follows lets them hang again."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.fit.bodyfield import BodyField, vertex_normals


@dataclasses.dataclass
class SurfaceBinding:
    """Garment vertices bound to a body surface: triangle, barycentric coordinates, local offset."""

    faces: np.ndarray  # (G,) body triangle per garment vertex
    bary: np.ndarray  # (G, 3) barycentric coordinates of the nearest surface point
    offset: np.ndarray  # (G, 3) offset in the local frame (tangent, bitangent, normal) at that point, metres

    @property
    def normal_offset_m(self) -> np.ndarray:
        """Signed distance of each bound vertex from the surface along the normal (negative inside)."""
        return self.offset[:, 2]


def surface_frames(vertices: np.ndarray, faces: np.ndarray, tri: np.ndarray, bary: np.ndarray):
    """Points and orthonormal frames (tangent, bitangent, normal) at barycentric positions on triangles: the
    normal interpolated from vertex normals (smooth across edges), the tangent along the triangle's first edge."""
    corners = vertices[faces[tri]]  # (G, 3, 3)
    points = np.einsum("gk,gki->gi", bary, corners)
    vn = vertex_normals(vertices, faces)
    n = np.einsum("gk,gki->gi", bary, vn[faces[tri]])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    e = corners[:, 1] - corners[:, 0]
    t = e - np.einsum("gi,gi->g", e, n)[:, None] * n
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    b = np.cross(n, t)
    return points, np.stack([t, b, n], axis=1)  # frames: (G, 3 axes, 3)


def bind(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> SurfaceBinding:
    """Bind `points` (G, 3) to the nearest triangles of the surface (`vertices`, `faces`)."""
    points = np.asarray(points, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    c = BodyField(vertices, faces, use_warp=False).closest(points)
    base, frames = surface_frames(np.asarray(vertices, dtype=np.float64), faces, c.faces, c.bary)
    offset = np.einsum("gai,gi->ga", frames, points - base)
    return SurfaceBinding(faces=c.faces, bary=c.bary, offset=offset)


def evaluate(binding: SurfaceBinding, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Positions (G, 3) of the bound points on a body with the same topology (any shape, any pose)."""
    base, frames = surface_frames(
        np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64), binding.faces, binding.bary
    )
    return base + np.einsum("gai,ga->gi", frames, binding.offset)


def transfer(
    points: np.ndarray, source_vertices: np.ndarray, target_vertices: np.ndarray, faces
) -> np.ndarray:
    """`points` made around the source body, moved onto the target body (same faces)."""
    return evaluate(bind(points, source_vertices, faces), target_vertices, faces)

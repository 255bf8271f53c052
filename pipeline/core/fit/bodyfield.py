"""The body as a collision field: nearest surface point, normal and signed distance for any point: a Warp
BVH query when Warp imports, else a k-d tree over the body's triangles (exact point-triangle distance over the
nearest candidates)."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial import cKDTree


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals of a triangle mesh, unit length."""
    fn = np.cross(
        vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]]
    )
    vn = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    fn = np.cross(
        vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]]
    )
    return fn / np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)


def closest_point_on_triangles(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray):
    """Closest points on triangles (a, b, c) to points p (all (..., 3)); returns (points, barycentrics)."""
    ab, ac, ap = b - a, c - a, p - a
    d1 = np.einsum("...i,...i", ab, ap)
    d2 = np.einsum("...i,...i", ac, ap)
    bp = p - b
    d3 = np.einsum("...i,...i", ab, bp)
    d4 = np.einsum("...i,...i", ac, bp)
    cp = p - c
    d5 = np.einsum("...i,...i", ab, cp)
    d6 = np.einsum("...i,...i", ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    denom = np.where(np.abs(va + vb + vc) < 1e-30, 1e-30, va + vb + vc)
    v = vb / denom
    w = vc / denom
    bary = np.stack([1 - v - w, v, w], axis=-1)
    # Regions (Ericson, Real-Time Collision Detection 5.1.5), applied from the most specific down.
    with np.errstate(divide="ignore", invalid="ignore"):
        # edge BC
        m = (va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0)
        t = (d4 - d3) / np.where(m, (d4 - d3) + (d5 - d6), 1.0)
        bary = np.where(m[..., None], np.stack([0 * t, 1 - t, t], -1), bary)
        # edge AC
        m = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
        t = d2 / np.where(m, d2 - d6, 1.0)
        bary = np.where(m[..., None], np.stack([1 - t, 0 * t, t], -1), bary)
        # edge AB
        m = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
        t = d1 / np.where(m, d1 - d3, 1.0)
        bary = np.where(m[..., None], np.stack([1 - t, t, 0 * t], -1), bary)
    one = np.ones_like(d1)
    zero = np.zeros_like(d1)
    bary = np.where(((d6 >= 0) & (d5 <= d6))[..., None], np.stack([zero, zero, one], -1), bary)  # vertex C
    bary = np.where(((d3 >= 0) & (d4 <= d3))[..., None], np.stack([zero, one, zero], -1), bary)  # vertex B
    bary = np.where(((d1 <= 0) & (d2 <= 0))[..., None], np.stack([one, zero, zero], -1), bary)  # vertex A
    pts = bary[..., 0:1] * a + bary[..., 1:2] * b + bary[..., 2:3] * c
    return pts, bary


@dataclasses.dataclass
class Closest:
    """Nearest body surface data for a set of query points."""

    points: np.ndarray  # (N, 3) closest surface points
    normals: np.ndarray  # (N, 3) interpolated outward normals there
    signed_distance: np.ndarray  # (N,) negative inside the body
    faces: np.ndarray  # (N,) body face index
    bary: np.ndarray  # (N, 3) barycentric coordinates in that face


class BodyField:
    """Signed distance to a body surface: exact over the `k` triangles with the nearest centroids."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, k: int = 8, use_warp: bool = True):
        self.vertices = np.asarray(vertices, dtype=np.float64)
        self.faces = np.asarray(faces, dtype=np.int64)
        self.k = k
        self.vnormals = vertex_normals(self.vertices, self.faces)
        self.fnormals = face_normals(self.vertices, self.faces)
        self._tree = None  # k-d tree over the face centroids, built on first use (only without Warp)
        self._bvh = None
        if use_warp:
            from pipeline.core.fit.warp_kernels import WarpBodyMesh, warp

            if warp() is not None:
                self._bvh = WarpBodyMesh(self.vertices, self.faces)

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = cKDTree(self.vertices[self.faces].mean(axis=1))
        return self._tree

    def closest(self, points: np.ndarray) -> Closest:
        """Nearest surface point, normal and signed distance for each of `points` (N, 3)."""
        points = np.asarray(points, dtype=np.float64)
        if self._bvh is not None:
            return self._closest_bvh(points)
        _, cand = self.tree.query(points, k=self.k)
        tri = self.vertices[self.faces[cand]]  # (N, k, 3, 3)
        p = np.repeat(points[:, None, :], self.k, axis=1)
        cpts, bary = closest_point_on_triangles(p, tri[:, :, 0], tri[:, :, 1], tri[:, :, 2])
        d2 = ((cpts - p) ** 2).sum(-1)
        best = d2.argmin(axis=1)
        rows = np.arange(len(points))
        face = cand[rows, best]
        cp = cpts[rows, best]
        b = bary[rows, best]
        n = (self.vnormals[self.faces[face]] * b[:, :, None]).sum(1)
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        diff = points - cp
        dist = np.sqrt(d2[rows, best])
        # Sign from the face normal (robust at a flat face); fall back on the vertex normal near edges.
        s = np.einsum("ij,ij->i", diff, self.fnormals[face])
        s2 = np.einsum("ij,ij->i", diff, n)
        sign = np.where(np.abs(s) > 1e-9, np.sign(s), np.sign(s2))
        sign = np.where(sign == 0, 1.0, sign)
        return Closest(points=cp, normals=n, signed_distance=sign * dist, faces=face, bary=b)

    def _closest_bvh(self, points: np.ndarray) -> Closest:
        cp, face, b, sign = self._bvh.query(points)
        face = np.maximum(face, 0)
        n = (self.vnormals[self.faces[face]] * b[:, :, None]).sum(1)
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        dist = np.linalg.norm(points - cp, axis=1)
        return Closest(
            points=cp, normals=n, signed_distance=np.where(sign < 0, -dist, dist), faces=face, bary=b
        )

    def push_out(self, points: np.ndarray, offset_m: float, iterations: int = 3) -> np.ndarray:
        """Move points that are closer than `offset_m` to (or inside) the body out along the normal."""
        x = np.array(points, dtype=np.float64)
        for _ in range(iterations):
            c = self.closest(x)
            bad = c.signed_distance < offset_m
            if not bad.any():
                break
            x[bad] = c.points[bad] + c.normals[bad] * offset_m
        return x

"""Plane sections of triangle meshes (body or garment) and the tape-measure girth of one loop of a section:
the convex-hull perimeter (a tape bridges hollows), as `pipeline.core.body.measure` takes body girths."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull


def _plane_basis(normal: np.ndarray) -> np.ndarray:
    n = normal / np.linalg.norm(normal)
    a = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(n, a)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(n, u)])


def section_loops(
    vertices: np.ndarray, faces: np.ndarray, point: np.ndarray, normal: np.ndarray
) -> list[np.ndarray]:
    """The section of a mesh by a plane, split into connected pieces; each piece as (n, 2) points in the
    plane's own 2D frame (for a horizontal plane: x and y)."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    d = (v - point) @ (normal / np.linalg.norm(normal))
    side = d > 0
    cut_face = side[f].any(1) & ~side[f].all(1)
    if not cut_face.any():
        return []
    f = f[cut_face]
    # the edges of cut faces that cross the plane, numbered once
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    owner = np.tile(np.arange(len(f)), 3)
    crosses = side[e[:, 0]] != side[e[:, 1]]
    e, owner = np.sort(e[crosses], axis=1), owner[crosses]
    uniq, inv = np.unique(e, axis=0, return_inverse=True)
    inv = inv.ravel()
    da, db = d[uniq[:, 0]], d[uniq[:, 1]]
    t = da / (da - db)
    pts = v[uniq[:, 0]] + t[:, None] * (v[uniq[:, 1]] - v[uniq[:, 0]])
    # two cut edges of one face are neighbours on the section
    order = np.argsort(owner, kind="stable")
    a, b = inv[order][0::2], inv[order][1::2]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(uniq), len(uniq)))
    count, labels = connected_components(graph, directed=False)
    flat = (pts - point) @ _plane_basis(normal).T
    return [flat[labels == k] for k in range(count) if (labels == k).sum() >= 3]


def hull_perimeter(points_2d: np.ndarray) -> float:
    """Convex-hull perimeter (m) of 2D points; 0 for fewer than three or collinear points."""
    if len(points_2d) < 3:
        return 0.0
    try:
        return float(ConvexHull(points_2d).area)
    except Exception:  # degenerate (collinear) section
        return 0.0


def _contains(points_2d: np.ndarray, q: np.ndarray) -> bool:
    if len(points_2d) < 3:
        return False
    try:
        hull = ConvexHull(points_2d)
    except Exception:
        return False
    return bool((hull.equations[:, :2] @ q + hull.equations[:, 2] <= 1e-9).all())


def loop_around(loops: list[np.ndarray], q: np.ndarray, max_gap_m: float = np.inf) -> np.ndarray | None:
    """The piece whose hull holds the 2D point `q` (the torso round its axis, a sleeve round the arm); else
    the nearest piece within `max_gap_m`; None when there is none."""
    holding = [lp for lp in loops if _contains(lp, q)]
    if holding:
        return max(holding, key=len)
    near = [(float(np.linalg.norm(lp - q, axis=1).min()), i) for i, lp in enumerate(loops)]
    near = [(d, i) for d, i in near if d <= max_gap_m]
    return loops[min(near)[1]] if near else None


def girth_at(
    vertices: np.ndarray,
    faces: np.ndarray,
    point: np.ndarray,
    normal: np.ndarray | None = None,
    around: np.ndarray | None = None,
    max_gap_m: float = np.inf,
    radius_m: float | None = None,
) -> float:
    """Tape girth (m) of the loop round `around` (a 3D point on the plane; default `point`) of the section of
    a mesh by the plane through `point` with `normal`; 0 when the plane misses the mesh. `radius_m` keeps only
    the part of the loop that close to `around` (a limb's section where it joins the torso)."""
    point = np.asarray(point, dtype=np.float64)
    normal = np.array([0.0, 0.0, 1.0]) if normal is None else np.asarray(normal, dtype=np.float64)
    q3 = point if around is None else np.asarray(around, dtype=np.float64)
    q = (q3 - point) @ _plane_basis(normal).T
    loop = loop_around(section_loops(vertices, faces, point, normal), q, max_gap_m)
    if loop is not None and radius_m is not None:
        loop = loop[np.linalg.norm(loop - q, axis=1) <= radius_m]
    return 0.0 if loop is None else hull_perimeter(loop)

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


def _cut(vertices: np.ndarray, faces: np.ndarray, point: np.ndarray, normal: np.ndarray):
    """The plane's cut through a mesh: crossing edges (E, 2), their parameters t (E,), the cut points (E, 3),
    the section's segments as pairs of cut-point indices (S, 2), and a component label per cut point."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    d = (v - point) @ (normal / np.linalg.norm(normal))
    side = d > 0
    f = f[side[f].any(1) & ~side[f].all(1)]
    if not len(f):
        return None
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    owner = np.tile(np.arange(len(f)), 3)
    crosses = side[e[:, 0]] != side[e[:, 1]]
    e, owner = np.sort(e[crosses], axis=1), owner[crosses]
    uniq, inv = np.unique(e, axis=0, return_inverse=True)
    inv = inv.ravel()
    da, db = d[uniq[:, 0]], d[uniq[:, 1]]
    t = da / (da - db)
    pts = v[uniq[:, 0]] + t[:, None] * (v[uniq[:, 1]] - v[uniq[:, 0]])
    # each cut face crosses the plane on exactly two edges: the two are neighbours on the section
    order = np.argsort(owner, kind="stable")
    segs = np.stack([inv[order][0::2], inv[order][1::2]], axis=1)
    graph = coo_matrix((np.ones(len(segs)), (segs[:, 0], segs[:, 1])), shape=(len(uniq), len(uniq)))
    _, labels = connected_components(graph, directed=False)
    return uniq, t, pts, segs, labels


def section_loops(
    vertices: np.ndarray, faces: np.ndarray, point: np.ndarray, normal: np.ndarray
) -> list[np.ndarray]:
    """The section of a mesh by a plane, split into connected pieces; each piece as (n, 2) points in the
    plane's own 2D frame (for a horizontal plane: y and -x)."""
    cut = _cut(vertices, faces, point, normal)
    if cut is None:
        return []
    _, _, pts, _, labels = cut
    flat = (pts - point) @ _plane_basis(normal).T
    return [flat[labels == k] for k in np.unique(labels) if (labels == k).sum() >= 3]


def cloth_girth(
    vertices: np.ndarray,
    faces: np.ndarray,
    rest_vertices: np.ndarray,
    point: np.ndarray,
    normal: np.ndarray,
    around: np.ndarray | None = None,
    max_gap_m: float = np.inf,
) -> float:
    """The cloth's own length (m) round the section piece that circles `around`: the section's segments
    measured on the garment's rest shape, so folds, flare and drape do not change it and stretch shows as a
    shorter cloth. 0 when the plane misses the garment, or when that piece is not a closed loop: a plane
    that leaves the cloth through an opening (a T-shirt's sleeves hanging down in the A-pose, cut through
    their cuffs) splits the torso into a front and a back arc, and half a girth is no girth."""
    point = np.asarray(point, dtype=np.float64)
    normal = np.asarray(normal, dtype=np.float64)
    cut = _cut(vertices, faces, point, normal)
    if cut is None:
        return 0.0
    uniq, t, pts, segs, labels = cut
    basis = _plane_basis(normal)
    q = ((point if around is None else np.asarray(around, dtype=np.float64)) - point) @ basis.T
    flat = (pts - point) @ basis.T
    pieces = {int(k): flat[labels == k] for k in np.unique(labels) if (labels == k).sum() >= 3}
    keys = list(pieces)
    loop = loop_around([pieces[k] for k in keys], q, max_gap_m)
    if loop is None:
        return 0.0
    k = next(k for k in keys if pieces[k] is loop)
    r = np.asarray(rest_vertices, dtype=np.float64)
    rest_pts = r[uniq[:, 0]] + t[:, None] * (r[uniq[:, 1]] - r[uniq[:, 0]])
    mine = segs[labels[segs[:, 0]] == k]
    if (np.bincount(mine.ravel(), minlength=len(uniq))[labels == k] != 2).any():
        return 0.0  # an open arc: it runs out of the cloth at an opening
    return float(np.linalg.norm(rest_pts[mine[:, 0]] - rest_pts[mine[:, 1]], axis=1).sum())


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

"""Mesh topology helpers on plain arrays (numpy only, so they run in Blender's Python too): edges, boundary
loops, connected components, face-adjacency with orientation, areas."""

from __future__ import annotations

import numpy as np


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area of each triangle."""
    return 0.5 * np.linalg.norm(face_cross(vertices, faces), axis=1)


def face_cross(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unnormalised triangle normals (twice the area vector)."""
    v0, v1, v2 = (vertices[faces[:, k]] for k in range(3))
    return np.cross(v1 - v0, v2 - v0)


def edge_keys(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half-edges of every face corner: (directed (E,2) array, undirected int64 key, face index)."""
    directed = np.stack([faces, np.roll(faces, -1, axis=1)], axis=2).reshape(-1, 2)
    lo, hi = directed.min(axis=1), directed.max(axis=1)
    n = int(faces.max()) + 1 if len(faces) else 1
    key = lo.astype(np.int64) * n + hi
    face = np.repeat(np.arange(len(faces)), 3)
    return directed, key, face


def unique_edges(faces: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E, 2) of a triangle mesh, smaller index first, sorted (the edge list every stage
    shares: solver constraints, bending, strain, skin-weight smoothing, tape measures)."""
    e = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).astype(np.int64)
    e.sort(axis=1)
    n = int(e.max()) + 1 if len(e) else 1
    key = np.unique(e[:, 0] * n + e[:, 1])
    return np.stack([key // n, key % n], axis=1)


def edge_face_counts(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per half-edge: how many faces use its undirected edge; and the sorting order by key."""
    _, key, _ = edge_keys(faces)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse], key


def has_scipy() -> bool:
    """scipy is in the project's venv but not in Blender's own Python: its fast paths are optional."""
    try:
        import scipy.sparse.csgraph  # noqa: F401
    except ImportError:
        return False
    return True


def connected_components(n: int, a: np.ndarray, b: np.ndarray, use_scipy: bool | None = None) -> np.ndarray:
    """Label (0..k-1) of each of `n` nodes joined by edges a[i]-b[i] (scipy, else vectorised union-find)."""
    if use_scipy if use_scipy is not None else has_scipy():
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components as cc

        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
        return cc(graph, directed=False)[1]
    parent = np.arange(n)
    a, b = np.asarray(a), np.asarray(b)
    while True:
        pa, pb = parent[a], parent[b]
        differ = pa != pb
        if not differ.any():
            break
        a, b, pa, pb = a[differ], b[differ], pa[differ], pb[differ]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    return np.unique(parent, return_inverse=True)[1]


def face_components(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Label of each face's connected component (faces sharing a vertex are connected)."""
    vlabel = connected_components(
        n_vertices, np.r_[faces[:, 0], faces[:, 1]], np.r_[faces[:, 1], faces[:, 2]]
    )
    return np.unique(vlabel[faces[:, 0]], return_inverse=True)[1]


def boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Closed loops of boundary edges (edges used by one face), as vertex index arrays in the winding order
    of the faces beside them. Each boundary edge is used once, so a vertex where two holes touch splits
    them into two loops; edge directions only break ties, so badly wound meshes still give loops."""
    directed, key, _ = edge_keys(faces)
    order = np.argsort(key)
    ks = key[order]
    lone = np.r_[True, ks[1:] != ks[:-1]] & np.r_[ks[:-1] != ks[1:], True]  # keys that occur once
    bnd = directed[order[lone]]
    if len(bnd) == 0:
        return []
    forward = {(int(a), int(b)) for a, b in bnd}
    neighbours: dict[int, list[int]] = {}
    for a, b in forward:
        neighbours.setdefault(a, []).insert(0, b)  # forward neighbours first
        neighbours.setdefault(b, []).append(a)
    used: set[tuple[int, int]] = set()
    loops = []
    for a0, b0 in sorted(forward):
        if (min(a0, b0), max(a0, b0)) in used:
            continue
        used.add((min(a0, b0), max(a0, b0)))
        loop, v = [a0], b0
        while v != a0:
            loop.append(v)
            nxt = next((n for n in neighbours[v] if (min(v, n), max(v, n)) not in used), None)
            if nxt is None:
                break
            used.add((min(v, nxt), max(v, nxt)))
            v = nxt
        if v == a0 and len(loop) >= 3:
            loops.append(np.asarray(loop, dtype=np.int64))
    return loops


def loop_perimeter(vertices: np.ndarray, loop: np.ndarray) -> float:
    """Length of a closed vertex loop."""
    p = vertices[loop]
    return float(np.linalg.norm(p - np.roll(p, -1, axis=0), axis=1).sum())


def loop_size(vertices: np.ndarray, loop: np.ndarray) -> float:
    """Width of a loop: twice the largest distance of its vertices from their mean."""
    p = vertices[loop]
    return 2.0 * float(np.linalg.norm(p - p.mean(axis=0), axis=1).max())


def face_adjacency(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of faces sharing a manifold edge (used by exactly two faces) and whether their windings agree."""
    directed, key, face = edge_keys(faces)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    counts = np.diff(np.r_[starts, len(ks)])
    two = starts[counts == 2]
    i, j = order[two], order[two + 1]
    agree = directed[i, 0] != directed[j, 0]  # opposite directions across the edge = consistent winding
    return face[i], face[j], agree

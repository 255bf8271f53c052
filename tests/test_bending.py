"""Dihedral bending (`pipeline.core.fit.bending`, the solver's hinges): the angle's gradient is exact, the hinge
is 0 for two triangles unfolded flat whatever their winding, a compressed strip buckles out of plane instead of
shrinking, and a Cusick drape test (a 30 cm disc of cloth on an 18 cm pedestal) folds into nodes per fabric:
silk and jersey hang in folds, denim and leather stand out stiffer (a higher drape coefficient); vertex-triangle
self-contact keeps one sheet from falling through another between its vertices."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial import Delaunay

from pipeline.core.fit.bending import hinge_angles, hinge_gradients, hinges
from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.drape_metrics import CUSICK_PEDESTAL_M, cusick_disc, cusick_figures, fold_share
from pipeline.core.fit.fabrics import get_fabric
from pipeline.core.fit.solver import ClothSolver, DrapeSettings


def test_hinge_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    p = np.array([[0, 0, 0], [1, 0, 0], [0.4, 0.8, 0.2], [0.6, -0.7, 0.3]], float) + rng.normal(
        0, 0.05, (4, 3)
    )
    h = np.array([[0, 1, 2, 3]])
    g = hinge_gradients(p, h)[0]
    fd = np.zeros((4, 3))
    for k in range(4):
        for c in range(3):
            d = np.zeros((4, 3))
            d[k, c] = 1e-6
            fd[k, c] = (hinge_angles(p + d, h)[0] - hinge_angles(p - d, h)[0]) / 2e-6
    assert np.allclose(g, fd, atol=1e-5)
    assert np.allclose(g.sum(0), 0.0, atol=1e-9)  # moving the whole hinge does not bend it


def test_hinge_is_flat_at_zero_whatever_the_winding():
    p = np.array([[0, 0, 0], [1, 0, 0], [0.5, 1, 0], [0.5, -1, 0]], float)
    for faces in ([[0, 1, 2], [1, 0, 3]], [[0, 1, 2], [0, 1, 3]], [[2, 1, 0], [3, 0, 1]]):
        h = hinges(np.array(faces))
        assert len(h) == 1 and sorted(h[0, :2]) == [0, 1]
        assert abs(hinge_angles(p, h)[0]) < 1e-12
    assert len(hinges(np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4]]))) == 0  # a non-manifold edge: no hinge
    folded = p.copy()
    folded[3] = [0.5, -np.cos(0.5), np.sin(0.5)]  # wing b lifted by 0.5 rad
    assert abs(abs(hinge_angles(folded, hinges(np.array([[0, 1, 2], [1, 0, 3]])))[0]) - 0.5) < 1e-9


def _far_floor() -> BodyField:
    box = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    box.apply_translation([0, 0, -5.0])
    return BodyField(np.asarray(box.vertices), np.asarray(box.faces))


def _grid(nx: int, ny: int, dx: float) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(nx) * dx, np.arange(ny) * dx, indexing="ij")
    v = np.c_[xs.ravel(), ys.ravel(), np.zeros(nx * ny)]
    return v, Delaunay(v[:, :2]).simplices


def test_compressed_strip_buckles_rather_than_shrinks():
    """A 30 cm strip whose ends are held 24 cm apart (no gravity): it keeps its length and bows out of plane, in
    finer waves for silk than for leather."""
    rest, faces = _grid(16, 3, 0.02)
    start = rest * [0.8, 1.0, 1.0]
    ends = (rest[:, 0] < 1e-9) | (rest[:, 0] > rest[:, 0].max() - 1e-9)
    mid = np.abs(rest[:, 1] - 0.02) < 1e-9
    waves = {}
    for fabric in ("silk-satin", "leather"):
        s = DrapeSettings(
            steps=60, min_steps=60, gravity=(0.0, 0.0, 0.0), perturb_m=0.001, bending="dihedral", inertia=True
        )
        solver = ClothSolver(faces, rest, get_fabric(fabric), _far_floor(), s)

        def hold(step: int, x: np.ndarray) -> None:
            x[ends] = start[ends]

        x, _ = solver.settle(start, before_step=hold)
        x[ends] = start[ends]
        arc = np.linalg.norm(np.diff(x[mid], axis=0), axis=1).sum()
        assert arc > 0.285, (fabric, arc)  # 30 cm of cloth kept (it started squeezed into 24 cm)
        z = x[mid, 2]
        assert np.abs(z).max() > 0.02, fabric  # ... by bowing out of plane
        waves[fabric] = int((np.diff(np.sign(z[1:-1])) != 0).sum())
    assert waves["silk-satin"] >= waves["leather"], waves


def cusick(fabric: str, backend: str = "auto", edge_m: float = 0.02) -> dict:
    """A Cusick drape test: a 30 cm disc on an 18 cm pedestal; drape coefficient, nodes and fold share."""
    disc, faces = cusick_disc(edge_m)
    pedestal = trimesh.creation.cylinder(radius=CUSICK_PEDESTAL_M, height=0.3, sections=64)
    pedestal.apply_translation([0, 0, -0.15])
    field = BodyField(np.asarray(pedestal.vertices), np.asarray(pedestal.faces))
    x0 = disc + [0.0, 0.0, 0.004]
    s = DrapeSettings(
        steps=60, min_steps=60, dt=1 / 90, bending="dihedral", perturb_m=0.002, inertia=True, backend=backend
    )
    x, _ = ClothSolver(faces, x0, get_fabric(fabric), field, s).settle(x0)
    f = cusick_figures(x)
    return {"dc": f["drape_coefficient"], "nodes": f["nodes"], "folds": fold_share(x, faces)}


def test_cusick_drape_folds_per_fabric():
    silk, jersey, denim = (cusick(f) for f in ("silk-satin", "cotton-jersey", "denim-twill"))
    assert silk["nodes"] >= 4 and jersey["nodes"] >= 4, (silk, jersey)  # hangs in folds, not a smooth cone
    assert jersey["folds"] > 0.1, jersey
    assert silk["dc"] < denim["dc"] and jersey["dc"] < denim["dc"], (silk, jersey, denim)
    assert 0.2 < jersey["dc"] < 0.7 and denim["dc"] > 0.55, (jersey, denim)


@pytest.mark.parametrize("fabric", ["cotton-jersey"])
def test_numpy_fallback_folds_too(fabric):
    r = cusick(fabric, backend="numpy", edge_m=0.03)
    assert r["nodes"] >= 3 and r["dc"] < 0.8, r


def test_self_contact_keeps_a_falling_sheet_on_top():
    """Two coarse sheets (5 cm cells), the upper one 1 cm above the lower and offset by half a cell, so no vertex
    of one comes near a vertex of the other: vertex-vertex repulsion lets the upper sheet fall through the
    lower one onto the table, vertex-triangle self-contact keeps it on top."""
    lower, f = _grid(7, 7, 0.05)
    upper = lower + [0.025, 0.025, 0.01]
    v, faces = np.vstack([lower, upper]), np.vstack([f, f + len(lower)])
    table = trimesh.creation.box(extents=(0.5, 0.5, 0.2))
    table.apply_translation([0.15, 0.15, -0.103])
    field = BodyField(np.asarray(table.vertices), np.asarray(table.faces))
    inner = (upper[:, 0] < 0.3) & (upper[:, 1] < 0.3)  # over the lower sheet
    heights = {}
    for tri in (False, True):
        s = DrapeSettings(steps=60, min_steps=60, bending="dihedral", self_triangles=tri)
        x, _ = ClothSolver(faces, v, get_fabric("cotton-jersey"), field, s).settle(v)
        heights[tri] = x[len(lower) :][inner, 2].min() - np.median(x[: len(lower), 2])
    assert heights[True] > 0.002, heights  # on top, about a cloth thickness above
    assert heights[False] < 0.001, heights  # (without it: through)


def test_crumple_share_tells_a_zigzag_from_a_fold():
    from pipeline.core.fit.drape_metrics import crumple_share

    v, faces = _grid(41, 11, 0.01)
    up = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])[:, 2] > 0
    faces = np.where(up[:, None], faces, faces[:, ::-1])  # wound consistently, as a garment is
    folds = v.copy()
    folds[:, 2] = 0.02 * np.sin(2 * np.pi * v[:, 0] / 0.1)  # 10 cm folds over 1 cm edges
    zigzag = v.copy()
    zigzag[:, 2] = 0.004 * (-1.0) ** np.round(v[:, 0] / 0.01)  # ridge, valley, ridge ... one edge apart
    assert fold_share(folds, faces) > 0.05 and fold_share(zigzag, faces) > 0.3
    assert crumple_share(folds, faces) < 0.1
    assert crumple_share(zigzag, faces) > 0.8
    assert crumple_share(v, faces) == 0.0  # nothing folded

"""Drape from flat sewing panels: a coarse skirt sewn round the body folds under gravity without crossing the
body either way, a coarse T-shirt's seams close over the shoulders, and the sample T-shirt hangs straight from
the chest (front-silhouette barrel <= 1.03)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.fit.api import fit_garment
from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.checks import body_through_garment, garment_inside_body
from pipeline.core.fit.drape_metrics import fold_share, front_barrel, off_arm
from pipeline.core.fit.landmarks import body_landmarks
from pipeline.core.fit.make import sewn_garment
from pipeline.core.fit.sewing import drape_panels, lay_out_panels, seam_pairs
from pipeline.core.garment.mesh import read_obj


@pytest.fixture(scope="module")
def coarse_skirt(default_body):
    sewn, _ = sewn_garment("skirt", default_body, edge_m=0.035)
    vertices, info = drape_panels(sewn, default_body)
    return sewn, vertices, info


def test_flat_panels_start_open_below_the_chest_and_closed_round_the_arms(default_body):
    sewn, _ = sewn_garment("tshirt", default_body, edge_m=0.035)
    flat = lay_out_panels(sewn, default_body)
    gap = np.linalg.norm(flat.start[flat.seams[:, 0]] - flat.start[flat.seams[:, 1]], axis=1)
    low = sewn.vertices2d[flat.weld[flat.seams[:, 0]], 1] < body_landmarks(default_body).chest_z - 0.1
    assert gap[low].min() > 0.1  # side seams: front and back panels apart, to be sewn
    sleeve = np.array([p.name.startswith("sleeve") for p in sewn.panels])
    both = sleeve[sewn.uv_panel[flat.seams[:, 0]]] & sleeve[sewn.uv_panel[flat.seams[:, 1]]]
    assert both.any() and gap[both].max() < 0.2  # half sleeves start round the arm, their seams to be sewn
    field = BodyField(default_body.vertices, default_body.faces)
    on_arm = np.isin(np.arange(len(flat.start)), flat.faces[sleeve[sewn.uv_panel[flat.faces[:, 0]]]])
    assert field.closest(flat.start[on_arm]).signed_distance.min() > 0.0  # ... and outside the arm
    # every pair of copies of one welded vertex is sewn
    assert len(seam_pairs(np.array([0, 1, 0, 0, 2]))) == 3


def test_coarse_panel_drape_folds_without_crossing(coarse_skirt, default_body):
    sewn, v, info = coarse_skirt
    assert info["seam_gap_max_mm"] < 5.0  # the seams closed before welding
    assert fold_share(v, sewn.faces) > 0.0  # gravity folds, not a smooth cone
    field = BodyField(default_body.vertices, default_body.faces)
    assert garment_inside_body(v, default_body.vertices, default_body.faces, field)["inside_max_mm"] == 0.0
    poke = body_through_garment(default_body.vertices, default_body.faces, v, sewn.faces, field)
    # 3.5 cm facets over a curved body: a few body vertices may touch through a facet, never deeper than 5 mm
    assert poke["covered_vertices"] > 100 and poke["poke_share"] <= 0.005 and poke["poke_max_mm"] <= 5.0
    lm = body_landmarks(default_body)
    assert lm.hip_z < v[:, 2].max() < lm.waist_z + 0.03  # it hangs from the waist, not off the hips


def test_coarse_tee_seams_close_over_the_shoulders(default_body):
    sewn, _ = sewn_garment("tshirt", default_body, edge_m=0.035)
    v, info = drape_panels(sewn, default_body)
    assert info["seam_gap_max_mm"] < 10.0
    field = BodyField(default_body.vertices, default_body.faces)
    assert garment_inside_body(v, default_body.vertices, default_body.faces, field)["inside_max_mm"] <= 2.0
    assert v[:, 2].max() > body_landmarks(default_body).shoulder_top_z - 0.02  # it hangs from the shoulders


def test_sample_tee_hangs_straight_on_the_default_body(repo_root, default_body):
    g = read_obj(repo_root / "garments" / "tshirt.obj")
    r = fit_garment(g, default_body)
    lm = body_landmarks(default_body)
    b = front_barrel(r.vertices, g.faces, lm.chest_z - 0.04, keep=off_arm(r.vertices, default_body))
    assert b["barrel"] <= 1.03, b


def test_barrel_of_a_bulging_tube_is_over_one():
    z = np.linspace(0.0, 0.5, 26)
    a = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    radius = 0.15 + 0.04 * np.sin(np.pi * z / 0.5)  # widest half-way, narrower at both ends
    zz, aa = np.meshgrid(z, a, indexing="ij")
    rr = radius[:, None] * np.ones_like(aa)
    v = np.stack([rr * np.cos(aa), rr * np.sin(aa), zz], -1).reshape(-1, 3)
    idx = np.arange(len(v)).reshape(len(z), len(a))
    nxt = np.roll(idx, -1, axis=1)
    f = np.vstack(
        [
            np.stack([idx[:-1], nxt[:-1], nxt[1:]], -1).reshape(-1, 3),
            np.stack([idx[:-1], nxt[1:], idx[1:]], -1).reshape(-1, 3),
        ]
    )
    b = front_barrel(v, f, top_z=0.5)
    assert b["barrel"] == pytest.approx(0.19 / 0.15, rel=0.03)


def test_flat_bend_rest_unfolds_each_pair_of_triangles():
    from scipy.spatial import Delaunay

    from pipeline.core.fit.solver import bend_pairs, flat_bend_rest
    from pipeline.core.topology import unique_edges

    p = np.random.default_rng(0).random((60, 2))
    f = Delaunay(p).simplices
    v = np.c_[p, np.zeros(len(p))]
    e = unique_edges(f)
    pairs, rest = flat_bend_rest(f, e, np.linalg.norm(v[e[:, 1]] - v[e[:, 0]], axis=1))
    assert np.array_equal(pairs, bend_pairs(f))  # same pairs, same order as the solver's
    assert np.allclose(rest, np.linalg.norm(v[pairs[:, 1]] - v[pairs[:, 0]], axis=1))

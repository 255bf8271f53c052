"""Tape measures on anny bodies: plausible values, numpy and torch agree, landmarks in anatomical order."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.body.measure import (
    MEASUREMENTS,
    body_landmarks,
    find_sections,
    measure_body,
    measure_torch,
)


@pytest.fixture(scope="module")
def woman(anny_model):
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body

    return pose_body(body_arrays({"gender": 1.0, "age": 0.75, "weight": 0.6}), "a-pose")


def test_measures_are_plausible_adult_values(woman):
    m = measure_body(woman.rest_vertices)
    assert set(m) == set(MEASUREMENTS)
    assert m["stature"] == pytest.approx(100 * np.ptp(woman.rest_vertices[:, 2]), abs=0.01)
    assert m["chest_girth"] == m["bust_girth"]
    assert 140 < m["stature"] < 200
    assert m["waist_girth"] < m["hip_girth"] and m["underbust_girth"] < m["bust_girth"]
    assert 25 < m["neck_girth"] < 45 and 40 < m["thigh_girth"] < 75 and 20 < m["upper_arm_girth"] < 40
    assert 0.4 < m["inside_leg_length"] / m["stature"] < 0.55


def test_measures_do_not_depend_on_pose_or_position(woman):
    """The a-pose preset only moves the arms and lifts the body: trunk girths and lengths stay the same."""
    rest = measure_body(woman.rest_vertices)
    posed = measure_body(woman.vertices + np.array([0.3, -0.2, 0.0]))
    for name in ("stature", "chest_girth", "waist_girth", "hip_girth", "thigh_girth", "inside_leg_length"):
        assert posed[name] == pytest.approx(rest[name], abs=0.3), name


def test_torch_measures_match_numpy(woman):
    import torch

    names = [n for n in MEASUREMENTS if n != "bust_girth"]
    sections = find_sections(woman.rest_vertices, names)
    t = measure_torch(torch.tensor(woman.rest_vertices), names, sections)
    ref = measure_body(woman.rest_vertices, names)
    for n in names:
        assert 100 * float(t[n]) == pytest.approx(ref[n], abs=0.02), n


def test_landmarks_are_in_anatomical_order(woman):
    lm = body_landmarks(woman)
    assert lm["floor_z"] == pytest.approx(0.0, abs=1e-6)
    assert (
        lm["neck_base_z"]
        > lm["chest_z"]
        > lm["underbust_z"]
        > lm["waist_z"]
        > lm["hip_z"]
        > lm["crotch_z"]
        > 0.5
    )
    assert lm["shoulder_l"][0] > 0.1 > -0.1 > lm["shoulder_r"][0]  # +X is the model's left
    assert lm["bust_l"][1] < lm["waist_back"][1]  # the body faces -Y
    assert lm["shoulder_l"].shape == (3,)


def test_convex_hull_prefilter_keeps_every_hull_point():
    """The quadrilateral prefilter drops only interior points: the hull is the plain monotone chain's, on
    random clouds, rings with collinear runs and duplicates."""
    from pipeline.core.body.measure import convex_hull_2d

    def plain_chain(points):
        order = np.lexsort((points[:, 1], points[:, 0]))

        def chain(idx):
            out = []
            for i in idx:
                while len(out) >= 2:
                    o, a, b = points[out[-2]], points[out[-1]], points[i]
                    if (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]) > 1e-15:
                        break
                    out.pop()
                out.append(int(i))
            return out

        lower, upper = chain(order), chain(order[::-1])
        return np.array(lower[:-1] + upper[:-1])

    rng = np.random.default_rng(3)
    square = np.array([[x, y] for x in np.linspace(0, 1, 6) for y in (0.0, 1.0)] + [[0.0, 0.5], [1.0, 0.5]])
    ang = rng.uniform(0, 2 * np.pi, 150)
    ring = np.c_[0.15 * np.cos(ang), 0.1 * np.sin(ang)] * rng.uniform(0.9, 1.0, (150, 1))
    clouds = [rng.normal(size=(n, 2)) for n in (3, 5, 40, 400)] + [square, ring, np.vstack([ring, ring[:20]])]
    for pts in clouds:
        assert np.array_equal(convex_hull_2d(pts), plain_chain(pts))

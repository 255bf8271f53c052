"""The per-frame checks and the depth-noise model, on real arrays (no rendering)."""

from __future__ import annotations

import numpy as np

from pipeline.core.capture.depth_noise import add_depth_noise
from pipeline.core.capture.person import frame_problems
from pipeline.core.capture.virtual_camera import d435_intrinsics

LM = np.tile([[320.0, 240.0]], (33, 1))
VIS = np.ones(33)


def _mask(*boxes):
    m = np.zeros((480, 640), bool)
    for r0, r1, c0, c1 in boxes:
        m[r0:r1, c0:c1] = True
    return m


def test_one_person_in_view_has_no_problem():
    assert frame_problems(_mask((40, 440, 280, 360)), LM, VIS, 2.0) == []


def test_problems_are_named():
    assert "two people" in frame_problems(_mask((40, 440, 100, 180), (40, 440, 400, 480)), LM, VIS, 2.0)[0]
    assert "cut off by the frame edge (bottom" in frame_problems(_mask((40, 480, 280, 360)), LM, VIS, 2.0)[0]
    assert "too close" in frame_problems(_mask((40, 440, 280, 360)), LM, VIS, 0.7)[0]
    assert "too far" in frame_problems(_mask((40, 440, 280, 360)), LM, VIS, 5.5)[0]


def test_depth_noise_grows_with_distance_squared():
    intr = d435_intrinsics(320, 240)
    rng = np.random.default_rng(0)
    rms = []
    for z in (1.5, 3.0):
        noisy = add_depth_noise(np.full((240, 320), z), intr, rng).astype(float) * intr.depth_scale
        valid = noisy > 0
        assert 0.8 < valid.mean() < 1.0  # holes: the left band and dropouts
        rms.append(np.sqrt(np.mean((noisy[valid] - z) ** 2)))
    assert 2.5 < rms[1] / rms[0] < 6.0  # ~4x for twice the distance
    assert 0.002 < rms[0] < 0.03


def test_flying_pixels_at_depth_edges():
    intr = d435_intrinsics(640, 480)
    z = np.full((480, 640), 3.5)
    z[120:360, 280:360] = 2.0  # a person-sized slab in front of a wall
    noisy = add_depth_noise(z, intr, np.random.default_rng(1)).astype(float) * intr.depth_scale
    between = (noisy > 2.2) & (noisy < 3.2)
    assert between.sum() > 50  # mixed foreground/background pixels exist ...
    assert between[110:370, 270:370].sum() > 0.9 * between.sum()  # ... and only around the edges

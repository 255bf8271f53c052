"""Sewing-pattern garments: panels triangulated and sewn into one welded mesh, the committed samples, and
the make-garment verb."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.app.cli import main
from pipeline.core.fit.landmarks import girth_m
from pipeline.core.fit.pattern import HIP_EASE_M, sew, skirt_panels, skirt_spec, tshirt_panels, tshirt_spec
from pipeline.core.fit.place import detect_type
from pipeline.core.garment.mesh import read_obj
from pipeline.core.topology import boundary_loops, unique_edges


def _faces_per_edge(faces: np.ndarray) -> np.ndarray:
    e = np.sort(np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(e, axis=0, return_counts=True)
    return counts


def test_tshirt_pattern_sews_into_one_mesh_with_four_openings(default_body):
    sewn = sew(tshirt_panels(tshirt_spec(default_body)), 0.02, "top")
    assert _faces_per_edge(sewn.faces).max() == 2  # manifold: seams weld, nothing doubles up
    loops = boundary_loops(sewn.faces)
    assert len(loops) == 4  # neck, hem and two sleeve cuffs
    assert (sewn.vertex_side == 0).sum() > 20  # seam vertices shared by front and back
    e = unique_edges(sewn.faces)
    assert not ((sewn.vertex_side[e[:, 0]] * sewn.vertex_side[e[:, 1]]) < 0).any()  # no edge across the body
    assert sewn.face_uv.shape == sewn.faces.shape and sewn.uv.min() >= 0


def _angle_deficit_deg(sewn) -> np.ndarray:
    """2 pi minus the flat-pattern angles around each vertex (0 on the open edges): a big one is a cone point."""
    f, fu, uv = sewn.faces, sewn.face_uv, sewn.uv
    total = np.zeros(len(sewn.vertices2d))
    for k in range(3):
        a, b, c = uv[fu[:, k]], uv[fu[:, (k + 1) % 3]], uv[fu[:, (k + 2) % 3]]
        u, v = b - a, c - a
        cos = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
        np.add.at(total, f[:, k], np.arccos(np.clip(cos, -1, 1)))
    deficit = np.degrees(2 * np.pi - total)
    for loop in boundary_loops(f):
        deficit[loop] = 0.0
    return deficit


def test_tshirt_side_seams_run_straight_to_a_hem_over_the_hip(default_body):
    """A regular-fit tee: the hem at least as wide as the chest (straight side seams) and its girth over the
    tape's hip (torso and legs: the buttocks and thigh tops are skinned to the legs) plus the hip ease."""
    spec = tshirt_spec(default_body)
    assert spec.hem_half_w >= spec.chest_half_w
    hip = max(
        girth_m(default_body, z, part="hips") for z in np.linspace(spec.hem_z - 0.06, spec.hem_z + 0.1, 9)
    )
    assert hip > max(girth_m(default_body, z) for z in np.linspace(spec.hem_z, spec.hem_z + 0.1, 5)) + 0.05
    assert 4 * spec.hem_half_w >= hip + HIP_EASE_M - 1e-9


def test_tshirt_seams_meet_without_cone_points(default_body):
    # where seams meet (shoulder point, armpit) the pieces' corner angles add up to about a full turn, so the
    # sewn shirt has no spike there (a kimono corner at the shoulder tip made a 68 degree cone)
    sewn = sew(tshirt_panels(tshirt_spec(default_body)), 0.02, "top")
    assert _angle_deficit_deg(sewn).max() < 30.0


def test_tshirt_sleeves_are_set_in_along_the_arms(default_body, repo_root):
    from pipeline.core.fit.landmarks import body_landmarks

    sewn = sew(tshirt_panels(tshirt_spec(default_body)), 0.02, "top")
    assert sum(p.name.startswith("sleeve_") for p in sewn.panels) == 4
    g = read_obj(repo_root / "garments" / "tshirt.obj")
    lm = body_landmarks(default_body)
    loops = sorted(boundary_loops(g.faces), key=lambda lp: g.vertices[lp, 2].mean())
    cuffs = [lp for lp in loops if abs(g.vertices[lp, 0].mean()) > abs(lm.shoulder_l[0])]
    assert len(cuffs) == 2
    for lp in cuffs:  # each cuff rings the upper arm: its centre lies near the shoulder-elbow axis
        c = g.vertices[lp].mean(0)
        s, e = (lm.shoulder_l, lm.elbow_l) if c[0] > 0 else (lm.shoulder_r, lm.elbow_r)
        d = (e - s) / np.linalg.norm(e - s)
        off = (c - s) - ((c - s) @ d) * d
        assert np.linalg.norm(off) < 0.04 and 0.05 < (c - s) @ d < 0.3


def test_skirt_pattern_has_waist_and_hem_only(default_body):
    sewn = sew(skirt_panels(skirt_spec(default_body)), 0.02, "bottom")
    assert len(boundary_loops(sewn.faces)) == 2
    assert _faces_per_edge(sewn.faces).max() == 2


@pytest.mark.parametrize("name, kind, loops", [("tshirt", "top", 4), ("skirt", "skirt", 2)])
def test_committed_samples_are_metres_z_up_front_minus_y(repo_root, name, kind, loops):
    g = read_obj(repo_root / "garments" / f"{name}.obj")
    assert g.uv is not None and g.face_uv is not None
    size = np.ptp(g.vertices, axis=0)
    assert 0.3 < size.max() < 1.5 and size[2] > 0.2  # metres, standing up
    assert detect_type(g.vertices, g.faces) == kind
    assert len(boundary_loops(g.faces)) == loops
    if name == "tshirt":  # the neckline dips lower at the front (-Y) than at the back
        neck = max(boundary_loops(g.faces), key=lambda lp: g.vertices[lp, 2].mean())
        ring = g.vertices[neck]
        assert (
            ring[ring[:, 1] < ring[:, 1].mean(), 2].min()
            < ring[ring[:, 1] > ring[:, 1].mean(), 2].min() - 0.02
        )


def test_make_garment_verb_writes_obj_mtl_and_pattern(tmp_path, default_body):
    assert main(["make-garment", "--kind", "skirt", "--edge", "0.035", "--out", str(tmp_path)]) == 0
    g = read_obj(tmp_path / "skirt.obj")
    assert (tmp_path / "skirt.mtl").is_file() and (tmp_path / "skirt.pattern.json").is_file()
    assert len(boundary_loops(g.faces)) == 2


def test_make_garment_rejects_bad_edge(capsys):
    assert main(["make-garment", "--edge", "2"]) == 2
    err = capsys.readouterr().err
    assert "--edge" in err and "Traceback" not in err

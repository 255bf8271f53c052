"""Clean-up steps on generated garments with known defects: duplicates, floaters, holes versus openings,
flipped and degenerate faces, non-manifold fins, units and up-axis detection (numpy only, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.app.clean_job import CleanOptions, clean_garment_mesh
from pipeline.core.garment import repair
from pipeline.core.garment import synthetic as syn
from pipeline.core.garment.normalise import detect_units, normalise_garment, rotation_to_z_up
from pipeline.core.topology import boundary_loops, face_adjacency, face_components, face_cross


@pytest.fixture
def tube():
    return syn.tube_garment(48, 24)


def _outward_fraction(mesh) -> float:
    """Share of faces whose normal points away from the tube's axis (Z)."""
    n = face_cross(mesh.vertices, mesh.faces)
    c = mesh.vertices[mesh.faces].mean(axis=1)
    radial = c.copy()
    radial[:, 2] = 0
    return float(np.mean(np.einsum("ij,ij->i", n, radial) > 0))


def test_generated_tube_is_clean(tube):
    assert _outward_fraction(tube) == 1.0
    assert len(boundary_loops(tube.faces)) == 2  # neck and hem


def test_merge_duplicates_welds_split_vertices(tube):
    split = syn.split_vertices(tube, 0.2, np.random.default_rng(0))
    assert len(split.vertices) > len(tube.vertices)
    merged, stats = repair.merge_duplicate_vertices(split)
    assert stats["merged_vertices"] == len(split.vertices) - len(tube.vertices)
    assert len(merged.vertices) == len(tube.vertices)
    assert len(boundary_loops(merged.faces)) == 2


def test_degenerate_and_duplicate_faces_removed(tube):
    bad = syn.add_degenerate_faces(tube, 7, np.random.default_rng(1))
    bad.faces = np.concatenate([bad.faces, tube.faces[:5]])
    bad.face_uv = np.concatenate([bad.face_uv, tube.face_uv[:5]])
    out, stats = repair.remove_degenerate_faces(bad)
    assert stats == {"degenerate_faces": 7, "duplicate_faces": 5}
    assert len(out.faces) == len(tube.faces)


def test_non_manifold_fin_removed(tube):
    a, b = tube.faces[48 * 5, :2]  # an interior edge (row 5), already used by two faces
    fin = tube.copy()
    fin.vertices = np.concatenate([tube.vertices, [[0.0, 0.0, 0.5]]])
    fin.faces = np.concatenate([tube.faces, [[a, b, len(tube.vertices)]]])
    fin.face_uv = np.concatenate([tube.face_uv, [[0, 0, 0]]])
    out, stats = repair.remove_non_manifold_faces(fin)
    assert stats["non_manifold_edges"] == 1 and stats["removed_faces"] == 1
    assert len(out.faces) == len(tube.faces)


def test_floaters_removed_but_second_shell_kept(tube):
    second = tube.copy()
    second.vertices = second.vertices + [0.6, 0, 0]  # a second garment piece, e.g. leggings
    both = tube.copy()
    both.vertices = np.concatenate([tube.vertices, second.vertices])
    both.faces = np.concatenate([tube.faces, second.faces + len(tube.vertices)])
    both.face_uv = np.concatenate([tube.face_uv, second.face_uv])
    dirty = syn.add_floaters(both, 12, np.random.default_rng(2))
    out, stats = repair.remove_floaters(dirty)
    assert stats["removed_parts"] == 12 and stats["parts"] == 14
    assert len(out.faces) == 2 * len(tube.faces)
    assert face_components(out.faces, len(out.vertices)).max() == 1


def test_flipped_faces_made_consistent_and_outward(tube):
    flipped = syn.flip_faces(tube, 0.3, np.random.default_rng(3))
    assert _outward_fraction(flipped) < 0.8
    out, stats = repair.orient_faces(flipped)
    assert _outward_fraction(out) == 1.0
    assert stats["flipped_faces"] == int(round((1 - _outward_fraction(flipped)) * len(tube.faces)))
    inside_out = tube.copy()
    inside_out.faces = tube.faces[:, ::-1].copy()
    assert _outward_fraction(repair.orient_faces(inside_out)[0]) == 1.0


def test_small_holes_filled_openings_kept(tube):
    dense = syn.tube_garment(96, 48)
    holed = syn.punch_holes(dense, 3, 0.012, np.random.default_rng(4))
    assert len(boundary_loops(holed.faces)) == 5
    out, stats = repair.fill_holes(holed, max_hole_size_m=0.05)
    assert stats["filled_holes"] == 3 and stats["openings"] == 2
    assert len(boundary_loops(out.faces)) == 2
    assert out.face_uv.shape == out.faces.shape and out.face_uv.max() < len(out.uv)
    assert face_adjacency(out.faces)[2].all()  # fan faces wound like their neighbours


def test_holes_touching_at_a_vertex_both_filled(tube):
    v = tube.faces[48 * 10, 0]  # an interior vertex: drop two of its faces that share only this vertex
    around = np.flatnonzero((tube.faces == v).any(axis=1))
    a = around[0]
    b = next(f for f in around[1:] if len(set(tube.faces[f]) & set(tube.faces[a])) == 1)
    keep = np.ones(len(tube.faces), dtype=bool)
    keep[[a, b]] = False
    holed = repair.keep_faces(tube, keep)
    assert len(boundary_loops(holed.faces)) == 4
    out, stats = repair.fill_holes(holed)
    assert stats["filled_holes"] == 2 and len(boundary_loops(out.faces)) == 2


@pytest.mark.parametrize(("scale", "unit"), [(1000, "mm"), (100, "cm"), (10, "dm"), (1, "m")])
def test_units_detected(tube, scale, unit):
    assert detect_units(tube.vertices * scale) == (unit, True)


def test_real_garment_sizes_give_expected_units():
    # Largest sides of the shared garments in file units: DiffCloth skirt (m), T-shirt and MakeHuman (dm).
    for size, unit in [(0.495, "m"), (11.38, "dm"), (14.75, "dm"), (12.85, "dm")]:
        assert detect_units(np.array([[0, 0, 0], [size, 0, 0]]))[0] == unit


@pytest.mark.parametrize("up", ["+y", "-y", "+x"])
def test_up_axis_found_from_openings(tube, up):
    lying = tube.copy()
    lying.vertices = tube.vertices @ rotation_to_z_up(up)  # inverse rotation: Z up -> `up`
    out, record = normalise_garment(lying, units="m")
    assert record["up_axis"] == up
    assert np.allclose(np.ptp(out.vertices, axis=0), np.ptp(tube.vertices, axis=0), atol=1e-9)
    hem_z = out.vertices[boundary_loops(out.faces)[0], 2].mean()
    widest = max(boundary_loops(out.faces), key=lambda lp: np.ptp(out.vertices[lp, 0]))
    assert out.vertices[widest, 2].mean() < 0  # the hem (widest opening) ends up at the bottom
    assert abs(hem_z) > 0.2


def test_normalise_centres_and_records(tube):
    moved = tube.copy()
    moved.vertices = moved.vertices * 100 + [50.0, -20.0, 130.0]  # cm, off centre
    out, record = normalise_garment(moved)
    assert record["units"] == "cm" and record["up_axis"] == "+z"
    assert np.allclose(out.vertices.min(axis=0) + out.vertices.max(axis=0), 0, atol=1e-9)
    assert record["translation_m"] == pytest.approx([-0.5, 0.2, -1.3], abs=1e-6)


def test_clean_mesh_core_steps_report(tube):
    rng = np.random.default_rng(5)
    dirty = syn.split_vertices(syn.flip_faces(syn.add_floaters(tube, 5, rng), 0.1, rng), 0.05, rng)
    dirty.vertices = dirty.vertices * 10  # decimetres, like MakeHuman
    options = CleanOptions(decimate=False, bake=False)
    out, report = clean_garment_mesh(dirty, options)
    ops = {o["step"]: o for o in report.operations}
    assert ops["normalise"]["units"] == "dm"
    assert ops["merge"]["merged_vertices"] > 0
    assert ops["floaters"]["removed_parts"] == 5
    assert ops["normals"]["flipped_faces"] > 0
    assert ops["decimate"] == {"step": "decimate", "enabled": False}
    assert len(out.faces) == len(tube.faces) and _outward_fraction(out) == 1.0
    assert any("2 openings found" in w for w in report.warnings)
    d = report.to_dict()
    assert d["before"]["faces"] == len(dirty.faces) and d["after"]["faces"] == len(tube.faces)
    assert "5 of 6 loose parts removed" in d["summary"]


def test_every_step_switchable(tube):
    options = CleanOptions(
        **{
            s: False
            for s in (
                "normalise",
                "merge",
                "degenerate",
                "non_manifold",
                "floaters",
                "normals",
                "holes",
                "decimate",
                "bake",
            )
        }
    )
    out, report = clean_garment_mesh(tube, options)
    assert np.array_equal(out.faces, tube.faces)
    assert all(not o["enabled"] for o in report.operations)


def test_numpy_only_paths_match_scipy(tube):
    """Blender's own Python has no scipy: the numpy fallbacks must give the same answers."""
    from pipeline.core.garment.repair import _propagate_parity_bfs, _propagate_parity_scipy
    from pipeline.core.topology import connected_components, face_adjacency

    dirty = syn.add_floaters(syn.flip_faces(tube, 0.3, np.random.default_rng(6)), 5, np.random.default_rng(6))
    fi, fj, agree = face_adjacency(dirty.faces)
    a = connected_components(len(dirty.faces), fi, fj, use_scipy=True)
    b = connected_components(len(dirty.faces), fi, fj, use_scipy=False)
    assert a.max() == b.max() == 5 and np.array_equal(a[fi], a[fj]) and np.array_equal(b[fi], b[fj])
    for propagate in (_propagate_parity_scipy, _propagate_parity_bfs):
        parity = propagate(len(dirty.faces), fi, fj, ~agree)
        assert np.all((parity[fi] ^ parity[fj]).astype(bool) == ~agree)  # consistent across every edge


def test_front_found_from_the_neckline_dip(tube):
    from pipeline.core.garment.normalise import detect_front

    assert detect_front(tube)[0] == 0.0  # level openings: nothing to go by
    for heading, turn in [((0, 1), 180.0), ((1, 0), 270.0), ((0, -1), 0.0)]:
        dipped = tube.copy()
        top = dipped.vertices[:, 2] > 0.2
        toward = dipped.vertices[top, :2] @ np.array(heading, dtype=float)
        dipped.vertices[top, 2] -= np.clip(toward, 0, None)  # the neckline drops on that side
        assert detect_front(dipped)[0] == turn
        out, record = normalise_garment(dipped, units="m")
        assert record["front_turn_deg"] == turn
        assert detect_front(out)[0] == 0.0  # now facing -Y


def test_patch_merge_keeps_a_noisy_scan_manifold():
    from pipeline.core.topology import edge_face_counts

    scan = syn.tube_garment(300, 80, noise_m=0.001)  # ~47k triangles, noise near the edge length
    out, stats = repair.cluster_vertices(scan, 12_000)
    assert 9_000 < stats["faces_after"] < 14_000
    counts, _ = edge_face_counts(out.faces)
    assert counts.max() == 2 and face_adjacency(out.faces)[2].all()  # manifold, windings agree
    assert len(boundary_loops(out.faces)) == 2  # no cracks: still just neck and hem

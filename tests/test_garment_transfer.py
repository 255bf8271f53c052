"""Moving garments from the body they were made for onto the avatar: MakeHuman `.mhclo` bindings evaluated on
anny, the surface binding (triangle, barycentric, local offset) followed through shape and pose, and the units
named from a fitted scale. Real MakeHuman CC0 clothes from ../shared/data."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.errors import UserError
from pipeline.core.fit import mhclo as mh
from pipeline.core.fit import transfer
from pipeline.core.fit.source_body import unit_guess

WORKSUIT = "garments/makehuman_male_worksuit01/male_worksuit01"
SPORTSUIT = "garments/makehuman_female_sportsuit01/female_sportsuit01"


def _obj_vertices(path) -> np.ndarray:
    rows = [line.split()[1:4] for line in open(path) if line.startswith("v ")]
    return mh.mh_to_world(np.asarray(rows, dtype=np.float64))


def test_mhclo_reader(shared_data):
    clo = mh.read_mhclo(shared_data / f"{WORKSUIT}.mhclo")
    assert clo.refs.shape == (3763, 3) and clo.weights.shape == (3763, 3)
    np.testing.assert_allclose(clo.weights.sum(1), 1.0, atol=2e-3)
    assert clo.scales["x"] == (5399, 11998, 1.3983)
    assert clo.obj_file.name == "male_worksuit01.obj"
    assert mh.find_mhclo(shared_data / f"{WORKSUIT}.obj") == clo.path
    assert mh.find_mhclo(shared_data / "garments/makehuman_male_worksuit01_stl/male_worksuit01.stl") is None


def test_mhclo_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.mhclo"
    bad.write_text("obj_file x.obj\nx_scale 1 two 3\nverts 0\n")
    with pytest.raises(UserError, match="line 2"):
        mh.read_mhclo(bad)
    empty = tmp_path / "empty.mhclo"
    empty.write_text("obj_file x.obj\n")
    with pytest.raises(UserError, match="no 'verts'"):
        mh.read_mhclo(empty)


@pytest.mark.parametrize("item", [WORKSUIT, SPORTSUIT])
def test_mhclo_on_default_body_matches_obj(shared_data, default_body, item):
    """Every hm08 reference resolves on anny (helpers through the surface binding), and the garment lands on
    anny's default body where its OBJ was modelled (up to a shift: MakeHuman's OBJs do not share one origin,
    and the body they were modelled on is MakeHuman's default character, not anny's)."""
    clo = mh.read_mhclo(shared_data / f"{item}.mhclo")
    fitted = mh.garment_on_body(clo, default_body.rest_vertices, default_body.faces)
    obj = _obj_vertices(clo.obj_file)
    d = obj - fitted
    residual = np.linalg.norm(d - d.mean(0), axis=1)
    assert residual.mean() < 0.02, residual.mean()
    assert np.percentile(residual, 95) < 0.05


def test_mhclo_grows_with_the_body(shared_data, anny_model):
    """A garment bound to a slim body grows with a heavy one: its waist girth follows the body's."""
    from pipeline.core.body.anny_model import body_arrays

    clo = mh.read_mhclo(shared_data / f"{WORKSUIT}.mhclo")
    slim = body_arrays({"weight": 0.2})
    heavy = body_arrays({"weight": 0.95})

    def width(v, z0, z1):
        band = v[(v[:, 2] > z0) & (v[:, 2] < z1)]
        return np.ptp(band[:, 0]) + np.ptp(band[:, 1])

    gs = mh.garment_on_body(clo, slim.rest_vertices, slim.faces)
    gh = mh.garment_on_body(clo, heavy.rest_vertices, heavy.faces)
    z = 0.6 * slim.rest_vertices[:, 2].max()  # about the waist
    gain_garment = width(gh, z - 0.03, z + 0.03) / width(gs, z - 0.03, z + 0.03)
    gain_body = width(heavy.rest_vertices, z - 0.03, z + 0.03) / width(slim.rest_vertices, z - 0.03, z + 0.03)
    assert gain_garment > 1.05 and abs(gain_garment - gain_body) < 0.08


def test_surface_binding_follows_pose(default_body):
    """Points bound to the rest body come back exactly on it, and follow the arm into a T-pose."""
    from pipeline.core.body.poses import pose_body

    body = default_body
    rng = np.random.default_rng(0)
    idx = rng.choice(len(body.rest_vertices), 400, replace=False)
    from pipeline.core.fit.bodyfield import vertex_normals

    n = vertex_normals(body.rest_vertices, body.faces)
    pts = body.rest_vertices[idx] + 0.012 * n[idx]
    b = transfer.bind(pts, body.rest_vertices, body.faces)
    np.testing.assert_allclose(transfer.evaluate(b, body.rest_vertices, body.faces), pts, atol=1e-9)
    # (in creases, between fingers, the nearest triangle may be another part's: most keep the 12 mm)
    assert np.median(np.abs(b.normal_offset_m - 0.012)) < 1e-3
    t_pose = pose_body(body, "t-pose")
    moved = transfer.evaluate(b, t_pose.vertices, body.faces)
    # each point keeps its distance from the body and sits by the vertex it was made beside
    from pipeline.core.fit.bodyfield import BodyField

    sd = BodyField(t_pose.vertices, body.faces, use_warp=False).closest(moved).signed_distance
    assert np.median(np.abs(sd - 0.012)) < 0.002
    assert np.median(np.linalg.norm(moved - t_pose.vertices[idx], axis=1)) < 0.02


def test_mhclo_placement_on_a_posed_heavy_body(shared_data, anny_model):
    """The fit places a MakeHuman suit by its .mhclo on a heavy body in the walking pose: trouser legs follow
    the striding legs, nothing inside the body before or after the drape."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body
    from pipeline.core.fit.api import fit_garment, transfer_placement
    from pipeline.core.fit.solver import DrapeSettings
    from pipeline.core.garment.mesh import GarmentMesh

    clo = mh.read_mhclo(shared_data / f"{WORKSUIT}.mhclo")
    from pipeline.core.garment.mesh import read_obj

    garment = read_obj(clo.obj_file)
    garment = GarmentMesh(garment.vertices * mh.MH_UNIT_M, garment.faces, name="worksuit")
    body = pose_body(body_arrays({"weight": 0.9, "gender": 1.0, "age": 0.75}), "walking")
    start, rest, record = transfer_placement(garment, body, "auto", clo)
    assert record["placement"] == "mhclo"

    # the left trouser leg's hem moves forward with the left shin (in A-pose both stand at y = 0)
    def left_band(v):
        return v[(v[:, 0] > 0.03) & (v[:, 2] > 0.15) & (v[:, 2] < 0.3)]

    shin_y = left_band(body.vertices)[:, 1].mean()
    assert shin_y < -0.1
    assert abs(left_band(start)[:, 1].mean() - shin_y) < 0.03
    result = fit_garment(
        garment, body, placement="auto", mhclo=clo, settings=DrapeSettings(steps=8, min_steps=4)
    )
    assert result.stats["placement"] == "mhclo"
    assert result.stats["max_penetration_mm"] <= 2.0


@pytest.mark.parametrize(
    ("scale", "loaded", "expected"),
    [
        (0.001, "m", "mm"),
        (1.0, "mm", "mm"),
        (0.0254, "m", "in"),
        (0.1, "m", "dm"),
        (1.07, "m", "m"),
        (0.055, "m", "unknown"),
    ],
)
def test_unit_guess(scale, loaded, expected):
    assert unit_guess(scale, loaded)["units_guess"] == expected


def test_placement_flag_is_checked(default_body):
    from pipeline.core.fit.api import transfer_placement
    from pipeline.core.garment.mesh import GarmentMesh

    g = GarmentMesh(np.eye(3) * 0.3, np.array([[0, 1, 2]]))
    with pytest.raises(UserError, match="--placement must be one of"):
        transfer_placement(g, default_body, "glue")
    with pytest.raises(UserError, match="needs a .mhclo"):
        transfer_placement(g, default_body, "mhclo")

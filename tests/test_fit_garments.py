"""Fitting garments onto avatars: drape without penetration, skin weights, posing in Blender, grading, fit
maps, on the sample garments and on real third-party garments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.app.cli import main
from pipeline.core.errors import UserError
from pipeline.core.fit.api import check_garment, fit_garment
from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.garment.mesh import GarmentMesh, read_obj


def _assert_outside(body, vertices, tol_m=0.002):
    sd = BodyField(body.vertices, body.faces).closest(vertices).signed_distance
    assert sd.min() > -tol_m, f"garment vertex {-sd.min() * 1000:.1f} mm inside the body"


@pytest.fixture(scope="module")
def tshirt_fit(repo_root, default_body):
    g = read_obj(repo_root / "garments" / "tshirt.obj")
    return g, fit_garment(g, default_body)


def test_tshirt_drapes_onto_default_body(tshirt_fit, default_body):
    g, r = tshirt_fit
    _assert_outside(default_body, r.vertices)
    assert r.garment_type == "top"
    assert r.stats["max_penetration_mm"] <= 2.0 and r.stats["strain_p95"] < 0.15
    assert np.allclose(r.weights.sum(1), 1.0) and r.weight_bones.max() < len(default_body.bone_names)
    # it hangs from the shoulders: the top of the shirt stays above the armpits
    assert r.vertices[:, 2].max() > default_body.vertices[:, 2].max() * 0.8


def test_skirt_weights_do_not_follow_one_leg(repo_root, default_body):
    g = read_obj(repo_root / "garments" / "skirt.obj")
    r = fit_garment(g, default_body)
    _assert_outside(default_body, r.vertices)
    assert r.garment_type == "skirt"
    assert (
        r.stats["drape_steps"] < 36
    )  # placed where its waistband grips, it settles instead of creeping down
    names = default_body.bone_names
    legs = {
        s: [i for i, n in enumerate(names) if n.endswith(f".{s}") and ("leg" in n or "foot" in n)]
        for s in "LR"
    }
    hem = r.vertices[:, 2] < r.vertices[:, 2].min() + 0.05
    centre = hem & (np.abs(r.vertices[:, 0]) < 0.03)
    w = {s: (r.weights * np.isin(r.weight_bones, legs[s])).sum(1) for s in "LR"}
    assert centre.any()
    # the middle of the hem is shared by both legs, not glued to whichever is closest
    assert np.maximum(w["L"][centre], w["R"][centre]).max() < 0.8
    assert np.abs(w["L"][centre] - w["R"][centre]).mean() < 0.3


def test_garment_follows_pose_without_penetration(tshirt_fit, default_body, fresh_scene):
    from pipeline.blender.avatar import apply_pose, build_avatar, evaluated_vertices
    from pipeline.blender.dress import FIT_MAP_LAYER, dress_avatar

    g, r = tshirt_fit
    avatar = build_avatar(default_body, "Avatar", pose="a-pose")
    # the default body is anny's rest pose; a-pose re-poses it, so fit on what Blender shows
    assert avatar is not None
    obj = dress_avatar(avatar, default_body, g, r, name="Tee")
    assert obj.data.color_attributes.get(FIT_MAP_LAYER) is not None
    assert {m.type for m in obj.modifiers} >= {"ARMATURE", "SHRINKWRAP"}
    for pose in ("relaxed", "walking"):
        apply_pose(avatar, default_body, pose)
        body_now = evaluated_vertices(avatar)
        garment_now = evaluated_vertices(obj)
        sd = BodyField(body_now, default_body.faces).closest(garment_now).signed_distance
        assert sd.min() > -0.002, f"{pose}: {-sd.min() * 1000:.1f} mm inside"


def test_real_diffcloth_skirt_fits_as_a_bottom(shared_data, default_body):
    from pipeline.core.garment.normalise import normalise_garment

    g, _ = normalise_garment(read_obj(shared_data / "garments" / "diffcloth_skirt" / "skirt3448.obj"))
    r = fit_garment(g, default_body)
    assert r.garment_type == "skirt"
    _assert_outside(default_body, r.vertices)
    lm_waist = r.vertices[:, 2].max()
    assert 0.8 < lm_waist < 1.25  # hangs from the waist/hips, not from the shoulders


def test_real_diffcloth_tshirt_scaled_on_request(shared_data, default_body):
    from pipeline.core.garment.normalise import normalise_garment

    g, _ = normalise_garment(read_obj(shared_data / "garments" / "diffcloth_tshirt" / "tshirt1900.obj"))
    r = fit_garment(g, default_body, garment_type="top", scale=0.6)  # it is cut for a much bigger body
    _assert_outside(default_body, r.vertices)
    assert np.ptp(r.vertices[:, 0]) < 0.8 * np.ptp(g.vertices[:, 0])
    assert r.vertices[:, 2].max() > 1.25  # hangs from the shoulders


def test_real_makehuman_suit_in_decimetres_fits(shared_data, default_body):
    g = read_obj(shared_data / "garments" / "makehuman_female_sportsuit01" / "female_sportsuit01.obj")
    g.vertices = g.vertices * 0.1  # MakeHuman: decimetres (read_obj already turned Y up into Z up)
    r = fit_garment(g, default_body, garment_type="dress", fabric="spandex")
    _assert_outside(default_body, r.vertices)
    assert r.stats["penetrating_share"] == 0.0


def test_fit_verb_grades_two_sizes_with_fit_maps(tmp_path, repo_root):
    out = tmp_path / "fitted.blend"
    code = main(
        [
            "fit",
            "--garment",
            str(repo_root / "garments" / "skirt.obj"),
            "--grade",
            "S,L",
            "--sex",
            "female",
            "--out",
            str(out),
            "--fit-map",
            str(tmp_path / "map.png"),
        ]
    )
    assert code == 0
    for size in ("S", "L"):
        assert (tmp_path / f"fitted_{size}.blend").stat().st_size > 10_000
        assert (tmp_path / f"map_{size}.png").stat().st_size > 5_000
    record = json.loads((tmp_path / "fitted.json").read_text())
    assert [f["label"] for f in record["fits"]] == ["S", "L"]
    assert all(f["max_penetration_mm"] <= 2.0 for f in record["fits"])


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--garment", "nope.obj", "--size", "M", "--sex", "female"], "not found"),
        (
            ["--garment", "garments/tshirt.obj", "--size", "M", "--sex", "female", "--fabric", "tin"],
            "--fabric",
        ),
        (["--garment", "garments/tshirt.obj"], "body source"),
        (["--garment", "garments/tshirt.obj", "--grade", "M,Q", "--sex", "female"], "--grade"),
        (["--garment", "garments/tshirt.obj", "--size", "M", "--sex", "female", "--pose", "yoga"], "pose"),
        (["--garment", "garments/tshirt.obj", "--size", "M", "--sex", "female", "--scale", "9"], "--scale"),
    ],
)
def test_fit_verb_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch, repo_root, argv, needle):
    monkeypatch.chdir(repo_root)
    assert main(["fit", *argv, "--out", str(tmp_path / "x.blend")]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_garment_in_wrong_units_is_a_user_error():
    big = GarmentMesh(vertices=np.random.default_rng(0).random((10, 3)) * 100, faces=np.array([[0, 1, 2]]))
    with pytest.raises(UserError, match="metres"):
        check_garment(big)


def test_fit_map_png(tmp_path, tshirt_fit, default_body):
    from PIL import Image

    from pipeline.core.fit.fitmap import draw_fit_map

    g, r = tshirt_fit
    png = draw_fit_map(
        tmp_path / "fm.png", r.vertices, g.faces, r.fit_colors, default_body.vertices, default_body.faces
    )
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert img.shape[0] > 300
    greenish = (img[:, :, 1] > img[:, :, 0] + 30) & (img[:, :, 1] > img[:, :, 2] + 30)
    assert greenish.mean() > 0.02  # the garment is drawn in strain colours


def test_numpy_fallback_solver_drapes_without_penetration(repo_root, default_body):
    from pipeline.core.fit.solver import DrapeSettings

    g = read_obj(repo_root / "garments" / "skirt.obj")
    r = fit_garment(g, default_body, settings=DrapeSettings(backend="numpy", steps=12, iterations=8))
    _assert_outside(default_body, r.vertices)
    assert r.stats["strain_p95"] < 0.2


@pytest.mark.parametrize("worker", [False, True])
def test_fit_in_current_scene_for_the_panel(repo_root, default_body, fresh_scene, monkeypatch, worker):
    from pipeline.app.fit_job import fit_in_scene
    from pipeline.blender.avatar import build_avatar
    from pipeline.blender.importers import garment_to_object

    if worker:
        monkeypatch.setenv("TRYON_WORKER", "1")  # as in Blender's own Python: the fit runs in the venv
    avatar = build_avatar(default_body, "Avatar", pose="a-pose")
    source = garment_to_object(read_obj(repo_root / "garments" / "skirt.obj"), "Skirt")
    (fitted,) = fit_in_scene(source, avatar)
    assert fitted.parent is not None and fitted.parent.type == "ARMATURE"
    assert len(fitted.vertex_groups) > 3 and not source.visible_get()
    stats = json.loads(fitted["tryon_fit"])
    assert stats["max_penetration_mm"] <= 2.0 and stats["placement"] == "landmarks"  # a pattern garment

"""AR try-on: the compositing maths on arrays (no Blender), bad recordings as one line and exit 2, and one
tiny end-to-end composite on a small synthetic recording, writing the composite and nothing else.

Silhouette IoU, occlusion and timing against truth renders are the bench's job (bench/bench_ar.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.app.cli import main
from pipeline.core.ar.composite import (
    alpha_over,
    depth_mesh,
    occlusion_violations,
    silhouette_iou,
    within_box,
)
from pipeline.core.ar.lighting import depth_normals, estimate_lighting, sh_basis, srgb_to_linear
from pipeline.core.capture.frames import Intrinsics
from tests.conftest import run_pipeline
from tests.test_advise import _frame_folder, _one_error_line

INTR = Intrinsics(width=80, height=60, fx=70.0, fy=70.0, ppx=39.5, ppy=29.5, depth_scale=0.001)


def _sphere_depth(intr=INTR, centre=(0.0, 0.0, 1.0), radius=0.3):
    u, v = np.meshgrid(np.arange(intr.width), np.arange(intr.height))
    d = np.stack([(u - intr.ppx) / intr.fx, (v - intr.ppy) / intr.fy, np.ones_like(u, float)], -1)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    c = np.asarray(centre)
    b = d @ c
    disc = b**2 - (c @ c - radius**2)
    t = np.where(disc > 0, b - np.sqrt(np.maximum(disc, 0)), 0.0)
    return t * d[..., 2], d * t[..., None]


def test_alpha_over_keeps_untouched_pixels_exactly_and_blends_the_rest():
    frame = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    layer = np.zeros((4, 5, 4))
    layer[1, 1] = [0.5, 0.0, 0.0, 0.5]  # premultiplied: half-covered pure red
    out = alpha_over(frame, layer)
    keep = np.ones((4, 5), bool)
    keep[1, 1] = False
    assert np.array_equal(out[keep], frame[keep])
    assert out[1, 1, 0] == np.clip(np.rint(127.5 + 0.5 * frame[1, 1, 0]), 0, 255)


def test_lone_shadow_specks_go_and_a_soft_shadow_stays():
    from pipeline.core.ar.composite import despeckle_shadows

    layer = np.zeros((20, 20, 4))
    layer[3, 3, 3] = 0.6  # a lone black sample: noise
    layer[10:16, 10:16, 3] = 0.3  # a soft shadow
    layer[0:2, 15:20] = [0.4, 0.2, 0.1, 0.5]  # garment pixels (coloured) are never touched
    out = despeckle_shadows(layer)
    assert out[3, 3, 3] == 0.0 and out[12, 12, 3] == pytest.approx(0.3)
    assert np.array_equal(out[0:2, 15:20], layer[0:2, 15:20])


def test_depth_mesh_does_not_bridge_a_depth_jump():
    depth = np.full((20, 20), 2.0)
    depth[:, 10:] = 1.5  # an arm 50 cm in front of the body
    depth[0, 0] = 0.0  # a hole
    v, f = depth_mesh(depth, INTR, step=1, push_m=0.03)
    z = v[f][:, :, 2]
    assert np.ptp(z, axis=1).max() < 0.01  # no triangle spans the step
    assert np.isclose(z.max(), 2.03) and np.isclose(z.min(), 1.53)


def test_lighting_from_a_lit_sphere_points_at_the_light():
    depth, pts = _sphere_depth()
    normals, ok = depth_normals(depth, INTR)
    light = np.array([0.6, -0.6, -0.5])  # camera frame: right, up (y down), towards the camera
    light /= np.linalg.norm(light)
    shade = np.clip((normals * light).sum(-1), 0, None) * 0.8 + 0.1
    colour = np.where(ok[..., None], (255 * shade[..., None] ** (1 / 2.2)).clip(0, 255), 0).astype(np.uint8)
    colour = np.repeat(colour[..., :1], 3, -1)
    est = estimate_lighting(colour, depth, INTR)
    assert est.samples > 100
    key = est.key_direction()[:2] / np.linalg.norm(est.key_direction()[:2])
    assert key @ (light[:2] / np.linalg.norm(light[:2])) > 0.95  # across the image; depth is ill-posed
    # the fitted irradiance reproduces the shading it was fitted to (up to the assumed albedo)
    pred = est.irradiance(normals[ok])[:, 0]
    lin = srgb_to_linear(colour[ok][:, 0])
    assert np.corrcoef(pred, lin)[0, 1] > 0.95


def test_sh_basis_is_orthonormal_on_the_sphere():
    rng = np.random.default_rng(1)
    n = rng.normal(size=(200000, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    b = sh_basis(n)
    gram = b.T @ b * (4 * np.pi / len(n))
    assert np.allclose(gram, np.eye(9), atol=0.03)


def test_masks_and_violations():
    a = np.zeros((10, 10), bool)
    a[2:8, 2:8] = True
    b = np.zeros_like(a)
    b[2:8, 3:9] = True
    assert silhouette_iou(a, b) == pytest.approx(30 / 42)
    garment_z = np.where(a, 2.0, 0.0)
    real = np.full((10, 10), 2.02)
    real[2:4, 2:8] = 1.6  # an arm in front over 12 of the 36 garment pixels
    assert occlusion_violations(a, garment_z, real) == pytest.approx(12 / 36)


def test_only_faces_in_front_of_the_garment_box_are_kept():
    v = np.array([[0, 0, 2.0], [0.1, 0, 2.0], [0, 0.1, 2.0], [2, 2, 2.0], [2.1, 2, 2.0], [2, 2.1, 2.0]])
    f = np.array([[0, 1, 2], [3, 4, 5]])
    kept = within_box(v, f, INTR, np.array([[-0.2, -0.2, 1.9], [0.2, 0.2, 1.9]]))
    assert kept.tolist() == [[0, 1, 2]]


# ---------------------------------------------------------------- the verb


def test_recording_without_depth(tmp_path, shared_data, capsys):
    folder = _frame_folder(tmp_path / "f", shared_data, depth=False)
    code = main(["ar", "--rgbd", str(folder), "--garment", "tshirt", "--out", str(tmp_path / "t.png")])
    assert code == 2 and "depth" in _one_error_line(capsys)


def test_recording_with_no_person(tmp_path, shared_data, capsys):
    folder = _frame_folder(tmp_path / "f", shared_data)
    code = main(["ar", "--rgbd", str(folder), "--garment", "tshirt", "--out", str(tmp_path / "t.png")])
    assert code == 2 and "no person found" in _one_error_line(capsys)
    assert not (tmp_path / "t.png").exists()


@pytest.fixture(scope="module")
def tiny_capture(tmp_path_factory):
    out = tmp_path_factory.mktemp("ar")
    params = {"phenotypes": {"gender": 0.9, "age": 0.72, "weight": 0.55, "height": 0.4, "muscle": 0.45}}
    (out / "params.json").write_text(json.dumps(params))
    args = ["synth-capture", "--params", str(out / "params.json"), "--out", str(out / "cap")]
    assert main([*args, "--width", "160", "--samples", "2", "--frames", "1", "--seed", "5"]) == 0
    return out / "cap"


def test_two_people_is_an_error(tiny_capture, tmp_path, capsys):
    import cv2

    src = tiny_capture / "frames"
    two = tmp_path / "two"
    (two / "color").mkdir(parents=True)
    (two / "depth").mkdir()
    colour = cv2.imread(str(src / "color" / "000000.png"))
    depth = cv2.imread(str(src / "depth" / "000000.png"), cv2.IMREAD_UNCHANGED)
    half = slice(colour.shape[1] // 4, colour.shape[1] * 3 // 4)
    cv2.imwrite(str(two / "color" / "000000.png"), np.hstack([colour[:, half], colour[:, half]]))
    cv2.imwrite(str(two / "depth" / "000000.png"), np.hstack([depth[:, half], depth[:, half]]))
    (two / "intrinsics.json").write_text((src / "intrinsics.json").read_text())
    code = main(["ar", "--rgbd", str(two), "--garment", "tshirt", "--out", str(tmp_path / "t.png")])
    assert code == 2 and "two people" in _one_error_line(capsys)


def test_tiny_composite_writes_only_the_png(tiny_capture, tmp_path):
    """The garment lands on the person, the frame is kept elsewhere, and nothing else is written anywhere."""
    import cv2

    # the child's temp folder is scanned; torch's kernel cache (no shopper data) is pointed elsewhere
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    proc = run_pipeline(
        "ar",
        "--rgbd",
        str(tiny_capture / "frames"),
        "--garment",
        "tshirt",
        "--size",
        "M",
        "--samples",
        "2",
        "--out",
        str(out / "tryon.png"),
        env={"TMPDIR": str(tmp), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "torch-cache")},
    )
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in out.iterdir()] == ["tryon.png"]
    assert list(tmp.iterdir()) == []
    frame = cv2.imread(str(tiny_capture / "frames" / "color" / "000000.png"))
    comp = cv2.imread(str(out / "tryon.png"))
    assert comp.shape == frame.shape
    changed = np.abs(comp.astype(int) - frame.astype(int)).max(-1) > 2
    assert 0.01 < changed.mean() < 0.25  # a T-shirt's worth of the frame, not the whole image
    rows, cols = np.nonzero(changed)
    h, w = changed.shape
    assert 0.3 * w < cols.mean() < 0.7 * w and 0.2 * h < rows.mean() < 0.7 * h  # on the person's torso


def test_depth_matte_cuts_what_is_in_front_and_keeps_the_rest_without_specks():
    """A garment 2 m away with an arm 20 cm nearer across it: the arm's pixels (and the depth holes at its edge,
    filled from the nearer side) cut the garment, the rest shows fully despite 1 cm depth noise, and the soft
    edge lies on the garment's side only."""
    from pipeline.core.ar.composite import depth_matte

    rng = np.random.default_rng(0)
    garment = np.full((60, 80), 2.0)
    frame = 2.02 + rng.normal(0.0, 0.01, (60, 80))  # the person's own shirt just behind the garment
    frame[25:35, :] = 1.8  # an arm in front
    frame[25:27, ::2] = 0.0  # stereo holes along its edge
    frame[34, 1::2] = 0.0
    matte = depth_matte(garment, frame)
    assert matte[25:35].max() == 0.0  # never drawn over the arm, nor over its holes
    assert (matte[:23] == 1.0).all() and (matte[37:] == 1.0).all()  # noise leaves no specks
    assert (
        0.5 < matte[24, 2:-2].min() < 1.0 and 0.5 < matte[35, 2:-2].min() < 1.0
    )  # soft on the garment's side


def test_depth_matte_keeps_the_garment_where_no_depth_is_known():
    from pipeline.core.ar.composite import depth_matte

    garment = np.zeros((20, 20))
    garment[5:15, 5:15] = 2.0
    assert (depth_matte(garment, np.zeros((20, 20))) == 1.0).all()


def test_garment_shadow_fades_within_a_few_centimetres_of_the_cloth():
    """The catcher's shadow is kept next to the garment and faded to nothing `reach_px` away (noise on the
    wall and far ambient occlusion go); the garment's own pixels are untouched."""
    from pipeline.core.ar.composite import contact_shadow

    layer = np.zeros((20, 40, 4))
    garment = np.zeros((20, 40), bool)
    garment[:, :10] = True
    layer[garment] = [0.2, 0.3, 0.5, 1.0]
    layer[~garment, 3] = 0.4  # shadow everywhere else
    out = contact_shadow(layer, garment, reach_px=4.0)
    assert np.array_equal(out[garment], layer[garment])
    assert out[5, 10, 3] == pytest.approx(0.3)  # one pixel out: 3/4 of it
    assert (out[:, 14:, 3] == 0.0).all()


def test_occlusion_is_tight_where_a_fitted_arm_is_in_front_and_loose_over_the_torso():
    """The shopper's torso 4 cm in front of the fitted garment (the fit's error: the garment is worn over their
    own clothes) leaves the garment drawn; their arm 4 cm in front cuts it, also a little beyond the fitted
    arm's footprint (the fit's error there)."""
    from pipeline.core.ar.composite import ARM_REACH_M, depth_matte, occlusion_tolerance

    garment = np.full((60, 80), 2.0)
    frame = np.full((60, 80), 1.96)  # all 4 cm nearer than the garment
    arm = np.zeros((60, 80))
    arm[20:30, :] = 1.9  # the fitted arm, in front of the garment
    tolerance = occlusion_tolerance(garment, arm, fx=INTR.fx * 4)
    grow = round(ARM_REACH_M * INTR.fx * 4 / 2.0)
    assert (tolerance[20 - grow : 30 + grow] < 0.03).all()
    assert (tolerance[: 20 - grow - 1] > 0.05).all() and (tolerance[30 + grow + 1 :] > 0.05).all()
    matte = depth_matte(garment, frame, tolerance)
    assert matte[20 - grow : 30 + grow].max() == 0.0
    assert (matte[: 20 - grow - 2] == 1.0).all()


def test_depth_matte_keeps_a_thin_cut_far_beyond_the_noise():
    """The garment's back panel seen under its hem (a line a pixel high, 25 cm behind the person) is cut
    though the 3x3 median that cleans noise specks would draw it over the shopper."""
    from pipeline.core.ar.composite import depth_matte

    garment = np.zeros((30, 40))
    garment[5:20] = 2.0
    garment[20] = 2.25  # the inside of the back panel, under the front's hem
    frame = np.full((30, 40), 2.01)
    matte = depth_matte(garment, frame)
    assert matte[20].max() == 0.0
    assert (matte[6:18] == 1.0).all()


def test_truth_holdout_insets_only_the_skin_under_the_cloth():
    """The truth render's holdout sits 5 mm inside the skin where the cloth lies on it (no speckles of skin
    through tight cloth) and keeps the skin that is away from the cloth (an arm in front keeps its outline)."""
    import trimesh

    from pipeline.app.synth_capture import TRUTH_HOLDOUT_INSET_M, truth_holdout

    body = trimesh.creation.icosphere(subdivisions=3, radius=0.1)
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.108)
    cap = sphere.submesh([np.nonzero(sphere.vertices[sphere.faces].min(axis=1)[:, 2] > 0.03)[0]], append=True)
    held = truth_holdout(body.vertices, body.faces, cap.vertices, cap.faces)
    moved = np.linalg.norm(held - body.vertices, axis=1)
    assert np.allclose(moved[body.vertices[:, 2] > 0.05], TRUTH_HOLDOUT_INSET_M, atol=1e-4)
    assert (moved[body.vertices[:, 2] < -0.03] == 0.0).all()
    assert (np.linalg.norm(held, axis=1)[body.vertices[:, 2] > 0.05] < 0.1).all()  # inwards


def test_a_stereo_shadow_beside_an_arm_shows_the_garment_behind_it():
    """The strip just left of an arm that only one imager sees has no depth; it is the body beside the arm,
    so a garment there is drawn (filled from the far side), while the arm still cuts it."""
    from pipeline.core.ar.composite import depth_matte, fill_stereo_shadows

    garment = np.full((40, 60), 2.0)
    frame = np.full((40, 60), 2.01)
    frame[:, 30:40] = 1.8  # an arm in front, upright
    frame[:, 26:30] = 0.0  # its stereo shadow on the body, left of it
    frame[10, 45] = 0.0  # a dropout hole elsewhere stays a hole
    filled = fill_stereo_shadows(frame)
    assert np.allclose(filled[:, 26:30], 2.01) and filled[10, 45] == 0.0
    matte = depth_matte(garment, frame)
    assert (matte[:, 27:29] == 1.0).all() and matte[:, 30:40].max() == 0.0


def test_an_unsure_capture_is_graded_on_the_likelier_sex_chart():
    """The measure step leaves the sex open: the chart is the sex that the fit's gender and ANSUR II together
    make likelier. A tall man whose crossed arms hid his chest (fitted 0.51) is a man by his measurements; a
    short man fitted at 0.38 stays a man though ANSUR II leans slightly female; a sure word is kept."""
    from types import SimpleNamespace

    from pipeline.app.ar import grading_sex

    def measured(sex, gender, cm):
        return SimpleNamespace(
            sex=sex, measurements_cm=cm, report={"anny": {"phenotypes": {"gender": gender}}}
        )

    tall = {
        "stature": 201.4,
        "chest_girth": 99.2,
        "waist_girth": 86.9,
        "hip_girth": 106.3,
        "neck_girth": 37.8,
    }
    short = {
        "stature": 172.2,
        "chest_girth": 90.5,
        "waist_girth": 81.2,
        "hip_girth": 98.3,
        "neck_girth": 35.6,
    }
    woman = {
        "stature": 161.8,
        "chest_girth": 88.5,
        "waist_girth": 72.3,
        "hip_girth": 98.5,
        "neck_girth": 30.7,
    }
    assert grading_sex(measured(None, 0.515, tall)) == "male"
    assert grading_sex(measured(None, 0.376, short)) == "male"
    assert grading_sex(measured(None, 0.6, woman)) == "female"
    assert grading_sex(measured("female", 0.5, tall)) == "female"


def test_the_chart_s_sex_reads_the_uncalibrated_measurements():
    """bench_ar's turned man with crossed arms (gender 0.49): his capture fit's own measurements make him a man
    (ANSUR II: +1.1 nats), the calibrated ones a woman (-0.4 nats); the pooled calibration carries no evidence of
    sex, so the chart reads the former."""
    from types import SimpleNamespace

    from pipeline.app.ar import grading_sex

    raw = {"stature": 174.3, "neck_girth": 35.0, "chest_girth": 91.3, "waist_girth": 79.5, "hip_girth": 95.6}
    raw |= {"thigh_girth": 58.0, "shoulder_width": 36.4, "arm_length": 57.4, "inside_leg_length": 82.4}
    cal = raw | {"chest_girth": 93.4, "waist_girth": 78.4, "arm_length": 57.1, "inside_leg_length": 83.5}
    cal |= {"neck_girth": 34.7, "shoulder_width": 36.3, "stature": 174.6, "thigh_girth": 57.9}
    anny = {"phenotypes": {"gender": 0.489}}
    assert grading_sex(SimpleNamespace(sex=None, measurements_cm=cal, report={"anny": anny})) == "female"
    report = {"anny": anny, "calibration": {"applied": True, "uncalibrated_cm": raw}}
    assert grading_sex(SimpleNamespace(sex=None, measurements_cm=cal, report=report)) == "male"

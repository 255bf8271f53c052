"""`advise`: bad input is one line and exit 2 (before any fitting where it can be), and one small real
advice (graded sample T-shirt, two sizes) writes exactly the JSON and the picture, nothing else anywhere.

Accuracy over ANSUR II people is the bench's job (bench/bench_advise.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pipeline.app.cli import main
from tests.conftest import run_pipeline

WOMAN = {"unit": "cm", "sex": "female", "stature": 163, "bust_girth": 93, "waist_girth": 84, "hip_girth": 101}
MAN = {"unit": "cm", "sex": "male", "stature": 176, "chest_girth": 100, "waist_girth": 88, "hip_girth": 99}


@pytest.fixture
def woman(tmp_path):
    p = tmp_path / "woman.json"
    p.write_text(json.dumps(WOMAN))
    return p


def _one_error_line(capsys) -> str:
    """The one `error:` line (progress lines may come before it off a terminal), no traceback."""
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    errors = [ln for ln in err if ln.startswith("error:")]
    assert len(errors) == 1 and err[-1] == errors[0] and "Traceback" not in "".join(err), err
    return errors[0]


def test_sizes_out_of_order_is_one_line(woman, tmp_path, capsys):
    code = main(
        [
            "advise",
            "--garment",
            "tshirt",
            "--sizes",
            "M,S,L",
            "--measurements",
            str(woman),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    assert code == 2 and "small to large" in _one_error_line(capsys)
    assert not (tmp_path / "a.json").exists()


def test_size_files_whose_girths_shrink_are_out_of_order(woman, tmp_path, repo_root, capsys):
    from pipeline.core.garment.mesh import read_obj, write_obj

    tee = read_obj(repo_root / "garments" / "tshirt.obj")
    small = tee.copy()
    small.vertices = small.vertices * np.array([0.85, 0.85, 1.0])
    write_obj(small, tmp_path / "small.obj")
    code = main(
        [
            "advise",
            "--sizes",
            "S,M",
            "--size-file",
            f"S={repo_root / 'garments' / 'tshirt.obj'}",
            "--size-file",
            f"M={tmp_path / 'small.obj'}",
            "--measurements",
            str(woman),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    assert code == 2 and "sizes out of order" in _one_error_line(capsys)


def test_size_file_not_among_the_sizes(woman, tmp_path, repo_root, capsys):
    tee = str(repo_root / "garments" / "tshirt.obj")
    code = main(
        [
            "advise",
            "--sizes",
            "S,M",
            "--size-file",
            f"S={tee}",
            "--size-file",
            f"L={tee}",
            "--measurements",
            str(woman),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    assert code == 2 and "not in --sizes" in _one_error_line(capsys)


def test_garment_that_fits_no_size_given(tmp_path, repo_root, capsys):
    """The sample T-shirt (made for a ~93 cm chest) handed in as a man's XXL (table chest ~121 cm)."""
    man = tmp_path / "man.json"
    man.write_text(json.dumps(MAN))
    tee = str(repo_root / "garments" / "tshirt.obj")
    code = main(
        [
            "advise",
            "--sizes",
            "XXL",
            "--size-file",
            f"XXL={tee}",
            "--measurements",
            str(man),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    line = _one_error_line(capsys)
    assert code == 2 and "fits no size given" in line and "XXL" in line


def _frame_folder(root, shared_data, depth: bool = True):
    src = shared_data / "captures" / "open3d_tum_rgbd_frame"
    (root / "color").mkdir(parents=True)
    shutil.copy(src / "TUM_color.png", root / "color" / "000000.png")
    if depth:
        (root / "depth").mkdir()
        shutil.copy(src / "TUM_depth.png", root / "depth" / "000000.png")
    intr = {
        "width": 640,
        "height": 480,
        "fx": 525.0,
        "fy": 525.0,
        "ppx": 319.5,
        "ppy": 239.5,
        "depth_scale": 1 / 5000,
    }
    (root / "intrinsics.json").write_text(json.dumps(intr))
    return root


def test_recording_with_no_person(tmp_path, shared_data, capsys):
    folder = _frame_folder(tmp_path / "f", shared_data)
    code = main(
        [
            "advise",
            "--garment",
            "tshirt",
            "--sizes",
            "S,M",
            "--rgbd",
            str(folder),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    assert code == 2 and "no person found" in _one_error_line(capsys)
    assert not (tmp_path / "a.json").exists()


def test_recording_without_depth(tmp_path, shared_data, capsys):
    folder = _frame_folder(tmp_path / "f", shared_data, depth=False)
    code = main(
        [
            "advise",
            "--garment",
            "tshirt",
            "--sizes",
            "S,M",
            "--rgbd",
            str(folder),
            "--out",
            str(tmp_path / "a.json"),
        ]
    )
    assert code == 2 and "depth" in _one_error_line(capsys)


def test_advise_graded_tee_writes_only_its_outputs(woman, tmp_path):
    """Two graded sizes on a woman between them; the child's temp folder and the output folder are scanned."""
    # the child's temp folder is scanned; torch's kernel cache (no shopper data) is pointed elsewhere
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    proc = run_pipeline(
        "advise",
        "--garment",
        "tshirt",
        "--sizes",
        "S,M",
        "--measurements",
        str(woman),
        "--out",
        str(out / "advice.json"),
        env={"TMPDIR": str(tmp), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "torch-cache")},
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["advice.json", "advice.png"]
    assert list(tmp.iterdir()) == []
    advice = json.loads((out / "advice.json").read_text())
    assert advice["recommended"] in ("S", "M") and advice["why"].startswith(advice["recommended"] + ":")
    assert set(advice["size_chart_cm"]) == {"S", "M"}
    assert advice["size_chart_cm"]["M"]["chest"] > advice["size_chart_cm"]["S"]["chest"]
    sizes = {s["size"]: s for s in advice["sizes"]}
    assert sizes["M"]["ease_cm"]["chest"] > sizes["S"]["ease_cm"]["chest"]
    assert set(sizes["S"]["words"].values()) <= {"tight", "regular", "loose", "short", "long"}
    assert "chest" in advice["bands"] and "tight_below_cm" in advice["bands"]["chest"]


ADVISE_BUTTON = r"""
import sys, bpy
bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default", enable_on_install=True)
s = bpy.context.scene.tryon
s.measurements_path = sys.argv[2]
s.shop_garment, s.shop_sizes = "tshirt", "S,M"
assert bpy.ops.tryon.advise_size() == {"FINISHED"}
assert s.advice_text.split(":")[0] in ("S", "M"), s.advice_text
assert "try_on_me" in dir(bpy.ops.tryon)
print("ADVICE", s.advice_text)
"""


def test_advise_button_shows_the_advice(woman, tmp_path):
    """The panel's Advise Size button runs the `advise` verb in the pipeline environment and shows its text."""
    import os
    import subprocess
    import sys

    from pipeline.app.extension import build_extension
    from pipeline.core.deps import REPO_ROOT

    zip_path = build_extension(tmp_path / "dist")
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"), TRYON_PROJECT_DIR=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", ADVISE_BUTTON, str(zip_path), str(woman)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "woman_advice.json").is_file() and (tmp_path / "woman_advice.png").is_file()


# --- the measures and the rule, on small made-up shapes (no body, no fit) ----------------------------------


def _tube(radius_m: float = 0.15, slit: bool = False):
    """An open-ended vertical tube (48 x 10 quads), optionally cut open along one side like a panel."""
    n, rows = 48, 10
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    z = np.linspace(0.0, 0.5, rows)
    v = np.array([(radius_m * np.cos(t), radius_m * np.sin(t), h) for h in z for t in a])
    faces = []
    for r in range(rows - 1):
        for i in range(n - 1 if slit else n):
            j = (i + 1) % n
            p, q, s, t = r * n + i, r * n + j, (r + 1) * n + j, (r + 1) * n + i
            faces += [(p, q, s), (p, s, t)]
    return v, np.array(faces)


def test_cloth_girth_is_the_closed_loop_and_no_open_arc():
    """A plane that leaves the cloth through an opening (sleeves cut at their cuffs) gives no girth, not half."""
    from pipeline.core.advice.sections import cloth_girth

    up, point = np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.23])
    v, f = _tube()
    assert cloth_girth(v, f, v, point, up) == pytest.approx(2 * np.pi * 0.15, rel=0.01)
    rest = v * [1.1, 1.1, 1.0]  # the cloth's own length is read on its rest shape
    assert cloth_girth(v, f, rest, point, up) == pytest.approx(2 * np.pi * 0.165, rel=0.01)
    v, f = _tube(slit=True)
    assert cloth_girth(v, f, v, point, up) == 0.0


@pytest.mark.parametrize("flare_per_m", [0.0, 0.8])
def test_hip_line_of_a_pencil_and_an_a_line_skirt(flare_per_m):
    """The girth where the curve over the hip ends, for a straight fall and for a flare below it."""
    from pipeline.core.advice.ease import hip_line_girth

    band_z, hip_drop, waist, hip = 1.0, 0.18, 0.80, 1.00

    def girth(z: float) -> float:
        d = band_z - z
        if d <= hip_drop:
            return waist + (hip - waist) * np.sin(d / hip_drop * np.pi / 2)
        return hip + flare_per_m * (d - hip_drop)

    assert hip_line_girth(girth, band_z, 0.45) == pytest.approx(hip, abs=0.015)


def _fits(eases: list[dict[str, float]], words: list[dict[str, str]] | None = None):
    from pipeline.core.advice.recommend import SizeFit

    sizes = ["S", "M", "L", "XL"][: len(eases)]
    words = words or [{} for _ in eases]
    return [
        SizeFit(s, e, w, np.zeros((0, 3)), {}, np.zeros((0, 4)))
        for s, e, w in zip(sizes, eases, words, strict=True)
    ]


def test_recommend_the_size_nearest_its_own_design_ease_in_the_limiting_region():
    from pipeline.core.advice.recommend import recommend

    fits = _fits([{"waist": 0.0, "hip": -1.0}, {"waist": 5.0, "hip": 4.0}, {"waist": 10.0, "hip": 9.0}])
    # waist picks S (0 vs 1), hip picks M (4 vs 5): one buys for the larger
    assert recommend(fits, {"waist": [1.0] * 3, "hip": [5.0] * 3}, ("waist", "hip"), ()) == "M"
    # each size against the ease it was made with: L's design ease is larger, so L is the nearest at the hip
    assert recommend(fits, {"waist": [1.0] * 3, "hip": [0.0, 0.0, 8.5]}, ("waist", "hip"), ()) == "L"


def test_tight_anywhere_rules_a_size_out():
    from pipeline.core.advice.recommend import recommend

    words = [{"chest": "regular", "sleeve": "tight"}, {"chest": "regular", "sleeve": "regular"}]
    fits = _fits([{"chest": 4.0, "sleeve": -2.0}, {"chest": 9.0, "sleeve": 2.0}], words)
    assert recommend(fits, {"chest": [4.0, 4.0]}, ("chest",), ("chest", "sleeve")) == "M"
    assert recommend(fits, {"chest": [4.0, 4.0]}, ("chest",), ("chest",)) == "S"


def test_the_sentence_names_the_neighbour_and_why():
    from pipeline.core.advice.recommend import sentence

    words = [{"chest": "tight"}, {"chest": "regular"}, {"chest": "regular"}]
    fits = _fits([{"chest": -3.4}, {"chest": 5.6}, {"chest": 10.2}], words)
    design = {"chest": [4.0, 4.0, 4.0]}
    assert sentence(fits, "M", design, ("chest",), ("chest",)) == (
        "M: chest +6 cm ease, regular; S would be tight at the chest (-3 cm)"
    )
    fits[0].words = {"chest": "regular"}
    fits[0].ease_cm = {"chest": -0.4}
    assert sentence(fits, "M", design, ("chest",), ("chest",)).endswith(
        "S would be regular at the chest (+0 cm, made for +4)"
    )
    assert sentence(fits, "S", design, ("chest",), ("chest",)).endswith(
        "M would be regular at the chest (+6 cm, made for +4)"
    )

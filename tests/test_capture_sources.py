"""Capture sources: RealSense recording round trip, frame folders, and the clear errors for missing or bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from pipeline.app.cli import main
from pipeline.core.capture.frames import Intrinsics, RGBDFrame
from pipeline.core.capture.recording import write_frame_folder, write_recording
from pipeline.core.capture.sources import open_source
from pipeline.core.errors import UserError

INTR = Intrinsics(width=64, height=48, fx=40.0, fy=40.0, ppx=31.5, ppy=23.5, depth_scale=0.001)


def _frames(n: int) -> list[RGBDFrame]:
    rng = np.random.default_rng(1)
    return [
        RGBDFrame(
            rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
            rng.integers(0, 5000, (48, 64)).astype(np.uint16),
            INTR,
            index=i,
        )
        for i in range(n)
    ]


def test_recording_round_trip(tmp_path):
    frames = _frames(4)
    assert write_recording(tmp_path / "cap.db3", frames, INTR) == 4
    with open_source(bag=str(tmp_path / "cap.db3")) as src:
        assert src.intrinsics.width == 64 and src.intrinsics.fx == pytest.approx(40.0)
        assert src.intrinsics.depth_scale == pytest.approx(0.001)
        got = list(src)
    assert len(got) == 4
    for a, b in zip(got, frames, strict=True):
        assert np.array_equal(a.color, b.color) and np.array_equal(a.depth, b.depth)


def test_frame_folder_round_trip(tmp_path):
    frames = _frames(3)
    write_frame_folder(tmp_path / "f", frames, INTR)
    with open_source(rgbd=str(tmp_path / "f")) as src:
        got = list(src)
    assert src.intrinsics == INTR
    assert [
        np.array_equal(a.depth, b.depth) and np.array_equal(a.color, b.color)
        for a, b in zip(got, frames, strict=True)
    ] == [True] * 3
    assert got[0].depth.dtype == np.uint16 and got[0].depth_m().max() <= 5.0


def test_no_camera_is_one_clear_error(tmp_path, capsys):
    code = main(["measure", "--source", "realsense", "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "no RealSense camera connected" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("missing.bag", None, "recording not found"),
        ("junk.db3", b"not a recording", "cannot read junk.db3"),
        ("junk.bag", b"\x00" * 64, "cannot read junk.bag"),
        ("notes.txt", b"x", "expected .bag or .db3"),
    ],
)
def test_bad_recording_errors(tmp_path, capsys, name, content, expected):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    code = main(["measure", "--bag", str(tmp_path / name), "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err


def test_frame_folder_errors(tmp_path):
    write_frame_folder(tmp_path / "f", _frames(1), INTR)
    (tmp_path / "f" / "intrinsics.json").unlink()
    with pytest.raises(UserError, match="intrinsics.json is missing"):
        open_source(rgbd=str(tmp_path / "f"))
    (tmp_path / "f" / "intrinsics.json").write_text(
        json.dumps({k: v for k, v in INTR.to_json().items() if k != "depth_scale"})
    )
    with pytest.raises(UserError, match="missing 'depth_scale'"):
        open_source(rgbd=str(tmp_path / "f"))
    with pytest.raises(UserError, match="frame folder not found"):
        open_source(rgbd=str(tmp_path / "nowhere"))


def test_real_frame_without_people_says_no_person(tmp_path, shared_data, capsys):
    src = shared_data / "captures" / "open3d_tum_rgbd_frame"
    (tmp_path / "f" / "color").mkdir(parents=True)
    (tmp_path / "f" / "depth").mkdir()
    shutil.copy(src / "TUM_color.png", tmp_path / "f" / "color" / "000000.png")
    shutil.copy(src / "TUM_depth.png", tmp_path / "f" / "depth" / "000000.png")
    intr = {
        "width": 640,
        "height": 480,
        "fx": 525.0,
        "fy": 525.0,
        "ppx": 319.5,
        "ppy": 239.5,
        "depth_scale": 1 / 5000,
    }
    (tmp_path / "f" / "intrinsics.json").write_text(json.dumps(intr))
    out = tmp_path / "m.json"
    code = main(["measure", "--rgbd", str(tmp_path / "f"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "no person found" in err
    assert not out.exists()


def test_iterations_default_per_capture_kind_and_a_bad_value(tmp_path, capsys):
    from pipeline.core.capture.body_fit import ITERATIONS, STILL_VIEW_ITERATIONS, default_iterations

    # a still view (its frames fused into one or two views) fits longer than a turn (three or more)
    assert default_iterations(1) == default_iterations(2) == STILL_VIEW_ITERATIONS > ITERATIONS
    assert default_iterations(3) == default_iterations(5) == ITERATIONS
    code = main(["measure", "--source", "realsense", "--iterations", "0", "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "--iterations must be at least 1, got 0" in err

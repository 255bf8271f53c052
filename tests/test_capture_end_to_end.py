"""synth-capture -> measure end to end (real Blender render, MediaPipe, pyrealsense2 recording, anny fit).

A small render (320x240, 4 samples) of a fixed body that the bench does not draw; loose tolerances: the
accuracy figures are the bench's job (bench/bench_measure.py).
"""

from __future__ import annotations

import json

import pytest

from pipeline.app.cli import main

PARAMS = {
    "phenotypes": {"gender": 0.9, "age": 0.72, "weight": 0.55, "height": 0.4, "muscle": 0.45},
    "local_changes": {"measure-hips-circ-incr": 0.2},
}


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    (out / "params.json").write_text(json.dumps(PARAMS))
    code = main(
        [
            "synth-capture",
            "--params",
            str(out / "params.json"),
            "--out",
            str(out / "cap"),
            "--width",
            "320",
            "--samples",
            "4",
            "--frames",
            "2",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    return out / "cap"


def test_synth_capture_writes_folder_recording_and_truth(capture):
    assert (capture / "capture.db3").stat().st_size > 10_000
    assert len(list((capture / "frames" / "color").glob("*.png"))) == 2
    assert json.loads((capture / "frames" / "intrinsics.json").read_text())["depth_scale"] == 0.001
    truth = json.loads((capture / "true_measurements.json").read_text())
    assert truth["unit"] == "cm" and 140 < truth["stature"] < 200


def test_measure_recording_matches_truth_and_feeds_avatar(capture, tmp_path, capsys):
    from pipeline.core.body.measurements import load_measurements

    out = tmp_path / "me.json"
    assert (
        main(["measure", "--bag", str(capture / "capture.db3"), "--out", str(out), "--iterations", "40"]) == 0
    )
    got = load_measurements(out)["measurements"]  # what `pipeline avatar --measurements` reads
    truth = json.loads((capture / "true_measurements.json").read_text())
    assert abs(got["stature"] - truth["stature"]) < 4.0
    for k in ("chest_girth", "waist_girth", "hip_girth"):
        assert abs(got[k] - truth[k]) < 8.0, (k, got[k], truth[k])
    report = json.loads((tmp_path / "me.report.json").read_text())
    assert set(report["uncertainty_cm"]) == set(got) and all(
        0 < v < 20 for v in report["uncertainty_cm"].values()
    )
    # calibrated by default: the body re-fitted to the corrected measurements measures what is reported
    from pipeline.core.body.shape_fit import measurements_of_params

    cal = report["calibration"]
    assert cal["applied"] and set(cal["uncalibrated_cm"]) == set(got)
    body = measurements_of_params(**cal["anny"])
    assert all(abs(body[k] - v) <= 0.5 for k, v in got.items() if k in body), (body, got)
    # privacy: nothing but the two JSON files was written, and they hold no image data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["me.json", "me.report.json"]
    assert out.stat().st_size < 2000 and (tmp_path / "me.report.json").stat().st_size < 10_000


def test_keep_frames_writes_the_raw_frames(capture, tmp_path):
    keep = tmp_path / "kept"
    assert (
        main(
            [
                "measure",
                "--rgbd",
                str(capture / "frames"),
                "--out",
                str(tmp_path / "m.json"),
                "--iterations",
                "5",
                "--keep-frames",
                str(keep),
            ]
        )
        == 0
    )
    assert len(list((keep / "color").glob("*.png"))) == 2 and (keep / "intrinsics.json").is_file()


def test_two_people_is_an_error(capture, tmp_path, capsys):
    """Two copies of the rendered person side by side (real frames, cropped and joined): a clear error."""
    import cv2
    import numpy as np

    (tmp_path / "two" / "color").mkdir(parents=True)
    (tmp_path / "two" / "depth").mkdir()
    colour = cv2.imread(str(capture / "frames" / "color" / "000000.png"))
    depth = cv2.imread(str(capture / "frames" / "depth" / "000000.png"), cv2.IMREAD_ANYDEPTH)
    half = slice(60, 260)
    cv2.imwrite(str(tmp_path / "two" / "color" / "000000.png"), np.hstack([colour[:, half], colour[:, half]]))
    cv2.imwrite(str(tmp_path / "two" / "depth" / "000000.png"), np.hstack([depth[:, half], depth[:, half]]))
    intr = json.loads((capture / "frames" / "intrinsics.json").read_text()) | {"width": 400, "ppx": 199.5}
    (tmp_path / "two" / "intrinsics.json").write_text(json.dumps(intr))
    code = main(["measure", "--rgbd", str(tmp_path / "two"), "--out", str(tmp_path / "m.json")])
    assert code == 2 and "two people" in capsys.readouterr().err

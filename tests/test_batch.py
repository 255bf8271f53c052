"""Catalog job files: validation errors name the field; a failed item never loses the done ones; re-runs skip them."""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT

from pipeline.app.batch import load_job
from pipeline.app.cli import main

TSHIRT = str(REPO_ROOT / "garments" / "tshirt.obj")


def _job(tmp_path, **overrides):
    job = {"version": 1, "output": "out", "items": [{"id": "a", "garment": TSHIRT}]}
    job.update(overrides)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    return path


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"version": 2}, "'version' must be 1"),
        ({"extra": 1}, "unknown key 'extra'"),
        ({"items": []}, "'items' must be a non-empty list"),
        ({"items": [{"id": "a", "garment": "missing.obj"}]}, "items[0].garment: file not found"),
        ({"items": [{"id": "a", "garment": TSHIRT, "size": "XXXL", "sex": "female"}]}, "items[0].size"),
        ({"items": [{"id": "a", "garment": TSHIRT, "size": "M"}]}, "items[0].sex: a size needs"),
        ({"items": [{"id": "a", "garment": TSHIRT}, {"id": "a", "garment": TSHIRT}]}, "used twice"),
        (
            {"items": [{"id": "a", "garment": TSHIRT, "render": {"width": "big"}}]},
            "render.width: expected int",
        ),
        ({"items": [{"id": "a b", "garment": TSHIRT}]}, "items[0].id"),
    ],
)
def test_bad_job_is_one_line_naming_the_field(tmp_path, capsys, overrides, needle):
    code = main(["batch", str(_job(tmp_path, **overrides)), "--print-commands"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1


def test_malformed_json_is_one_line(tmp_path, capsys):
    bad = tmp_path / "job.json"
    bad.write_text('{"version": 1, "items": [')
    assert main(["batch", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_defaults_merge_and_one_command_per_item(tmp_path):
    path = _job(
        tmp_path,
        defaults={"sex": "male", "size": "l", "render": {"samples": 8}},
        items=[{"id": "a", "garment": TSHIRT}, {"id": "b", "garment": TSHIRT, "render": {"width": 300}}],
    )
    items = load_job(path)
    assert [it.size for it in items] == ["L", "L"]
    cmd = items[1].command("python")
    assert cmd[:4] == ["python", "-m", "pipeline", "tryon"]
    assert "--samples" in cmd and "--width" in cmd and cmd[cmd.index("--out") + 1].endswith("out/b")


@pytest.mark.slow
def test_failed_item_keeps_done_ones_and_rerun_skips(tmp_path, capsys):
    broken = tmp_path / "broken.obj"
    broken.write_text("v 0 0 0\nthis is not an obj\n")
    render = {"engine": "workbench", "width": 64, "height": 80, "samples": 1}
    path = _job(
        tmp_path,
        defaults={"render": render},
        items=[{"id": "good", "garment": TSHIRT}, {"id": "bad", "garment": str(broken)}],
    )
    assert main(["batch", str(path)]) == 1
    err = capsys.readouterr().err
    assert "item bad" in err
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert report["items"]["good"]["status"] == "ok" and report["failed"] == ["bad"]
    png = tmp_path / "out" / "good" / "tryon.png"
    stamp = png.stat().st_mtime_ns
    assert main(["batch", str(path), "--only", "good"]) == 0
    assert png.stat().st_mtime_ns == stamp, "a done item was redone"

"""The main job end to end: `demo` as a user runs it (python -m pipeline) and through Blender's script entry with
the torch half forced into a worker process. Small renders keep it fast; the full-size still is `make demo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, run_pipeline

SMALL = ["--width", "216", "--height", "270", "--samples", "4"]


def _check_outputs(out, width=216, height=270):
    import bpy
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    from pipeline.blender.blendfile import open_blend

    png, blend, summary = out / "tryon.png", out / "tryon.blend", json.loads((out / "tryon.json").read_text())
    assert png.is_file() and blend.is_file()
    img = bpy.data.images.load(str(png))
    assert tuple(img.size) == (width, height)
    rgb = np.array(img.pixels[:]).reshape(height, width, 4)[..., :3]
    blue_share = float(((rgb[..., 2] - rgb[..., 0]) > 0.12).mean())  # the sample T-shirt is blue
    bright_share = float((rgb.min(axis=2) > rgb.mean() + 0.05).mean())  # the light mannequin against grey
    assert blue_share > 0.03, f"the garment is hardly visible ({blue_share:.1%} of the still)"
    assert bright_share > 0.01, f"the avatar is hardly visible ({bright_share:.1%} of the still)"
    assert summary["fit"]["max_penetration_mm"] <= 2.0
    scene = open_blend(blend)
    roles = {o.get("tryon_role") for o in scene.objects}
    assert {"avatar", "garment"} <= roles
    cam = scene.camera
    for obj in (o for o in scene.objects if o.get("tryon_role")):
        ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        co = np.empty(len(ev.data.vertices) * 3)
        ev.data.vertices.foreach_get("co", co)
        for p in co.reshape(-1, 3)[:: max(1, len(co) // 1200)]:
            x, y, _ = world_to_camera_view(scene, cam, ev.matrix_world @ Vector(p))
            assert 0.0 < x < 1.0 and 0.0 < y < 1.0, f"{obj.name} is not wholly in frame"
    return summary


def test_demo_python_module(tmp_path):
    proc = run_pipeline("demo", "--out", str(tmp_path), *SMALL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _check_outputs(tmp_path)
    assert summary["render"]["engine"] == "cycles"


@pytest.mark.slow
def test_demo_blender_script_entry_with_worker(tmp_path):
    """`blender -b -P pipeline/cli.py -- demo ...`: run the script as Blender would, the fit in a worker process."""
    code = (
        "import sys, runpy, bpy\n"
        f"sys.argv = ['blender', '-b', '-P', 'pipeline/cli.py', '--', 'demo', '--out', {str(tmp_path)!r}, "
        f"'--engine', 'workbench', {', '.join(map(repr, SMALL))}]\n"
        "runpy.run_path('pipeline/cli.py', run_name='__main__')\n"
    )
    env = dict(os.environ, TRYON_WORKER="1")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_outputs(tmp_path)


def test_demo_bad_garment_is_one_line(tmp_path):
    proc = run_pipeline("demo", "--out", str(tmp_path), "--garment", str(tmp_path / "nope.obj"), *SMALL)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "nope.obj" in proc.stderr
    assert not (tmp_path / "tryon.png").exists()


def test_render_verb_rerenders_a_saved_scene_from_another_view(tmp_path):
    proc = run_pipeline("demo", "--out", str(tmp_path), "--engine", "workbench", *SMALL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    side = tmp_path / "side.png"
    proc = run_pipeline(
        "render",
        str(tmp_path / "tryon.blend"),
        "--out",
        str(side),
        "--view",
        "side",
        "--engine",
        "workbench",
        "--width",
        "120",
        "--height",
        "150",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert side.is_file() and side.stat().st_size > 1000
    bad = run_pipeline("render", str(tmp_path / "tryon.blend"), "--out", str(tmp_path / "x.jpg"))
    assert bad.returncode == 2 and "expected a .png" in bad.stderr

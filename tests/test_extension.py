"""The Blender extension: manifest validated and zip built with bpy's blender_ext.py, then installed into a fresh
bpy session, enabled, its panel and operators checked, and disabled again."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from conftest import REPO_ROOT

from pipeline.app.extension import build_extension

CHECK = r"""
import sys, bpy
zip_path = sys.argv[1]
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert res == {"FINISHED"}, res
mod = "bl_ext.user_default.tryon"
assert mod in bpy.context.preferences.addons, [a.module for a in bpy.context.preferences.addons]
for name in ("TRYON_PT_main", "TRYON_PT_avatar", "TRYON_PT_garment", "TRYON_PT_fit", "TRYON_PT_render"):
    assert hasattr(bpy.types, name), name
ops = sorted(dir(bpy.ops.tryon))
import pipeline  # the engine comes from the extension's bundled wheel, not from the checkout
assert "extensions" in pipeline.__file__, pipeline.__file__
s = bpy.context.scene.tryon
s.avatar_source, s.size, s.sex = "size", "L", "male"
assert bpy.ops.tryon.build_avatar() == {"FINISHED"}
assert any(o.get("tryon_role") == "avatar" for o in bpy.context.scene.objects)
s.garment_path, s.target_faces, s.fabric = sys.argv[3], 4000, "cotton-jersey"
assert bpy.ops.tryon.import_garment() == {"FINISHED"}
assert bpy.ops.tryon.fit_garment() == {"FINISHED"}
fitted = [o for o in bpy.context.scene.objects if o.get("tryon_role") == "garment"]
assert len(fitted) == 1 and fitted[0].modifiers["Armature"].object is not None
assert bpy.ops.ed.undo_push(message="fitted") == {"FINISHED"}
s.engine, s.width, s.height, s.samples, s.output_path = "workbench", 64, 80, 1, sys.argv[2]
s.look, s.color, s.frame = "white", "navy", "custom"
assert bpy.ops.tryon.render_still() == {"FINISHED"}
assert fitted[0].get("tryon_fabric") == "cotton-jersey" and "navy" in fitted[0].data.materials[0].name
s.avatar_source, s.measurements_path = "file", sys.argv[2] + ".missing.json"
try:  # the operator reports one ERROR line (scripts see it as a RuntimeError carrying that line)
    bpy.ops.tryon.build_avatar()
    raise AssertionError("a missing measurements file must be reported")
except RuntimeError as exc:
    assert "measurements file not found" in str(exc) and "Traceback" not in str(exc), exc
bpy.ops.preferences.addon_disable(module=mod)
assert not hasattr(bpy.types, "TRYON_PT_main")
print("OPS", ",".join(ops))
"""


def test_build_install_enable_disable(tmp_path):
    zip_path = build_extension(tmp_path / "dist")
    names = zipfile.ZipFile(zip_path).namelist()
    assert "blender_manifest.toml" in names and "blender_addon/operators.py" in names
    assert any(n.startswith("wheels/tryon_pipeline-") for n in names)
    # As in Blender: the torch half runs in a worker process in the project's environment (the checkout).
    env = dict(
        os.environ,
        BLENDER_USER_RESOURCES=str(tmp_path / "user"),
        TRYON_WORKER="1",
        TRYON_PROJECT_DIR=str(REPO_ROOT),
    )
    still = tmp_path / "still.png"
    garment = REPO_ROOT / "garments" / "tshirt.obj"
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(zip_path), str(still), str(garment)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ops = proc.stdout.split("OPS ")[-1].strip().split(",")
    for op in (
        "build_avatar",
        "import_garment",
        "clean_garment",
        "fit_garment",
        "render_still",
        "frame_camera",
    ):
        assert op in ops
    assert still.is_file()


MEASURE = r"""
import sys, bpy
res = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default", enable_on_install=True)
s = bpy.context.scene.tryon
s.capture_path = sys.argv[2]
assert bpy.ops.tryon.measure_capture() == {"FINISHED"}
avatars = [o for o in bpy.context.scene.objects if o.get("tryon_role") == "avatar"]
assert len(avatars) == 1 and s.avatar_source == "file" and s.measurements_path.endswith("_measurements.json")
print("MEASURED", s.measurements_path)
"""


def test_measure_button_builds_avatar_from_a_recording(tmp_path):
    """The panel's Measure button: MediaPipe + body fit in the worker, then the avatar in the scene."""
    import json

    from pipeline.app.cli import main

    params = tmp_path / "params.json"
    params.write_text(json.dumps({"phenotypes": {"gender": 0.2, "height": 0.6, "weight": 0.45}}))
    assert (
        main(
            [
                "synth-capture",
                "--params",
                str(params),
                "--out",
                str(tmp_path / "cap"),
                "--width",
                "320",
                "--samples",
                "4",
                "--frames",
                "1",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    zip_path = build_extension(tmp_path / "dist")
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"), TRYON_PROJECT_DIR=str(REPO_ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, str(zip_path), str(tmp_path / "cap" / "capture.db3")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    measured = json.loads((tmp_path / "cap" / "capture_measurements.json").read_text())
    assert measured["unit"] == "cm" and 140 < measured["stature"] < 210

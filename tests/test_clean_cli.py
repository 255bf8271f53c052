"""`pipeline clean` end to end: real garments in, cleaned GLB/OBJ/.blend and a JSON report out; a textured
generated garment keeps its look (rendered and checked); scans get their colours baked; bad input gives one
line and exit 2; the Blender (-P) entry and the in-scene variant for the panel."""

from __future__ import annotations

import json
import runpy
import sys

import bpy
import numpy as np
import pytest
from conftest import REPO_ROOT

from pipeline.app.clean_job import CleanOptions, clean_garment_object
from pipeline.app.cli import main
from pipeline.blender.garment_preview import render_garment_preview
from pipeline.blender.importers import garment_to_object, import_garment
from pipeline.core.garment import synthetic as syn
from pipeline.core.garment.mesh import write_obj

TSHIRT = "garments/diffcloth_tshirt/tshirt1900.obj"


def test_clean_real_tshirt_to_glb_with_report(shared_data, fresh_scene, tmp_path, capsys):
    out, rep = tmp_path / "tshirt.glb", tmp_path / "report.json"
    code = main(
        [
            "clean",
            str(shared_data / TSHIRT),
            "--out",
            str(out),
            "--report",
            str(rep),
            "--target-faces",
            "2000",
        ]
    )
    assert code == 0
    report = json.loads(rep.read_text())
    assert report["before"]["faces"] == 3726 and report["after"]["faces"] <= 2000
    ops = {o["step"]: o for o in report["operations"]}
    assert ops["normalise"]["units"] == "dm" and ops["normalise"]["up_axis"] == "+z"
    assert ops["normalise"]["front_turn_deg"] == 180  # DiffCloth's T-shirt faces +Y; turned to face -Y
    assert ops["holes"]["openings"] == 4  # neck, two sleeves, hem
    assert "4 openings found" in report["summary"]
    assert "tshirt1900.obj -> tshirt.glb" in capsys.readouterr().out
    back = import_garment(out)
    assert len(back.faces) == report["after"]["faces"] and back.uv is not None
    assert 1.0 < np.ptp(back.vertices, axis=0).max() < 1.2  # metres now, centred
    assert np.allclose(back.vertices.min(axis=0) + back.vertices.max(axis=0), 0, atol=1e-3)


@pytest.fixture
def textured_dirty_obj(tmp_path):
    """A striped tube top in millimetres with floaters, flipped faces and small holes, its texture beside it."""
    rng = np.random.default_rng(7)
    tube = syn.tube_garment(120, 60, noise_m=0.0003)
    tube.texture_path = "stripes.png"
    syn.stripe_texture(tmp_path / "stripes.png", 128)
    tube = syn.punch_holes(syn.add_floaters(syn.flip_faces(tube, 0.1, rng), 8, rng), 4, 0.01, rng)
    tube.vertices = tube.vertices * 1000
    return write_obj(tube, tmp_path / "tube_mm.obj")


def test_textured_garment_keeps_its_look(textured_dirty_obj, fresh_scene, tmp_path):
    out, rep = tmp_path / "clean" / "tube.obj", tmp_path / "r.json"
    assert (
        main(
            [
                "clean",
                str(textured_dirty_obj),
                "--out",
                str(out),
                "--report",
                str(rep),
                "--target-faces",
                "3000",
            ]
        )
        == 0
    )
    report = json.loads(rep.read_text())
    ops = {o["step"]: o for o in report["operations"]}
    assert ops["normalise"]["units"] == "mm"
    assert ops["floaters"]["removed_parts"] == 8 and ops["holes"]["filled_holes"] == 4
    assert ops["holes"]["openings"] == 2 and ops["normals"]["flipped_faces"] > 0
    assert (out.parent / "stripes.png").is_file()  # the OBJ export copies its texture
    cleaned = import_garment(out)
    assert cleaned.texture_path and cleaned.uv is not None and len(cleaned.faces) <= 3000
    png = render_garment_preview(cleaned, tmp_path / "tube.png", size=(120, 150))
    pixels = _png_pixels(png)
    red = (pixels[..., 0] > 0.5) & (pixels[..., 1] < 0.3)
    blue = (pixels[..., 2] > 0.35) & (pixels[..., 0] < 0.2)
    assert red.sum() > 40 and blue.sum() > 30  # stripes and band still mapped
    band_rows = np.flatnonzero(blue.any(axis=1))
    assert 0.3 < band_rows.mean() / pixels.shape[0] < 0.7  # the band sits mid-height: UVs not scrambled


def _png_pixels(path) -> np.ndarray:
    img = bpy.data.images.load(str(path))
    try:
        w, h = img.size
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
        return px.reshape(h, w, 4)[::-1]
    finally:
        bpy.data.images.remove(img)


def test_scan_colours_baked_into_texture(fresh_scene, tmp_path):
    scan = syn.noisy_scan(20_000)
    path = tmp_path / "scan.ply"
    obj = garment_to_object(scan, "Scan")
    obj.select_set(True)
    bpy.ops.wm.ply_export(
        filepath=str(path),
        export_selected_objects=True,
        export_colors="SRGB",
        export_normals=False,
        export_uv=False,
    )
    bpy.data.objects.remove(obj)
    out, rep = tmp_path / "scan_clean.glb", tmp_path / "r.json"
    assert (
        main(
            [
                "clean",
                str(path),
                "--out",
                str(out),
                "--report",
                str(rep),
                "--target-faces",
                "2000",
                "--texture-size",
                "256",
            ]
        )
        == 0
    )
    report = json.loads(rep.read_text())
    ops = {o["step"]: o for o in report["operations"]}
    import_op = ops["import"]
    assert import_op["welded_vertices"] > 0 and ops["floaters"]["removed_parts"] == 200
    assert ops["decimate"]["clustering"]["faces_after"] <= 8000  # dense and UV-less: patch merge first
    assert ops["bake"]["texture"] == "scan_clean_basecolor.png"
    assert report["after"]["texture"] and report["after"]["uv"]
    back = import_garment(out)
    assert back.texture_path and back.uv is not None
    texels = _png_pixels(tmp_path / "scan_clean_basecolor.png")[..., :3]
    filled = texels[texels.sum(axis=2) > 0.05]
    assert np.allclose(filled.mean(axis=0), scan.vertex_colors[:, :3].mean(axis=0), atol=0.08)


def test_no_step_switches(shared_data, fresh_scene, tmp_path):
    rep = tmp_path / "r.json"
    args = [
        "clean",
        str(shared_data / TSHIRT),
        "--out",
        str(tmp_path / "t.blend"),
        "--report",
        str(rep),
        "--target-faces",
        "1000",
        "--no-decimate",
        "--no-normalise",
        "--no-holes",
    ]
    assert main(args) == 0
    report = json.loads(rep.read_text())
    assert report["after"]["faces"] == 3726
    assert report["after"]["size"] == report["before"]["size"]
    off = [o["step"] for o in report["operations"] if not o["enabled"]]
    assert off == ["normalise", "holes", "decimate"]
    assert (tmp_path / "t.blend").stat().st_size > 0


def _bad_files(tmp_path):
    files = {
        "empty.obj": b"",
        "notes.obj": b"hello\nthis is not a mesh\n",
        "corrupt.glb": b"glTF\x02\x00\x00\x00garbage-garbage",
        "corrupt.fbx": b"Kaydara FBX Binary  \x00\x1a\x00garbage",
        "corrupt.blend": b"BLENDER-v500garbage",
        "photo.ply": b"\x89PNG\r\n\x1a\n not a ply",
        "points.ply": b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        b"property float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n",
        "huge.ply": b"ply\nformat binary_little_endian 1.0\nelement vertex 2500000\nproperty float x\n"
        b"property float y\nproperty float z\nelement face 5000000\n"
        b"property list uchar int vertex_indices\nend_header\n",
        "shape.xyz": b"0 0 0\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


BAD = {
    "empty.obj": "is empty",
    "notes.obj": "has no faces",
    "corrupt.glb": "not a valid glTF file",
    "corrupt.fbx": "not a valid FBX file",
    "corrupt.blend": "could not read",
    "photo.ply": "not a valid PLY file",
    "points.ply": "point cloud",
    "huge.ply": "5,000,000 faces, over the limit",
    "shape.xyz": "unsupported garment format",
    "missing.obj": "garment file not found",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_exit_2(name, fresh_scene, tmp_path, capsys):
    _bad_files(tmp_path)
    code = main(["clean", str(tmp_path / name), "--out", str(tmp_path / "o.glb")])
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and BAD[name] in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "o.glb").exists()


def test_bad_output_suffix(shared_data, capsys):
    assert main(["clean", str(shared_data / TSHIRT), "--out", "x.fbx"]) == 2
    assert "expected a .glb" in capsys.readouterr().err


def test_missing_texture_is_a_warning(tmp_path, fresh_scene):
    tube = syn.tube_garment(24, 8)
    tube.texture_path = "shirt_diffuse.jpg"  # not there
    src = write_obj(tube, tmp_path / "shirt.obj")
    rep = tmp_path / "r.json"
    assert main(["clean", str(src), "--out", str(tmp_path / "shirt.glb"), "--report", str(rep)]) == 0
    assert "texture missing: shirt_diffuse.jpg" in json.loads(rep.read_text())["warnings"]


def test_blender_entry_point(shared_data, tmp_path, monkeypatch):
    out = tmp_path / "skirt.glb"
    argv = [
        "blender",
        "-b",
        "-P",
        "pipeline/cli.py",
        "--",
        "clean",
        str(shared_data / "garments/diffcloth_skirt_ply/skirt3448.ply"),
        "--out",
        str(out),
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(REPO_ROOT / "pipeline" / "cli.py"), run_name="__main__")
    assert exc.value.code == 0 and out.is_file()


def test_clean_object_in_scene(fresh_scene):
    rng = np.random.default_rng(9)
    tube = syn.split_vertices(syn.flip_faces(syn.tube_garment(40, 20), 0.2, rng), 0.1, rng)
    obj = garment_to_object(tube, "Garment")
    report = clean_garment_object(obj, CleanOptions(target_faces=500, normalise=False))
    assert obj.name == "Garment" and len(obj.data.polygons) <= 500
    assert report.before["vertices"] == 40 * 20  # split vertices are welded on the way in
    assert report.operation("normals")["flipped_faces"] > 0
    assert len(bpy.data.objects) == 1 and obj.data.uv_layers.active is not None


REAL = [
    "diffcloth_skirt/skirt3448.obj",
    "diffcloth_skirt_ply/skirt3448.ply",
    "makehuman_female_sportsuit01_usd/female_sportsuit01.usdc",
    "makehuman_male_casualsuit01_glb/male_casualsuit01.glb",
    "makehuman_male_casualsuit01_fbx/male_casualsuit01.fbx",
    "makehuman_male_worksuit01/male_worksuit01.obj",
    "makehuman_male_worksuit01_stl/male_worksuit01.stl",
]


@pytest.mark.parametrize("rel", REAL, ids=[r.split("/")[1] for r in REAL])
def test_clean_every_real_format(shared_data, fresh_scene, tmp_path, rel):
    rep = tmp_path / "r.json"
    assert (
        main(
            [
                "clean",
                str(shared_data / "garments" / rel),
                "--out",
                str(tmp_path / "g.glb"),
                "--report",
                str(rep),
                "--target-faces",
                "3000",
            ]
        )
        == 0
    )
    report = json.loads(rep.read_text())
    ops = {o["step"]: o for o in report["operations"]}
    assert report["after"]["faces"] <= 3000
    assert ops["normalise"]["units"] == ("m" if "skirt" in rel else "dm")
    assert ops["normalise"]["up_axis"] == "+z" and ops["normalise"]["front_turn_deg"] == 0  # MakeHuman: -Y
    assert ops["holes"]["openings"] >= 2  # waist and hem at least: openings never get filled
    assert 0.2 < max(report["after"]["size"]) < 1.6
    if "worksuit" in rel:  # its buttons are open tubes and one 2-face sliver floats free
        assert ops["floaters"]["removed_parts"] == 1 and ops["holes"]["filled_holes"] > 0


def test_unpacked_texture_leaves_nothing_in_temp(fresh_scene, tmp_path):
    """A GLB's embedded texture is unpacked for the clean-up and removed after it: the temp folder ends empty,
    and the output OBJ has the texture copied beside it."""
    import os
    import subprocess

    from pipeline.blender.garment_ops import export_garment

    tube = syn.tube_garment(24, 8)
    (tmp_path / "src").mkdir()
    tube.texture_path = str(syn.stripe_texture(tmp_path / "src" / "stripes.png", 32))
    src = export_garment(tube, tmp_path / "src" / "tube.glb")  # texture embedded
    temp, out = tmp_path / "tmp", tmp_path / "out" / "tube.obj"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), PYTHONPATH=str(REPO_ROOT))
    cmd = [sys.executable, "-m", "pipeline", "clean", str(src), "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert sorted(temp.rglob("*")) == []
    assert sorted(p.suffix for p in out.parent.iterdir()) == [".mtl", ".obj", ".png"]

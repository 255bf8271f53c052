"""Unit tests of the sniffing helpers, both sides of each contact: what must pass (real files, references
inside the folder) and what must not (outside paths, links out, FIFOs, lying headers)."""

from __future__ import annotations

import json
import os
import struct

import pytest
from hostile_cases import _glb, _png, tube_gltf, tube_obj

from pipeline.core.errors import UserError
from pipeline.core.garment import refs_obj
from pipeline.core.garment.filecheck import prepare_garment_file
from pipeline.core.garment.refs_gltf import count_faces
from pipeline.core.untrusted import UnsafeReference, clip, image_size, resolve_inside


def test_resolve_inside_accepts_files_in_the_folder_and_allowed_ones(tmp_path):
    (tmp_path / "g" / "tex").mkdir(parents=True)
    (tmp_path / "g" / "tex" / "a.png").write_bytes(b"x")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "b.png").write_bytes(b"x")
    base = tmp_path / "g"
    assert resolve_inside(base, "tex/a.png") == (base / "tex" / "a.png").resolve()
    assert resolve_inside(base, "tex%2Fa.png") == (base / "tex" / "a.png").resolve()  # glTF URIs are escaped
    assert resolve_inside(base, "tex/../tex/a.png").name == "a.png"
    assert resolve_inside(base, "../shared/b.png", [tmp_path / "shared"]).name == "b.png"
    os.symlink(base / "tex" / "a.png", base / "link.png")  # a link that stays inside is fine
    assert resolve_inside(base, "link.png").name == "a.png"


@pytest.mark.parametrize(
    "ref, why",
    [
        ("../secret.png", "outside"),
        ("/etc/passwd", "outside"),
        ("../../../../../../etc/hostname", "outside"),
        ("..%2Fsecret.png", "outside"),
        ("http://example.com/a.png", "URL"),
        ("file:///etc/passwd", "URL"),
        ("out.png", "outside"),  # a link pointing out
        ("fifo.png", "not a regular file"),
        ("missing.png", "missing"),
        ("", "empty"),
        ("g.m00%0000", "malformed"),  # a percent-escaped NUL, found by the fuzzer
    ],
)
def test_resolve_inside_refuses(tmp_path, ref, why):
    base = tmp_path / "g"
    base.mkdir()
    (tmp_path / "secret.png").write_bytes(b"secret")
    os.symlink(tmp_path / "secret.png", base / "out.png")
    os.mkfifo(base / "fifo.png")
    with pytest.raises(UnsafeReference, match=why):
        resolve_inside(base, ref)


def test_faces_counted_exactly_across_chunks(tmp_path, monkeypatch):
    text = tube_obj(40, 50)  # 3900 faces
    path = tmp_path / "g.obj"
    path.write_text("mtllib g.mtl\n" + text + "v 0 0 0\n" * 10)
    monkeypatch.setattr(refs_obj, "CHUNK", 4096)  # lines split across many chunk boundaries
    faces, libs = refs_obj.scan_obj(path)
    assert faces == text.count("\nf ") and faces == 39 * 50 * 2 and libs == ["g.mtl"]


def test_non_finite_vertex_found_in_any_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(refs_obj, "CHUNK", 4096)
    path = tmp_path / "g.obj"
    path.write_text(tube_obj(40, 50) + "v 0 1e400 0\n" + tube_obj(3, 4))
    with pytest.raises(UserError, match="not a finite number"):
        refs_obj.scan_obj(path)
    path.write_text(tube_obj() + "v 1e300 0 0\nvt 0 0 # inf\n")  # large but finite; a comment is no vertex
    assert refs_obj.scan_obj(path)[0] > 0


def test_image_sizes_from_headers():
    assert image_size(_png(25_000, 25_000, pixels=False)) == (25_000, 25_000)
    assert image_size(b"GIF89a" + struct.pack("<HH", 7, 9)) == (7, 9)
    assert image_size(b"BM" + b"\0" * 16 + struct.pack("<ii", 640, -480)) == (640, 480)
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 300, 200)
    assert image_size(jpeg + b"\0" * 16) == (200, 300)
    assert image_size(b"not an image") is None


def test_gltf_faces_counted_from_primitives(tmp_path):
    doc = tube_gltf()
    assert count_faces(doc) == 7 * 16 * 2
    path = tmp_path / "g.gltf"
    path.write_text(json.dumps(doc))
    prepared = prepare_garment_file(path)
    assert prepared.faces == 224 and prepared.import_path == path and not prepared.warnings


def test_obj_import_copy_points_only_at_checked_files(tmp_path):
    (tmp_path / "secret.png").write_bytes(_png(4, 4))
    g = tmp_path / "g"
    g.mkdir()
    (g / "ok.png").write_bytes(_png(4, 4))
    (g / "g.mtl").write_text("newmtl a\nmap_Kd ok.png\nmap_Bump ../secret.png\nmap_Ks /etc/passwd\n")
    (g / "g.obj").write_text("mtllib g.mtl\n" + tube_obj())
    prepared = prepare_garment_file(g / "g.obj")
    try:
        mtl = (prepared.import_path.parent / "g.mtl").read_text()
        assert "secret" not in mtl and "passwd" not in mtl and "ok.png" in mtl
        link = next(prepared.import_path.parent.glob("l*/ok.png"))
        assert link.resolve() == (g / "ok.png").resolve()
        assert sum("texture skipped" in w for w in prepared.warnings) == 2
    finally:
        prepared.cleanup()
    assert not prepared.import_path.parent.exists()


def test_glb_with_lying_buffer_is_refused_but_an_honest_one_passes(tmp_path):
    data = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "type": "VEC3", "count": 3}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
    }
    (tmp_path / "ok.glb").write_bytes(_glb(doc, data))
    assert prepare_garment_file(tmp_path / "ok.glb").faces == 1
    doc["accessors"][0]["count"] = 4
    (tmp_path / "bad.glb").write_bytes(_glb(doc, data))
    with pytest.raises(UserError, match="accessor 0 needs 48 bytes"):
        prepare_garment_file(tmp_path / "bad.glb")


def test_real_garments_pass_the_checks(shared_data):
    """No false refusal: every real garment of the shared data passes, with faces counted."""
    expected = {
        "diffcloth_skirt_ply/skirt3448.ply": 3448,
        "makehuman_male_casualsuit01_fbx/male_casualsuit01.fbx": 8336,
        "makehuman_male_casualsuit01/male_casualsuit01.obj": 8336,
        "makehuman_male_worksuit01_stl/male_worksuit01.stl": 6986,
        "makehuman_male_casualsuit01_glb/male_casualsuit01.glb": 16672,
    }
    for rel, faces in expected.items():
        prepared = prepare_garment_file(shared_data / "garments" / rel)
        prepared.cleanup()
        assert prepared.faces == faces, rel
    usd = prepare_garment_file(
        shared_data / "garments/makehuman_female_sportsuit01_usd/female_sportsuit01.usdc"
    )
    assert usd.format == "usd"


def test_clip_keeps_one_short_line():
    assert clip("x" * 10_000).endswith("(10,000 chars)") and len(clip("x" * 10_000)) < 100
    assert "\n" not in clip("a\nb") and clip(5) == "5"


def test_allowed_folder_lends_textures(tmp_path):
    """`clean --allow-dir`: a texture library beside the garment's folder is used when named, else skipped."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "denim.png").write_bytes(_png(4, 4))
    g = tmp_path / "g"
    g.mkdir()
    (g / "g.mtl").write_text("newmtl a\nmap_Kd ../lib/denim.png\n")
    (g / "g.obj").write_text("mtllib g.mtl\n" + tube_obj())
    refused = prepare_garment_file(g / "g.obj")
    allowed = prepare_garment_file(g / "g.obj", allowed_dirs=[tmp_path / "lib"])
    try:
        assert any("texture skipped" in w for w in refused.warnings)
        assert not allowed.warnings and "denim.png" in (allowed.import_path.parent / "g.mtl").read_text()
    finally:
        refused.cleanup()
        allowed.cleanup()

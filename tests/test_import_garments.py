"""Importing the shared real garments (OBJ+MTL, PLY, STL, GLB, FBX, USDC) with Blender's importers, .blend
objects by name, joined objects, and the GarmentMesh <-> Blender object round trip."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from pipeline.blender.garment_ops import export_garment
from pipeline.blender.importers import (
    garment_to_object,
    import_garment,
    import_garment_info,
    object_to_garment,
)
from pipeline.core.errors import UserError
from pipeline.core.garment import synthetic as syn
from pipeline.core.garment.mesh import GarmentMesh

G = "garments"
# file, vertices, triangles, has UVs, a warning that must appear (or None)
REAL = [
    ("diffcloth_skirt/skirt3448.obj", 1809, 3448, False, "material library missing: skirt3448..obj.mtl"),
    ("diffcloth_skirt_ply/skirt3448.ply", 1809, 3448, False, None),
    ("diffcloth_tshirt/tshirt1900.obj", 1921, 3726, True, None),
    (
        "makehuman_female_sportsuit01/female_sportsuit01.obj",
        1797,
        3436,
        True,
        "texture missing: female_sportsuit01_diffuse.png",
    ),
    ("makehuman_female_sportsuit01_usd/female_sportsuit01.usdc", 1797, 3436, True, None),
    ("makehuman_male_casualsuit01_glb/male_casualsuit01.glb", 8426, 16672, True, None),
    ("makehuman_male_casualsuit01_fbx/male_casualsuit01.fbx", 8426, 16672, True, None),
    ("makehuman_male_worksuit01_stl/male_worksuit01.stl", 3763, 6986, False, None),
]


@pytest.mark.parametrize(
    ("rel", "nv", "nf", "has_uv", "warning"), REAL, ids=[r[0].split("/")[1] for r in REAL]
)
def test_real_garments_import(shared_data, fresh_scene, rel, nv, nf, has_uv, warning):
    mesh, info = import_garment_info(shared_data / G / rel)
    assert (len(mesh.vertices), len(mesh.faces)) == (nv, nf)  # glTF/FBX seams come back welded
    assert (mesh.uv is not None) == has_uv
    if has_uv:
        assert mesh.face_uv.shape == mesh.faces.shape and mesh.face_uv.max() < len(mesh.uv)
    assert mesh.vertices.shape == (nv, 3) and np.isfinite(mesh.vertices).all()
    if warning:
        assert warning in info.warnings
    assert len(bpy.data.objects) == 0  # the importer leaves the scene as it found it


def test_same_garment_through_obj_and_glb_agrees(shared_data, fresh_scene):
    obj = import_garment(shared_data / G / "makehuman_male_casualsuit01/male_casualsuit01.obj")
    glb = import_garment(shared_data / G / "makehuman_male_casualsuit01_glb/male_casualsuit01.glb")
    assert np.allclose(np.sort(obj.vertices, axis=0), np.sort(glb.vertices, axis=0), atol=1e-4)


def _two_piece_blend(tmp_path):
    top = syn.tube_garment(24, 8)
    top.name = "Top"
    skirt = syn.tube_garment(32, 6, radius_m=0.25)
    skirt.name = "Skirt"
    a, b = garment_to_object(top), garment_to_object(skirt)
    path = tmp_path / "two.glb"
    for o in (a, b):
        o.select_set(True)
    bpy.ops.export_scene.gltf(filepath=str(path), use_selection=True)
    for o in (a, b):
        bpy.data.objects.remove(o)
    return path, top, skirt


def test_several_objects_joined_or_one_by_name(tmp_path, fresh_scene):
    path, top, skirt = _two_piece_blend(tmp_path)
    joined, info = import_garment_info(path)
    assert sorted(info.objects) == ["Skirt", "Top"]
    assert len(joined.faces) == len(top.faces) + len(skirt.faces)
    only = import_garment(path, object_name="Skirt")
    assert len(only.faces) == len(skirt.faces)
    with pytest.raises(UserError, match="'Shoe' not found.*Skirt, Top"):
        import_garment(path, object_name="Shoe")


def test_blend_object_by_name(tmp_path, fresh_scene):
    tube = syn.tube_garment(24, 8)
    tube.name = "Tube"
    export_garment(tube, tmp_path / "tube.blend")
    assert len(bpy.data.objects) == 0
    mesh = import_garment(tmp_path / "tube.blend", object_name="Tube")
    assert len(mesh.faces) == len(tube.faces) and mesh.uv is not None


def test_object_round_trip_keeps_uvs_and_colours(fresh_scene):
    tube = syn.tube_garment(24, 8)
    tube.vertex_colors = np.c_[
        np.random.default_rng(0).random((len(tube.vertices), 3)), np.ones(len(tube.vertices))
    ]
    obj = garment_to_object(tube, "RoundTrip")
    back = object_to_garment(obj)
    assert np.array_equal(back.faces, tube.faces)
    assert np.allclose(back.uv[back.face_uv], tube.uv[tube.face_uv], atol=1e-6)  # per-corner UVs, seam kept
    assert np.allclose(back.vertex_colors, tube.vertex_colors, atol=1e-3)  # sRGB <-> linear float32
    links = obj.data.materials[0].node_tree.links
    assert any(link.from_node.type == "VERTEX_COLOR" for link in links)


def test_textured_material_uses_texture(tmp_path, fresh_scene):
    tube = syn.tube_garment(24, 8)
    tube.texture_path = str(syn.stripe_texture(tmp_path / "stripes.png", 32))
    obj = garment_to_object(tube)
    nodes = obj.data.materials[0].node_tree.nodes
    assert any(n.type == "TEX_IMAGE" and n.image.filepath.endswith("stripes.png") for n in nodes)
    assert object_to_garment(obj).texture_path.endswith("stripes.png")


def test_empty_mesh_object_is_a_user_error(tmp_path, fresh_scene):
    empty = GarmentMesh(vertices=np.zeros((3, 3)), faces=np.zeros((0, 3), dtype=np.int64), name="Pts")
    export_garment(empty, tmp_path / "pts.blend")
    with pytest.raises(UserError, match="point cloud"):
        import_garment(tmp_path / "pts.blend")


def test_import_garment_gives_metres_in_place(shared_data, fresh_scene):
    path = shared_data / G / "makehuman_female_sportsuit01/female_sportsuit01.obj"
    raw, _ = import_garment_info(path)
    mesh = import_garment(path)  # decimetres -> metres, Z up kept, not moved
    assert np.allclose(mesh.vertices, raw.vertices * 0.1)
    assert 1.2 < np.ptp(mesh.vertices[:, 2]) < 1.4


@pytest.mark.parametrize("suffix", [".usda", ".usdz", ".gltf", ".ply", ".stl"])
def test_other_formats_round_trip(tmp_path, fresh_scene, suffix):
    tube = syn.tube_garment(24, 8)
    obj = garment_to_object(tube, "Tube")
    obj.select_set(True)
    path = str(tmp_path / f"tube{suffix}")
    if suffix.startswith(".usd"):
        bpy.ops.wm.usd_export(filepath=path, selected_objects_only=True)
    elif suffix == ".gltf":
        bpy.ops.export_scene.gltf(filepath=path, export_format="GLTF_SEPARATE", use_selection=True)
    elif suffix == ".ply":
        bpy.ops.wm.ply_export(filepath=path, export_selected_objects=True)
    else:
        bpy.ops.wm.stl_export(filepath=path, export_selected_objects=True)
    bpy.data.objects.remove(obj)
    mesh = import_garment(path)
    assert len(mesh.faces) == len(tube.faces)
    assert np.allclose(np.ptp(mesh.vertices, axis=0), np.ptp(tube.vertices, axis=0), atol=1e-4)

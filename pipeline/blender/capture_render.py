"""Colour frames of a synthetic RGB-D capture: a dressed-looking body in a room, seen by a virtual D435.

Thin bpy layer: the body comes as arrays with a material slot per face (skin, top, trousers, shoes, hair),
the camera as intrinsics and a position; Cycles renders at low samples with the denoiser.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SLOTS = ("skin", "top", "trousers", "shoes", "hair")


def _material(name: str, rgb: Sequence[float], roughness: float = 0.6, noise_scale: float = 0.0):
    import bpy

    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nt = mat.node_tree
    bsdf = nt.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    if noise_scale > 0:  # fabric-like mottling so the clothes are not flat colour
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = noise_scale
        ramp = nt.nodes.new("ShaderNodeMixRGB") if hasattr(bpy.types, "ShaderNodeMixRGB") else None
        if ramp is not None:
            ramp.blend_type = "MULTIPLY"
            ramp.inputs[0].default_value = 0.25
            ramp.inputs[1].default_value = (*rgb, 1.0)
            nt.links.new(noise.outputs["Color"], ramp.inputs[2])
            nt.links.new(ramp.outputs[0], bsdf.inputs["Base Color"])
    return mat


def _mesh_object(
    name: str,
    verts: np.ndarray,
    faces: np.ndarray,
    face_slot: np.ndarray | None,
    materials: list,
    scene=None,
):
    """A mesh object linked into `scene` (default: the current one), with its materials and per-face slots."""
    import bpy

    me = bpy.data.meshes.new(name)
    me.from_pydata(np.asarray(verts).tolist(), [], np.asarray(faces).tolist())
    for m in materials:
        me.materials.append(m)
    if face_slot is not None:
        me.polygons.foreach_set("material_index", face_slot.astype(np.int32))
        me.shade_smooth()
    me.update()
    ob = bpy.data.objects.new(name, me)
    (scene or bpy.context.scene).collection.objects.link(ob)
    return ob


def pinhole_camera_data(name: str, intrinsics):
    """Blender camera data matching pinhole `intrinsics` (focal length and principal point as lens and shift)."""
    import bpy

    data = bpy.data.cameras.new(name)
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = 36.0
    data.lens = intrinsics.fx * 36.0 / intrinsics.width
    data.shift_x = ((intrinsics.width - 1) / 2.0 - intrinsics.ppx) / intrinsics.width
    data.shift_y = (intrinsics.ppy - (intrinsics.height - 1) / 2.0) / intrinsics.width
    return data


def render_capture_colour(
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    face_slot: np.ndarray,
    colours: dict[str, Sequence[float]],
    yaws_deg: Sequence[float],
    intrinsics,
    camera_centre: np.ndarray,
    backdrop: tuple[np.ndarray, np.ndarray],
    out_dir: str | os.PathLike,
    samples: int = 8,
) -> list[Path]:
    """Render one PNG per yaw of the body (turned about world Z) into `out_dir`; return their paths."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    mats = [
        _material(s, colours[s], 0.45 if s == "skin" else 0.8, 0.0 if s in ("skin", "hair") else 60.0)
        for s in SLOTS
    ]
    body = _mesh_object("Body", body_vertices, body_faces, face_slot, mats)
    wall_mat = _material("wall", colours.get("wall", (0.55, 0.52, 0.47)), 0.9, 8.0)
    floor_mat = _material("floor", colours.get("floor", (0.35, 0.28, 0.22)), 0.7, 20.0)
    bverts, bfaces = backdrop
    _mesh_object("Floor", bverts, bfaces[:2], None, [floor_mat])
    _mesh_object("Wall", bverts, bfaces[2:], None, [wall_mat])

    cam_data = pinhole_camera_data("D435", intrinsics)
    cam = bpy.data.objects.new("D435", cam_data)
    cam.location = tuple(float(v) for v in camera_centre)
    cam.rotation_euler = (math.pi / 2, 0.0, 0.0)  # looks along +Y, up is +Z
    sc.collection.objects.link(cam)
    sc.camera = cam

    key = bpy.data.lights.new("Key", "AREA")
    key.energy, key.size = 160.0, 1.5
    key_ob = bpy.data.objects.new("Key", key)
    key_ob.location = (1.2, float(camera_centre[1]) - 0.3, 2.6)
    key_ob.rotation_euler = (math.radians(55), 0.0, math.radians(25))
    sc.collection.objects.link(key_ob)
    world = bpy.data.worlds.new("Room")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.4, 0.4, 0.42, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.35
    sc.world = world

    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = samples
    sc.cycles.use_denoising = True
    sc.cycles.max_bounces = 3
    sc.render.threads_mode = "FIXED"
    sc.render.threads = 2
    sc.render.resolution_x, sc.render.resolution_y = intrinsics.width, intrinsics.height
    sc.render.resolution_percentage = 100
    sc.render.image_settings.file_format = "PNG"
    sc.render.image_settings.color_mode = "RGB"
    sc.view_settings.view_transform = "Standard"

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, yaw in enumerate(yaws_deg):
        body.rotation_euler = (0.0, 0.0, math.radians(yaw))
        path = out_dir / f"colour_{k:03d}.png"
        sc.render.filepath = str(path)
        bpy.ops.render.render(write_still=True)
        paths.append(path)
    return paths

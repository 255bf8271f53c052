"""The garment layer of an AR composite: only the garment, rendered by Cycles from the recording's own camera
(intrinsics, camera at the origin), with the depth frame's mesh as a holdout (what is really in front cuts the
garment, anti-aliased by the renderer) and as a shadow catcher (the garment's shadow on the person), lit by an
environment image estimated from the frame. The person's body is never drawn.

Thin bpy layer: everything arrives in the camera frame (x right, y down, z forward, metres) as arrays; the
scene's world is that frame turned to Blender's camera convention (looks along -Z, up +Y)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.blender.capture_render import _material, _mesh_object, pinhole_camera_data

# camera frame (x right, y down, z forward) -> Blender world with the camera at the origin looking along -Z
WORLD_FROM_CAMERA = np.diag([1.0, -1.0, -1.0])


def _camera(scene, intrinsics):
    import bpy

    data = pinhole_camera_data("RecordingCamera", intrinsics)
    data.clip_start, data.clip_end = 0.05, 50.0
    cam = bpy.data.objects.new("RecordingCamera", data)
    scene.collection.objects.link(cam)
    scene.camera = cam
    return cam


def _world(scene, environment: np.ndarray | None, grey: float = 0.5):
    import bpy

    world = bpy.data.worlds.new("RoomLight")
    world.use_nodes = True
    nt = world.node_tree
    bg = nt.nodes["Background"]
    if environment is None:
        bg.inputs["Color"].default_value = (grey, grey, grey, 1.0)
    else:
        h, w = environment.shape[:2]
        img = bpy.data.images.new("RoomLightEnv", w, h, float_buffer=True)
        rgba = np.concatenate([environment[::-1], np.ones((h, w, 1))], axis=-1)  # Blender: bottom row first
        img.pixels.foreach_set(rgba.astype(np.float32).ravel())
        tex = nt.nodes.new("ShaderNodeTexEnvironment")
        tex.image = img
        tex.interpolation = "Smart"
        nt.links.new(tex.outputs["Color"], bg.inputs["Color"])
    bg.inputs["Strength"].default_value = 1.0
    scene.world = world


def render_garment_layer(
    garment_cam: np.ndarray,
    garment_faces: np.ndarray,
    garment_rgb: Sequence[float],
    intrinsics,
    occluder_cam: tuple[np.ndarray, np.ndarray] | None = None,
    catcher_cam: tuple[np.ndarray, np.ndarray] | None = None,
    environment: np.ndarray | None = None,
    samples: int = 16,
    engine: str = "cycles",
) -> np.ndarray:
    """Straight RGBA floats (H, W, 4), sRGB, of the garment alone over transparency: cut by the holdout
    `occluder_cam` (vertices, faces), with its shadow on `catcher_cam` in the alpha. Rendered in a scene of its
    own that is removed afterwards, with everything it made, so an open scene is left as it was; nothing is
    kept on disk (the render passes through a temporary folder that is removed)."""
    import bpy

    before = {k: set(getattr(bpy.data, k)) for k in DATA_KINDS}
    sc = bpy.data.scenes.new("TryOnGarmentLayer")
    try:
        _build_layer_scene(
            sc, garment_cam, garment_faces, garment_rgb, intrinsics, occluder_cam, catcher_cam, environment
        )
        _render_settings(sc, intrinsics, samples, engine)
        return _render(sc)
    finally:
        bpy.data.scenes.remove(sc)
        for kind in DATA_KINDS:
            coll = getattr(bpy.data, kind)
            for block in [b for b in coll if b not in before[kind]]:
                coll.remove(block)


DATA_KINDS = ("objects", "meshes", "materials", "cameras", "worlds", "images")


def _build_layer_scene(
    sc, garment_cam, garment_faces, garment_rgb, intrinsics, occluder_cam, catcher_cam, environment
):
    flip = WORLD_FROM_CAMERA
    cloth = [_material("GarmentCloth", garment_rgb[:3], 0.85, 60.0)]
    garment = _mesh_object("Garment", np.asarray(garment_cam) @ flip.T, garment_faces, None, cloth, sc)
    garment.data.shade_smooth()
    if occluder_cam is not None:
        _mesh_object(
            "DepthHoldout", occluder_cam[0] @ flip.T, occluder_cam[1], None, [], sc
        ).is_holdout = True
    if catcher_cam is not None:
        # Cycles: a shadow catcher also holds out what lies behind it; Eevee has no shadow catcher: holdout only
        catcher_material = [_material("Catcher", (0.8,) * 3)]
        catch = _mesh_object(
            "DepthShadowCatcher", catcher_cam[0] @ flip.T, catcher_cam[1], None, catcher_material, sc
        )
        catch["tryon_role"] = "catcher"
    _camera(sc, intrinsics)
    _world(sc, environment)


def _render_settings(sc, intrinsics, samples: int, engine: str) -> None:
    sc.render.film_transparent = True
    if engine == "cycles":
        sc.render.engine = "CYCLES"
        sc.cycles.device = "CPU"
        sc.cycles.samples = samples
        sc.cycles.use_denoising = samples >= 8
        sc.cycles.max_bounces = 3
    elif engine == "eevee":
        sc.render.engine = "BLENDER_EEVEE"
        sc.eevee.taa_render_samples = max(1, samples)
    else:
        sc.render.engine = "BLENDER_WORKBENCH"
    for ob in sc.objects:
        if ob.get("tryon_role") == "catcher":
            if engine == "cycles":
                ob.is_shadow_catcher = True
            else:
                ob.is_holdout = True
    sc.render.threads_mode = "FIXED"
    sc.render.threads = 2
    sc.render.resolution_x, sc.render.resolution_y = intrinsics.width, intrinsics.height
    sc.render.resolution_percentage = 100
    sc.render.image_settings.file_format = "PNG"
    sc.render.image_settings.color_mode = "RGBA"
    sc.render.image_settings.color_depth = "16"
    sc.view_settings.view_transform = "Standard"


def _render(sc) -> np.ndarray:
    import bpy
    import cv2

    with tempfile.TemporaryDirectory(prefix="tryon-ar-") as tmp:
        path = Path(tmp) / "layer.png"
        sc.render.filepath = str(path)
        bpy.ops.render.render(write_still=True, scene=sc.name)
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise RuntimeError("the garment layer render wrote no image")
    return img[..., [2, 1, 0, 3]].astype(np.float64) / 65535.0


def garment_depth(garment_cam: np.ndarray, garment_faces: np.ndarray, intrinsics) -> np.ndarray:
    """z-depth (H, W) in metres of the garment alone from the recording's camera (0 where it is not), by ray
    casting: what the composite's depth test compares with the frame's depth."""
    from pipeline.blender.raycast import raycast_depth
    from pipeline.core.capture.virtual_camera import VirtualCamera

    cam = VirtualCamera(intrinsics)
    depth, _ = raycast_depth(cam, cam.camera_to_world(np.asarray(garment_cam)), garment_faces, room=False)
    return depth

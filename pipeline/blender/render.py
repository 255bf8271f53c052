"""Studio, camera framing and render settings for product try-on stills (bpy).

Cycles renders on a GPU when Blender finds one (OptiX, CUDA, HIP, oneAPI, Metal) and says so when it falls
back to the CPU; Eevee and Workbench are there for quick previews.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from pipeline.blender.importers import captured_output
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path
from pipeline.core.progress import progress_wanted

ENGINES = {"cycles": "CYCLES", "eevee": "BLENDER_EEVEE", "workbench": "BLENDER_WORKBENCH"}
GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")
STUDIO_COLLECTION = "TryOn Studio"


def configure_device(scene: bpy.types.Scene, device: str = "auto", log=sys.stderr) -> str:
    """Point Cycles at a GPU when asked/available; returns 'GPU (<backend>)' or 'CPU', saying why on fallback."""
    scene.cycles.device = "CPU"
    if device == "cpu":
        return "CPU"
    prefs = bpy.context.preferences.addons["cycles"].preferences
    backends = [b.identifier for b in prefs.bl_rna.properties["compute_device_type"].enum_items]
    for backend in (b for b in GPU_BACKENDS if b in backends):
        try:
            with captured_output():  # "CUEW initialization failed" and the like on machines without a GPU
                prefs.compute_device_type = backend
                prefs.refresh_devices()
        except (TypeError, RuntimeError):
            continue
        gpus = [d for d in prefs.devices if d.type == backend]
        if gpus:
            for d in prefs.devices:
                d.use = d.type == backend
            scene.cycles.device = "GPU"
            return f"GPU ({backend}: {gpus[0].name})"
    prefs.compute_device_type = "NONE"
    if device == "gpu" or (device == "auto" and progress_wanted(log)):  # asked for, or progress is shown
        log.write("note: no GPU available to Cycles, rendering on the CPU\n")
    return "CPU"


def configure_render(
    scene: bpy.types.Scene,
    width: int = 1080,
    height: int = 1350,
    engine: str = "cycles",
    samples: int = 64,
    denoise: bool = True,
    device: str = "auto",
) -> str:
    """Resolution, engine, samples and colour management for a catalog still; returns the device used."""
    if engine not in ENGINES:
        raise UserError(f"--engine must be one of {', '.join(ENGINES)}, not '{engine}'")
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise UserError(f"image size {width}x{height} is outside 16..8192 pixels")
    if samples < 1:
        raise UserError(f"--samples must be at least 1, not {samples}")
    r = scene.render
    r.engine = ENGINES[engine]
    r.resolution_x, r.resolution_y, r.resolution_percentage = width, height, 100
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGB"
    r.film_transparent = False
    scene.view_settings.view_transform = (
        "AgX"  # filmic highlights; the contrast look keeps garment colours rich
    )
    scene.view_settings.look = "AgX - Medium High Contrast"
    scene.view_settings.exposure = -0.4
    used = "CPU"
    if engine == "cycles":
        used = configure_device(scene, device)
        scene.cycles.samples = samples
        scene.cycles.use_adaptive_sampling = True
        with (
            captured_output()
        ):  # the denoiser choice probes devices: "CUEW initialization failed" without a GPU
            scene.cycles.use_denoising = denoise
            if denoise:
                scene.cycles.denoiser = "OPENIMAGEDENOISE"
        scene.cycles.max_bounces = 6
        scene.cycles.use_fast_gi = False
    elif engine == "eevee":
        scene.eevee.taa_render_samples = samples
    else:
        scene.display.shading.light = "STUDIO"
        scene.display.shading.color_type = "MATERIAL"
        scene.display.render_aa = "8" if samples >= 8 else "OFF"
    return used


def _collection(scene: bpy.types.Scene) -> bpy.types.Collection:
    coll = bpy.data.collections.get(STUDIO_COLLECTION)
    if coll is None:
        coll = bpy.data.collections.new(STUDIO_COLLECTION)
        scene.collection.children.link(coll)
    return coll


def world_bounds(objects: Iterable[bpy.types.Object]) -> tuple[np.ndarray, np.ndarray]:
    """Min and max corners (world space, evaluated with modifiers) of the objects' meshes."""
    deps = bpy.context.evaluated_depsgraph_get()
    pts = []
    for obj in objects:
        ev = obj.evaluated_get(deps)
        pts += [ev.matrix_world @ Vector(c) for c in ev.bound_box]
    if not pts:
        raise UserError("nothing to frame: the scene has no subject objects")
    arr = np.array([tuple(p) for p in pts])
    return arr.min(axis=0), arr.max(axis=0)


def _backdrop_material() -> bpy.types.Material:
    mat = bpy.data.materials.get("TryOn Backdrop") or bpy.data.materials.new("TryOn Backdrop")
    if not mat.node_tree:  # Blender < 5.0 creates materials without nodes
        mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (0.45, 0.46, 0.48, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.85
    mat.diffuse_color = (0.45, 0.46, 0.48, 1.0)
    return mat


def _add_backdrop(coll: bpy.types.Collection, center_xy: np.ndarray, depth_m: float) -> bpy.types.Object:
    """A seamless cyclorama: floor that curves up into a wall behind the subject."""
    mesh = bpy.data.meshes.new("TryOn Backdrop")
    width, floor_front, wall_y, wall_h, radius, n = 12.0, 6.0, depth_m, 8.0, 1.5, 16
    profile = [(-floor_front, 0.0), (wall_y - radius, 0.0)]
    for i in range(1, n):
        a = (i / n) * (math.pi / 2)
        profile.append((wall_y - radius + radius * math.sin(a), radius - radius * math.cos(a)))
    profile += [(wall_y, radius), (wall_y, wall_h)]
    verts = [(x, y, z) for (y, z) in profile for x in (-width / 2, width / 2)]
    faces = [(2 * i, 2 * i + 1, 2 * i + 3, 2 * i + 2) for i in range(len(profile) - 1)]
    mesh.from_pydata(verts, [], faces)
    mesh.shade_smooth()
    obj = bpy.data.objects.new("TryOn Backdrop", mesh)
    obj.location = (float(center_xy[0]), float(center_xy[1]), 0.0)
    obj.data.materials.append(_backdrop_material())
    coll.objects.link(obj)
    return obj


def _add_area_light(coll, name: str, location, target, energy_w: float, size_m: float, color=(1, 1, 1)):
    data = bpy.data.lights.new(name, type="AREA")
    data.energy, data.size, data.color = energy_w, size_m, color
    data.shape = "DISK"
    obj = bpy.data.objects.new(name, data)
    obj.location = location
    direction = Vector(target) - Vector(location)
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    coll.objects.link(obj)
    return obj


VIEW_YAW_DEG = {"front": 0.0, "three-quarter": 35.0, "side": 90.0, "back": 180.0}


def _view_yaw(view: str) -> float:
    if view not in VIEW_YAW_DEG:
        raise UserError(f"view must be front, three-quarter, side or back, not '{view}'")
    return VIEW_YAW_DEG[view]


def build_studio(
    scene: bpy.types.Scene,
    subjects: list[bpy.types.Object],
    view: str = "front",
    margin: float = 0.06,
    focal_mm: float = 70.0,
) -> bpy.types.Object:
    """Backdrop, three soft area lights and a camera framing the whole figure; returns the camera.
    The whole studio turns with the view, so the backdrop is always behind the figure as the camera sees it."""
    yaw = math.radians(_view_yaw(view))
    old = bpy.data.collections.get(STUDIO_COLLECTION)
    if old is not None:
        for obj in list(old.objects):
            bpy.data.objects.remove(obj, do_unlink=True)
    coll = _collection(scene)
    lo, hi = world_bounds(subjects)
    center = (lo + hi) / 2
    height = float(hi[2] - max(lo[2], 0.0))
    backdrop = _add_backdrop(coll, center[:2], depth_m=max(1.2, 0.5 * float(max(hi[:2] - lo[:2])) + 1.0))
    backdrop.rotation_euler = (0.0, 0.0, yaw)
    tgt = (float(center[0]), float(center[1]), 0.55 * height)
    h = height
    cos_y, sin_y = math.cos(yaw), math.sin(yaw)

    def around(dx: float, dy: float, z: float) -> tuple[float, float, float]:
        """A studio position given for the front view, turned with the camera about the figure."""
        return (center[0] + dx * cos_y - dy * sin_y, center[1] + dx * sin_y + dy * cos_y, z)

    _add_area_light(coll, "Key", around(-1.8, -2.6, 1.25 * h), tgt, 140.0 * h, 2.0, (1.0, 0.97, 0.93))
    _add_area_light(coll, "Fill", around(2.4, -2.0, 0.8 * h), tgt, 45.0 * h, 3.0, (0.93, 0.96, 1.0))
    _add_area_light(coll, "Rim", around(0.9, 2.2, 1.3 * h), tgt, 110.0 * h, 1.5)
    world = scene.world or bpy.data.worlds.new("TryOn World")
    scene.world = world
    if not world.node_tree:
        world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.55, 0.56, 0.58, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.15
    return frame_camera(scene, subjects, view=view, margin=margin, focal_mm=focal_mm, collection=coll)


def frame_camera(
    scene: bpy.types.Scene,
    subjects: list[bpy.types.Object],
    view: str = "front",
    margin: float = 0.06,
    focal_mm: float = 70.0,
    collection: bpy.types.Collection | None = None,
) -> bpy.types.Object:
    """Place a camera so the subjects' bounds fill the frame with `margin` (a fraction of the frame) to spare."""
    yaw = _view_yaw(view)
    lo, hi = world_bounds(subjects)
    center = (lo + hi) / 2
    size = hi - lo
    cam_data = bpy.data.cameras.get("TryOn Camera") or bpy.data.cameras.new("TryOn Camera")
    cam_data.lens, cam_data.sensor_fit = focal_mm, "AUTO"
    cam = bpy.data.objects.get("TryOn Camera") or bpy.data.objects.new("TryOn Camera", cam_data)
    if cam.name not in (collection or scene.collection).objects:
        (collection or scene.collection).objects.link(cam)
    aspect = scene.render.resolution_x / scene.render.resolution_y
    half_fov = math.atan(cam_data.sensor_width / 2 / focal_mm)  # AUTO fit: the sensor spans the longer side
    tan_w, tan_h = (
        (math.tan(half_fov), math.tan(half_fov) / aspect)
        if aspect >= 1
        else (math.tan(half_fov) * aspect, math.tan(half_fov))
    )
    usable = 1.0 - 2 * margin
    half_w = 0.5 * max(size[0], size[1]) / usable
    half_h = 0.5 * size[2] / usable
    dist = max(half_w / tan_w, half_h / tan_h) + 0.5 * max(size[0], size[1])
    a = math.radians(yaw)
    direction = Vector((math.sin(a), -math.cos(a), 0.0))
    target = Vector((float(center[0]), float(center[1]), float(center[2])))
    cam.location = target + direction * dist
    cam.rotation_euler = (target - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = cam
    return cam


def render_still(scene: bpy.types.Scene, out_png: str | Path) -> Path:
    """Render the scene's camera to `out_png` atomically."""
    if scene.camera is None:
        raise UserError("the scene has no camera to render from")
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        scene.render.filepath = str(tmp)
        with captured_output():  # Cycles' "Fra:1 ..." status lines and "Saved: ..." stay off stdout
            bpy.ops.render.render(write_still=True, scene=scene.name)
    return out_png


def subject_objects(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    """The visible mesh objects a still should frame: everything but the studio's own objects."""
    studio = bpy.data.collections.get(STUDIO_COLLECTION)
    skip = set(studio.objects) if studio else set()
    return [o for o in scene.objects if o.type == "MESH" and o not in skip and o.visible_get()]


def render_scene_still(
    scene: bpy.types.Scene,
    out_png: str | Path,
    width: int = 1080,
    height: int = 1350,
    engine: str = "cycles",
    samples: int = 64,
    device: str = "auto",
    view: str = "front",
    denoise: bool = True,
) -> dict:
    """Light and frame the scene's subjects, render a still to `out_png`; the CLI and the panel call this."""
    import time

    subjects = subject_objects(scene)
    used = configure_render(scene, width, height, engine, samples, denoise, device)
    build_studio(scene, subjects, view=view)
    t0 = time.perf_counter()
    render_still(scene, out_png)
    return {
        "png": str(out_png),
        "engine": engine,
        "device": used,
        "samples": samples,
        "size": [width, height],
        "render_s": round(time.perf_counter() - t0, 2),
    }

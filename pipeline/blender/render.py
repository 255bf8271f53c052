"""Studio, looks, camera framing and render settings for product try-on stills (bpy).

Looks (vocab.LOOKS): `studio` is a grey cyclorama with three area lights and the AgX view transform; `white`
is the marketplace main image: pure white background (RGB 255, composited over white after a transparent
render), a soft contact shadow from a shadow-catcher floor, Standard view transform for true colour, the
product filling 90 % of the frame height; `ghost` is the invisible mannequin: the body hidden from every ray,
the garment's inside showing at the neck and cuffs, on white.

Cycles renders on a GPU when Blender finds one (OptiX, CUDA, HIP, oneAPI, Metal) and says so when it falls
back to the CPU; Eevee and Workbench are there for quick previews.
"""

from __future__ import annotations

import contextlib
import math
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from pipeline.blender.importers import captured_output
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path
from pipeline.core.look.colour import colour_label, parse_colour
from pipeline.core.look.frames import FILL_BY_LOOK, frame_size, over_white, reframe_step
from pipeline.core.progress import ProgressCallback, RenderProgress, progress_wanted, silent
from pipeline.core.quiet import silenced_fds
from pipeline.core.vocab import LOOKS

ENGINES = {"cycles": "CYCLES", "eevee": "BLENDER_EEVEE", "workbench": "BLENDER_WORKBENCH"}
GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")
STUDIO_COLLECTION = "TryOn Studio"
HIGH_KEY = 0.35  # light scale of the white and ghost looks (Standard view transform, exposure 0)
WHITE = (1.0, 1.0, 1.0)


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
    look: str = "studio",
) -> str:
    """Resolution, engine, samples and colour management for a catalog still; returns the device used.
    The studio look uses AgX (filmic highlights); white and ghost render transparent with the Standard view
    transform, which reproduces sRGB colours (bench/bench_colour.py), for compositing over pure white."""
    check_look(look)
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
    r.film_transparent = look != "studio"
    r.dither_intensity = 0.0 if look != "studio" else 1.0  # dither noise would break the exact white
    if look == "studio":
        scene.view_settings.view_transform = "AgX"  # filmic highlights; the contrast look keeps colours rich
        scene.view_settings.look = "AgX - Medium High Contrast"
        scene.view_settings.exposure = -0.4
    else:
        scene.view_settings.view_transform = "Standard"
        scene.view_settings.look = "None"
        scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
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
    obj.visible_camera = False  # a lamp seen by the camera would mark the white background
    obj.location = location
    direction = Vector(target) - Vector(location)
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    coll.objects.link(obj)
    return obj


def check_look(look: str) -> None:
    if look not in LOOKS:
        raise UserError(f"--look must be one of {', '.join(LOOKS)}, not {look!r}")


def _add_shadow_catcher(
    coll: bpy.types.Collection, center: np.ndarray, floor_z: float, radius_m: float
) -> bpy.types.Object:
    """A floor that only catches shadows (Cycles): the white look's soft contact shadow. It spans `radius_m`
    around the figure only, so no render noise far from the feet can mark the white background."""
    mesh = bpy.data.meshes.new("TryOn Shadow Catcher")
    r = radius_m
    mesh.from_pydata([(-r, -r, 0), (r, -r, 0), (r, r, 0), (-r, r, 0)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("TryOn Shadow Catcher", mesh)
    obj.location = (float(center[0]), float(center[1]), floor_z)
    obj.is_shadow_catcher = True
    coll.objects.link(obj)
    return obj


def _exclude_from_lights(receiver: bpy.types.Object, lights: list[bpy.types.Object]) -> None:
    """Light linking (Cycles): `receiver` gets no light from `lights`; everything else still does."""
    name = "TryOn No Key Light"
    coll = bpy.data.collections.get(name) or bpy.data.collections.new(name)
    for obj in list(coll.objects):
        coll.objects.unlink(obj)
    coll.objects.link(receiver)
    coll.collection_objects[0].light_linking.link_state = "EXCLUDE"
    for light in lights:
        light.light_linking.receiver_collection = coll


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
    look: str = "studio",
    lit: list[bpy.types.Object] | None = None,
) -> bpy.types.Object:
    """Backdrop, three soft area lights and a camera framing the whole figure; returns the camera.
    `lit` (default: the subjects) sizes and places the lights: the ghost look frames the garment alone but keeps
    the lighting of the whole figure, so a colorway looks the same in every look.
    The whole studio turns with the view, so the backdrop is always behind the figure as the camera sees it.
    The white look swaps the backdrop for a shadow-catcher floor and a brighter world; ghost has no floor."""
    check_look(look)
    yaw = math.radians(_view_yaw(view))
    old = bpy.data.collections.get(STUDIO_COLLECTION)
    if old is not None:
        for obj in list(old.objects):
            bpy.data.objects.remove(obj, do_unlink=True)
    coll = _collection(scene)
    lo, hi = world_bounds(lit or subjects)
    center = (lo + hi) / 2
    height = float(hi[2] - max(lo[2], 0.0))
    if look == "studio":
        backdrop = _add_backdrop(coll, center[:2], depth_m=max(1.2, 0.5 * float(max(hi[:2] - lo[:2])) + 1.0))
        backdrop.rotation_euler = (0.0, 0.0, yaw)
    catcher = None
    if look == "white" and scene.render.engine == "CYCLES":  # only Cycles has shadow catchers
        catcher = _add_shadow_catcher(coll, center, float(lo[2]), radius_m=0.4 * height)
    tgt = (float(center[0]), float(center[1]), 0.55 * height)
    h = height
    cos_y, sin_y = math.cos(yaw), math.sin(yaw)

    def around(dx: float, dy: float, z: float) -> tuple[float, float, float]:
        """A studio position given for the front view, turned with the camera about the figure."""
        return (center[0] + dx * cos_y - dy * sin_y, center[1] + dx * sin_y + dy * cos_y, z)

    # Studio: warm key, cool fill, under AgX. White and ghost: neutral lights, dimmer for the Standard view
    # transform (no highlight roll-off), so a white mannequin keeps its shading against the white background.
    k, warm, cool = (
        (1.0, (1.0, 0.97, 0.93), (0.93, 0.96, 1.0)) if look == "studio" else (HIGH_KEY, WHITE, WHITE)
    )
    _add_area_light(coll, "Key", around(-1.8, -2.6, 1.25 * h), tgt, k * 140.0 * h, 2.0, warm)
    _add_area_light(coll, "Fill", around(2.4, -2.0, 0.8 * h), tgt, k * 45.0 * h, 3.0, cool)
    rim = _add_area_light(coll, "Rim", around(0.9, 2.2, 1.3 * h), tgt, k * 110.0 * h, 1.5)
    rim.data.use_shadow = look == "studio"  # on white its shadow would fall towards the camera, off the feet
    if (
        catcher is not None
    ):  # the floor takes only the world's light: a soft contact shadow, no long cast shadows
        _exclude_from_lights(catcher, [o for o in coll.objects if o.type == "LIGHT"])
    world = scene.world or bpy.data.worlds.new("TryOn World")
    scene.world = world
    if not world.node_tree:
        world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    if look == "studio":
        background.inputs["Color"].default_value = (0.55, 0.56, 0.58, 1.0)
        background.inputs["Strength"].default_value = 0.15
    else:  # high key: a white world lifts the shadows the way a white cove does
        background.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
        background.inputs["Strength"].default_value = 0.35
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


def render_still(
    scene: bpy.types.Scene, out_png: str | Path, on_white: bool = False, progress: ProgressCallback = silent
) -> Path:
    """Render the scene's camera to `out_png` atomically, reporting samples with an ETA through `progress`.
    `on_white`: the render is transparent; it is composited over pure white (core.look.frames.over_white)."""
    if scene.camera is None:
        raise UserError("the scene has no camera to render from")
    out_png = Path(out_png)
    with _reporting(progress):
        if not on_white:
            with atomic_path(out_png) as tmp:
                scene.render.filepath = str(tmp)
                _render(scene)
            return out_png
        with tempfile.TemporaryDirectory(prefix="tryon-render-") as tmp_dir:
            rgba_png = Path(tmp_dir) / "rgba.png"
            scene.render.image_settings.color_mode = "RGBA"
            scene.render.filepath = str(rgba_png)
            try:
                _render(scene)
            finally:
                scene.render.image_settings.color_mode = "RGB"
            rgba = _read_png(rgba_png)
    _write_png(over_white(rgba), out_png)
    return out_png


def _render(scene: bpy.types.Scene) -> None:
    """Render the still. Cycles' "Fra:1 ..." status lines and "Saved: ..." (stdout) stay off the output; stderr
    is left alone, since the render's progress goes there."""
    with silenced_fds((1,)):
        bpy.ops.render.render(write_still=True, scene=scene.name)


@contextlib.contextmanager
def _reporting(progress: ProgressCallback):
    """Feed the render's stats lines (samples, tiles) to `progress` while it renders."""
    if progress is silent:
        yield
        return
    report = RenderProgress(progress)

    def handler(stats, *_args) -> None:
        report(str(stats))

    bpy.app.handlers.render_stats.append(handler)
    try:
        yield
    finally:
        bpy.app.handlers.render_stats.remove(handler)


def _read_png(path: Path) -> np.ndarray:
    """An 8-bit PNG as (H, W, 4) floats, top row first, sRGB-encoded straight alpha as Blender wrote it."""
    image = bpy.data.images.load(str(path))
    try:
        w, h = image.size
        px = np.empty(w * h * 4, dtype=np.float32)
        image.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(image)
    return px.reshape(h, w, 4)[::-1]


def _write_png(rgb: np.ndarray, path: Path) -> None:
    """Write (H, W, 3) sRGB floats, top row first, as an 8-bit RGB PNG atomically."""
    h, w, _ = rgb.shape
    image = bpy.data.images.new("TryOn Still", w, h, alpha=False)
    try:
        rgba = np.concatenate([rgb[::-1], np.ones((h, w, 1))], axis=-1).astype(np.float32)
        image.pixels.foreach_set(rgba.ravel())
        with atomic_path(path) as tmp:
            image.filepath_raw = str(tmp)
            image.file_format = "PNG"
            image.save()
    finally:
        bpy.data.images.remove(image)


def projected_extent(scene: bpy.types.Scene, objects: list[bpy.types.Object]) -> np.ndarray:
    """The objects' evaluated vertices in camera-view coordinates (x, y in 0..1 across the frame, bottom-left
    origin), as `bpy_extras.object_utils.world_to_camera_view` gives them; (N, 2)."""
    deps = bpy.context.evaluated_depsgraph_get()
    cam = scene.camera
    r = scene.render
    proj = np.array(cam.calc_matrix_camera(deps, x=r.resolution_x, y=r.resolution_y))
    view = np.array(cam.matrix_world.inverted())
    pts = []
    for obj in objects:
        ev = obj.evaluated_get(deps)
        me = ev.to_mesh()
        try:
            co = np.empty(len(me.vertices) * 3, dtype=np.float32)
            me.vertices.foreach_get("co", co)
        finally:
            ev.to_mesh_clear()
        co = co.reshape(-1, 3)
        pts.append(co @ np.array(ev.matrix_world)[:3, :3].T + np.array(ev.matrix_world)[:3, 3])
    world = np.concatenate(pts)
    clip = np.c_[world, np.ones(len(world))] @ (proj @ view).T
    return (clip[:, :2] / clip[:, 3:4] + 1.0) / 2.0


def reframe(scene: bpy.types.Scene, subjects: list[bpy.types.Object], fill: float, steps: int = 3) -> float:
    """Move the (level) camera until the subjects fill `fill` of the frame height, centred; returns the share
    of the frame height they fill, measured on the projected mesh."""
    cam = scene.camera
    lo, hi = world_bounds(subjects)
    height_m = float(hi[2] - lo[2])
    centre = Vector(((lo + hi) / 2).tolist())
    for _ in range(steps):
        xy = projected_extent(scene, subjects)
        scale, offset = reframe_step(
            (float(xy[:, 1].min()), float(xy[:, 1].max())),
            (float(xy[:, 0].min()), float(xy[:, 0].max())),
            fill,
        )
        forward = cam.matrix_world.to_quaternion() @ Vector((0.0, 0.0, -1.0))
        depth = (centre - cam.location).dot(forward)
        cam.location = cam.location - forward * depth * (scale - 1.0) + Vector((0.0, 0.0, offset * height_m))
        bpy.context.view_layer.update()
    y = projected_extent(scene, subjects)[:, 1]
    return round(float(min(y.max(), 1.0) - max(y.min(), 0.0)), 4)


@contextlib.contextmanager
def _hidden_from_rays(objects: list[bpy.types.Object]):
    """Hide objects from the camera and every other ray (the ghost look's body), restoring them afterwards."""
    flags = ("visible_camera", "visible_diffuse", "visible_glossy", "visible_transmission", "visible_shadow")
    saved = [(obj, {f: getattr(obj, f) for f in flags}, obj.hide_render) for obj in objects]
    for obj in objects:
        for f in flags:
            setattr(obj, f, False)
        obj.hide_render = True  # Eevee and Workbench ignore the ray flags
    try:
        yield
    finally:
        for obj, values, hide in saved:
            for f, v in values.items():
                setattr(obj, f, v)
            obj.hide_render = hide


def subject_objects(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    """The visible mesh objects a still should frame: everything but the studio's own objects."""
    studio = bpy.data.collections.get(STUDIO_COLLECTION)
    skip = set(studio.objects) if studio else set()
    return [o for o in scene.objects if o.type == "MESH" and o not in skip and o.visible_get()]


def garment_objects(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    return [o for o in scene.objects if o.get("tryon_role") == "garment"]


def dress_garments(scene: bpy.types.Scene, fabric: str | None = None, color: str | None = None) -> dict:
    """Give every garment in the scene its fabric material and thickness, in the colorway `color` if given."""
    from pipeline.blender.materials import apply_fabric

    colour = parse_colour(color) if color else None
    label = colour_label(color) if color else ""
    garments = garment_objects(scene)
    for obj in garments:
        apply_fabric(obj, fabric, colour, label)
    return {"fabrics": sorted({str(o.get("tryon_fabric")) for o in garments}), "color": color}


def render_scene_still(
    scene: bpy.types.Scene,
    out_png: str | Path,
    width: int | None = None,
    height: int | None = None,
    engine: str = "cycles",
    samples: int = 64,
    device: str = "auto",
    view: str = "front",
    denoise: bool = True,
    look: str = "studio",
    color: str | None = None,
    frame: str | None = None,
    fabric: str | None = None,
    progress: ProgressCallback = silent,
) -> dict:
    """Dress the garments in their fabric (and colorway), light and frame the subjects for `look`, render a
    still to `out_png`; the CLI and the panel call this. `frame` (4:5, 1:1.44, square) sets the size unless
    width/height are given."""
    import time

    check_look(look)
    width, height = frame_size(frame, width, height)
    dressed = dress_garments(scene, fabric, color)
    subjects = subject_objects(scene)
    hidden = [o for o in subjects if o.get("tryon_role") == "avatar"] if look == "ghost" else []
    framed = [o for o in subjects if o not in hidden]
    if not framed:
        raise UserError("nothing to render: the ghost look needs a garment in the scene")
    used = configure_render(scene, width, height, engine, samples, denoise, device, look)
    with _hidden_from_rays(hidden):
        build_studio(scene, framed, view=view, look=look, lit=subjects)
        fill = reframe(scene, framed, FILL_BY_LOOK[look])
        t0 = time.perf_counter()
        render_still(scene, out_png, on_white=look != "studio", progress=progress)
    return {
        "png": str(out_png),
        "engine": engine,
        "device": used,
        "samples": samples,
        "size": [width, height],
        "look": look,
        "frame": frame,
        **dressed,
        "fill_height": fill,
        "render_s": round(time.perf_counter() - t0, 2),
    }

"""A quick still of a garment on its own (Workbench with textures, or Cycles at a few samples), for checking
a clean-up by eye. Builds a throw-away scene and removes it afterwards."""

from __future__ import annotations

import math
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from pipeline.blender.importers import garment_to_object
from pipeline.core.files import atomic_path
from pipeline.core.garment.mesh import GarmentMesh


def render_garment_preview(
    mesh: GarmentMesh,
    png: str | Path,
    size: tuple[int, int] = (200, 240),
    engine: str = "WORKBENCH",
    samples: int = 8,
) -> Path:
    """Render `mesh` from the front-left (camera looking at +Y, i.e. at the garment's front) to `png`."""
    previous = bpy.context.window.scene if bpy.context.window else bpy.context.scene
    scene = bpy.data.scenes.new("GarmentPreview")
    obj = garment_to_object(mesh, "PreviewGarment", collection=scene.collection)
    lo, hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    centre, extent = Vector((lo + hi) / 2), float(np.linalg.norm(hi - lo))
    cam = bpy.data.objects.new("PreviewCam", bpy.data.cameras.new("PreviewCam"))
    scene.collection.objects.link(cam)
    direction = Vector((math.sin(math.radians(-25)), -math.cos(math.radians(25)), 0.25)).normalized()
    cam.location = centre + direction * extent * 1.9
    cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
    cam.data.lens = 50
    scene.camera = cam
    sun = bpy.data.objects.new("PreviewSun", bpy.data.lights.new("PreviewSun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(50), 0, math.radians(-30))
    scene.collection.objects.link(sun)
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.engine = "BLENDER_WORKBENCH" if engine.upper() == "WORKBENCH" else "CYCLES"
    if scene.render.engine == "BLENDER_WORKBENCH":
        scene.display.shading.light = "STUDIO"
        scene.display.shading.color_type = (
            "TEXTURE" if mesh.texture_path else ("VERTEX" if mesh.vertex_colors is not None else "MATERIAL")
        )
    else:
        scene.cycles.samples = samples
        scene.cycles.device = "CPU"
        world = bpy.data.worlds.new("PreviewWorld")
        world.color = (0.6, 0.6, 0.6)
        scene.world = world
    png = Path(png)
    try:
        with atomic_path(png) as tmp:
            scene.render.filepath = str(tmp)
            bpy.ops.render.render(write_still=True, scene=scene.name)
    finally:
        for o in (obj, cam, sun):
            data = o.data
            bpy.data.objects.remove(o)
            if data.users == 0:
                bpy.data.batch_remove([data])
        if scene.world is not None and scene.world.users <= 1:
            bpy.data.worlds.remove(scene.world)
        bpy.data.scenes.remove(scene)
        if bpy.context.window and previous:
            bpy.context.window.scene = previous
    return png

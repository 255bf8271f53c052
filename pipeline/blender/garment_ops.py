"""Blender-side garment steps: decimation with Blender's quadric collapse (UVs and colours interpolated, UV
seams kept), UV unwrapping plus baking vertex colours into a texture, and export to GLB/OBJ/.blend."""

from __future__ import annotations

import contextlib
from pathlib import Path

import bpy
import numpy as np

from pipeline.blender.importers import captured_output, garment_to_object, object_to_garment
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path
from pipeline.core.garment.mesh import GarmentMesh

EXPORT_SUFFIXES = (".glb", ".gltf", ".obj", ".blend")


@contextlib.contextmanager
def temporary_object(mesh: GarmentMesh, name: str = "TryOnGarmentTmp"):
    """A garment object in the current scene that is removed (with its mesh and material) afterwards."""
    obj = garment_to_object(mesh, name)
    try:
        yield obj
    finally:
        remove_object(obj)


def remove_object(obj) -> None:
    """Delete `obj`, its mesh and its materials (images stay: they may be shared)."""
    me = obj.data
    mats = [m for m in me.materials if m is not None]
    bpy.data.objects.remove(obj)
    if me.users == 0:
        bpy.data.meshes.remove(me)
    for mat in mats:
        if mat.users == 0:
            bpy.data.materials.remove(mat)


def decimate(mesh: GarmentMesh, target_faces: int) -> tuple[GarmentMesh, dict]:
    """Collapse edges (Blender's quadric decimation) down to about `target_faces` triangles."""
    before = len(mesh.faces)
    if before <= target_faces:
        return mesh, {"faces_before": before, "faces_after": before, "skipped": "already within the budget"}
    with temporary_object(mesh) as obj:
        mod = obj.modifiers.new("Decimate", "DECIMATE")
        mod.decimate_type = "COLLAPSE"
        mod.ratio = target_faces / before
        mod.use_collapse_triangulate = True
        out = object_to_garment(obj)
    out.name, out.texture_path, out.base_color = mesh.name, mesh.texture_path, mesh.base_color
    return out, {
        "faces_before": before,
        "faces_after": len(out.faces),
        "ratio": round(target_faces / before, 6),
    }


def bake_vertex_colors(
    mesh: GarmentMesh, image_path: str | Path, size: int = 1024
) -> tuple[GarmentMesh, dict]:
    """Give a UV-less mesh with vertex colours UVs (smart projection) and bake its colours into a PNG."""
    image_path = Path(image_path)
    with temporary_object(mesh) as obj:
        # Unwrap a smoothed copy of the surface: scan noise would cut it into thousands of tiny islands.
        obj.data.vertices.foreach_set("co", laplacian_smooth(mesh, 8).astype(np.float32).ravel())
        _smart_uv_project(obj)
        obj.data.vertices.foreach_set("co", mesh.vertices.astype(np.float32).ravel())
        obj.data.update()
        image = bpy.data.images.new(image_path.stem, size, size, alpha=False)
        try:
            with captured_output():
                _bake_emission(obj, image)
            with atomic_path(image_path) as tmp:
                image.filepath_raw = str(tmp)
                image.file_format = "PNG"
                image.save()
        finally:
            bpy.data.images.remove(image)
        out = object_to_garment(obj)
    out.name, out.base_color = mesh.name, (1.0, 1.0, 1.0, 1.0)
    out.texture_path = str(image_path)
    return out, {"texture": image_path.name, "size_px": size, "uv_islands_method": "smart_project"}


def laplacian_smooth(mesh: GarmentMesh, iterations: int) -> np.ndarray:
    """Vertex positions after `iterations` rounds of moving each vertex halfway to its neighbours' mean."""
    f = mesh.faces
    a = np.r_[f[:, 0], f[:, 1], f[:, 2]]
    b = np.r_[f[:, 1], f[:, 2], f[:, 0]]
    src, dst = np.r_[a, b], np.r_[b, a]
    n = len(mesh.vertices)
    degree = np.maximum(np.bincount(src, minlength=n), 1)[:, None]
    v = mesh.vertices.copy()
    for _ in range(iterations):
        mean = np.stack([np.bincount(src, weights=v[dst, c], minlength=n) for c in range(3)], 1) / degree
        v = 0.5 * v + 0.5 * mean
    return v


def _smart_uv_project(obj) -> None:
    view_layer = bpy.context.view_layer
    previous = view_layer.objects.active
    view_layer.update()
    for o in view_layer.objects:
        if o is not None:
            o.select_set(False)
    obj.select_set(True)
    view_layer.objects.active = obj
    try:
        bpy.ops.object.mode_set(mode="EDIT")
        bpy.ops.mesh.select_all(action="SELECT")
        bpy.ops.uv.smart_project(angle_limit=1.5, island_margin=0.004)
        bpy.ops.object.mode_set(mode="OBJECT")
    finally:
        view_layer.objects.active = previous


def _bake_emission(obj, image) -> None:
    """Bake the colour attribute through an Emission shader into `image` with Cycles (1 sample)."""
    scene = bpy.context.scene
    mat = obj.data.materials[0]
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    col = nodes.new("ShaderNodeVertexColor")
    col.layer_name = "Col"
    emit = nodes.new("ShaderNodeEmission")
    out = next(n for n in nodes if n.type == "OUTPUT_MATERIAL")
    links.new(col.outputs["Color"], emit.inputs["Color"])
    old_surface = out.inputs["Surface"].links[0].from_socket if out.inputs["Surface"].links else None
    links.new(emit.outputs["Emission"], out.inputs["Surface"])
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    nodes.active = tex
    saved = (scene.render.engine, scene.cycles.samples, scene.cycles.device)
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 1
    scene.cycles.device = "CPU"
    view_layer = bpy.context.view_layer
    view_layer.objects.active = obj
    obj.select_set(True)
    try:
        bpy.ops.object.bake(type="EMIT", margin=4, use_clear=True)
    finally:
        scene.render.engine, scene.cycles.samples, scene.cycles.device = saved
        for n in (col, emit, tex):
            nodes.remove(n)
        if old_surface is not None:
            links.new(old_surface, out.inputs["Surface"])


def export_garment(mesh: GarmentMesh, path: str | Path) -> Path:
    """Write the garment as .glb/.gltf (texture embedded), .obj (+ .mtl and texture copied) or .blend (packed)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UserError(f"--out {path.name}: expected a .glb, .gltf, .obj or .blend file name")
    with temporary_object(mesh, mesh.name or "Garment") as obj:
        if suffix == ".blend":
            _write_blend(obj, path)
            return path
        with _only_selected(obj), atomic_path(path) as tmp, captured_output():
            if suffix in (".glb", ".gltf"):
                bpy.ops.export_scene.gltf(
                    filepath=str(tmp),
                    export_format="GLB" if suffix == ".glb" else "GLTF_EMBEDDED",
                    use_selection=True,
                    export_apply=True,
                    export_vertex_color="NONE" if mesh.texture_path else "MATERIAL",
                )
            else:
                bpy.ops.wm.obj_export(
                    filepath=str(tmp),
                    export_selected_objects=True,
                    export_colors=mesh.vertex_colors is not None,
                    export_uv=True,
                    export_materials=True,
                    path_mode="COPY",
                )
        if suffix == ".obj":
            _fix_mtl_name(path)
    return path


def _fix_mtl_name(path: Path) -> None:
    """The OBJ was written under a temporary name: rename its .mtl and the `mtllib` line to match."""
    for mtl in path.parent.glob(f".{path.stem}.*.mtl"):
        text = path.read_text()
        path.write_text(text.replace(f"mtllib {mtl.name}", f"mtllib {path.with_suffix('.mtl').name}"))
        mtl.replace(path.with_suffix(".mtl"))


@contextlib.contextmanager
def _only_selected(obj):
    view_layer = bpy.context.view_layer
    view_layer.update()
    selected = [o for o in view_layer.objects if o is not None and o.select_get()]
    active = view_layer.objects.active
    for o in selected:
        o.select_set(False)
    obj.select_set(True)
    view_layer.objects.active = obj
    try:
        yield
    finally:
        obj.select_set(False)
        for o in selected:
            if o.name in view_layer.objects:
                o.select_set(True)
        view_layer.objects.active = active


def _write_blend(obj, path: Path) -> None:
    """Write a .blend holding only the garment (in its own scene), with its texture packed."""
    scene = bpy.data.scenes.new("Garment")
    scene.collection.objects.link(obj)
    images = set()
    for mat in obj.data.materials:
        for node in mat.node_tree.nodes if mat and mat.node_tree else []:
            if node.type == "TEX_IMAGE" and node.image is not None:
                images.add(node.image)
    try:
        for img in images:
            if img.packed_file is None:
                img.pack()
        with atomic_path(path) as tmp:
            bpy.data.libraries.write(str(tmp), {scene}, fake_user=False, compress=True)
    finally:
        bpy.data.scenes.remove(scene)


def replace_object_mesh(obj, mesh: GarmentMesh) -> None:
    """Swap `obj`'s mesh data for `mesh` (world transform reset to identity), for the panel's Clean button."""
    new = garment_to_object(mesh, obj.name + "_tmp")
    old_data = obj.data
    obj.data = new.data
    obj.matrix_world = np.eye(4).tolist()
    obj.modifiers.clear()
    bpy.data.objects.remove(new)
    if old_data.users == 0:
        bpy.data.meshes.remove(old_data)

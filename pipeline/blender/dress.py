"""The fitted garment in Blender (bpy): a mesh bound to the avatar's armature (one vertex group per bone +
an Armature modifier, mesh data in the rig's rest pose, then a Shrinkwrap that only pushes out what a new
pose drove inside the body), with the fit map as a colour attribute."""

from __future__ import annotations

import bpy
import numpy as np

from pipeline.core.garment.mesh import GarmentMesh

FIT_MAP_LAYER = "FitMap"
PRESSURE_LAYER = "FitPressure"
LIMB_ATTRIBUTE = "tryon_limb"  # 0 torso, 1 arm.L, 2 arm.R, 3 leg.L, 4 leg.R (skinning.LIMB_NAMES)


def add_weights(obj: bpy.types.Object, weights: np.ndarray, bones: np.ndarray, bone_names: list[str]) -> None:
    """One vertex group per bone that carries weight, filled from (G, K) weights / bone indices."""
    for b in np.unique(bones[weights > 1e-4]):
        group = obj.vertex_groups.new(name=bone_names[int(b)])
        rows, cols = np.nonzero((bones == b) & (weights > 1e-4))
        for w in np.unique(np.round(weights[rows, cols], 4)):  # batch vertices sharing a weight
            sel = rows[np.round(weights[rows, cols], 4) == w]
            group.add(sel.tolist(), float(w), "REPLACE")


def add_fit_map(obj: bpy.types.Object, colors: np.ndarray, name: str = FIT_MAP_LAYER) -> None:
    """Per-vertex fit-map colours as a colour attribute (left inactive so the garment keeps its look)."""
    me = obj.data
    attr = me.color_attributes.get(name) or me.color_attributes.new(name, "FLOAT_COLOR", "POINT")
    attr.data.foreach_set("color_srgb", np.asarray(colors, dtype=np.float32).ravel())


def dress_avatar(
    avatar_obj: bpy.types.Object, body, garment: GarmentMesh, result, name: str = "Garment"
) -> bpy.types.Object:
    """Add `garment` fitted by `result` (a FitResult on `body`) to the scene, bound to the avatar's rig."""
    from pipeline.blender.importers import garment_to_object
    from pipeline.core.fit.skinning import unpose

    mesh = garment.copy()
    mesh.vertices = unpose(result.vertices, result.weights, result.weight_bones, body)
    obj = garment_to_object(mesh, name)
    add_weights(obj, result.weights, result.weight_bones, body.bone_names)
    add_fit_map(obj, result.fit_colors)
    from pipeline.core.fit.fitmap import pressure_colors

    add_fit_map(obj, pressure_colors(result.pressure), PRESSURE_LAYER)
    rig = avatar_obj.parent
    if rig is None:
        for mod in avatar_obj.modifiers:
            if mod.type == "ARMATURE" and mod.object is not None:
                rig = mod.object
    if rig is not None:
        obj.parent = rig
        mod = obj.modifiers.new("Armature", "ARMATURE")
        mod.object = rig
        mod.use_vertex_groups = True
    if result.limbs is not None:  # which limb each vertex wraps (sleeves, trouser legs): select by attribute
        attr = obj.data.attributes.new(LIMB_ATTRIBUTE, "INT", "POINT")
        attr.data.foreach_set("value", [int(v) for v in result.limbs])
    keep_outside(obj, avatar_obj)
    obj["tryon_role"] = "garment"
    obj["tryon_fit"] = __import__("json").dumps(result.stats)
    from pipeline.blender.materials import apply_fabric

    apply_fabric(obj, result.stats.get("fabric", "cotton-jersey"))  # its fabric's material and thickness
    bpy.context.view_layer.update()
    return obj


def keep_outside(obj: bpy.types.Object, avatar_obj: bpy.types.Object, offset_m: float = 0.002) -> None:
    """After skinning, push any vertex a new pose drove into the body back out (Shrinkwrap, outside only)."""
    mod = obj.modifiers.new("KeepOutside", "SHRINKWRAP")
    mod.target = avatar_obj
    mod.wrap_method = "NEAREST_SURFACEPOINT"
    mod.wrap_mode = "OUTSIDE"
    mod.offset = offset_m


def fit_map_material(name: str = "FitMapMaterial") -> bpy.types.Material:
    """A material that shows the fit-map colour attribute (for fit-map renders)."""
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    mat.use_nodes = True
    nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.type == "BSDF_PRINCIPLED")
    attr = nt.nodes.new("ShaderNodeVertexColor")
    attr.layer_name = FIT_MAP_LAYER
    nt.links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.8
    return mat

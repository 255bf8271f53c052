"""Fabric materials for garments (bpy): a Principled BSDF set from the fabric's look (core/look/fabric_look.py),
procedural weave/knit/satin/grain relief at true scale (object coordinates in metres, periods in mm), a slub
or heather mottle, a darker inside (back faces and the Solidify shell), and the cloth's thickness.

The base colour is the garment's texture (a scan's own texture is kept; with a colorway it is recoloured by
`core.look.colour.recolour`, keeping its detail), else its colour attribute, else a flat colour: the colorway,
the file's own colour, or the fabric's default, never white on the white mannequin."""

from __future__ import annotations

import contextlib
import math

import bpy
import numpy as np

from pipeline.core.look.colour import colour_label, linear_to_srgb, recolour, srgb_to_linear
from pipeline.core.look.fabric_look import FabricLook, base_colour, fabric_look

INSIDE_SHADE = 0.55  # the inside of a garment is the same cloth in its own shadow: darker, no sheen
THICKNESS_MODIFIER = "Thickness"
_OWN_COLOUR = "tryon_own_colour"  # the garment's colour as its file gave it (sRGB), kept across re-looks
_OWN_TEXTURE = "tryon_own_texture"  # name of its own texture image, if any
_FABRIC = "tryon_fabric"


def apply_fabric(
    obj: bpy.types.Object, fabric: str | None = None, colour: tuple | None = None, label: str = ""
) -> None:
    """Give garment `obj` the material and thickness of `fabric` (default: the one it was fitted with), in
    `colour` (sRGB floats, a colorway; None keeps its own colours). Can be called again to re-look it."""
    _remember_own_look(obj)
    look = fabric_look(fabric or obj.get(_FABRIC) or "cotton-jersey")
    obj[_FABRIC] = look.name
    texture = bpy.data.images.get(obj.get(_OWN_TEXTURE, "")) if obj.get(_OWN_TEXTURE) else None
    has_colour_attr = obj.data.color_attributes.get("Col") is not None
    if texture is not None and colour is not None:
        texture = recoloured_image(texture, colour, label)
    elif texture is None and has_colour_attr and colour is not None:
        _recolour_attribute(obj.data, colour)
    flat = base_colour(look.name, tuple(obj.get(_OWN_COLOUR, ())) or None, colour)
    attr = None
    if texture is None and has_colour_attr:
        attr = "ColRecolour" if colour is not None else "Col"
    tag = f"{look.name}{'-' + label if label else ''}"
    outer = fabric_material(f"{obj.name} {tag}", look, flat, texture, attr, inside=False)
    inner = fabric_material(f"{obj.name} {tag} inside", look, flat, texture, attr, inside=True)
    obj.data.materials.clear()
    obj.data.materials.append(outer)
    obj.data.materials.append(inner)
    _outward_normals(obj.data)
    add_thickness(obj, look.thickness_mm)


def _remember_own_look(obj: bpy.types.Object) -> None:
    """On first use, note the garment's own texture and colour from the material its importer gave it."""
    if _OWN_COLOUR in obj:
        return
    obj[_OWN_TEXTURE] = ""
    obj[_OWN_COLOUR] = [0.8, 0.8, 0.8]
    mat = obj.data.materials[0] if obj.data.materials else None
    if mat is None or mat.node_tree is None:
        return
    for node in mat.node_tree.nodes:
        if node.type == "TEX_IMAGE" and node.image is not None:
            obj[_OWN_TEXTURE] = node.image.name
        if node.type == "BSDF_PRINCIPLED":
            linear = np.array(node.inputs["Base Color"].default_value[:3])
            obj[_OWN_COLOUR] = [float(c) for c in linear_to_srgb(linear)]


def add_thickness(obj: bpy.types.Object, thickness_mm: float) -> bpy.types.Modifier:
    """A Solidify modifier (last in the stack, after the rig) that thickens the cloth inwards, with a rim so
    hems and the neckline show an edge; the new inner shell and the rim take the inside material (slot 1)."""
    mod = obj.modifiers.get(THICKNESS_MODIFIER) or obj.modifiers.new(THICKNESS_MODIFIER, "SOLIDIFY")
    mod.thickness = thickness_mm / 1000.0
    mod.offset = -1.0
    mod.use_rim = True
    mod.use_even_offset = False  # even thickness spikes at the sharp corners of cuffs and hems
    mod.use_quality_normals = True
    mod.material_offset = 1
    mod.material_offset_rim = 1
    return mod


@contextlib.contextmanager
def without_thickness(obj: bpy.types.Object):
    """Evaluate `obj` without its Thickness modifier inside the block (for code that reads the cloth surface)."""
    mod = obj.modifiers.get(THICKNESS_MODIFIER) if obj.type == "MESH" else None
    if mod is None or not mod.show_viewport:
        yield
        return
    mod.show_viewport = False
    try:
        yield
    finally:
        mod.show_viewport = True


def _outward_normals(me: bpy.types.Mesh) -> None:
    """Make face winding consistent and outward (Blender's own recalculation), so the inside shell is inside."""
    import bmesh

    bm = bmesh.new()
    try:
        bm.from_mesh(me)
        bmesh.ops.recalc_face_normals(bm, faces=bm.faces[:])
        bm.to_mesh(me)
    finally:
        bm.free()
    me.update()


def recoloured_image(image: bpy.types.Image, colour: tuple, label: str = "") -> bpy.types.Image:
    """A packed copy of `image` recoloured to `colour` (sRGB) with its luminance detail kept."""
    hex_code = "#" + "".join(f"{round(255 * c):02x}" for c in colour[:3])
    name = f"{image.name} {label or colour_label(hex_code)}"
    w, h = image.size
    px = np.empty(w * h * 4, dtype=np.float32)
    image.pixels.foreach_get(px)
    px = px.reshape(h, w, 4)
    rgb = px[..., :3] if not image.is_float else linear_to_srgb(px[..., :3])
    out_rgb = recolour(rgb, colour[:3], mask=px[..., 3] > 0.0)
    new = bpy.data.images.get(name) or bpy.data.images.new(name, w, h, alpha=True)
    out = np.concatenate([out_rgb, px[..., 3:]], axis=-1).astype(np.float32)
    new.pixels.foreach_set(out.ravel())
    new.pack()
    return new


def _recolour_attribute(me: bpy.types.Mesh, colour: tuple) -> None:
    """Recolour the scan's per-vertex colours ('Col') into 'ColRecolour', keeping their detail."""
    src = me.color_attributes["Col"]
    rgba = np.empty(len(src.data) * 4, dtype=np.float32)
    src.data.foreach_get("color_srgb", rgba)
    rgba = rgba.reshape(-1, 1, 4)
    out = np.concatenate([recolour(rgba[..., :3], colour[:3]), rgba[..., 3:]], axis=-1)
    dst = me.color_attributes.get("ColRecolour") or me.color_attributes.new(
        "ColRecolour", "FLOAT_COLOR", src.domain
    )
    dst.data.foreach_set("color_srgb", out.astype(np.float32).ravel())


def fabric_material(
    name: str,
    look: FabricLook,
    colour_srgb: tuple,
    texture: bpy.types.Image | None = None,
    colour_attribute: str | None = None,
    inside: bool = False,
) -> bpy.types.Material:
    """The fabric's Principled material: base colour from the texture, the colour attribute or `colour_srgb`,
    mottled; weave relief through a Bump node; the inside darker (always, or on back faces of the outside)."""
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    if mat.node_tree is None:  # Blender < 5.0
        mat.use_nodes = True
    nt = mat.node_tree
    nt.nodes.clear()
    g = _Graph(nt)
    out = g.node("ShaderNodeOutputMaterial", (900, 0))
    bsdf = g.node("ShaderNodeBsdfPrincipled", (600, 0))
    g.link(bsdf.outputs["BSDF"], out.inputs["Surface"])
    colour = _base_colour_socket(g, colour_srgb, texture, colour_attribute)
    coord = g.node("ShaderNodeTexCoord", (-1200, -200)).outputs["Object"]
    streaks = (
        coord if look.detail != "twill" else g.vmul(coord, (1.0, 1.0, 0.2))
    )  # denim: slubs along the warp
    mottle = g.noise(streaks, 100.0 / look.mottle_cm)
    factor = g.math("MULTIPLY_ADD", g.math("SUBTRACT", mottle, 0.5), 2 * look.mottle, 1.0)
    colour = g.vmath("SCALE", colour, scale=factor)
    shade = g.node("ShaderNodeNewGeometry", (-400, 300)).outputs["Backfacing"]
    dark = g.math("MULTIPLY_ADD", shade, INSIDE_SHADE - 1.0, 1.0) if not inside else INSIDE_SHADE
    g.link(g.vmath("SCALE", colour, scale=dark), bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = look.roughness
    bsdf.inputs["Sheen Weight"].default_value = 0.0 if inside else look.sheen
    bsdf.inputs["Sheen Roughness"].default_value = look.sheen_roughness
    bsdf.inputs["Specular IOR Level"].default_value = look.specular
    bsdf.inputs["Anisotropic"].default_value = look.anisotropic
    if look.anisotropic > 0:
        tangent = g.node("ShaderNodeTangent", (300, -500))
        tangent.direction_type, tangent.axis = "RADIAL", "Z"
        g.link(tangent.outputs["Tangent"], bsdf.inputs["Tangent"])
    bump = g.node("ShaderNodeBump", (300, -300))
    bump.inputs["Distance"].default_value = look.bump_mm / 1000.0
    bump.inputs["Strength"].default_value = 1.0
    g.link(_relief(g, coord, look), bump.inputs["Height"])
    g.link(bump.outputs["Normal"], bsdf.inputs["Normal"])
    linear = srgb_to_linear(np.asarray(colour_srgb[:3]))
    mat.diffuse_color = (*(linear * (INSIDE_SHADE if inside else 1.0)), 1.0)  # viewport / Workbench colour
    return mat


def _base_colour_socket(g: _Graph, colour_srgb: tuple, texture, colour_attribute: str | None):
    if texture is not None:
        node = g.node("ShaderNodeTexImage", (-400, 400))
        node.image = texture
        return node.outputs["Color"]
    if colour_attribute is not None:
        node = g.node("ShaderNodeVertexColor", (-400, 400))
        node.layer_name = colour_attribute
        return node.outputs["Color"]
    node = g.node("ShaderNodeRGB", (-400, 400))
    node.outputs["Color"].default_value = (*srgb_to_linear(np.asarray(colour_srgb[:3])), 1.0)
    return node.outputs["Color"]


def _relief(g: _Graph, coord, look: FabricLook):
    """Height in [0, 1] of the cloth's surface detail, from object coordinates (m) at the look's period (mm).
    u runs around the body (x + y, so fronts and sides both get it), z up the body."""
    xyz = g.node("ShaderNodeSeparateXYZ", (-1000, -400))
    g.link(coord, xyz.inputs["Vector"])
    k = 1000.0 / look.period_mm  # cycles per metre
    u = g.math("MULTIPLY", g.math("ADD", xyz.outputs["X"], xyz.outputs["Y"]), k)
    z = g.math("MULTIPLY", xyz.outputs["Z"], k)
    if look.detail == "knit":  # wales (columns of V stitches): |sin| ridges, rows of loops across them
        wale = g.math("ABSOLUTE", g.math("SINE", g.math("MULTIPLY", u, math.pi)))
        course = g.math(
            "ABSOLUTE",
            g.math(
                "SINE", g.math("MULTIPLY", g.math("ADD", z, g.math("MULTIPLY", wale, 0.35)), 1.3 * math.pi)
            ),
        )
        return g.math("MULTIPLY", g.math("POWER", wale, 0.5), g.math("MULTIPLY_ADD", course, 0.4, 0.6))
    if look.detail == "twill":  # 3/1 twill: steep diagonal ribs (about 63 degrees)
        return g.math(
            "MULTIPLY_ADD",
            g.math("SINE", g.math("MULTIPLY", g.math("MULTIPLY_ADD", u, 2.0, z), 2 * math.pi)),
            0.5,
            0.5,
        )
    if look.detail == "plain":  # plain weave: warp over weft over warp, a fine basket
        s = g.math(
            "MULTIPLY",
            g.math("SINE", g.math("MULTIPLY", u, 2 * math.pi)),
            g.math("SINE", g.math("MULTIPLY", z, 2 * math.pi)),
        )
        return g.math("MULTIPLY_ADD", s, 0.5, 0.5)
    if look.detail == "grain":  # leather: pebbled cells
        return g.voronoi(coord, k)
    return g.noise(coord, k)  # satin: long floats, nearly smooth


class _Graph:
    """A few helpers to wire shader nodes tersely (sockets or plain numbers as inputs)."""

    def __init__(self, nt: bpy.types.NodeTree) -> None:
        self.nt = nt
        self.x = -800

    def node(self, kind: str, location=None):
        n = self.nt.nodes.new(kind)
        if location is not None:
            n.location = location
        else:
            self.x += 40
            n.location = (self.x, -600)
        return n

    def link(self, src, dst) -> None:
        self.nt.links.new(src, dst)

    def _set(self, socket, value) -> None:
        if isinstance(value, (int, float)):
            socket.default_value = value
        else:
            self.link(value, socket)

    def math(self, op: str, a, b=0.0, c=0.0):
        n = self.node("ShaderNodeMath")
        n.operation = op
        for sock, val in zip(list(n.inputs)[:3], (a, b, c), strict=True):
            self._set(sock, val)
        return n.outputs["Value"]

    def vmath(self, op: str, a, scale=1.0):
        n = self.node("ShaderNodeVectorMath")
        n.operation = op
        self.link(a, n.inputs[0])
        self._set(n.inputs["Scale"], scale)
        return n.outputs["Vector"]

    def vmul(self, a, factors: tuple[float, float, float]):
        n = self.node("ShaderNodeVectorMath")
        n.operation = "MULTIPLY"
        self.link(a, n.inputs[0])
        n.inputs[1].default_value = factors
        return n.outputs["Vector"]

    def noise(self, coord, scale: float):
        n = self.node("ShaderNodeTexNoise")
        self.link(coord, n.inputs["Vector"])
        n.inputs["Scale"].default_value = scale
        n.inputs["Detail"].default_value = 3.0
        return n.outputs["Factor"]

    def voronoi(self, coord, scale: float):
        n = self.node("ShaderNodeTexVoronoi")
        self.link(coord, n.inputs["Vector"])
        n.inputs["Scale"].default_value = scale
        return n.outputs["Distance"]


def swatch_material(name: str, colour_srgb: tuple) -> bpy.types.Material:
    """A matte, purely diffuse material (Lambert, no specular, no sheen) in `colour_srgb`, set through the same
    sRGB-to-linear route as the fabrics: the colour bench's swatch."""
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    if mat.node_tree is None:  # Blender < 5.0
        mat.use_nodes = True
    bsdf = next(n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    linear = (*srgb_to_linear(np.asarray(colour_srgb[:3])), 1.0)
    bsdf.inputs["Base Color"].default_value = linear
    bsdf.inputs["Roughness"].default_value = 1.0
    bsdf.inputs["Diffuse Roughness"].default_value = 0.0
    bsdf.inputs["Specular IOR Level"].default_value = 0.0
    bsdf.inputs["Sheen Weight"].default_value = 0.0
    mat.diffuse_color = linear
    return mat

"""Garment files into Blender and back: import OBJ/PLY/STL/glTF/FBX/USD/.blend with Blender's own importers,
and convert between Blender mesh objects and the project's `GarmentMesh` (welded vertices, per-corner UVs,
vertex colours, one base-colour texture)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.garment.filecheck import FORMATS, prepare_garment_file
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.garment.normalise import normalise_garment
from pipeline.core.garment.repair import merge_duplicate_vertices
from pipeline.core.quiet import flush_c_streams
from pipeline.core.scratch import scratch_dir
from pipeline.core.untrusted import UnsafeReference, check_image_file, clip, resolve_inside

SUPPORTED = tuple(FORMATS)  # file suffixes import_garment reads


@dataclasses.dataclass
class ImportInfo:
    """What an import found besides the mesh: objects read, warnings (missing textures...)."""

    path: str
    format: str
    objects: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    welded_vertices: int = 0  # coincident vertices merged on the way in (glTF/FBX split them at UV seams)


def import_garment(
    path: str | os.PathLike,
    object_name: str | None = None,
    max_faces: int = 3_000_000,
    normalise: bool = True,
) -> GarmentMesh:
    """Read a garment file (any supported format) into a GarmentMesh in metres, Z up.

    Units and up axis are detected (see `pipeline.core.garment.normalise`) but the garment is not moved, so
    garments authored around a body (MakeHuman's) keep their place; `normalise=False` keeps file units.
    """
    mesh, _info = import_garment_info(path, object_name, max_faces)
    if normalise:
        mesh, _record = normalise_garment(mesh, centre=False)
    return mesh


def import_garment_info(
    path: str | os.PathLike,
    object_name: str | None = None,
    max_faces: int = 3_000_000,
    allowed_dirs: tuple[str | os.PathLike, ...] = (),
) -> tuple[GarmentMesh, ImportInfo]:
    """Like `import_garment(normalise=False)` (file units, Blender axes), also returning the objects read and
    warnings (missing textures, materials). The file is checked first (`prepare_garment_file`); files it
    references are followed only inside its folder or `allowed_dirs`."""
    path = Path(path)
    prepared = prepare_garment_file(path, max_faces, allowed_dirs)
    info = ImportInfo(path=str(path), format=prepared.format, warnings=list(prepared.warnings))
    texture_dirs = [path.parent, *allowed_dirs]
    objects: list = []
    try:
        objects = _import_objects(prepared.import_path, prepared.format, info.warnings, object_name, path)
        meshes = [o for o in objects if o.type == "MESH"]
        if not meshes:
            kinds = sorted({o.type.lower() for o in objects}) or ["nothing"]
            raise UserError(f"{clip(str(path))} holds no mesh object (found: {', '.join(kinds)})")
        if object_name is not None:
            chosen = [o for o in meshes if o.name == object_name or o.name.split(".")[0] == object_name]
            if not chosen:
                names = clip(", ".join(sorted(o.name for o in meshes)), 200)
                raise UserError(
                    f"--object {clip(object_name)} not found in {clip(path.name)}; mesh objects: {names}"
                )
            meshes = chosen[:1]
        info.objects = [o.name for o in meshes]
        parts = [object_to_garment(o, info.warnings, texture_dirs) for o in meshes]
        info.welded_vertices = sum(len(o.data.vertices) for o in meshes) - sum(len(p.vertices) for p in parts)
        mesh = join_garments(parts, info.warnings)
        mesh.name = object_name or path.stem
    finally:
        _remove_objects(objects)
        prepared.cleanup()
    if len(mesh.faces) == 0:
        raise UserError(
            f"{clip(str(path))} is a point cloud ({len(mesh.vertices)} points, no faces); clean needs a surface mesh"
        )
    if not np.isfinite(mesh.vertices).all():
        raise UserError(f"{clip(str(path))} has NaN or infinite vertex coordinates")
    if mesh.texture_path is None:
        info.warnings.extend(
            w for w in _sidecar_texture_warnings(path, mesh.uv is not None) if w not in info.warnings
        )
    return mesh, info


def _import_objects(
    path: Path, fmt: str, warnings: list[str], object_name: str | None = None, shown: Path | None = None
) -> list:
    """Run Blender's importer for `fmt` (its console chatter captured); return the objects it added."""
    shown = shown or path
    before = set(bpy.data.objects)
    fp = str(path)
    try:
        with captured_output() as log:
            _run_importer(fp, fmt, object_name)
    except (RuntimeError, OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
        added = [o for o in bpy.data.objects if o not in before]
        _remove_objects(added)
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise UserError(
            f"could not read {clip(str(shown))} as {fmt.upper()}: {clip(detail.removeprefix('Error: '), 160)}"
        ) from None
    for line in log.text.splitlines():
        if "Cannot load image file" in line or "cannot read from MTL file" in line:
            name = line.rsplit(":", 1)[-1].strip().strip("'")
            kind = "texture" if "image" in line else "material library"
            if not any(w.startswith(f"{kind} ") and Path(name).name in w for w in warnings):
                warnings.append(f"{kind} missing: {Path(name).name}")
    return [o for o in bpy.data.objects if o not in before]


class _Log:
    text = ""


@contextlib.contextmanager
def captured_output():
    """Capture what C code prints on stdout/stderr (Blender's importers) instead of showing it."""
    log = _Log()
    sys.stdout.flush()
    sys.stderr.flush()
    flush_c_streams()  # what C code buffered before belongs to the real output
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            flush_c_streams()  # C stdio buffers: flushed into the capture, not after it
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            log.text = tmp.read().decode("utf-8", "replace")


def _run_importer(fp: str, fmt: str, object_name: str | None) -> None:
    importers = {
        "obj": lambda: bpy.ops.wm.obj_import(filepath=fp),
        "ply": lambda: bpy.ops.wm.ply_import(filepath=fp, import_colors="SRGB"),
        "stl": lambda: bpy.ops.wm.stl_import(filepath=fp),
        "gltf": lambda: bpy.ops.import_scene.gltf(filepath=fp),
        "fbx": lambda: bpy.ops.import_scene.fbx(filepath=fp),
        # Textures of .usd/.usda/.usdc stay file references (checked like any other, see _image_file) instead
        # of being packed from wherever they point; a .usdz's textures live inside the archive: packed.
        "usd": lambda: bpy.ops.wm.usd_import(
            filepath=fp, import_textures_mode="IMPORT_PACK" if fp.lower().endswith(".usdz") else "IMPORT_NONE"
        ),
        "blend": lambda: _append_blend_objects(fp, object_name),
    }
    importers[fmt]()


def _append_blend_objects(filepath: str, object_name: str | None) -> None:
    """Append the named object of a .blend (every object when no name is given or it is absent, so the
    caller can list the names), linking them into the current scene."""
    with bpy.data.libraries.load(filepath, link=False) as (data_from, data_to):
        names = list(data_from.objects)
        data_to.objects = [object_name] if object_name in names else names
    for obj in data_to.objects:
        if obj is not None:
            bpy.context.scene.collection.objects.link(obj)


def _remove_objects(objects: list) -> None:
    """Delete imported objects and the meshes/materials only they used."""
    datas = [o.data for o in objects if o.data is not None]
    bpy.data.batch_remove([o for o in objects])
    orphans = [d for d in datas if d.users == 0]
    if orphans:
        bpy.data.batch_remove(orphans)


def object_to_garment(
    obj, warnings: list[str] | None = None, texture_dirs: list[str | os.PathLike] | None = None
) -> GarmentMesh:
    """Convert a Blender mesh object (modifiers and world transform applied) into a triangulated GarmentMesh.

    With `texture_dirs` (an imported file's folder first), a texture file outside them is skipped with a
    warning, so it never reaches an output; without, the object's own texture is kept (the user's scene)."""
    warnings = warnings if warnings is not None else []
    from pipeline.blender.materials import without_thickness

    with without_thickness(obj):  # the cloth's render thickness is not part of its surface
        depsgraph = bpy.context.evaluated_depsgraph_get()
        evaluated = obj.evaluated_get(depsgraph)
        me = evaluated.to_mesh()
        try:
            mesh = _mesh_to_garment(me, np.array(obj.matrix_world, dtype=np.float64), warnings)
        finally:
            evaluated.to_mesh_clear()
    mesh.name = obj.name
    size = float(np.ptp(mesh.vertices, axis=0).max()) if len(mesh.vertices) else 0.0
    if size > 0:  # formats that split vertices at UV seams (glTF, FBX) come back welded
        mesh, _ = merge_duplicate_vertices(mesh, tolerance_m=size * 1e-7)
    tex, color = _material_texture(obj, warnings, texture_dirs)
    mesh.texture_path, mesh.base_color = tex, color
    return mesh


def _mesh_to_garment(me, matrix: np.ndarray, warnings: list[str]) -> GarmentMesh:
    nv = len(me.vertices)
    co = np.empty(nv * 3, dtype=np.float32)
    me.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3).astype(np.float64) @ matrix[:3, :3].T + matrix[:3, 3]
    me.calc_loop_triangles()
    nt = len(me.loop_triangles)
    tri_v = np.empty(nt * 3, dtype=np.int32)
    tri_l = np.empty(nt * 3, dtype=np.int32)
    me.loop_triangles.foreach_get("vertices", tri_v)
    me.loop_triangles.foreach_get("loops", tri_l)
    faces = tri_v.reshape(-1, 3).astype(np.int64)
    uv = face_uv = None
    if me.uv_layers.active is not None and nt:
        luv = np.empty(len(me.loops) * 2, dtype=np.float32)
        me.uv_layers.active.uv.foreach_get("vector", luv)
        luv = luv.reshape(-1, 2).astype(np.float64)
        if np.ptp(luv, axis=0).max() > 1e-9:  # a single vt (all zeros) is no UV map
            uv, inverse = unique_rows(luv[tri_l])
            face_uv = inverse.reshape(-1, 3)
        else:
            warnings.append("UV map is degenerate (all corners at one point): ignored")
    colors = _vertex_colors(me, nv)
    return GarmentMesh(vertices=co, faces=faces, uv=uv, face_uv=face_uv, vertex_colors=colors)


def unique_rows(values: np.ndarray, decimals: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Unique 2-column rows (rounded) and the inverse index, via a 1-D key (fast for millions of rows)."""
    q = np.round(values * 10**decimals).astype(np.int64)
    q -= q.min(axis=0)
    key = q[:, 0] * (int(q[:, 1].max()) + 1) + q[:, 1]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return values[first], inverse


def _vertex_colors(me, nv: int) -> np.ndarray | None:
    """Per-vertex RGBA (sRGB, [0,1]) from the active colour attribute; corner colours are averaged."""
    attr = me.color_attributes.active_color
    if attr is None:
        return None
    n = len(attr.data)
    raw = np.empty(n * 4, dtype=np.float32)
    attr.data.foreach_get("color_srgb", raw)
    raw = raw.reshape(-1, 4).astype(np.float64)
    if attr.domain == "POINT":
        return raw
    if attr.domain == "CORNER":
        lv = np.empty(len(me.loops), dtype=np.int32)
        me.loops.foreach_get("vertex_index", lv)
        out = np.zeros((nv, 4))
        counts = np.bincount(lv, minlength=nv).astype(np.float64)
        for c in range(4):
            out[:, c] = np.bincount(lv, weights=raw[:, c], minlength=nv)
        return out / np.maximum(counts, 1)[:, None]
    return None


def _material_texture(
    obj, warnings: list[str], texture_dirs: list | None = None
) -> tuple[str | None, tuple[float, float, float, float]]:
    """The base-colour image path of the object's first textured material (saved out if packed) and its colour."""
    color = (0.8, 0.8, 0.8, 1.0)
    for slot in obj.material_slots:
        mat = slot.material
        if mat is None or mat.node_tree is None:
            continue
        for node in mat.node_tree.nodes:
            if node.type == "BSDF_PRINCIPLED":
                color = tuple(float(c) for c in node.inputs["Base Color"].default_value)
        for node in mat.node_tree.nodes:
            if node.type != "TEX_IMAGE" or node.image is None:
                continue
            path = _image_file(node.image, warnings, texture_dirs)
            if path:
                return path, color
    return None, color


def _image_file(image, warnings: list[str], texture_dirs: list | None = None) -> str | None:
    """A readable file for `image`: its own file (inside `texture_dirs` when given, and of a sane size), or a
    PNG written from packed/embedded pixels."""
    if image.packed_file is None and image.filepath:
        path = Path(bpy.path.abspath(image.filepath, library=image.library))
        if set(path.name) <= {"_"}:  # a reference blanked by the FBX sanitiser: already warned about
            return None
        if texture_dirs is None:
            if path.is_file():
                return str(path)
            warnings.append(f"texture missing: {path.name}")
            return None
        try:
            real = resolve_inside(texture_dirs[0], str(path), texture_dirs[1:])
            check_image_file(real, path.name)
        except UnsafeReference as exc:
            warnings.append(f"texture skipped: {exc}" if path.exists() else f"texture missing: {path.name}")
            return None
        except UserError as exc:
            warnings.append(f"texture skipped: {exc}")
            return None
        return str(real)
    if image.has_data or image.packed_file is not None:
        out = scratch_dir("tex-") / f"{bpy.path.clean_name(image.name)}.png"
        image.filepath_raw = str(out)
        image.file_format = "PNG"
        image.save()
        return str(out)
    return None


def _sidecar_texture_warnings(path: Path, has_uv: bool) -> list[str]:
    """Warnings for texture files a material sidecar names but that are absent (OBJ mtllib, MakeHuman .mhmat)."""
    out = []
    if path.suffix.lower() == ".obj":
        for line in _head_lines(path):
            if line.startswith("mtllib"):
                name = line.split(None, 1)[1].strip() if len(line.split()) > 1 else ""
                if name and not (path.parent / name).is_file():
                    out.append(f"material library missing: {Path(name).name}")
    for mhmat in path.parent.glob("*.mhmat") if has_uv else []:
        if not mhmat.is_file() or mhmat.stat().st_size > 2**20:  # is_file: no FIFO, no folder
            continue
        for line in mhmat.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "diffuseTexture" and not (path.parent / parts[1]).is_file():
                out.append(f"texture missing: {parts[1]}")
    return out


def _head_lines(path: Path, limit: int = 200) -> list[str]:
    with open(path, errors="replace") as fh:
        return [fh.readline().strip() for _ in range(limit)]


def join_garments(parts: list[GarmentMesh], warnings: list[str]) -> GarmentMesh:
    """Concatenate several garments into one (UVs kept where all parts have them; first texture wins)."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts])
    verts = np.concatenate([p.vertices for p in parts])
    faces = np.concatenate([p.faces + o for p, o in zip(parts, offsets[:-1], strict=True)])
    uv = face_uv = None
    if all(p.uv is not None for p in parts):
        uv_off = np.cumsum([0] + [len(p.uv) for p in parts])
        uv = np.concatenate([p.uv for p in parts])
        face_uv = np.concatenate([p.face_uv + o for p, o in zip(parts, uv_off[:-1], strict=True)])
    elif any(p.uv is not None for p in parts):
        warnings.append("some joined objects have no UV map: UVs dropped")
    colors = None
    if any(p.vertex_colors is not None for p in parts):
        colors = np.concatenate(
            [
                p.vertex_colors
                if p.vertex_colors is not None
                else np.tile(p.base_color, (len(p.vertices), 1))
                for p in parts
            ]
        )
    textures = [p.texture_path for p in parts if p.texture_path]
    if len(set(textures)) > 1:
        warnings.append(f"{len(set(textures))} different textures: kept only {Path(textures[0]).name}")
    return GarmentMesh(
        vertices=verts,
        faces=faces,
        uv=uv,
        face_uv=face_uv,
        vertex_colors=colors,
        texture_path=textures[0] if textures else None,
        base_color=parts[0].base_color,
    )


def garment_to_object(mesh: GarmentMesh, name: str | None = None, collection=None):
    """Build a Blender object from `mesh` (UVs, colour attribute, material with its texture or colour)."""
    name = name or mesh.name
    me = bpy.data.meshes.new(name)
    nv, nf = len(mesh.vertices), len(mesh.faces)
    me.vertices.add(nv)
    me.vertices.foreach_set("co", mesh.vertices.astype(np.float32).ravel())
    me.loops.add(nf * 3)
    me.loops.foreach_set("vertex_index", mesh.faces.astype(np.int32).ravel())
    me.polygons.add(nf)
    me.polygons.foreach_set("loop_start", np.arange(0, nf * 3, 3, dtype=np.int32))
    me.polygons.foreach_set("use_smooth", np.ones(nf, dtype=bool))
    if mesh.uv is not None and mesh.face_uv is not None:
        layer = me.uv_layers.new(name="UVMap")
        layer.uv.foreach_set("vector", mesh.uv[mesh.face_uv.ravel()].astype(np.float32).ravel())
    if mesh.vertex_colors is not None:
        attr = me.color_attributes.new("Col", "FLOAT_COLOR", "POINT")
        attr.data.foreach_set("color_srgb", np.asarray(mesh.vertex_colors, dtype=np.float32).ravel())
        me.color_attributes.active_color = attr
    me.update(calc_edges=True)
    me.validate(clean_customdata=False)
    obj = bpy.data.objects.new(name, me)
    (collection or bpy.context.scene.collection).objects.link(obj)
    obj.data.materials.append(garment_material(mesh, f"{name}_mat"))
    return obj


def garment_material(mesh: GarmentMesh, name: str):
    """A Principled material whose base colour is the texture, else the colour attribute, else `base_color`."""
    mat = bpy.data.materials.new(name)
    if mat.node_tree is None:  # Blender < 5.0 (5.0 gives new materials a node tree; use_nodes is deprecated)
        mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Base Color"].default_value = mesh.base_color
    mat.diffuse_color = mesh.base_color  # the viewport / Workbench colour
    bsdf.inputs["Roughness"].default_value = 0.8
    tex = mesh.texture_path
    if tex and Path(tex).is_file():
        node = nodes.new("ShaderNodeTexImage")
        node.image = bpy.data.images.load(str(tex), check_existing=True)
        node.location = (-400, 300)
        links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    elif mesh.vertex_colors is not None:
        node = nodes.new("ShaderNodeVertexColor")
        node.layer_name = "Col"
        node.location = (-400, 300)
        links.new(node.outputs["Color"], bsdf.inputs["Base Color"])
    return mat

"""An independent judge of a dressed scene's contact, on what Blender actually shows: the evaluated (posed,
armature-deformed, shrinkwrapped) avatar and garment meshes, queried with Blender's own BVH trees
(`mathutils.bvhtree`), not the solver's body field. Used by the real-garment bench next to
`pipeline.core.fit.checks`.

Poke-through: from each body vertex a ray is cast both ways along its normal (up to `reach_m`); a garment hit
counts only when the body point nearest to it is the vertex's own neighbourhood (within `near_m`), so a sleeve
hanging in front of the torso, or trousers beside a hand, are not taken as the cloth over that vertex. The
body vertex is *covered* when such a hit exists; it *pokes through* when the nearest such hit lies behind it,
inside the body (the cloth passes under the skin), and the ray crosses the cloth rather than grazing it, by
the skin's distance from the cloth across it (the hit's distance times the cosine). How the cloth's faces are
wound is never used (folded collars and panels sewn with either winding read alike). Only body parts the
garment covers count (at least 3 % of its vertices nearest to them; parts from the avatar's vertex groups);
skin facing other skin within 1.5 cm (a hanging arm on the torso, the armpit's and crotch's creases) is not
counted, and each segment is judged against its own cloth when the garment carries its limb labels (an arm
against its sleeve, not against the outside of the jacket's side beside it). Garment inside body: each garment
vertex's nearest body point and that face's normal."""

from __future__ import annotations

import bpy
import numpy as np
from mathutils import Vector
from mathutils.bvhtree import BVHTree


def _evaluated(obj: bpy.types.Object) -> tuple[np.ndarray, list[np.ndarray], list[tuple[int, ...]]]:
    """World-space vertices, vertex normals (Blender's own, weighted by corner angle, and weighted by face
    area: at a crease's apex they part ways) and polygons of `obj` after its modifiers."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(depsgraph)
    me = ev.to_mesh()
    try:
        n = len(me.vertices)
        co = np.empty(n * 3)
        me.vertices.foreach_get("co", co)
        nor = np.empty(n * 3)
        me.vertex_normals.foreach_get("vector", nor)
        fn = np.empty(len(me.polygons) * 3)
        me.polygons.foreach_get("normal", fn)
        area = np.empty(len(me.polygons))
        me.polygons.foreach_get("area", area)
        polys = [tuple(p.vertices) for p in me.polygons]
        corner = np.empty(len(me.loops), np.int64)
        me.loops.foreach_get("vertex_index", corner)
        sides = np.empty(len(me.polygons), np.int64)
        me.polygons.foreach_get("loop_total", sides)
        by_area = np.zeros((n, 3))  # each corner gets its polygon's normal times area
        np.add.at(by_area, corner, np.repeat(fn.reshape(-1, 3) * area[:, None], sides, axis=0))
        mw = np.array(ev.matrix_world)
        world = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        normals = []
        for local in (nor.reshape(-1, 3), by_area):
            w = local @ np.linalg.inv(mw[:3, :3])
            normals.append(w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12))
        return world, normals, polys
    finally:
        ev.to_mesh_clear()


def _vertex_parts(avatar_obj: bpy.types.Object) -> list[str]:
    """Each avatar vertex's coarse body part, from its heaviest vertex group (a bone of the rig)."""
    from pipeline.core.fit.checks import part_of_bone

    names = [g.name for g in avatar_obj.vertex_groups]
    parts = []
    for v in avatar_obj.data.vertices:
        best = max(v.groups, key=lambda g: g.weight, default=None)
        parts.append(part_of_bone(names[best.group]) if best is not None else "torso")
    return parts


def _covered_parts(gv: np.ndarray, body_tree: BVHTree, bv: np.ndarray, bpolys, parts: list[str]) -> set[str]:
    """Body parts holding the nearest body vertex of at least 3 % of the garment's vertices; never the hands
    or feet (`checks.UNCOVERED_PARTS`)."""
    from pipeline.core.fit.checks import UNCOVERED_PARTS

    counts: dict[str, int] = {}
    for p in gv:
        loc, _n, face, _d = body_tree.find_nearest(Vector(p))
        if loc is None:
            continue
        corners = bpolys[face]
        k = min(corners, key=lambda i: (Vector(bv[i]) - loc).length)
        counts[parts[k]] = counts.get(parts[k], 0) + 1
    return {
        part
        for part, c in counts.items()
        if c >= 0.03 * len(gv) and part.split(".")[0] not in UNCOVERED_PARTS
    }


def _limb_labels(obj: bpy.types.Object, n: int) -> np.ndarray | None:
    """The garment's per-vertex limb labels (`dress.LIMB_ATTRIBUTE`, written when it was dressed), or None."""
    from pipeline.blender.dress import LIMB_ATTRIBUTE

    attr = obj.data.attributes.get(LIMB_ATTRIBUTE)
    if attr is None or len(attr.data) != n:
        return None
    out = np.zeros(n, np.int64)
    attr.data.foreach_get("value", out)
    return out


def _own_cloth_trees(gv, gpolys, limbs) -> dict[int, BVHTree]:
    """Per limb label (1-4 arms and legs; 0 torso): a tree over the cloth faces wrapping that segment
    (`checks.face_owner`: a seam face between a sleeve and the torso goes with the sleeve), where the garment
    has such cloth; the body segment of that label is judged against it (a forearm against its sleeve, not the
    outside of the jacket's hem beside it). Without labels: none (every segment uses the whole cloth's tree)."""
    from pipeline.core.fit.checks import face_owner

    if limbs is None:
        return {}
    points = [Vector(p) for p in gv]
    owner = face_owner(np.array([[limbs[p[0]], limbs[p[1]], limbs[p[-1]]] for p in gpolys]))
    trees = {}
    for label in range(5):
        polys = [p for p, o in zip(gpolys, owner, strict=True) if o == label]
        if polys:
            trees[label] = BVHTree.FromPolygons(points, polys)
    return trees


def _pinched(bv: np.ndarray, normal_sets: list[np.ndarray], body_tree: BVHTree, pinch_m: float) -> np.ndarray:
    """Body vertices with other skin within `pinch_m` along their normal line, ahead (a hanging arm on the
    torso, the armpit's and the crotch's creases) or behind (skin sunk inside another part): no cloth fits
    there and no camera sees it (as `checks.pinched_vertices`, here with Blender's BVH on the evaluated mesh).
    Each of `normal_sets` is tried (at a crease's apex the normal line is ill-defined)."""
    out = np.zeros(len(bv), bool)
    for normals in normal_sets:
        for i, (p, n) in enumerate(zip(bv, normals, strict=True)):
            if out[i]:
                continue
            b, d = Vector(p), Vector(n)
            out[i] = any(
                body_tree.ray_cast(b + d * (s * 1e-4), d * s, pinch_m)[0] is not None for s in (1.0, -1.0)
            )
    return out


def judge_contact(
    avatar_obj: bpy.types.Object,
    garment_obj: bpy.types.Object,
    reach_m: float = 0.08,
    near_m: float = 0.02,
    pinch_m: float = 0.015,
) -> dict[str, float | int]:
    """Contact figures of one garment object on the avatar, as shown: `bvh_covered_vertices`,
    `bvh_pinched_vertices`, `bvh_poke_share`, `bvh_poke_max_mm`, `bvh_inside_max_mm`, `bvh_inside_share`."""
    from pipeline.blender.materials import without_thickness
    from pipeline.core.fit.checks import GRAZING_COS, LIMB_OF_GROUP, part_group

    bv, normal_sets, bpolys = _evaluated(avatar_obj)
    bn = normal_sets[0]  # Blender's own: the rays go along these
    with without_thickness(garment_obj):  # the cloth's surface, not the render's inward shell
        gv, _gn, gpolys = _evaluated(garment_obj)
    body_tree = BVHTree.FromPolygons([Vector(p) for p in bv], bpolys)
    cloth_tree = BVHTree.FromPolygons([Vector(p) for p in gv], gpolys)
    parts = _vertex_parts(avatar_obj)
    worn = _covered_parts(gv, body_tree, bv, bpolys, parts)
    pinched = _pinched(bv, normal_sets, body_tree, pinch_m)
    own_trees = _own_cloth_trees(gv, gpolys, _limb_labels(garment_obj, len(gv)))
    covered = poked = 0
    poke_max = 0.0
    for p, n, part, pinch in zip(bv, bn, parts, pinched, strict=True):
        if part not in worn or pinch:
            continue  # a hand beside a skirt, a forearm below a short sleeve, an arm pressed to the torso
        b, d = Vector(p), Vector(n)
        tree = own_trees.get(LIMB_OF_GROUP.get(part_group(part), -1), cloth_tree)
        best = None  # (distance along the ray, skin through the cloth, depth across the cloth)
        for sign in (1.0, -1.0):
            loc, nor, _i, dist = tree.ray_cast(b, d * sign, reach_m)
            if loc is None:
                continue
            near = body_tree.find_nearest(loc)
            if near[0] is None or (near[0] - b).length > near_m:
                continue  # cloth over another part of the body
            if best is None or dist < best[0]:
                # the cloth behind the skin, inside the body, crossed rather than grazed: the skin stands
                # out through it (whichever way the face is wound)
                inside = sign < 0 and (loc - near[0]).dot(near[1]) < 0
                cos = abs(nor.dot(d))
                best = (dist, inside and cos > GRAZING_COS, dist * cos)
        if best is None:
            continue
        covered += 1
        if best[1]:
            poked += 1
            poke_max = max(poke_max, best[2])
    inside = []
    for p in gv:
        g = Vector(p)
        loc, nor, _i, dist = body_tree.find_nearest(g)
        inside.append(dist if loc is not None and (g - loc).dot(nor) < 0 else 0.0)
    depth = np.asarray(inside)
    return {
        "bvh_covered_vertices": covered,
        "bvh_pinched_vertices": int(pinched.sum()),
        "bvh_poke_vertices": poked,
        "bvh_poke_share": round(poked / max(covered, 1), 5),
        "bvh_poke_max_mm": round(poke_max * 1000, 3),
        "bvh_inside_max_mm": round(float(depth.max()) * 1000 if len(depth) else 0.0, 3),
        "bvh_inside_share": round(float((depth > 0).mean()) if len(depth) else 0.0, 5),
    }

"""Garment fit: speed and penetration of the project's drape against Blender's cloth modifier, same run.

For each sample garment (garments/tshirt.obj, garments/skirt.obj) and two bodies (anny's default and a
heavier adult), the garment is placed by landmarks and then (a) draped with `pipeline.core.fit.api.fit_garment`
and (b) draped from the same placed start with Blender's cloth modifier (body as a collision object, skin
distance 2.5 mm, quality 5, 24 frames = 1 s, self-collision off), timed, and both results measured with the same exact body
distance: max / mean penetration (mm), share of penetrating vertices, strain (mean |strain|, p95).
Prints a table and the speed ratio (Blender time / ours). Goal: >= 10x faster with no more penetration.

    .venv/bin/python bench/bench_fit.py [--frames 24] [--garments tshirt,skirt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpy  # noqa: E402  (before anything that may load pymeshlab)

from pipeline.core.body.anny_model import body_arrays  # noqa: E402
from pipeline.core.deps import REPO_ROOT  # noqa: E402
from pipeline.core.fit.api import fit_garment, penetration_stats  # noqa: E402
from pipeline.core.fit.bodyfield import BodyField  # noqa: E402
from pipeline.core.fit.place import detect_type, place_garment  # noqa: E402
from pipeline.core.garment.mesh import read_obj  # noqa: E402
from pipeline.core.topology import unique_edges  # noqa: E402

BODIES = {
    "default": {},
    "heavy-adult": {"gender": 1.0, "age": 0.75, "weight": 0.8, "muscle": 0.5, "height": 0.6},
}


def strain_stats(vertices: np.ndarray, faces: np.ndarray, rest: np.ndarray) -> dict[str, float]:
    e = unique_edges(faces)
    s = (
        np.linalg.norm(vertices[e[:, 1]] - vertices[e[:, 0]], axis=1)
        / np.linalg.norm(rest[e[:, 1]] - rest[e[:, 0]], axis=1)
        - 1
    )
    return {"strain_mean": float(np.abs(s).mean()), "strain_p95": float(np.percentile(s, 95))}


def _mesh_object(name: str, verts: np.ndarray, faces: np.ndarray) -> bpy.types.Object:
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts.tolist(), [], faces.tolist())
    me.update()
    obj = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def blender_cloth(body, start: np.ndarray, faces: np.ndarray, frames: int) -> tuple[np.ndarray, float]:
    """Drape with Blender's cloth modifier from `start`; returns (vertices after `frames`, seconds)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, frames
    avatar = _mesh_object("Body", body.vertices, body.faces)
    avatar.modifiers.new("Collision", "COLLISION")
    avatar.collision.thickness_outer = 0.0025
    avatar.collision.cloth_friction = 5.0
    cloth_obj = _mesh_object("Garment", start, faces)
    mod = cloth_obj.modifiers.new("Cloth", "CLOTH")
    area = (
        0.5
        * np.linalg.norm(
            np.cross(start[faces[:, 1]] - start[faces[:, 0]], start[faces[:, 2]] - start[faces[:, 0]]), axis=1
        ).sum()
    )
    mod.settings.mass = float(0.18 * area / len(start))  # cotton jersey, kg per vertex
    mod.settings.quality = 5
    mod.collision_settings.distance_min = 0.0025
    mod.collision_settings.use_self_collision = False
    mod.point_cache.frame_end = frames
    t0 = time.perf_counter()
    for f in range(1, frames + 1):
        scene.frame_set(f)
    dg = bpy.context.evaluated_depsgraph_get()
    ev = cloth_obj.evaluated_get(dg)
    co = np.array([v.co[:] for v in ev.data.vertices])
    return co, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--garments", default="tshirt,skirt")
    args = ap.parse_args()
    rows = []
    # warm-up: Warp's kernels compile (or load from the disk cache) on first use; not part of a fit's time
    warm = body_arrays()
    fit_garment(read_obj(REPO_ROOT / "garments" / "skirt.obj"), warm)
    for body_name, pheno in BODIES.items():
        body = body_arrays(pheno or None)
        field = BodyField(body.vertices, body.faces)
        for name in args.garments.split(","):
            g = read_obj(REPO_ROOT / "garments" / f"{name}.obj")
            kind = detect_type(g.vertices, g.faces)
            result = fit_garment(g, body, garment_type=kind)
            ours = {
                "s": result.stats["fit_s"],
                "drape_s": result.stats["drape_s"],
                "steps": result.stats["drape_steps"],
                **penetration_stats(field, result.vertices),
                **strain_stats(result.vertices, g.faces, g.vertices),
            }
            start = field.push_out(place_garment(g.vertices, g.faces, body, kind), 0.0025)
            bl_vertices, bl_s = blender_cloth(body, start, g.faces, args.frames)
            base = {
                "s": bl_s,
                **penetration_stats(field, bl_vertices),
                **strain_stats(bl_vertices, g.faces, g.vertices),
            }
            rows.append((body_name, name, len(g.vertices), ours, base))
    head = f"{'body':12} {'garment':7} {'verts':>5} | {'method':8} {'time s':>7} {'max pen mm':>10} {'mean pen':>8} {'pen share':>9} {'|strain|':>8} {'strain p95':>10}"
    print(head)
    print("-" * len(head))
    ratios, drape_ratios = [], []
    for body_name, name, nv, ours, base in rows:
        for label, r in (("ours", ours), ("blender", base)):
            print(
                f"{body_name:12} {name:7} {nv:5d} | {label:8} {r['s']:7.2f} {r['max_penetration_mm']:10.2f} "
                f"{r['mean_penetration_mm']:8.2f} {r['penetrating_share']:9.4f} {r['strain_mean']:8.4f} {r['strain_p95']:10.4f}"
            )
        ratios.append(base["s"] / ours["s"])
        drape_ratios.append(base["s"] / ours["drape_s"])
        print(
            f"{'':28}   speed-up x{base['s'] / ours['s']:.1f} whole fit (place+drape+rig+measure), "
            f"x{base['s'] / ours['drape_s']:.1f} drape only ({ours['steps']} steps); "
            f"max penetration ours {ours['max_penetration_mm']:.2f} mm vs blender {base['max_penetration_mm']:.2f} mm"
        )
    print(
        f"median speed-up x{np.median(ratios):.1f} whole fit, x{np.median(drape_ratios):.1f} drape only "
        "(goal >= 10x with no more penetration)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

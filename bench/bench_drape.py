"""Drape look and speed against the way Blender artists make garments: Blender's cloth with sewing springs.

For the project's pattern garments (the sample T-shirt and skirt, their patterns made for each body by
`pipeline.core.fit.make.sewn_garment`) on anny's default body and a heavy adult, both methods start from the
same flat panels laid out round the body (`pipeline.core.fit.sewing.lay_out_panels`):

- ours: the whole fit as `make-garment` runs it (`make.drape_sewn`: panel drape with sewing springs and gravity,
  then the fit's settle, skin weights and figures), timed end to end;
- Blender: the cloth modifier on the unwelded panels, the seams as loose edges with sewing springs, the flat 2D
  pattern as the rest shape (`rest_at`: the base mesh with `use_dynamic_mesh`, the start a shape key keyed off
  after frame 1; Blender 5.0.1's cloth ignores `rest_shape_key`), the body as a collision object (2.5 mm),
  gravity, run frame by frame until it settles (mean move under 0.3 mm a frame after 40 frames, at most
  `--frames`, default 150 = 6 s), timed from the first frame to the last; its seam copies are then welded like
  ours. `--blender-preset`:
  `arranged` (default; see `ARRANGED`: as a careful artist sets up flat panels, each body panel bent round the
  body 2 cm out, `sewing.lay_out_panels(arrange="cylinder")`, sewn for 30 frames without gravity, then gravity
  until settled; `careful`'s settings), `careful` (see `CAREFUL`: the Cotton preset, quality 8, collision
  quality 3, self-collision, the panels laid out wholly flat, gravity from the first frame) and/or `legacy` (the
  earlier reference: the fabric's true mass per vertex with the modifier's default stiffness, quality 5,
  collision quality 2, no self-collision, the partly wrapped start, whose edges start up to 12x their pattern
  length and partly inside the body: it crumples and spikes). Per pattern row also: the seam gap left (after
  the sewing frames and at the end), strain (edge over pattern length) p50/p99 and the hem's hoop strain
  (`drape_metrics.hoop_strain`), and the folds that are not crumples.

Plus one shared-data garment (DiffCloth's skirt, MIT, no pattern): ours = `fit_garment` (placement + settle);
Blender = the cloth modifier from the same placed start with gravity until settled (rest shape = the mesh).

Printed per garment, ours against Blender: front-silhouette barrel (widest width below the chest, or the waist
for bottoms, over the width at the hem; sleeves left out), cloth-to-body gap p10/p50/p90 (mm), share of edges
folded past 15 degrees and the share of those that are crumples (`drape_metrics.crumple_share`: a ridge next to
a valley, a zigzag at the mesh's scale, not a fold), poke-through both ways (`checks.body_through_garment`: share of covered body vertices
standing out through the cloth and the deepest; `checks.garment_inside_body`: deepest garment vertex inside
the body), and seconds. Goals (pass/fail per row): barrel <= 1.03, poke-through <= 0.2 % and <= 5 mm, fold
share within 25 % of Blender's, whole fit >= 10x faster than Blender.

    .venv/bin/python bench/bench_drape.py [--frames 150] [--only tshirt,skirt,diffcloth-skirt] [--bodies default,heavy]
        [--blender-preset arranged[,careful,legacy]] [--save DIR [--stills PNG_DIR | --stills-only --stills PNG_DIR]]
        [--cusick | --cusick-only] [--no-hang]

`--cusick` adds the Cusick drape test per fabric (a 30 cm disc of cloth on an 18 cm pedestal): ours with the
panel drape's dihedral settings vs Blender's cloth presets used whole; drape coefficient, nodes, fold share.
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
from pipeline.core.fit.api import fit_garment  # noqa: E402
from pipeline.core.fit.bodyfield import BodyField  # noqa: E402
from pipeline.core.fit.checks import body_through_garment, garment_inside_body  # noqa: E402
from pipeline.core.fit.drape_metrics import (  # noqa: E402
    crumple_share,
    fold_share,
    front_barrel,
    gap_percentiles,
    hem_fall,
    hoop_strain,
    off_arm,
    smoothed_fold_share,
)
from pipeline.core.fit.landmarks import body_landmarks  # noqa: E402
from pipeline.core.fit.make import drape_sewn, sewn_garment  # noqa: E402
from pipeline.core.fit.pattern import pattern_rest_lengths  # noqa: E402
from pipeline.core.fit.place import detect_type, place_garment  # noqa: E402
from pipeline.core.fit.sewing import lay_out_panels, weld_points  # noqa: E402
from pipeline.core.garment.mesh import GarmentMesh, read_obj  # noqa: E402
from pipeline.core.topology import unique_edges  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "garments"
BODIES = {
    "default": {},
    "heavy": {"gender": 1.0, "age": 0.75, "weight": 0.8, "muscle": 0.5, "height": 0.6},
}
MASS_KG_M2 = 0.18  # cotton jersey
GOAL_BARREL, GOAL_POKE_SHARE, GOAL_POKE_MM, GOAL_FOLD_REL, GOAL_SPEEDUP = 1.03, 0.002, 5.0, 0.25, 10.0


def _mesh_object(name: str, verts: np.ndarray, faces: np.ndarray, edges=()) -> bpy.types.Object:
    me = bpy.data.meshes.new(name)
    me.from_pydata(np.asarray(verts).tolist(), [list(map(int, e)) for e in edges], np.asarray(faces).tolist())
    me.update()
    obj = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def rest_at(cloth: bpy.types.Object, mod: bpy.types.Modifier, start: np.ndarray, rest: np.ndarray) -> None:
    """Make Blender's cloth start at `start` and rest at `rest` (same vertices): rest lengths and bend angles.

    Blender 5.0.1's cloth ignores `rest_shape_key`: a 1 m grid whose rest key is 0.5x stays 1.00 m wide with
    gravity off, whatever the key order, value, cache reset or depsgraph update (its modifier copies the key into
    CD_CLOTH_ORCO only when given no mesh, which never happens), so the cloth rested at its start. With
    `use_dynamic_mesh` each frame's rest lengths and bend angles follow the evaluated input mesh while the
    positions stay simulated (the grid shrinks to 0.50 m in a frame and does not follow a shifted input). So the
    base mesh is the rest shape and a key "Start" is keyed 1 on frame 1 (the cloth starts there) and 0 from
    frame 2 on. Limits: frame 1 rests at `start`; sewing springs keep their own rest length (not updated)."""
    flat = np.asarray(rest, np.float32).ravel()
    cloth.data.vertices.foreach_set("co", flat)
    cloth.shape_key_add(name="Basis")  # copies the mesh: the rest shape
    key = cloth.shape_key_add(name="Start", from_mix=False)
    key.data.foreach_set("co", np.asarray(start, np.float32).ravel())
    key.value = 1.0
    key.keyframe_insert("value", frame=1)
    key.value = 0.0
    key.keyframe_insert("value", frame=2)
    mod.settings.use_dynamic_mesh = True


def blender_cloth(
    body,
    start: np.ndarray,
    faces: np.ndarray,
    frames: int,
    rest: np.ndarray | None = None,
    seams=(),
    preset: str | None = None,
    profile: str = "careful",
) -> tuple[np.ndarray, float, int]:
    """Blender's cloth from `start` until settled: sewing springs on the loose `seams` edges, `rest` (if given)
    as the rest shape (`rest_at`), a Blender cloth `preset`'s stiffness (default: the modifier's).
    Returns (positions, seconds, frames run)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, frames
    avatar = _mesh_object("Body", body.vertices, body.faces)
    avatar.modifiers.new("Collision", "COLLISION")
    avatar.collision.thickness_outer = 0.0025
    avatar.collision.cloth_friction = 5.0
    cloth = _mesh_object("Garment", start, faces, seams)
    mod = cloth.modifiers.new("Cloth", "CLOTH")
    if rest is not None:
        rest_at(cloth, mod, start, rest)
    area = (
        0.5
        * np.linalg.norm(
            np.cross(start[faces[:, 1]] - start[faces[:, 0]], start[faces[:, 2]] - start[faces[:, 0]]), axis=1
        ).sum()
    )
    name, _, extra = profile.partition(":")
    if preset is not None:  # as Blender artists use it: the preset whole, its mass per vertex included
        _blender_preset(mod.settings, preset)
    elif name == "legacy":
        mod.settings.mass = float(MASS_KG_M2 * area / len(start))  # kg per vertex
    else:
        _blender_preset(mod.settings, "Cotton")
    mod.settings.quality = max(mod.settings.quality, 5)
    mod.settings.use_sewing_springs = len(seams) > 0
    mod.collision_settings.distance_min = 0.0025
    mod.collision_settings.use_self_collision = False
    opts = _options(ARRANGED if name == "arranged" else CAREFUL, extra)
    if name in ("careful", "arranged") and preset is None:
        _careful(mod, opts)
        if opts.get("mass") == "fabric":
            mod.settings.mass = float(MASS_KG_M2 * area / len(start))
        elif "mass" in opts:
            mod.settings.mass = float(opts["mass"])
    sew_frames = 0
    if name == "arranged" and len(seams):
        sew_frames = int(opts["sew_frames"])
        avatar.collision.cloth_friction = float(opts["body_friction"])
        mod.settings.bending_model = opts["bending_model"].upper()
        # sew first without gravity (the effector weight keyed 0, then 1), as garments are sewn in the air
        weights = mod.settings.effector_weights
        weights.gravity = 0.0
        weights.keyframe_insert("gravity", frame=1)
        weights.keyframe_insert("gravity", frame=sew_frames)
        weights.gravity = 1.0
        weights.keyframe_insert("gravity", frame=sew_frames + 1)
    mod.point_cache.frame_end = frames
    co = np.empty(len(start) * 3, np.float32)
    prev = np.asarray(start, np.float64)
    seams = np.asarray(seams, np.int64).reshape(-1, 2)
    t0 = time.perf_counter()
    done = frames
    log = {"sew_frames": sew_frames}
    for f in range(1, frames + 1):
        scene.frame_set(f)
        ev = cloth.evaluated_get(bpy.context.evaluated_depsgraph_get())
        ev.data.vertices.foreach_get("co", co)
        now = co.reshape(-1, 3).astype(np.float64)
        mean_move = float(np.linalg.norm(now - prev, axis=1).mean())
        prev = now
        if len(seams) and sew_frames and f == sew_frames:
            log["gap_sewn_mm"] = 1000 * float(
                np.linalg.norm(now[seams[:, 0]] - now[seams[:, 1]], axis=1).max()
            )
        if f >= sew_frames + 40 and mean_move < 3e-4:
            done = f
            break
    if len(seams):
        log["gap_mm"] = 1000 * float(np.linalg.norm(prev[seams[:, 0]] - prev[seams[:, 1]], axis=1).max())
    blender_cloth.log = log
    return prev, time.perf_counter() - t0, done


# The careful reference (`--blender-preset careful`), as an artist sets Blender's cloth up for a cotton tee or
# skirt: the Cotton preset whole (its mass per vertex and stiffness: with the fabric's true mass per vertex,
# 3.5e-5 kg, the modifier's stiffness holds a Cusick disc out flat, DC 0.97, and softer bending crumples it),
# quality 8 and collision quality 3 (5 and 2 let the seams and the body collision fight: spikes), self-collision
# on (2 mm), and the panels laid out wholly flat (no edge starting stretched or through the body). Options after
# "careful:" override these for experiments, e.g. careful:quality=12,mass=fabric.
CAREFUL = {
    "quality": "8",
    "collision_quality": "3",
    "self": "1",
    "self_distance": "0.002",
    "sewing_force_max": "0",
    "bending": "0.5",
    "compression": "15",
    "tension": "15",
    "shear": "15",
}


# The arranged reference (`--blender-preset arranged`): what a careful Blender artist does with flat panels, as
# Marvelous Designer's arrangement points do: each body panel bent round the body a few cm out
# (`lay_out_panels(arrange="cylinder")`, the rest shape still the flat pattern, `rest_at`), the
# panels sewn without gravity first (the effector weight keyed 0 for `sew_frames`), then gravity on until the
# motion stops; the careful reference's Cotton preset, quality and collision settings.
ARRANGED = CAREFUL | {"sew_frames": "30", "gap": "0.02", "body_friction": "5", "bending_model": "angular"}


def _options(defaults: dict, extra: str) -> dict:
    """A reference's settings: `defaults` overridden by the "key=value,..." after its name's colon."""
    return defaults | dict(kv.split("=") for kv in extra.split(",") if kv)


def _careful(mod, opts: dict) -> None:
    """Apply the careful reference's quality, collision and stiffness options to a cloth modifier."""
    s, c = mod.settings, mod.collision_settings
    s.quality = int(opts["quality"])
    c.collision_quality = int(opts["collision_quality"])
    c.use_self_collision = opts["self"] == "1"
    c.self_distance_min = float(opts["self_distance"])
    s.sewing_force_max = float(opts["sewing_force_max"])
    s.bending_stiffness = float(opts["bending"])
    s.compression_stiffness = float(opts["compression"])
    s.tension_stiffness = float(opts["tension"])
    s.shear_stiffness = float(opts["shear"])


def measure(body, field, lm, vertices, faces, kind: str, seconds: float) -> dict:
    top = lm.waist_z if kind in ("bottom", "skirt", "trousers") else lm.chest_z - 0.04
    sd = field.closest(vertices).signed_distance
    poke = body_through_garment(body.vertices, body.faces, vertices, faces, field)
    inside = garment_inside_body(vertices, body.vertices, body.faces, field)
    return {
        "barrel": front_barrel(vertices, faces, top, keep=off_arm(vertices, body))["barrel"],
        **gap_percentiles(sd),
        "folds": fold_share(vertices, faces),
        "crumple": crumple_share(vertices, faces),
        "smoothed_folds": smoothed_fold_share(vertices, faces),
        "hem_fall": hem_fall(vertices, faces),
        "poke_share": poke["poke_share"],
        "poke_max_mm": poke["poke_max_mm"],
        "inside_max_mm": inside["inside_max_mm"],
        "s": seconds,
    }


def _save(save: Path | None, tag: str, vertices: np.ndarray, faces: np.ndarray) -> None:
    if save is not None:
        from pipeline.core.garment.mesh import write_obj

        write_obj(GarmentMesh(vertices=vertices, faces=np.asarray(faces), name=tag), save / f"{tag}.obj")


def pattern_row(
    kind: str,
    body,
    field,
    lm,
    frames: int,
    save: Path | None = None,
    tag: str = "",
    presets=("arranged",),
    hang: bool = True,
):
    sewn, _ = sewn_garment(kind, body)
    t0 = time.perf_counter()
    result = drape_sewn(sewn, body, hang=hang)
    ours_s = time.perf_counter() - t0
    ours = measure(body, field, lm, result.vertices, sewn.faces, sewn.kind, ours_s)
    _save(save, f"{tag}_ours", result.vertices, sewn.faces)
    edges = unique_edges(sewn.faces)
    rest = pattern_rest_lengths(sewn, edges)
    ours |= _strain(result.vertices, edges, rest, sewn) | {
        "gap_mm": result.stats["panel_drape"]["seam_gap_max_mm"]
    }
    bases = {}
    for preset in presets:
        # careful: the panels wholly flat (no edge starts stretched or through the body); legacy: the old start;
        # arranged: the body panels bent round the body
        name, _, extra = preset.partition(":")
        if name == "arranged":
            gap = float(_options(ARRANGED, extra)["gap"])
            flat = lay_out_panels(sewn, body, gap_m=gap, arrange="cylinder")
        else:
            flat = lay_out_panels(sewn, body, arrange="wrap" if name == "legacy" else "flat")
        x, bl_s, n = blender_cloth(
            body, flat.start, flat.faces, frames, rest=flat.pattern, seams=flat.seams, profile=preset
        )
        welded = weld_points(x, flat.weld, len(sewn.vertices2d))
        bases[preset] = (
            measure(body, field, lm, welded, sewn.faces, sewn.kind, bl_s)
            | {"frames": n}
            | _strain(welded, edges, rest, sewn)
            | blender_cloth.log
        )
        _save(save, f"{tag}_{_ref_tag(preset)}", welded, sewn.faces)
    return len(sewn.vertices2d), ours, bases


def _strain(vertices: np.ndarray, edges: np.ndarray, rest: np.ndarray, sewn) -> dict:
    """Edge length over pattern length: median and 99th percentile (a settled garment: near 1), and the hem's
    hoop strain (`drape_metrics.hoop_strain`: under 1, the hem is compressed round, as flutes need)."""
    s = np.linalg.norm(vertices[edges[:, 1]] - vertices[edges[:, 0]], axis=1) / np.maximum(rest, 1e-12)
    return {
        "strain_p50": float(np.median(s)),
        "strain_p99": float(np.percentile(s, 99)),
        "hem_hoop": hoop_strain(vertices, sewn.vertices2d, edges, rest),
    }


def _ref_tag(preset: str) -> str:
    return "blender" if preset == "careful" else f"blender-{preset.split(':')[0]}"


def shared_row(body, field, lm, frames: int, save: Path | None = None, tag: str = "", presets=("arranged",)):
    from pipeline.core.garment.normalise import normalise_garment

    g, _ = normalise_garment(read_obj(SHARED / "diffcloth_skirt" / "skirt3448.obj"))
    kind = detect_type(g.vertices, g.faces)
    t0 = time.perf_counter()
    result = fit_garment(g, body, garment_type=kind)
    ours = measure(body, field, lm, result.vertices, g.faces, kind, time.perf_counter() - t0)
    start = field.push_out(place_garment(g.vertices, g.faces, body, kind), 0.0025)
    _save(save, f"{tag}_ours", result.vertices, g.faces)
    bases, runs = {}, {}
    for preset in presets:
        # no pattern, no seams: the arranged reference is the careful one from the same placed start
        same = {"careful": "arranged", "arranged": "careful"}.get(preset)
        if same in bases:
            bases[preset], runs[preset] = bases[same], runs[same]
        else:
            x, bl_s, n = blender_cloth(body, start, np.asarray(g.faces), frames, profile=preset)
            bases[preset] = measure(body, field, lm, x, g.faces, kind, bl_s) | {"frames": n}
            runs[preset] = x
        _save(save, f"{tag}_{_ref_tag(preset)}", runs[preset], g.faces)
    return len(g.vertices), ours, bases


# Blender's own cloth presets (scripts/presets/cloth) for the Cusick rows: (preset, areal density of ours)
CUSICK = {"silk-satin": "Silk", "cotton-jersey": "Cotton", "denim-twill": "Denim", "leather": "Leather"}


def _blender_preset(settings, preset: str) -> None:
    """Apply a Blender cloth preset (stiffness, damping, quality, mass per vertex)."""
    path = Path(bpy.utils.preset_paths("cloth")[0]) / f"{preset}.py"
    for line in path.read_text().splitlines():
        if line.startswith("bpy.context.cloth.settings."):
            name, value = line.removeprefix("bpy.context.cloth.settings.").split(" = ")
            setattr(settings, name, eval(value))  # noqa: S307 - Blender's own preset file


def cusick_rows(frames: int, save: Path | None = None) -> list[tuple]:
    """The Cusick drape test per fabric: a 30 cm disc of cloth dropped on an 18 cm pedestal, ours (the panel
    drape's dihedral settings) against Blender's cloth with its matching preset as artists use it (the preset
    whole, its mass per vertex included: with the fabric's true areal density Blender's cloth does not fall
    off the pedestal at all), both until settled; drape coefficient, nodes, fold share and seconds."""
    import trimesh

    from pipeline.core.fit.drape_metrics import CUSICK_PEDESTAL_M, cusick_disc, cusick_figures
    from pipeline.core.fit.fabrics import get_fabric
    from pipeline.core.fit.solver import ClothSolver, DrapeSettings

    disc, faces = cusick_disc(0.015)
    x0 = disc + [0.0, 0.0, 0.004]
    ped = trimesh.creation.cylinder(radius=CUSICK_PEDESTAL_M, height=0.3, sections=64)
    ped.apply_translation([0, 0, -0.15])
    pv, pf = np.asarray(ped.vertices), np.asarray(ped.faces)
    field = BodyField(pv, pf)
    rows = []
    for fabric, preset in CUSICK.items():
        fab = get_fabric(fabric)
        s = DrapeSettings(
            steps=120, min_steps=60, bending="dihedral", perturb_m=0.002, inertia=True, dt=1 / 90
        )
        t0 = time.perf_counter()
        x, _ = ClothSolver(faces, x0, fab, field, s).settle(x0)
        ours = {
            **cusick_figures(x),
            "folds": fold_share(x, faces),
            "crumple": crumple_share(x, faces),
            "s": time.perf_counter() - t0,
        }
        y, bl_s, n = blender_cloth(_Body(pv, pf), x0, faces, frames, preset=preset)
        base = {
            **cusick_figures(y),
            "folds": fold_share(y, faces),
            "crumple": crumple_share(y, faces),
            "s": bl_s,
            "frames": n,
        }
        _save(save, f"cusick_{fabric}_ours", x, faces)
        _save(save, f"cusick_{fabric}_blender", y, faces)
        rows.append((fabric, preset, ours, base))
    return rows


class _Body:
    def __init__(self, vertices, faces):
        self.vertices, self.faces = vertices, faces


def verdict(ours: dict, base: dict) -> list[str]:
    fold_rel = abs(ours["folds"] - base["folds"]) / max(base["folds"], 1e-9)
    checks = [
        (f"barrel {ours['barrel']:.3f} <= {GOAL_BARREL}", ours["barrel"] <= GOAL_BARREL),
        (
            f"poke {100 * ours['poke_share']:.2f} % <= 0.2 %, {ours['poke_max_mm']:.1f} mm <= 5 mm",
            ours["poke_share"] <= GOAL_POKE_SHARE and ours["poke_max_mm"] <= GOAL_POKE_MM,
        ),
        (f"folds within {100 * fold_rel:.0f} % of Blender's (<= 25 %)", fold_rel <= GOAL_FOLD_REL),
        (f"x{base['s'] / ours['s']:.1f} faster (>= 10x)", base["s"] / ours["s"] >= GOAL_SPEEDUP),
    ]
    return [f"{'PASS' if ok else 'FAIL'} {text}" for text, ok in checks]


def _still_tile(body, vertices: np.ndarray, faces: np.ndarray, view: str, path: Path) -> np.ndarray:
    """One Workbench tile (360x480, flat shading so each fold and crumple shows): cloth on the body, front or
    side, orthographic (a Cusick disc without a body: from above at 35 degrees); returns its RGBA pixels."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "BLENDER_WORKBENCH"
    sc.display.shading.light = "STUDIO"
    sc.display.shading.color_type = "OBJECT"
    sc.render.resolution_x, sc.render.resolution_y = 360, 480
    if body is not None:
        _mesh_object("Body", body.vertices, body.faces).color = (0.8, 0.7, 0.6, 1.0)
    _mesh_object("Cloth", vertices, faces).color = (0.35, 0.55, 0.85, 1.0)
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    sc.collection.objects.link(cam)
    sc.camera = cam
    cam.data.type = "ORTHO"
    zc, height = float(vertices[:, 2].mean()), float(np.ptp(vertices[:, 2]))
    cam.data.ortho_scale = max(height + 0.25, 0.7) if body is not None else 0.36
    if body is None:
        cam.location, cam.rotation_euler = (0.0, -0.5, 0.35), (np.radians(55), 0.0, 0.0)
    elif view == "front":
        cam.location, cam.rotation_euler = (0.0, -3.0, zc), (np.pi / 2, 0.0, 0.0)
    else:
        cam.location, cam.rotation_euler = (3.0, 0.0, zc), (np.pi / 2, 0.0, np.pi / 2)
    sc.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    w, h = img.size
    return np.asarray(img.pixels[:], np.float32).reshape(h, w, 4)


def render_stills(save: Path, out: Path, bodies: dict) -> list[Path]:
    """For every pair of drapes `--save` wrote in `save` ({body}_{garment}_ours/_blender.obj and the Cusick
    discs), one PNG in `out`: ours front and side, then Blender's front and side, then the legacy Blender run's
    if saved (a disc: one view each)."""
    from pipeline.core.garment.mesh import read_obj

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ours in sorted(save.glob("*_ours.obj")):
        tag = ours.name.removesuffix("_ours.obj")
        if not tag.startswith("cusick") and tag.split("_")[0] not in bodies:
            continue
        body = None if tag.startswith("cusick") else bodies[tag.split("_")[0]]
        views = ("front",) if body is None else ("front", "side")
        tiles = []
        for which in ("ours", "blender-arranged", "blender", "blender-legacy"):
            if not (save / f"{tag}_{which}.obj").exists():
                continue
            g = read_obj(save / f"{tag}_{which}.obj")
            for view in views:
                tiles.append(_still_tile(body, g.vertices, np.asarray(g.faces), view, out / "_tile.png"))
        canvas = np.concatenate(tiles, axis=1)
        img = bpy.data.images.new(tag, canvas.shape[1], canvas.shape[0])
        img.pixels = canvas.ravel()
        img.filepath_raw = str(out / f"{tag}.png")
        img.file_format = "PNG"
        img.save()
        written.append(out / f"{tag}.png")
    (out / "_tile.png").unlink(missing_ok=True)
    return written


def print_cusick(rows: list[tuple]) -> None:
    head = (
        f"{'fabric':14} {'blender preset':14} | {'method':8} {'drape coef':>10} {'nodes':>5} {'folds>15':>8} "
        f"{'crumple':>7} {'time s':>7}"
    )
    print(head)
    print("-" * len(head))
    for fabric, preset, ours, base in rows:
        for label, r in (("ours", ours), ("blender", base)):
            extra = f" ({r['frames']} frames)" if "frames" in r else ""
            print(
                f"{fabric:14} {preset:14} | {label:8} {r['drape_coefficient']:10.2f} {r['nodes']:5d} "
                f"{r['folds']:8.3f} {r['crumple']:7.2f} {r['s']:7.2f}{extra}"
            )
    print()


def print_rows(rows: list[tuple], presets: tuple[str, ...]) -> None:
    """The bench table: ours then each reference per garment, and the goals' verdict against the first."""
    head = (
        f"{'body':8} {'garment':15} {'verts':>5} | {'method':8} {'barrel':>6} {'gap p10/50/90 mm':>18} "
        f"{'folds>15':>8} {'crumple':>7} {'poke %':>6} {'poke mm':>7} {'in mm':>5} {'time s':>7}"
    )
    print(head)
    print("-" * len(head))
    for body_name, name, nv, ours, bases in rows:
        for label, r in (("ours", ours), *((_ref_tag(k), v) for k, v in bases.items())):
            gaps = f"{r['gap_p10_mm']:.1f}/{r['gap_p50_mm']:.1f}/{r['gap_p90_mm']:.1f}"
            extra = f" ({r['frames']} frames)" if "frames" in r else ""
            extra += f" non-crumple folds {r['folds'] * (1 - r['crumple']):.3f}"
            extra += f" [2nd figure: folds after Taubin smoothing {r['smoothed_folds']:.3f}] hem fall {r['hem_fall']:.3f}"
            if "strain_p99" in r:
                extra += f" strain p50/p99 {r['strain_p50']:.3f}/{r['strain_p99']:.3f} hem hoop {r['hem_hoop']:.3f}"
            if "gap_mm" in r:
                sewn_gap = f" ({r['gap_sewn_mm']:.1f} after sewing)" if "gap_sewn_mm" in r else ""
                extra += f" seam gap max {r['gap_mm']:.1f} mm{sewn_gap}"
            print(
                f"{body_name:8} {name:15} {nv:5d} | {label:8} {r['barrel']:6.3f} {gaps:>18} {r['folds']:8.3f} {r['crumple']:7.2f} "
                f"{100 * r['poke_share']:6.2f} {r['poke_max_mm']:7.1f} {r['inside_max_mm']:5.1f} {r['s']:7.2f}{extra}"
            )
        print(f"{'':26} " + "; ".join(verdict(ours, bases[presets[0]])) + f" (vs {_ref_tag(presets[0])})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150, help="most frames Blender runs (24 fps)")
    ap.add_argument("--only", default="tshirt,skirt,diffcloth-skirt")
    ap.add_argument("--bodies", default="default,heavy")
    ap.add_argument("--save", type=Path, help="folder to write both drapes of every row as OBJ")
    ap.add_argument(
        "--stills",
        type=Path,
        help="with --save: also Workbench stills of both drapes of every row, in this folder",
    )
    ap.add_argument("--stills-only", action="store_true", help="only render the stills of an earlier --save")
    ap.add_argument(
        "--cusick", action="store_true", help="also the Cusick drape test per fabric vs Blender's presets"
    )
    ap.add_argument("--cusick-only", action="store_true", help="only the Cusick drape test")
    ap.add_argument(
        "--no-hang",
        action="store_true",
        help="ours: skirts with the panel drape's earlier quasi-static settle (hang=False: no waistband pinned)",
    )
    ap.add_argument(
        "--blender-preset",
        default="arranged",
        help="Blender reference set-up(s), comma-separated, the first one judged: arranged (the careful "
        "settings, the body panels bent round the body, sewn without gravity, then settled), careful (the cotton "
        "preset, stable quality, self-collision, wholly flat panels, gravity from the start) or legacy (the "
        "earlier run: true mass per vertex with the modifier's stiffness, quality 5, no self-collision, the "
        "partly wrapped start)",
    )
    args = ap.parse_args()
    if args.stills and not args.save:
        ap.error("--stills needs --save DIR (the drapes it renders)")
    if args.stills_only:
        bodies = {name: body_arrays(BODIES[name] or None) for name in args.bodies.split(",")}
        print("\n".join(map(str, render_stills(args.save, args.stills, bodies))))
        return 0
    if args.cusick or args.cusick_only:
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
        print_cusick(cusick_rows(args.frames, args.save))
        if args.cusick_only:
            return 0
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    only = args.only.split(",")
    presets = tuple(args.blender_preset.split(","))
    # warm-up: Warp's kernels compile (or load from the disk cache) on first use; not part of a fit's time
    warm = body_arrays()
    drape_sewn(sewn_garment("skirt", warm)[0], warm)
    rows = []
    for body_name in args.bodies.split(","):
        body = body_arrays(BODIES[body_name] or None)
        field = BodyField(body.vertices, body.faces)
        lm = body_landmarks(body)
        for name in only:
            tag = f"{body_name}_{name}"
            if name == "diffcloth-skirt":
                if body_name != "default":
                    continue
                row = shared_row(body, field, lm, args.frames, args.save, tag, presets)
            else:
                row = pattern_row(
                    name, body, field, lm, args.frames, args.save, tag, presets, not args.no_hang
                )
            rows.append((body_name, name, *row))
            print(f"done {body_name} {name}", file=sys.stderr, flush=True)
    print_rows(rows, presets)
    if args.stills:
        bodies = {name: body_arrays(BODIES[name] or None) for name in args.bodies.split(",")}
        print("\n".join(map(str, render_stills(args.save, args.stills, bodies))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Garment clean-up, start to finish: import, normalise (units, up axis, centre), repair (duplicates,
degenerate and non-manifold faces, floaters, normals, small holes), decimate, bake vertex colours, export,
and a report. `clean_garment_file` serves the CLI; `clean_garment_object` the Blender panel."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.core.errors import UserError
from pipeline.core.garment import repair
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.garment.normalise import normalise_garment
from pipeline.core.garment.report import CleanReport, mesh_stats
from pipeline.core.progress import ProgressCallback, silent

# Switchable steps, in the order they run (the CLI offers --no-<step> for each).
CLUSTER_ABOVE = 4  # UV-less scans denser than this many times the budget are first patch-merged to 4x it
STEPS = (
    "normalise",
    "merge",
    "degenerate",
    "non_manifold",
    "floaters",
    "normals",
    "holes",
    "decimate",
    "bake",
)


@dataclasses.dataclass
class CleanOptions:
    """Every clean-up step and its main threshold; the defaults suit scans and hand-made garments alike."""

    normalise: bool = True
    units: str = "auto"  # auto, mm, cm, dm, m
    up: str = "auto"  # auto or +x/-x/+y/-y/+z/-z
    centre: bool = True
    front: str = "auto"  # auto (turn to face -Y when the neckline shows the front) or keep
    merge: bool = True
    merge_tolerance_m: float = 1e-5
    degenerate: bool = True
    non_manifold: bool = True
    floaters: bool = True
    floater_size_fraction: float = 0.1  # loose parts smaller than this share of the main part...
    floater_face_fraction: float = 0.01  # ...and lighter than this share of all faces go
    normals: bool = True
    holes: bool = True
    max_hole_size_m: float = 0.05  # wider boundary loops are openings (neck, sleeve, hem) and stay open
    decimate: bool = True
    target_faces: int = 50_000
    bake: bool = True
    texture_size: int = 1024
    max_faces: int = 3_000_000
    object_name: str | None = None
    allowed_dirs: tuple[str, ...] = ()  # folders besides the garment's own that its references may use

    def validate(self) -> None:
        if self.target_faces < 100:
            raise UserError(f"--target-faces must be at least 100, not {self.target_faces}")
        if self.max_hole_size_m < 0:
            raise UserError("--max-hole-size must not be negative")
        if not 16 <= self.texture_size <= 8192:
            raise UserError(f"--texture-size must be between 16 and 8192, not {self.texture_size}")


def clean_garment_mesh(
    mesh: GarmentMesh,
    options: CleanOptions | None = None,
    progress: ProgressCallback = silent,
    report: CleanReport | None = None,
    bake_path: str | Path | None = None,
) -> tuple[GarmentMesh, CleanReport]:
    """Run the enabled steps on `mesh` and return the cleaned mesh and the report of what each changed.

    Decimation and colour baking need Blender (bpy); every other step is numpy only.
    """
    options = options or CleanOptions()
    options.validate()
    report = report or CleanReport()
    report.before = report.before or mesh_stats(mesh)
    _check_usable(mesh)
    plan: list[tuple[str, Callable[[GarmentMesh], tuple[GarmentMesh, dict]]]] = [
        ("normalise", lambda m: _normalise(m, options, report)),
        ("merge", lambda m: repair.merge_duplicate_vertices(m, options.merge_tolerance_m)),
        ("degenerate", repair.remove_degenerate_faces),
        ("non_manifold", repair.remove_non_manifold_faces),
        (
            "floaters",
            lambda m: repair.remove_floaters(m, options.floater_size_fraction, options.floater_face_fraction),
        ),
        ("normals", repair.orient_faces),
        ("holes", lambda m: repair.fill_holes(m, options.max_hole_size_m)),
        ("decimate", lambda m: _decimate(m, options.target_faces)),
        ("bake", lambda m: _bake(m, options, bake_path)),
    ]
    for i, (name, step) in enumerate(plan):
        if not getattr(options, name):
            report.add(name, enabled=False)
            continue
        progress(i / len(plan), name.replace("_", " "))
        start = time.perf_counter()
        mesh, details = step(mesh)
        if len(mesh.faces) == 0:
            raise UserError(
                f"nothing is left of the garment after the '{name}' step; try --no-{name.replace('_', '-')}"
            )
        report.add(name, seconds=time.perf_counter() - start, **details)
        if name == "holes" and details.get("openings"):
            perims = ", ".join(f"{p:.2f}" for p in details["opening_perimeters_m"][:8])
            report.warn(f"{details['openings']} openings found (kept open; perimeters {perims} m)")
    report.after = mesh_stats(mesh)
    progress(1.0, "cleaned")
    return mesh, report


def _check_usable(mesh: GarmentMesh) -> None:
    import numpy as np

    if len(mesh.faces) == 0:
        raise UserError("the garment has no faces (a point cloud?); clean needs a surface mesh")
    if not np.isfinite(mesh.vertices).all():
        raise UserError("the garment has NaN or infinite vertex coordinates")


def _normalise(mesh: GarmentMesh, options: CleanOptions, report: CleanReport) -> tuple[GarmentMesh, dict]:
    out, record = normalise_garment(
        mesh, units=options.units, up=options.up, centre=options.centre, front=options.front
    )
    for w in record.pop("warnings"):
        report.warn(w)
    return out, record


def _decimate(mesh: GarmentMesh, target_faces: int) -> tuple[GarmentMesh, dict]:
    """Quadric edge collapse (Blender) to the budget. Dense meshes without UVs (scans: their UVs come with
    the colour bake) first get a fast patch merge to 4x the budget; with UVs that would fold some of them."""
    before = len(mesh.faces)
    if before <= target_faces:
        return mesh, {"faces_before": before, "faces_after": before, "skipped": "within budget"}
    from pipeline.blender.garment_ops import decimate

    details: dict = {}
    if CLUSTER_ABOVE and before > CLUSTER_ABOVE * target_faces and mesh.uv is None:
        mesh, details["clustering"] = repair.cluster_vertices(mesh, CLUSTER_ABOVE * target_faces)
    mesh, quadric = decimate(mesh, target_faces)
    details.update(quadric, faces_before=before)
    return mesh, details


def _bake(mesh: GarmentMesh, options: CleanOptions, bake_path: str | Path | None) -> tuple[GarmentMesh, dict]:
    if mesh.vertex_colors is None or (mesh.uv is not None and mesh.texture_path):
        return mesh, {
            "skipped": "no vertex colours to bake" if mesh.vertex_colors is None else "already textured"
        }
    if mesh.uv is not None:
        return mesh, {"skipped": "has UVs: vertex colours kept as a colour attribute"}
    from pipeline.blender.garment_ops import bake_vertex_colors

    if bake_path is None:
        from pipeline.core.scratch import scratch_dir

        bake_path = scratch_dir("bake-") / f"{mesh.name}_basecolor.png"
    return bake_vertex_colors(mesh, bake_path, options.texture_size)


def clean_garment_file(
    path: str | Path,
    out: str | Path,
    options: CleanOptions | None = None,
    progress: ProgressCallback = silent,
) -> CleanReport:
    """Import `path` (in a memory- and time-limited child process; referenced files only from its folder or
    `options.allowed_dirs`), clean it and write `out` (.glb/.gltf/.obj/.blend); return the report (not yet
    written)."""
    from pipeline.app.limited_import import import_garment_limited
    from pipeline.core.files import check_output_file
    from pipeline.core.garment.filecheck import check_garment_input
    from pipeline.core.garment.mesh import require_garment
    from pipeline.core.untrusted import clip

    options = options or CleanOptions()
    options.validate()
    out = check_output_file(out, "--out", (".glb", ".gltf", ".obj", ".blend"))
    start = time.perf_counter()
    progress(0.0, "import")
    check_garment_input(
        path, options.max_faces, options.allowed_dirs
    )  # headers: milliseconds, before Blender
    mesh, info = import_garment_limited(path, options.object_name, options.max_faces, options.allowed_dirs)
    require_garment(mesh, clip(str(path)))
    from pipeline.blender.garment_ops import export_garment  # bpy only once the file is known to be sane

    report = CleanReport(input=str(path), output=str(out), format=info["format"], objects=info["objects"])
    report.before = mesh_stats(mesh)
    for w in info["warnings"]:
        report.warn(w)
    report.add(
        "import",
        seconds=time.perf_counter() - start,
        objects=info["objects"],
        welded_vertices=info["welded_vertices"],
    )

    def sub(fraction: float, message: str) -> None:
        progress(0.05 + 0.85 * fraction, message)

    bake_png = out.with_name(f"{out.stem}_basecolor.png")
    mesh.name = Path(path).stem if options.object_name is None else options.object_name
    mesh, report = clean_garment_mesh(mesh, options, sub, report, bake_path=bake_png)
    progress(0.92, "export")
    t = time.perf_counter()
    export_garment(mesh, out)
    report.add("export", seconds=time.perf_counter() - t, path=str(out))
    report.seconds = time.perf_counter() - start
    progress(1.0, "done")
    return report


def clean_garment_object(
    obj, options: CleanOptions | None = None, progress: ProgressCallback = silent
) -> CleanReport:
    """Clean a mesh object of the open Blender scene in place (its mesh is replaced; transform applied)."""
    from pipeline.blender.garment_ops import replace_object_mesh
    from pipeline.blender.importers import object_to_garment

    if obj is None or obj.type != "MESH":
        raise UserError("select a mesh object to clean")
    start = time.perf_counter()
    warnings: list[str] = []
    mesh = object_to_garment(obj, warnings)
    report = CleanReport(input=obj.name, output=obj.name, format="blender object", objects=[obj.name])
    for w in warnings:
        report.warn(w)
    mesh, report = clean_garment_mesh(mesh, options, progress, report)
    replace_object_mesh(obj, mesh)
    report.seconds = time.perf_counter() - start
    return report

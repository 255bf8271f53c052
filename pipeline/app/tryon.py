"""The try-on job's computing half (no bpy): build the avatar body, pose it, load the garment and fit it; the
result is plain arrays that a worker process can hand to Blender's own Python as .npz files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.deps import REPO_ROOT
from pipeline.core.fit.dressed import BodyRequest, Dressed
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.progress import ProgressCallback, silent

DEFAULT_GARMENT = REPO_ROOT / "garments" / "tshirt.obj"


def load_garment_file(path: str | os.PathLike) -> GarmentMesh:
    """Read any garment file through Blender's importers (in a limited child process), in metres, Z up, facing
    -Y (units/axes detected); refuse what cannot be a garment."""
    from pipeline.app.limited_import import import_garment_limited
    from pipeline.core.garment.mesh import require_garment
    from pipeline.core.garment.normalise import normalise_garment
    from pipeline.core.untrusted import clip

    mesh, _info = import_garment_limited(path)
    require_garment(mesh, clip(str(path)))
    mesh, _record = normalise_garment(mesh, centre=False)
    return mesh


def load_garment_source(path: str | os.PathLike) -> tuple[GarmentMesh, dict]:
    """The garment (as `load_garment_file`) and what the fit needs to know of its file: the unit it was read
    in, and MakeHuman's `.mhclo` binding when one sits beside it."""
    from pipeline.blender.importers import import_garment_info
    from pipeline.core.errors import UserError
    from pipeline.core.fit.mhclo import find_mhclo, read_mhclo
    from pipeline.core.garment.normalise import normalise_garment

    if not Path(path).is_file():
        raise UserError(f"garment file not found: {path}")
    raw, _info = import_garment_info(path)
    garment, record = normalise_garment(raw, centre=False)
    clo_path = find_mhclo(path)
    return garment, {"units_loaded": record.get("units"), "mhclo": read_mhclo(clo_path) if clo_path else None}


def make_body(request: BodyRequest | None, progress: ProgressCallback = silent) -> tuple[BodyArrays, dict]:
    """The avatar body for `request` (anny fitted to measurements or a size; anny's default body when None)."""
    from pipeline.core.body.anny_model import body_arrays

    if request is None or request.is_default():
        return body_arrays(), {"default_body": True}
    from pipeline.core.body.avatar_body import fit_body

    return fit_body(request.measurements, request.size, request.sex, progress, request.source)


def garment_paths(garment_path) -> list[str]:
    """One path or several (an outfit from several files) as a list of strings."""
    if isinstance(garment_path, (str, os.PathLike)):
        return [str(garment_path)]
    return [str(p) for p in garment_path]


def load_pieces(
    paths: list[str],
    garment_types: list[str | None] | None = None,
    placement: str = "auto",
    scale: float | tuple[float, float, float] | None = None,
) -> tuple[list, Any]:
    """Every piece of every garment file, typed (`--type`, one per file, applies to one-piece files), in layer
    order (inside first), and the placer that moves each whole file from the body it was made for onto a body
    (`placement`, see `pipeline.core.fit.api.transfer_placement`) for `fit_outfit`."""
    from pipeline.core.errors import UserError
    from pipeline.core.fit.api import transfer_placement
    from pipeline.core.fit.outfit import LAYER, split_outfit

    types = list(garment_types or [])
    if len(types) > len(paths):
        raise UserError(f"--type given {len(types)} times for {len(paths)} --garment file(s)")
    pieces, files = [], []
    for i, path in enumerate(paths):
        garment, source = load_garment_source(path)
        files.append((garment, source))
        found = split_outfit(garment)
        for p in found:
            p.source = i
        kind = types[i] if i < len(types) else None
        if kind:
            if len(found) > 1:
                listed = ", ".join(p.garment_type for p in found)
                raise UserError(
                    f"--type {kind}: {Path(path).name} holds {len(found)} pieces ({listed}); give --type for one-piece garments only"
                )
            found[0].garment_type = kind
        pieces.extend(found)

    def place(i: int, body):
        garment, source = files[i]
        placed = transfer_placement(garment, body, placement, source["mhclo"], scale, source["units_loaded"])
        return None if placed is None else placed[:2]

    return sorted(pieces, key=lambda p: LAYER.get(p.garment_type, 0)), place


def dress(
    garment_path: str | os.PathLike | list = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    pose: str = "a-pose",
    garment_type: str | list[str | None] | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
    placement: str = "auto",
    scale: float | tuple[float, float, float] | None = None,
) -> Dressed:
    """Fit the garment(s) at `garment_path` (one file or several worn together; each split into its pieces)
    onto the avatar asked for by `request`, posed with `pose`; each file is moved from the body it was made for
    (`placement`, see `pipeline.core.fit.api.transfer_placement`). The stats of the first piece carry the whole
    outfit's `pieces` figures and `warnings` (the quality gates)."""
    from pipeline.core.body.poses import check_pose, pose_body
    from pipeline.core.fit.outfit import fit_outfit

    check_pose(pose)
    progress(0.02, "loading the garment")
    types = garment_type if isinstance(garment_type, list) else [garment_type]
    pieces, place = load_pieces(garment_paths(garment_path), types, placement, scale)
    progress(0.05, "building the avatar")
    body, body_record = make_body(request, lambda f, m="": progress(0.05 + 0.1 * f, m))
    posed = pose_body(body, pose)
    progress(0.15, "fitting the garment")
    fitted = fit_outfit(
        pieces,
        posed,
        fabric=fabric,
        progress=lambda f, m="": progress(0.15 + 0.85 * f, m),
        scale=scale,
        place=place,
    )
    first = fitted[0].result
    first.stats = dict(
        first.stats,
        body=body_record,
        pieces=[dict(fp.result.stats) for fp in fitted],
        warnings=[w for fp in fitted for w in fp.result.stats.get("warnings", [])],
    )
    progress(1.0, "fitted")
    extra = [(fp.piece.garment, fp.result) for fp in fitted[1:]]
    return Dressed(posed, fitted[0].piece.garment, first, pose, extra)


def compute_dressed(
    garment_path: str | os.PathLike | list = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    pose: str = "a-pose",
    garment_type: str | list[str | None] | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
    placement: str = "auto",
    scale: float | tuple[float, float, float] | None = None,
) -> Dressed:
    """`dress` here when this Python has torch, else in the project's environment (one worker call)."""
    from pipeline.app import worker

    return worker.call(
        "dress",
        progress,
        garment_path=[str(Path(g).resolve()) for g in garment_paths(garment_path)],
        request=request,
        pose=pose,
        garment_type=garment_type,
        fabric=fabric,
        placement=placement,
        scale=scale,
    )


def run_tryon(
    out_dir: str | os.PathLike,
    garment_path: str | os.PathLike | list = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    render: dict | None = None,
    material: str = "mannequin",
    pose: str = "a-pose",
    garment_type: str | list[str | None] | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
    placement: str = "auto",
    scale: float | tuple[float, float, float] | None = None,
) -> dict:
    """The main job: dress the avatar, render `tryon.png`, save `tryon.blend` and `tryon.json` into `out_dir`."""
    from pipeline.blender.blendfile import new_scene, save_blend
    from pipeline.blender.render import render_scene_still
    from pipeline.blender.tryon_scene import build_dressed_scene
    from pipeline.core.errors import UserError
    from pipeline.core.files import write_json

    for g in garment_paths(garment_path):
        if not Path(g).is_file():
            raise UserError(f"garment file not found: {g}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    dressed = compute_dressed(
        garment_path,
        request,
        pose,
        garment_type,
        fabric,
        lambda f, m="": progress(0.6 * f, m),
        placement,
        scale,
    )
    t_fit = time.perf_counter() - t0
    progress(0.6, "building the scene")
    scene = new_scene()
    build_dressed_scene(dressed, material=material)
    progress(0.65, "rendering")
    info = render_scene_still(scene, out_dir / "tryon.png", **(render or {}))
    save_blend(out_dir / "tryon.blend")
    summary = {
        "png": str(out_dir / "tryon.png"),
        "blend": str(out_dir / "tryon.blend"),
        "garment": garment_paths(garment_path)[0]
        if len(garment_paths(garment_path)) == 1
        else garment_paths(garment_path),
        "pose": pose,
        "material": material,
        "fit": dressed.stats,
        "warnings": dressed.stats.get("warnings", []),
        "passed": not dressed.stats.get("warnings"),  # every piece within the quality limits
        "fit_s": round(t_fit, 2),
        "render": info,
        "total_s": round(time.perf_counter() - t0, 2),
    }
    write_json(out_dir / "tryon.json", summary)
    progress(1.0, "done")
    return summary

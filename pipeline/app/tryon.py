"""The try-on job's computing half (no bpy): build the avatar body, pose it, load the garment and fit it; the
result is plain arrays that a worker process can hand to Blender's own Python as .npz files."""

from __future__ import annotations

import os
import time
from pathlib import Path

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


def make_body(request: BodyRequest | None, progress: ProgressCallback = silent) -> tuple[BodyArrays, dict]:
    """The avatar body for `request` (anny fitted to measurements or a size; anny's default body when None)."""
    from pipeline.core.body.anny_model import body_arrays

    if request is None or request.is_default():
        return body_arrays(), {"default_body": True}
    from pipeline.core.body.avatar_body import fit_body

    return fit_body(request.measurements, request.size, request.sex, progress, request.source)


def dress(
    garment_path: str | os.PathLike = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    pose: str = "a-pose",
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> Dressed:
    """Fit the garment at `garment_path` onto the avatar asked for by `request`, posed with `pose`."""
    from pipeline.core.body.poses import check_pose, pose_body
    from pipeline.core.fit.api import fit_garment

    check_pose(pose)
    progress(0.02, "loading the garment")
    garment = load_garment_file(garment_path)
    progress(0.05, "building the avatar")
    body, body_record = make_body(request, lambda f, m="": progress(0.05 + 0.1 * f, m))
    posed = pose_body(body, pose)
    progress(0.15, "fitting the garment")
    result = fit_garment(
        garment,
        posed,
        garment_type=garment_type,
        fabric=fabric,
        progress=lambda f, m="": progress(0.15 + 0.85 * f, m),
    )
    result.stats = dict(result.stats, body=body_record)
    progress(1.0, "fitted")
    return Dressed(posed, garment, result, pose)


def compute_dressed(
    garment_path: str | os.PathLike = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    pose: str = "a-pose",
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> Dressed:
    """`dress` here when this Python has torch, else in the project's environment (one worker call)."""
    from pipeline.app import worker

    return worker.call(
        "dress",
        progress,
        garment_path=str(Path(garment_path).resolve()),
        request=request,
        pose=pose,
        garment_type=garment_type,
        fabric=fabric,
    )


def run_tryon(
    out_dir: str | os.PathLike,
    garment_path: str | os.PathLike = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    render: dict | None = None,
    material: str = "mannequin",
    pose: str = "a-pose",
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> dict:
    """The main job: dress the avatar, render `tryon.png`, save `tryon.blend` and `tryon.json` into `out_dir`."""
    from pipeline.blender.blendfile import new_scene, save_blend
    from pipeline.blender.render import render_scene_still
    from pipeline.blender.tryon_scene import build_dressed_scene
    from pipeline.core.errors import UserError
    from pipeline.core.files import write_json

    if not Path(garment_path).is_file():
        raise UserError(f"garment file not found: {garment_path}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    dressed = compute_dressed(
        garment_path, request, pose, garment_type, fabric, lambda f, m="": progress(0.6 * f, m)
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
        "garment": str(garment_path),
        "pose": pose,
        "material": material,
        "fit": dressed.stats,
        "fit_s": round(t_fit, 2),
        "render": info,
        "total_s": round(time.perf_counter() - t0, 2),
    }
    write_json(out_dir / "tryon.json", summary)
    progress(1.0, "done")
    return summary

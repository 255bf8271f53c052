"""The try-on job's Blender half: get a Dressed result (in-process, or from a worker process when this Python
has no torch), build the rigged avatar and the bound garment, render the still and save the scene."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pipeline.env import run_worker, use_worker_for
from pipeline.progress import ProgressCallback, silent
from pipeline.tryon import DEFAULT_GARMENT, BodyRequest, Dressed


def compute_dressed(
    garment_path: str | os.PathLike = DEFAULT_GARMENT,
    request: BodyRequest | None = None,
    pose: str = "a-pose",
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> Dressed:
    """Run `pipeline.tryon.dress` here when torch is available, else in the project's environment."""
    if not use_worker_for("torch"):
        from pipeline.tryon import dress

        return dress(garment_path, request, pose, garment_type, fabric, progress)
    from pipeline.files import write_json

    progress(0.05, "fitting in the pipeline environment")
    with tempfile.TemporaryDirectory(prefix="tryon-") as tmp:
        npz = Path(tmp) / "dressed.npz"
        argv = ["tryon-compute", "--garment", str(Path(garment_path).resolve()), "--out", str(npz),
                "--pose", pose, "--fabric", fabric]
        if garment_type:
            argv += ["--type", garment_type]
        if request is not None and request.measurements is not None:
            write_json(Path(tmp) / "measurements.json", request.measurements)
            argv += ["--measurements", str(Path(tmp) / "measurements.json")]
        if request is not None and request.size is not None:
            argv += ["--size", request.size]
        if request is not None and request.sex is not None:
            argv += ["--sex", request.sex]
        run_worker(argv, step="fitting the garment")
        return Dressed.load(npz)


def build_dressed_scene(dressed: Dressed, material: str = "mannequin"):
    """The rigged avatar in its pose, with the fitted garment bound to its armature; returns both objects."""
    from pipeline.scene.avatar import build_avatar
    from pipeline.scene.dress import dress_avatar

    avatar = build_avatar(dressed.body, "Avatar", material=material, pose=dressed.pose)
    garment = dress_avatar(avatar, dressed.body, dressed.garment, dressed.result, name=dressed.garment.name or "Garment")
    return avatar, garment


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
    from pipeline.errors import UserError
    from pipeline.files import write_json
    from pipeline.scene.blendfile import new_scene, save_blend
    from pipeline.scene.render import render_scene_still

    if not Path(garment_path).is_file():
        raise UserError(f"garment file not found: {garment_path}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    dressed = compute_dressed(garment_path, request, pose, garment_type, fabric, lambda f, m="": progress(0.6 * f, m))
    t_fit = time.perf_counter() - t0
    progress(0.6, "building the scene")
    scene = new_scene()
    build_dressed_scene(dressed, material=material)
    progress(0.65, "rendering")
    info = render_scene_still(scene, out_dir / "tryon.png", **(render or {}))
    save_blend(out_dir / "tryon.blend")
    summary = {"png": str(out_dir / "tryon.png"), "blend": str(out_dir / "tryon.blend"),
               "garment": str(garment_path), "pose": pose, "material": material,
               "fit": dressed.stats, "fit_s": round(t_fit, 2), "render": info,
               "total_s": round(time.perf_counter() - t0, 2)}
    write_json(out_dir / "tryon.json", summary)
    progress(1.0, "done")
    return summary

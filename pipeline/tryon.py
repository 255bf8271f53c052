"""The try-on job's computing half (no bpy): build the avatar body, pose it, load the garment and fit it; the
result is plain arrays that a worker process can hand to Blender's own Python as .npz files."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.body.anny_model import BodyArrays
from pipeline.env import REPO_ROOT
from pipeline.files import atomic_path
from pipeline.garment.mesh import GarmentMesh
from pipeline.progress import ProgressCallback, silent

DEFAULT_GARMENT = REPO_ROOT / "garments" / "tshirt.obj"
_RESULT_ARRAYS = ("vertices", "weights", "weight_bones", "strain", "pressure", "fit_colors")


@dataclasses.dataclass
class BodyRequest:
    """Which avatar to dress: a measurements object (file format), a standard size + sex, or the default body."""

    measurements: dict[str, Any] | None = None
    size: str | None = None
    sex: str | None = None
    source: str = "measurements"

    def is_default(self) -> bool:
        return self.measurements is None and self.size is None


@dataclasses.dataclass
class Dressed:
    """A posed avatar body, the garment as loaded, and its FitResult on that body."""

    body: BodyArrays
    garment: GarmentMesh
    result: Any  # pipeline.fit.api.FitResult
    pose: str = "a-pose"

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    def save(self, path: str | os.PathLike) -> None:
        """Save as `path` (garment + fit) and a sibling `.body.npz` (the body)."""
        path = Path(path)
        self.body.save(path.with_suffix(".body.npz"))
        g, r = self.garment, self.result
        arrays = {"g_vertices": g.vertices, "g_faces": g.faces}
        arrays.update({f"g_{k}": getattr(g, k) for k in ("uv", "face_uv", "vertex_colors") if getattr(g, k) is not None})
        arrays.update({f"r_{k}": np.asarray(getattr(r, k)) for k in _RESULT_ARRAYS})
        meta = {"pose": self.pose, "name": g.name, "texture_path": g.texture_path, "base_color": list(g.base_color),
                "garment_type": r.garment_type, "stats": r.stats}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta_json=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Dressed:
        from pipeline.fit.api import FitResult

        path = Path(path)
        body = BodyArrays.load(path.with_suffix(".body.npz"))
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            opt = {k: (z[f"g_{k}"] if f"g_{k}" in z.files else None) for k in ("uv", "face_uv", "vertex_colors")}
            garment = GarmentMesh(vertices=z["g_vertices"], faces=z["g_faces"], texture_path=meta["texture_path"],
                                  base_color=tuple(meta["base_color"]), name=meta["name"], **opt)
            result = FitResult(garment_type=meta["garment_type"], stats=meta["stats"],
                               **{k: z[f"r_{k}"] for k in _RESULT_ARRAYS})
        return cls(body, garment, result, meta["pose"])


def load_garment_file(path: str | os.PathLike) -> GarmentMesh:
    """Read any garment file through Blender's importers, in metres, Z up, facing -Y (units/axes detected)."""
    from pipeline.errors import UserError
    from pipeline.scene.importers import import_garment

    if not Path(path).is_file():
        raise UserError(f"garment file not found: {path}")
    return import_garment(path)


def make_body(request: BodyRequest | None, progress: ProgressCallback = silent) -> tuple[BodyArrays, dict]:
    """The avatar body for `request` (anny fitted to measurements or a size; anny's default body when None)."""
    from pipeline.body.anny_model import body_arrays

    if request is None or request.is_default():
        return body_arrays(), {"default_body": True}
    from pipeline.body.avatar_body import fit_body

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
    from pipeline.body.poses import check_pose, pose_body
    from pipeline.fit.api import fit_garment

    check_pose(pose)
    progress(0.02, "loading the garment")
    garment = load_garment_file(garment_path)
    progress(0.05, "building the avatar")
    body, body_record = make_body(request, lambda f, m="": progress(0.05 + 0.1 * f, m))
    posed = pose_body(body, pose)
    progress(0.15, "fitting the garment")
    result = fit_garment(garment, posed, garment_type=garment_type, fabric=fabric,
                         progress=lambda f, m="": progress(0.15 + 0.85 * f, m))
    result.stats = dict(result.stats, body=body_record)
    progress(1.0, "fitted")
    return Dressed(posed, garment, result, pose)

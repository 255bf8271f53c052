"""The try-on job's computing half (no bpy): build the avatar body, load the garment, fit it; the result is
plain arrays that a worker process can hand to Blender's own Python as one .npz."""

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


@dataclasses.dataclass
class Dressed:
    """An avatar body and a garment fitted onto it, with the garment's skin weights and fit figures."""

    body: BodyArrays
    garment: GarmentMesh  # vertices are the fitted positions (world frame)
    weights: np.ndarray  # (G, K) garment skin weights
    weight_bones: np.ndarray  # (G, K) bone indices
    stats: dict[str, Any]

    def save(self, path: str | os.PathLike) -> None:
        """One .npz holding everything (the body goes to a sibling file)."""
        path = Path(path)
        self.body.save(path.with_suffix(".body.npz"))
        g = self.garment
        arrays = {"vertices": g.vertices, "faces": g.faces, "weights": self.weights, "weight_bones": self.weight_bones}
        if g.uv is not None and g.face_uv is not None:
            arrays.update(uv=g.uv, face_uv=g.face_uv)
        if g.vertex_colors is not None:
            arrays["vertex_colors"] = g.vertex_colors
        meta = {"stats": self.stats, "name": g.name, "texture_path": g.texture_path, "base_color": list(g.base_color)}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta_json=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Dressed:
        path = Path(path)
        body = BodyArrays.load(path.with_suffix(".body.npz"))
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            garment = GarmentMesh(
                vertices=z["vertices"], faces=z["faces"],
                uv=z["uv"] if "uv" in z.files else None, face_uv=z["face_uv"] if "face_uv" in z.files else None,
                vertex_colors=z["vertex_colors"] if "vertex_colors" in z.files else None,
                texture_path=meta["texture_path"], base_color=tuple(meta["base_color"]), name=meta["name"],
            )
            return cls(body, garment, z["weights"], z["weight_bones"], meta["stats"])


def load_garment_file(path: str | os.PathLike) -> GarmentMesh:
    """Read a garment: OBJ directly, every other format through Blender's importers."""
    path = Path(path)
    if path.suffix.lower() == ".obj":
        from pipeline.garment.mesh import read_obj

        return read_obj(path)
    from pipeline.scene.importers import import_garment

    return import_garment(path)


@dataclasses.dataclass
class BodyRequest:
    """Which avatar to dress: a measurements object (file format), a standard size + sex, or the default body."""

    measurements: dict[str, Any] | None = None
    size: str | None = None
    sex: str | None = None
    source: str = "measurements"

    def is_default(self) -> bool:
        return self.measurements is None and self.size is None


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
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> Dressed:
    """Fit the garment at `garment_path` onto the avatar asked for by `request` (default body when None)."""
    from pipeline.fit.api import fit_garment

    progress(0.02, "building the avatar")
    body, body_record = make_body(request, lambda f, m="": progress(0.02 + 0.08 * f, m))
    progress(0.1, "loading the garment")
    garment = load_garment_file(garment_path)
    progress(0.15, "fitting the garment")
    result = fit_garment(garment, body, garment_type=garment_type, fabric=fabric,
                         progress=lambda f, m="": progress(0.15 + 0.8 * f, m))
    fitted = garment.copy()
    fitted.vertices = np.asarray(result.vertices, dtype=np.float64)
    progress(1.0, "fitted")
    stats = dict(result.stats, body=body_record)
    return Dressed(body, fitted, np.asarray(result.weights), np.asarray(result.weight_bones), stats)

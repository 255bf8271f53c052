"""What a try-on hands from the compute side to Blender: the avatar asked for, and the dressed result as arrays
(saved as .npz so a worker process can pass it to Blender's own Python)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.files import atomic_path
from pipeline.core.garment.mesh import GarmentMesh

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
    result: Any  # pipeline.core.fit.api.FitResult
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
        arrays.update(
            {f"g_{k}": getattr(g, k) for k in ("uv", "face_uv", "vertex_colors") if getattr(g, k) is not None}
        )
        arrays.update({f"r_{k}": np.asarray(getattr(r, k)) for k in _RESULT_ARRAYS})
        meta = {
            "pose": self.pose,
            "name": g.name,
            "texture_path": g.texture_path,
            "base_color": list(g.base_color),
            "garment_type": r.garment_type,
            "stats": r.stats,
        }
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta_json=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Dressed:
        from pipeline.core.fit.api import FitResult

        path = Path(path)
        body = BodyArrays.load(path.with_suffix(".body.npz"))
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            opt = {
                k: (z[f"g_{k}"] if f"g_{k}" in z.files else None) for k in ("uv", "face_uv", "vertex_colors")
            }
            garment = GarmentMesh(
                vertices=z["g_vertices"],
                faces=z["g_faces"],
                texture_path=meta["texture_path"],
                base_color=tuple(meta["base_color"]),
                name=meta["name"],
                **opt,
            )
            result = FitResult(
                garment_type=meta["garment_type"],
                stats=meta["stats"],
                **{k: z[f"r_{k}"] for k in _RESULT_ARRAYS},
            )
        return cls(body, garment, result, meta["pose"])

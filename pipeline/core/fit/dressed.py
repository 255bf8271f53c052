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
    """A posed avatar body, the garment as loaded, and its FitResult on that body; an outfit's further pieces
    (layered over the first, inside-out) in `extra`."""

    body: BodyArrays
    garment: GarmentMesh
    result: Any  # pipeline.core.fit.api.FitResult
    pose: str = "a-pose"
    extra: list[tuple[GarmentMesh, Any]] = dataclasses.field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    @property
    def pieces(self) -> list[tuple[GarmentMesh, Any]]:
        """Every (garment, result) pair, innermost first."""
        return [(self.garment, self.result), *self.extra]

    def save(self, path: str | os.PathLike) -> None:
        """Save as `path` (garment + fit) and a sibling `.body.npz` (the body)."""
        path = Path(path)
        self.body.save(path.with_suffix(".body.npz"))
        arrays: dict[str, np.ndarray] = {}
        metas = []
        for i, (g, r) in enumerate(self.pieces):
            pre = "" if i == 0 else f"p{i}_"
            arrays.update({f"{pre}g_vertices": g.vertices, f"{pre}g_faces": g.faces})
            arrays.update(
                {
                    f"{pre}g_{k}": getattr(g, k)
                    for k in ("uv", "face_uv", "vertex_colors")
                    if getattr(g, k) is not None
                }
            )
            arrays.update({f"{pre}r_{k}": np.asarray(getattr(r, k)) for k in _RESULT_ARRAYS})
            if getattr(r, "limbs", None) is not None:
                arrays[f"{pre}r_limbs"] = np.asarray(r.limbs)
            metas.append(
                {
                    "name": g.name,
                    "texture_path": g.texture_path,
                    "base_color": list(g.base_color),
                    "garment_type": r.garment_type,
                    "stats": r.stats,
                }
            )
        meta = {"pose": self.pose, **metas[0], "extra": metas[1:]}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta_json=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Dressed:
        from pipeline.core.fit.api import FitResult

        path = Path(path)
        body = BodyArrays.load(path.with_suffix(".body.npz"))
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            pieces = []
            for i, m in enumerate([meta, *meta.get("extra", [])]):
                pre = "" if i == 0 else f"p{i}_"
                opt = {
                    k: (z[f"{pre}g_{k}"] if f"{pre}g_{k}" in z.files else None)
                    for k in ("uv", "face_uv", "vertex_colors")
                }
                garment = GarmentMesh(
                    vertices=z[f"{pre}g_vertices"],
                    faces=z[f"{pre}g_faces"],
                    texture_path=m["texture_path"],
                    base_color=tuple(m["base_color"]),
                    name=m["name"],
                    **opt,
                )
                result = FitResult(
                    garment_type=m["garment_type"],
                    stats=m["stats"],
                    limbs=z[f"{pre}r_limbs"] if f"{pre}r_limbs" in z.files else None,
                    **{k: z[f"{pre}r_{k}"] for k in _RESULT_ARRAYS},
                )
                pieces.append((garment, result))
        return cls(body, pieces[0][0], pieces[0][1], meta["pose"], pieces[1:])

"""The anny parametric body: one model configuration for the whole project, loaded once per process,
and a numpy snapshot of a body (mesh, UVs, rig, skin weights) in the scene's world frame (feet at z=0)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from pipeline.core.deps import require

# One configuration only: its first build takes ~140 s and ~1.2 GB of cache; later loads take <1 s.
MODEL_CONFIG: dict[str, Any] = {"local_changes": "default"}


@functools.lru_cache(maxsize=1)
def load_model():
    """The anny model (float32, CPU, 254 local controls), built once per process and cached on disk."""
    require("torch", "building the avatar")
    require("anny", "building the avatar")
    from pipeline.core.quiet import init_warp

    init_warp()  # anny skins with Warp: initialise it without its banner and CUDA warning
    import anny
    import torch

    return anny.Anny(**MODEL_CONFIG).to(torch.float32)


@dataclasses.dataclass
class BodyArrays:
    """A body as plain arrays in the world frame: Z up, faces -Y, metres, feet on z=0, pelvis over x=y=0."""

    vertices: np.ndarray  # (V, 3) float64, posed
    rest_vertices: np.ndarray  # (V, 3) float64, A-pose rest shape in the same frame
    faces: np.ndarray  # (F, 3) int64 triangles
    uv: np.ndarray  # (T, 2) float64 texture coordinates
    face_uv: np.ndarray  # (F, 3) int64 indices into uv
    bone_names: list[str]
    bone_parents: np.ndarray  # (B,) int64, -1 for the root
    rest_bone_poses: np.ndarray  # (B, 4, 4) float64 head transforms in the rest pose (world frame)
    bone_poses: np.ndarray  # (B, 4, 4) float64 head transforms in the current pose (world frame)
    weights: np.ndarray  # (V, K) float64 skin weights, rows sum to 1
    weight_bones: np.ndarray  # (V, K) int64 bone index per weight
    offset_m: np.ndarray  # (3,) translation applied to anny's frame (origin at the root) to get here
    params: dict[str, Any] = dataclasses.field(default_factory=dict)  # phenotypes / local changes used


def body_arrays(
    phenotypes: dict[str, float] | None = None,
    local_changes: dict[str, float] | None = None,
    pose_parameters: dict[str, Any] | None = None,
) -> BodyArrays:
    """Run anny for one body and return it as numpy arrays standing on the floor."""
    import torch

    model = load_model()
    kwargs: dict[str, Any] = {}
    if phenotypes:
        kwargs["phenotype_kwargs"] = {k: torch.tensor([float(v)]) for k, v in phenotypes.items()}
    if local_changes:
        kwargs["local_changes_kwargs"] = {k: torch.tensor([float(v)]) for k, v in local_changes.items()}
    if pose_parameters:
        kwargs["pose_parameters"] = pose_parameters
    with torch.no_grad():
        out = model(**kwargs)
    rest = out["rest_vertices"][0].double().numpy()
    verts = out["vertices"][0].double().numpy()
    offset = np.array([0.0, 0.0, -verts[:, 2].min()])  # posed feet on the floor
    shift = np.eye(4)
    shift[:3, 3] = offset
    return BodyArrays(
        vertices=verts + offset,
        rest_vertices=rest + offset,
        faces=model.faces.long().numpy(),
        uv=model.texture_coordinates.double().numpy(),
        face_uv=model.face_texture_coordinate_indices.long().numpy(),
        bone_names=list(model.bone_labels),
        bone_parents=np.asarray(model.bone_parents, dtype=np.int64),
        rest_bone_poses=shift @ out["rest_bone_poses"][0].double().numpy(),
        bone_poses=shift @ out["bone_poses"][0].double().numpy(),
        weights=model.vertex_bone_weights.double().numpy(),
        weight_bones=model.vertex_bone_indices.long().numpy(),
        offset_m=offset,
        params={"phenotypes": dict(phenotypes or {}), "local_changes": dict(local_changes or {})},
    )

"""The anny parametric body: one model configuration for the whole project, loaded once per process,
and a numpy snapshot of a body (mesh, UVs, rig, skin weights) in the scene's world frame (feet at z=0)."""

from __future__ import annotations

import contextlib
import copy
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


def control_columns(model, labels) -> list[int]:
    """The blend-shape column of each local control's increase (its decrease is the next column): anny stacks
    the phenotype basis, the facial actions, then two columns per local control."""
    first = len(model.blendshape_labels) - 2 * len(model.local_change_labels)
    return [first + 2 * model.local_change_labels.index(label) for label in labels]


@functools.lru_cache(maxsize=4)
def load_model_with_controls(labels: tuple[str, ...]):
    """The model with only the local controls `labels`; every other control is held at 0, as a fit that
    frees a few of them holds the rest. Its blend-shape tensors keep the phenotype basis and the two
    columns (increase, decrease) of each kept control, so each forward and backward pass multiplies
    those alone: the capture fit's 19 controls leave 174 of 644 columns. The body it makes is the full
    model's for the same parameters (to float rounding); it shares every other tensor with it."""
    import torch

    full = load_model()
    unknown = set(labels) - set(full.local_change_labels)
    if unknown:
        raise ValueError(f"unknown local controls: {sorted(unknown)}")
    first_local = len(full.blendshape_labels) - 2 * len(full.local_change_labels)
    keep = list(range(first_local)) + [c + d for c in control_columns(full, labels) for d in (0, 1)]
    index = torch.tensor(keep)
    model = copy.copy(full)  # a shallow copy; then its own tables, so the full model is left untouched
    model._parameters, model._buffers, model._modules = (
        dict(full._parameters),
        dict(full._buffers),
        dict(full._modules),
    )
    model.local_change_labels = list(labels)
    model.blendshape_labels = [full.blendshape_labels[i] for i in keep]
    for name in (
        "blendshapes",
        "bone_heads_blendshapes",
        "bone_orientation_blendshapes",
        "bone_tails_blendshapes",
    ):
        tensor = getattr(full, name, None)
        if tensor is not None:
            setattr(model, name, tensor.index_select(0, index))
    return model


@contextlib.contextmanager
def single_threaded():
    """Run torch and numpy's BLAS on one thread. The shape fit and one body are many small operations, for
    which waking a second thread costs more than it saves, and on busy cores it collapses: in the fit a 30x30
    solve took 4 ms instead of 0.05 ms with OpenBLAS's two threads, and one body took 0.21 s wall instead of
    0.08 s with torch's two (measured with other processes on both cores)."""
    import torch

    try:
        from threadpoolctl import threadpool_limits

        blas = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pinned in requirements.txt; without it the fit is only slower
        blas = contextlib.nullcontext()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with blas:
            yield
    finally:
        torch.set_num_threads(threads)


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
    corrective: dict[str, float] | None = None,
) -> BodyArrays:
    """Run anny for one body and return it as numpy arrays standing on the floor. `corrective` (girth name ->
    amplitude, see `corrective.py`) adds the shape fit's smooth trunk corrective to the rest shape, carried
    to the posed vertices by the skinning."""
    import torch

    model = load_model()
    kwargs: dict[str, Any] = {}
    if phenotypes:
        kwargs["phenotype_kwargs"] = {k: torch.tensor([float(v)]) for k, v in phenotypes.items()}
    if local_changes:
        kwargs["local_changes_kwargs"] = {k: torch.tensor([float(v)]) for k, v in local_changes.items()}
    if pose_parameters:
        kwargs["pose_parameters"] = pose_parameters
    with torch.no_grad(), single_threaded():
        out = model(**kwargs)
    rest = out["rest_vertices"][0].double().numpy()
    verts = out["vertices"][0].double().numpy()
    weights = model.vertex_bone_weights.double().numpy()
    weight_bones = model.vertex_bone_indices.long().numpy()
    rest_bones = out["rest_bone_poses"][0].double().numpy()
    bones = out["bone_poses"][0].double().numpy()
    if corrective:
        rest, verts, moved = _with_corrective(
            rest, verts, out, weights, weight_bones, list(model.bone_labels), corrective
        )
        rest_bones, bones = rest_bones.copy(), bones.copy()
        rest_bones[:, :3, 3] += moved
        bones[:, :3, 3] += moved
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
        rest_bone_poses=shift @ rest_bones,
        bone_poses=shift @ bones,
        weights=weights,
        weight_bones=weight_bones,
        offset_m=offset,
        params={"phenotypes": dict(phenotypes or {}), "local_changes": dict(local_changes or {})}
        | ({"corrective": dict(corrective)} if corrective else {}),
    )


def _with_corrective(rest, verts, out, weights, weight_bones, bone_names, corrective):
    """Rest and posed vertices with the corrective displacement: added to the rest shape, and to the posed
    shape through each vertex's blended skinning rotation (linear blend skinning is linear in the rest shape);
    and the (B, 3) shift of each bone head: the skin-weighted mean displacement of the vertices it moves, so
    the joints follow the lengthened or shortened trunk and legs."""
    from pipeline.core.body.corrective import apply_corrective, corrective_fields

    d = apply_corrective(corrective_fields(rest, weights, weight_bones, bone_names), corrective)
    skin = out["bone_poses"][0].double().numpy() @ np.linalg.inv(out["rest_bone_poses"][0].double().numpy())
    rot = np.einsum("vk,vkij->vij", weights, skin[weight_bones][..., :3, :3])
    per_bone = np.zeros((len(bone_names), 4))
    np.add.at(
        per_bone,
        weight_bones.ravel(),
        (weights.reshape(-1, 1) * np.c_[np.repeat(d, weights.shape[1], 0), np.ones(weights.size)]),
    )
    moved = per_bone[:, :3] / np.maximum(per_bone[:, 3:], 1e-9)
    return rest + d, verts + np.einsum("vij,vj->vi", rot, d), moved

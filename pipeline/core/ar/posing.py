"""Dressing a posed shopper: the garment is fitted on the body's rest pose and carried into the pose by its
skin weights (as the rigged scenes do), so the cloth solver never meets crossed arms."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.body.poses import linear_blend_skinning


def rest_body(body):
    """`body` (BodyArrays) in its rest pose: what the garment is fitted on."""
    params = dict(body.params, pose="a-pose")
    return dataclasses.replace(
        body, vertices=body.rest_vertices.copy(), bone_poses=body.rest_bone_poses, params=params
    )


def pose_transforms_of(body) -> np.ndarray:
    """(B, 4, 4) skinning transforms taking the body's rest pose to its current pose (world frame)."""
    return np.einsum("bij,bjk->bik", body.bone_poses, np.linalg.inv(body.rest_bone_poses))


def carry_into_pose(
    rest_vertices: np.ndarray, weights: np.ndarray, weight_bones: np.ndarray, body
) -> np.ndarray:
    """Garment vertices fitted on `rest_body(body)` moved into `body`'s pose by their skin weights."""
    return linear_blend_skinning(np.asarray(rest_vertices), weights, weight_bones, pose_transforms_of(body))


def arm_faces(body) -> np.ndarray:
    """The faces of `body` (BodyArrays) on its arms and hands (each vertex's strongest bone an arm bone): what
    may come in front of a garment."""
    from pipeline.core.body.poses import ARM_BONE_PREFIXES

    is_arm = np.array([n.startswith(ARM_BONE_PREFIXES) for n in body.bone_names])
    strongest = body.weight_bones[np.arange(len(body.weights)), body.weights.argmax(axis=1)]
    on_arm = is_arm[strongest]
    return body.faces[on_arm[body.faces].all(axis=1)]

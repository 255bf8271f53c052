"""Depth images by ray casting a mesh with Blender's BVH tree: the synthetic depth camera's renderer."""

from __future__ import annotations

import functools

import bpy  # noqa: F401 - makes mathutils importable
import numpy as np
from mathutils import Vector
from mathutils.bvhtree import BVHTree

from pipeline.core.capture.frames import pixel_rays
from pipeline.core.capture.virtual_camera import WALL_Y_M, WORLD_FROM_CAMERA_ROT, VirtualCamera, room_depth


@functools.lru_cache(maxsize=2)
def _faces_list(key: bytes) -> list:
    return np.frombuffer(key, dtype=np.int64).reshape(-1, 3).tolist()


def raycast_depth(
    camera: VirtualCamera, body_vertices: np.ndarray, body_faces: np.ndarray, room: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Ideal z-depth (H, W) in metres of the body (world frame) in front of the room, and the body's mask."""
    intr = camera.intrinsics
    ux, vy = pixel_rays(intr)
    dirs = np.stack([ux, vy, np.ones_like(ux)], axis=-1).reshape(-1, 3) @ WORLD_FROM_CAMERA_ROT.T
    depth = room_depth(camera, dirs, WALL_Y_M) if room else np.zeros(len(dirs))
    # only rays inside the body's image bounding box can hit it
    pc = camera.world_to_camera(body_vertices)
    u = pc[:, 0] / pc[:, 2] * intr.fx + intr.ppx
    v = pc[:, 1] / pc[:, 2] * intr.fy + intr.ppy
    u0, u1 = int(max(np.floor(u.min()) - 1, 0)), int(min(np.ceil(u.max()) + 1, intr.width - 1))
    v0, v1 = int(max(np.floor(v.min()) - 1, 0)), int(min(np.ceil(v.max()) + 1, intr.height - 1))
    body = np.zeros(len(dirs), bool)
    if u0 <= u1 and v0 <= v1:
        faces = np.ascontiguousarray(body_faces, dtype=np.int64)
        tree = BVHTree.FromPolygons(body_vertices.tolist(), _faces_list(faces.tobytes()), all_triangles=True)
        grid = (np.arange(v0, v1 + 1)[:, None] * intr.width + np.arange(u0, u1 + 1)[None, :]).ravel()
        origin = Vector(camera.centre.tolist())
        cast = tree.ray_cast
        hits = np.full((len(grid), 3), np.nan)
        for k, d in enumerate(dirs[grid].tolist()):
            loc = cast(origin, Vector(d))[0]
            if loc is not None:
                hits[k] = loc
        hit = ~np.isnan(hits[:, 0])
        zb = (hits[hit] - camera.centre) @ WORLD_FROM_CAMERA_ROT[:, 2]
        idx = grid[hit]
        closer = (depth[idx] == 0) | (zb < depth[idx])
        depth[idx[closer]] = zb[closer]
        body[idx[closer]] = True
    return depth.reshape(intr.height, intr.width), body.reshape(intr.height, intr.width)

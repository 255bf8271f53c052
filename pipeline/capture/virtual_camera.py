"""A virtual RealSense D435 in the scene's world frame, and its ideal depth image by ray casting.

The camera stands in front of the body (which faces -Y), level, looking along +Y. Camera axes as
RealSense's: x = world +X, y = world -Z, z = world +Y. Depth is ray cast with Blender's BVH tree
(`mathutils`, shipped with bpy) through the same pixel centres the colour render uses.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from pipeline.capture.frames import Intrinsics, pixel_rays

# D435 depth stream at 640x480: ~86 x 64 degrees field of view; baseline 50 mm.
D435_FOCAL_PX_640 = 383.0
D435_BASELINE_M = 0.050
WORLD_FROM_CAMERA_ROT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # columns: cam x, y, z in world


def d435_intrinsics(width: int = 640, height: int = 480) -> Intrinsics:
    """Intrinsics of a D435 depth stream at `width` x `height` (square pixels, centred principal point)."""
    f = D435_FOCAL_PX_640 * width / 640.0
    return Intrinsics(width=width, height=height, fx=f, fy=f, ppx=(width - 1) / 2.0, ppy=(height - 1) / 2.0, depth_scale=0.001)


@dataclasses.dataclass(frozen=True)
class VirtualCamera:
    """Pose (camera centre in the world) and intrinsics of a level camera looking along +Y."""

    intrinsics: Intrinsics
    distance_m: float = 2.0  # from the body's vertical axis (x=y=0)
    height_m: float = 1.0

    @property
    def centre(self) -> np.ndarray:
        return np.array([0.0, -self.distance_m, self.height_m])

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) in the camera frame."""
        return (points - self.centre) @ WORLD_FROM_CAMERA_ROT

    def camera_to_world(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame points (N, 3) in the world frame."""
        return points @ WORLD_FROM_CAMERA_ROT.T + self.centre


def rotate_z(points: np.ndarray, yaw_deg: float) -> np.ndarray:
    """Points turned by `yaw_deg` about the world Z axis through x=y=0 (the person turning to their left)."""
    a = np.radians(yaw_deg)
    rot = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    return points @ rot.T


WALL_Y_M = 1.6  # the wall behind the person


def backdrop(wall_y_m: float = WALL_Y_M, size_m: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """The floor (z=0) and the wall behind the person (y=`wall_y_m`) as triangles, for rendering."""
    h = size_m / 2
    verts = np.array(
        [[-h, -h, 0], [h, -h, 0], [h, wall_y_m, 0], [-h, wall_y_m, 0], [-h, wall_y_m, 0], [h, wall_y_m, 0], [h, wall_y_m, size_m / 2], [-h, wall_y_m, size_m / 2]],
        dtype=np.float64,
    )
    faces = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]], dtype=np.int64)
    return verts, faces


@functools.lru_cache(maxsize=2)
def _faces_list(key: bytes) -> list:
    return np.frombuffer(key, dtype=np.int64).reshape(-1, 3).tolist()


def _room_depth(camera: VirtualCamera, dirs: np.ndarray, wall_y_m: float) -> np.ndarray:
    """z-depth of the floor (z=0) and the wall (y=wall_y_m) along world-frame ray directions (N, 3)."""
    c = camera.centre
    with np.errstate(divide="ignore", invalid="ignore"):
        t_wall = np.where(dirs[:, 1] > 1e-9, (wall_y_m - c[1]) / dirs[:, 1], np.inf)
        t_floor = np.where(dirs[:, 2] < -1e-9, -c[2] / dirs[:, 2], np.inf)
    t = np.minimum(t_wall, t_floor)
    return np.where(np.isfinite(t), t * (dirs @ WORLD_FROM_CAMERA_ROT[:, 2]), 0.0)


def raycast_depth(camera: VirtualCamera, body_vertices: np.ndarray, body_faces: np.ndarray, room: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Ideal z-depth (H, W) in metres of the body (world frame) in front of the room, and the body's mask."""
    import bpy  # noqa: F401 - makes mathutils importable
    from mathutils import Vector
    from mathutils.bvhtree import BVHTree

    intr = camera.intrinsics
    ux, vy = pixel_rays(intr)
    dirs = np.stack([ux, vy, np.ones_like(ux)], axis=-1).reshape(-1, 3) @ WORLD_FROM_CAMERA_ROT.T
    depth = _room_depth(camera, dirs, WALL_Y_M) if room else np.zeros(len(dirs))
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

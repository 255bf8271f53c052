"""A virtual RealSense D435 in the scene's world frame, and its ideal depth image by ray casting.

The camera stands in front of the body (which faces -Y), level, looking along +Y. Camera axes as
RealSense's: x = world +X, y = world -Z, z = world +Y. Depth is ray cast with Blender's BVH tree
(`mathutils`, shipped with bpy) through the same pixel centres the colour render uses.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.capture.frames import Intrinsics

# D435 depth stream at 640x480: ~86 x 64 degrees field of view; baseline 50 mm.
D435_FOCAL_PX_640 = 383.0
D435_BASELINE_M = 0.050
WORLD_FROM_CAMERA_ROT = np.array(
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]
)  # columns: cam x, y, z in world


def d435_intrinsics(width: int = 640, height: int = 480) -> Intrinsics:
    """Intrinsics of a D435 depth stream at `width` x `height` (square pixels, centred principal point)."""
    f = D435_FOCAL_PX_640 * width / 640.0
    return Intrinsics(
        width=width,
        height=height,
        fx=f,
        fy=f,
        ppx=(width - 1) / 2.0,
        ppy=(height - 1) / 2.0,
        depth_scale=0.001,
    )


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
        [
            [-h, -h, 0],
            [h, -h, 0],
            [h, wall_y_m, 0],
            [-h, wall_y_m, 0],
            [-h, wall_y_m, 0],
            [h, wall_y_m, 0],
            [h, wall_y_m, size_m / 2],
            [-h, wall_y_m, size_m / 2],
        ],
        dtype=np.float64,
    )
    faces = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]], dtype=np.int64)
    return verts, faces


def room_depth(camera: VirtualCamera, dirs: np.ndarray, wall_y_m: float) -> np.ndarray:
    """z-depth of the floor (z=0) and the wall (y=wall_y_m) along world-frame ray directions (N, 3)."""
    c = camera.centre
    with np.errstate(divide="ignore", invalid="ignore"):
        t_wall = np.where(dirs[:, 1] > 1e-9, (wall_y_m - c[1]) / dirs[:, 1], np.inf)
        t_floor = np.where(dirs[:, 2] < -1e-9, -c[2] / dirs[:, 2], np.inf)
    t = np.minimum(t_wall, t_floor)
    return np.where(np.isfinite(t), t * (dirs @ WORLD_FROM_CAMERA_ROT[:, 2]), 0.0)

"""Lighting from one RGB-D frame: second-order spherical harmonics (9 coefficients per channel) of the
irradiance, fitted to the frame's linear colour against the surface normals from its depth (the person's skin
and clothes and the room), then turned into an environment map whose diffuse lighting matches them.

Limits: one image sees the light only over the normals facing the camera (the hemisphere behind is
extrapolated by the low order, and whether the key light is in front of or behind the person is poorly
determined: its direction across the image is what the fit gets right), albedo is taken as constant (the fit's scale is the room's average colour),
the surfaces are taken as a mid grey on average (`ASSUMED_ALBEDO`), and no hard shadows: a sun-like source
shows up as the first-order term."""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.capture.frames import Intrinsics

RIDGE = 1e-3
ASSUMED_ALBEDO = 0.5  # the frame's surfaces (skin, clothes, walls) taken as this grey on average
# cosine-lobe convolution per band (Ramamoorthi & Hanrahan 2001): irradiance E_lm = A_l * L_lm
A_BAND = np.array([np.pi, 2 * np.pi / 3, 2 * np.pi / 3, 2 * np.pi / 3] + [np.pi / 4] * 5)


def sh_basis(n: np.ndarray) -> np.ndarray:
    """Real SH basis Y_lm (l <= 2) of unit vectors (N, 3) -> (N, 9)."""
    x, y, z = n[:, 0], n[:, 1], n[:, 2]
    return np.stack(
        [
            np.full_like(x, 0.282095),
            0.488603 * y,
            0.488603 * z,
            0.488603 * x,
            1.092548 * x * y,
            1.092548 * y * z,
            0.315392 * (3 * z * z - 1),
            1.092548 * x * z,
            0.546274 * (x * x - y * y),
        ],
        axis=1,
    )


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def depth_normals(depth_m: np.ndarray, intr: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame unit normals (H, W, 3) facing the camera, from central differences of the back-projected
    depth, and a mask of pixels whose neighbourhood is valid and smooth."""
    h, w = depth_m.shape
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    z = depth_m
    p = np.stack([(u - intr.ppx) / intr.fx * z, (v - intr.ppy) / intr.fy * z, z], axis=-1)
    dx = np.zeros_like(p)
    dy = np.zeros_like(p)
    dx[:, 1:-1] = p[:, 2:] - p[:, :-2]
    dy[1:-1] = p[2:] - p[:-2]
    n = np.cross(dy, dx)
    norm = np.linalg.norm(n, axis=-1)
    ok = (z > 0) & (norm > 0)
    ok[:, 1:-1] &= (
        (z[:, 2:] > 0)
        & (z[:, :-2] > 0)
        & (np.abs(z[:, 2:] - z[:, :-2]) < 0.05 * np.maximum(z[:, 1:-1], 1e-6))
    )
    ok[1:-1] &= (z[2:] > 0) & (z[:-2] > 0) & (np.abs(z[2:] - z[:-2]) < 0.05 * np.maximum(z[1:-1], 1e-6))
    ok[[0, -1]] = False
    ok[:, [0, -1]] = False
    n = n / np.maximum(norm, 1e-12)[..., None]
    flip = (n * p).sum(-1) > 0  # make them face the camera
    n[flip] *= -1
    return n, ok


@dataclasses.dataclass
class Lighting:
    """Irradiance SH (9, 3) in the camera frame (x right, y down, z forward), linear RGB."""

    irradiance_sh: np.ndarray
    samples: int
    residual: float

    def irradiance(self, normals: np.ndarray) -> np.ndarray:
        return np.clip(sh_basis(normals) @ self.irradiance_sh, 0.0, None)

    def radiance_sh(self) -> np.ndarray:
        return self.irradiance_sh / A_BAND[:, None]

    def key_direction(self) -> np.ndarray:
        """Unit direction (camera frame) the light mostly comes from (first-order term)."""
        d = self.irradiance_sh[[3, 1, 2]].mean(1)  # x, y, z components of the linear term
        n = np.linalg.norm(d)
        return d / n if n > 1e-9 else np.array([0.0, 0.0, -1.0])

    def environment(self, world_from_camera: np.ndarray, width: int = 64) -> np.ndarray:
        """An equirectangular environment image (width/2, width, 3), linear RGB, row 0 at the top, whose
        radiance gives this irradiance, for a world whose axes are `world_from_camera` (3x3) of the camera's."""
        dirs = equirect_directions(width)
        cam_dirs = dirs.reshape(-1, 3) @ world_from_camera  # world -> camera (rows @ R == R.T @ col)
        rad = sh_basis(cam_dirs) @ self.radiance_sh()
        return np.clip(rad, 0.0, None).reshape(width // 2, width, 3)


def equirect_directions(width: int) -> np.ndarray:
    """World directions (H, W, 3) of the pixels of an equirectangular environment image, row 0 at the top,
    as Cycles maps them: u = -atan2(d.y, d.x) / (2 pi) + 0.5, v = atan2(d.z, hypot(d.x, d.y)) / pi + 0.5."""
    h = width // 2
    u = (np.arange(width) + 0.5) / width
    v = 1.0 - (np.arange(h) + 0.5) / h  # image row 0 is the top (v = 1)
    phi = -(u - 0.5) * 2 * np.pi  # atan2(y, x)
    theta = (v - 0.5) * np.pi  # elevation
    pp, tt = np.meshgrid(phi, theta)
    return np.stack([np.cos(tt) * np.cos(pp), np.cos(tt) * np.sin(pp), np.sin(tt)], axis=-1)


def estimate_lighting(
    colour: np.ndarray, depth_m: np.ndarray, intr: Intrinsics, max_samples: int = 20000, seed: int = 0
) -> Lighting:
    """Fit irradiance SH to the frame: linear colour ~ SH(normal) @ coefficients (constant albedo), robustly
    (two rounds, the worst 20 % of residuals dropped: dark hair, specular spots)."""
    normals, ok = depth_normals(depth_m, intr)
    idx = np.flatnonzero(ok.ravel())
    if len(idx) < 50:
        grey = srgb_to_linear(np.median(colour.reshape(-1, 3), axis=0))
        sh = np.zeros((9, 3))
        sh[0] = grey / 0.282095 * np.pi / ASSUMED_ALBEDO
        return Lighting(sh, 0, 0.0)
    rng = np.random.default_rng(seed)
    if len(idx) > max_samples:
        idx = rng.choice(idx, max_samples, replace=False)
    b = sh_basis(normals.reshape(-1, 3)[idx])
    c = srgb_to_linear(colour.reshape(-1, 3)[idx])
    keep = np.ones(len(idx), bool)
    # ridge on the higher terms: seen from one side, the constant, z and z^2 terms are nearly collinear
    ridge = np.diag([0.0] + [RIDGE] * 8) * len(idx)
    for _ in range(2):
        bk = b[keep]
        coef = np.linalg.solve(bk.T @ bk + ridge, bk.T @ c[keep])
        res = np.abs(b @ coef - c).sum(1)
        keep = res <= np.percentile(res, 80)
    residual = float(np.sqrt(((b[keep] @ coef - c[keep]) ** 2).mean()))
    # a diffuse surface shows albedo / pi x irradiance
    return Lighting(coef * np.pi / ASSUMED_ALBEDO, int(keep.sum()), residual)

"""A RealSense D4xx depth-noise model applied to an ideal depth image.

Active stereo measures disparity d = f*B/z, so a disparity error of `subpixel` pixels gives a depth RMS error
z^2 * subpixel / (f * B): growing with the square of the distance. On top: spatially correlated error
(block matching smooths), flying pixels that mix foreground and background at depth edges, occlusion
shadows beside near objects (seen by one imager only), the invalid band at the left image edge, random
dropout blobs, disparity quantisation and depth units.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pipeline.core.capture.frames import Intrinsics
from pipeline.core.capture.virtual_camera import D435_BASELINE_M


@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """Parameters of the depth noise; the defaults follow published D435 figures at 640x480."""

    subpixel_rms: float = 0.08  # disparity RMS error in pixels
    correlated_fraction: float = 0.6  # share of the variance that is spatially smooth
    correlation_px: float = 3.0
    edge_jump_m: float = 0.08  # depth step treated as an object edge
    flying_prob: float = 0.5  # chance that an edge pixel is a mixed (flying) pixel
    dropout_fraction: float = 0.008  # area of random holes
    disparity_step_px: float = 1.0 / 32.0
    min_depth_m: float = 0.3
    max_depth_m: float = 10.0
    baseline_m: float = D435_BASELINE_M


def _smooth_noise(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    n = gaussian_filter(rng.standard_normal(shape), sigma_px)
    return n / max(float(n.std()), 1e-12)


def _edge_pixels(z: np.ndarray, jump: float) -> tuple[np.ndarray, np.ndarray]:
    """Near-side pixels at a depth step and the far depth beside each of them."""
    far = np.zeros_like(z)
    edge = np.zeros(z.shape, bool)
    padded = np.pad(z, 1, mode="edge")  # no wrap-around: the image border has no neighbour across it
    h, w = z.shape
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        nb = padded[dr : dr + h, dc : dc + w]
        step = (nb - z > jump) | ((nb == 0) & (z > 0))
        edge |= step
        far = np.where(step & (nb > far), nb, far)
    return edge & (z > 0), far


def add_depth_noise(
    z: np.ndarray, intr: Intrinsics, rng: np.random.Generator, model: NoiseModel | None = None
) -> np.ndarray:
    """Noisy depth (H, W) uint16 in `intr.depth_scale` units from the ideal z-depth `z` in metres (0 = no surface)."""
    from scipy.ndimage import binary_dilation

    model = model or NoiseModel()
    z = np.where((z >= model.min_depth_m) & (z <= model.max_depth_m), z, 0.0)
    valid = z > 0
    fb = intr.fx * model.baseline_m
    # flying pixels: edge pixels whose depth lands between the near and the far surface
    edge, far = _edge_pixels(z, model.edge_jump_m)
    fly = edge & (rng.random(z.shape) < model.flying_prob)
    far_eff = np.where(far > 0, far, z + 0.5)
    z = np.where(fly, z + rng.random(z.shape) * (far_eff - z), z)
    # axial noise in disparity space: smooth + white, RMS error z^2 * subpixel / (f B)
    c = model.correlated_fraction
    n = np.sqrt(c) * _smooth_noise(z.shape, model.correlation_px, rng) + np.sqrt(1 - c) * rng.standard_normal(
        z.shape
    )
    disp = np.where(valid, fb / np.maximum(z, 1e-6), 0.0) + model.subpixel_rms * n
    disp = np.round(disp / model.disparity_step_px) * model.disparity_step_px
    z = np.where(valid & (disp > 0), fb / np.maximum(disp, 1e-6), 0.0)
    # occlusion shadows: the right imager cannot see the background just left of a near object
    holes = np.zeros(z.shape, bool)
    dz = np.diff(z, axis=1, prepend=z[:, :1])
    rows, cols = np.nonzero((dz < -model.edge_jump_m) & (z > 0))
    for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
        zf, zb = z[r, col], z[r, col - 1] if col > 0 else 0.0
        if zb > 0:
            width = int(round(fb * (1.0 / zf - 1.0 / zb)))
            holes[r, max(col - width, 0) : col] = True
    # the left band that only one imager sees, about f*B/z wide at the background distance
    zmed = float(np.median(z[z > 0])) if np.any(z > 0) else 2.0
    holes[:, : int(round(fb / zmed))] = True
    # random dropout blobs (dark or specular patches)
    blobs = _smooth_noise(z.shape, 4.0, rng) > np.quantile(
        rng.standard_normal(10000), 1 - model.dropout_fraction
    )
    holes |= binary_dilation(blobs, iterations=1)
    z = np.where(holes, 0.0, z)
    return np.clip(np.round(z / intr.depth_scale), 0, 65535).astype(np.uint16)

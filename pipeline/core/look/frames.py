"""Frame presets, subject framing and the white background (no bpy).

Presets are the common e-commerce main-image sizes: 4:5 (1080x1350, social and most shops), 1:1.44 (1800x2592,
the tall fashion-marketplace format) and a 2048 px square. Framing moves the camera until the subject's
projected height fills a target share of the frame; the white look composites the render over pure white."""

from __future__ import annotations

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.look.colour import linear_to_srgb, srgb_to_linear
from pipeline.core.vocab import FRAMES

FRAME_SIZES: dict[str, tuple[int, int]] = {
    "4:5": (1080, 1350),
    "1:1.44": (1800, 2592),
    "square": (2048, 2048),
}
assert tuple(FRAME_SIZES) == FRAMES
DEFAULT_SIZE = FRAME_SIZES["4:5"]
# Share of the frame height the subject fills, per look: the white look is the marketplace main image (>= 85 %).
FILL_BY_LOOK = {"studio": 0.88, "white": 0.9, "ghost": 0.88}
SHADOW_FLOOR = 0.04  # shadow lighter than 4 % is dropped (a soft ramp, no edge): the background stays 255


def frame_size(frame: str | None, width: int | None, height: int | None) -> tuple[int, int]:
    """Pixel size from a frame preset, with an explicit width or height winning over the preset's."""
    if frame is not None and frame not in FRAME_SIZES:
        raise UserError(f"--frame must be one of {', '.join(FRAME_SIZES)}, not {frame!r}")
    w, h = FRAME_SIZES[frame] if frame else DEFAULT_SIZE
    return (width or w, height or h)


def reframe_step(
    extent_y: tuple[float, float], extent_x: tuple[float, float], fill: float, margin_x: float = 0.04
) -> tuple[float, float]:
    """One framing correction from the subject's projected extent (camera-view coordinates, 0..1 bottom to top,
    left to right): returns (scale for the camera's distance to the subject, vertical offset of the subject's
    centre from the frame centre as a share of its own height). Width limits the zoom when the subject is wide
    (a T-pose in a square frame)."""
    span_y = max(extent_y[1] - extent_y[0], 1e-6)
    span_x = max(extent_x[1] - extent_x[0], 1e-6)
    scale = max(span_y / fill, span_x / (1 - 2 * margin_x))
    offset = ((extent_y[0] + extent_y[1]) / 2 - 0.5) / span_y
    return scale, offset


def over_white(rgba: np.ndarray, shadow_floor: float = SHADOW_FLOOR) -> np.ndarray:
    """Composite a straight-alpha sRGB render (H, W, 4) over pure white in linear light; returns sRGB (H, W, 3).
    Alpha is ramped from `shadow_floor` (0 there and below) up to 1, so the shadow catcher's long faint tail and
    its noise fade out smoothly into a background of exactly 1.0 (RGB 255), while the contact shadow near the
    feet stays; solid pixels (alpha 1) are unchanged. Alpha not connected to an opaque pixel is dropped."""
    from scipy import ndimage

    rgba = np.asarray(rgba, dtype=np.float64)
    alpha = np.clip((rgba[..., 3] - shadow_floor) / (1.0 - shadow_floor), 0.0, 1.0)
    # Only what touches the product counts (its body and the shadow at its feet): isolated specks of render or
    # denoiser noise (OIDN can leave one at a corner of a transparent film) become background.
    labels, count = ndimage.label(alpha > 0, structure=np.ones((3, 3)))
    keep = np.zeros(count + 1, bool)
    keep[np.unique(labels[rgba[..., 3] >= 0.5])] = True
    keep[0] = False
    alpha = np.where(keep[labels], alpha, 0.0)[..., None]
    lin = srgb_to_linear(rgba[..., :3]) * alpha + (1.0 - alpha)
    out = linear_to_srgb(lin)
    out[alpha[..., 0] == 0] = 1.0
    return np.clip(out, 0.0, 1.0)


def fill_share(rows_with_subject: np.ndarray) -> float:
    """Share of the frame height between the first and last image row that holds the subject."""
    idx = np.flatnonzero(rows_with_subject)
    return 0.0 if len(idx) == 0 else float((idx[-1] - idx[0] + 1) / len(rows_with_subject))

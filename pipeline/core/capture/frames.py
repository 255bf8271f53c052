"""The frame interface every capture source yields: aligned colour + depth with pinhole intrinsics.

Camera frame as RealSense's: x right, y down, z forward, metres. Pixel centres at integer coordinates.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of the depth stream (colour is aligned to it) and the depth unit."""

    width: int
    height: int
    fx: float
    fy: float
    ppx: float
    ppy: float
    depth_scale: float = 0.001  # metres per depth unit (z16 value)

    def to_json(self) -> dict[str, Any]:
        """The dict written to a frame folder's intrinsics.json."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "intrinsics.json") -> Intrinsics:
        """Read the dict of `to_json`, naming the missing or bad field in a UserError."""
        from pipeline.core.errors import UserError
        from pipeline.core.untrusted import clip

        if not isinstance(data, dict):
            raise UserError(
                f"{where}: expected a JSON object with width, height, fx, fy, ppx, ppy, depth_scale"
            )
        kw: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if f.name == "depth_scale":
                    raise UserError(f"{where}: missing 'depth_scale' (metres per depth unit, e.g. 0.001)")
                raise UserError(
                    f"{where}: missing '{f.name}' (expected width, height, fx, fy, ppx, ppy, depth_scale)"
                )
            value = data[f.name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise UserError(f"{where}: '{f.name}' must be a finite number, got {clip(value)}")
            kw[f.name] = int(value) if f.name in ("width", "height") else float(value)
        intr = cls(**kw)
        if intr.width <= 0 or intr.height <= 0 or intr.fx <= 0 or intr.fy <= 0 or intr.depth_scale <= 0:
            raise UserError(f"{where}: width, height, fx, fy and depth_scale must be positive")
        if intr.width > 8192 or intr.height > 8192:
            raise UserError(f"{where}: {intr.width}x{intr.height} is larger than any depth camera (8192 max)")
        return intr

    def scaled(self, factor: float) -> Intrinsics:
        """The intrinsics of the image resized by `factor`."""
        return dataclasses.replace(
            self,
            width=round(self.width * factor),
            height=round(self.height * factor),
            fx=self.fx * factor,
            fy=self.fy * factor,
            ppx=(self.ppx + 0.5) * factor - 0.5,
            ppy=(self.ppy + 0.5) * factor - 0.5,
        )


@dataclasses.dataclass
class RGBDFrame:
    """One aligned capture: colour (H, W, 3) uint8 RGB and depth (H, W) uint16 in `intrinsics.depth_scale` units."""

    color: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics
    timestamp_ms: float = 0.0
    index: int = 0

    def depth_m(self) -> np.ndarray:
        """Depth in metres (float32), 0 where the camera gave no depth."""
        return self.depth.astype(np.float32) * np.float32(self.intrinsics.depth_scale)


def pixel_rays(intr: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel (x/z, y/z) of the camera ray through each pixel centre, each (H, W)."""
    u = (np.arange(intr.width, dtype=np.float64) - intr.ppx) / intr.fx
    v = (np.arange(intr.height, dtype=np.float64) - intr.ppy) / intr.fy
    return np.broadcast_to(u[None, :], (intr.height, intr.width)), np.broadcast_to(
        v[:, None], (intr.height, intr.width)
    )


def deproject(depth_m: np.ndarray, intr: Intrinsics, mask: np.ndarray | None = None) -> np.ndarray:
    """Camera-frame 3D points (N, 3) of the pixels with depth > 0 (and inside `mask` when given)."""
    keep = depth_m > 0
    if mask is not None:
        keep &= mask
    vs, us = np.nonzero(keep)
    z = depth_m[vs, us].astype(np.float64)
    x = (us - intr.ppx) / intr.fx * z
    y = (vs - intr.ppy) / intr.fy * z
    return np.stack([x, y, z], axis=1)


def project(points: np.ndarray, intr: Intrinsics) -> np.ndarray:
    """Pixel coordinates (N, 2) of camera-frame points (N, 3)."""
    z = np.maximum(points[:, 2], 1e-9)
    return np.stack([points[:, 0] / z * intr.fx + intr.ppx, points[:, 1] / z * intr.fy + intr.ppy], axis=1)

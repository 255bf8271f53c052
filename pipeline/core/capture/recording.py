"""Writing captures: a frame folder (intrinsics.json, color/, depth/) and a RealSense recording (.db3).

pyrealsense2 2.58+ records only ROS2 `.db3` (it still plays `.bag`); the recording comes from an
`rs.software_device` with one sensor carrying depth and colour, colour registered to depth (same intrinsics,
identity extrinsics), so playback needs no re-alignment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from pipeline.core.capture.frames import Intrinsics, RGBDFrame
from pipeline.core.errors import UserError
from pipeline.core.files import atomic_path, write_json

DEVICE_NAME = "Intel RealSense D435 (synthetic)"


def write_frame_folder(folder: str | os.PathLike, frames: Iterable[RGBDFrame], intrinsics: Intrinsics) -> int:
    """Write frames as color/NNNNNN.png, depth/NNNNNN.png (uint16) and intrinsics.json; return the count."""
    import cv2

    folder = Path(folder)
    (folder / "color").mkdir(parents=True, exist_ok=True)
    (folder / "depth").mkdir(parents=True, exist_ok=True)
    n = 0
    for frame in frames:
        n += 1
        stem = f"{frame.index:06d}.png"
        for sub, img in (
            ("color", np.ascontiguousarray(frame.color[:, :, ::-1])),
            ("depth", frame.depth.astype(np.uint16)),
        ):
            with atomic_path(folder / sub / stem) as tmp:
                if not cv2.imwrite(str(tmp), img):
                    raise UserError(f"cannot write {folder / sub / stem}")
    write_json(folder / "intrinsics.json", intrinsics.to_json())
    return n


def _rs_intrinsics(rs, intr: Intrinsics):
    i = rs.intrinsics()
    i.width, i.height, i.ppx, i.ppy, i.fx, i.fy = (
        intr.width,
        intr.height,
        intr.ppx,
        intr.ppy,
        intr.fx,
        intr.fy,
    )
    i.model = rs.distortion.brown_conrady
    i.coeffs = [0.0] * 5
    return i


def _video_stream(rs, kind, fmt, bpp: int, uid: int, intr: Intrinsics, fps: int):
    s = rs.video_stream()
    s.type, s.index, s.uid = kind, 0, uid
    s.width, s.height, s.fps, s.bpp, s.fmt = intr.width, intr.height, fps, bpp, fmt
    s.intrinsics = _rs_intrinsics(rs, intr)
    return s


def write_recording(
    path: str | os.PathLike, frames: Iterable[RGBDFrame], intrinsics: Intrinsics, fps: int = 30
) -> int:
    """Record frames to a RealSense `.db3` through a software device; return the number of framesets."""
    from pipeline.core.deps import require

    require("pyrealsense2", "writing a RealSense recording")
    import pyrealsense2 as rs

    final = Path(path).resolve()
    if final.suffix.lower() != ".db3":
        raise UserError(
            f"{final.name}: pyrealsense2 {rs.__version__ if hasattr(rs, '__version__') else ''} records only .db3 files"
        )
    final.parent.mkdir(parents=True, exist_ok=True)
    dev = rs.software_device()
    # one sensor carries both streams, so playback starts them together and no first frame is lost
    sens = dev.add_sensor("Stereo Module")
    dprof = sens.add_video_stream(_video_stream(rs, rs.stream.depth, rs.format.z16, 2, 0, intrinsics, fps))
    cprof = sens.add_video_stream(_video_stream(rs, rs.stream.color, rs.format.rgb8, 3, 1, intrinsics, fps))
    sens.add_read_only_option(rs.option.depth_units, float(intrinsics.depth_scale))
    dev.register_info(rs.camera_info.name, DEVICE_NAME)
    dev.register_info(rs.camera_info.serial_number, "000000000000")
    ex = rs.extrinsics()  # defaults to all zeros: set the identity (colour is registered to depth)
    ex.rotation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    ex.translation = [0.0, 0.0, 0.0]
    dprof.register_extrinsics_to(cprof, ex)
    n = 0
    with atomic_path(final) as tmp:
        rec = rs.recorder(str(tmp), dev)
        sens.open([dprof, cprof])
        sens.start(lambda f: None)
        keep = []  # the SDK reads the pixel buffers later: keep them alive until the recorder is gone
        for n, frame in enumerate(frames, start=1):
            depth = np.ascontiguousarray(frame.depth, dtype=np.uint16)
            color = np.ascontiguousarray(frame.color, dtype=np.uint8)
            keep += [depth, color]
            for prof, px, bpp in ((dprof, depth, 2), (cprof, color, 3)):
                f = rs.software_video_frame()
                f.pixels, f.bpp, f.stride = px, bpp, intrinsics.width * bpp
                f.timestamp = (n - 1) * 1000.0 / fps
                f.domain = rs.timestamp_domain.hardware_clock
                f.frame_number = n - 1
                f.profile = prof.as_video_stream_profile()
                sens.on_video_frame(f)
        sens.stop()
        sens.close()
        del rec  # flushes and closes the file
        del keep
    return n

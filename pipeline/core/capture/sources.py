"""Capture sources behind one interface: a live RealSense D4xx, a recording (.bag/.db3) or a frame folder.

Each source is a context manager and an iterator of `RGBDFrame`s, colour aligned to depth.
A frame folder holds `intrinsics.json` (width, height, fx, fy, ppx, ppy, depth_scale), `color/` with
8-bit images and `depth/` with 16-bit PNGs, paired by sorted file name.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.core.capture.frames import Intrinsics, RGBDFrame
from pipeline.core.errors import UserError

RECORDING_SUFFIXES = (".bag", ".db3")
COLOR_SUFFIXES = (".png", ".jpg", ".jpeg")


class FrameSource:
    """Base class: iterate frames inside a `with` block; `intrinsics` is known after entering."""

    name = "source"
    intrinsics: Intrinsics | None = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the camera or file."""

    def __iter__(self) -> Iterator[RGBDFrame]:
        raise NotImplementedError


class FolderSource(FrameSource):
    """Frames from a folder: intrinsics.json, color/*.png|jpg, depth/*.png (uint16)."""

    def __init__(self, folder: str | os.PathLike, max_frames: int | None = None) -> None:
        self.folder = Path(folder)
        self.name = str(self.folder)
        if not self.folder.is_dir():
            raise UserError(f"--rgbd: frame folder not found: {self.folder}")
        intr_path = self.folder / "intrinsics.json"
        if not intr_path.is_file():
            raise UserError(
                f"--rgbd: {intr_path} is missing (needs width, height, fx, fy, ppx, ppy, depth_scale)"
            )
        from pipeline.core.files import read_json

        self.intrinsics = Intrinsics.from_json(read_json(intr_path, "intrinsics file"), str(intr_path))
        colors = sorted(p for p in (self.folder / "color").glob("*") if p.suffix.lower() in COLOR_SUFFIXES)
        depths = sorted((self.folder / "depth").glob("*.png"))
        if not colors or not depths:
            raise UserError(
                f"--rgbd: {self.folder} needs color/*.png|jpg and depth/*.png frames (found {len(colors)} colour, {len(depths)} depth)"
            )
        if len(colors) != len(depths):
            raise UserError(
                f"--rgbd: {self.folder} has {len(colors)} colour but {len(depths)} depth images; they pair by sorted name"
            )
        self.pairs = list(zip(colors, depths, strict=True))[:max_frames]
        for cp, dp in self.pairs:  # sizes from the headers, before any image is decoded
            _check_frame_header(cp, self.intrinsics)
            _check_frame_header(dp, self.intrinsics)

    def __iter__(self) -> Iterator[RGBDFrame]:
        import cv2

        intr = self.intrinsics
        for i, (cp, dp) in enumerate(self.pairs):
            bgr = cv2.imread(str(cp), cv2.IMREAD_COLOR)
            depth = cv2.imread(str(dp), cv2.IMREAD_ANYDEPTH)
            if bgr is None:
                raise UserError(f"--rgbd: cannot read colour image {cp}")
            if depth is None:
                raise UserError(f"--rgbd: cannot read depth image {dp}")
            if depth.dtype != np.uint16:
                raise UserError(f"--rgbd: depth image {dp} must be a 16-bit PNG, got {depth.dtype}")
            if depth.shape != (intr.height, intr.width) or bgr.shape[:2] != depth.shape:
                raise UserError(
                    f"--rgbd: {cp.name}/{dp.name} are {bgr.shape[1]}x{bgr.shape[0]} / {depth.shape[1]}x{depth.shape[0]}, "
                    f"intrinsics.json says {intr.width}x{intr.height}"
                )
            yield RGBDFrame(
                color=np.ascontiguousarray(bgr[:, :, ::-1]),
                depth=depth,
                intrinsics=intr,
                timestamp_ms=i * 1000 / 30,
                index=i,
            )


def _check_frame_header(path: Path, intr: Intrinsics) -> None:
    """Refuse a frame whose header gives another size than intrinsics.json before it is decoded (a 600 KB
    PNG can claim 25000x25000 pixels)."""
    from pipeline.core.untrusted import check_image_header, check_regular, image_size, read_head

    check_regular(path, "--rgbd: frame")
    head = read_head(path, 65_536)
    check_image_header(head, path.name)
    size = image_size(head)
    if size is not None and size != (intr.width, intr.height):
        raise UserError(
            f"--rgbd: {path.name} is {size[0]}x{size[1]}, intrinsics.json says {intr.width}x{intr.height}"
        )


def _rs_intrinsics(profile, depth_scale: float) -> Intrinsics:
    i = profile.as_video_stream_profile().get_intrinsics()
    return Intrinsics(
        width=i.width, height=i.height, fx=i.fx, fy=i.fy, ppx=i.ppx, ppy=i.ppy, depth_scale=depth_scale
    )


class _PipelineSource(FrameSource):
    """Shared code for pyrealsense2 pipelines (live camera or playback)."""

    pipe = None
    align = None

    def _setup(self, profile) -> None:
        import pyrealsense2 as rs

        depth_prof = profile.get_stream(rs.stream.depth)
        try:
            color_prof = profile.get_stream(rs.stream.color)
        except RuntimeError:
            raise UserError(f"{self.name}: has no colour stream (needs depth + colour)") from None
        scale = profile.get_device().first_depth_sensor().get_depth_scale()
        self.intrinsics = _rs_intrinsics(depth_prof, scale)
        self.align = (
            None if _registered(depth_prof, color_prof, self.intrinsics) else rs.align(rs.stream.depth)
        )

    def _frames(self, timeout_ms: int) -> Iterator[RGBDFrame]:
        i = 0
        while True:
            ok, fs = self.pipe.try_wait_for_frames(timeout_ms)
            if not ok:
                return
            if self.align is not None:
                fs = self.align.process(fs)
            d, c = fs.get_depth_frame(), fs.get_color_frame()
            if not d or not c:
                continue
            yield _rgbd(d, c, self.intrinsics, i)
            i += 1

    def close(self) -> None:
        if self.pipe is not None:
            try:
                self.pipe.stop()
            except RuntimeError:
                pass
            self.pipe = None


class RecordingSource(FrameSource):
    """Frames played back from a RealSense recording (.bag from older SDKs, .db3 from 2.58+), as fast as read.

    Plays the file device directly (not through rs.pipeline, which drops frames at start-up before real-time
    playback can be switched off) and pairs depth with colour by timestamp.
    """

    def __init__(self, path: str | os.PathLike, max_frames: int | None = None) -> None:
        from pipeline.core.deps import require

        require("pyrealsense2", "reading a RealSense recording")
        import pyrealsense2 as rs

        self.path = Path(path).resolve()
        self.name = f"--bag {self.path}"
        self.max_frames = max_frames
        self.sensors: list = []
        if not self.path.is_file():
            raise UserError(f"--bag: recording not found: {self.path}")
        if self.path.suffix.lower() not in RECORDING_SUFFIXES:
            raise UserError(f"--bag: {self.path.name} is not a RealSense recording (expected .bag or .db3)")
        try:
            self.dev = rs.context().load_device(str(self.path))
            self.dev.as_playback().set_real_time(False)
            streams = {}
            for sensor in self.dev.query_sensors():
                for prof in sensor.get_stream_profiles():
                    kind = prof.stream_type()
                    if kind in (rs.stream.depth, rs.stream.color) and kind not in streams:
                        streams[kind] = (sensor, prof)
            if rs.stream.depth not in streams:
                raise UserError(f"--bag: {self.path.name} has no depth stream (needs depth + colour)")
            if rs.stream.color not in streams:
                raise UserError(f"--bag: {self.path.name} has no colour stream (needs depth + colour)")
            dsensor, dprof = streams[rs.stream.depth]
            csensor, cprof = streams[rs.stream.color]
            scale = dsensor.as_depth_sensor().get_depth_scale() if dsensor.is_depth_sensor() else 0.001
            self.intrinsics = _rs_intrinsics(dprof, scale)
            self.align = None if _registered(dprof, cprof, self.intrinsics) else True
            self.colour_intr = _rs_intrinsics(cprof, scale)
            ex = dprof.get_extrinsics_to(cprof)
            self.extr = (
                np.array(ex.rotation).reshape(3, 3).T,
                np.array(ex.translation),
            )  # depth -> colour, column vectors
            # copy every frame inside the SDK's callback (non-real-time playback waits for it), pair them later
            self.queue: queue.Queue = queue.Queue()
            playback = self.dev.as_playback()
            same_sensor = dsensor.get_info(rs.camera_info.name) == csensor.get_info(rs.camera_info.name)
            if same_sensor:  # one sensor streams both (our own recordings): open them together
                dsensor.open([dprof, cprof])
            else:
                dsensor.open(dprof)
                csensor.open(cprof)
            for sensor in (dsensor,) if same_sensor else (dsensor, csensor):
                sensor.start(self._on_frame)
                playback.pause()  # the first sensor started starts playback: hold it until the other listens
                self.sensors.append(sensor)
            playback.resume()
        except RuntimeError as exc:
            self.close()
            raise UserError(f"--bag: cannot read {self.path.name} as a RealSense recording ({exc})") from None

    def close(self) -> None:
        for sensor in self.sensors:
            try:
                sensor.stop()
                sensor.close()
            except RuntimeError:
                pass
        self.sensors = []

    def _on_frame(self, f) -> None:
        import pyrealsense2 as rs

        kind = "depth" if f.get_profile().stream_type() == rs.stream.depth else "color"
        data = np.asanyarray(f.get_data()).copy()
        if kind == "color" and str(f.get_profile().format()).endswith("bgr8"):
            data = np.ascontiguousarray(data[:, :, ::-1])
        self.queue.put((kind, round(f.get_timestamp(), 3), data))

    def __iter__(self) -> Iterator[RGBDFrame]:
        import pyrealsense2 as rs

        pending: dict[float, dict] = {}
        n = 0
        playback = self.dev.as_playback()
        idle = 0
        while self.max_frames is None or n < self.max_frames:
            try:
                kind, ts, data = self.queue.get(timeout=0.5)
            except queue.Empty:  # end of file, or a busy machine starving the playback thread: wait a little
                idle += 1
                if (playback.current_status() == rs.playback_status.stopped and idle >= 4) or idle > 60:
                    return
                continue
            idle = 0
            pending.setdefault(ts, {})[kind] = data
            for t in sorted(pending):
                pair = pending[t]
                if "depth" in pair and "color" in pair:
                    del pending[t]
                    color = (
                        pair["color"]
                        if self.align is None
                        else _register_colour(
                            pair["depth"], pair["color"], self.intrinsics, self.colour_intr, self.extr
                        )
                    )
                    yield RGBDFrame(
                        color=color, depth=pair["depth"], intrinsics=self.intrinsics, timestamp_ms=t, index=n
                    )
                    n += 1
                    if self.max_frames is not None and n >= self.max_frames:
                        return


def _registered(dprof, cprof, intr: Intrinsics) -> bool:
    """True when colour is already registered to depth (same intrinsics, identity extrinsics)."""
    ci = cprof.as_video_stream_profile().get_intrinsics()
    ex = dprof.get_extrinsics_to(cprof)
    same = (ci.width, ci.height) == (intr.width, intr.height) and np.allclose(
        [ci.fx, ci.fy, ci.ppx, ci.ppy], [intr.fx, intr.fy, intr.ppx, intr.ppy]
    )
    return (
        same
        and np.allclose(ex.rotation, np.eye(3).ravel(), atol=1e-6)
        and np.allclose(ex.translation, 0, atol=1e-6)
    )


def _register_colour(
    depth: np.ndarray, colour: np.ndarray, di: Intrinsics, ci: Intrinsics, extr
) -> np.ndarray:
    """Colour resampled onto the depth pixels (what rs.align to depth does), black where depth is missing."""
    from pipeline.core.capture.frames import deproject

    z = depth.astype(np.float64) * di.depth_scale
    keep = z > 0
    pts = deproject(z, di, keep) @ extr[0].T + extr[1]
    u = np.round(pts[:, 0] / pts[:, 2] * ci.fx + ci.ppx).astype(int)
    v = np.round(pts[:, 1] / pts[:, 2] * ci.fy + ci.ppy).astype(int)
    ok = (u >= 0) & (u < colour.shape[1]) & (v >= 0) & (v < colour.shape[0])
    out = np.zeros((di.height, di.width, 3), np.uint8)
    vs, us = np.nonzero(keep)
    out[vs[ok], us[ok]] = colour[v[ok], u[ok]]
    return out


def _rgbd(d, c, intr: Intrinsics, index: int) -> RGBDFrame:
    color = np.asanyarray(c.get_data()).copy()
    if color.ndim == 3 and str(c.get_profile().format()).endswith("bgr8"):
        color = np.ascontiguousarray(color[:, :, ::-1])
    return RGBDFrame(
        color=color,
        depth=np.asanyarray(d.get_data()).copy(),
        intrinsics=intr,
        timestamp_ms=d.get_timestamp(),
        index=index,
    )


class RealSenseSource(_PipelineSource):
    """Live frames from the first connected RealSense D4xx, colour aligned to depth."""

    def __init__(
        self, max_frames: int = 30, width: int = 640, height: int = 480, fps: int = 30, warmup: int = 15
    ) -> None:
        from pipeline.core.deps import require

        require("pyrealsense2", "live RealSense capture")
        import pyrealsense2 as rs

        self.name = "--source realsense"
        self.max_frames, self.warmup = max_frames, warmup
        if rs.context().query_devices().size() == 0:
            raise UserError(
                "--source realsense: no RealSense camera connected (plug in a D4xx, or use --bag FILE / --rgbd DIR)"
            )
        cfg = rs.config()
        cfg.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
        cfg.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
        self.pipe = rs.pipeline()
        try:
            profile = self.pipe.start(cfg)
        except RuntimeError as exc:
            self.pipe = None
            raise UserError(f"--source realsense: cannot start the camera ({exc})") from None
        self._setup(profile)
        self.align = rs.align(rs.stream.depth)

    def __iter__(self) -> Iterator[RGBDFrame]:
        n = 0
        for frame in self._frames(timeout_ms=5000):
            if frame.index < self.warmup:  # auto-exposure settles
                continue
            yield frame
            n += 1
            if n >= self.max_frames:
                return


def open_source(
    bag: str | None = None, rgbd: str | None = None, source: str | None = None, max_frames: int | None = None
) -> FrameSource:
    """The one source the arguments name (exactly one of `bag`, `rgbd`, `source='realsense'`)."""
    given = [x for x in (bag, rgbd, source) if x]
    if len(given) != 1:
        raise UserError("give exactly one capture source: --bag FILE, --rgbd DIR or --source realsense")
    if bag:
        return RecordingSource(bag, max_frames=max_frames)
    if rgbd:
        return FolderSource(rgbd, max_frames=max_frames)
    if source != "realsense":
        raise UserError(f"--source: unknown source {source!r} (expected 'realsense')")
    return RealSenseSource(max_frames=max_frames or 30)

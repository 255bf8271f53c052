"""The per-frame stage: MediaPipe pose landmarks + segmentation, and a clean camera-frame point cloud of the person.

Checks name the problem: no person, two people, person cut off by the frame edge, too close or too far.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable

import numpy as np

from pipeline.core.capture.frames import Intrinsics, RGBDFrame, deproject
from pipeline.core.capture.silhouette import silhouette_features
from pipeline.core.errors import UserError
from pipeline.core.quiet import silenced_fds

MIN_DISTANCE_M = 1.0  # closer than this a standing adult does not fit the D435's view
MAX_DISTANCE_M = 4.0  # farther than this the depth error (~z^2) swamps the body's shape
ERODE_PX = 5
NOSE, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_ANKLE, R_ANKLE = 0, 11, 12, 23, 24, 27, 28


@dataclasses.dataclass
class PersonFrame:
    """What the per-frame stage keeps of one frame (in memory): landmarks, points, the silhouette."""

    index: int
    landmarks_px: np.ndarray  # (33, 2) pixel coordinates
    visibility: np.ndarray  # (33,)
    points: np.ndarray  # (N, 3) camera-frame points of the person, metres
    distance_m: float
    problems: list[str]
    intrinsics: Intrinsics
    mask: np.ndarray | None = None  # (H, W) bool person silhouette; kept in memory only, never written
    features: np.ndarray | None = None  # the initialiser's input features of this frame


class PersonDetector:
    """MediaPipe Pose (model_complexity=1, segmentation on), in tracking mode for a sequence."""

    def __init__(self, static: bool = False) -> None:
        from pipeline.core.deps import require

        require("mediapipe", "finding the person in the frames")
        os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ info lines
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow Lite's delegate lines
        import mediapipe as mp

        try:
            from absl import logging as absl_logging

            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:
            pass
        # MediaPipe's threads log from C++ (TensorFlow Lite's delegate, absl warnings) whenever they run, not
        # only inside our calls: stderr goes to /dev/null from here until close() (use it as a context manager).
        self._quiet = silenced_fds((2,))
        self._quiet.__enter__()
        try:
            self._make_models(mp, static)
        except BaseException:
            self._quiet.__exit__(None, None, None)
            raise

    def _make_models(self, mp, static: bool) -> None:
        self.pose = mp.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=1,
            enable_segmentation=True,
            min_detection_confidence=0.5,
        )
        self.others = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, min_detection_confidence=0.5
        )

    def close(self) -> None:
        try:
            self.pose.close()
            self.others.close()
        finally:
            if self._quiet is not None:
                self._quiet.__exit__(None, None, None)
                self._quiet = None

    def another_person(self, colour: np.ndarray, mask: np.ndarray) -> bool:
        """True when a second person shows once the first one's box is painted over."""
        vs, us = np.nonzero(mask)
        if len(us) == 0:
            return False
        h, w = mask.shape
        pad_u, pad_v = int(0.15 * (us.max() - us.min() + 1)), int(0.05 * (vs.max() - vs.min() + 1))
        img = colour.copy()
        img[
            max(vs.min() - pad_v, 0) : vs.max() + pad_v + 1, max(us.min() - pad_u, 0) : us.max() + pad_u + 1
        ] = np.median(colour.reshape(-1, 3), axis=0)
        res = self.others.process(img)
        if res.pose_landmarks is None:
            return False
        vis = np.array([p.visibility for p in res.pose_landmarks.landmark])
        return float(np.mean(vis[[NOSE, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP]])) > 0.6

    def __enter__(self) -> PersonDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def detect(self, colour: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(landmarks_px (33, 2), visibility (33,), mask (H, W) float) of the person, or None when there is none."""
        res = self.pose.process(colour)
        if res.pose_landmarks is None or res.segmentation_mask is None:
            return None
        h, w = colour.shape[:2]
        lm = np.array([(p.x * w, p.y * h, p.visibility) for p in res.pose_landmarks.landmark])
        return lm[:, :2], lm[:, 2], np.asarray(res.segmentation_mask)


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return labels, stats[1:, cv2.CC_STAT_AREA] if n > 1 else np.zeros(0, int)


def frame_problems(mask: np.ndarray, lm_px: np.ndarray, vis: np.ndarray, distance_m: float) -> list[str]:
    """Problems of one frame, each naming what is wrong and what to do."""
    h, w = mask.shape
    problems = []
    _, areas = _components(mask)
    big = np.sort(areas)[::-1]
    if len(big) > 1 and big[1] > 0.25 * big[0] and big[1] > 0.005 * h * w:
        problems.append(
            "two people (or a second person-like shape) in view: only one person may be in the frame"
        )
    margin = 2
    edges = {
        "top": mask[:margin].any(),
        "bottom": mask[-margin:].any(),
        "left": mask[:, :margin].any(),
        "right": mask[:, -margin:].any(),
    }
    feet_out = any(vis[i] > 0.3 and not (0 <= lm_px[i, 1] < h) for i in (L_ANKLE, R_ANKLE))
    head_out = vis[NOSE] > 0.3 and not (0 <= lm_px[NOSE, 1] < h)
    cut = [side for side, hit in edges.items() if hit]
    if feet_out:
        cut.append("bottom (feet outside the image)")
    if head_out:
        cut.append("top (head outside the image)")
    if cut:
        problems.append(
            f"person cut off by the frame edge ({', '.join(dict.fromkeys(cut))}): step back or re-aim the camera so the whole body is in view"
        )
    if distance_m < MIN_DISTANCE_M:
        problems.append(
            f"person too close ({distance_m:.2f} m): stand {MIN_DISTANCE_M:.1f}-{MAX_DISTANCE_M:.1f} m from the camera"
        )
    elif distance_m > MAX_DISTANCE_M:
        problems.append(
            f"person too far ({distance_m:.2f} m): stand {MIN_DISTANCE_M:.1f}-{MAX_DISTANCE_M:.1f} m from the camera"
        )
    return problems


def person_points(depth_m: np.ndarray, mask: np.ndarray, intr: Intrinsics) -> tuple[np.ndarray, float]:
    """Clean person points: eroded mask, valid depth near the person's median depth, no flying pixels."""
    import cv2
    from scipy.ndimage import median_filter

    m = cv2.erode(mask.astype(np.uint8), np.ones((ERODE_PX, ERODE_PX), np.uint8)).astype(bool)
    z = depth_m
    vals = z[m & (z > 0)]
    if vals.size < 100:
        return np.zeros((0, 3)), float("nan")
    med = float(np.median(vals))
    keep = m & (z > 0) & (np.abs(z - med) < 0.7)
    zm = median_filter(np.where(keep, z, 0.0), size=5)
    keep &= np.abs(z - zm) < 0.02 + 0.01 * med**2  # flying pixels and speckle
    return deproject(z, intr, keep), med


OTHERS_EVERY = 10  # look for a second person on every 10th frame (it costs a second MediaPipe pass)


def process_frame(
    detector: PersonDetector, frame: RGBDFrame, look_for_others: bool = True
) -> tuple[PersonFrame | None, np.ndarray | None]:
    """Landmarks, points and problems of one frame (None when MediaPipe finds no person), plus the mask."""
    found = detector.detect(frame.color)
    if found is None:
        return None, None
    lm_px, vis, prob = found
    mask = prob > 0.5
    labels, areas = _components(mask)
    if len(areas):
        main = 1 + int(np.argmax(areas))
        person = labels == main
    else:
        person = mask
    points, dist = person_points(frame.depth_m(), person, frame.intrinsics)
    problems = frame_problems(mask, lm_px, vis, dist if dist == dist else 0.0)
    if (
        look_for_others
        and not any(p.startswith("two people") for p in problems)
        and detector.another_person(frame.color, person)
    ):
        problems.append("two people in view: only one person may be in the frame")
    if len(points) < 200:
        problems.append("too few depth points on the person (depth holes or person not in the depth image)")
    feats = silhouette_features(person, frame.depth_m(), lm_px, frame.intrinsics)
    return PersonFrame(frame.index, lm_px, vis, points, dist, problems, frame.intrinsics, person, feats), mask


def observe(frames: Iterable[RGBDFrame], static: bool = False) -> tuple[list[PersonFrame], dict]:
    """Run the per-frame stage over a source; return the frames with a person and timing figures."""
    out: list[PersonFrame] = []
    n = 0
    t0 = time.perf_counter()
    times = []
    with PersonDetector(static=static) as det:
        for frame in frames:
            n += 1
            t = time.perf_counter()
            pf, _ = process_frame(det, frame, look_for_others=(n - 1) % OTHERS_EVERY == 0)
            times.append(time.perf_counter() - t)
            if pf is not None:
                out.append(pf)
    warm = times[1:] or times  # the first frame loads the model
    return out, {
        "frames": n,
        "person_frames": len(out),
        "per_frame_s": float(np.mean(warm)) if warm else 0.0,
        "wall_s": time.perf_counter() - t0,
    }


def usable_frames(person_frames: list[PersonFrame], total: int, warn) -> list[PersonFrame]:
    """Frames fit to measure from; raise the commonest problem when none is, warn about the rest."""
    if total == 0:
        raise UserError("the capture has no frames")
    if not person_frames:
        raise UserError(
            f"no person found in any of the {total} frame(s): stand in front of the camera, whole body in view"
        )
    good = [p for p in person_frames if not p.problems]
    if not good:
        counts: dict[str, int] = {}
        for p in person_frames:
            for pr in p.problems:
                key = pr.split(" (")[0]
                counts[key] = counts.get(key, 0) + 1
        worst = max(counts, key=counts.get)
        detail = next(pr for p in person_frames for pr in p.problems if pr.startswith(worst))
        raise UserError(f"cannot measure: {detail}")
    skipped = len(person_frames) - len(good) + (total - len(person_frames))
    if skipped:
        problems = sorted({pr for p in person_frames for pr in p.problems})
        warn(
            f"skipped {skipped} of {total} frame(s): "
            + ("; ".join(problems) if problems else "no person found")
        )
    return good

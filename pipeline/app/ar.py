"""The AR try-on job shared by the `ar` verb and the panel's Try On Me button: the shopper measured from a
recording (shape and per-view pose), the garment fitted on their avatar in the chosen size and carried into
the recording's pose, rendered alone from the recording's own camera with the depth frame as holdout and
shadow catcher, lit by spherical harmonics estimated from the frame, and composited onto the colour frame.
The body is never drawn. Only the composite is written (frames, depth and masks only with --keep-frames)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.ar.composite import WORN_OVER_M
from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent

# The depth mesh (the shadow catcher, which also holds out) sits this far behind the measured surface, so the
# render never cuts a garment worn over the shopper's own clothes (sensor noise, ~1.7 cm RMS at 2 m on a D435,
# and the fit's error); arms in front are cut by the per-pixel depth test (`occlusion_tolerance`).
CATCHER_PUSH_M = WORN_OVER_M
CATCHER_STEP_PX = 2


def dressed_garment(body, garment: str, size: str, sex: str | None, fabric: str = "cotton-jersey"):
    """(garment mesh, fitted vertices on `body` in its pose, garment type): a sample garment graded to `size`
    (or a garment file as it is), fitted on the body's rest pose and carried into its pose by skin weights."""
    from pipeline.core.advice.grading import SAMPLE_GARMENTS, graded_size
    from pipeline.core.ar.posing import carry_into_pose, rest_body
    from pipeline.core.fit.api import fit_garment

    kind = (
        Path(garment).stem if Path(garment).stem in SAMPLE_GARMENTS and not Path(garment).is_file() else None
    )
    if kind is None and Path(garment).with_suffix(".pattern.json").is_file():
        kind = Path(garment).stem
    if kind in SAMPLE_GARMENTS:
        mesh = graded_size(kind, size.upper(), sex or "female").garment
        gtype = SAMPLE_GARMENTS[kind]
    else:
        from pipeline.app.tryon import load_garment_file

        mesh, gtype = load_garment_file(garment), None
    fit = fit_garment(mesh, rest_body(body), garment_type=gtype, fabric=fabric)
    return mesh, carry_into_pose(fit.vertices, fit.weights, fit.weight_bones, body), fit.garment_type


FIT_SEX_NATS = (
    20.0  # log-odds per unit of anny gender from 0.5: the measure step's sure bounds (0.2/0.8) are 400:1
)


def grading_sex(measured) -> str:
    """The sex whose size chart grades a sample garment for the measured shopper: the measure step's word, or,
    where it is unsure (anny gender between 0.2 and 0.8), the likelier sex given both the fit's gender (read as
    log-odds `FIT_SEX_NATS` * (0.5 - gender) for male, so its sure bounds are odds of about 400:1) and ANSUR II
    (the log-likelihood ratio of the measured stature, girths and widths under the two sexes' Gaussians,
    `population.log_likelihood`). Either alone erred on the AR bench: a tall man fitted at gender 0.51 with
    his arms crossed (ANSUR II: male by 9.8 nats), and a short man fitted at 0.38 (ANSUR II: female by 1.2).
    Defaulting an unsure man to the women's chart dresses him in a tee 7 cm shorter and narrower than his.
    Limit: the weight of the fit's gender is set so that its own sure bounds mean sure; it is not calibrated.
    ANSUR II's ratio reads the capture fit's own measurements, before the capture calibration (measure_capture):
    the calibration's offsets are pooled over both sexes, so they add no evidence of sex, yet with them bench_ar's
    turned man with crossed arms moved from male by 1.1 nats to female by 0.4 and got the women's tee."""
    from pipeline.core.body.population import log_likelihood

    if measured.sex:
        return measured.sex
    gender = float(measured.report["anny"]["phenotypes"].get("gender", 0.5))
    fitted = measured.report.get("calibration", {}).get("uncalibrated_cm", measured.measurements_cm)
    ansur = log_likelihood(fitted, "male") - log_likelihood(fitted, "female")
    return "male" if ansur + FIT_SEX_NATS * (0.5 - gender) > 0 else "female"


def capture_pose_parameters(pose_deg: dict[str, Any]) -> dict[str, Any]:
    """anny pose parameters (local-ref, as the capture fit poses) from the fit's per-bone rotations: a rotation
    vector in degrees (world axes of anny's reference pose), or a single angle about the forward axis (the
    abduction older fits wrote)."""
    import torch
    from scipy.spatial.transform import Rotation

    out = {}
    for bone, deg in pose_deg.items():
        rotvec = [0.0, float(deg), 0.0] if np.isscalar(deg) else [float(d) for d in deg]
        t = torch.eye(4)
        t[:3, :3] = torch.tensor(Rotation.from_rotvec(np.radians(rotvec)).as_matrix(), dtype=torch.float32)
        out[bone] = t[None]
    return out


def shopper_in_pose(anny: dict[str, Any]):
    """The shopper's body (BodyArrays) with the measured shape, in the pose the capture fit found."""
    from pipeline.core.body.anny_model import body_arrays

    return body_arrays(
        anny["phenotypes"],
        anny["local_changes"],
        capture_pose_parameters(anny.get("pose_deg", {})),
        anny.get("corrective") or None,  # the measured girth corrective, as the measure step built the body
    )


def view_of(anny: dict[str, Any], frame_index: int) -> tuple[np.ndarray, np.ndarray]:
    """(R, t) of the fitted view holding `frame_index`: anny's frame -> the camera frame."""
    for v in anny["views"]:
        if frame_index in v["frames"]:
            return np.asarray(v["rotation"]), np.asarray(v["translation_m"])
    raise UserError(f"--frame {frame_index}: no person was fitted in that frame; try another frame")


def garment_layer(frame, intr, garment_cam: np.ndarray, faces: np.ndarray, rgb, samples: int, engine: str):
    """(straight RGBA of the garment over the frame's holdout/shadow catcher, the lighting estimate)."""
    import cv2

    from pipeline.blender.ar import WORLD_FROM_CAMERA, render_garment_layer
    from pipeline.core.ar.composite import depth_mesh, within_box
    from pipeline.core.ar.lighting import estimate_lighting

    light = estimate_lighting(frame.color, frame.depth_m(), intr)
    smooth = cv2.medianBlur(frame.depth.astype(np.uint16), 5).astype(np.float64) * intr.depth_scale
    verts, tris = depth_mesh(smooth, intr, step=CATCHER_STEP_PX, push_m=CATCHER_PUSH_M)
    catcher = (verts, within_box(verts, tris, intr, garment_cam))
    rgba = render_garment_layer(
        garment_cam,
        faces,
        rgb,
        intr,
        catcher_cam=catcher,
        environment=light.environment(WORLD_FROM_CAMERA),
        samples=samples,
        engine=engine,
    )
    return rgba, light


def read_frames(bag: str | None, rgbd: str | None, source: str | None, max_frames: int | None = None):
    """(frames, intrinsics) of a recording, in memory."""
    from pipeline.core.capture.sources import open_source

    with open_source(bag=bag, rgbd=rgbd, source=source, max_frames=max_frames) as stream:
        frames = list(stream)
        intr = stream.intrinsics
    if not frames:
        raise UserError("the capture has no frames")
    return frames, intr


def compose_frame(
    frame,
    intr,
    anny: dict[str, Any],
    body,
    dressed: tuple[Any, np.ndarray, str],
    samples: int = 16,
    engine: str = "cycles",
) -> dict[str, Any]:
    """The composite of one frame: {"composite": uint8 RGB, "rgba": garment layer, "garment_cam": vertices in
    the camera frame, "mask": where the garment is drawn (its own footprint with alpha > 0.5, not its shadow)}.
    What is really in front of the garment cuts it by a per-pixel depth test against the frame's depth
    (`depth_matte`, anti-aliased on the garment's side), tight where the fitted arms lie in front of the
    garment and loose elsewhere (`occlusion_tolerance`); the depth mesh in the render (the shadow catcher,
    which also holds out) sits behind the surface by the loose tolerance."""
    from pipeline.blender.ar import garment_depth
    from pipeline.core.ar.composite import (
        SHADOW_REACH_M,
        alpha_over,
        apply_matte,
        contact_shadow,
        depth_matte,
        despeckle_shadows,
        occlusion_tolerance,
        premultiply,
    )
    from pipeline.core.ar.posing import arm_faces

    mesh, posed, _ = dressed
    R, t = view_of(anny, frame.index)
    garment_cam = (posed - body.offset_m) @ R.T + t
    rgba, light = garment_layer(frame, intr, garment_cam, mesh.faces, mesh.base_color, samples, engine)
    gdepth = garment_depth(garment_cam, mesh.faces, intr)
    body_cam = (body.vertices - body.offset_m) @ R.T + t
    arm_depth = garment_depth(body_cam, arm_faces(body), intr)  # the fitted arms and hands alone
    matte = depth_matte(gdepth, frame.depth_m(), occlusion_tolerance(gdepth, arm_depth, intr.fx))
    reach_px = SHADOW_REACH_M * intr.fx / float(np.median(gdepth[gdepth > 0])) if (gdepth > 0).any() else 0.0
    rgba = contact_shadow(apply_matte(rgba, matte), (gdepth > 0) & (matte > 0.5), reach_px)
    out = {
        "composite": alpha_over(frame.color, despeckle_shadows(premultiply(rgba))),
        "rgba": rgba,
        "garment_cam": garment_cam,
        "mask": (gdepth > 0) & (rgba[..., 3] > 0.5),
        "lighting_residual": light.residual,
        "key_light_camera": light.key_direction().round(3).tolist(),
    }
    return out


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    import cv2

    from pipeline.core.files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), np.ascontiguousarray(rgb[..., ::-1])):
            raise UserError(f"cannot write {path}")
    return path


def run_ar(
    out: str | os.PathLike,
    garment: str,
    size: str,
    bag: str | None = None,
    rgbd: str | None = None,
    source: str | None = None,
    frame: int | None = None,
    sex: str | None = None,
    fabric: str = "cotton-jersey",
    samples: int = 16,
    live: bool = False,
    keep_frames: str | None = None,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Measure, dress and composite; writes `out` (PNG) only. `live`: composite every frame with Eevee at half
    size and print the frame rate (the last composite is the one written)."""
    import bpy  # noqa: F401  (before anything that may load pymeshlab)

    from pipeline.core.capture.measure_capture import measure_frames

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UserError(f"--out must end in .png: {out}")
    if samples < 1:
        raise UserError(f"--samples must be at least 1, got {samples}")
    t0 = time.perf_counter()
    frames, intr = read_frames(bag, rgbd, source, max_frames=120 if source else None)
    if keep_frames:
        from pipeline.core.capture.recording import write_frame_folder

        write_frame_folder(keep_frames, frames, intr)
    progress(0.05, "measuring the shopper")
    measured = measure_frames(
        frames,
        warn=lambda m: sys.stderr.write(f"warning: {m}\n"),
        progress=lambda f, m="": progress(0.05 + 0.5 * f, m),
    )
    anny = measured.report["anny"]
    body = shopper_in_pose(anny)
    progress(0.6, f"fitting size {size}")
    dressed = dressed_garment(body, garment, size, sex or grading_sex(measured))
    t_prep = time.perf_counter() - t0
    record: dict[str, Any] = {"garment": str(garment), "size": size.upper(), "prepare_s": round(t_prep, 2)}
    if live:
        small = intr.scaled(0.5)
        times = []
        for f in frames:
            if not any(f.index in v["frames"] for v in anny["views"]):
                continue
            t1 = time.perf_counter()
            half = _half(f, small)
            result = compose_frame(half, small, anny, body, dressed, samples=1, engine="eevee")
            times.append(time.perf_counter() - t1)
        fps = len(times) / sum(times) if times else 0.0
        print(
            f"live preview: {len(times)} frame(s) at {small.width}x{small.height}, {fps:.2f} fps (Eevee, 1 sample)"
        )
        record["live_fps"] = round(fps, 2)
    else:
        index = frame if frame is not None else anny["views"][0]["frames"][0]
        chosen = next((f for f in frames if f.index == index), None)
        if chosen is None:
            raise UserError(f"--frame {index}: the recording has frames 0-{len(frames) - 1}")
        progress(0.75, "rendering the garment")
        t1 = time.perf_counter()
        result = compose_frame(chosen, intr, anny, body, dressed, samples=samples)
        record["frame"] = index
        record["composite_s"] = round(time.perf_counter() - t1, 2)
    write_png(out, result["composite"])
    record["lighting_residual"] = round(result["lighting_residual"], 4)
    record["key_light_camera"] = result["key_light_camera"]
    progress(1.0, "done")
    return record


def _half(frame, small):
    """The frame at half size (colour by area, depth by nearest so no false depths appear at edges)."""
    import dataclasses

    import cv2

    colour = cv2.resize(frame.color, (small.width, small.height), interpolation=cv2.INTER_AREA)
    depth = frame.depth[::2, ::2][: small.height, : small.width]
    return dataclasses.replace(frame, color=colour, depth=np.ascontiguousarray(depth), intrinsics=small)

"""Look at a turn capture's fit: the fitted body drawn over each view's measured depth (one PNG).

Builds a body from one ANSUR II person (avatar fit of the nine measurements), renders a synthetic D435 turn
(5 views, as `synth-capture --view turn`) or, with `--view front`, a still front view (3 frames, as the measure
bench's front run), runs the capture fit as `pipeline measure` does, then for each view
z-buffers the fitted body (its per-view placement) into the camera and writes, side by side: the measured
depth (grey), the fitted body's outline (green) and the signed depth difference fitted-minus-measured where
both see the body (blue: the fit is in front of the measured surface, red: behind; +-2 cm full scale).

    .venv/bin/python bench/capture_overlay.py --person female-21463 --out overlay.png [--width 424] [--view front]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def zbuffer(points_cam: np.ndarray, intr, shape) -> np.ndarray:
    """Nearest depth per pixel of camera-frame points (a dense vertex splat, 2x2 px)."""
    from pipeline.core.capture.frames import project

    z = points_cam[:, 2]
    uv = np.round(project(points_cam, intr)).astype(int)
    depth = np.full(shape, np.inf)
    for du in (0, 1):
        for dv in (0, 1):
            u, v = uv[:, 0] + du, uv[:, 1] + dv
            ok = (u >= 0) & (u < shape[1]) & (v >= 0) & (v < shape[0])
            np.minimum.at(depth, (v[ok], u[ok]), z[ok])
    return depth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--person", default="female-21463", help="ANSUR II id, e.g. female-21463")
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=int, default=424)
    ap.add_argument("--iterations", type=int, default=None, help="default: the fit's own per capture kind")
    ap.add_argument("--view", choices=("turn", "front"), default="turn")
    args = ap.parse_args()

    import bpy  # noqa: F401
    import cv2

    from pipeline.app.synth_capture import SynthSettings, noisy_frames, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.data.ansur import ansur_subjects
    from pipeline.core.body.measure import measure_body
    from pipeline.core.body.shape_fit import fit_shape, measurements_of_params
    from pipeline.core.capture.body_fit import BodyFitter, default_iterations, group_views
    from pipeline.core.capture.initialiser import load_initialiser
    from pipeline.core.capture.person import observe, usable_frames
    from pipeline.core.capture.virtual_camera import d435_intrinsics
    from pipeline.core.progress import silent

    person = next(p for p in ansur_subjects() if p["id"] == args.person)
    targets = dict(person["measurements"])
    fit = fit_shape(targets, sex=person["sex"])
    body = body_arrays(**fit.params())
    rng = np.random.default_rng(7)
    st = SynthSettings(
        view=args.view, distance_m=2.4, width=args.width, height=args.width * 3 // 4, turn_frames=5
    )
    intr = d435_intrinsics(st.width, st.height)
    frames = noisy_frames(render_views(body, st, rng), 3 if args.view == "front" else 1, intr, rng)
    person_frames, stats = observe(frames)
    views = group_views(usable_frames(person_frames, stats["frames"], print))
    front = max(range(len(views)), key=lambda k: views[k].landmarks_px[11, 0] - views[k].landmarks_px[12, 0])
    feats = [p.features for p in person_frames if p.index in views[front].frames and p.features is not None]
    model = load_initialiser()
    init = model.predict(np.median(feats, axis=0)) if model is not None and feats else None
    fitter = BodyFitter(views, init)
    fitter.init_placement()
    fitter.init_arm_pose()  # as the fit of `pipeline measure` (body_fit._fit_body) starts the arms
    fitter.run(args.iterations or default_iterations(len(views)), silent)
    ph, lc = fitter.params()
    got = measurements_of_params(
        {k: float(v.detach()) for k, v in ph.items()},
        {k: float(v.detach()) for k, v in lc.items()},
        fitter.corrective(),
    )
    truth = measure_body(body.rest_vertices)
    verts = fitter.forward()[0].detach().numpy().astype(np.float64)
    placements = [
        tuple(a.detach().numpy().astype(np.float64) for a in fitter.placement(k)) for k in range(len(views))
    ]
    np.savez_compressed(
        Path(args.out).with_suffix(".npz"),
        verts=verts,
        rotations=np.stack([r for r, _ in placements]),
        translations=np.stack([t for _, t in placements]),
        depths=np.stack([frames[v.frames[0]].depth_m() for v in views]),
    )
    panels = []
    for k, view in enumerate(views):
        R, t = placements[k]
        cam = verts @ R.T + t
        frame = frames[view.frames[0]]
        measured = frame.depth_m().astype(np.float64)
        fitted = zbuffer(cam, intr, measured.shape)
        near = measured[np.isfinite(fitted)]
        lo, hi = np.percentile(near[near > 0], [1, 99]) if (near > 0).any() else (1.5, 3.5)
        grey = np.clip((measured - lo + 0.3) / (hi - lo + 0.6), 0, 1)
        img = np.repeat((255 * (1 - grey))[..., None], 3, axis=2).astype(np.uint8)
        both = np.isfinite(fitted) & (measured > 0) & (np.abs(fitted - measured) < 0.1)
        diff = np.clip((fitted - measured) / 0.02, -1, 1)
        colour = np.zeros_like(img, dtype=np.float64)
        colour[..., 0] = np.where(diff > 0, 255 * diff, 0)  # red: fitted behind the measured surface
        colour[..., 2] = np.where(diff < 0, -255 * diff, 0)  # blue: fitted in front
        colour[..., 1] = 255 * (1 - np.abs(diff)) * 0.6
        img[both] = (0.35 * img[both] + 0.65 * colour[both]).astype(np.uint8)
        mask = np.isfinite(fitted).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, (0, 255, 0), 1)
        rms = np.sqrt(np.mean((fitted[both] - measured[both]) ** 2)) * 1000 if both.any() else np.nan
        cv2.putText(
            img, f"view {k}: rms {rms:.1f} mm", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1
        )
        panels.append(img)
    sheet = np.concatenate(panels, axis=1)
    cv2.imwrite(args.out, sheet[:, :, ::-1])
    print(f"wrote {args.out} ({len(views)} views) for {args.person}")
    for n in ("stature", "chest_girth", "waist_girth", "hip_girth", "thigh_girth"):
        print(f"  {n:16s} true {truth[n]:6.1f}  captured {got[n]:6.1f}  error {got[n] - truth[n]:+5.1f} cm")
    return 0


if __name__ == "__main__":
    sys.exit(main())

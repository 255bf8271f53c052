"""Split the capture's measurement error into its sources with oracle fits on bodies built from ANSUR II people.

Per body (built as bench/bench_measure.py builds them, rendered once as a 5-view turn at 424 px) and per capture
kind (still front view, 3 frames; turn, 5 frames), the same fit as `pipeline measure` under oracle settings:
- `noisy`: the bench's run (D435 noise model, the learned initialiser's start);
- `clean`: noise-free depth (the ideal z-depth, 1 mm units), the initialiser's start;
- `clean_true`: noise-free depth, started at the true shape (phenotypes, local controls, girth corrective);
- `clean_true_no_prior`: the same without the shape, pose and arm priors;
- `clean_true_frozen`: the shape held at the truth (placements and pose still fitted): the tape read on the
  true body through the fit's own path (what remains is the avatar's stature / inside-leg corrective, which the
  capture fit does not have).
Prints, per kind and setting, the mean |error| and bias per girth, stature, and the fit's final loss (total and
data only), whose comparison between `clean_true` and `clean_true_frozen` says whether the fit left the truth
for a lower loss (the loss's fault: prior, model) or a higher one (the optimiser's).

Run: .venv/bin/python bench/capture_error_sources.py --bodies 6 [--settings noisy,clean,...] [--json out.json]
(about 2 min per body and kind with all five settings on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline.core.vocab import MEASUREMENTS  # noqa: E402

SETTINGS = ("noisy", "clean", "clean_true", "clean_true_no_prior", "clean_true_frozen")
# the girths bench_measure averages (every output measurement named *_girth)
GIRTHS = tuple(k for k in MEASUREMENTS if k.endswith("_girth"))


def frames_of(views, kind: str, noise: bool, intr, seed: int):
    """The capture's frames: the front view 3 times or the 5 turn views once, with or without depth noise."""
    from pipeline.app.synth_capture import noisy_frames

    chosen = [views[0]] if kind == "front" else views
    repeats = 3 if kind == "front" else 1
    rng = np.random.default_rng(seed)
    frames = noisy_frames(chosen, repeats, intr, rng)
    if not noise:  # same colour frames (the same MediaPipe input), ideal depth
        ideal = [z for _, z in chosen for _ in range(repeats)]
        for f, z in zip(frames, ideal, strict=True):
            f.depth = np.clip(np.round(z / intr.depth_scale), 0, 65535).astype(np.uint16)
    return frames


def oracle_fit(views, start, truth_amps, setting: str, iterations: int):
    """Fit as `body_fit.fit_body` does under one oracle setting; (measurements, loss, data loss)."""
    import torch

    from pipeline.core.body.corrective import MAX_AMPLITUDE
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture import body_fit as bf

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        fitter = bf.BodyFitter(views, start)
        if "no_prior" in setting:
            fitter.w_prior = 0.0
        if truth_amps is not None:  # the true girth corrective from the first iteration
            with torch.no_grad():
                for i, k in enumerate(bf.CORRECTIVE_GIRTHS):
                    a = np.clip(truth_amps.get(k, 0.0) / MAX_AMPLITUDE, -0.999, 0.999)
                    fitter.amp_raw[i] = float(np.arctanh(a))
            fitter.refresh_fields()
        fitter.init_placement()
        fitter.init_arm_pose()
        if "frozen" in setting:
            for p in (fitter.ph, fitter.lc, fitter.amp_raw):
                p.requires_grad_(False)
        fitter.run(iterations, lambda f, m: None)
        fitter.refresh = True
        with torch.no_grad():
            loss, _ = fitter.loss(w_lm=fitter.w_lm, w_prior=fitter.w_prior)
            data, _ = fitter.loss(w_lm=0.0, w_prior=0.0)
        ph, lc = fitter.params()
        m = measurements_of_params(
            {k: float(v.detach()) for k, v in ph.items()},
            {k: float(v.detach()) for k, v in lc.items()},
            fitter.corrective(),
        )
        return m, float(loss), float(data)
    finally:
        torch.set_num_threads(threads)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=6)
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--kinds", default="turn,front")
    ap.add_argument("--iterations", type=int, default=None, help="default: the fit's own per capture kind")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import bpy  # noqa: F401
    from bench_measure import SEED, ansur_bodies

    from pipeline.app.synth_capture import SynthSettings, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.body_fit import default_iterations, group_views
    from pipeline.core.capture.initialiser import load_initialiser
    from pipeline.core.capture.measure_capture import _front_view
    from pipeline.core.capture.person import observe, usable_frames
    from pipeline.core.capture.virtual_camera import d435_intrinsics

    settings = args.settings.split(",")
    rng = np.random.default_rng(SEED)
    rows = []
    t0 = time.perf_counter()
    for b, built in enumerate(ansur_bodies(args.bodies)):
        p = built["params"]
        truth = measurements_of_params(p["phenotypes"], p["local_changes"], p.get("corrective"))
        st = SynthSettings(
            view="turn",
            distance_m=float(rng.uniform(1.9, 2.8)),
            width=424,
            height=318,
            turn_frames=5,
            seed=SEED + b,
        )
        views = render_views(body_arrays(**p), st, rng)
        intr = d435_intrinsics(st.width, st.height)
        for kind in args.kinds.split(","):
            fitted_views = {}
            for setting in settings:
                noise = setting == "noisy"
                if noise not in fitted_views:
                    person, stats = observe(frames_of(views, kind, noise, intr, SEED + 100 + b))
                    good = usable_frames(person, stats["frames"], lambda m: None)
                    vs = group_views(good)
                    front = _front_view(vs)
                    feats = [
                        f.features for f in good if f.index in vs[front].frames and f.features is not None
                    ]
                    fitted_views[noise] = (vs, load_initialiser().predict(np.median(feats, axis=0)))
                vs, init = fitted_views[noise]
                true_start = setting.startswith("clean_true")
                start = {k: p[k] for k in ("phenotypes", "local_changes")} if true_start else init
                amps = p.get("corrective", {}) if true_start else None
                its = args.iterations or default_iterations(len(vs))
                m, loss, data = oracle_fit(vs, start, amps, setting, its)
                err = {k: round(m[k] - truth[k], 2) for k in ("stature", *GIRTHS)}
                rows.append(
                    {
                        "body": built["id"],
                        "kind": kind,
                        "setting": setting,
                        "errors_cm": err,
                        "loss": loss,
                        "data_loss": data,
                    }
                )
                print(
                    f"{built['id']:13s} {kind:5s} {setting:20s} "
                    + " ".join(f"{k.split('_')[0][:5]} {v:+5.1f}" for k, v in err.items())
                    + f"  loss {loss:.4f} data {data:.4f} ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    for kind in args.kinds.split(","):
        print(f"\n{kind}: mean |err| / bias (cm) over {args.bodies} bodies")
        for setting in settings:
            sel = [r["errors_cm"] for r in rows if r["kind"] == kind and r["setting"] == setting]
            e = np.array([[r[k] for k in GIRTHS] for r in sel])
            s = np.array([r["stature"] for r in sel])
            print(
                f"  {setting:20s} girths {np.abs(e).mean():.2f}  stature {np.abs(s).mean():.2f}/{s.mean():+.2f}  "
                + " ".join(
                    f"{k.split('_')[0][:5]} {np.abs(e[:, i]).mean():.2f}/{e[:, i].mean():+.2f}"
                    for i, k in enumerate(GIRTHS)
                )
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of `pipeline measure` on synthetic captures of bodies built from real people (ANSUR II).

By default the bodies are built from ANSUR II subjects (`--source ansur`): the avatar fit of each person's
nine measurements and sex (corrective field included), so the capture sees real shapes, not anny's own shape
space: the heaviest and the tallest woman and man of the survey, then a fixed random draw (seed SEED) of
others, both sexes. `--source anny` keeps the earlier in-distribution bodies (random anny parameters).
For each body: render five colour views
(yaw 0, 45, 90, 135, 180 degrees) with Blender and ray cast their depth with the D435 noise model, then
measure from (a) a single still front view (3 frames) and (b) the turn (5 frames), and compare with the
true measurements of the body, with the capture calibration (models/capture_calibration.json) and, from the
same fits, without it (`*_uncalibrated`). Prints mean and p95 absolute error per measurement, the ISO 20685-1 check
(the 95 % confidence interval of the mean error within +-4 mm for stature, +-9 mm for chest, waist and hip
girths: pass/fail), the girths' mean apart for the survey's four extremes and the others, the per-frame stage's frames per second (measured on 640x480 frames) and the fit time. `--calibrate` writes the RMS errors to
models/measure_uncertainty.json, which the measure command reports as its 1-sigma uncertainty.

Run: .venv/bin/python bench/bench_measure.py [--bodies 20] [--width 640] [--no-init-baseline] [--calibrate] (~12 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 2026  # tests draw bodies from other seeds / fixed parameters
ISO_LIMITS_CM = {"stature": 0.4, "chest_girth": 0.9, "waist_girth": 0.9, "hip_girth": 0.9}  # ISO 20685-1


def ansur_extremes() -> list[dict]:
    """The heaviest (largest waist) and the tallest ANSUR II woman and man."""
    from pipeline.core.body.data.ansur import ansur_subjects

    everyone = ansur_subjects()
    chosen: list[dict] = []
    for sex in ("female", "male"):
        group = [p for p in everyone if p["sex"] == sex]
        for key in ("waist_girth", "stature"):
            chosen.append(max(group, key=lambda p: p["measurements"][key]))
    return chosen


def extremes_split(errs: list[dict[str, float]], bodies: list[int]) -> dict | None:
    """Print and return the girths' mean |error| over the survey's extremes (the first bodies `ansur_bodies`
    builds) and over the others, apart: at 20 bodies the four extremes are a fifth of the bench and can outweigh
    the rest."""
    n_extremes = len(ansur_extremes())
    girths = [k for k in errs[0] if k.endswith("_girth")]
    per_body = np.array([np.mean([abs(e[k]) for k in girths]) for e in errs])
    extreme = np.array(bodies) < n_extremes
    if not extreme.any() or extreme.all():
        return None
    split = {
        "extremes": int(extreme.sum()),
        "extremes_cm": round(float(per_body[extreme].mean()), 2),
        "others": int((~extreme).sum()),
        "others_cm": round(float(per_body[~extreme].mean()), 2),
    }
    print(
        f"  girths mean |err|: the survey's {split['extremes']} extremes {split['extremes_cm']:.2f} cm, "
        f"the other {split['others']} {split['others_cm']:.2f} cm"
    )
    return split


def ansur_bodies(n: int) -> list[dict]:
    """Anny parameters of `n` ANSUR II people: the heaviest (largest waist) and tallest of each sex, then a
    seeded random draw; each from the avatar fit of the person's nine measurements."""
    from pipeline.core.body.data.ansur import ansur_subjects, fit_targets
    from pipeline.core.body.shape_fit import fit_shape

    chosen = ansur_extremes()
    rest = [p for p in ansur_subjects(n + len(chosen), SEED) if p not in chosen]
    chosen = (chosen + rest)[:n]
    bodies = []
    for p in chosen:
        fit = fit_shape(fit_targets(p), sex=p["sex"])
        bodies.append(
            {"id": p["id"], "params": fit.params(), "worst_cm": max(map(abs, fit.errors_cm().values()))}
        )
    return bodies


def iso_check(errors_cm: np.ndarray, limit_cm: float) -> tuple[float, float, bool]:
    """95 % confidence interval of the mean error and whether it lies within +-limit (ISO 20685-1)."""
    mean = float(np.mean(errors_cm))
    half = 1.96 * float(np.std(errors_cm, ddof=1)) / np.sqrt(len(errors_cm)) if len(errors_cm) > 1 else np.inf
    return mean - half, mean + half, bool(-limit_cm <= mean - half and mean + half <= limit_cm)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=20)
    ap.add_argument(
        "--source", choices=("ansur", "anny"), default="ansur", help="bodies from ANSUR II people or anny"
    )
    ap.add_argument("--width", type=int, default=640, help="render width for the accuracy runs (height 3/4)")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=None, help="default: the fit's own per capture kind")
    ap.add_argument(
        "--no-init-baseline", action="store_true", help="also fit the front views without the initialiser"
    )
    ap.add_argument("--calibrate", action="store_true", help="write models/measure_uncertainty.json")
    ap.add_argument(
        "--no-calibration",
        action="store_true",
        help="measure without models/capture_calibration.json (by default both are printed: the calibrated "
        "figures and, as *_uncalibrated, the same captures' fit before the calibration and re-fit)",
    )
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args()

    import bpy  # noqa: F401

    from pipeline.app.synth_capture import SynthSettings, noisy_frames, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.initialiser import random_params
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS, measure_frames
    from pipeline.core.capture.virtual_camera import d435_intrinsics

    rng = np.random.default_rng(SEED)
    built = ansur_bodies(args.bodies) if args.source == "ansur" else None
    if built:
        print(
            "bodies: " + ", ".join(f"{b['id']} (fit worst {b['worst_cm']:.2f} cm)" for b in built), flush=True
        )
    errors: dict[str, list[dict[str, float]]] = {
        "front": [],
        "front_uncalibrated": [],
        "turn": [],
        "turn_uncalibrated": [],
        "front_no_init": [],
    }
    fit_s: dict[str, list[float]] = {k: [] for k in errors}
    body_of: dict[str, list[int]] = {k: [] for k in errors}  # which body each row of `errors` is
    failures: list[str] = []
    rows: list[dict] = []
    t_start = time.perf_counter()
    for b in range(args.bodies):
        params = built[b]["params"] if built else random_params(rng)
        distance = float(rng.uniform(1.9, 2.8))  # nearer, a 1 m high D435 cuts off tall people's feet
        truth = measurements_of_params(
            params["phenotypes"], params["local_changes"], params.get("corrective")
        )
        body = body_arrays(params["phenotypes"], params["local_changes"], corrective=params.get("corrective"))
        st = SynthSettings(
            view="turn",
            distance_m=distance,
            width=args.width,
            height=args.width * 3 // 4,
            turn_frames=5,
            samples=args.samples,
            seed=SEED + b,
        )
        views = render_views(body, st, rng)
        intr = d435_intrinsics(st.width, st.height)
        runs = {"front": noisy_frames(views[:1], 3, intr, rng), "turn": noisy_frames(views, 1, intr, rng)}
        for kind, frames in runs.items():
            for label, use_init in ((kind, True), (f"{kind}_no_init", False)):
                if label == "front_no_init" and not args.no_init_baseline or label == "turn_no_init":
                    continue
                try:
                    res = measure_frames(
                        frames,
                        use_initialiser=use_init,
                        iterations=args.iterations,
                        warn=lambda m: None,
                        calibrate=not args.no_calibration,
                    )
                except Exception as exc:  # noqa: BLE001 - a failed body is reported, the bench goes on
                    failures.append(f"body {b} {label}: {type(exc).__name__}: {exc}")
                    continue
                errors[label].append({k: res.measurements_cm[k] - truth[k] for k in OUTPUT_MEASUREMENTS})
                body_of[label].append(b)
                cal = res.report.get("calibration", {})
                if cal.get("applied"):  # the same capture without the calibration, for before -> after
                    raw = cal["uncalibrated_cm"]
                    errors.setdefault(f"{label}_uncalibrated", []).append(
                        {k: raw[k] - truth[k] for k in OUTPUT_MEASUREMENTS}
                    )
                    fit_s.setdefault(f"{label}_uncalibrated", []).append(res.report["fit_s"])
                    body_of.setdefault(f"{label}_uncalibrated", []).append(b)
                rows.append(
                    {
                        "body": b,
                        "kind": label,
                        "distance_m": round(distance, 2),
                        "stature_cm": round(truth["stature"], 1),
                        "errors_cm": {k: round(v, 2) for k, v in errors[label][-1].items()},
                        # the truth and the capture's own tape, so a calibration can be judged on these fits
                        "truth_cm": {k: round(float(truth[k]), 2) for k in OUTPUT_MEASUREMENTS},
                        "uncalibrated_cm": {
                            k: round(float(v), 2)
                            for k, v in cal.get("uncalibrated_cm", res.measurements_cm).items()
                        },
                        "fit_s": res.report["fit_s"],
                    }
                )
                fit_s[label].append(res.report["fit_s"])
        done = errors["front"][-1] if errors["front"] else {}
        print(
            f"body {b + 1}/{args.bodies} {built[b]['id'] if built else ''} at {distance:.2f} m: stature {truth['stature']:.1f} cm, "
            f"front err stature {done.get('stature', float('nan')):+.1f} waist {done.get('waist_girth', float('nan')):+.1f} "
            f"({time.perf_counter() - t_start:.0f} s)",
            flush=True,
        )

    # per-frame stage throughput at 640x480 on one more body
    body = body_arrays(**{k: v for k, v in random_params(rng).items()})
    st = SynthSettings(view="front", width=640, height=480, samples=args.samples, seed=SEED - 1)
    frames = noisy_frames(render_views(body, st, rng), 16, d435_intrinsics(640, 480), rng)
    from pipeline.core.capture.person import observe

    _, stats = observe(frames)
    fps = 1.0 / stats["per_frame_s"]

    report = {
        "bodies": args.bodies,
        "width": args.width,
        "per_frame_fps_640x480": round(fps, 1),
        "failures": failures,
        "kinds": {},
    }
    print(
        f"\nper-frame stage (MediaPipe pose+segmentation, point cloud, features) at 640x480: {fps:.1f} fps "
        f"({1000 * stats['per_frame_s']:.0f} ms/frame, goal >= 15 fps)"
    )
    for label, errs in errors.items():
        if not errs:
            continue
        print(
            f"\n{label}: {len(errs)} bodies; fit time mean {np.mean(fit_s[label]):.2f} s, p95 {np.percentile(fit_s[label], 95):.2f} s (goal < 5 s)"
        )
        print(f"  {'measurement':20s} {'mean|err|':>9s} {'p95|err|':>9s} {'bias':>7s}  cm")
        kind = {}
        for k in OUTPUT_MEASUREMENTS:
            e = np.array([r[k] for r in errs])
            kind[k] = {
                "mean_abs": round(float(np.mean(np.abs(e))), 2),
                "p95_abs": round(float(np.percentile(np.abs(e), 95)), 2),
                "bias": round(float(np.mean(e)), 2),
                "rms": round(float(np.sqrt(np.mean(e**2))), 2),
            }
            print(f"  {k:20s} {kind[k]['mean_abs']:9.2f} {kind[k]['p95_abs']:9.2f} {kind[k]['bias']:+7.2f}")
        for k, limit in ISO_LIMITS_CM.items():
            lo, hi, ok = iso_check(np.array([r[k] for r in errs]), limit)
            kind[k]["iso_ci_cm"] = [round(lo, 2), round(hi, 2)]
            kind[k]["iso_pass"] = ok
            print(
                f"  ISO 20685-1 {k:16s} 95% CI of mean error [{lo:+.2f}, {hi:+.2f}] cm, limit +-{limit:.1f}: {'pass' if ok else 'FAIL'}"
            )
        girths = [kind[k]["mean_abs"] for k in OUTPUT_MEASUREMENTS if k.endswith("_girth")]
        print(
            f"  stature mean |err| {kind['stature']['mean_abs']:.2f} cm (goal 1); girths mean |err| {np.mean(girths):.2f} cm (goal 1.5 front)"
        )
        split = extremes_split(errs, body_of[label]) if built else None
        report["kinds"][label] = {
            "per_measurement": kind,
            "girths_by_group": split,
            "fit_s_mean": round(float(np.mean(fit_s[label])), 2),
            "fit_s_p95": round(float(np.percentile(fit_s[label], 95)), 2),
        }
    if failures:
        print("\nfailures:\n  " + "\n  ".join(failures))
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    if args.calibrate:
        from pipeline.core.deps import REPO_ROOT
        from pipeline.core.files import write_json

        cal = {
            kind: {k: max(v["rms"], 0.3) for k, v in report["kinds"][kind]["per_measurement"].items()}
            for kind in ("front", "turn")
            if kind in report["kinds"]
        }
        cal["note"] = (
            f"RMS error (cm) of bench/bench_measure.py --bodies {args.bodies} --width {args.width} (seed {SEED})"
        )
        write_json(REPO_ROOT / "models" / "measure_uncertainty.json", cal)
    if args.json:
        Path(args.json).write_text(json.dumps(report | {"rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

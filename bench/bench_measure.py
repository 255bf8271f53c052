"""Benchmark of `pipeline measure` on synthetic captures of bodies built from real people (ANSUR II), then of
anny's own bodies as a second table.

First table (`--bodies`, default 40, at most MEASURE_BENCH_MAX_BODIES: more would draw people the capture
calibration learned from): bodies built from ANSUR II subjects, the avatar fit of each person's nine
measurements and sex (corrective field included), so the capture sees real shapes, not anny's own shape space:
the heaviest and the tallest woman and man of the survey, then a fixed random draw (seed SEED) of others, both
sexes. Second table (`--anny`, default 8; 0 leaves it out): random anny bodies (`initialiser.random_params`,
seeded), anny's own shape space, which the bench used to report alone (as `--source anny` did) as its best
case; since the capture's initialiser and calibration learn from ANSUR II-built bodies, it no longer is.
For each body: render five colour views
(yaw 0, 45, 90, 135, 180 degrees) with Blender and ray cast their depth with the D435 noise model, then
measure from (a) a single still front view (3 frames) and (b) the turn (5 frames), and compare with the
true measurements of the body, with the capture calibration (models/capture_calibration.json) and, from the
same fits, without it (`*_uncalibrated`). Prints per table mean, p95 and bias per measurement, the ISO 20685-1
check (the 95 % confidence interval of the mean error within +-4 mm for stature, +-9 mm for chest, waist and hip
girths: pass/fail, and the sample size at which the interval would fit the limit given this run's bias and
scatter), for ANSUR II the girths' mean apart for the survey's four extremes and the others, the
fit time, and the per-frame stage's frames per second (measured on 640x480 frames). `--calibrate` writes the
ANSUR II table's RMS errors to models/measure_uncertainty.json, which the measure command reports as its
1-sigma uncertainty.

Why 40 by default: the ISO check is a confidence interval, so its verdict depends on the sample size as much as
on the capture. With the turn's per-body scatter (chest sd 1.2-1.5 cm) 20 bodies give a half-width of 0.55-0.7 cm
against the 0.9 cm limit, which leaves the mean error 2-3 mm of room, about the calibration's own standard error
(1.8 / sqrt(114) = 1.7 mm on the turn chest): at 20 a draw's luck decides. 40 (half-width about 0.45 cm) is the
largest draw the calibration holds out; the size printed per row (`iso_sample_size`) says how many bodies the
interval would need at that row's bias and scatter.

Run: .venv/bin/python bench/bench_measure.py [--bodies 40] [--anny 8] [--width 640] [--no-init-baseline]
[--calibrate] [--json F] (about 35 min for 40 bodies and 6 for 8 on 2 cores; --bodies 20 about 17 min)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# the draw's seed (tests draw bodies with others) and the survey's extremes, which every table starts with
from pipeline.core.body.data.ansur import MEASURE_BENCH_MAX_BODIES, ansur_extremes  # noqa: E402
from pipeline.core.body.data.ansur import MEASURE_BENCH_SEED as SEED  # noqa: E402

ISO_LIMITS_CM = {"stature": 0.4, "chest_girth": 0.9, "waist_girth": 0.9, "hip_girth": 0.9}  # ISO 20685-1


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


def iso_sample_size(errors_cm: np.ndarray, limit_cm: float) -> int | None:
    """Bodies the ISO 20685-1 interval would need to fit within +-limit, were this sample's bias and scatter the
    population's: n >= (1.96 sd / (limit - |bias|))^2. None when the bias alone reaches the limit (no sample
    size passes). An estimate from the same sample, so a guide to the bench's size, not a second verdict."""
    room = limit_cm - abs(float(np.mean(errors_cm)))
    if room <= 0 or len(errors_cm) < 2:
        return None
    return int(np.ceil((1.96 * float(np.std(errors_cm, ddof=1)) / room) ** 2))


def iso_needs_text(needs: int | None) -> str:
    """`iso_sample_size` in words for the table."""
    if needs is None:
        return "its bias alone is past the limit"
    return f"needs {needs} bodies" if needs <= 1000 else "needs over 1,000 bodies"


LABELS = ("front", "front_uncalibrated", "turn", "turn_uncalibrated", "front_no_init")


@dataclasses.dataclass
class Captures:
    """One table's captures: per label (capture kind, `_uncalibrated`, `_no_init`) each body's measurement
    errors, fit times and body numbers, plus a row per capture for the JSON and the failures."""

    errors: dict[str, list[dict[str, float]]] = dataclasses.field(
        default_factory=lambda: {k: [] for k in LABELS}
    )
    fit_s: dict[str, list[float]] = dataclasses.field(default_factory=lambda: {k: [] for k in LABELS})
    body_of: dict[str, list[int]] = dataclasses.field(default_factory=lambda: {k: [] for k in LABELS})
    rows: list[dict] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)

    def add(self, label: str, body: int, errors_cm: dict[str, float], fit_s: float) -> None:
        self.errors.setdefault(label, []).append(errors_cm)
        self.fit_s.setdefault(label, []).append(fit_s)
        self.body_of.setdefault(label, []).append(body)


def capture_bodies(
    n: int, params_of: Callable[[int, np.random.Generator], dict], rng: np.random.Generator, args, name: str
) -> Captures:
    """Render each of `n` bodies (`params_of(b, rng)`) as five views, measure a still front view (3 noisy frames)
    and the turn (one frame a view), and compare with the body's true measurements."""
    from pipeline.app.synth_capture import SynthSettings, noisy_frames, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS, measure_frames
    from pipeline.core.capture.virtual_camera import d435_intrinsics

    out = Captures()
    t_start = time.perf_counter()
    for b in range(n):
        params = params_of(b, rng)
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
                    out.failures.append(f"{name} body {b} {label}: {type(exc).__name__}: {exc}")
                    continue
                fit_s = res.report["fit_s"]
                out.add(label, b, {k: res.measurements_cm[k] - truth[k] for k in OUTPUT_MEASUREMENTS}, fit_s)
                cal = res.report.get("calibration", {})
                if cal.get("applied"):  # the same capture without the calibration, for before -> after
                    raw = cal["uncalibrated_cm"]
                    out.add(
                        f"{label}_uncalibrated", b, {k: raw[k] - truth[k] for k in OUTPUT_MEASUREMENTS}, fit_s
                    )
                out.rows.append(
                    {
                        "source": name,
                        "body": b,
                        "kind": label,
                        "distance_m": round(distance, 2),
                        "stature_cm": round(truth["stature"], 1),
                        "errors_cm": {k: round(v, 2) for k, v in out.errors[label][-1].items()},
                        # the truth and the capture's own tape, so a calibration can be judged on these fits
                        "truth_cm": {k: round(float(truth[k]), 2) for k in OUTPUT_MEASUREMENTS},
                        "uncalibrated_cm": {
                            k: round(float(v), 2)
                            for k, v in cal.get("uncalibrated_cm", res.measurements_cm).items()
                        },
                        "fit_s": fit_s,
                    }
                )
        done = out.errors["front"][-1] if out.errors["front"] else {}
        print(
            f"{name} body {b + 1}/{n} {params.get('id', '')} at {distance:.2f} m: stature {truth['stature']:.1f} cm, "
            f"front err stature {done.get('stature', float('nan')):+.1f} waist {done.get('waist_girth', float('nan')):+.1f} "
            f"({time.perf_counter() - t_start:.0f} s)",
            flush=True,
        )
    return out


def print_tables(title: str, captures: Captures, split_extremes: bool) -> dict:
    """Print one table per label (mean, p95 and bias per measurement, the ISO 20685-1 check, the fit time) and
    return the figures for the JSON."""
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS

    print(f"\n== {title} ==")
    kinds = {}
    for label, errs in captures.errors.items():
        if not errs:
            continue
        fit_s = captures.fit_s[label]
        print(
            f"\n{label}: {len(errs)} bodies; fit time mean {np.mean(fit_s):.2f} s, p95 {np.percentile(fit_s, 95):.2f} s (goal < 5 s)"
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
            e = np.array([r[k] for r in errs])
            lo, hi, ok = iso_check(e, limit)
            needs = iso_sample_size(e, limit)
            kind[k]["iso_ci_cm"] = [round(lo, 2), round(hi, 2)]
            kind[k]["iso_pass"] = ok
            kind[k]["iso_bodies_needed"] = needs
            print(
                f"  ISO 20685-1 {k:16s} 95% CI of mean error [{lo:+.2f}, {hi:+.2f}] cm, limit +-{limit:.1f}: "
                f"{'pass' if ok else 'FAIL'} ({iso_needs_text(needs)})"
            )
        girths = [kind[k]["mean_abs"] for k in OUTPUT_MEASUREMENTS if k.endswith("_girth")]
        print(
            f"  stature mean |err| {kind['stature']['mean_abs']:.2f} cm (goal 1); girths mean |err| {np.mean(girths):.2f} cm (goal 1.5 front)"
        )
        kinds[label] = {
            "per_measurement": kind,
            "girths_by_group": extremes_split(errs, captures.body_of[label]) if split_extremes else None,
            "fit_s_mean": round(float(np.mean(fit_s)), 2),
            "fit_s_p95": round(float(np.percentile(fit_s, 95)), 2),
        }
    return kinds


def per_frame_fps(samples: int) -> float:
    """The per-frame stage's throughput (MediaPipe pose and segmentation, point cloud, features) on 16 noisy
    640x480 frames of one random anny body."""
    from pipeline.app.synth_capture import SynthSettings, noisy_frames, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.initialiser import random_params
    from pipeline.core.capture.person import observe
    from pipeline.core.capture.virtual_camera import d435_intrinsics

    rng = np.random.default_rng(SEED - 1)
    body = body_arrays(**random_params(rng))
    st = SynthSettings(view="front", width=640, height=480, samples=samples, seed=SEED - 1)
    frames = noisy_frames(render_views(body, st, rng), 16, d435_intrinsics(640, 480), rng)
    _, stats = observe(frames)
    return 1.0 / stats["per_frame_s"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--bodies",
        type=int,
        default=40,
        help=f"ANSUR II people (the first table; at most {MEASURE_BENCH_MAX_BODIES}, the draw the calibration holds out)",
    )
    ap.add_argument(
        "--anny",
        type=int,
        default=8,
        help="random anny bodies (the second table: anny's own shape space)",
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
    if not 0 <= args.bodies <= MEASURE_BENCH_MAX_BODIES:
        print(
            f"error: --bodies must be 0-{MEASURE_BENCH_MAX_BODIES}: more would draw people the capture calibration "
            "learned from",
            file=sys.stderr,
        )
        return 2
    if args.calibrate and args.bodies < 2:
        print("error: --calibrate needs at least 2 ANSUR II bodies (--bodies)", file=sys.stderr)
        return 2

    import bpy  # noqa: F401

    from pipeline.core.capture.initialiser import random_params

    t_start = time.perf_counter()
    built = ansur_bodies(args.bodies) if args.bodies else []
    if built:
        print(
            "bodies: " + ", ".join(f"{b['id']} (fit worst {b['worst_cm']:.2f} cm)" for b in built), flush=True
        )
    ansur = capture_bodies(
        len(built),
        lambda b, rng: built[b]["params"] | {"id": built[b]["id"]},
        np.random.default_rng(SEED),
        args,
        "ansur",
    )
    anny = capture_bodies(
        args.anny, lambda b, rng: random_params(rng), np.random.default_rng(SEED), args, "anny"
    )

    fps = per_frame_fps(args.samples)
    print(
        f"\nper-frame stage (MediaPipe pose+segmentation, point cloud, features) at 640x480: {fps:.1f} fps "
        f"({1000 / fps:.0f} ms/frame, goal >= 15 fps)"
    )
    report = {
        "bodies": args.bodies,
        "anny_bodies": args.anny,
        "width": args.width,
        "per_frame_fps_640x480": round(fps, 1),
        "failures": ansur.failures + anny.failures,
        "kinds": print_tables(f"ANSUR II people ({len(built)})", ansur, split_extremes=True) if built else {},
        "anny_kinds": print_tables(f"anny samples ({args.anny}): anny's own shape space", anny, False)
        if args.anny
        else {},
    }
    if report["failures"]:
        print("\nfailures:\n  " + "\n  ".join(report["failures"]))
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
        Path(args.json).write_text(json.dumps(report | {"rows": ansur.rows + anny.rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Calibrate the capture's measurements against the truth, per capture kind (front / turn) and measurement, and
write models/capture_calibration.json (read by `pipeline.core.capture.measure_capture`).

Why: the capture fit's tape carries systematic errors on the synthetic D435 path (bench/bench_measure.py: a
still front view's chest about 4 cm short on almost every body, a turn's neck long and thigh short); survey
scanners remove such instrument errors by calibration against tape measures.

Bodies: ANSUR II people the measure bench never draws (`calibrate_landmark_offsets.held_out_people`, women and
men alternately, plus per sex the next heaviest and tallest after the bench's, `extreme_people`), built as the
bench builds them (`person_params`) and captured as the bench captures them (five colour views rendered at 1.9-2.8
m; front: 3 noisy frames of yaw 0, turn: one of each). The renders are cached under ~/.cache/tryon/capture_calib/
(a body takes 25-60 s on 2 cores, as fast as the machine runs that day, a third to a half of it rendering), so a
re-run after a change of the fit only re-fits. `--draw random` (`calibrate_landmark_offsets.random_people`) draws
at random over the survey instead, leaving out the initialiser's training people too: `held_out_people`, which the
tables in models/ were drawn with, keeps the first of its pool in the survey's order, so its people are the
survey's lowest subject ids (bench/RESULTS.md, `iso20`).

Model per kind and measurement, chosen by leave-one-out mean |error| on the calibration set: none, an offset
(truth - capture), or offset + slope (least squares of the truth on the capture's value); the slope is kept only
where it differs from 1 by at least twice its standard error and its leave-one-out error is at least 5 % below both
others', the offset only where it is at least twice its standard error and beats none. The significance rule came
after a first bench run: with leave-one-out alone, offsets of 1 cm estimated to +-0.7 cm (the turn's and front
view's waist) and a turn stature slope were kept, and on the bench they moved the waist bias +0.20 -> -0.91 cm and
the turn stature's +-0.4 cm ISO check from pass to fail. 20 bodies estimate a bias to about 0.2-1 cm (its standard
error), about the ISO 20685-1 limits themselves. Per-sex
offsets are reported (leave-one-out, by the fit's own sure sex) but not used unless `--per-sex`.

One table per render width (`by_width` in the file; this run replaces its own width's and keeps the others'): the
biases depend on the pixel size (a still front view's stature -0.66 cm at 424 px, +0.09 cm at 640 px; a turn's
chest -2.13 and -0.73 cm), and a 424-px table applied to 640-px captures over-corrected (bench_measure at 640 px: the
front stature bias +0.15 -> +0.86 cm after the 424 table's +0.66 cm offset).

Models: see above, and the kernel regression (RIDGE, KERNEL_GAMMA, KERNEL_LINEAR): the error regressed on the
capture's seven girths each over its stature, kept where its leave-one-out mean |error| is 5 % below the simpler
models'. It learns from every calibration body (the table stores their standardised inputs, `kernels`, and a weight
per body, `dual`), so it needs more bodies than an offset does, and neighbours where it is used: the 640 px table
pools four draws (114 people, 24 of them the next 6 heaviest and tallest of each sex after the bench's; the fourth
draw, those 24 alone, came after the bench's heaviest man's front neck went -7.4 cm with 12: a local model needs
the tails sampled, and the survey's extremes are a fifth of the bench's default 20 bodies).

Run (re-run all whenever the capture fit changes; each width caches its own renders and each draw its records,
so the fifth command only re-derives the table from the first four's fits; a person in two draws is kept once,
from the later file):
    .venv/bin/python scripts/calibrate_capture_measurements.py --bodies 28 --extremes 1 --seed 13 --width 640
    .venv/bin/python scripts/calibrate_capture_measurements.py --bodies 32 --extremes 0 --seed 14 --width 640
    .venv/bin/python scripts/calibrate_capture_measurements.py --bodies 32 --extremes 3 --seed 15 --width 640
    .venv/bin/python scripts/calibrate_capture_measurements.py --bodies 0 --extremes 6 --seed 16 --width 640
    .venv/bin/python scripts/calibrate_capture_measurements.py --width 640 --records \
        ~/.cache/tryon/capture_calib/records-28-1-13-640.json ~/.cache/tryon/capture_calib/records-32-0-14-640.json \
        ~/.cache/tryon/capture_calib/records-32-3-15-640.json ~/.cache/tryon/capture_calib/records-0-6-16-640.json
    .venv/bin/python scripts/calibrate_capture_measurements.py --bodies 16 --extremes 1 --seed 13 --width 424
(A change of the model alone needs no re-fit: `--width 640 --records` the four files above, and `--width 424
--records ~/.cache/tryon/capture_calib/records-16-1-13-424.json`.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

CACHE = Path.home() / ".cache" / "tryon" / "capture_calib"
SLOPE_GAIN = 0.95  # a slope is kept only where its leave-one-out mean |error| is below 95 % of the others'
MIN_T = 2.0  # and only where it (the slope's difference from 1, or the offset) is twice its standard error
# and only where it is a correction, not a new scale (tests/test_capture_calibration.py holds the file to it): at
# 640 px the front shoulder width's least-squares slope came out 1.32 (offset -11.3 cm) on 32 bodies
MAX_SLOPE_CHANGE = 0.3
# The regression model: the error of a measurement regressed on the capture's girths, each over its stature, by
# kernel ridge (`measure_capture.regression_kernel`: a Gaussian on the standardised inputs, plus a linear part and a
# constant), kept where its leave-one-out mean |error| is below SLOPE_GAIN times the simpler models'. A single view
# sees the front only, so a girth's back half comes from the shape space; the other girths carry what it misses (a
# thick neck and upper arm with a short chest: a deep chest the front view under-reads). Why girth / stature and
# a kernel: the earlier model, a linear ridge on the capture's stature and seven girths in cm, extrapolated on the
# bodies the calibration set has few of (it took the survey's tallest man's front waist from -1.5 to -4.0 cm); on
# the 102 people at 640 px, leave-one-out front / turn girths, every row on the model: linear on cm 1.433 / 1.189,
# linear on the ratios 1.417 / 1.179, kernel ridge on cm 1.316 / 1.142, on the ratios 1.298 / 1.140. One setting
# for every measurement and both kinds, chosen by the sum of the two kinds' leave-one-out girths over a grid (ridge
# 0.1 / 0.3 / 1 / 3, gamma 0.5 / 1 / 2, linear 0.3 / 1): ridge 0.3 best at every gamma, and gamma 1 with linear
# 0.3 (front 1.296, turn 1.140) the smoothest of three tied at 2.436 (ridge 0.1: 2.451 at best, 1: 2.444, 3: 2.494).
# Kept on the 114 of the four draws (front 1.273, turn 1.070: 2.343; the grid's best there, gamma 2, 2.331).
RIDGE = 0.3
KERNEL_GAMMA = 1.0
KERNEL_LINEAR = 0.3


def cached_views(person: dict, params: dict, width: int, seed: int) -> tuple[list, float]:
    """The person's five rendered views (colour, ideal depth) and camera distance, rendered once and cached."""
    from pipeline.app.synth_capture import SynthSettings, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.files import atomic_path

    key = hashlib.sha1(json.dumps([person["id"], width, seed], sort_keys=True).encode()).hexdigest()[:12]
    path = CACHE / f"{person['id']}-{width}-{key}.npz"
    if path.is_file():
        d = np.load(path)
        return [(d[f"c{i}"], d[f"z{i}"]) for i in range(5)], float(d["distance_m"])
    rng = np.random.default_rng(seed)
    distance_m = float(rng.uniform(1.9, 2.8))
    body = body_arrays(params["phenotypes"], params["local_changes"], corrective=params.get("corrective"))
    st = SynthSettings(
        view="turn",
        distance_m=distance_m,
        width=width,
        height=width * 3 // 4,
        turn_frames=5,
        samples=4,
        seed=seed,
    )
    views = render_views(body, st, rng)
    arrays = {f"c{i}": c for i, (c, _) in enumerate(views)} | {f"z{i}": z for i, (_, z) in enumerate(views)}
    with atomic_path(path) as tmp:  # a run stopped mid-write leaves no broken cache file
        np.savez_compressed(tmp, distance_m=distance_m, **arrays)
    return views, distance_m


def kernel_basis(inputs: np.ndarray) -> dict:
    """The kernel regression's basis on the calibration bodies' inputs (rows: bodies): the inputs' mean and
    scale, the standardised bodies, gamma and the linear part's weight."""
    mean, scale = inputs.mean(0), inputs.std(0) + 1e-9
    return {
        "mean": mean,
        "scale": scale,
        "points": (inputs - mean) / scale,
        "gamma": KERNEL_GAMMA,
        "linear": KERNEL_LINEAR,
    }


def kernel_fit(inputs: np.ndarray, error: np.ndarray) -> tuple[dict, np.ndarray]:
    """Kernel ridge of `error` (truth - capture, cm) on the capture's regression inputs (rows: bodies): the basis
    (`kernel_basis`) and the dual weights."""
    from pipeline.core.capture.measure_capture import regression_kernel

    basis = kernel_basis(inputs)
    k = regression_kernel(basis["points"], basis["points"], KERNEL_GAMMA, KERNEL_LINEAR)
    return basis, np.linalg.solve(k + RIDGE * np.eye(len(inputs)), error)


def loo(raw: np.ndarray, truth: np.ndarray, model: str, inputs: np.ndarray | None = None) -> np.ndarray:
    """Leave-one-out errors (corrected - truth) of a model ("none", "offset", "slope", "kernel" on `inputs`)
    on the calibration set."""
    from pipeline.core.capture.measure_capture import kernel_predict

    out = []
    for i in range(len(raw)):
        m = np.arange(len(raw)) != i
        if model == "none":
            pred = raw[i]
        elif model == "offset":
            pred = raw[i] + np.mean(truth[m] - raw[m])
        elif model == "slope":
            b, a = np.polyfit(raw[m], truth[m], 1)
            pred = a + b * raw[i]
        else:
            basis, dual = kernel_fit(inputs[m], truth[m] - raw[m])
            pred = raw[i] + kernel_predict(inputs[i : i + 1], basis, dual)[0]
        out.append(pred - truth[i])
    return np.array(out)


def fit_kind(records: list[dict], kind: str, names: tuple[str, ...]) -> tuple[dict, dict, dict | None]:
    """Per measurement the chosen model's row and the leave-one-out figures of every model, and the kernel
    regression's basis (rounded, as the table stores it; None when no row chose the kernel)."""
    from pipeline.core.capture.measure_capture import REGRESSION_GIRTHS, regression_inputs

    rows, figures = {}, {}
    recs = [r for r in records if kind in r]
    inputs = np.array([regression_inputs(r[kind]["raw"]) for r in recs])
    basis = kernel_basis(inputs)
    for k in names:
        raw = np.array([r[kind]["raw"][k] for r in recs])
        truth = np.array([r["truth"][k] for r in recs])
        errs = {m: loo(raw, truth, m, inputs) for m in ("none", "offset", "slope", "kernel")}
        mae = {m: float(np.mean(np.abs(e))) for m, e in errs.items()}
        # per sex offsets, split by the capture fit's own sex where it is sure (else pooled)
        sex_err = []
        for i, r in enumerate(recs):
            group = [j for j, q in enumerate(recs) if j != i and q[kind]["sex"] == r[kind]["sex"]]
            if r[kind]["sex"] is None or len(group) < 3:
                group = [j for j in range(len(recs)) if j != i]
            sex_err.append(raw[i] + np.mean(truth[group] - raw[group]) - truth[i])
        mae["offset_per_sex"] = float(np.mean(np.abs(sex_err)))
        e = raw - truth  # the capture's error; its mean is the bias the offset removes
        t_offset = float(np.mean(e) / (np.std(e, ddof=1) / np.sqrt(len(e))))
        b, a = np.polyfit(raw, truth, 1)
        res = truth - (a + b * raw)
        t_slope = float((b - 1.0) / np.sqrt(res @ res / (len(raw) - 2) / np.sum((raw - raw.mean()) ** 2)))
        choice = "offset" if abs(t_offset) >= MIN_T and mae["offset"] < mae["none"] else "none"
        if (
            abs(t_slope) >= MIN_T
            and abs(b - 1.0) <= MAX_SLOPE_CHANGE
            and mae["slope"] < SLOPE_GAIN * min(mae["none"], mae["offset"])
        ):
            choice = "slope"
        if mae["kernel"] < SLOPE_GAIN * min(mae["none"], mae["offset"], mae["slope"]):
            choice = "kernel"
        if choice == "offset":
            rows[k] = {"offset_cm": round(float(np.mean(truth - raw)), 2), "slope": 1.0}
        elif choice == "slope":
            rows[k] = {"offset_cm": round(float(a), 2), "slope": round(float(b), 4)}
        elif choice == "kernel":
            _, dual = kernel_fit(inputs, truth - raw)
            rows[k] = {"offset_cm": 0.0, "slope": 1.0, "dual": [round(float(d), 5) for d in dual]}
        figures[k] = {
            "model": choice,
            "bias_cm": round(float(np.mean(raw - truth)), 2),
            "t_offset": round(t_offset, 1),
            "t_slope": round(t_slope, 1),
            **{f"loo_mean_abs_{m}_cm": round(v, 2) for m, v in mae.items()},
        }
    if not any("dual" in row for row in rows.values()):
        return rows, figures, None
    stored = {k: np.round(v, 6).tolist() if isinstance(v, np.ndarray) else v for k, v in basis.items()}
    return rows, figures, {"inputs": [f"{g}/stature" for g in REGRESSION_GIRTHS]} | stored


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=16, help="random held-out people (plus the extremes)")
    ap.add_argument("--extremes", type=int, default=1, help="per sex, this many next heaviest and tallest")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--draw",
        choices=("pool", "random"),
        default="pool",
        help="pool: `held_out_people` (the first of a seeded pool in the survey's order, as the tables in models/ "
        "were drawn); random: `random_people` (at random over the survey, none the initialiser trained on)",
    )
    ap.add_argument("--width", type=int, default=424, help="render width (height 3/4), as the bench's runs")
    ap.add_argument("--iterations", type=int, default=None, help="default: the fit's own per capture kind")
    ap.add_argument(
        "--records", nargs="+", default=None, help="reuse the capture records of earlier runs (JSON)"
    )
    ap.add_argument("--out", default=str(ROOT / "models" / "capture_calibration.json"))
    args = ap.parse_args()

    import bpy  # noqa: F401
    from calibrate_landmark_offsets import extreme_people, held_out_people, person_params, random_people

    from pipeline.app.synth_capture import noisy_frames
    from pipeline.core.body.shape_fit import measurements_of_params
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS, measure_frames
    from pipeline.core.capture.virtual_camera import d435_intrinsics
    from pipeline.core.files import write_json, write_text

    t0 = time.perf_counter()
    draw = "" if args.draw == "pool" else f"-{args.draw}"
    records_path = CACHE / f"records-{args.bodies}-{args.extremes}-{args.seed}-{args.width}{draw}.json"
    if args.records:  # several runs' records pooled (a person in two is kept once)
        pooled = {r["id"]: r for f in args.records for r in json.loads(Path(f).read_text())}
        records = list(pooled.values())
    else:
        drawn = random_people if args.draw == "random" else held_out_people
        people = drawn(args.bodies, args.seed) + extreme_people(args.extremes)
        records = []
        for n, person in enumerate(people):
            params = person_params(person)
            truth = measurements_of_params(
                params["phenotypes"], params["local_changes"], params.get("corrective")
            )
            views, distance_m = cached_views(person, params, args.width, args.seed + n)
            intr = d435_intrinsics(args.width, args.width * 3 // 4)
            rng = np.random.default_rng(args.seed + 1000 + n)
            rec = {"id": person["id"], "sex": person["sex"], "distance_m": round(distance_m, 2)}
            rec["truth"] = {k: round(float(truth[k]), 2) for k in OUTPUT_MEASUREMENTS}
            for kind, frames in (
                ("front", noisy_frames(views[:1], 3, intr, rng)),
                ("turn", noisy_frames(views, 1, intr, rng)),
            ):
                try:
                    res = measure_frames(
                        frames, iterations=args.iterations, warn=lambda m: None, calibrate=False
                    )
                except Exception as exc:  # noqa: BLE001 - a failed capture is reported, the others go on
                    print(f"  {person['id']} {kind}: {type(exc).__name__}: {exc}")
                    continue
                if res.report["capture_kind"] != kind:
                    print(
                        f"  {person['id']} {kind}: came out a {res.report['capture_kind']} capture, left out"
                    )
                    continue
                rec[kind] = {"raw": res.measurements_cm, "sex": res.sex}
            records.append(rec)
            print(f"{n + 1}/{len(people)} {person['id']} ({time.perf_counter() - t0:.0f} s)", flush=True)
        write_text(records_path, json.dumps(records, indent=1))
        print(f"records: {records_path}")

    kinds, figures, kernels = {}, {}, {}
    for kind in ("front", "turn"):
        recs = [r for r in records if kind in r]
        sure = [r for r in recs if r[kind]["sex"] is not None]
        right = sum(r[kind]["sex"] == r["sex"] for r in sure)
        print(f"\n{kind}: {len(recs)} captures; the fit's sex sure in {len(sure)}, right in {right} of those")
        kinds[kind], figures[kind], basis = fit_kind(records, kind, OUTPUT_MEASUREMENTS)
        if basis is not None:
            kernels[kind] = basis
        figures[kind]["_sex"] = {"captures": len(recs), "sure": len(sure), "right": right}
        print(
            f"  {'measurement':20s} {'bias':>6s} {'t':>5s} {'t(b-1)':>6s} {'none':>6s} {'offset':>6s} {'slope':>6s} "
            f"{'kernel':>6s} {'per sex':>7s}  model (leave-one-out mean |err| cm)"
        )
        for k in OUTPUT_MEASUREMENTS:
            f = figures[kind][k]
            print(
                f"  {k:20s} {f['bias_cm']:+6.2f} {f['t_offset']:+5.1f} {f['t_slope']:+6.1f} {f['loo_mean_abs_none_cm']:6.2f} {f['loo_mean_abs_offset_cm']:6.2f} "
                f"{f['loo_mean_abs_slope_cm']:6.2f} {f['loo_mean_abs_kernel_cm']:6.2f} "
                f"{f['loo_mean_abs_offset_per_sex_cm']:7.2f}  {f['model']}"
            )
        for label, key in (("no correction", "none"), ("chosen", None)):
            vals = [
                figures[kind][k][f"loo_mean_abs_{key or figures[kind][k]['model']}_cm"]
                for k in OUTPUT_MEASUREMENTS
                if k.endswith("_girth")
            ]
            print(f"  girths leave-one-out mean |err| {label}: {np.mean(vals):.2f} cm")
    out = Path(args.out)
    tables = json.loads(out.read_text())["by_width"] if out.is_file() else {}
    tables[str(args.width)] = {  # this width's table; the other widths' stay as they were
        "kinds": kinds,
        "kernels": kernels,
        "leave_one_out": figures,
        "bodies": [r["id"] for r in records],
        "note": "corrected = offset_cm + slope * capture value (cm), plus for a kernel row (dual) the kernel "
        "regression on the capture's girth / stature ratios (measure_capture.kernel_correction, basis in "
        "kernels), per capture kind; scripts/calibrate_capture_measurements.py "
        + (
            f"--width {args.width} --records {' '.join(Path(f).name for f in args.records)}"
            if args.records
            else f"--bodies {args.bodies} --extremes {args.extremes} --seed {args.seed} --width {args.width}"
            + (f" --draw {args.draw}" if args.draw != "pool" else "")
        )
        + ": synthetic D435 captures of ANSUR II people the measure bench never draws",
    }
    write_json(out, {"by_width": dict(sorted(tables.items(), key=lambda kv: int(kv[0])))})
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

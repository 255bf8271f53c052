"""Avatar from measurements: how well and how fast the shape fit reproduces real people's measurements.

Table 1 (reach): a fixed random draw of ANSUR II subjects (real US Army personnel, both sexes; `--n`, seed
`--seed`), each fitted from its nine ANSUR measurements (stature, neck, chest/bust, waist, hip, thigh,
shoulder width, arm length, inside leg) and its sex. Per measurement: mean, p95 and max absolute error (cm)
and the share within 0.5 cm; the share of people with every measurement within 0.5 cm; how many needed the
corrective field; time per avatar (fit + body arrays), wall clock and this process's CPU time (the wall time
depends on what else runs on the machine). Baseline in the same run: the phenotype-only fit.

Table 2 (the rest of the body): `--n-rest` ANSUR II subjects drawn as table 1's, with the same seed (the same
people where `--n` equals it; the first of a longer draw would be its lowest subject ids, all women). Only
stature, chest/bust, waist and hip are given (+ sex); the other five ANSUR measurements of the fitted body are
compared with the person's real ones, (a) with the population prediction (ANSUR II conditional mean, the
default) and (b) left to anny's prior (`predict_rest=False`), against the conditional standard deviation of the
population model. Note the population model is derived from the same survey (in-sample: 9 means and 45
covariances from 6,068 people).

Table 3 (second): `--anny` bodies sampled from anny's own shape space (phenotypes + measure-* controls), all
12 measurements given: the in-distribution case.

    .venv/bin/python bench/bench_avatar.py [--n 500] [--n-rest 100] [--anny 30] [--seed 0] [--workers 1]

(`--n 6068 --workers 2`: everyone in the survey, the reach table on both cores of a 2-core machine.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core.body.anny_model import body_arrays, load_model  # noqa: E402
from pipeline.core.body.data.ansur import ANSUR_NAMES, ansur_subjects, fit_targets  # noqa: E402
from pipeline.core.body.measure import MEASUREMENTS, measure_body  # noqa: E402
from pipeline.core.body.population import predict  # noqa: E402
from pipeline.core.body.shape_fit import CONTROLS, TOLERANCE_CM, fit_shape  # noqa: E402

GIVEN_FEW = ("stature", "chest_girth", "waist_girth", "hip_girth")


def timed_fit(targets: dict, sex: str, **kw):
    t0, c0 = time.perf_counter(), time.process_time()
    fit = fit_shape(targets, sex=sex, **kw)
    body_arrays(**fit.params())
    return fit, time.perf_counter() - t0, time.process_time() - c0


def error_table(names, err: np.ndarray, base: np.ndarray | None = None) -> None:
    head = f"{'measurement':20s} {'mean':>6s} {'p95':>6s} {'max':>6s} {'<=0.5':>6s}"
    print(head + (f" | phenotypes only: {'mean':>6s} {'p95':>6s}" if base is not None else ""))
    for j, n in enumerate(names):
        row = (
            f"{n:20s} {err[:, j].mean():6.2f} {np.percentile(err[:, j], 95):6.2f} {err[:, j].max():6.2f} "
            f"{(err[:, j] <= TOLERANCE_CM).mean() * 100:5.1f}%"
        )
        if base is not None:
            row += f" | {'':16s} {base[:, j].mean():6.2f} {np.percentile(base[:, j], 95):6.2f}"
        print(row)


def time_line(times: list[float], cpu: list[float]) -> str:
    t, c = np.array(times), np.array(cpu)
    return (
        f"time per avatar (fit + body): wall mean {t.mean():.2f} s, p95 {np.percentile(t, 95):.2f} s, max "
        f"{t.max():.2f} s; CPU (this process, load-independent) mean {c.mean():.2f} s, p95 "
        f"{np.percentile(c, 95):.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def reach_one(p: dict) -> dict:
    """One person's reach: the fit of their nine measurements and sex (errors, time, corrective) and the
    phenotype-only baseline's errors."""
    targets = fit_targets(p, ANSUR_NAMES)
    fit, wall, cpu = timed_fit(targets, p["sex"])
    base = fit_shape(targets, sex=p["sex"], use_local=False)
    # in ANSUR_NAMES' order, the table's columns (a woman's chest is her bust, last among her targets)
    names = ["bust_girth" if n == "chest_girth" and "bust_girth" in targets else n for n in ANSUR_NAMES]
    errors, base_errors = fit.errors_cm(), base.errors_cm()
    return {
        "id": p["id"],
        "errors": [abs(errors[n]) for n in names],
        "base": [abs(base_errors[n]) for n in names],
        "wall": wall,
        "cpu": cpu,
        "corrective": fit.corrective,
    }


def _warm() -> None:
    """A worker's start: the model and the fit's caches built before the first timed fit."""
    load_model()
    fit_shape({"stature": 170.0}, sex="female")


def _reached(people: list[dict], workers: int):
    """`reach_one` of each person, in order: here, or in `workers` processes (each fit runs on one thread, so
    as many workers as cores use the machine)."""
    if workers <= 1:
        yield from map(reach_one, people)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers, initializer=_warm) as pool:
        yield from pool.imap(reach_one, people, chunksize=4)


def reach(people: list[dict], workers: int = 1) -> None:
    """Table 1 over `people` (`_reached`: with several workers, the wall time per avatar is each worker's, with
    the others running beside it)."""
    rows = []
    for i, r in enumerate(_reached(people, workers)):
        rows.append(r)
        print(
            f"  {i + 1:3d}/{len(people)} {r['id']:13s} worst {max(r['errors']):.2f} cm  {r['wall']:.2f} s "
            f"(cpu {r['cpu']:.2f}){'  corrective ' + str(r['corrective']) if r['corrective'] else ''}",
            flush=True,
        )
    err, base = np.array([r["errors"] for r in rows]), np.array([r["base"] for r in rows])
    names = [("bust/chest_girth" if n == "chest_girth" else n) for n in ANSUR_NAMES]
    print(f"\n1. reach: {len(people)} ANSUR II subjects, nine measurements given + sex")
    error_table(names, err, base)
    ok = (err <= TOLERANCE_CM).all(axis=1)
    print(
        f"all measurements: mean {err.mean():.3f} cm, p95 {np.percentile(err, 95):.3f} cm, max {err.max():.2f} cm;"
        f" {(err <= TOLERANCE_CM).mean() * 100:.2f}% of measurements and {ok.mean() * 100:.1f}% of people "
        f"({ok.sum()}/{len(ok)}) within {TOLERANCE_CM} cm on every measurement; corrective field used on "
        f"{sum(bool(r['corrective']) for r in rows)}/{len(people)}; phenotypes only: mean {base.mean():.2f} cm, "
        f"{(base <= TOLERANCE_CM).all(axis=1).mean() * 100:.1f}% of people within"
    )
    if not ok.all():
        print(
            "outside on some measurement: "
            + ", ".join(r["id"] for r, good in zip(rows, ok, strict=True) if not good)
        )
    print(
        time_line([r["wall"] for r in rows], [r["cpu"] for r in rows])
        + (f" ({workers} workers)" if workers > 1 else "")
    )


def rest_of_body(people: list[dict]) -> None:
    others = [n for n in ANSUR_NAMES if n not in GIVEN_FEW]
    pop_err, prior_err, cond_err, cond_std, times, cpu = [], [], [], [], [], []
    for i, p in enumerate(people):
        targets = fit_targets(p, GIVEN_FEW)
        fit, wall, c = timed_fit(targets, p["sex"])
        times.append(wall)
        cpu.append(c)
        prior = fit_shape(targets, sex=p["sex"], predict_rest=False)
        pred = predict(targets, p["sex"])
        truth = p["measurements"]
        pop_err.append([fit.reached_cm[n] - truth[n] for n in others])
        prior_err.append([prior.reached_cm[n] - truth[n] for n in others])
        cond_err.append([pred[n][0] - truth[n] for n in others])
        cond_std.append([pred[n][1] for n in others])
        print(f"  {i + 1:3d}/{len(people)} {p['id']:13s} {wall:.2f} s (cpu {c:.2f})", flush=True)
    pe, ae, ce, sd = (np.array(a) for a in (pop_err, prior_err, cond_err, cond_std))
    print(
        f"\n2. the rest of the body: {len(people)} ANSUR II subjects, only {', '.join(GIVEN_FEW)} + sex "
        "given; the other five compared with the person's real values (cm)"
    )
    print(
        f"{'measurement':20s} {'cond. std':>9s} | {'fitted, population':>18s} {'':>6s} | "
        f"{'fitted, anny prior':>18s} {'':>6s} | {'cond. mean alone':>16s}"
    )
    print(
        f"{'':20s} {'':>9s} | {'mean|e|':>9s} {'rms':>8s} {'':>6s} | {'mean|e|':>9s} {'rms':>8s} {'':>6s} | {'rms':>16s}"
    )
    for j, n in enumerate(others):
        print(
            f"{n:20s} {sd[:, j].mean():9.2f} | {np.abs(pe[:, j]).mean():9.2f} {np.sqrt((pe[:, j] ** 2).mean()):8.2f}"
            f" {'':>6s} | {np.abs(ae[:, j]).mean():9.2f} {np.sqrt((ae[:, j] ** 2).mean()):8.2f} {'':>6s} | "
            f"{np.sqrt((ce[:, j] ** 2).mean()):16.2f}"
        )
    ratio = np.sqrt((pe**2).mean(0)) / sd.mean(0)
    print(
        f"rms error / conditional std: {', '.join(f'{r:.2f}' for r in ratio)} (goal <= 1); rms, population "
        f"{np.sqrt((pe**2).mean()):.2f} cm vs anny prior {np.sqrt((ae**2).mean()):.2f} cm"
    )
    print(
        f"fitted body vs the conditional mean it was given: mean |diff| {np.abs(pe - ce).mean():.3f} cm, "
        f"max {np.abs(pe - ce).max():.2f} cm"
    )
    whole = conditional_mean_calibration(others)
    print(
        "the conditional mean alone over all ANSUR II subjects, rms error / conditional std: "
        f"{', '.join(f'{r:.3f}' for r in whole)} (a draw's ratio scatters round these: about +-7 % at 100)"
    )
    print(time_line(times, cpu))


def conditional_mean_calibration(others: list[str]) -> np.ndarray:
    """rms error of the conditional mean over the whole survey / its mean conditional std, per measurement:
    how a draw's ratio should be read (the population model is fitted on the same 6,068 people)."""
    everyone = ansur_subjects()
    err, std = [], []
    for p in everyone:
        pred = predict({n: p["measurements"][n] for n in GIVEN_FEW}, p["sex"])
        err.append([pred[n][0] - p["measurements"][n] for n in others])
        std.append([pred[n][1] for n in others])
    return np.sqrt((np.array(err) ** 2).mean(0)) / np.array(std).mean(0)


def anny_samples(n: int, seed: int) -> None:
    names = [m for m in MEASUREMENTS if m != "bust_girth"]
    rng = np.random.default_rng(seed)
    controls = sorted({c for m in names for c in CONTROLS[m] if c.startswith("measure-")})
    errors, times, cpu = [], [], []
    for _ in range(n):
        sex = "female" if rng.random() < 0.5 else "male"
        pheno = {
            "gender": 1.0 if sex == "female" else 0.0,
            "age": rng.uniform(0.68, 0.82),
            "muscle": rng.uniform(0.1, 0.9),
            "weight": rng.uniform(0.1, 0.9),
            "height": rng.uniform(0.15, 0.85),
            "proportions": rng.uniform(0.2, 0.8),
        }
        local = {c: rng.uniform(-0.4, 0.4) for c in controls}
        truth = measure_body(body_arrays(pheno, local).rest_vertices)
        targets = {m: truth[m] for m in names}
        fit, wall, c = timed_fit(targets, sex)
        times.append(wall)
        cpu.append(c)
        errors.append([abs(fit.reached_cm[m] - targets[m]) for m in names])
    err = np.array(errors)
    print(f"\n3. {n} bodies sampled from anny's own shape space (seed {seed}), all 12 measurements given")
    error_table(names, err)
    print(
        f"all measurements: mean {err.mean():.3f} cm, p95 {np.percentile(err, 95):.3f} cm, "
        f"{(err <= TOLERANCE_CM).all(axis=1).mean() * 100:.1f}% of bodies within {TOLERANCE_CM} cm on every one"
    )
    print(time_line(times, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n",
        type=int,
        default=500,
        help="ANSUR II subjects for the reach table (6068: everyone in the survey)",
    )
    parser.add_argument(
        "--n-rest", type=int, default=100, help="ANSUR II subjects for the rest-of-body table"
    )
    parser.add_argument("--anny", type=int, default=30, help="anny shape-space samples (third table)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes for the reach table (one per core)")
    args = parser.parse_args()
    _warm()  # caches and lazy imports before the first timed fit
    people = ansur_subjects(args.n, args.seed)
    print(
        f"bench_avatar: {args.n} ANSUR II subjects (seed {args.seed}), {sum(p['sex'] == 'female' for p in people)} women"
    )
    if args.n:
        reach(people, args.workers)
    if args.n_rest:
        rest_of_body(ansur_subjects(args.n_rest, args.seed))
    if args.anny:
        anny_samples(args.anny, args.seed)


if __name__ == "__main__":
    main()

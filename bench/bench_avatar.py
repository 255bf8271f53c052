"""Avatar from measurements: how well and how fast the shape fit reproduces measurements.

50 seeded measurement sets are sampled from anny's own shape space (phenotypes over the adult range plus the
`measure-*` local controls, so every set is reachable); each is fitted from all 12 measurements and the sex.
Prints per-measurement mean and p95 absolute error (cm), the share within 0.5 cm, and the time per avatar
(fit + body arrays), wall clock and this process's CPU time (the wall time depends on what else runs). Baseline in the same process: the error of the phenotype-only stage (no local controls).

    .venv/bin/python bench/bench_avatar.py [--n 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core.body.anny_model import body_arrays, load_model  # noqa: E402
from pipeline.core.body.measure import MEASUREMENTS, measure_body  # noqa: E402
from pipeline.core.body.shape_fit import CONTROLS, TOLERANCE_CM, fit_shape  # noqa: E402

NAMES = [n for n in MEASUREMENTS if n != "bust_girth"]


def sample(rng: np.random.Generator) -> tuple[dict, dict, str]:
    """Random adult anny parameters: phenotypes, local controls, sex."""
    sex = "female" if rng.random() < 0.5 else "male"
    pheno = {
        "gender": 1.0 if sex == "female" else 0.0,
        "age": rng.uniform(0.68, 0.82),
        "muscle": rng.uniform(0.1, 0.9),
        "weight": rng.uniform(0.1, 0.9),
        "height": rng.uniform(0.15, 0.85),
        "proportions": rng.uniform(0.2, 0.8),
    }
    controls = sorted({c for n in NAMES for c in CONTROLS[n]})
    local = {c: rng.uniform(-0.4, 0.4) for c in controls}
    return pheno, local, sex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_model()
    rng = np.random.default_rng(args.seed)
    errors, base_errors, times, cpu_times = [], [], [], []
    for i in range(args.n):
        pheno, local, sex = sample(rng)
        truth = measure_body(body_arrays(pheno, local).rest_vertices)
        targets = {n: truth[n] for n in NAMES}
        t0, c0 = time.perf_counter(), time.process_time()
        fit = fit_shape(targets, sex=sex)
        body_arrays(fit.phenotypes, fit.local_changes)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
        errors.append([abs(fit.reached_cm[n] - targets[n]) for n in NAMES])
        base = fit_shape(targets, sex=sex, steps=(60, 0))
        base_errors.append([abs(base.reached_cm[n] - targets[n]) for n in NAMES])
        print(f"  {i + 1:2d}/{args.n} {sex:6s} worst {max(errors[-1]):.2f} cm  {times[-1]:.2f} s", flush=True)
    err, base = np.array(errors), np.array(base_errors)
    print(
        f"\nbench_avatar: {args.n} bodies sampled from anny's shape space (seed {args.seed}), all 12 measures given"
    )
    print(
        f"{'measurement':20s} {'mean':>6s} {'p95':>6s} {'max':>6s} {'<=0.5':>6s} | phenotypes only: {'mean':>6s} {'p95':>6s}"
    )
    for j, n in enumerate(NAMES):
        print(
            f"{n:20s} {err[:, j].mean():6.2f} {np.percentile(err[:, j], 95):6.2f} {err[:, j].max():6.2f} "
            f"{(err[:, j] <= TOLERANCE_CM).mean() * 100:5.0f}% | {'':16s} {base[:, j].mean():6.2f} "
            f"{np.percentile(base[:, j], 95):6.2f}"
        )
    print(
        f"all measurements: mean {err.mean():.3f} cm, p95 {np.percentile(err, 95):.3f} cm, "
        f"{(err <= TOLERANCE_CM).mean() * 100:.1f}% within {TOLERANCE_CM} cm "
        f"(phenotypes only: mean {base.mean():.3f}, ratio {err.mean() / base.mean():.2f})"
    )
    t, c = np.array(times), np.array(cpu_times)
    print(
        f"time per avatar (fit + body), wall: mean {t.mean():.2f} s, p95 {np.percentile(t, 95):.2f} s, "
        f"max {t.max():.2f} s; CPU (this process, load-independent): mean {c.mean():.2f} s, "
        f"p95 {np.percentile(c, 95):.2f} s"
    )


if __name__ == "__main__":
    main()

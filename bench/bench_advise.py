"""Size advice against the size table: real ANSUR II people, the sample T-shirt and skirt graded XS-XXL.

50 people are drawn (seeded, half women, half men) from ../shared/data/bodies/ansur2_us_army_anthropometry;
each avatar is built from their own tape measurements (stature, neck, chest, waist, hip, thigh, shoulder
width, arm length, inside leg); the T-shirt (graded on the size table of their sex) and, for women, the skirt
are fitted in every size XS-XXL and one size is advised.

Truth: each size's range on a girth runs between the midpoints to its neighbours' table values; the true size
holds the person's chest (T-shirt), or is the larger of the sizes holding their waist and hip (skirt: one buys
for the larger). Prints every advice with the ease of each size on the person and each size's design ease,
then top-1 and within-one-size agreement (all, and per garment), against the baseline of the garment's measured
size chart read against the person's tape girths, without an avatar or a fit (what a size chart on a shop's
page does). Words: precision and recall of tight/regular/loose per deciding region against an ease taken
without the person's avatar: the garment's measure on its own size's body (its design ease plus that size's
table girth) less the person's real ANSUR girth, put through the same bands. Time per person: the body fit plus the fits of 4 sizes (grading is done once
per garment and size, before the clock starts).

    .venv/bin/python bench/bench_advise.py [--n 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpy  # noqa: E402,F401  (before pymeshlab)

from pipeline.core.advice.bands import bands_for, word_for  # noqa: E402
from pipeline.core.advice.grading import grade  # noqa: E402
from pipeline.core.advice.recommend import SizeOption, advise  # noqa: E402
from pipeline.core.body.avatar_body import fit_body  # noqa: E402
from pipeline.core.body.data.ansur import ANSUR_NAMES, ansur_table  # noqa: E402
from pipeline.core.body.measurements import validate_measurements  # noqa: E402
from pipeline.core.body.sizes import size_table  # noqa: E402
from pipeline.core.vocab import SIZES  # noqa: E402

GARMENTS = {"tshirt": ("top", ("chest",)), "skirt": ("bottom", ("waist", "hip"))}
TABLE_KEY = {"chest": "chest_girth", "waist": "waist_girth", "hip": "hip_girth"}


def people(n: int, seed: int) -> list[tuple[str, dict[str, float]]]:
    rng = np.random.default_rng(seed)
    out = []
    for sex, count in (("female", n - n // 2), ("male", n // 2)):
        table = ansur_table(sex)
        for i in rng.permutation(len(table["subjectid"]))[:count]:
            out.append((sex, {k: round(float(table[k][int(i)]), 1) for k in ANSUR_NAMES}))
    return out


def true_size(sex: str, m: dict[str, float], regions) -> str:
    """The largest over `regions` of the size whose table range (midpoints to the neighbours) holds the girth."""
    table = size_table()[sex]
    picks = []
    for r in regions:
        vals = np.array([table[s][TABLE_KEY[r]] for s in SIZES])
        edges = (vals[1:] + vals[:-1]) / 2
        picks.append(int(np.searchsorted(edges, m[TABLE_KEY[r]])))
    return SIZES[max(picks)]


def chart_size(sex: str, m: dict[str, float], regions, chart: dict[str, dict[str, float]]) -> str:
    """Baseline without the avatar: the garment's measured chart against the person's tape girths, the size
    whose chart ease is nearest the garment's mean chart ease over the size table (a shop's size chart)."""
    table = size_table()[sex]
    picks = []
    for r in regions:
        design = np.mean([chart[s][r] - table[s][TABLE_KEY[r]] for s in SIZES])
        picks.append(int(np.argmin([abs(chart[s][r] - m[TABLE_KEY[r]] - design) for s in SIZES])))
    return SIZES[max(picks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    crowd = people(args.n, args.seed)
    t0 = time.perf_counter()
    graded = {}
    for kind in GARMENTS:
        for sex in ("female", "male") if kind == "tshirt" else ("female",):
            if any(s == sex for s, _ in crowd):
                graded[kind, sex] = [
                    SizeOption(g.size, g.garment, g.design_ease_cm) for g in grade(kind, list(SIZES), sex)
                ]
    print(f"graded {len(graded)} garment(s) x {len(SIZES)} sizes in {time.perf_counter() - t0:.0f} s (once)")
    hits, near, base_hits, times4, words = [], [], [], [], []
    per_kind: dict[str, list[tuple[bool, bool]]] = {}
    for i, (sex, m) in enumerate(crowd):
        req = {
            "unit": "cm",
            "sex": sex,
            **{("bust_girth" if k == "chest_girth" and sex == "female" else k): v for k, v in m.items()},
        }
        try:
            validate_measurements(req, f"person {i}")
        except Exception as exc:  # outside the avatar's accepted ranges
            print(f"person {i:2d} {sex}: skipped ({exc})")
            continue
        tb = time.perf_counter()
        body, _ = fit_body(req)
        t_body = time.perf_counter() - tb
        table = {s: {k: float(v) for k, v in row.items()} for s, row in size_table()[sex].items()}
        for kind, (gtype, regions) in GARMENTS.items():
            if (kind, sex) not in graded:
                continue
            a = advise(body, graded[kind, sex], gtype, "cotton-jersey", table)
            truth, base = true_size(sex, m, regions), chart_size(sex, m, regions, a.chart)
            per_size = (a.seconds) / len(SIZES)
            times4.append(t_body + 4 * per_size)
            hits.append(a.recommended == truth)
            near.append(abs(SIZES.index(a.recommended) - SIZES.index(truth)) <= 1)
            base_hits.append(base == truth)
            bands = bands_for(gtype, "cotton-jersey")
            for f in a.fits:
                for r in regions:
                    if r in f.ease_cm and r in a.design_ease_cm[f.size]:
                        # the garment's measure on its own size's body, less this person's real tape girth
                        garment_cm = a.design_ease_cm[f.size][r] + table[f.size][TABLE_KEY[r]]
                        ease_truth = garment_cm - m[TABLE_KEY[r]]
                        words.append((r, word_for(r, ease_truth, bands), f.words[r]))
            eases = " ".join(
                f"{f.size}:" + "/".join(f"{f.ease_cm.get(r, float('nan')):+.1f}" for r in regions)
                for f in a.fits
            )
            design = " ".join(
                f"{s}:" + "/".join(f"{d.get(r, float('nan')):+.1f}" for r in regions)
                for s, d in a.design_ease_cm.items()
            )
            print(
                f"person {i:2d} {sex:6s} {kind:6s} chest {m['chest_girth']:5.1f} waist {m['waist_girth']:5.1f} "
                f"hip {m['hip_girth']:5.1f}: advised {a.recommended:3s} truth {truth:3s} chart {base:3s} "
                f"| body {t_body:.1f} s, {len(SIZES)} fits {a.seconds:.1f} s | {a.sentence}"
            )
            print(f"    ease ({'/'.join(regions)}) {eases}\n    design ease {design}")
            per_kind.setdefault(kind, []).append((a.recommended == truth, near[-1]))
    n = len(hits)
    print(f"\n{n} advice(s) over {len(crowd)} people")
    print(
        f"top-1 agreement      {100 * np.mean(hits):5.1f} %   (baseline, garment chart vs tape girths, no avatar: {100 * np.mean(base_hits):.1f} %)"
    )
    print(f"within one size      {100 * np.mean(near):5.1f} %")
    for kind, res in per_kind.items():
        print(
            f"  {kind:6s} top-1 {sum(h for h, _ in res)}/{len(res)}, within one {sum(w for _, w in res)}/{len(res)}"
        )
    print(
        f"time per person, 4 sizes (body fit + 4 fits): median {np.median(times4):.1f} s, max {np.max(times4):.1f} s"
    )
    for w in ("tight", "regular", "loose"):
        tp = sum(t == w and p == w for _, t, p in words)
        npred = sum(p == w for _, _, p in words)
        ntrue = sum(t == w for _, t, _ in words)
        prec = f"{100 * tp / npred:5.1f} %" if npred else "  n/a "
        rec = f"{100 * tp / ntrue:5.1f} %" if ntrue else "  n/a "
        print(f"word {w:8s} precision {prec} recall {rec}  (predicted {npred}, true {ntrue})")


if __name__ == "__main__":
    main()

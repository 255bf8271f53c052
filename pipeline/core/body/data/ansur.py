"""ANSUR II (2012 US Army anthropometric survey, public domain) read as ISO 8559-1 measurements in cm.

Only for the derive scripts, benches and tests: the survey lives outside the repository, in
../shared/data/bodies/ansur2_us_army_anthropometry/ (ansur2_female.csv, ansur2_male.csv, mm). The column
mapping is the one the size tables use (`derive_sizes.COLUMNS`): nine of the project's twelve measurements
have an ANSUR II counterpart. Not mapped: back_waist_length (ANSUR's ends at the navel, not the natural
waist), upper_arm_girth (ANSUR's is taken flexed) and underbust_girth (not measured).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np

from pipeline.core.body.data.derive_sizes import ANSUR, COLUMNS
from pipeline.core.vocab import SEXES

ANSUR_NAMES: tuple[str, ...] = tuple(COLUMNS)  # stature, neck, chest, waist, hip, thigh, shoulder, arm, leg
# bench/bench_measure.py's draw: its seed and the most bodies it is run with. Everyone it can draw is left out of
# what the capture is trained or calibrated on (`measure_bench_ids`), so the bench stays held out.
MEASURE_BENCH_SEED = 2026
MEASURE_BENCH_MAX_BODIES = 40


@functools.lru_cache(maxsize=2)
def ansur_rows(sex: str, folder: str | None = None) -> tuple[dict[str, str], ...]:
    """The survey's rows for one sex as read (ANSUR II column -> text; lengths in mm), read once."""
    path = Path(folder or ANSUR) / f"ansur2_{sex}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


@functools.lru_cache(maxsize=2)
def ansur_table(sex: str, folder: str | None = None) -> dict[str, np.ndarray]:
    """Every subject of one sex: {"subjectid": (N,) int, "age": (N,) years, ISO name: (N,) cm}."""
    rows = ansur_rows(sex, folder)
    out: dict[str, np.ndarray] = {
        "subjectid": np.array([int(r["subjectid"]) for r in rows]),
        "age": np.array([float(r["Age"]) for r in rows]),
    }
    for name, cols in COLUMNS.items():
        out[name] = np.array([sum(float(r[c]) for c in cols) for r in rows]) / 10.0
    return out


def fit_targets(person: dict, names=None) -> dict[str, float]:
    """A subject's measurements (all, or those in `names`) as the avatar fit's targets: a woman's chest is given
    as her bust (`bust_girth`), as a measurements file names it."""
    out = {k: v for k, v in person["measurements"].items() if names is None or k in names}
    if person["sex"] == "female" and "chest_girth" in out:
        out["bust_girth"] = out.pop("chest_girth")
    return out


def ansur_subjects(n: int | None = None, seed: int = 0, folder: str | None = None) -> list[dict]:
    """A fixed random draw of `n` subjects over both sexes (all 6,068 when n is None), each as
    {"id": "female-10037", "sex": ..., "age": years, "measurements": {ISO name: cm}}."""
    people = []
    for sex in SEXES:
        t = ansur_table(sex, folder)
        for i in range(len(t["subjectid"])):
            people.append(
                {
                    "id": f"{sex}-{t['subjectid'][i]}",
                    "sex": sex,
                    "age": float(t["age"][i]),
                    "measurements": {k: round(float(t[k][i]), 1) for k in ANSUR_NAMES},
                }
            )
    if n is None or n >= len(people):
        return people
    pick = np.random.default_rng(seed).choice(len(people), size=n, replace=False)
    return [people[i] for i in sorted(pick)]


def ansur_extremes() -> list[dict]:
    """The heaviest (largest waist) and the tallest ANSUR II woman and man."""
    everyone = ansur_subjects()
    chosen: list[dict] = []
    for sex in SEXES:
        group = [p for p in everyone if p["sex"] == sex]
        for key in ("waist_girth", "stature"):
            chosen.append(max(group, key=lambda p: p["measurements"][key]))
    return chosen


def measure_bench_ids() -> set[str]:
    """Every ANSUR II person the measure bench can draw (its seed, up to MEASURE_BENCH_MAX_BODIES bodies, and
    the four extremes)."""
    bench = {p["id"] for p in ansur_extremes()}
    for k in range(1, MEASURE_BENCH_MAX_BODIES + 5):
        bench |= {p["id"] for p in ansur_subjects(k, MEASURE_BENCH_SEED)}
    return bench

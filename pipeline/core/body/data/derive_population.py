"""Derive the population model of body measurements from ANSUR II: per sex, the mean and covariance of the
nine measurements ANSUR II shares with the project (see `ansur.py`), and the accepted ranges of every
measurements file. Run with the project venv:

    .venv/bin/python -m pipeline.core.body.data.derive_population

Reads ../shared/data/bodies/ansur2_us_army_anthropometry/ansur2_{female,male}.csv (mm); writes
pipeline/core/body/data/population.json (cm). The Gaussian per sex is what `pipeline.core.body.population`
conditions on the measurements a person gives, to predict the others. Accepted ranges: from the 0.1st to the
99.9th percentile over both sexes, widened by a margin of 15 % of that span and never narrower than the survey's own
minimum and maximum (rounded outwards to whole cm), so no subject of the survey is refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from pipeline.core.body.data.ansur import ANSUR_NAMES, SEXES, ansur_table

OUT = Path(__file__).resolve().parent / "population.json"
MARGIN = 0.15


def _ranges(tables: dict[str, dict[str, np.ndarray]]) -> dict[str, list[float]]:
    out = {}
    for name in ANSUR_NAMES:
        v = np.concatenate([tables[s][name] for s in SEXES])
        lo, hi = np.percentile(v, [0.1, 99.9])
        span = hi - lo
        out[name] = [
            float(math.floor(min(lo - MARGIN * span, v.min()))),
            float(math.ceil(max(hi + MARGIN * span, v.max()))),
        ]
    return out


def main() -> None:
    tables = {sex: ansur_table(sex) for sex in SEXES}
    data = {
        "unit": "cm",
        "source": "ANSUR II (2012 Anthropometric Survey of US Army Personnel; public domain), via "
        "github.com/patchoulish/anthropometry-playground commit 7b07ccf2",
        "script": "pipeline/core/body/data/derive_population.py",
        "names": list(ANSUR_NAMES),
        "method": "per sex: sample mean and covariance (ddof=1) of the nine measurements; ranges: 0.1st-99.9th "
        f"percentile over both sexes widened by {MARGIN:.0%} of the span, and at least the survey's min-max",
        "ranges_cm": _ranges(tables),
    }
    for sex, t in tables.items():
        m = np.stack([t[n] for n in ANSUR_NAMES], axis=1)
        data[sex] = {
            "subjects": int(len(m)),
            "mean": [round(float(x), 3) for x in m.mean(0)],
            "cov": [[round(float(x), 4) for x in row] for row in np.cov(m, rowvar=False)],
            "age_median": float(np.median(t["age"])),
        }
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    for name, r in data["ranges_cm"].items():
        print(f"{name:20s} {r[0]:6.0f} {r[1]:6.0f}")


if __name__ == "__main__":
    main()

"""Derive the population model of the trunk's depth given its breadth from ANSUR II: per sex, the mean and
covariance of stature, the chest, waist and hip breadths and the chest, waist and buttock depths. Run with
the project venv:

    .venv/bin/python -m pipeline.core.body.data.derive_trunk_depths

Reads ../shared/data/bodies/ansur2_us_army_anthropometry/ansur2_{female,male}.csv (mm); writes
pipeline/core/body/data/trunk_depths.json (cm). `pipeline.core.body.population.trunk_depth_regression`
conditions the depths on the breadths and stature; the capture fit uses it for the side of the body a single
view does not see (`pipeline.core.capture.depth_prior`). ANSUR II's definitions: chest breadth and depth at
the bust point (nipple) level, arms excluded; waist breadth and depth at the omphalion; hip breadth the
greatest across the hips, buttock depth at the greatest buttock protrusion (all standing, horizontal).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.core.body.data.ansur import ansur_rows
from pipeline.core.vocab import SEXES

OUT = Path(__file__).resolve().parent / "trunk_depths.json"
# project name -> ANSUR II column (mm)
COLUMNS = {
    "stature": "stature",
    "chest_breadth": "chestbreadth",
    "waist_breadth": "waistbreadth",
    "hip_breadth": "hipbreadth",
    "chest_depth": "chestdepth",
    "waist_depth": "waistdepth",
    "hip_depth": "buttockdepth",
}
GIVEN = ("stature", "chest_breadth", "waist_breadth", "hip_breadth")
PREDICTED = ("chest_depth", "waist_depth", "hip_depth")


def trunk_table(sex: str, folder: str | None = None) -> np.ndarray:
    """(N, 7) cm, columns in COLUMNS order, every subject of one sex."""
    return np.array([[float(r[c]) for c in COLUMNS.values()] for r in ansur_rows(sex, folder)]) / 10.0


def main() -> None:
    data: dict = {
        "unit": "cm",
        "source": "ANSUR II (2012 Anthropometric Survey of US Army Personnel; public domain)",
        "script": "pipeline/core/body/data/derive_trunk_depths.py",
        "names": list(COLUMNS),
        "ansur_columns": COLUMNS,
        "given": list(GIVEN),
        "predicted": list(PREDICTED),
        "method": "per sex: sample mean and covariance (ddof=1) of the seven measurements",
    }
    for sex in SEXES:
        m = trunk_table(sex)
        data[sex] = {
            "subjects": int(len(m)),
            "mean": [round(float(x), 3) for x in m.mean(0)],
            "cov": [[round(float(x), 4) for x in row] for row in np.cov(m, rowvar=False)],
        }
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

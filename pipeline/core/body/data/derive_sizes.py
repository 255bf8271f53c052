"""Derive women's and men's XS-XXL size tables from ANSUR II (public-domain US Army anthropometry, 2012).

No openly licensed published size standard exists to copy (see shared/data/sizes/README.md), so the table is
derived, and says so in its file: subjects are split into six bands of chest (bust) girth at the cumulative
percentiles below, and each size takes the median of every measurement over its band, so the values of a
size belong together (a real distribution, not independent percentiles). Run with the project venv:

    .venv/bin/python -m pipeline.core.body.data.derive_sizes

Reads ../shared/data/bodies/ansur2_us_army_anthropometry/ansur2_{female,male}.csv (mm); writes
pipeline/core/body/data/size_tables.json (cm, one decimal).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pipeline.core.deps import REPO_ROOT
from pipeline.core.vocab import SEXES, SIZES

ANSUR = REPO_ROOT.parent / "shared" / "data" / "bodies" / "ansur2_us_army_anthropometry"
OUT = Path(__file__).resolve().parent / "size_tables.json"
BAND_EDGES_PCT = (0, 10, 30, 55, 78, 93, 100)
# ISO 8559-1 name -> ANSUR II column(s) summed (mm).
COLUMNS = {
    "stature": ("stature",),
    "neck_girth": ("neckcircumference",),
    "chest_girth": ("chestcircumference",),
    "waist_girth": ("waistcircumference",),
    "hip_girth": ("buttockcircumference",),
    "thigh_girth": ("thighcircumference",),
    "shoulder_width": ("biacromialbreadth",),
    "arm_length": ("acromionradialelength", "radialestylionlength"),
    "inside_leg_length": ("crotchheight",),
}
# Left out: back_waist_length (ANSUR's waistbacklength ends at the navel, ISO's at the natural waist, several cm
# higher), upper_arm_girth (ANSUR's is flexed) and underbust_girth (not in ANSUR).


def _table(path: Path) -> dict[str, dict[str, float]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    values = {
        name: np.array([sum(float(r[c]) for c in cols) for r in rows]) / 10.0
        for name, cols in COLUMNS.items()
    }
    chest = values["chest_girth"]
    edges = np.percentile(chest, BAND_EDGES_PCT)
    table = {}
    for i, size in enumerate(SIZES):
        band = (chest >= edges[i]) & (
            (chest < edges[i + 1]) if i < len(SIZES) - 1 else (chest <= edges[i + 1])
        )
        table[size] = {name: round(float(np.median(v[band])), 1) for name, v in values.items()}
        table[size]["subjects"] = int(band.sum())
    return table


def main() -> None:
    data = {
        "unit": "cm",
        "source": "Derived from ANSUR II (2012 Anthropometric Survey of US Army Personnel; public domain, "
        "17 U.S.C. 105), via github.com/patchoulish/anthropometry-playground commit 7b07ccf2. Not a published "
        "sizing standard: none is openly licensed.",
        "method": "Subjects of each sex split into six chest-girth bands at cumulative percentiles "
        f"{list(BAND_EDGES_PCT)}; each size is the median of each measurement within its band. "
        "ANSUR columns: "
        + "; ".join(f"{k} = {' + '.join(v)}" for k, v in COLUMNS.items())
        + ". ANSUR's waist "
        "is taken at the navel (omphalion), and its chest circumference at nipple level (bust for women). Not "
        "included: back_waist_length (ANSUR's ends at the navel, not the natural waist), upper_arm_girth (ANSUR's "
        "is flexed), underbust_girth (not measured in ANSUR II).",
        "script": "pipeline/core/body/data/derive_sizes.py",
        "female": _table(ANSUR / "ansur2_female.csv"),
        "male": _table(ANSUR / "ansur2_male.csv"),
    }
    OUT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    for sex in SEXES:
        for size in SIZES:
            print(sex, size, data[sex][size])


if __name__ == "__main__":
    main()

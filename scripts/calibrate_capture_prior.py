"""Learn where the capture fit's shape prior is centred: the mean local controls of bodies built from real people,
and write models/capture_shape_prior.json (read by `pipeline.core.capture.body_fit.control_prior_means`).

Why: the capture fit's prior pulls each local control towards a centre. Centred on 0 (anny's own average), it
pulled every fit away from the real shapes the avatar fit builds for ANSUR II people, whose controls sit far from 0
on average (waist-to-hip length -0.43, neck height -0.26, waist girth +0.40, thigh girth +0.35): started at the
true shape on noise-free depth, 6 bench bodies' turns drifted back towards 0 (waist-to-hip +0.2 to +0.5), and
the noisy turns' stature came out +0.56 cm long on average (bench/capture_error_sources.py).

Bodies: ANSUR II people (avatar fit of their nine measurements, as bench/bench_measure.py builds them) drawn with
`--seed`, leaving out every person the measure bench can draw (`calibrate_landmark_offsets.held_out_people`),
women and men alternately. Per control: the mean over all of them
(pooled: the capture fit does not know the sex) and, for reference, per sex and the standard deviation.

Run: .venv/bin/python scripts/calibrate_capture_prior.py --bodies 40 --seed 11 (about 2 min on 2 cores)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=40)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    from calibrate_landmark_offsets import held_out_people, person_params

    from pipeline.core.capture.body_fit import FIT_LOCALS, SHAPE_PRIOR_PATH
    from pipeline.core.files import write_json

    people = held_out_people(args.bodies, args.seed)
    values: dict[str, list[np.ndarray]] = {"female": [], "male": []}
    for n, person in enumerate(people):
        lc = person_params(person)["local_changes"]
        values[person["sex"]].append(np.array([float(lc.get(k, 0.0)) for k in FIT_LOCALS]))
        print(f"{n + 1}/{len(people)} {person['id']}", flush=True)
    pooled = np.array(values["female"] + values["male"])
    table = {
        k: {
            "mean": round(float(pooled[:, i].mean()), 4),
            "std": round(float(pooled[:, i].std()), 4),
            **{
                f"mean_{sex}": round(float(np.mean([v[i] for v in vs])), 4)
                for sex, vs in values.items()
                if vs
            },
        }
        for i, k in enumerate(FIT_LOCALS)
    }
    for k, row in table.items():
        print(f"  {k:34s} " + " ".join(f"{name} {v:+.3f}" for name, v in row.items()))
    write_json(
        SHAPE_PRIOR_PATH,
        {
            "controls": table,
            "note": f"scripts/calibrate_capture_prior.py --bodies {args.bodies} --seed {args.seed}: mean local "
            f"controls of the avatar fits of {len(pooled)} ANSUR II people the measure bench never draws",
        },
    )
    print(f"wrote {SHAPE_PRIOR_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure where MediaPipe puts its body landmarks relative to the anny bone heads the capture fit matches them
to, and write models/landmark_offsets.json (read by `pipeline.core.capture.body_fit.landmark_offsets_m`).

Bodies: ANSUR II people (avatar fit of their nine measurements, as bench/bench_measure.py builds them) drawn
with `--seed`, leaving out every person the measure bench can draw (its seed, up to 40 bodies, and its four
extremes), so the bench stays held out. Each is rendered as a synthetic D435 front view (Blender colour, 1.9-2.8 m)
and run through the per-frame stage; per landmark, the offset from the true bone head's projection to MediaPipe's
landmark is taken in metres at the bone's depth, outward from the body's midline and down, then left and right
are averaged (what remains of their difference, about 0.6 cm on 12 bodies, is a sideways shift of the whole
image, not a shape). Limit: front views of the A pose the capture asks for; the fit applies the same offsets to
every view of a turn.

Run: .venv/bin/python scripts/calibrate_landmark_offsets.py --bodies 24 --seed 7 (about 5 min on 2 cores)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def bench_people_ids() -> set[str]:
    """Every ANSUR II person the measure bench can draw (`ansur.measure_bench_ids`)."""
    from pipeline.core.body.data.ansur import measure_bench_ids

    return measure_bench_ids()


def held_out_people(n: int, seed: int) -> list[dict]:
    """`n` ANSUR II people drawn with `seed`, none of whom the measure bench (bench_measure.SEED) can draw."""
    from pipeline.core.body.data.ansur import ansur_subjects

    bench = bench_people_ids()
    pool = [p for p in ansur_subjects(8 * n, seed) if p["id"] not in bench]
    by_sex = [[p for p in pool if p["sex"] == sex] for sex in ("female", "male")]
    return [p for pair in zip(*by_sex, strict=False) for p in pair][:n]  # women and men alternately


def random_people(n: int, seed: int) -> list[dict]:
    """`n` ANSUR II people drawn at random over the whole survey with `seed`, women and men alternately, none of
    whom the measure bench can draw or the capture initialiser was trained on (models/capture_initialiser.json's
    `ansur_people`). Why: `held_out_people` keeps, per sex, the first of its pool in the survey's order, so its
    people are the survey's lowest subject ids (the capture calibration's 90 lie at the 4th-10th id percentile),
    not a random sample of it."""
    import json

    from pipeline.core.body.data.ansur import ansur_subjects

    exclude = bench_people_ids()
    record = ROOT / "models" / "capture_initialiser.json"
    if record.is_file():
        exclude |= set(json.loads(record.read_text()).get("ansur_people", []))
    everyone = ansur_subjects()
    by_sex: dict[str, list[dict]] = {"female": [], "male": []}
    for i in np.random.default_rng(seed).permutation(len(everyone)):
        if everyone[i]["id"] not in exclude:
            by_sex[everyone[i]["sex"]].append(everyone[i])
    return [p for pair in zip(by_sex["female"], by_sex["male"], strict=False) for p in pair][:n]


def person_params(person: dict) -> dict:
    """anny parameters of a person's body, as bench_measure builds them: the avatar fit of their nine
    measurements and sex (a woman's chest is given as her bust)."""
    from pipeline.core.body.data.ansur import fit_targets
    from pipeline.core.body.shape_fit import fit_shape

    return fit_shape(fit_targets(person), sex=person["sex"]).params()


def extreme_people(per_sex: int = 2) -> list[dict]:
    """Per sex, the `per_sex` heaviest (largest waist) and tallest ANSUR II people after the ones the measure
    bench can draw, so a calibration set holds bodies near the bench's extremes."""
    from pipeline.core.body.data.ansur import ansur_subjects

    taken = bench_people_ids()
    everyone = ansur_subjects()
    out: list[dict] = []
    for sex in ("female", "male"):
        group = [p for p in everyone if p["sex"] == sex and p["id"] not in taken]
        for key in ("waist_girth", "stature"):
            ranked = sorted(group, key=lambda p: -p["measurements"][key])
            out += [p for p in ranked if p["id"] not in {q["id"] for q in out}][:per_sex]
    return out


def offsets_of(person: dict, rng: np.random.Generator, width: int) -> dict[int, tuple[float, float]] | None:
    """Per landmark, (outward, down) metres from the true bone head to MediaPipe's landmark in a front view."""
    from pipeline.app.synth_capture import SynthSettings, noisy_frames, render_views
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import LANDMARK_BONES, group_views
    from pipeline.core.capture.person import observe
    from pipeline.core.capture.virtual_camera import VirtualCamera, d435_intrinsics

    body = body_arrays(**person_params(person))
    distance_m = float(rng.uniform(1.9, 2.8))
    st = SynthSettings(view="front", distance_m=distance_m, width=width, height=width * 3 // 4, samples=4)
    intr = d435_intrinsics(st.width, st.height)
    frames, _ = observe(noisy_frames(render_views(body, st, rng), 3, intr, rng))
    if not frames:
        return None
    view = group_views(frames)[0]
    cam = VirtualCamera(intr, st.distance_m, st.camera_height_m)
    mid_x = cam.world_to_camera(np.zeros((1, 3)))[0, 0]
    names = list(body.bone_names)
    out = {}
    for i, bone in LANDMARK_BONES.items():
        head = cam.world_to_camera(body.bone_poses[names.index(bone)][:3, 3][None])[0]
        uv = np.array([head[0] / head[2] * intr.fx + intr.ppx, head[1] / head[2] * intr.fy + intr.ppy])
        d_m = (view.landmarks_px[i] - uv) * head[2] / intr.fx
        out[i] = (float(d_m[0] * np.sign(head[0] - mid_x)), float(d_m[1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bodies", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--width", type=int, default=424, help="render width (height 3/4), as the bench's runs")
    ap.add_argument("--out", default=str(ROOT / "models" / "landmark_offsets.json"))
    args = ap.parse_args()

    import bpy  # noqa: F401

    from pipeline.core.capture.body_fit import LANDMARK_BONES, SWAP
    from pipeline.core.files import write_json

    rng = np.random.default_rng(args.seed)
    people = held_out_people(args.bodies, args.seed)
    per = []
    for n, person in enumerate(people):
        got = offsets_of(person, rng, args.width)
        if got is not None:
            per.append(got)
        print(f"{n + 1}/{len(people)} {person['id']}", flush=True)
    table, spread = {}, {}
    for i in sorted(LANDMARK_BONES):
        both = np.array([[p[i] for p in per] + [p[SWAP[i]] for p in per]]).reshape(-1, 2)
        table[str(i)] = [round(float(m), 4) for m in both.mean(axis=0)]
        spread[str(i)] = [round(float(s), 4) for s in both.std(axis=0)]
        print(
            f"  {i:2d} {LANDMARK_BONES[i]:14s} outward {100 * table[str(i)][0]:+.1f} cm, down {100 * table[str(i)][1]:+.1f} cm"
        )
    write_json(
        Path(args.out),
        {
            "offsets_m": table,
            "std_m": spread,
            "bodies": [p["id"] for p in people],
            "note": "landmark minus anny bone head, (outward, down) metres in a front view, left and right "
            f"averaged: scripts/calibrate_landmark_offsets.py --bodies {args.bodies} --seed {args.seed} --width {args.width}",
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""AR composite against the truth: synthetic recordings (`synth-capture --garment tshirt --size M`) of known
avatars, front and turning, arms relaxed at the sides and crossed in front; `ar` composites the garment on
the shopper measured from the recording and is compared with the truth render of the same avatar dressed in
the same garment from the same camera.

Per recording: garment silhouette IoU (goal >= 0.90), occlusion violations (garment pixels drawn where the
real, noise-free depth is nearer than the garment by more than 3 cm; goal <= 1 %), pixels outside both
garment silhouettes unchanged (max abs difference <= 2 on >= 99.5 %), seconds for the still. Baseline in the
same run: the garment layer without any holdout (no depth occlusion), IoU and violations. Then the `--live`
preview's frame rate (Eevee, half size, 1 sample) on the CPU.

Also per recording, to say which error dominates: the fitted body against the truth body in the judged view's
camera frame (yaw error in degrees, elbow and wrist joint errors and the trunk's mean vertex error in cm).

    .venv/bin/python bench/bench_ar.py [--n 10] [--width 320] [--samples 8] [--recordings DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpy  # noqa: E402,F401

from pipeline.core.deps import REPO_ROOT  # noqa: E402

CASES = [
    ("front", "relaxed"),
    ("front", "arms-crossed"),
    ("turn", "relaxed"),
    ("turn", "arms-crossed"),
    ("front", None),
]


def person(i: int) -> dict:
    rng = np.random.default_rng(100 + i)
    female = i % 2 == 0
    return {
        "phenotypes": {
            "gender": 0.95 if female else 0.05,
            "age": float(rng.uniform(0.68, 0.8)),
            "weight": float(rng.uniform(0.3, 0.7)),
            "height": float(rng.uniform(0.3, 0.7)),
            "muscle": float(rng.uniform(0.3, 0.6)),
        },
        "local_changes": {},
    }


def synth(out: Path, i: int, view: str, pose: str | None, width: int, samples: int) -> None:
    (out / "params.json").write_text(json.dumps(person(i)))
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "synth-capture",
        "--params",
        str(out / "params.json"),
        "--out",
        str(out / "cap"),
    ]
    cmd += [
        "--view",
        view,
        "--width",
        str(width),
        "--samples",
        str(samples),
        "--seed",
        str(i),
        "--frames",
        "2" if view == "front" else "4",
    ]
    cmd += ["--garment", "tshirt", "--size", "M"] + (["--pose", pose] if pose else [])
    subprocess.run(cmd, check=True, cwd=REPO_ROOT, capture_output=True)


def truth_body(cap: Path):
    """The truth avatar in its pose (world frame, feet on the floor) and its capture settings."""
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body

    truth = json.loads((cap / "truth.json").read_text())
    body = body_arrays(truth["anny"]["phenotypes"], truth["anny"]["local_changes"])
    if truth["capture"].get("pose", "rest") != "rest":
        body = pose_body(body, truth["capture"]["pose"])
    return body, truth["capture"]


def true_sex(cap: Path) -> str:
    """The sex whose chart graded the truth's garment (synth-capture's rule)."""
    gender = json.loads((cap / "truth.json").read_text())["anny"]["phenotypes"].get("gender", 0.5)
    return "female" if gender > 0.5 else "male"


def fit_vs_truth(cap: Path, view_index: int, anny: dict, body, frame_index: int, intr) -> dict:
    """The fitted body against the truth in the judged view's camera frame: yaw error (degrees), elbow and wrist
    joint errors (cm, mean of both sides) and the trunk's mean vertex error (cm; not arm, hand or head)."""
    from pipeline.app.ar import view_of
    from pipeline.core.capture.virtual_camera import VirtualCamera, rotate_z

    tbody, capture = truth_body(cap)
    yaw = capture["yaws_deg"][view_index]
    cam = VirtualCamera(intr)
    R, t = view_of(anny, frame_index)

    def fitted(p):
        return (p - body.offset_m) @ R.T + t

    def true(p):
        return cam.world_to_camera(rotate_z(p, yaw))

    names = body.bone_names
    joints = {}
    for joint in ("lowerarm01", "wrist"):
        idx = [names.index(f"{joint}.{s}") for s in "LR"]
        d = fitted(body.bone_poses[idx, :3, 3]) - true(tbody.bone_poses[idx, :3, 3])
        joints[joint] = float(100 * np.linalg.norm(d, axis=1).mean())
    dom = [names[b] for b in body.weight_bones[np.arange(len(body.weights)), body.weights.argmax(1)]]
    skip = ("upperarm", "lowerarm", "wrist", "finger", "metacarpal", "head", "neck", "jaw", "eye", "tongue")
    trunk = np.array([not n.startswith(skip) for n in dom])
    trunk_cm = 100 * np.linalg.norm(fitted(body.vertices[trunk]) - true(tbody.vertices[trunk]), axis=1).mean()
    fwd = R @ np.array([0.0, -1.0, 0.0])
    fitted_yaw = float(np.degrees(np.arctan2(fwd[0], -fwd[2])))
    true_fwd = cam.world_to_camera(rotate_z(np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 0.0]]), yaw))
    tf = true_fwd[0] - true_fwd[1]
    true_yaw = float(np.degrees(np.arctan2(tf[0], -tf[2])))
    return {
        "yaw_err": (fitted_yaw - true_yaw + 180) % 360 - 180,
        "elbow_cm": joints["lowerarm01"],
        "wrist_cm": joints["wrist"],
        "trunk_cm": float(trunk_cm),
    }


def truth_depth(cap: Path, view_index: int, width: int):
    """Noise-free depth of the real scene (the person and the room) for one colour view."""
    from pipeline.app.synth_capture import SynthSettings, render_depth_frames

    body, capture = truth_body(cap)
    s = SynthSettings(view=capture["view"], width=width, height=width * 3 // 4)
    s.turn_frames = len(capture["yaws_deg"])
    return render_depth_frames(body.vertices, body.faces, s)[view_index]


def keep_side_by_side(
    path: Path, frame, res: dict, cap: Path, k: int, bad: np.ndarray, zoom: int = 3
) -> None:
    """frame | composite | truth (the truth garment render over the frame) | masks (white both, red ours only,
    blue the truth's only, yellow occlusion violations), cropped to the person, enlarged."""
    import cv2

    from pipeline.core.ar.composite import alpha_over, premultiply

    truth = (
        cv2.imread(str(cap / f"truth_garment_{k:03d}.png"), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]] / 255.0
    )
    ours, true = res["mask"], truth[..., 3] > 0.5
    masks = np.zeros_like(frame.color)  # white both, red ours only, blue the truth's only
    masks[ours & true], masks[ours & ~true], masks[~ours & true] = (
        (230, 230, 230),
        (230, 40, 40),
        (40, 90, 255),
    )
    masks[bad] = (255, 220, 0)  # occlusion violations
    panels = [frame.color, res["composite"], alpha_over(frame.color, premultiply(truth)), masks]
    vs, us = np.nonzero(truth[..., 3] > 0.5)
    h, w = frame.color.shape[:2]
    pad = max(int(0.6 * (vs.max() - vs.min() + 1)), 10) if len(vs) else h
    v0, v1 = (max(vs.min() - pad // 2, 0), min(vs.max() + pad, h)) if len(vs) else (0, h)
    u0, u1 = (max(us.min() - pad, 0), min(us.max() + pad, w)) if len(us) else (0, w)
    side = np.hstack([p[v0:v1, u0:u1] for p in panels])
    side = cv2.resize(side, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.ascontiguousarray(side[..., ::-1]))


def main() -> None:
    import cv2

    from pipeline.app.ar import compose_frame, dressed_garment, grading_sex, read_frames, shopper_in_pose
    from pipeline.blender.ar import garment_depth, render_garment_layer
    from pipeline.core.ar.composite import occlusion_violations, silhouette_iou, unchanged_share
    from pipeline.core.capture.measure_capture import measure_frames

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--samples", type=int, default=8)
    p.add_argument(
        "--keep", metavar="DIR", help="write frame | composite | truth mask side by side per recording"
    )
    p.add_argument(
        "--recordings",
        metavar="DIR",
        help="synthesise the recordings into DIR and reuse those already there (same --width and --samples)",
    )
    p.add_argument("--only", metavar="I,J", help="run only these recordings (indices below --n)")
    args = p.parse_args()
    only = {int(x) for x in args.only.split(",")} if args.only else set(range(args.n))
    rows = []
    live_case = None
    with tempfile.TemporaryDirectory(prefix="bench-ar-") as tmp:
        for i in sorted(only & set(range(args.n))):
            view, pose = CASES[i % len(CASES)]
            out = Path(args.recordings or tmp) / f"rec{i}_{args.width}"
            out.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            if not (out / "cap" / "truth.json").is_file():
                synth(out, i, view, pose, args.width, args.samples)
            t_synth = time.perf_counter() - t0
            cap = out / "cap"
            frames, intr = read_frames(None, str(cap / "frames"), None)
            measured = measure_frames(frames, warn=lambda m: None)
            anny = measured.report["anny"]
            body = shopper_in_pose(anny)
            sex = grading_sex(measured)
            dressed = dressed_garment(body, "tshirt", "M", sex)
            # the frame to judge: the first (front), or the first turned one (about 60 degrees)
            k = 0 if view == "front" else 1
            index = k * (
                len(frames) // len(json.loads((cap / "truth.json").read_text())["capture"]["yaws_deg"])
            )
            frame = next(f for f in frames if f.index == index)
            t1 = time.perf_counter()
            res = compose_frame(frame, intr, anny, body, dressed, samples=args.samples)
            t_still = time.perf_counter() - t1
            truth_mask = cv2.imread(str(cap / f"truth_garment_mask_{k:03d}.png"), cv2.IMREAD_GRAYSCALE) > 127
            real = truth_depth(cap, k, args.width)
            gdepth = garment_depth(res["garment_cam"], dressed[0].faces, intr)
            bare = render_garment_layer(
                res["garment_cam"], dressed[0].faces, dressed[0].base_color, intr, samples=1
            )
            bare_mask = bare[..., 3] > 0.5
            outside = ~(truth_mask | res["mask"])
            row = {
                "case": f"{view}/{pose or 'rest'}",
                "iou": silhouette_iou(res["mask"], truth_mask),
                "violations": occlusion_violations(res["mask"], gdepth, real),
                "unchanged": unchanged_share(frame.color, res["composite"], outside),
                "still_s": t_still,
                "base_iou": silhouette_iou(bare_mask, truth_mask),
                "base_violations": occlusion_violations(bare_mask, gdepth, real),
                "sex": sex[0].upper()
                + ("" if sex == true_sex(cap) else f" (truth {true_sex(cap)[0].upper()})"),
            } | fit_vs_truth(cap, k, anny, body, index, intr)
            rows.append(row)
            if args.keep:
                keep_side_by_side(
                    Path(args.keep) / f"ar_{i:02d}_{view}_{pose or 'rest'}.png",
                    frame,
                    res,
                    cap,
                    k,
                    res["mask"] & (gdepth > 0) & (real > 0) & (real < gdepth - 0.03),
                )
            print(
                f"{i:2d} {row['case']:20s} IoU {row['iou']:.3f} (no holdout {row['base_iou']:.3f}) "
                f"violations {100 * row['violations']:.2f} % (no holdout {100 * row['base_violations']:.2f} %) "
                f"unchanged {100 * row['unchanged']:.2f} % | chart {row['sex']} | synth {t_synth:.0f} s, still {t_still:.1f} s | "
                f"fit vs truth: yaw {row['yaw_err']:+.1f} deg, elbows {row['elbow_cm']:.1f} cm, "
                f"wrists {row['wrist_cm']:.1f} cm, torso+legs {row['trunk_cm']:.1f} cm",
                flush=True,
            )
            if live_case is None:
                live_case = (frames, intr, anny, body, dressed)
        iou = np.array([r["iou"] for r in rows])
        vio = np.array([r["violations"] for r in rows])
        unch = np.array([r["unchanged"] for r in rows])
        print(
            f"\nIoU mean {iou.mean():.3f}, min {iou.min():.3f}; >= 0.90 in {int((iou >= 0.9).sum())}/{len(rows)}"
        )
        print(
            f"baseline without holdout: IoU mean {np.mean([r['base_iou'] for r in rows]):.3f}, violations mean {100 * np.mean([r['base_violations'] for r in rows]):.2f} %"
        )
        print(
            f"occlusion violations mean {100 * vio.mean():.2f} %, max {100 * vio.max():.2f} %; <= 1 % in {int((vio <= 0.01).sum())}/{len(rows)}"
        )
        print(
            f"unchanged outside the garment: min {100 * unch.min():.2f} %; >= 99.5 % in {int((unch >= 0.995).sum())}/{len(rows)}"
        )
        print(
            f"still: median {np.median([r['still_s'] for r in rows]):.1f} s per frame at {args.width} px, {args.samples} samples"
        )
        if live_case:
            from pipeline.app.ar import _half

            frames, intr, anny, body, dressed = live_case
            small = intr.scaled(0.5)
            times = []
            for f in frames[:3]:
                t = time.perf_counter()
                compose_frame(_half(f, small), small, anny, body, dressed, samples=1, engine="eevee")
                times.append(time.perf_counter() - t)
            print(
                f"live (Eevee, {small.width}x{small.height}, 1 sample): first frame {times[0]:.1f} s, then {len(times[1:]) / max(sum(times[1:]), 1e-9):.2f} fps"
            )


if __name__ == "__main__":
    main()

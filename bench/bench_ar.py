"""AR composite against the truth: synthetic recordings (`synth-capture --garment tshirt --size M`) of known
avatars, front and turning, arms relaxed at the sides and crossed in front; `ar` composites the garment on
the shopper measured from the recording and is compared with the truth render of the same avatar dressed in
the same garment from the same camera.

Per recording: garment silhouette IoU (goal >= 0.90), occlusion violations (garment pixels drawn where the
real, noise-free depth is nearer than the garment by more than 3 cm; goal <= 1 %), pixels outside both
garment silhouettes unchanged (max abs difference <= 2 on >= 99.5 %), seconds for the still. Baseline in the
same run: the garment layer without any holdout (no depth occlusion), IoU and violations. Then the `--live`
preview's frame rate (Eevee, half size, 1 sample) on the CPU.

    .venv/bin/python bench/bench_ar.py [--n 10] [--width 320] [--samples 8]
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


def truth_depth(cap: Path, view_index: int, width: int):
    """Noise-free depth of the real scene (the person and the room) for one colour view."""
    from pipeline.app.synth_capture import SynthSettings, render_depth_frames
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.poses import pose_body

    truth = json.loads((cap / "truth.json").read_text())
    body = body_arrays(truth["anny"]["phenotypes"], truth["anny"]["local_changes"])
    if truth["capture"].get("pose", "rest") != "rest":
        body = pose_body(body, truth["capture"]["pose"])
    s = SynthSettings(view=truth["capture"]["view"], width=width, height=width * 3 // 4)
    s.turn_frames = len(truth["capture"]["yaws_deg"])
    return render_depth_frames(body.vertices, body.faces, s)[view_index]


def garment_depth(garment_cam: np.ndarray, faces: np.ndarray, intr) -> np.ndarray:
    from pipeline.blender.raycast import raycast_depth
    from pipeline.core.capture.virtual_camera import VirtualCamera

    cam = VirtualCamera(intr)
    depth, _ = raycast_depth(cam, cam.camera_to_world(garment_cam), faces, room=False)
    return depth


def main() -> None:
    import cv2

    from pipeline.app.ar import compose_frame, dressed_garment, read_frames, shopper_in_pose
    from pipeline.blender.ar import render_garment_layer
    from pipeline.core.ar.composite import occlusion_violations, silhouette_iou, unchanged_share
    from pipeline.core.capture.measure_capture import measure_frames

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--samples", type=int, default=8)
    p.add_argument(
        "--keep", metavar="DIR", help="write frame | composite | truth mask side by side per recording"
    )
    args = p.parse_args()
    rows = []
    live_case = None
    with tempfile.TemporaryDirectory(prefix="bench-ar-") as tmp:
        for i in range(args.n):
            view, pose = CASES[i % len(CASES)]
            out = Path(tmp) / f"rec{i}"
            out.mkdir()
            t0 = time.perf_counter()
            synth(out, i, view, pose, args.width, args.samples)
            t_synth = time.perf_counter() - t0
            cap = out / "cap"
            frames, intr = read_frames(None, str(cap / "frames"), None)
            measured = measure_frames(frames, warn=lambda m: None)
            anny = measured.report["anny"]
            body = shopper_in_pose(anny)
            dressed = dressed_garment(body, "tshirt", "M", measured.sex or "female")
            # the frame to judge: the first (front), or the first turned one (about 60 degrees)
            k = 0 if view == "front" else 1
            index = k * (
                len(frames) // len(json.loads((cap / "truth.json").read_text())["capture"]["yaws_deg"])
            )
            frame = next(f for f in frames if f.index == index)
            t1 = time.perf_counter()
            res = compose_frame(
                frame, intr, anny, body, dressed, samples=args.samples, garment_only_mask=True
            )
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
            }
            rows.append(row)
            if args.keep:
                keep = Path(args.keep)
                keep.mkdir(parents=True, exist_ok=True)
                side = np.hstack(
                    [
                        frame.color,
                        res["composite"],
                        np.repeat(truth_mask[..., None] * 255, 3, -1).astype(np.uint8),
                    ]
                )
                cv2.imwrite(str(keep / f"ar_{i:02d}_{view}_{pose or 'rest'}.png"), side[..., ::-1])
            print(
                f"{i:2d} {row['case']:20s} IoU {row['iou']:.3f} (no holdout {row['base_iou']:.3f}) "
                f"violations {100 * row['violations']:.2f} % (no holdout {100 * row['base_violations']:.2f} %) "
                f"unchanged {100 * row['unchanged']:.2f} % | synth {t_synth:.0f} s, still {t_still:.1f} s"
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

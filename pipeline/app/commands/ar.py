"""`ar`: the garment on the shopper's own camera image (AR try-on composite)."""

from __future__ import annotations

import argparse

from pipeline.core.vocab import FABRICS, SIZES

NAME = "ar"
HELP = "AR try-on: the garment rendered onto the shopper's own colour frame, occluded by what is in front"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_argument_group("the recording (one of)")
    src.add_argument("--bag", metavar="FILE", help="RealSense recording (.bag/.db3)")
    src.add_argument("--rgbd", metavar="DIR", help="RGB-D frame folder")
    src.add_argument("--source", choices=("realsense",), help="a live camera")
    p.add_argument(
        "--garment", required=True, help="a sample pattern garment (tshirt, skirt) or a garment file"
    )
    p.add_argument(
        "--size", type=str.upper, choices=SIZES, default="M", help="size of a sample garment (default M)"
    )
    p.add_argument(
        "--sex", choices=("female", "male"), help="size table for the sample garment (default: measured)"
    )
    p.add_argument("--fabric", choices=FABRICS, default="cotton-jersey")
    p.add_argument("--frame", type=int, help="which frame to composite (default: the first fitted one)")
    p.add_argument("--samples", type=int, default=16, help="Cycles samples (default 16, denoised)")
    p.add_argument(
        "--live", action="store_true", help="composite every frame with Eevee at half size; prints fps"
    )
    p.add_argument(
        "--keep-frames", metavar="DIR", help="also keep the raw frames (otherwise none is written)"
    )
    p.add_argument("--out", required=True, metavar="tryon.png", help="the composite")


def run(args: argparse.Namespace) -> int:
    from pipeline.app.worker import run_worker, use_worker_for

    if any(use_worker_for(m) for m in ("torch", "mediapipe", "cv2")):
        run_worker(_argv(args), step="ar")
        return 0
    from pipeline.app.ar import run_ar
    from pipeline.core.progress import TerminalProgress

    record = run_ar(
        args.out,
        args.garment,
        args.size,
        bag=args.bag,
        rgbd=args.rgbd,
        source=args.source,
        frame=args.frame,
        sex=args.sex,
        fabric=args.fabric,
        samples=args.samples,
        live=args.live,
        keep_frames=args.keep_frames,
        progress=TerminalProgress("ar"),
    )
    timing = (
        f"{record['composite_s']} s for the frame" if "composite_s" in record else f"{record['live_fps']} fps"
    )
    print(
        f"wrote {args.out}: {record['garment']} size {record['size']}, prepared in {record['prepare_s']} s, {timing}"
    )
    return 0


def _argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "ar",
        "--out",
        str(args.out),
        "--garment",
        args.garment,
        "--size",
        args.size,
        "--fabric",
        args.fabric,
    ]
    argv += ["--samples", str(args.samples)]
    for flag, value in (
        ("--bag", args.bag),
        ("--rgbd", args.rgbd),
        ("--source", args.source),
        ("--sex", args.sex),
        ("--frame", args.frame),
        ("--keep-frames", args.keep_frames),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.live:
        argv.append("--live")
    return argv

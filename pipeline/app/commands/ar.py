"""`ar`: the garment on the shopper's own camera image (AR try-on composite)."""

from __future__ import annotations

import argparse

from pipeline.core.vocab import FABRICS, SEXES, SIZES

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
    p.add_argument("--sex", choices=SEXES, help="size table for the sample garment (default: measured)")
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
    from pipeline.app import worker
    from pipeline.core.progress import TerminalProgress

    record = worker.call(
        "ar",
        TerminalProgress("ar"),
        out=str(args.out),
        garment=args.garment,
        size=args.size,
        bag=args.bag,
        rgbd=args.rgbd,
        source=args.source,
        frame=args.frame,
        sex=args.sex,
        fabric=args.fabric,
        samples=args.samples,
        live=args.live,
        keep_frames=args.keep_frames,
    )
    timing = (
        f"{record['composite_s']} s for the frame" if "composite_s" in record else f"{record['live_fps']} fps"
    )
    print(
        f"wrote {args.out}: {record['garment']} size {record['size']}, prepared in {record['prepare_s']} s, {timing}"
    )
    return 0

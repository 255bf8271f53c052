"""`advise`: which size to buy: every size fitted on the shopper, ease per region, one recommendation."""

from __future__ import annotations

import argparse

from pipeline.core.vocab import FABRICS, GARMENT_TYPES, SEXES

NAME = "advise"
HELP = "size advice: fit every size on the shopper's avatar, ease per region, recommend one size"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--garment",
        help="a sample pattern garment (tshirt, skirt or garments/tshirt.obj), graded per size; "
        "other garments: one --size-file per size",
    )
    p.add_argument(
        "--sizes",
        required=True,
        type=lambda s: [x for x in s.split(",") if x.strip()],
        metavar="S,M,L,XL",
        help="the sizes to compare, small to large",
    )
    p.add_argument(
        "--size-file",
        action="append",
        metavar="SIZE=FILE",
        help="the garment file of one size (repeat per size)",
    )
    src = p.add_argument_group("the shopper (one of)")
    src.add_argument("--measurements", metavar="M.json", help="measurements file (cm)")
    src.add_argument("--bag", metavar="FILE", help="RealSense recording (.bag/.db3), measured in memory")
    src.add_argument("--rgbd", metavar="DIR", help="RGB-D frame folder, measured in memory")
    src.add_argument("--source", choices=("realsense",), help="a live camera")
    p.add_argument("--sex", choices=SEXES, help="size table to grade with (default: the shopper's)")
    p.add_argument(
        "--fabric", choices=FABRICS, default="cotton-jersey", help="fabric (sets the drape and the bands)"
    )
    p.add_argument(
        "--type", dest="garment_type", choices=GARMENT_TYPES, help="garment type (default: detected)"
    )
    p.add_argument(
        "--out", required=True, metavar="advice.json", help="advice JSON; the picture goes beside it (.png)"
    )
    p.add_argument(
        "--png", metavar="advice.png", help="fit maps of the two closest sizes (default: OUT with .png)"
    )


def run(args: argparse.Namespace) -> int:
    from pipeline.app import worker
    from pipeline.app.advise import parse_size_files
    from pipeline.core.progress import TerminalProgress

    record = worker.call(
        "advise",
        TerminalProgress("advise"),
        out=str(args.out),
        sizes=args.sizes,
        garment=args.garment,
        size_files=parse_size_files(args.size_file),
        measurements=args.measurements,
        bag=args.bag,
        rgbd=args.rgbd,
        source=args.source,
        sex=args.sex,
        fabric=args.fabric,
        garment_type=args.garment_type,
        png=args.png,
    )
    print(f"{record['why']}  (wrote {args.out} and {record['picture']})")
    return 0

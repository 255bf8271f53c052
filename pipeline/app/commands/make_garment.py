"""`make-garment`: generate the sample garments (T-shirt, skirt) from 2D sewing patterns sized for the
default avatar, sewn and draped onto it, saved as OBJ + MTL with the pattern as UVs (metres)."""

from __future__ import annotations

import argparse

NAME = "make-garment"
HELP = "generate sample garments (T-shirt, skirt) from 2D sewing patterns, draped on the default avatar"
KINDS = ("tshirt", "skirt")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", default="all", choices=(*KINDS, "all"), help="which garment (default: all)")
    p.add_argument("--out", default=None, help="output folder (default: the repository's garments/)")
    p.add_argument("--edge", type=float, default=0.015, help="mesh edge length in metres (default 0.015)")
    p.add_argument("--ease", type=float, default=None, help="extra girth over the body in metres")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.core.deps import REPO_ROOT
    from pipeline.core.errors import UserError
    from pipeline.core.fit.make import make_garment
    from pipeline.core.progress import TerminalProgress

    if not 0.005 <= args.edge <= 0.05:
        raise UserError(f"--edge must be between 0.005 and 0.05 m, not {args.edge}")
    if args.ease is not None and not 0.0 <= args.ease <= 0.5:
        raise UserError(f"--ease must be between 0 and 0.5 m, not {args.ease}")
    out = Path(args.out) if args.out else REPO_ROOT / "garments"
    for kind in KINDS if args.kind == "all" else (args.kind,):
        path, stats = make_garment(
            kind, out, edge_m=args.edge, ease_m=args.ease, progress=TerminalProgress(kind)
        )
        print(
            f"wrote {path}: {stats['vertices']} vertices, {stats['faces']} faces, "
            f"max penetration {stats['max_penetration_mm']} mm, strain p95 {stats['strain_p95']:.3f}"
        )
    return 0

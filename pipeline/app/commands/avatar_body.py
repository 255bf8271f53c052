"""`pipeline avatar-body`: internal worker step of `avatar`: fit anny in torch, write the body as .npz."""

from __future__ import annotations

import argparse

from pipeline.core import vocab

NAME = "avatar-body"
HELP = "(internal) fit anny to measurements or a size and write the body arrays (.npz) and fit record (.json)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--measurements", metavar="M.json")
    src.add_argument("--size", choices=vocab.SIZES, type=str.upper)
    parser.add_argument("--sex", choices=vocab.SEXES)
    parser.add_argument("--out", required=True, metavar="body.npz")
    parser.add_argument("--record", required=True, metavar="fit.json")


def run(args: argparse.Namespace) -> int:
    from pipeline.core.body.avatar_body import fit_body
    from pipeline.core.files import read_json, write_json

    measurements = read_json(args.measurements, "measurements file") if args.measurements else None
    body, record = fit_body(measurements, args.size, args.sex, source=str(args.measurements or "size table"))
    body.save(args.out)
    write_json(args.record, record)
    return 0

"""`batch`: render a whole catalog from one job file, one process per item; or print the items' command lines
for a render farm (SLURM array, Flamenco, Deadline, Ray)."""

from __future__ import annotations

import argparse

NAME = "batch"
HELP = "render every item of a catalog job file (skips items already done; a failed item never loses others)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job file (JSON; format in the README and pipeline/batch.py)")
    p.add_argument("--jobs", type=int, default=1, help="items run at once (default 1)")
    p.add_argument("--force", action="store_true", help="redo items that are already done")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these item ids")
    p.add_argument(
        "--print-commands",
        action="store_true",
        help="print one command line per item (for a farm) and exit without running them",
    )


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from pipeline.app.batch import load_job, run_batch
    from pipeline.core.errors import UserError
    from pipeline.core.progress import TerminalProgress

    items = load_job(args.job)
    if args.only:
        missing = sorted(set(args.only) - {it.id for it in items})
        if missing:
            raise UserError(f"--only: no item with id '{missing[0]}' in {args.job}")
        items = [it for it in items if it.id in args.only]
    if args.print_commands:
        for it in items:
            print(shlex.join(it.command()))
        return 0
    report_path = items[0].out_dir.parent / "batch_report.json"
    report = run_batch(
        items, jobs=args.jobs, force=args.force, report_path=report_path, progress=TerminalProgress("batch")
    )
    failed = report["failed"]
    print(f"{len(items) - len(failed)} of {len(items)} items done; report: {report_path}")
    for item_id in failed:
        sys.stderr.write(
            f"error: item {item_id}: {report['items'][item_id]['error'].removeprefix('error: ')}\n"
        )
    return 1 if failed else 0

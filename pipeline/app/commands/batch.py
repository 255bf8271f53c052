"""`batch`: render a whole catalog (garments x bodies x colorways x views x poses x looks) from one job file with
warm workers (a local pool or a Ray cluster); or run one chunk of it (`--items`, `--shard i/N`) in this process,
as a render farm's task does; or list the items (`--dry-run`) or the farm's command lines (`--print-commands`)."""

from __future__ import annotations

import argparse

NAME = "batch"
HELP = "render a catalog job file with warm workers (local pool or Ray); skips done stills; report + contact sheet"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job file (JSON or TOML; format in the README and pipeline/app/batch.py)")
    p.add_argument(
        "--output-root",
        metavar="DIR",
        help="also allow the job's output folder under DIR (by default it must lie under the job file's folder)",
    )
    p.add_argument("--dry-run", action="store_true", help="list the items and their count; render nothing")
    p.add_argument(
        "--print-commands",
        action="store_true",
        help="print the command lines a farm runs: one per item (tryon), or one per shard with --shards N",
    )
    p.add_argument("--shards", type=int, metavar="N", help="with --print-commands: N shard command lines")
    p.add_argument(
        "--executor", choices=("local", "ray", "per-item"), default="local", help="where items run"
    )
    p.add_argument("--jobs", type=int, default=1, help="warm worker processes (local) or CPUs (local Ray)")
    p.add_argument("--chunks", type=int, help="chunks of items (default: one per worker)")
    p.add_argument(
        "--address", help="with --executor ray: the cluster (host:port); default: start a local one"
    )
    p.add_argument("--retries", type=int, default=2, help="re-runs of a chunk whose worker died (default 2)")
    p.add_argument("--items", help="run these item ids (comma-separated) in this process: one farm task")
    p.add_argument(
        "--shard", "--chunk", dest="shard", metavar="i/N", help="run shard i of N (1-based) in this process"
    )
    p.add_argument(
        "--collect",
        action="store_true",
        help="after a farm's shards: clean stale temporaries, settle the report, write the contact sheet",
    )
    p.add_argument("--run-id", help=argparse.SUPPRESS)  # set by the coordinator for its chunks
    p.add_argument("--force", action="store_true", help="redo stills that are already done")
    p.add_argument("--no-contact-sheet", dest="contact_sheet", action="store_false", help="skip the sheet")


def _print_plan(job, items, args) -> None:
    import shlex

    from pipeline.app.batch_run import shard_commands

    if args.dry_run:
        for it in items:
            print(f"{it.id}\t{it.png}")
        print(f"{len(items)} items ({sum(it.done() for it in items)} done) -> {job.output}")
    elif args.shards:
        for line in shard_commands(args.job, args.shards):
            print(line)
    else:
        for it in items:
            print(shlex.join(it.command()))


def run(args: argparse.Namespace) -> int:
    import sys

    from pipeline.app.batch import JobErrors, load_job, select
    from pipeline.app.batch_run import collect, run_inline, run_job, write_job_contact_sheet
    from pipeline.core.errors import UserError
    from pipeline.core.files import check_output_dir

    for flag in ("jobs", "chunks", "shards"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UserError(f"--{flag}: must be at least 1, not {value}")
    if args.retries < 0:
        raise UserError(f"--retries: must be 0 or more, not {args.retries}")
    if args.address and args.executor != "ray":
        raise UserError("--address needs --executor ray")
    try:
        job = load_job(args.job, args.output_root)
    except JobErrors as exc:  # every problem of the job file, one line each, before anything runs
        shown = exc.lines[:20] + (
            [f"... and {len(exc.lines) - 20} more problems"] if len(exc.lines) > 20 else []
        )
        sys.stderr.write("".join(f"error: {line}\n" for line in shown))
        return 2
    ids = [i for i in args.items.split(",") if i] if args.items else None
    items = select(job.items, ids, args.shard)
    if args.dry_run or args.print_commands:
        _print_plan(job, items, args)
        return 0
    check_output_dir(job.output, f"{job.path.name}: output")  # writable, before any worker starts
    if args.collect:
        data = collect(job, items)
    elif ids or args.shard:
        data = run_inline(job, items, args.run_id, args.force, executor=f"shard {args.shard or 'items'}")
        if args.run_id is None and args.contact_sheet:
            write_job_contact_sheet(job, data)
    else:
        data = run_job(
            job,
            items,
            executor=args.executor,
            jobs=args.jobs,
            force=args.force,
            address=args.address,
            retries=args.retries,
            chunks=args.chunks,
            output_root=args.output_root,
            show_progress=getattr(args, "progress", False) or sys.stderr.isatty(),  # the CLI's --progress
            contact_sheet=args.contact_sheet,
        )
    if args.run_id is not None:
        return 0
    failed = [it.id for it in items if data["items"][it.id]["status"] == "failed"]
    print(f"{len(items) - len(failed)} of {len(items)} items done; report: {job.report_path}")
    for item_id in failed[:20]:
        sys.stderr.write(
            f"error: item {item_id}: {data['items'][item_id]['error'].removeprefix('error: ')}\n"
        )
    return 1 if failed else 0

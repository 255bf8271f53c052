"""Running a catalog job: the report (`batch_report.json`, merged under a file lock by every process that runs
items), stale temporary files from killed runs, chunking, and the executors that run the chunks:

- `inline`: this process is the warm worker (`batch JOB --items ...` / `--shard i/N`: what farms run);
- `local`: a pool of warm worker processes on this machine (`--jobs N`);
- `ray`: one Ray task per chunk on a given cluster (`--address`) or a local one started for the job;
- `per-item`: one `tryon` process per item (the old path, kept as the baseline of the bench).

Every executor runs the same idempotent chunk command line, so a retried or repeated chunk skips what is done.
Output folders must be on storage every worker sees (one machine, or a shared file system on a farm).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import math
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pipeline.app.batch import BatchItem, Job
from pipeline.app.batch_chunk import run_chunk_command
from pipeline.core.deps import REPO_ROOT
from pipeline.core.files import write_json

EXECUTORS = ("local", "ray", "per-item")
# atomic_path's temporaries: ".<stem>.<8 random chars><suffix>", plus Blender's own "<file>@" while saving.
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?@?$")
KEEP_RUNS = 20


def stale_temps(root: Path) -> list[Path]:
    """Temporary files left in the output tree by a killed run."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(".*") if p.is_file() and TEMP_NAME.match(p.name))


def clean_stale_temps(root: Path) -> int:
    """Delete them (only call this when no worker of the job is running); returns how many went."""
    count = 0
    for path in stale_temps(root):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            count += 1
    return count


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"


class Report:
    """`batch_report.json`: every item of the job with its status on the latest run that touched it (done,
    skipped with its path, failed with its one-line error, pending), and the last runs' counts. Each writer
    takes an exclusive lock, reads, changes and rewrites it atomically, so concurrent shards can share it."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.path = job.report_path
        self.lock_path = job.output / "batch_report.lock"

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        self.job.output.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            self._tally(data)
            write_json(self.path, data)

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
            data = {}
        data.setdefault("runs", [])
        data["job"] = str(self.job.path)
        data["output"] = str(self.job.output)
        old = data.get("items", {})
        data["items"] = {it.id: old.get(it.id, {"status": "pending"}) for it in self.job.items}
        return data

    def _tally(self, data: dict[str, Any]) -> None:
        counts: dict[str, int] = {}
        for entry in data["items"].values():
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        data["counts"] = counts
        data["updated"] = now()
        for run in data["runs"]:
            if run.get("finished") is None and not run.get("interrupted"):
                mine = [e for e in data["items"].values() if e.get("run") == run["id"]]
                run["progress"] = {
                    s: sum(e["status"] == s for e in mine) for s in ("done", "skipped", "failed", "pending")
                }

    def begin(self, run_id: str, executor: str, items: list[BatchItem], force: bool) -> list[BatchItem]:
        """Open a run: items done already become 'skipped' (with their path), the rest 'pending'; returns those."""
        todo = []
        with self.edit() as data:
            if executor in EXECUTORS:  # a coordinator: one per job at a time, so an unfinished one was killed
                for run in data["runs"]:
                    if run.get("finished") is None and run.get("executor") in EXECUTORS:
                        run["interrupted"] = True
                        run.pop("progress", None)
            data["runs"] = data["runs"][-(KEEP_RUNS - 1) :] + [
                {"id": run_id, "executor": executor, "started": now(), "finished": None, "items": len(items)}
            ]
            for item in items:
                if not force and item.done():
                    data["items"][item.id] = {"status": "skipped", "png": str(item.png), "run": run_id}
                else:
                    data["items"][item.id] = {"status": "pending", "run": run_id}
                    todo.append(item)
        return todo

    def record(self, run_id: str, result: dict[str, Any]) -> None:
        with self.edit() as data:
            entry = {k: v for k, v in result.items() if k != "id"}
            data["items"][result["id"]] = {**entry, "run": run_id}

    def finish(self, run_id: str, items: list[BatchItem], lost: str = "") -> dict[str, Any]:
        """Close a run: an item still pending failed (its worker died: `lost` says how); a done item whose PNG
        is missing is failed too. Returns the report."""
        with self.edit() as data:
            for item in items:
                entry = data["items"][item.id]
                if entry.get("run") != run_id:
                    continue
                if entry["status"] == "pending":
                    if item.done():  # finished by a worker that died before it could report
                        data["items"][item.id] = {"status": "done", "png": str(item.png), "run": run_id}
                    else:
                        why = lost or "the worker stopped before this item finished"
                        data["items"][item.id] = {"status": "failed", "error": why, "run": run_id}
                elif entry["status"] in ("done", "skipped") and not item.png.is_file():
                    data["items"][item.id] = {"status": "failed", "error": "PNG missing", "run": run_id}
            for run in data["runs"]:
                if run["id"] == run_id:
                    run["finished"] = now()
                    mine = [e for e in data["items"].values() if e.get("run") == run_id]
                    run.pop("progress", None)
                    run.update(
                        {s: sum(e["status"] == s for e in mine) for s in ("done", "skipped", "failed")}
                    )
        return data

    def run_status(self, run_id: str) -> dict[str, int]:
        """How many of this run's items are done/failed so far (read without the lock: atomic file)."""
        try:
            items = json.loads(self.path.read_text(encoding="utf-8")).get("items", {})
        except (OSError, ValueError):
            return {}
        counts: dict[str, int] = {}
        for entry in items.values():
            if entry.get("run") == run_id:
                counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        return counts


class BatchProgress:
    """A progress bar on stderr with ETA and stills per minute (a line per change when not a terminal)."""

    def __init__(self, total: int, enabled: bool, stream=None) -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last = -1

    def __call__(self, finished: int, failed: int = 0) -> None:
        if not self.enabled or (finished == self.last and not self.tty):
            return
        self.last = finished
        elapsed = time.monotonic() - self.start
        rate = finished / elapsed * 60 if elapsed > 0 else 0.0
        left = (self.total - finished) / (rate / 60) if rate > 0 else float("nan")
        eta = "--:--" if math.isnan(left) else f"{int(left // 60):d}:{int(left % 60):02d}"
        bar = "#" * int(24 * finished / self.total)
        fail = f" {failed} failed" if failed else ""
        line = f"batch [{bar:<24}] {finished}/{self.total} {rate:5.1f} stills/min ETA {eta}{fail}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if finished >= self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def make_chunks(items: list[BatchItem], count: int) -> list[list[BatchItem]]:
    """`count` contiguous chunks of near-equal size (items come grouped by garment and body)."""
    count = max(1, min(count, len(items)))
    n = len(items)
    return [items[math.floor(i * n / count) : math.floor((i + 1) * n / count)] for i in range(count)]


def chunk_command(
    job: Job, chunk: list[BatchItem], run_id: str, force: bool, output_root: str | None, python: str = ""
) -> list[str]:
    """The command line a worker runs for a chunk: `python -m pipeline batch JOB --items a,b,c`."""
    cmd = [python or sys.executable, "-m", "pipeline", "batch", str(job.path)]
    cmd += ["--items", ",".join(it.id for it in chunk), "--run-id", run_id]
    if output_root:
        cmd += ["--output-root", str(Path(output_root).resolve())]
    if force:
        cmd.append("--force")
    return cmd


def shard_command(job_arg: str, index: int, count: int, python: str = "") -> list[str]:
    """Shard `index` of `count` (1-based) as Flamenco, OpenJD and a SLURM array run it: the checkout's
    `pipeline/cli.py` as a script, so no working folder or PYTHONPATH is needed on the farm."""
    cli = str(REPO_ROOT / "pipeline" / "cli.py")
    return [
        python or sys.executable,
        cli,
        "batch",
        job_arg,
        "--shard",
        f"{index}/{count}",
        "--no-contact-sheet",
    ]


def shard_commands(job_arg: str, count: int, python: str = "") -> list[str]:
    """One shell line per shard."""
    return [shlex.join(shard_command(job_arg, i, count, python)) for i in range(1, count + 1)]


def run_inline(
    job: Job, items: list[BatchItem], run_id: str | None, force: bool, executor: str = "inline"
) -> dict[str, Any]:
    """This process is the warm worker: run `items`, recording each result in the report as it comes.

    A run of its own (no run id given) opens and closes its run in the report; a chunk of a pool or Ray run
    only records items, and the coordinator closes the run."""
    from pipeline.app.batch_worker import run_items

    report = Report(job)
    own = run_id is None
    run_id = run_id or new_run_id()
    todo = report.begin(run_id, executor, items, force) if own else items
    run_items(todo, force, on_result=lambda r: report.record(run_id, r), cache_dir=job.body_cache)
    return report.finish(run_id, items) if own else report.read()


def _run_per_item(job: Job, items: list[BatchItem], run_id: str, jobs: int) -> list[dict]:
    """Today's path: one `tryon` process per item; the coordinator records each result."""
    report = Report(job)

    def one(item: BatchItem) -> dict:
        t0 = time.perf_counter()
        out = run_chunk_command(item.command(), cwd=str(REPO_ROOT))
        ok = out["returncode"] == 0 and item.done()
        result = {
            "id": item.id,
            "status": "done" if ok else "failed",
            "seconds": round(time.perf_counter() - t0, 2),
        }
        if ok:
            result["png"] = str(item.png)
        else:
            result["error"] = out["error"].removeprefix("error: ") or f"exit code {out['returncode']}"
        report.record(run_id, result)
        return out

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, items))


def _run_local(cmds: list[list[str]], jobs: int, retries: int) -> list[dict]:
    """A pool of `jobs` warm worker processes, one chunk each at a time; a chunk whose process was killed by
    a signal is run again up to `retries` times (its done items are skipped)."""

    def one(cmd: list[str]) -> dict:
        for attempt in range(retries + 1):
            out = run_chunk_command(cmd, cwd=str(REPO_ROOT))
            out["attempts"] = attempt + 1
            if out["returncode"] >= 0:
                return out
        return out

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, cmds))


def _run_ray(
    commands: Callable[[int], list[list[str]]],
    chunks: int | None,
    address: str | None,
    jobs: int,
    retries: int,
) -> list[dict]:
    """One Ray task per chunk (`max_retries` re-runs it when its worker or node dies); gathers the outcomes.
    Without `chunks`, one chunk per CPU of the cluster."""
    from pipeline.core.deps import require

    require("ray", "--executor ray")
    if not address:
        # A cluster of this machine alone, for this job: on the loopback address (Ray would otherwise use the
        # machine's own IP) and without token auth (Ray would write a token into ~/.ray for every later run).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import logging

    import ray

    init: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "runtime_env": {"env_vars": {"PYTHONPATH": str(REPO_ROOT)}},
    }
    host = address.rpartition(":")[0] if address else ""
    if host.startswith("127."):
        # Ray swaps 127.0.0.1 itself for the machine's address; another loopback address (e.g. 127.0.0.2, as
        # `ray start --node-ip-address=127.0.0.2` gives the nodes) keeps a cluster on this machine on loopback.
        init["_node_ip_address"] = host
    if address:
        ray.init(address=address, **init)
    else:
        ray.init(num_cpus=max(1, jobs), object_store_memory=200 * 1024**2, **init)
    try:
        task = ray.remote(num_cpus=1, max_retries=retries, retry_exceptions=False)(run_chunk_command)
        count = chunks or max(1, int(ray.cluster_resources().get("CPU", 1)))
        refs = [task.remote(cmd, str(REPO_ROOT)) for cmd in commands(count)]
        outcomes = []
        for ref in refs:
            try:
                outcomes.append(ray.get(ref))
            except Exception as exc:  # noqa: BLE001 - a chunk that failed all its retries: report, go on
                outcomes.append({"returncode": -1, "error": f"ray: {type(exc).__name__}: {str(exc)[:200]}"})
        return outcomes
    finally:
        ray.shutdown()


def _lost_message(outcomes: list[dict]) -> str:
    bad = [o for o in outcomes if o.get("returncode") not in (0, 1)]
    if not bad:
        return ""
    o = bad[0]
    code = o.get("returncode")
    how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit code {code}"
    return f"worker {how} before this item finished" + (f": {o['error']}" if o.get("error") else "")


def run_job(
    job: Job,
    items: list[BatchItem],
    executor: str = "local",
    jobs: int = 1,
    force: bool = False,
    address: str | None = None,
    retries: int = 2,
    chunks: int | None = None,
    output_root: str | None = None,
    show_progress: bool = False,
    contact_sheet: bool = True,
) -> dict[str, Any]:
    """Coordinate a whole run: clean stale temporaries, open the run, run the chunks on `executor`, show
    progress, close the run (items whose worker died are failed), write the contact sheet; returns the report."""
    report = Report(job)
    clean_stale_temps(job.output)
    run_id = new_run_id()
    todo = report.begin(run_id, executor, items, force)

    def commands(count: int) -> list[list[str]]:
        return [chunk_command(job, chunk, run_id, force, output_root) for chunk in make_chunks(todo, count)]

    outcomes: list[dict] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            if not todo:
                return
            if executor == "per-item":
                outcomes.extend(_run_per_item(job, todo, run_id, jobs))
            elif executor == "ray":
                outcomes.extend(_run_ray(commands, chunks, address, jobs, retries))
            else:
                outcomes.extend(_run_local(commands(chunks or jobs), jobs, retries))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the coordinator's thread below
            failure.append(exc)

    progress = BatchProgress(len(todo), show_progress)
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(1.0)
        counts = report.run_status(run_id)
        progress(counts.get("done", 0) + counts.get("failed", 0), counts.get("failed", 0))
    if failure:
        raise failure[0]
    data = report.finish(run_id, items, _lost_message(outcomes))
    clean_stale_temps(job.output)  # workers are all gone now: what a killed one left behind goes
    counts = data["runs"][-1]
    progress(counts.get("done", 0) + counts.get("failed", 0), counts.get("failed", 0))
    if contact_sheet:
        write_job_contact_sheet(job, data)
    return data


def collect(job: Job, items: list[BatchItem]) -> dict[str, Any]:
    """After a farm's shards: remove stale temporaries, settle the report (an item without its PNG is failed,
    keeping the error a shard recorded) and write the contact sheet. Renders nothing; only run it when no
    shard of the job is running."""
    clean_stale_temps(job.output)
    run_id = new_run_id()
    with Report(job).edit() as data:
        for item in items:
            entry = data["items"][item.id]
            if item.done():
                if entry["status"] not in ("done", "skipped"):
                    data["items"][item.id] = {"status": "done", "png": str(item.png), "run": run_id}
            elif entry["status"] != "failed":
                data["items"][item.id] = {
                    "status": "failed",
                    "error": "not rendered by any task",
                    "run": run_id,
                }
        state = {
            s: sum(e["status"] == s for e in data["items"].values()) for s in ("done", "skipped", "failed")
        }
        data["runs"] = data["runs"][-(KEEP_RUNS - 1) :] + [
            {
                "id": run_id,
                "executor": "collect",
                "started": now(),
                "finished": now(),
                "items": len(items),
                **state,
            }
        ]
    write_job_contact_sheet(job, data)
    return data


def write_job_contact_sheet(job: Job, data: dict[str, Any]) -> list[Path]:
    """The contact sheet(s) of the job's stills, labelled, failed ones marked."""
    from pipeline.app.contact_sheet import Cell, write_contact_sheets

    cells = []
    for item in job.items:
        entry = data["items"].get(item.id, {})
        garment_body, _, rest = item.id.rpartition("/")
        top = garment_body or item.id
        cells.append(
            Cell(
                top,
                rest if garment_body else "",
                item.png if item.png.is_file() else None,
                entry.get("status", ""),
            )
        )
    return write_contact_sheets(cells, job.output / "contact_sheet.png")

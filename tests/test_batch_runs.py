"""Catalog runs that render (tiny Workbench stills of the sample garments on anny's default body): a failed item
never loses the others; kill -9 at random moments leaves only whole stills and a consistent report; a Ray
cluster of two nodes on loopback (127.0.0.2) finishes the job when its worker node is killed mid-item; OpenJD runs it."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import pytest
from conftest import REPO_ROOT

from pipeline.app.batch import load_job

TINY = {"engine": "workbench", "width": 64, "height": 80, "samples": 1}
GARMENTS = [str(REPO_ROOT / "garments" / "tshirt.obj"), str(REPO_ROOT / "garments" / "skirt.obj")]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _job(tmp_path: Path, views: list[str], garments: list[str] = GARMENTS) -> Path:
    job = {"version": 2, "output": "out", "garments": garments, "bodies": ["default"], "views": views}
    path = tmp_path / "job.json"
    path.write_text(json.dumps({**job, "render": TINY}))
    return path


def _batch(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "batch", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(pids: list[int]) -> list[int]:
    """The pids and all their descendants (a snapshot)."""
    kids, out, todo = _children(), [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _check_outputs(job_path: Path) -> dict:
    """Every item has exactly one whole PNG (and its sidecar), no temporary or extra file is left, and the
    report lists every item as done or skipped with its path. Returns the report."""
    job = load_job(job_path)
    expected = {job.report_path, job.output / "batch_report.lock", job.output / "contact_sheet.png"}
    for item in job.items:
        image = cv2.imread(str(item.png), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.shape[:2] == (80, 64), f"{item.id}: PNG missing or broken"
        assert json.loads(item.sidecar.read_text())["png"] == str(item.png)
        expected |= {item.png, item.sidecar}
    found = {p for p in job.output.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert found == expected, f"unexpected files: {sorted(map(str, found - expected))}"
    report = json.loads(job.report_path.read_text())
    assert set(report["items"]) == {it.id for it in job.items}
    for item in job.items:
        entry = report["items"][item.id]
        assert entry["status"] in ("done", "skipped") and entry["png"] == str(item.png), entry
    return report


def test_failed_item_keeps_done_ones_bodies_are_built_once_per_job_and_reruns_skip(tmp_path):
    broken = tmp_path / "broken.obj"
    broken.write_text("v 0 0 0\nthis is not an obj\n")
    job = {"version": 2, "output": "out", "garments": [GARMENTS[0], str(broken)], "bodies": ["female-M"]}
    path = tmp_path / "job.json"
    path.write_text(json.dumps({**job, "views": ["front", "back"], "render": TINY}))
    good, bad = "tshirt/female-M/default_front", "broken/female-M/default_front"
    first = _batch(str(path), "--items", f"{good},{bad}")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 1 and f"error: item {bad}: " in err, err
    assert "bodies built 1, loaded from the job's cache 0" in err
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert report["items"][bad]["status"] == "failed" and "\n" not in report["items"][bad]["error"]
    assert report["items"][good]["status"] == "done"
    png = tmp_path / "out" / "tshirt" / "female-M" / "default_front.png"
    stamp = png.stat().st_mtime_ns
    second = _batch(str(path), "--items", "tshirt/female-M/default_back")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0 and "bodies built 0, loaded from the job's cache 1" in err, err
    third = _batch(str(path))
    _, err = third.communicate(timeout=300)
    assert third.returncode == 1 and err.count("error: item broken/") == 2, err
    assert png.stat().st_mtime_ns == stamp, "a done item was redone"
    report = json.loads((tmp_path / "out" / "batch_report.json").read_text())
    assert report["items"][good] == {"status": "skipped", "png": str(png), "run": report["runs"][-1]["id"]}
    assert report["runs"][-1] | {"done": 0, "skipped": 2, "failed": 2} == report["runs"][-1]


def test_kill_9_at_random_moments_leaves_only_whole_stills(tmp_path):
    path = _job(tmp_path, ["front", "back", "side"])
    rng = random.Random(15)
    for _ in range(10):
        proc = _batch(str(path))
        time.sleep(rng.uniform(0.5, 9.0))
        workers = _tree([proc.pid])[1:]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), "a worker outlived its killed batch"
        for png in (tmp_path / "out").rglob("*.png"):
            if not png.name.startswith("."):
                assert cv2.imread(str(png)) is not None, f"{png} is not a whole PNG"
    final = _batch(str(path))
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    report = _check_outputs(path)
    assert (
        len(report["runs"]) <= 11 and report["runs"][-1]["finished"]
    )  # a run killed while starting leaves none
    assert all(r.get("interrupted") for r in report["runs"][:-1] if not r["finished"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_finishes_the_job_when_a_worker_node_dies_mid_item(tmp_path):
    temp = tempfile.mkdtemp(prefix="rb", dir="/tmp")  # short: Ray's socket paths must stay under 107 bytes
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}  # nothing written to ~/.ray
    port, node_port = _free_port(), _free_port()
    common = [
        "--num-cpus=1",
        "--node-ip-address=127.0.0.2",
        "--object-store-memory=80000000",
        f"--temp-dir={temp}",
    ]
    started: list[int] = []
    try:
        for extra in (
            ["--head", f"--port={port}", "--include-dashboard=false", "--disable-usage-stats"],
            [f"--address=127.0.0.2:{port}", f"--node-manager-port={node_port}"],
        ):
            out = subprocess.run(
                [str(BIN / "ray"), "start", *extra, *common],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        path = _job(tmp_path, ["front", "back"])
        driver = _batch(
            str(path), "--executor", "ray", "--address", f"127.0.0.2:{port}", "--chunks", "2", env=env
        )
        started.append(driver.pid)
        node = [
            p
            for p in _tree([1])
            if f"--node_manager_port={node_port}" in _cmdline(p) and "raylet" in _cmdline(p)
        ]
        assert len(node) == 1, "the worker node's raylet was not found"
        deadline = time.monotonic() + 180
        chunk_on_node = []
        while time.monotonic() < deadline and driver.poll() is None:
            chunk_on_node = [p for p in _tree(node) if "--items" in _cmdline(p)]
            if chunk_on_node and list((tmp_path / "out").rglob("default_*.png")):
                break
            time.sleep(0.2)
        assert chunk_on_node, "no chunk ran on the worker node"
        mid = [p for p in _tree(node) if "--items" in _cmdline(p)]
        assert mid, "the worker node's chunk ended before it could be killed"
        for pid in _tree(node):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, err = driver.communicate(timeout=300)
        assert driver.returncode == 0, err
        report = _check_outputs(path)
        run = report["runs"][-1]
        # an item whose PNG landed just before the kill is skipped by the retried chunk, not rendered twice
        assert run["executor"] == "ray" and run["failed"] == 0 and run["done"] + run["skipped"] == 4, run
    finally:
        victims = [p for p in _tree([1]) if temp in _cmdline(p)] + started
        for pid in _tree(victims):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_openjd_run_renders_a_two_item_job(tmp_path):
    path = _job(tmp_path, ["front", "back"], GARMENTS[:1])
    out = subprocess.run(
        [
            str(BIN / "openjd"),
            "run",
            str(REPO_ROOT / "jobs" / "openjd" / "catalog.yaml"),
            "-p",
            f"JobFile={path}",
            "-p",
            "Chunks=2",
            "-p",
            f"RepoDir={REPO_ROOT}",
            "-p",
            f"Python={sys.executable}",
            "--step",
            "Collect",
            "--run-dependencies",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    report = _check_outputs(path)
    shards = [r for r in report["runs"] if r["executor"].startswith("shard")]
    assert sorted(r["executor"] for r in shards) == ["shard 1/2", "shard 2/2"]
    assert report["runs"][-1]["executor"] == "collect" and report["runs"][-1]["failed"] == 0

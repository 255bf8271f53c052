"""Catalog batch throughput: stills per hour for one 12-item job (2 garments x 2 ANSUR II people x 3 views),
run four ways on this machine in the same run:

1. today's path: one `tryon` process per item (a fresh Python, bpy, torch, anny, body fit each time), 1 at a time;
2. one warm worker (`--jobs 1`): bpy/anny loaded once, each body fitted once, each garment fitted once per body;
3. a local pool of 2 warm workers (`--jobs 2`);
4. a 2-node Ray cluster on loopback, 127.0.0.2 (one CPU per node, `--executor ray --chunks 2`): its overhead against (3).

Then the steady-state time per still at catalog quality (1080x1350, Cycles 32 samples, denoised) in a warm
worker, for the README's "Scale on paper". The bodies are two real ANSUR II soldiers (a woman and a man,
measurement files written from their CSV rows); the garments are the project's sample T-shirt and skirt.

    .venv/bin/python bench/bench_batch.py [--quick]      (--quick: skip the catalog-quality stage)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.core.body.data.ansur import ANSUR_NAMES, ansur_table  # noqa: E402

PY = sys.executable
RENDER = {"engine": "cycles", "width": 216, "height": 270, "samples": 8}
CATALOG = {"engine": "cycles", "width": 1080, "height": 1350, "samples": 32}


def ansur_person(sex: str, row_index: int, folder: Path) -> Path:
    """A measurements file (cm) for one ANSUR II subject."""
    table = ansur_table(sex)
    obj = {"unit": "cm", "sex": sex}
    for name in ANSUR_NAMES:
        key = "bust_girth" if name == "chest_girth" and sex == "female" else name
        obj[key] = round(float(table[name][row_index]), 1)
    path = folder / f"ansur-{sex}-{row_index}.json"
    path.write_text(json.dumps(obj))
    return path


def write_job(folder: Path, bodies: list[str], views: list[str], render: dict, garments=None) -> Path:
    job = {
        "version": 2,
        "output": "out",
        "garments": garments or [str(REPO / "garments" / "tshirt.obj"), str(REPO / "garments" / "skirt.obj")],
        "bodies": bodies,
        "views": views,
        "render": render,
    }
    path = folder / "job.json"
    path.write_text(json.dumps(job))
    return path


def run_batch(job: Path, *args: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(
        [PY, "-m", "pipeline", "batch", str(job), *args], cwd=REPO, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    report = json.loads((job.parent / "out" / "batch_report.json").read_text())
    if out.returncode != 0 or report["runs"][-1].get("done") != len(report["items"]):
        sys.exit(f"bench run failed ({' '.join(args)}): {out.stderr[-1500:]}")
    return seconds


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def ray_cluster():
    """A head and a second worker node on loopback (127.0.0.2: Ray swaps 127.0.0.1 for the host address), one CPU each; stopped (by pid) on exit."""
    temp = tempfile.mkdtemp(prefix="rb", dir="/tmp")
    port, node_port = _free_port(), _free_port()
    common = [
        "--num-cpus=1",
        "--node-ip-address=127.0.0.2",
        "--object-store-memory=80000000",
        f"--temp-dir={temp}",
    ]
    os.environ["RAY_AUTH_MODE"] = "disabled"  # for the nodes and the driver: no token written to ~/.ray
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    try:
        for extra in (
            ["--head", f"--port={port}", "--include-dashboard=false", "--disable-usage-stats"],
            [f"--address=127.0.0.2:{port}", f"--node-manager-port={node_port}"],
        ):
            out = subprocess.run(
                [str(Path(PY).parent / "ray"), "start", *extra, *common],
                env=env,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                sys.exit(f"ray start failed: {out.stdout[-1500:]}{out.stderr[-1500:]}")
        yield f"127.0.0.2:{port}"
    finally:
        pids = [
            int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and temp in _cmdline(int(p.name))
        ]
        kids = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split()
        pairs = list(zip(map(int, kids[::2]), map(int, kids[1::2]), strict=True))
        todo = list(pids)
        while todo:
            parent = todo.pop()
            for pid, ppid in pairs:
                if ppid == parent and pid not in pids:
                    pids.append(pid)
                    todo.append(pid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def per_hour(n: int, seconds: float) -> float:
    return n / seconds * 3600


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the catalog-quality stage")
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip stages 1 and 2 (the pool vs Ray ratio only)"
    )
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    people = [ansur_person("female", 0, root), ansur_person("male", 0, root)]
    views = ["front", "three-quarter", "back"]
    rows = []

    def fresh(name: str) -> Path:
        folder = root / name
        folder.mkdir()
        return write_job(folder, [str(p) for p in people], views, RENDER)

    print(
        f"12-item job: 2 garments x 2 ANSUR II people x 3 views, Cycles {RENDER['samples']} spp "
        f"{RENDER['width']}x{RENDER['height']}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}"
    )
    if not args.no_baseline:
        t_old = run_batch(fresh("per_item"), "--executor", "per-item", "--jobs", "1")
        rows.append(("one process per item (today), 1 at a time", t_old))
        t_warm = run_batch(fresh("warm1"), "--jobs", "1")
        rows.append(("one warm worker", t_warm))
    t_pool = run_batch(fresh("pool2"), "--jobs", "2")
    rows.append(("local pool, 2 warm workers", t_pool))
    with ray_cluster() as address:
        t_ray = run_batch(fresh("ray2"), "--executor", "ray", "--address", address, "--chunks", "2")
    rows.append(("Ray, 2 nodes on loopback (1 CPU each)", t_ray))
    for name, seconds in rows:
        print(f"{name:<44} {seconds:7.1f} s  {per_hour(12, seconds):7.0f} stills/h")
    if not args.no_baseline:
        print(f"warm worker vs today's path: {t_old / t_warm:.2f}x stills per hour")
    print(f"2-node Ray vs local pool of 2 (time ratio, same run): {t_ray / t_pool:.2f}")
    if args.quick:
        return
    folder = root / "catalog"
    folder.mkdir()
    job = write_job(folder, [str(people[0])], views, CATALOG, [str(REPO / "garments" / "tshirt.obj")])
    run_batch(job, "--jobs", "1")
    report = json.loads((folder / "out" / "batch_report.json").read_text())
    secs = [e["seconds"] for e in report["items"].values()]
    print(
        f"catalog quality (1080x1350 Cycles 32 spp, denoised, CPU): per still {secs} s; steady state "
        f"{statistics.median(secs[1:]):.1f} s (the first also pays the start, body and garment fit)"
    )


if __name__ == "__main__":
    main()

"""Bench: what the header checks cost and what they save.

1. Face counting: a generated OBJ of N faces (default 5,000,000, ~200 MB) counted line by line by the
   sniffer, against the old size/30 estimate of the same file (the baseline), in the same run: the count must
   be exact, the estimate is printed with its error.
2. Refusal latency: the hostile inputs of the issue (PLY claiming 4e9 vertices, a 288-byte GLB with a 600M
   accessor, a 3 KB garbage FBX, a 25000x25000 PNG header, deep JSON) refused by `python -m pipeline`, against
   the same CLI cleaning a small valid garment end to end (the baseline: what a refusal no longer costs).

    .venv/bin/python bench/bench_hostile.py [--faces 5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "hostile"))


def write_big_obj(path: Path, faces: int) -> None:
    """A strip of quads split into triangles: faces/2 + 2 vertex pairs, written in blocks (bounded memory)."""
    cols = faces // 2 + 1
    with open(path, "w") as fh:
        for start in range(0, cols, 200_000):
            x = np.arange(start, min(cols, start + 200_000)) * 1e-4
            fh.write("".join(f"v {a:.4f} 0 0\nv {a:.4f} 0.1 0\n" for a in x))
        for start in range(0, faces // 2, 200_000):
            i = np.arange(start, min(faces // 2, start + 200_000)) * 2 + 1
            fh.write("".join(f"f {a} {a + 2} {a + 1}\nf {a + 1} {a + 2} {a + 3}\n" for a in i))


def bench_count(faces: int, folder: Path) -> None:
    from pipeline.core.garment.refs_obj import scan_obj

    path = folder / "big.obj"
    t = time.perf_counter()
    write_big_obj(path, faces)
    size = path.stat().st_size
    print(f"generated {faces:,}-face OBJ: {size / 2**20:.0f} MB in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    counted, _ = scan_obj(path)
    seconds = time.perf_counter() - t
    estimate = size // 30
    print(
        f"  counted (sniffer): {counted:,} faces in {seconds:.2f} s ({size / 2**20 / seconds:.0f} MB/s), exact: {counted == faces}"
    )
    print(
        f"  estimated (baseline size/30): {estimate:,} faces, off by {100 * (estimate - faces) / faces:+.0f} %"
    )


def _cli(argv: list[str], cwd: Path) -> tuple[int, float, float, str]:
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *argv],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return proc.returncode, time.perf_counter() - t, max(peak, before) / 1024, proc.stderr.strip()[:90]


def bench_refusals(folder: Path) -> None:
    from hostile_cases import refused_cases, tube_obj

    valid = folder / "valid" / "g.obj"
    valid.parent.mkdir()
    valid.write_text(tube_obj())
    code, seconds, _, _ = _cli(["clean", str(valid), "--out", str(folder / "valid" / "c.glb")], folder)
    print(f"baseline: clean of a valid 224-face garment, exit {code}: {seconds:.2f} s")
    cases = refused_cases()
    for name in (
        "ply-4e9-vertices",
        "glb-accessor-bomb",
        "fbx-garbage-3kb",
        "rgbd-png-bomb",
        "meas-100k-deep",
        "meas-huge-file",
        "obj-mtllib-fifo" if "obj-mtllib-fifo" in cases else "obj-fifo",
    ):
        case = folder / name
        (case / "tmp").mkdir(parents=True)
        argv = cases[name](case)
        code, seconds, _, err = _cli(argv, case)
        print(f"  {name:22s} exit {code} in {seconds:.2f} s: {err}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=5_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        bench_count(args.faces, Path(tmp))
        bench_refusals(Path(tmp))
    print(json.dumps({"faces": args.faces}))


if __name__ == "__main__":
    main()

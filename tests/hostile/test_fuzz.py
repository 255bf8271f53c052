"""A bounded fuzz run (atheris/libFuzzer, about 60 s with start-up) of the file sniffing and the JSON schemas
(`fuzz_inputs.py`), seeded with valid and hostile files from the corpus generators. TRYON_FUZZ_SECONDS
changes its length (0 skips it); the seed is fixed (TRYON_FUZZ_SEED, default 1) so a failure reproduces, and
longer runs with other seeds belong on a developer's machine (see fuzz_inputs.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_cases import TRIANGLE, _fbx, _fbx_node, _glb, _png, _triangle_doc, tube_gltf, tube_obj

REPO_ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("TRYON_FUZZ_SECONDS", "50"))


def _seeds(folder: Path) -> None:
    """One file per target: the first byte picks the target (see fuzz_inputs.test_one_input)."""
    suffixes = sorted(
        [".blend", ".fbx", ".glb", ".gltf", ".obj", ".ply", ".stl", ".usd", ".usda", ".usdc", ".usdz"]
    )
    garments = {
        ".obj": ("mtllib g.mtl\n" + tube_obj(3, 4)).encode(),
        ".ply": b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
        b"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
        ".glb": _glb(_triangle_doc({"byteLength": 36}), TRIANGLE),
        ".gltf": json.dumps(tube_gltf()).encode()[:4000],
        ".fbx": _fbx(lambda o: _fbx_node(b"Objects", b"I\x01\x00\x00\x00", 1, o)),
        ".stl": b"\0" * 80 + (1).to_bytes(4, "little") + b"\0" * 50,
        ".usdc": b"PXR-USDC" + b"\0" * 8 + (24).to_bytes(8, "little") + b"\0" * 16,
        ".blend": b"BLENDER-v500REND" + b"\0" * 16,
    }
    for suffix, data in garments.items():
        kind = next(k for k in range(160) if suffixes[k % len(suffixes)] == suffix)
        (folder / f"seed{suffix}").write_bytes(bytes([kind]) + data)
    (folder / "seed_png_in_obj").write_bytes(bytes([suffixes.index(".obj")]) + _png(4, 4))
    jsons = [
        (160, {"unit": "cm", "stature": 168, "waist_girth": 74, "hip_girth": 99}),
        (
            161,
            {"width": 64, "height": 48, "fx": 60.0, "fy": 60.0, "ppx": 32, "ppy": 24, "depth_scale": 0.001},
        ),
        (162, {"version": 1, "output": "out", "items": [{"id": "a", "garment": "g.obj", "fabric": "denim"}]}),
    ]
    for kind, obj in jsons:
        (folder / f"seed_json_{kind}").write_bytes(bytes([kind]) + json.dumps(obj).encode())


@pytest.mark.skipif(SECONDS <= 0, reason="TRYON_FUZZ_SECONDS=0")
def test_fuzz_sniffing_and_schemas(tmp_path):
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _seeds(corpus)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TMPDIR=str(tmp_path))
    proc = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("fuzz_inputs.py")),
            f"-max_total_time={SECONDS}",
            f"-seed={os.environ.get('TRYON_FUZZ_SEED', '1')}",
            "-max_len=8192",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            str(corpus),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
    )
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    assert "Done" in proc.stderr and "stat::number_of_executed_units" in proc.stderr, tail

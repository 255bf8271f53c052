"""Garment import in a child process with memory and time limits: Blender's importers are C code that a crafted
file can drive into gigabytes of allocations, an abort or a loop, so the CLI runs them in
`python -m pipeline import-garment` under `RLIMIT_AS` and a timeout and gets the arrays back in an .npz.
A crash, an out-of-memory or a timeout in the child is one error line here (the file's fault: exit 2).

Inside the Blender application (the add-on) the import runs in-process: the user opened the file there."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.scratch import ENV as SCRATCH_ENV
from pipeline.core.scratch import adopt
from pipeline.core.untrusted import clip

MEMORY_MB = int(os.environ.get("TRYON_IMPORT_MEMORY_MB", "6144"))  # bpy alone maps ~1.3 GB
TIMEOUT_S = float(os.environ.get("TRYON_IMPORT_TIMEOUT_S", "600"))
_ARRAYS = ("vertices", "faces", "uv", "face_uv", "vertex_colors")


def save_import(path: str | os.PathLike, mesh: GarmentMesh, info: dict) -> None:
    """Write an imported garment and its import info for the parent process."""
    arrays = {k: getattr(mesh, k) for k in _ARRAYS if getattr(mesh, k) is not None}
    meta = {
        "texture_path": mesh.texture_path,
        "base_color": list(mesh.base_color),
        "name": mesh.name,
        "info": info,
    }
    np.savez(path, meta_json=np.array(json.dumps(meta)), **arrays)


def load_import(path: str | os.PathLike) -> tuple[GarmentMesh, dict]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta_json"]))
        arrays = {k: z[k] for k in _ARRAYS if k in z.files}
    texture = meta["texture_path"]
    if texture and Path(texture).is_relative_to(Path(path).parent) and Path(texture).is_file():
        texture = str(adopt(texture, "tex-"))  # unpacked by the child into the folder about to be removed
    mesh = GarmentMesh(
        **arrays,
        texture_path=texture,
        base_color=tuple(meta["base_color"]),
        name=meta["name"],
    )
    return mesh, meta["info"]


def _in_blender_app() -> bool:
    bpy = sys.modules.get("bpy")
    return bool(bpy is not None and getattr(bpy.app, "binary_path", ""))


def _limit(memory_mb: int):
    def apply() -> None:
        os.setsid()  # its own process group, so a timeout kills everything it started
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = memory_mb * 2**20
        cap = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def import_garment_limited(
    path: str | os.PathLike,
    object_name: str | None = None,
    max_faces: int = 3_000_000,
    allowed_dirs: tuple[str | os.PathLike, ...] = (),
    memory_mb: int | None = None,
    timeout_s: float | None = None,
) -> tuple[GarmentMesh, dict]:
    """Import a garment file (file units, Blender axes) in a limited child process; returns the mesh and the
    import info (format, objects, warnings, welded_vertices). The child checks the file first; callers that
    want a refusal without starting Blender call `check_garment_input` before."""
    if _in_blender_app() or os.environ.get("TRYON_IMPORT_IN_PROCESS") == "1":
        import dataclasses

        from pipeline.blender.importers import import_garment_info

        mesh, info = import_garment_info(path, object_name, max_faces, allowed_dirs)
        return mesh, dataclasses.asdict(info)
    memory_mb = memory_mb or MEMORY_MB
    timeout_s = timeout_s or TIMEOUT_S
    with tempfile.TemporaryDirectory(prefix="tryon-import-") as tmp:
        out = Path(tmp) / "garment.npz"
        cmd = [sys.executable, "-m", "pipeline", "import-garment", str(path), "--out", str(out)]
        cmd += ["--max-faces", str(max_faces)]
        cmd += ["--object", object_name] if object_name else []
        for d in allowed_dirs:
            cmd += ["--allow-dir", str(d)]
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the `pipeline` package
        path_var = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(
            os.environ, TRYON_IMPORT_IN_PROCESS="1", PYTHONPATH=path_var, TMPDIR=tmp, **{SCRATCH_ENV: tmp}
        )
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=_limit(memory_mb),
        )
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise UserError(
                f"importing {clip(Path(path).name)} took over {timeout_s:g} s (the import time limit; "
                f"TRYON_IMPORT_TIMEOUT_S raises it)"
            ) from None
        text = err.decode("utf-8", "replace")
        if proc.returncode == 0 and out.is_file():
            return load_import(out)
        lines = [ln for ln in text.splitlines() if ln.startswith("error: ")]
        if proc.returncode == 2 and lines:
            raise UserError(lines[-1].removeprefix("error: "))
        raise UserError(
            f"could not import {clip(Path(path).name)}: the importer crashed or ran out of its {memory_mb:,} MB "
            f"memory limit (exit {proc.returncode}; TRYON_IMPORT_MEMORY_MB raises it)"
        )

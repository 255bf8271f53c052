"""Which Python runs what: torch/mediapipe/pyrealsense2 steps run in the project's venv, in-process when
this Python has them, otherwise as a worker process (`python -m pipeline VERB ...`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.core.deps import SETUP_HINT, has_module, project_dir
from pipeline.core.errors import InternalError, MissingEnvironmentError, UserError


def use_worker_for(module: str) -> bool:
    """True when a step needing `module` must run in a worker process (module missing here, or forced)."""
    return os.environ.get("TRYON_WORKER") == "1" or not has_module(module)


def pipeline_python() -> str:
    """The Python of the project's environment, for worker processes."""
    explicit = os.environ.get("TRYON_PYTHON")
    if explicit:
        if not Path(explicit).is_file():
            raise MissingEnvironmentError(f"TRYON_PYTHON={explicit} does not exist; {SETUP_HINT}")
        return explicit
    venv = project_dir() / ".venv" / "bin" / "python"
    if venv.is_file():
        return str(venv)
    if all(has_module(m) for m in ("torch", "anny")):
        return sys.executable
    raise MissingEnvironmentError(f"the pipeline environment (torch, anny) was not found; {SETUP_HINT}")


def run_worker(argv: list[str], step: str) -> None:
    """Run `python -m pipeline ARGV` in the project's environment; its one-line error becomes ours."""
    cmd = [pipeline_python(), "-m", "pipeline", *argv]
    env = dict(os.environ)
    env.pop("TRYON_WORKER", None)
    env["PYTHONPATH"] = str(project_dir()) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, cwd=project_dir(), env=env, capture_output=True, text=True)
    if proc.returncode == 0:
        return
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else f"exit code {proc.returncode}"
    if proc.returncode == 2:
        raise UserError(f"{step}: {last.removeprefix('error: ')}")
    raise InternalError(f"{step} failed in the worker process ({' '.join(cmd[2:])}): {last}")

"""One worker call: `call(step, **inputs)` runs a named core step here when this Python has what the step
needs (torch, anny, mediapipe...), else in the project's environment as `python -m pipeline worker-step`.

Blender's own Python has numpy only, so the add-on and `blender -P pipeline/cli.py` hand the numeric steps
to the project's `.venv`. Inputs and outputs cross the process boundary through one versioned codec
(`pipeline.core.codec`): a JSON skeleton plus an .npz of arrays, never pickle. A worker never delegates
again: `TRYON_IN_WORKER=1` is set in its environment and `call` refuses to start another from there.
Progress lines the worker prints go to the caller's progress callback.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.core import codec
from pipeline.core.deps import SETUP_HINT, has_module, project_dir
from pipeline.core.errors import InternalError, MissingEnvironmentError, UserError
from pipeline.core.progress import ProgressCallback, silent

IN_WORKER = "TRYON_IN_WORKER"
FORCE_WORKER = "TRYON_WORKER"  # "1": run every step in a worker process (tests, debugging)
WORKER_VERB = "worker-step"
PROGRESS_PREFIX = "@progress "


@dataclasses.dataclass(frozen=True)
class Step:
    """A core step a worker can run: the function (`module:name`) and the packages it needs."""

    target: str
    needs: tuple[str, ...]
    label: str

    def function(self) -> Callable[..., Any]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


STEPS: dict[str, Step] = {
    "fit-body": Step("pipeline.core.body.avatar_body:fit_body", ("torch", "anny"), "building the avatar"),
    "dress": Step("pipeline.app.tryon:dress", ("torch", "anny", "scipy"), "fitting the garment"),
    "fit-on-avatar": Step(
        "pipeline.app.fit_job:fit_on_avatar", ("torch", "anny", "scipy"), "fitting the garment"
    ),
    "measure": Step(
        "pipeline.app.measure_job:measure_capture", ("torch", "anny", "mediapipe", "cv2"), "measuring"
    ),
    "synth-capture": Step(
        "pipeline.app.synth_capture:synth_capture", ("torch", "anny", "cv2", "pyrealsense2"), "recording"
    ),
    "train-initialiser": Step(
        "pipeline.app.train_job:train_initialiser", ("torch", "anny"), "training the initialiser"
    ),
}


def runs_here(step: str) -> bool:
    """True when `step` runs in this process: its packages are here and no worker is forced."""
    forced = os.environ.get(FORCE_WORKER) == "1" and os.environ.get(IN_WORKER) != "1"
    return not forced and all(has_module(m) for m in _step(step).needs)


def call(step: str, progress: ProgressCallback = silent, **inputs: Any) -> Any:
    """Run core step `step` with `inputs` (keyword arguments of its function) and return its result.

    In this process when it has the step's packages, otherwise in the project's environment. A UserError
    raised in the worker comes back as a UserError with the same one-line message."""
    spec = _step(step)
    if runs_here(step):
        return spec.function()(**inputs, progress=progress)
    if os.environ.get(IN_WORKER) == "1":
        raise InternalError(
            f"worker step '{step}' lacks {', '.join(spec.needs)}: a worker never delegates again"
        )
    with tempfile.TemporaryDirectory(prefix="tryon-worker-") as tmp:
        request, reply = Path(tmp) / "inputs", Path(tmp) / "result"
        codec.save(request, inputs)
        _run_worker_process(step, request, reply, progress)
        return codec.load(reply)


def run_step(step: str, request: Path, reply: Path) -> None:
    """The worker side (`python -m pipeline worker-step STEP IN OUT`): decode, run, encode."""
    os.environ[IN_WORKER] = "1"
    inputs = codec.load(request)

    def report(fraction: float, message: str = "") -> None:
        print(PROGRESS_PREFIX + json.dumps([round(float(fraction), 4), str(message)[:120]]), flush=True)

    codec.save(reply, _step(step).function()(**inputs, progress=report))


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


def _step(step: str) -> Step:
    try:
        return STEPS[step]
    except KeyError:
        raise InternalError(f"unknown worker step '{step}'; known: {', '.join(STEPS)}") from None


def _run_worker_process(step: str, request: Path, reply: Path, progress: ProgressCallback) -> None:
    """Start the worker, relay its progress lines, and turn its one-line error into ours."""
    cmd = [pipeline_python(), "-m", "pipeline", WORKER_VERB, step, str(request), str(reply)]
    env = dict(os.environ, **{IN_WORKER: "1"})
    env.pop(FORCE_WORKER, None)
    env["PYTHONPATH"] = str(project_dir()) + os.pathsep + env.get("PYTHONPATH", "")
    label = STEPS[step].label
    progress(0.02, f"{label} in the pipeline environment")
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        proc = subprocess.Popen(
            cmd, cwd=project_dir(), env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(PROGRESS_PREFIX):
                fraction, message = json.loads(line[len(PROGRESS_PREFIX) :])
                progress(fraction, message)
        code = proc.wait()
        errors.seek(0)
        lines = [ln for ln in errors.read().strip().splitlines() if ln.strip()]
    if code == 0:
        return
    last = lines[-1] if lines else f"exit code {code}"
    if code == 2:
        raise UserError(last.removeprefix("error: "))
    raise InternalError(f"{label} failed in the worker process (step {step}): {last}")

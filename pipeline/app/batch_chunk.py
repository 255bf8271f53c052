"""Run one chunk's command line as a child process that dies with its parent (stdlib only, so a Ray worker can
import it cheaply). A local pool thread and a Ray task both call `run_chunk_command`."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGKILL when its parent dies, so a killed batch or Ray worker leaves no orphan
    still writing into the output folder."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    if os.getppid() == 1:  # the parent is already gone
        os._exit(137)


def run_chunk_command(cmd: list[str], cwd: str | None = None, env: dict[str, str] | None = None) -> dict:
    """Run `cmd` to the end; returns its exit code, pid and the last lines of its stderr."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent,
    )
    _, err = proc.communicate()
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    return {
        "returncode": proc.returncode,
        "pid": proc.pid,
        "error": (errors[-1] if errors else (err.strip().splitlines() or [""])[-1])[:400],
        "host": os.uname().nodename,
    }

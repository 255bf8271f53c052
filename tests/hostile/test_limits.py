"""The limits around untrusted input: the importer's child process under memory and time limits (one error
line when either is hit), progress on stderr only when asked, and the internal-error log (a new file of unique
name that never follows a planted link)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from hostile_cases import tube_obj

from pipeline.app import cli

REPO_ROOT = Path(__file__).resolve().parents[2]


def _clean(tmp_path: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    src = tmp_path / "g.obj"
    src.write_text(tube_obj())
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRYON_")}
    full_env.update(env or {}, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *extra, "clean", str(src), "--out", str(tmp_path / "c.glb")],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_memory_limit_is_one_line(tmp_path):
    proc = _clean(tmp_path, env={"TRYON_IMPORT_MEMORY_MB": "400"})  # bpy alone needs ~1.3 GB of address space
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "memory limit" in proc.stderr, proc.stderr
    assert not (tmp_path / "c.glb").exists()


def test_import_time_limit_is_one_line(tmp_path):
    proc = _clean(tmp_path, env={"TRYON_IMPORT_TIMEOUT_S": "0.2"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "took over 0.2 s" in proc.stderr, proc.stderr


def test_stderr_is_silent_unless_progress_is_asked(tmp_path):
    quiet = _clean(tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = _clean(tmp_path, "--progress")
    assert loud.returncode == 0 and "clean:" in loud.stderr and "100%" in loud.stderr, loud.stderr


def test_internal_error_log_is_unique_and_ignores_planted_links(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    for name in ("tryon-pipeline-error.log", "tryon-pipeline-error-.log"):
        os.symlink(target, tmp_path / name)
    logs = []
    for _ in range(2):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logs.append(cli._log_internal_error())
    assert target.read_text() == "keep me"
    assert logs[0] != logs[1] and all(p.parent == tmp_path for p in logs)
    for log in logs:
        st = os.lstat(log)
        assert stat.S_ISREG(st.st_mode) and not log.is_symlink()
        assert stat.S_IMODE(st.st_mode) == 0o600  # the traceback may name private paths
        assert "RuntimeError: boom" in log.read_text()

"""Shared fixtures: paths to the repo and to ../shared/data, the anny model and a default body (built once per
session from the on-disk cache), and a fresh empty Blender scene for bpy tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
os.environ.setdefault("WARP_LOG_LEVEL", "error")

# bpy must be imported before pymeshlab (clashing Embree libraries), so import it first for every test.
import bpy  # noqa: E402,F401


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def anny_model():
    from pipeline.core.body.anny_model import load_model

    return load_model()


@pytest.fixture(scope="session")
def default_body(anny_model):
    from pipeline.core.body.anny_model import body_arrays

    return body_arrays()


@pytest.fixture
def fresh_scene():
    from pipeline.blender.blendfile import new_scene

    return new_scene()


def run_pipeline(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `python -m pipeline ARGS` in a child process (as a user would), capturing its output."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

"""Optional packages and the project folder: which heavy packages (torch, mediapipe, pyrealsense2) this Python has."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from pipeline.core.errors import MissingEnvironmentError

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_HINT = (
    "run `make setup` in the project folder and point the add-on's preferences (or TRYON_PROJECT_DIR) at it"
)


def project_dir() -> Path:
    """The project checkout whose .venv runs worker steps: $TRYON_PROJECT_DIR, else the one this code is in."""
    return Path(os.environ.get("TRYON_PROJECT_DIR") or REPO_ROOT)


def has_module(name: str) -> bool:
    """True when `name` can be imported here, without importing it."""
    return importlib.util.find_spec(name) is not None


def require(module: str, step: str) -> None:
    """Raise a one-line error when `module` is missing for `step`."""
    if not has_module(module):
        raise MissingEnvironmentError(
            f"{step} needs the Python package '{module}', which this Python lacks; {SETUP_HINT}"
        )

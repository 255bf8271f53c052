"""Error kinds the CLI and the panel turn into one clear line: a user's mistake (exit 2) or an internal failure (exit 1)."""

from __future__ import annotations


class UserError(Exception):
    """Bad argument, bad file or absurd value: shown as one line, exit code 2."""

    exit_code = 2


class MissingEnvironmentError(UserError):
    """A step needs a package (torch, mediapipe, pyrealsense2) that this Python lacks."""


class InternalError(Exception):
    """A bug or an unexpected failure in the pipeline: exit code 1."""

    exit_code = 1

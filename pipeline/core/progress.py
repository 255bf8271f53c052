"""Progress reporting shared by the CLI (a bar with ETA on stderr) and Blender (window-manager progress)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

# A callback gets (fraction done in [0, 1], message). Blender's operators pass one that drives wm.progress.
ProgressCallback = Callable[[float, str], None]


def progress_wanted(stream=None) -> bool:
    """Progress goes to stderr only on a terminal or when asked (`--progress`, TRYON_PROGRESS=1), so a
    script reading stderr sees nothing but the one `error:` line of a failure."""
    stream = stream or sys.stderr
    return os.environ.get("TRYON_PROGRESS") == "1" or (hasattr(stream, "isatty") and stream.isatty())


class TerminalProgress:
    """A one-line progress bar with ETA on stderr on a terminal; plain log lines with `--progress` when stderr
    is not a terminal; nothing otherwise."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.last_msg = ""
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = progress_wanted(self.stream)

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.enabled:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        elapsed = time.monotonic() - self.start
        eta = elapsed / fraction - elapsed if fraction > 1e-3 else float("nan")
        eta_txt = f" ETA {eta:4.0f}s" if eta == eta and fraction < 1.0 else ""
        if self.tty:
            bar = "#" * int(fraction * 24)
            self.stream.write(
                f"\r{self.label} [{bar:<24}] {fraction * 100:3.0f}%{eta_txt} {message[:40]:<40}"
            )
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
        elif message and message != self.last_msg:
            self.stream.write(f"{self.label}: {fraction * 100:3.0f}% {message} ({elapsed:.1f}s)\n")
            self.stream.flush()
        self.last_msg = message


def silent(fraction: float, message: str = "") -> None:
    """A progress callback that reports nothing."""

"""Progress reporting shared by the CLI (a bar with ETA on stderr) and Blender (window-manager progress)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

# A callback gets (fraction done in [0, 1], message). Blender's operators pass one that drives wm.progress.
ProgressCallback = Callable[[float, str], None]


class TerminalProgress:
    """A one-line progress bar with ETA on stderr; plain log lines when stderr is not a terminal."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.last_msg = ""
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, fraction: float, message: str = "") -> None:
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

"""Progress reporting shared by the CLI (a bar with ETA on stderr) and Blender (window-manager progress)."""

from __future__ import annotations

import os
import re
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


_SAMPLE = re.compile(r"Sample (\d+)/(\d+)")
_TILE = re.compile(r"(?:Rendered |Tile )(\d+)/(\d+)")
_EEVEE = re.compile(r"Rendering (\d+) / (\d+) samples")


def render_fraction(stats: str) -> tuple[float, str] | None:
    """The share done and a short text ('sample 12/32', 'tile 2/4, sample 5/16') from a render-stats line as
    Cycles and Eevee print it (bpy.app.handlers.render_stats); None for lines before the first sample."""
    sample = _SAMPLE.search(stats) or _EEVEE.search(stats)
    if sample is None:
        return None
    done, total = int(sample.group(1)), max(int(sample.group(2)), 1)
    tile = _TILE.search(stats)
    if tile is None:
        return done / total, f"sample {done}/{total}"
    t_done, t_total = int(tile.group(1)), max(int(tile.group(2)), 1)
    fraction = (min(t_done, t_total - 1) + done / total) / t_total if t_done < t_total else 1.0
    return fraction, f"tile {t_done}/{t_total}, sample {done}/{total}"


class RenderProgress:
    """Turns render-stats lines into progress calls with the render's own ETA ('rendering: sample 12/32, ETA
    8 s'), measured from the first sample so scene sync and kernel loading do not skew it."""

    def __init__(self, progress: ProgressCallback, clock: Callable[[], float] = time.monotonic) -> None:
        self.progress = progress
        self.clock = clock
        self.start: float | None = None
        self.last = -1.0

    def __call__(self, stats: str) -> None:
        parsed = render_fraction(stats)
        if parsed is None:
            return
        fraction, text = parsed
        now = self.clock()
        if self.start is None or fraction <= 0.0:
            self.start = now
        if fraction <= self.last:
            return
        self.last = fraction
        elapsed = now - self.start
        eta = f", ETA {elapsed / fraction - elapsed:.0f} s" if fraction > 0.0 and fraction < 1.0 else ""
        self.progress(fraction, f"rendering: {text}{eta}")

"""Third-party chatter kept off the terminal: libraries that print banners from C (Warp's "CUDA driver not
found" on a machine without a GPU) write straight to file descriptor 2, so Python-level redirection cannot stop
them; these helpers point the descriptors at /dev/null for the duration."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator


def flush_c_streams() -> None:
    """fflush(NULL): C code's buffered stdout (a file or pipe is fully buffered) would otherwise reach the real
    descriptor later, after a redirection has ended."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def silenced_fds(fds: tuple[int, ...] = (1, 2)) -> Iterator[None]:
    """Send what C code writes to `fds` (stdout, stderr) to /dev/null while the block runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(null, fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        flush_c_streams()
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)


@functools.lru_cache(maxsize=1)
def init_warp():
    """Import and initialise Warp quietly (no banner, no CUDA warning); the module, or None without Warp."""
    os.environ.setdefault("WARP_LOG_LEVEL", "error")
    try:
        import warp as wp
    except ImportError:
        return None
    wp.config.log_level = getattr(wp, "LOG_ERROR", 40)  # no "Module ... load on device" lines on stdout
    if hasattr(wp.config, "quiet"):  # Warp before 1.10
        wp.config.quiet = True
    with silenced_fds():
        wp.init()
    return wp

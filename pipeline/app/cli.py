"""Command line: `python -m pipeline VERB ...` or `blender -b -P pipeline/cli.py -- VERB ...`.

Each verb lives in `pipeline/app/commands/<verb>.py` with NAME, HELP, add_arguments(parser) and run(args).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import traceback
from pathlib import Path

from pipeline import __version__  # noqa: E402
from pipeline.core.errors import InternalError, UserError  # noqa: E402


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"error: {self.prog}: {one_line(message, 300)} (see --help)\n")
        sys.exit(2)


def _command_modules() -> list:
    import pipeline.app.commands as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"pipeline.app.commands.{n}") for n in names]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per verb."""
    parser = _Parser(
        prog="pipeline",
        description="Virtual try-on pipeline: avatars from measurements, garment clean-up, fitting, rendering.",
        epilog="Run `pipeline VERB --help` for a verb's options. In Blender: blender -b -P pipeline/cli.py -- VERB ...",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on failure")
    parser.add_argument(
        "--progress", action="store_true", help="report progress on stderr even when it is not a terminal"
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for mod in _command_modules():
        listed = {"help": mod.HELP} if mod.HELP else {}  # verbs with HELP = None are internal (worker steps)
        p = sub.add_parser(mod.NAME, description=mod.HELP, **listed)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks")
        p.add_argument(
            "--progress", action="store_true", default=argparse.SUPPRESS, help="progress on stderr"
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _log_internal_error() -> Path:
    """Write the traceback to a new file of unique name (never follows a planted link), and return its path."""
    fd, name = tempfile.mkstemp(prefix="tryon-pipeline-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return Path(name)


# Third-party chatter off: TensorFlow Lite / absl (mediapipe), glog. Warp is quietened where it is imported.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GLOG_minloglevel": "2", "ABSL_MIN_LOG_LEVEL": "2"}
MAX_LINE = 400


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """`text` on one line, cut to `limit` characters (a user value echoed in a message can be megabytes)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else f"{text[: limit - 30]}... ({len(text):,} chars in all)"


def main(argv: list[str] | None = None) -> int:
    """Parse `argv`, run the verb, and turn errors into one line and an exit code."""
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "verb", None):
        parser.print_help()
        return 2
    debug = getattr(args, "debug", False) or os.environ.get("TRYON_DEBUG") == "1"
    if getattr(args, "progress", False):
        os.environ["TRYON_PROGRESS"] = "1"  # worker processes inherit it
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        code = args._run(args)
        return int(code or 0)
    except UserError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {one_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - every other failure is internal: log it, one line, exit 1
        if debug:
            raise
        log = _log_internal_error()
        kind = "internal error" if not isinstance(exc, InternalError) else "failed"
        detail = one_line(f"{type(exc).__name__}: {exc}", 240)
        sys.stderr.write(f"error: {kind}: {detail} (details in {log}; --debug shows them)\n")
        return 1

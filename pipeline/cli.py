"""Blender's entry: `blender -b -P pipeline/cli.py -- VERB ...` (the CLI itself is `pipeline.app.cli`)."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by Blender (-P): make `pipeline` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.app.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

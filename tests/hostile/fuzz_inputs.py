"""Fuzz target (atheris, libFuzzer) for the code that reads untrusted input before any importer: the garment
file sniffing (`prepare_garment_file`: magic bytes, PLY/FBX/glTF/USD headers, OBJ scanning and references),
the capped JSON reader, the measurement and job-file schemas and the capture intrinsics. Anything but a
`UserError` (a one-line refusal) is a bug and stops the run with the input saved as crash-*.

    .venv/bin/python tests/hostile/fuzz_inputs.py -max_total_time=60 [CORPUS_DIR...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris
import numpy  # noqa: F401  (imported before instrumenting: only the project's own code is instrumented)

with atheris.instrument_imports(include=["pipeline"]):
    from pipeline.app.batch import load_job
    from pipeline.core import untrusted  # noqa: F401
    from pipeline.core.body.measurements import validate_measurements
    from pipeline.core.capture.frames import Intrinsics
    from pipeline.core.errors import UserError
    from pipeline.core.files import parse_json
    from pipeline.core.garment import filecheck, headers, refs_gltf, refs_obj  # noqa: F401

SUFFIXES = sorted(filecheck.FORMATS)
WORK = Path(tempfile.mkdtemp(prefix="tryon-fuzz-"))


def _garment(kind: int, data: bytes) -> None:
    path = WORK / f"g{SUFFIXES[kind % len(SUFFIXES)]}"
    path.write_bytes(data)
    filecheck.prepare_garment_file(path, max_faces=10_000).cleanup()


def _json_schemas(kind: int, data: bytes) -> None:
    obj = parse_json(data, "fuzz input")
    if kind % 3 == 0:
        validate_measurements(obj, "fuzz")
    elif kind % 3 == 1:
        Intrinsics.from_json(obj, "fuzz")
    else:
        job = WORK / "job.json"
        job.write_bytes(data)
        load_job(job)


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    kind, body = data[0], data[1:]
    try:
        if kind < 160:
            _garment(kind, body)
        else:
            _json_schemas(kind, body)
    except UserError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"a refusal of more than one line: {str(exc)[:200]!r}") from None


if __name__ == "__main__":
    sys.argv = [a if a.startswith("-") else os.path.abspath(a) for a in sys.argv]
    os.chdir(WORK)  # crash files and anything a target might write stay in the scratch folder
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

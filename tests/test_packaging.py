"""Dependencies are declared once in pyproject.toml (runtime, test and bench extras) in step with the exact
pins of requirements.txt, and the extension's wheel carries real core metadata."""

from __future__ import annotations

import re
import tomllib
import zipfile

from pipeline.app.extension import build_wheel, wheel_metadata


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if m := re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line):
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_requirements_and_pyproject_extras_agree(repo_root):
    required = _pins((repo_root / "requirements.txt").read_text().splitlines())
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = _pins(d for deps in extras.values() for d in deps)
    assert declared == required, "requirements.txt and pyproject.toml's extras differ"
    assert {"runtime", "test", "bench"} <= set(extras)
    assert "pymeshlab" in _pins(extras["bench"]) and "pymeshlab" not in _pins(extras["runtime"])


def test_wheel_has_core_metadata(tmp_path):
    text = wheel_metadata()
    for field in (
        "Name: tryon-pipeline",
        "License-Expression: GPL-3.0-or-later",
        "Requires-Python: ==3.11.*",
    ):
        assert field in text
    assert 'Requires-Dist: torch==2.13.0; extra == "runtime"' in text
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        assert zf.read(meta).decode() == text
        assert "pipeline/core/vocab.py" in zf.namelist()

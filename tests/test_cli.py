"""The command line: help for every verb, one-line errors with exit 2, the Blender (-P) entry, atomic writes."""

from __future__ import annotations

import runpy
import sys

import pytest
from conftest import REPO_ROOT, run_pipeline

from pipeline.app.cli import build_parser, main
from pipeline.core.files import atomic_path, write_json


def _verbs() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    return sorted(sub.choices)


def test_top_level_help_lists_verbs():
    proc = run_pipeline("--help")
    assert proc.returncode == 0
    for verb in ("demo", "render", "build-extension"):
        assert verb in proc.stdout


@pytest.mark.parametrize("verb", _verbs())
def test_every_verb_has_help(verb, capsys):
    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_unknown_verb_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-verb"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_bad_option_value_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "scene.blend", "--out", "x.png", "--width", "abc"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_user_error_is_one_line_without_traceback(tmp_path, capsys):
    code = main(["render", str(tmp_path / "missing.blend"), "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "not found" in err and "Traceback" not in err


def test_blender_script_entry_reads_args_after_double_dash(monkeypatch, capsys):
    """`blender -b -P pipeline/cli.py -- --help`: the script finds its args after `--`."""
    monkeypatch.setattr(
        sys, "argv", ["blender", "-b", "-P", str(REPO_ROOT / "pipeline" / "cli.py"), "--", "--help"]
    )
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(REPO_ROOT / "pipeline" / "cli.py"), run_name="__main__")
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "result.json"
    write_json(target, {"done": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text().strip().startswith("{") and '"done": 1' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]

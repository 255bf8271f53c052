"""The one worker call and its codec: values round-trip exactly, other versions and foreign classes are
refused, a forced worker runs a real step in a child process, and a worker never delegates again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from pipeline.app import worker
from pipeline.core import codec
from pipeline.core.errors import InternalError, UserError
from pipeline.core.fit.dressed import BodyRequest
from pipeline.core.garment.mesh import GarmentMesh


def test_codec_round_trips_project_values(tmp_path):
    mesh = GarmentMesh(vertices=np.random.rand(5, 3), faces=np.array([[0, 1, 2], [2, 3, 4]]), name="g")
    value = {
        "mesh": mesh,
        "request": BodyRequest(size="M", sex="female"),
        "pair": (1, 2.5, None),
        "path": Path("/x/y"),
        "list": [np.float32(1.5), "a", True],
    }
    back = codec.load(codec.save(tmp_path / "v", value))
    assert np.array_equal(back["mesh"].vertices, mesh.vertices) and back["mesh"].name == "g"
    assert back["request"] == BodyRequest(size="M", sex="female")
    assert (
        back["pair"] == (1, 2.5, None) and back["path"] == Path("/x/y") and back["list"] == [1.5, "a", True]
    )


def test_codec_refuses_other_versions_and_foreign_classes(tmp_path):
    path = codec.save(tmp_path / "v", 1)
    with np.load(path) as z:
        skeleton = str(z["__skeleton__"]).replace('"version": 1', '"version": 99')
    np.savez(path, __skeleton__=np.array(skeleton))
    with pytest.raises(InternalError, match="v99"):
        codec.load(path)

    @dataclasses.dataclass
    class Foreign:
        x: int

    forged = '{"codec": "tryon-codec", "version": 1, "value": {"__dataclass__": "os:Foreign", "fields": {}}}'
    np.savez(path, __skeleton__=np.array(forged))
    with pytest.raises(InternalError, match="refusing"):
        codec.load(path)


def test_forced_worker_runs_a_step_in_the_project_environment(monkeypatch):
    monkeypatch.setenv("TRYON_WORKER", "1")
    seen: list[str] = []
    body, record = worker.call("fit-body", lambda f, m="": seen.append(m), size="S", sex="female")
    assert body.vertices.shape == (13718, 3) and record["sex"] == "female"
    assert seen, "the worker's progress lines reach the caller"


def test_worker_user_errors_come_back_as_one_line(monkeypatch):
    monkeypatch.setenv("TRYON_WORKER", "1")
    with pytest.raises(UserError) as err:
        worker.call("dress", garment_path="/nonexistent/garment.obj")
    assert "\n" not in str(err.value) and "garment" in str(err.value)


def test_a_worker_never_delegates_again(monkeypatch):
    monkeypatch.setitem(worker.STEPS, "needs-missing", worker.Step("os:getcwd", ("no_such_module_xyz",), "x"))
    monkeypatch.setenv(worker.IN_WORKER, "1")
    with pytest.raises(InternalError, match="never delegates again"):
        worker.call("needs-missing")

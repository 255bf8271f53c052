"""Property-based tests (hypothesis) of the measurement and job-file schemas and the capped JSON reader: any
input is either accepted as it should be or refused with one short UserError line; nothing else escapes."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.app.batch import load_job
from pipeline.core.body.measurements import PAIR_RATIOS, RANGES_CM, check_plausible, validate_measurements
from pipeline.core.errors import UserError
from pipeline.core.files import parse_json
from pipeline.core.vocab import FABRICS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=200)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=30), inner, max_size=6),
)
keys = st.sampled_from([*RANGES_CM, "unit", "sex", "height", "waist"])


def _one_line(exc: UserError) -> None:
    text = str(exc)
    assert "\n" not in text and len(text) < 800, text[:300]


@SETTINGS
@given(st.dictionaries(keys, scalars, max_size=8) | json_like)
def test_measurements_any_object_is_accepted_or_one_line(obj):
    try:
        out = validate_measurements(obj, "m.json")
    except UserError as exc:
        _one_line(exc)
        return
    for key, value in out["measurements"].items():  # what is accepted is in range, finite and plausible
        lo, hi = RANGES_CM[key]
        assert math.isfinite(value) and lo <= value <= hi
    check_plausible(out["measurements"])


@st.composite
def plausible_people(draw):
    """Measurements built from ratio-consistent proportions of one person (inside ANSUR II's widened ranges)."""
    stature = draw(st.floats(150, 195))
    hip = stature * draw(st.floats(0.52, 0.66))
    waist = hip * draw(st.floats(0.72, 0.95))
    chest = waist * draw(st.floats(1.0, 1.25))
    values = {"stature": stature, "hip_girth": hip, "waist_girth": waist, "chest_girth": chest}
    keep = draw(st.sets(st.sampled_from(sorted(values)), min_size=1))
    return {
        k: round(v, 1) for k, v in values.items() if k in keep and RANGES_CM[k][0] <= v <= RANGES_CM[k][1]
    }


@SETTINGS
@given(plausible_people(), st.sampled_from([None, "female", "male"]))
def test_measurements_plausible_people_are_accepted(values, sex):
    if not values:
        return
    obj = {"unit": "cm", **values, **({"sex": sex} if sex else {})}
    out = validate_measurements(obj)
    assert out["measurements"] == {k: float(v) for k, v in values.items()} and out["sex"] == sex


@SETTINGS
@given(st.sampled_from(sorted(PAIR_RATIOS)), st.floats(1.05, 3.0), st.booleans())
def test_measurements_implausible_pairs_are_refused(pair, factor, above):
    a, b = pair
    lo, hi = PAIR_RATIOS[pair]
    vb = sum(RANGES_CM[b]) / 2
    va = vb * (hi * factor if above else lo / factor)
    if not RANGES_CM[a][0] <= va <= RANGES_CM[a][1]:
        return
    try:
        validate_measurements({"unit": "cm", a: va, b: vb})
    except UserError as exc:
        _one_line(exc)
        assert a in str(exc) and b in str(exc)
    else:
        raise AssertionError(f"{a}={va:.1f} with {b}={vb:.1f} was accepted")


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_json_reader_never_escapes(data):
    try:
        parse_json(data, "x.json", max_bytes=200, max_depth=4)
    except UserError as exc:
        _one_line(exc)


@SETTINGS
@given(st.integers(1, 3000))
def test_json_reader_depth_cap(depth):
    text = "[" * depth + "]" * depth
    try:
        parse_json(text, "deep.json", max_depth=64)
        assert depth <= 64
    except UserError as exc:
        assert depth > 64 and "nested too deeply" in str(exc)


items = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | st.integers()},
    optional={
        "garment": st.sampled_from(["g.obj", "missing.obj", "", 5]),
        "size": st.sampled_from(["M", "m", "XXXL", 3]),
        "sex": st.sampled_from(["female", "male", "x", None]),
        "fabric": st.sampled_from([*FABRICS, "steel", 5, None]),
        "pose": st.sampled_from(["a-pose", "dab", 1]),
        "render": st.dictionaries(st.sampled_from(["width", "engine", "denoise", "x"]), scalars, max_size=3),
    },
)
jobs = (
    st.fixed_dictionaries(
        {},
        optional={
            "version": st.sampled_from([1, 2, "1", None]),
            "output": st.sampled_from(["out", "g.obj", "", 7]),
            "items": st.lists(items, max_size=4) | scalars,
            "defaults": st.dictionaries(
                st.sampled_from(["sex", "size", "fabric", "id"]), scalars, max_size=2
            ),
        },
    )
    | json_like
)


@SETTINGS
@given(jobs)
def test_job_files_are_accepted_or_one_line(job):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "g.obj").write_text("v 0 0 0\n")
        path = folder / "job.json"
        path.write_text(json.dumps(job))
        try:
            loaded = load_job(path)
        except UserError as exc:
            _one_line(exc)
            return
        for item in loaded:  # what is accepted is well-typed and stays inside the output folder
            assert item.fabric in FABRICS and isinstance(item.id, str)
            assert item.out_dir.parent == (folder / job["output"]).resolve()
            assert item.garment.is_file()

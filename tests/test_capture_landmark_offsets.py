"""Where MediaPipe puts its landmarks relative to the anny bone heads the capture fit matches them to
(models/landmark_offsets.json, scripts/calibrate_landmark_offsets.py). Small and fast: no rendering."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")


def test_offsets_mirror_across_the_body_and_only_arms_and_hips_apply():
    """The shipped table puts MediaPipe's shoulders inside and above anny's upper-arm heads (what narrowed the
    fitted shoulders); the left and right offsets mirror each other; knees and ankles get none."""
    from pipeline.core.capture.body_fit import LANDMARK_BONES, OFFSET_LANDMARKS, SWAP, landmark_offsets_m

    ids = sorted(LANDMARK_BONES)
    off = landmark_offsets_m(ids)
    row = {i: off[k] for k, i in enumerate(ids)}
    assert row[11][0] < -0.005 and row[11][2] > 0.005  # person's left (+X): inward is -X; up is +Z
    for i in ids:
        np.testing.assert_allclose(row[i] * [-1, 1, 1], row[SWAP[i]], atol=1e-9)
        assert row[i][1] == 0.0
        if i not in OFFSET_LANDMARKS:
            assert not row[i].any()
    assert np.abs(off).max() < 0.04  # centimetres, not a different joint


def test_fitter_matches_landmarks_at_the_offset_heads():
    """The fitter carries the same offsets, one row per landmark it matches."""
    from test_capture_fit import _view_of

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.capture.body_fit import BodyFitter, landmark_offsets_m

    params = {"phenotypes": {"gender": 0.0, "weight": 0.5, "height": 0.5}, "local_changes": {}}
    fitter = BodyFitter([_view_of(body_arrays(**params), 0.0)], params)
    np.testing.assert_allclose(fitter.lm_offset.numpy(), landmark_offsets_m(fitter.lm_ids), atol=1e-7)


def test_calibration_bodies_are_not_the_measure_bench_s(shared_data):
    """The offsets are learned on people the measure bench never draws (its seed, up to 40 bodies, and its
    four extremes), women and men alternately."""
    import sys

    from pipeline.core.deps import REPO_ROOT

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    from bench_measure import SEED, ansur_extremes
    from calibrate_landmark_offsets import held_out_people

    from pipeline.core.body.data.ansur import ansur_subjects

    people = held_out_people(8, 11)
    bench = {p["id"] for p in ansur_extremes()} | {p["id"] for p in ansur_subjects(44, SEED)}
    assert len(people) == 8 and not bench & {p["id"] for p in people}
    assert [p["sex"] for p in people[:2]] == ["female", "male"]


def test_a_random_calibration_draw_spans_the_survey(shared_data):
    """`--draw random` people come from the whole survey, not its lowest subject ids as `held_out_people`'s do,
    and hold none the measure bench can draw or the capture initialiser trained on."""
    import json
    import sys

    import numpy as np

    from pipeline.core.body.data.ansur import ansur_subjects, measure_bench_ids
    from pipeline.core.deps import REPO_ROOT

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from calibrate_landmark_offsets import held_out_people, random_people

    people = random_people(40, 21)
    ids = {p["id"] for p in people}
    trained = set(json.loads((REPO_ROOT / "models" / "capture_initialiser.json").read_text())["ansur_people"])
    assert len(ids) == 40 and not ids & (measure_bench_ids() | trained)
    assert [p["sex"] for p in people[:4]] == ["female", "male", "female", "male"]

    everyone = ansur_subjects()
    rank = {}  # each person's place in the survey's order within their sex, 0-1
    for sex in ("female", "male"):
        group = [p["id"] for p in everyone if p["sex"] == sex]
        rank |= {pid: i / len(group) for i, pid in enumerate(group)}
    assert 0.3 < np.median([rank[p["id"]] for p in people]) < 0.7
    assert np.median([rank[p["id"]] for p in held_out_people(40, 21)]) < 0.2  # why the random draw exists

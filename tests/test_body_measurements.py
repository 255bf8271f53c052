"""Measurement files: validation errors are one line naming the field and range (exit 2), sizes resolve."""

from __future__ import annotations

import json

import pytest

from pipeline.app.cli import main
from pipeline.core.body.measurements import RANGES_CM, validate_measurements
from pipeline.core.body.sizes import SIZES, size_measurements, size_table
from pipeline.core.errors import UserError


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"unit": "mm", "stature": 1700}, "field 'unit' is 'mm'; expected \"cm\""),
        ({"stature": 170}, "field 'unit' is missing"),
        (
            {"unit": "cm", "stature": 300},
            "field 'stature' = 300 cm is outside the supported range 135 to 210 cm",
        ),
        ({"unit": "cm", "waist": 80}, "unknown field 'waist'"),
        ({"unit": "cm", "hip_girth": "100"}, "field 'hip_girth' must be a number in cm between 73 and 155"),
        ({"unit": "cm", "sex": "f", "stature": 170}, "field 'sex' is 'f'"),
        ({"unit": "cm", "chest_girth": 90, "bust_girth": 92}, "either 'chest_girth' or 'bust_girth'"),
        ({"unit": "cm"}, "no measurements given"),
    ],
)
def test_bad_measurement_files_exit_2_with_one_line(tmp_path, capsys, obj, expected):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(obj))
    code = main(["avatar", "--measurements", str(path), "--out", str(tmp_path / "a.blend")])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "a.blend").exists()


def test_size_needs_sex_and_bad_json_is_a_user_error(tmp_path, capsys):
    assert main(["avatar", "--size", "M", "--out", str(tmp_path / "a.blend")]) == 2
    assert "--size needs --sex" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["avatar", "--measurements", str(bad), "--out", str(tmp_path / "a.blend")]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_valid_file_and_ranges():
    ok = validate_measurements({"unit": "cm", "sex": "male", "stature": 180, "chest_girth": 100.5})
    assert ok == {"sex": "male", "measurements": {"stature": 180.0, "chest_girth": 100.5}}
    with pytest.raises(UserError):
        validate_measurements([1, 2])
    assert all(lo < hi for lo, hi in RANGES_CM.values())


def test_size_tables_cover_xs_to_xxl_and_grow():
    assert "ANSUR II" in size_table()["source"]
    for sex in ("female", "male"):
        rows = [size_measurements(s, sex) for s in SIZES]
        chest = "bust_girth" if sex == "female" else "chest_girth"
        assert [r[chest] for r in rows] == sorted(r[chest] for r in rows)
        for row in rows:  # every size is a valid measurements file
            validate_measurements({"unit": "cm", "sex": sex, **row})
    with pytest.raises(UserError, match="unknown size"):
        size_measurements("XXXL", "female")


def test_accepted_ranges_cover_every_ansur_subject(shared_data):
    """No adult of the ANSUR II survey is refused (the issue: an inside leg of 101.1 cm was)."""
    from pipeline.core.body.data.ansur import ANSUR_NAMES, ansur_table
    from pipeline.core.body.measurements import RANGES_CM

    folder = shared_data / "bodies" / "ansur2_us_army_anthropometry"
    for sex in ("female", "male"):
        table = ansur_table(sex, str(folder))
        for name in ANSUR_NAMES:
            lo, hi = RANGES_CM[name]
            assert lo <= table[name].min() and table[name].max() <= hi, (sex, name)

"""Standard sizes XS-XXL for women and men, as measurement sets (cm) for the avatar.

The table (data/size_tables.json) is derived from ANSUR II by data/derive_sizes.py; its `source` and
`method` fields say how. Women's chest values are returned as `bust_girth`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pipeline.core.errors import UserError
from pipeline.core.vocab import SEXES, SIZES

TABLE_FILE = Path(__file__).resolve().parent / "data" / "size_tables.json"


@functools.lru_cache(maxsize=1)
def size_table() -> dict[str, Any]:
    """The whole size table file (unit, source, method, female, male)."""
    return json.loads(TABLE_FILE.read_text(encoding="utf-8"))


def size_measurements(size: str, sex: str) -> dict[str, float]:
    """The measurements (cm, ISO 8559-1 names) of a standard size; UserError for an unknown size or sex."""
    key = size.strip().upper()
    if key not in SIZES:
        raise UserError(f"unknown size '{size}'; expected one of: {', '.join(SIZES)}")
    if sex not in SEXES:
        raise UserError(f"--size needs --sex female or --sex male, got {sex!r}")
    row = {k: float(v) for k, v in size_table()[sex][key].items() if k != "subjects"}
    if sex == "female":
        row["bust_girth"] = row.pop("chest_girth")
    return row

"""Catalog batches (no bpy): a job file lists try-on stills; each item becomes one `python -m pipeline tryon ...`
command line, so a local pool, Ray, Flamenco, Deadline or a SLURM array can run the items unchanged.

Job file (JSON; paths relative to the job file):

    {
      "version": 1,
      "output": "catalog",                         folder for the results, one sub-folder per item id
      "defaults": {                                optional; any item key except id
        "sex": "female", "size": "M", "pose": "a-pose", "material": "mannequin", "fabric": "cotton-jersey",
        "render": {"width": 1080, "height": 1350, "engine": "cycles", "samples": 32, "view": "front"}
      },
      "items": [
        {"id": "tshirt-f-m", "garment": "../garments/tshirt.obj"},
        {"id": "skirt-f-l", "garment": "../garments/skirt.obj", "size": "L", "type": "bottom"},
        {"id": "tshirt-shopper", "garment": "../garments/tshirt.obj", "measurements": "shopper.json"}
      ]
    }

An item is done when its tryon.png and tryon.json exist; a re-run skips done items, and a failed item never
touches the others' results.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pipeline.core import vocab
from pipeline.core.errors import UserError
from pipeline.core.files import read_json, write_json
from pipeline.core.progress import ProgressCallback, silent

SIZES = vocab.SIZES
CHOICES: dict[str, tuple[str, ...]] = {
    "sex": vocab.SEXES,
    "type": vocab.GARMENT_TYPES,
    "material": vocab.AVATAR_MATERIALS,
    "pose": vocab.POSES,
}
ITEM_KEYS = {"id", "garment", "measurements", "size", "sex", "type", "fabric", "pose", "material", "render"}
RENDER_KEYS = {
    "width": int,
    "height": int,
    "engine": str,
    "samples": int,
    "device": str,
    "view": str,
    "denoise": bool,
}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
REPORT_NAME = "batch_report.json"  # beside the item folders: no item may take its name


@dataclasses.dataclass
class BatchItem:
    """One still of the catalog: everything `tryon` needs, with absolute paths."""

    id: str
    garment: Path
    out_dir: Path
    measurements: Path | None = None
    size: str | None = None
    sex: str | None = None
    type: str | None = None
    fabric: str = "cotton-jersey"
    pose: str = "a-pose"
    material: str = "mannequin"
    render: dict[str, Any] = dataclasses.field(default_factory=dict)

    def command(self, python: str = sys.executable) -> list[str]:
        """The one command line that produces this item."""
        cmd = [
            python,
            "-m",
            "pipeline",
            "tryon",
            "--garment",
            str(self.garment),
            "--out",
            str(self.out_dir),
            "--fabric",
            self.fabric,
            "--pose",
            self.pose,
            "--material",
            self.material,
        ]
        if self.measurements:
            cmd += ["--measurements", str(self.measurements)]
        if self.size:
            cmd += ["--size", self.size]
        if self.sex:
            cmd += ["--sex", self.sex]
        if self.type:
            cmd += ["--type", self.type]
        for key, value in self.render.items():
            if key == "denoise":
                cmd += [] if value else ["--no-denoise"]
            else:
                cmd += [f"--{key}", str(value)]
        return cmd

    def done(self) -> bool:
        return (self.out_dir / "tryon.png").is_file() and (self.out_dir / "tryon.json").is_file()


def _check_item(raw: Any, where: str, base: Path) -> dict[str, Any]:  # noqa: C901 - one check per item key, flat
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected an object")
    unknown = sorted(set(raw) - ITEM_KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(ITEM_KEYS))}")
    out = dict(raw)
    _check_types(out, where)
    for key, allowed in CHOICES.items():
        if key in out and out[key] not in allowed:
            raise UserError(f"{where}.{key}: {out[key]!r} is not one of {', '.join(allowed)}")
    if "size" in out:
        if str(out["size"]).upper() not in SIZES:
            raise UserError(f"{where}.size: {out['size']!r} is not one of {', '.join(SIZES)}")
        out["size"] = str(out["size"]).upper()
    for key in ("garment", "measurements"):
        if key in out:
            if not isinstance(out[key], str) or not out[key]:
                raise UserError(f"{where}.{key}: expected a file path")
            path = (base / out[key]).resolve()
            if not path.is_file():
                raise UserError(f"{where}.{key}: file not found: {path}")
            out[key] = path
    if "render" in out:
        render = out["render"]
        if not isinstance(render, dict):
            raise UserError(f"{where}.render: expected an object")
        for key, value in render.items():
            if key not in RENDER_KEYS:
                raise UserError(f"{where}.render: unknown key '{key}'; allowed: {', '.join(RENDER_KEYS)}")
            if not isinstance(value, RENDER_KEYS[key]) or (
                RENDER_KEYS[key] is int and isinstance(value, bool)
            ):
                raise UserError(f"{where}.render.{key}: expected {RENDER_KEYS[key].__name__}, got {value!r}")
    return out


def _check_types(item: dict[str, Any], where: str) -> None:
    """Every text field is text and the fabric a known preset (a number there would fail deep in a run)."""
    from pipeline.core.untrusted import clip
    from pipeline.core.vocab import FABRICS

    for key in ("id", "garment", "measurements", "size", "sex", "type", "fabric", "pose", "material"):
        if key in item and not isinstance(item[key], str):
            raise UserError(f"{where}.{key}: expected text, got {clip(item[key])}")
    if "fabric" in item and item["fabric"] not in FABRICS:
        raise UserError(f"{where}.fabric: {clip(item['fabric'])} is not one of {', '.join(FABRICS)}")


def _check_output(out_root: Path, name: str) -> None:
    from pipeline.core.files import check_output_dir
    from pipeline.core.untrusted import clip

    if out_root.exists() and not out_root.is_dir():
        raise UserError(f"{name}: 'output' {clip(str(out_root))} is a file, not a folder")
    check_output_dir(out_root, f"{name}: 'output'")


def load_job(path: str | os.PathLike) -> list[BatchItem]:
    """Read and validate a job file; every problem is one UserError naming the field."""
    path = Path(path)
    job = read_json(path, "job file")
    name = path.name
    if not isinstance(job, dict):
        raise UserError(f"{name}: expected a JSON object with 'version', 'output' and 'items'")
    unknown = sorted(set(job) - {"version", "output", "defaults", "items"})
    if unknown:
        raise UserError(f"{name}: unknown key '{unknown[0]}'; allowed: version, output, defaults, items")
    if job.get("version") != 1:
        raise UserError(f"{name}: 'version' must be 1, not {job.get('version')!r}")
    if not isinstance(job.get("output"), str) or not job["output"]:
        raise UserError(f"{name}: 'output' must be a folder path")
    items = job.get("items")
    if not isinstance(items, list) or not items:
        raise UserError(f"{name}: 'items' must be a non-empty list")
    base = path.resolve().parent
    defaults = _check_item(job.get("defaults", {}), f"{name}: defaults", base)
    if "id" in defaults:
        raise UserError(f"{name}: defaults.id: an id belongs to one item only")
    out_root = (base / job["output"]).resolve()
    _check_output(out_root, name)
    result, seen = [], set()
    for i, raw in enumerate(items):
        where = f"{name}: items[{i}]"
        item = _check_item(raw, where, base)
        merged = {**defaults, **item, "render": {**defaults.get("render", {}), **item.get("render", {})}}
        if "id" not in item or not isinstance(item["id"], str) or not ID_PATTERN.match(item["id"]):
            raise UserError(f"{where}.id: expected a short name of letters, digits, '.', '_' or '-'")
        if item["id"] == REPORT_NAME:
            raise UserError(f"{where}.id: '{REPORT_NAME}' is the name of the batch report; choose another id")
        if item["id"] in seen:
            raise UserError(f"{where}.id: '{item['id']}' is used twice")
        seen.add(item["id"])
        if "garment" not in merged:
            raise UserError(f"{where}.garment: missing (no default either)")
        if "measurements" in merged and "size" in item:
            merged.pop("measurements")
        elif "measurements" in item:
            merged.pop("size", None)
        if merged.get("size") and not merged.get("sex"):
            raise UserError(f"{where}.sex: a size needs 'sex' (female or male)")
        merged["out_dir"] = out_root / item["id"]
        result.append(BatchItem(**merged))
    return result


def run_batch(
    items: list[BatchItem],
    jobs: int = 1,
    force: bool = False,
    report_path: Path | None = None,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Run every item not yet done as its own process (`jobs` at a time); the report is rewritten after each."""
    todo = [it for it in items if force or not it.done()]
    report: dict[str, Any] = {
        "items": {it.id: {"status": "done (skipped)"} for it in items if it not in todo}
    }
    finished = 0

    def run_one(item: BatchItem) -> tuple[BatchItem, int, str, float]:
        t0 = time.perf_counter()
        proc = subprocess.run(item.command(), capture_output=True, text=True)
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
        return item, proc.returncode, (lines[-1] if lines else ""), time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for item, code, err, seconds in pool.map(run_one, todo):
            finished += 1
            entry = {"status": "ok" if code == 0 else "failed", "seconds": round(seconds, 1)}
            if code != 0:
                entry.update(exit_code=code, error=err or f"exit code {code}")
            else:
                entry["png"] = str(item.out_dir / "tryon.png")
            report["items"][item.id] = entry
            report["failed"] = sorted(k for k, v in report["items"].items() if v["status"] == "failed")
            if report_path is not None:
                write_json(report_path, report)
            progress(finished / max(len(todo), 1), f"{item.id}: {entry['status']}")
    report.setdefault("failed", [])
    if report_path is not None:
        write_json(report_path, report)
    return report

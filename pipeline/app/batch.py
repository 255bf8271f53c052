"""Catalog job files (no bpy): a matrix of garments x bodies x colorways x views x poses x looks, or a flat list of
items, expanded into `BatchItem`s and validated in full before the first still starts.

Each item is one idempotent still with a predictable path, so a local pool of warm workers, Ray, OpenJD,
Flamenco or a SLURM array run the same command lines (`python -m pipeline batch JOB --shard i/N`).

Matrix job (version 2; JSON, or TOML with the same keys; paths relative to the job file):

    {
      "version": 2,
      "output": "catalog",                    under the job file's folder (or under --output-root)
      "garments": ["../garments/tshirt.obj", {"path": "../garments/skirt.obj", "type": "bottom", "name": "skirt"}],
      "bodies": ["female-M", "male-L", "default", {"measurements": "shopper.json", "name": "ann"}],
      "colorways": ["default", "navy", "#1f3a5f"],
      "views": ["front", "back"],
      "poses": ["a-pose"],
      "looks": ["studio"],
      "fabric": "cotton-jersey", "material": "mannequin", "save_blend": false,
      "render": {"width": 1080, "height": 1350, "engine": "cycles", "samples": 32, "device": "auto", "denoise": true}
    }

Stills land at `<output>/<garment>/<body>/<colorway>_<view>.png` (with `_<pose>` and `_<look>` appended when the
job has more than one of them), each with a `.json` sidecar. Version 1 (a flat "items" list, each item written
to `<output>/<id>/tryon.png`) is still read.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from pipeline.core import vocab
from pipeline.core.errors import UserError
from pipeline.core.files import read_json
from pipeline.core.untrusted import clip

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
COLOR_PATTERN = re.compile(r"^(#[0-9A-Fa-f]{6}|[a-z][a-z-]{0,39})$")
DEFAULT_COLORWAY = "default"  # the garment's own colours: no --color flag
MAX_ITEMS = 100_000
# Files of the job itself beside the stills: no garment (matrix) or item id (version 1) may take their names.
RESERVED_NAMES = ("batch_report.json", "batch_report.lock", "contact_sheet.png")
RENDER_KEYS: dict[str, type] = {
    "width": int,
    "height": int,
    "engine": str,
    "samples": int,
    "device": str,
    "view": str,
    "denoise": bool,
}
RENDER_CHOICES = {"engine": vocab.ENGINES, "device": ("auto", "gpu", "cpu"), "view": vocab.VIEWS}
RENDER_LIMITS = {"width": (16, 16384), "height": (16, 16384), "samples": (1, 65536)}
MATRIX_KEYS = {
    "version",
    "output",
    "garments",
    "bodies",
    "colorways",
    "views",
    "poses",
    "looks",
    "fabric",
    "material",
    "render",
    "save_blend",
}
ITEM_KEYS = {
    "id",
    "garment",
    "measurements",
    "size",
    "sex",
    "type",
    "fabric",
    "pose",
    "material",
    "render",
    "color",
    "look",
}
GARMENT_KEYS = {"path", "name", "type", "fabric"}
BODY_KEYS = {"name", "size", "sex", "measurements"}


@dataclasses.dataclass(frozen=True)
class BodySpec:
    """Which avatar wears the garment: anny's default body, a size + sex, or a measurements file."""

    name: str
    size: str | None = None
    sex: str | None = None
    measurements: Path | None = None

    def key(self) -> tuple:
        return (self.size, self.sex, str(self.measurements) if self.measurements else None)


@dataclasses.dataclass
class BatchItem:
    """One still of the catalog: everything `tryon` needs, with absolute paths and its final PNG."""

    id: str
    garment: Path
    body: BodySpec
    png: Path
    pose: str = vocab.DEFAULT_POSE
    fabric: str = vocab.DEFAULT_FABRIC
    type: str | None = None
    material: str = "mannequin"
    color: str | None = None  # None: the garment's own colours
    look: str | None = None  # None: tryon's default look
    render: dict[str, Any] = dataclasses.field(default_factory=dict)
    save_blend: bool = True

    @property
    def out_dir(self) -> Path:
        return self.png.parent

    @property
    def name(self) -> str:
        """The file stem `tryon` writes (<name>.png, <name>.json, <name>.blend)."""
        return self.png.stem

    @property
    def sidecar(self) -> Path:
        return self.png.with_suffix(".json")

    def fit_key(self) -> tuple:
        """Items with the same key share one fitted garment (they differ only in colour, view or look)."""
        return (str(self.garment), self.body.key(), self.pose, self.fabric, self.type)

    def tryon_args(self) -> list[str]:
        """The `tryon` arguments that produce this still (without the interpreter)."""
        args = ["tryon", "--garment", str(self.garment), "--out", str(self.out_dir), "--name", self.name]
        args += ["--fabric", self.fabric, "--pose", self.pose, "--material", self.material]
        if not self.save_blend:
            args.append("--no-blend")
        if self.body.measurements:
            args += ["--measurements", str(self.body.measurements)]
        if self.body.size:
            args += ["--size", self.body.size]
        if self.body.sex:
            args += ["--sex", self.body.sex]
        if self.type:
            args += ["--type", self.type]
        if self.color:
            args += ["--color", self.color]
        if self.look:
            args += ["--look", self.look]
        for key, value in self.render.items():
            if key == "denoise":
                args += [] if value else ["--no-denoise"]
            else:
                args += [f"--{key}", str(value)]
        return args

    def command(self, python: str = sys.executable) -> list[str]:
        """The one-process command line that produces this still (today's path, and `--print-commands`)."""
        return [python, "-m", "pipeline", *self.tryon_args()]

    def done(self) -> bool:
        """Done = the final PNG and its sidecar exist (both are renamed into place whole)."""
        return self.png.is_file() and self.sidecar.is_file()


@dataclasses.dataclass
class Job:
    """A validated job: its file, output root and the expanded items in a stable order."""

    path: Path
    output: Path
    items: list[BatchItem]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def report_path(self) -> Path:
        return self.output / "batch_report.json"

    @property
    def body_cache(self) -> Path:
        """Fitted bodies shared by the job's workers and runs (anny parameters are deterministic per request)."""
        return self.output / ".cache" / "bodies"


class JobErrors(UserError):
    """Every problem of a job file, one line each; as an exception it reads as the first (one line)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
        super().__init__(lines[0] + more)


class _Errors:
    """Collects every validation problem (one line each) so a job file is fixed in one pass."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def raise_if_any(self) -> None:
        if self.lines:
            raise JobErrors(self.lines)


def read_job_file(path: Path) -> Any:
    """Parse a job file: JSON through `read_json`, or TOML (same keys) when it ends in .toml."""
    if path.suffix.lower() != ".toml":
        return read_json(path, "job file")
    if not path.is_file():
        raise UserError(f"job file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"job file {path} is not valid TOML: {exc}") from None


def _readable_file(base: Path, value: Any, where: str, errors: _Errors) -> Path | None:
    if not isinstance(value, str) or not value:
        errors.add(f"{where}: expected a file path")
        return None
    path = (base / value).resolve()
    if not path.is_file():
        errors.add(f"{where}: file not found: {path}")
        return None
    if not os.access(path, os.R_OK):
        errors.add(f"{where}: file is not readable: {path}")
        return None
    return path


def _check_choice(value: Any, allowed: tuple[str, ...], where: str, errors: _Errors) -> bool:
    if not isinstance(value, str) or value not in allowed:
        errors.add(f"{where}: {clip(value)} is not one of {', '.join(allowed)}")
        return False
    return True


def _check_render(render: Any, where: str, errors: _Errors, allow_view: bool = True) -> dict[str, Any]:
    if not isinstance(render, dict):
        errors.add(f"{where}: expected an object")
        return {}
    out = {}
    for key, value in render.items():
        if key not in RENDER_KEYS or (key == "view" and not allow_view):
            allowed = [k for k in RENDER_KEYS if allow_view or k != "view"]
            hint = " (views are a matrix dimension: 'views')" if key == "view" else ""
            errors.add(f"{where}: unknown key '{key}'{hint}; allowed: {', '.join(allowed)}")
            continue
        kind = RENDER_KEYS[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            errors.add(f"{where}.{key}: expected {kind.__name__}, got {clip(value)}")
            continue
        if key in RENDER_CHOICES and not _check_choice(value, RENDER_CHOICES[key], f"{where}.{key}", errors):
            continue
        if key in RENDER_LIMITS:
            lo, hi = RENDER_LIMITS[key]
            if not lo <= value <= hi:
                errors.add(f"{where}.{key}: {value} is outside {lo}..{hi}")
                continue
        out[key] = value
    return out


def check_color(value: Any, where: str, errors: _Errors) -> str | None:
    """A colorway: a lowercase colour name ([a-z-]+, tryon knows which) or #RRGGBB; 'default' = the garment's."""
    if not isinstance(value, str) or not COLOR_PATTERN.match(value):
        errors.add(f"{where}: {clip(value)} is not a colour name ([a-z-]+) or #RRGGBB")
        return None
    return value.lower()


def color_label(color: str) -> str:
    """The colorway's part of a file name: the name, or the hex digits without '#'."""
    return color.lstrip("#").lower()


def output_root(job_path: Path, output: Any, output_root_arg: str | os.PathLike | None) -> Path:
    """The job's output folder; it must lie under the job file's folder or under --output-root."""
    if not isinstance(output, str) or not output.strip():
        raise UserError(f"{job_path.name}: output: expected a folder path")
    base = job_path.resolve().parent
    root = (base / output).resolve()
    for folder in (root, *root.parents):
        if folder.exists():
            if not folder.is_dir():
                raise UserError(f"{job_path.name}: output: {clip(str(folder), 160)} is a file, not a folder")
            break
    allowed = [base] + ([Path(output_root_arg).resolve()] if output_root_arg else [])
    if not any(root == a or root.is_relative_to(a) for a in allowed):
        where = " or ".join(str(a) for a in allowed)
        raise UserError(
            f"{job_path.name}: output: {clip(output)} resolves to {root}, outside {where}; "
            "keep it under the job file's folder or pass --output-root"
        )
    return root


def _list(job: dict, key: str, default: list | None, errors: _Errors, name: str) -> list:
    value = job.get(key, default)
    if value is None:
        errors.add(f"{name}: {key}: missing; expected a non-empty list")
        return []
    if not isinstance(value, list) or not value:
        errors.add(f"{name}: {key}: expected a non-empty list")
        return []
    return value


def _garments(raw: list, base: Path, errors: _Errors, name: str, fabric: str) -> list[dict[str, Any]]:
    out = []
    for i, g in enumerate(raw):
        where = f"{name}: garments[{i}]"
        g = {"path": g} if isinstance(g, str) else g
        if not isinstance(g, dict):
            errors.add(f"{where}: expected a file path or an object with 'path'")
            continue
        unknown = sorted(set(g) - GARMENT_KEYS)
        if unknown:
            errors.add(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(GARMENT_KEYS))}")
        path = _readable_file(base, g.get("path"), f"{where}.path", errors)
        label = g.get("name", Path(str(g.get("path", ""))).stem)
        if not isinstance(label, str) or not ID_PATTERN.match(label):
            errors.add(f"{where}.name: {clip(label)} is not a short name of letters, digits, '.', '_' or '-'")
        elif label in RESERVED_NAMES:
            errors.add(
                f"{where}.name: '{label}' is the name of the job's own file; give the garment a 'name'"
            )
        if "type" in g:
            _check_choice(g["type"], vocab.GARMENT_TYPES, f"{where}.type", errors)
        gfabric = (
            vocab.canonical_fabric(g["fabric"])
            if isinstance(g.get("fabric"), str)
            else g.get("fabric", fabric)
        )
        if "fabric" in g:  # the job's own fabric is checked once, by the caller
            _check_choice(gfabric, vocab.FABRICS, f"{where}.fabric", errors)
        out.append({"path": path, "name": label, "type": g.get("type"), "fabric": gfabric})
    return out


def _body_from_string(value: str, base: Path, where: str, errors: _Errors) -> BodySpec | None:
    if value == "default":
        return BodySpec("default")
    if value.lower().endswith((".json", ".toml")):
        path = _measurements(base, value, where, errors)
        return BodySpec(Path(value).stem, measurements=path) if path else None
    sex, _, size = value.partition("-")
    if sex in vocab.SEXES and size.upper() in vocab.SIZES:
        return BodySpec(f"{sex}-{size.upper()}", size=size.upper(), sex=sex)
    errors.add(
        f"{where}: {clip(value)} is not 'default', <sex>-<size> (e.g. female-M; sizes "
        f"{', '.join(vocab.SIZES)}) or a measurements .json file"
    )
    return None


def _measurements(base: Path, value: Any, where: str, errors: _Errors) -> Path | None:
    path = _readable_file(base, value, where, errors)
    if path is None:
        return None
    from pipeline.core.body.measurements import load_measurements

    try:
        load_measurements(path)
    except UserError as exc:
        errors.add(f"{where}: {exc}")
        return None
    return path


def _body_from_object(b: dict, base: Path, where: str, errors: _Errors) -> BodySpec | None:
    unknown = sorted(set(b) - BODY_KEYS)
    if unknown:
        errors.add(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(BODY_KEYS))}")
        return None
    if ("measurements" in b) == ("size" in b):
        errors.add(f"{where}: give either 'measurements' or 'size' (with 'sex')")
        return None
    sex = b.get("sex")
    if sex is not None and not _check_choice(sex, vocab.SEXES, f"{where}.sex", errors):
        return None
    if "size" in b:
        size = str(b["size"]).upper()
        if not _check_choice(size, vocab.SIZES, f"{where}.size", errors):
            return None
        if sex is None:
            errors.add(f"{where}.sex: a size needs 'sex' (female or male)")
            return None
        label = b.get("name", f"{sex}-{size}")
        spec = BodySpec(label, size=size, sex=sex)
    else:
        path = _measurements(base, b["measurements"], f"{where}.measurements", errors)
        if path is None:
            return None
        spec = BodySpec(b.get("name", path.stem), sex=sex, measurements=path)
    if not isinstance(spec.name, str) or not ID_PATTERN.match(spec.name):
        errors.add(f"{where}.name: {clip(spec.name)} is not a short name of letters, digits, '.', '_' or '-'")
        return None
    return spec


def _bodies(raw: list, base: Path, errors: _Errors, name: str) -> list[BodySpec]:
    out = []
    for i, b in enumerate(raw):
        where = f"{name}: bodies[{i}]"
        if isinstance(b, str):
            spec = _body_from_string(b, base, where, errors)
        elif isinstance(b, dict):
            spec = _body_from_object(b, base, where, errors)
        else:
            errors.add(f"{where}: expected 'default', <sex>-<size>, a measurements file or an object")
            spec = None
        if spec is not None:
            out.append(spec)
    return out


def _words(job: dict, key: str, allowed: tuple[str, ...], default: str, errors: _Errors, name: str) -> list:
    values = _list(job, key, [default], errors, name)
    return [v for i, v in enumerate(values) if _check_choice(v, allowed, f"{name}: {key}[{i}]", errors)]


def _unique(labels: list[str], what: str, errors: _Errors, name: str) -> None:
    seen = set()
    for label in labels:
        if label in seen:
            errors.add(f"{name}: {what}: '{label}' is used twice (give one a 'name')")
        seen.add(label)


def _matrix_items(job: dict, base: Path, root: Path, name: str) -> list[BatchItem]:
    """Expand a version-2 matrix job into items (validated in full first)."""
    errors = _Errors()
    unknown = sorted(set(job) - MATRIX_KEYS)
    for key in unknown:
        errors.add(f"{name}: unknown key '{key}'; allowed: {', '.join(sorted(MATRIX_KEYS))}")
    fabric = job.get("fabric", vocab.DEFAULT_FABRIC)
    fabric = vocab.canonical_fabric(fabric) if isinstance(fabric, str) else fabric
    _check_choice(fabric, vocab.FABRICS, f"{name}: fabric", errors)
    material = job.get("material", "mannequin")
    _check_choice(material, vocab.AVATAR_MATERIALS, f"{name}: material", errors)
    save_blend = job.get("save_blend", False)
    if not isinstance(save_blend, bool):
        errors.add(f"{name}: save_blend: expected true or false, got {clip(save_blend)}")
    render = _check_render(job.get("render", {}), f"{name}: render", errors, allow_view=False)
    garments = _garments(_list(job, "garments", None, errors, name), base, errors, name, fabric)
    bodies = _bodies(_list(job, "bodies", ["default"], errors, name), base, errors, name)
    colors = [
        check_color(c, f"{name}: colorways[{i}]", errors)
        for i, c in enumerate(_list(job, "colorways", [DEFAULT_COLORWAY], errors, name))
    ]
    views = _words(job, "views", vocab.VIEWS, vocab.DEFAULT_VIEW, errors, name)
    poses = _words(job, "poses", vocab.POSES, vocab.DEFAULT_POSE, errors, name)
    looks = _words(job, "looks", vocab.LOOKS, vocab.DEFAULT_LOOK, errors, name)
    _unique([g["name"] for g in garments], "garments", errors, name)
    _unique([b.name for b in bodies], "bodies", errors, name)
    _unique([color_label(c) for c in colors if c], "colorways", errors, name)
    for key, values in (("views", views), ("poses", poses), ("looks", looks)):
        _unique(values, key, errors, name)
    count = len(garments) * len(bodies) * len(colors) * len(views) * len(poses) * len(looks)
    if count > MAX_ITEMS:
        errors.add(f"{name}: the matrix makes {count} stills; split it into jobs of at most {MAX_ITEMS}")
    errors.raise_if_any()
    items = []
    for g in garments:
        for body in bodies:
            for pose in poses:
                for look in looks:
                    for color in colors:
                        for view in views:
                            stem = f"{color_label(color)}_{view}"
                            stem += f"_{pose}" if len(poses) > 1 else ""
                            stem += f"_{look}" if len(looks) > 1 else ""
                            item_id = f"{g['name']}/{body.name}/{stem}"
                            items.append(
                                BatchItem(
                                    id=item_id,
                                    garment=g["path"],
                                    body=body,
                                    png=root / g["name"] / body.name / f"{stem}.png",
                                    pose=pose,
                                    fabric=g["fabric"],
                                    type=g["type"],
                                    material=material,
                                    color=None if color == DEFAULT_COLORWAY else color,
                                    look=None if look == vocab.DEFAULT_LOOK and "looks" not in job else look,
                                    render={**render, "view": view},
                                    save_blend=save_blend,
                                )
                            )
    return items


def _check_flat_item(raw: Any, where: str, base: Path, errors: _Errors) -> dict[str, Any]:
    if not isinstance(raw, dict):
        errors.add(f"{where}: expected an object")
        return {}
    out = {}
    for key, value in raw.items():
        if key not in ITEM_KEYS:
            errors.add(f"{where}: unknown key '{key}'; allowed: {', '.join(sorted(ITEM_KEYS))}")
        elif key in ("garment", "measurements"):
            path = (
                _readable_file(base, value, f"{where}.{key}", errors)
                if key == "garment"
                else _measurements(base, value, f"{where}.{key}", errors)
            )
            if path is not None:
                out[key] = path
        elif key == "render":
            out[key] = _check_render(value, f"{where}.render", errors)
        elif key == "color":
            out[key] = check_color(value, f"{where}.color", errors)
        elif key == "fabric" and isinstance(value, str) and vocab.canonical_fabric(value) in vocab.FABRICS:
            out[key] = vocab.canonical_fabric(value)
        elif key == "size":
            if _check_choice(str(value).upper(), vocab.SIZES, f"{where}.size", errors):
                out[key] = str(value).upper()
        elif key != "id":
            allowed = {
                "sex": vocab.SEXES,
                "type": vocab.GARMENT_TYPES,
                "fabric": vocab.FABRICS,
                "pose": vocab.POSES,
                "material": vocab.AVATAR_MATERIALS,
                "look": vocab.LOOKS,
            }[key]
            if _check_choice(value, allowed, f"{where}.{key}", errors):
                out[key] = value
        else:
            out[key] = value
    return out


def _flat_items(job: dict, base: Path, root: Path, name: str) -> list[BatchItem]:
    """Version 1: an explicit list of items, each written to <output>/<id>/tryon.png."""
    errors = _Errors()
    for key in sorted(set(job) - {"version", "output", "defaults", "items"}):
        errors.add(f"{name}: unknown key '{key}'; allowed: version, output, defaults, items")
    items = job.get("items")
    if not isinstance(items, list) or not items:
        errors.add(f"{name}: items: expected a non-empty list")
        items = []
    defaults = _check_flat_item(job.get("defaults", {}), f"{name}: defaults", base, errors)
    if "id" in defaults:
        errors.add(f"{name}: defaults.id: an id belongs to one item only")
    result, seen = [], set()
    for i, raw in enumerate(items):
        where = f"{name}: items[{i}]"
        item = _check_flat_item(raw, where, base, errors)
        merged = {**defaults, **item, "render": {**defaults.get("render", {}), **item.get("render", {})}}
        item_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
            errors.add(f"{where}.id: expected a short name of letters, digits, '.', '_' or '-'")
            continue
        if item_id in RESERVED_NAMES:
            errors.add(f"{where}.id: '{item_id}' is the name of the job's own file; choose another id")
        if item_id in seen:
            errors.add(f"{where}.id: '{item_id}' is used twice")
        seen.add(item_id)
        if "garment" not in merged:
            if not (isinstance(raw, dict) and "garment" in raw):
                errors.add(f"{where}.garment: missing (no default either)")
            continue
        if "measurements" in merged and "size" in item:
            merged.pop("measurements")
        elif "measurements" in item:
            merged.pop("size", None)
        if merged.get("size") and not merged.get("sex"):
            errors.add(f"{where}.sex: a size needs 'sex' (female or male)")
            continue
        if "measurements" in merged:
            body = BodySpec(
                merged["measurements"].stem, sex=merged.get("sex"), measurements=merged["measurements"]
            )
        elif merged.get("size"):
            body = BodySpec(f"{merged['sex']}-{merged['size']}", size=merged["size"], sex=merged["sex"])
        else:
            body = BodySpec("default", sex=merged.get("sex"))
        result.append(
            BatchItem(
                id=item_id,
                garment=merged["garment"],
                body=body,
                png=root / item_id / "tryon.png",
                pose=merged.get("pose", vocab.DEFAULT_POSE),
                fabric=merged.get("fabric", vocab.DEFAULT_FABRIC),
                type=merged.get("type"),
                material=merged.get("material", "mannequin"),
                color=merged.get("color"),
                look=merged.get("look"),
                render=merged["render"],
                save_blend=True,
            )
        )
    errors.raise_if_any()
    return result


def load_job(path: str | os.PathLike, output_root_arg: str | os.PathLike | None = None) -> Job:
    """Read and validate a job file in full; every problem is one line naming the item and field (exit 2)."""
    path = Path(path)
    job = read_job_file(path)
    name = path.name
    if not isinstance(job, dict):
        raise UserError(f"{name}: expected an object with 'version', 'output' and a matrix or 'items'")
    version = job.get("version")
    if version not in (1, 2) or isinstance(version, bool):
        raise UserError(f"{name}: version: must be 1 (a list of items) or 2 (a matrix), not {clip(version)}")
    root = output_root(path, job.get("output"), output_root_arg)
    base = path.resolve().parent
    items = _flat_items(job, base, root, name) if version == 1 else _matrix_items(job, base, root, name)
    return Job(path.resolve(), root, items)


def parse_shard(text: str) -> tuple[int, int]:
    """'i/N' (1 <= i <= N) -> (i, N), as a SLURM array task id over its count."""
    m = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UserError(f"--shard: expected i/N with 1 <= i <= N (e.g. 3/8), got {clip(text)}")
    return int(m.group(1)), int(m.group(2))


def shard(items: list[BatchItem], index: int, count: int) -> list[BatchItem]:
    """Shard `index` of `count` (1-based): a contiguous block, so a warm worker reuses bodies and fits."""
    n = len(items)
    lo, hi = math.floor((index - 1) * n / count), math.floor(index * n / count)
    return items[lo:hi]


def select(items: list[BatchItem], ids: list[str] | None, shard_text: str | None) -> list[BatchItem]:
    """The items asked for by --items and/or --shard."""
    if ids:
        known = {it.id for it in items}
        missing = [i for i in ids if i not in known]
        if missing:
            raise UserError(f"--items: no item with id '{missing[0]}' in this job")
        wanted = set(ids)
        items = [it for it in items if it.id in wanted]
    if shard_text:
        items = shard(items, *parse_shard(shard_text))
    return items

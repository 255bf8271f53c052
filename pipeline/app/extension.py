"""Build the Blender extension zip: stage the add-on with the engine as a bundled wheel, then validate
and build with the `blender_ext.py` that ships inside the bpy package."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from pipeline import __version__
from pipeline.core.deps import REPO_ROOT
from pipeline.core.errors import InternalError, UserError
from pipeline.core.files import atomic_path

MANIFEST = REPO_ROOT / "blender_manifest.toml"
SHIM = '''"""Try-On extension entry point: the add-on lives in blender_addon/, the engine in the bundled wheel."""

from .blender_addon import register, unregister  # noqa: F401
'''


def blender_ext_script() -> Path:
    """Path of blender_ext.py inside the installed bpy package."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("building the extension needs the bpy package (run `make setup`)")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise InternalError(f"blender_ext.py not found under {root}")
    return found[-1]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def wheel_metadata() -> str:
    """Core metadata (2.4) of the engine's wheel, from pyproject.toml: name, version, summary, licence,
    Python, the dependencies Blender's own Python needs (numpy) and the extras of the full environment."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    if project["version"] != __version__:
        raise InternalError(f"pyproject.toml says {project['version']}, pipeline says {__version__}")
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"License-Expression: {project['license']}",
        f"Requires-Python: {project['requires-python']}",
        *(f"Project-URL: {k}, {v}" for k, v in project.get("urls", {}).items()),
        *(f"Requires-Dist: {d}" for d in project.get("dependencies", [])),
    ]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    return "\n".join(lines) + "\n"


def build_wheel(out_dir: Path) -> Path:
    """A pure-Python wheel of the `pipeline` package (code and its data files, no caches)."""
    dist = f"tryon_pipeline-{__version__}"
    wheel = out_dir / f"{dist}-py3-none-any.whl"
    files = sorted(
        p
        for p in (REPO_ROOT / "pipeline").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc",)
    )
    records = []
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(wheel) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            name = p.relative_to(REPO_ROOT).as_posix()
            data = p.read_bytes()
            zf.writestr(name, data)
            records.append(_record_line(name, data))
        meta = {
            "METADATA": wheel_metadata(),
            "WHEEL": "Wheel-Version: 1.0\nGenerator: tryon-pipeline\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            "top_level.txt": "pipeline\n",
        }
        for fname, text in meta.items():
            name = f"{dist}.dist-info/{fname}"
            zf.writestr(name, text)
            records.append(_record_line(name, text.encode()))
        records.append(f"{dist}.dist-info/RECORD,,")
        zf.writestr(f"{dist}.dist-info/RECORD", "\n".join(records) + "\n")
    return wheel


def stage(stage_dir: Path) -> Path:
    """Lay out the extension's source folder: manifest, entry shim, blender_addon/, wheels/."""
    manifest = tomllib.loads(MANIFEST.read_text())
    if manifest.get("version") != __version__:
        raise InternalError(
            f"blender_manifest.toml version {manifest.get('version')} != pipeline {__version__}"
        )
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    shutil.copy2(MANIFEST, stage_dir / "blender_manifest.toml")
    (stage_dir / "__init__.py").write_text(SHIM)
    shutil.copytree(
        REPO_ROOT / "blender_addon", stage_dir / "blender_addon", ignore=shutil.ignore_patterns("__pycache__")
    )
    build_wheel(stage_dir / "wheels")
    return stage_dir


def _run_blender_ext(*args: str) -> str:
    proc = subprocess.run([sys.executable, str(blender_ext_script()), *args], capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise InternalError(
            f"blender_ext.py {args[0]} failed: {out.splitlines()[-1] if out else proc.returncode}"
        )
    return out


def build_extension(out_dir: str | Path) -> Path:
    """Validate the manifest and build `tryon-<version>.zip` into `out_dir`; returns the zip path."""
    out_dir = Path(out_dir).resolve()
    staged = stage(out_dir / "stage" / "tryon")
    _run_blender_ext("validate", str(staged))
    _run_blender_ext("build", "--source-dir", str(staged), "--output-dir", str(out_dir))
    zips = sorted(out_dir.glob(f"tryon-{__version__}*.zip"))
    if not zips:
        raise InternalError(f"blender_ext.py build wrote no zip into {out_dir}")
    return zips[-1]

"""The size-advice job shared by the `advise` verb and the panel's Advise Size button: the shopper's body
(measurements file or a depth recording), the garment in every size (one file per size, or the project's
sample garments graded from their patterns), fitted and advised; advice JSON and the fit maps of the two
closest sizes side by side. Nothing else is written: no frames, depth or masks of the shopper."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "garments"


def sample_kind(garment: str | os.PathLike | None) -> str | None:
    """'tshirt' / 'skirt' when `garment` names one of the project's pattern garments (by name or by its file
    beside its .pattern.json), else None."""
    from pipeline.core.advice.grading import SAMPLE_GARMENTS

    if garment is None:
        return None
    text = str(garment)
    if text in SAMPLE_GARMENTS:
        return text
    p = Path(text)
    pattern = p.with_suffix(".pattern.json")
    if p.stem in SAMPLE_GARMENTS and pattern.is_file():
        return p.stem
    return None


def parse_size_files(items: list[str] | None) -> dict[str, str]:
    """--size-file S=s.obj (repeated) -> {"S": "s.obj"}."""
    out: dict[str, str] = {}
    for item in items or []:
        size, sep, path = item.partition("=")
        if not sep or not path:
            raise UserError(f"--size-file must be SIZE=FILE (e.g. M=m.obj), not {item!r}")
        key = size.strip().upper()
        if key in out:
            raise UserError(f"--size-file gives size {key} twice")
        out[key] = path
    return out


def shopper_body(
    measurements: str | None = None,
    bag: str | None = None,
    rgbd: str | None = None,
    source: str | None = None,
    sex: str | None = None,
    progress: ProgressCallback = silent,
):
    """(BodyArrays, sex) of the shopper from a measurements file or a depth recording (measured in memory)."""
    from pipeline.core.body.avatar_body import fit_body

    given = sum(x is not None for x in (measurements, bag, rgbd, source))
    if given != 1:
        raise UserError(
            "give exactly one of --measurements FILE, --bag FILE, --rgbd DIR or --source realsense"
        )
    if measurements is not None:
        from pipeline.core.body.measurements import load_measurements

        request = load_measurements(measurements)
        src = measurements
    else:
        from pipeline.core.body.measurements import to_file_object
        from pipeline.core.capture.measure_capture import measure_frames
        from pipeline.core.capture.sources import open_source

        progress(0.0, "measuring the capture")
        with open_source(bag=bag, rgbd=rgbd, source=source) as stream:
            result = measure_frames(stream, warn=lambda m: sys.stderr.write(f"warning: {m}\n"))
        request = to_file_object(result.measurements_cm, result.sex)
        src = str(bag or rgbd or source)
    body, summary = fit_body(request, sex=sex, source=src, progress=lambda f, m="": progress(0.3 * f, m))
    return body, summary.get("sex") or sex or "female"


def load_size_files(sizes: list[str], size_files: dict[str, str]) -> tuple[list[Any], str, str]:
    """(SizeOptions, detected type, label) from one garment file per size; checked against --sizes and for
    girths that grow with the size before any body is fitted."""
    from pipeline.app.tryon import load_garment_file
    from pipeline.core.advice.recommend import SizeOption, size_chart
    from pipeline.core.fit.place import detect_type

    extra = [s for s in size_files if s not in sizes]
    if extra:
        raise UserError(
            f"--size-file {extra[0]}={size_files[extra[0]]}: size {extra[0]} is not in --sizes {','.join(sizes)}"
        )
    missing = [s for s in sizes if s not in size_files]
    if missing:
        raise UserError(f"size {missing[0]} has no --size-file (give one file per size)")
    meshes = {s: load_garment_file(size_files[s]) for s in sizes}
    first = meshes[sizes[0]]
    kind = detect_type(np.asarray(first.vertices), np.asarray(first.faces))
    options = [SizeOption(s, meshes[s]) for s in sizes]
    size_chart(options, kind)  # sizes out of order fail here
    return options, kind, Path(size_files[sizes[0]]).stem


def graded_options(
    garment: str | None, sizes: list[str], sex: str, progress: ProgressCallback
) -> tuple[list[Any], str, str]:
    """(SizeOptions, type, label) of a sample pattern garment graded over `sizes` on the `sex` size table."""
    from pipeline.core.advice.grading import SAMPLE_GARMENTS, grade
    from pipeline.core.advice.recommend import SizeOption

    kind_name = sample_kind(garment)
    if kind_name is None:
        raise UserError(
            f"--garment {garment}: not one of the sample pattern garments ({', '.join(SAMPLE_GARMENTS)}); "
            "give one file per size with --size-file SIZE=FILE"
        )
    graded = grade(kind_name, sizes, sex, progress=progress)
    return (
        [SizeOption(g.size, g.garment, g.design_ease_cm) for g in graded],
        SAMPLE_GARMENTS[kind_name],
        kind_name,
    )


def draw_advice(path: str | os.PathLike, advice, body, faces: np.ndarray, label: str) -> Path:
    """The fit maps (front strain) of the two closest sizes side by side, each titled with its ease words."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from pipeline.core.advice.recommend import signed_cm
    from pipeline.core.files import atomic_path
    from pipeline.core.fit.fitmap import strain_scale

    pair = advice.closest_two()
    fig, axes = plt.subplots(1, len(pair), figsize=(4.2 * len(pair) + 1.2, 6.4), dpi=100, squeeze=False)
    bv, bf = body.vertices, body.faces
    for ax, fit in zip(axes[0], pair, strict=True):
        order = np.argsort(bv[bf].mean(1)[:, 1])[::-1]
        ax.add_collection(PolyCollection(bv[bf[order]][:, :, [0, 2]], facecolors="0.82", edgecolors="none"))
        rgb = fit.strain_colors[faces, :3].mean(1)
        order = np.argsort(fit.vertices[faces].mean(1)[:, 1])[::-1]
        tri = fit.vertices[faces[order]][:, :, [0, 2]]
        ax.add_collection(
            PolyCollection(tri, facecolors=rgb[order], edgecolors=rgb[order] * 0.85, linewidths=0.1)
        )
        half = float(np.abs(bv[:, 0]).max()) * 1.05
        ax.set_xlim(-half, half)
        ax.set_ylim(-0.02, float(bv[:, 2].max()) + 0.02)
        ax.set_aspect("equal")
        ax.axis("off")
        words = "\n".join(f"{r} {signed_cm(fit.ease_cm[r])} cm: {fit.words.get(r, '')}" for r in fit.ease_cm)
        star = " (recommended)" if fit.size == advice.recommended else ""
        ax.set_title(f"size {fit.size}{star}\n{words}", fontsize=8)
    sm = strain_scale()
    fig.colorbar(sm, ax=list(axes[0]), fraction=0.03, pad=0.02).set_label("strain % (+ = stretched)")
    fig.suptitle(f"{label}: {advice.sentence}", fontsize=9)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def _sex_of(measurements: str | None) -> str | None:
    if measurements is None:
        return None
    from pipeline.core.body.measurements import load_measurements

    return load_measurements(measurements).get("sex")


def _table(sex: str) -> dict[str, dict[str, float]]:
    from pipeline.core.body.sizes import size_table

    return {s: {k: float(v) for k, v in row.items()} for s, row in size_table()[sex].items()}


def run_advise(
    out: str | os.PathLike,
    sizes: list[str],
    garment: str | None = None,
    size_files: dict[str, str] | None = None,
    measurements: str | None = None,
    bag: str | None = None,
    rgbd: str | None = None,
    source: str | None = None,
    sex: str | None = None,
    fabric: str = "cotton-jersey",
    garment_type: str | None = None,
    png: str | os.PathLike | None = None,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Advise a size; writes `out` (advice JSON) and `png` (default: beside it, advice.png); returns the advice."""
    import bpy  # noqa: F401  (before anything that may load pymeshlab)

    from pipeline.core.advice.recommend import advise, check_labels, check_size_order, size_chart
    from pipeline.core.files import write_json
    from pipeline.core.fit.fabrics import get_fabric

    out = Path(out)
    if out.suffix.lower() != ".json":
        raise UserError(f"--out must end in .json: {out}")
    get_fabric(fabric)
    sizes = check_size_order(sizes)
    size_files = size_files or {}
    if garment is None and not size_files:
        raise UserError(
            "give --garment (a sample garment: tshirt, skirt) or one --size-file SIZE=FILE per size"
        )
    if not size_files and sample_kind(garment) is None:
        graded_options(garment, [], "female", silent)  # its one-line error, before any work
    files = load_size_files(sizes, size_files) if size_files else None
    early_sex = sex or _sex_of(measurements)
    if files is not None and early_sex:
        check_labels(size_chart(files[0], files[1]), files[1], _table(early_sex))  # before any fitting
    body, shopper_sex = shopper_body(measurements, bag, rgbd, source, sex, progress)
    if files is not None:
        options, kind, label = files
    else:
        options, kind, label = graded_options(
            garment, sizes, sex or shopper_sex, lambda f, m="": progress(0.3 + 0.3 * f, m)
        )
    result = advise(
        body,
        options,
        garment_type or kind,
        fabric,
        _table(shopper_sex),
        lambda f, m="": progress(0.6 + 0.35 * f, m),
    )
    png = Path(png) if png else out.with_suffix(".png")
    draw_advice(png, result, body, np.asarray(options[0].garment.faces), label)
    record = {"garment": label, "sex": shopper_sex, **result.to_json(), "picture": str(png)}
    write_json(out, record)
    progress(1.0, "advised")
    return record

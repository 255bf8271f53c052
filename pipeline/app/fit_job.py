"""The fit job shared by the CLI verb and the Blender panel: bodies from measurements / sizes / an avatar
.blend, the garment fitted onto each (grading = one fit per size), each saved as a rigged .blend scene,
with fit-map PNGs and a JSON record."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import UserError
from pipeline.core.progress import ProgressCallback, silent

if TYPE_CHECKING:
    import bpy

    from pipeline.core.body.anny_model import BodyArrays
    from pipeline.core.fit.api import FitResult
    from pipeline.core.garment.mesh import GarmentMesh


def avatar_body_from_blend(path: str | os.PathLike):
    """Rebuild the BodyArrays of the avatar saved in a .blend (its anny parameters are stored on the object)."""
    import bpy

    from pipeline.blender.blendfile import open_blend
    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.files import parse_json
    from pipeline.core.untrusted import check_regular, clip, read_head

    check_regular(path, "--avatar")
    if not read_head(path, 16).startswith((b"BLENDER", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")):
        raise UserError(f"--avatar {clip(str(path))} is not a .blend file (no BLENDER header)")
    open_blend(path)
    avatars = [o for o in bpy.data.objects if o.get("tryon_role") == "avatar"]
    if not avatars:
        raise UserError(
            f"--avatar {clip(str(path))}: no try-on avatar in this .blend (make one with `python -m pipeline avatar`)"
        )
    raw = avatars[0].get("tryon_params", "{}")
    params = parse_json(raw if isinstance(raw, str) else "", f"--avatar {clip(str(path))}: avatar parameters")
    phen, local, corr = (
        (params.get("phenotypes"), params.get("local_changes"), params.get("corrective"))
        if isinstance(params, dict)
        else (0, 0, 0)
    )
    for value in (phen, local, corr):
        if value is not None and not (
            isinstance(value, dict)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())
        ):
            raise UserError(f"--avatar {clip(str(path))}: its avatar parameters are malformed")
    try:
        return body_arrays(phen or None, local or None, corrective=corr or None)
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(
            f"--avatar {clip(str(path))}: its avatar parameters are malformed ({clip(str(exc))})"
        ) from None


def resolve_bodies(
    measurements: list[str] | None = None,
    size: str | None = None,
    sex: str | None = None,
    grade: list[str] | None = None,
    avatar: str | None = None,
    progress: ProgressCallback = silent,
) -> list[tuple[str, Any]]:
    """(label, body) pairs to fit onto: one per measurements file or graded size, or the avatar's body."""
    from pipeline.core.body.avatar_body import fit_body

    sources = sum(x is not None and x != [] for x in (measurements, size or grade, avatar))
    if sources != 1:
        raise UserError(
            "give exactly one body source: --measurements FILE..., --size SIZE --sex SEX (or --grade), or --avatar A.blend"
        )
    if avatar:
        return [(Path(avatar).stem, avatar_body_from_blend(avatar))]
    if measurements:
        from pipeline.core.body.measurements import load_measurements

        out = []
        for i, m in enumerate(measurements):
            body, _ = fit_body(
                load_measurements(m),
                sex=sex,
                source=m,
                progress=lambda f, msg="", i=i: progress((i + f) / len(measurements), msg),
            )
            label = Path(m).stem.replace(".measurements", "")
            out.append((label if label not in {lab for lab, _ in out} else f"{label}{i + 1}", body))
        return out
    if not sex:
        raise UserError("--sex female|male is needed with --size/--grade")
    sizes = grade or [size]
    out = []
    for i, s in enumerate(sizes):
        body, _ = fit_body(
            size=s, sex=sex, progress=lambda f, msg="", i=i: progress((i + f) / len(sizes), msg)
        )
        out.append((s.upper(), body))
    return out


def output_path(out: Path, label: str, many: bool, suffix: str) -> Path:
    return out.with_name(f"{out.stem}_{label}{suffix}") if many else out.with_suffix(suffix)


def run_fit(
    garment_path: str | os.PathLike | list,
    out_blend: str | os.PathLike,
    bodies: list[tuple[str, Any]],
    garment_type: str | list[str | None] | None = None,
    fabric: str = "cotton-jersey",
    pose: str = "a-pose",
    fit_map_png: str | os.PathLike | None = None,
    material: str = "mannequin",
    scale: float | tuple[float, float, float] | None = None,
    progress: ProgressCallback = silent,
    placement: str = "auto",
) -> list[dict[str, Any]]:
    """Fit the garment (one file or several worn together, each split into its pieces) onto every body, save
    one rigged scene (and fit map) per body; returns the records (each with the outfit's `warnings`)."""
    import copy

    import numpy as np

    from pipeline.core.body.poses import pose_body
    from pipeline.core.files import write_json
    from pipeline.core.fit.fitmap import draw_fit_map
    from pipeline.core.fit.outfit import fit_outfit

    out = Path(out_blend)
    if out.suffix.lower() != ".blend":
        raise UserError(f"--out must end in .blend: {out}")
    from pipeline.app.tryon import garment_paths, load_pieces, placement_record

    paths = garment_paths(garment_path)
    types = garment_type if isinstance(garment_type, list) else [garment_type]
    pieces, place = load_pieces(paths, types, placement, scale)
    many = len(bodies) > 1
    records = []
    for i, (label, body) in enumerate(bodies):

        def step(f: float, m: str = "", i: int = i, label: str = label) -> None:
            progress((i + f) / len(bodies), f"{label}: {m}")

        posed = pose_body(body, pose)
        fitted = fit_outfit(
            copy.deepcopy(pieces),
            posed,
            fabric=fabric,
            scale=scale,
            progress=lambda f, m="", step=step: step(0.8 * f, m),
            place=place,
        )
        result = fitted[0].result
        blend = output_path(out, label, many, ".blend")
        step(0.85, "building the scene")
        save_fitted_scene(blend, posed, [(fp.piece.garment, fp.result) for fp in fitted], pose, material)
        record: dict[str, Any] = {
            "label": label,
            "blend": str(blend),
            **result.stats,
            **placement_record(place),
            "fit_s": round(sum(fp.result.stats["fit_s"] for fp in fitted), 3),
            "pieces": [fp.result.stats for fp in fitted],
            "warnings": [w for fp in fitted for w in fp.result.stats.get("warnings", [])],
        }
        record["passed"] = not record["warnings"]
        if fit_map_png:
            png = output_path(Path(fit_map_png), label, many, ".png")
            faces, offset = [], 0
            for fp in fitted:
                faces.append(fp.piece.garment.faces + offset)
                offset += len(fp.result.vertices)
            draw_fit_map(
                png,
                np.vstack([fp.result.vertices for fp in fitted]),
                np.vstack(faces),
                np.vstack([fp.result.fit_colors for fp in fitted]),
                posed.vertices,
                posed.faces,
                title=f"{fitted[0].piece.name} on {label}: strain (stretch vs rest) and contact pressure",
                pressure=np.concatenate([fp.result.pressure for fp in fitted]),
            )
            record["fit_map"] = str(png)
        records.append(record)
        write_json(out.with_suffix(".json"), {"garment": paths, "pose": pose, "fits": records})
    progress(1.0, "done")
    return records


def save_fitted_scene(path: Path, body, pieces: list, pose: str, material: str = "mannequin") -> Path:
    """A new scene with the rigged avatar and the garment pieces [(GarmentMesh, FitResult)], innermost
    first, bound to its armature, saved as .blend."""
    import bpy  # noqa: F401  (first: makes bmesh and friends importable)

    from pipeline.blender.blendfile import new_scene, save_blend
    from pipeline.blender.tryon_scene import build_dressed_scene
    from pipeline.core.fit.dressed import Dressed

    new_scene()
    (garment, result), *extra = pieces
    build_dressed_scene(Dressed(body, garment, result, pose, extra), material=material)
    return save_blend(path)


def fit_in_scene(
    garment_obj: bpy.types.Object,
    avatar_obj: bpy.types.Object,
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress=None,
) -> list[bpy.types.Object]:
    """The panel's Fit button: fit the selected garment onto the scene's avatar as `pipeline fit` does (split
    into its pieces, each moved from the body it was made for, fitted inside-out in the A-pose and posed as
    the avatar), in this process when it has the numeric stack, else in the project's environment; returns
    the new, rigged piece objects, innermost first (the source object is hidden)."""
    import json

    from pipeline.app import worker
    from pipeline.blender.importers import object_to_garment

    progress = progress or silent
    if avatar_obj.get("tryon_role") != "avatar":
        raise UserError(f"'{avatar_obj.name}' is not a try-on avatar (build one with the Avatar button)")
    params = json.loads(avatar_obj.get("tryon_params", "{}"))
    pose = str(avatar_obj.get("tryon_pose", "a-pose"))
    garment = object_to_garment(garment_obj)
    garment.name = garment_obj.name
    body, pieces = worker.call(
        "fit-on-avatar",
        lambda f, m="": progress(0.05 + 0.85 * f, m),
        garment=garment,
        params=params,
        pose=pose,
        garment_type=garment_type,
        fabric=fabric,
    )
    progress(0.92, "binding to the rig")
    from pipeline.blender.dress import dress_avatar

    many = len(pieces) > 1
    objects = [
        dress_avatar(
            avatar_obj, body, piece, result, name=f"{garment_obj.name}_{piece.name if many else 'fitted'}"
        )
        for piece, result in pieces
    ]
    garment_obj.hide_set(True)
    garment_obj.hide_render = True
    progress(1.0, "fitted")
    return objects


def fit_on_avatar(
    garment: GarmentMesh,
    params: dict[str, Any],
    pose: str = "a-pose",
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback = silent,
) -> tuple[BodyArrays, list[tuple[GarmentMesh, FitResult]]]:
    """Worker step of the panel's Fit button: the avatar's body from its anny parameters, and the garment's
    pieces fitted on it as the `fit` verb fits a file (`fit_outfit`, placed from the body it was made for);
    `garment_type` applies to a one-piece garment."""
    from pipeline.core.body.avatar_body import body_from_params
    from pipeline.core.fit.api import transfer_placement
    from pipeline.core.fit.outfit import fit_outfit, split_outfit

    body = body_from_params(params, pose)
    pieces = split_outfit(garment)
    if garment_type:
        if len(pieces) > 1:
            listed = ", ".join(p.garment_type for p in pieces)
            raise UserError(f"the garment holds {len(pieces)} pieces ({listed}); choose the type Auto for it")
        pieces[0].garment_type = garment_type

    record = {"placement": "landmarks"}

    def place(_file: int, ref):
        placed = transfer_placement(garment, ref, "auto", None, None, "m")  # Blender's scene is in metres
        if placed is not None:
            record.update(placed[2])
        return None if placed is None else placed[:2]

    fitted = fit_outfit(pieces, body, fabric=fabric, progress=progress, place=place)
    for fp in fitted:  # how the garment was placed (its source body and units), in every piece's record
        fp.result.stats.update(record)
    return body, [(fp.piece.garment, fp.result) for fp in fitted]

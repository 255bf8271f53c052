"""One call to fit a garment onto a body: detect its type, place it by landmarks, drape it with the cloth
solver, transfer skin weights, and measure the fit (penetration, strain, contact pressure)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from pipeline.core.errors import UserError
from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.fabrics import get_fabric
from pipeline.core.fit.fitmap import contact_pressure, strain_colors, vertex_strain
from pipeline.core.fit.place import (
    GARMENT_TYPES,
    LOWER_TYPES,
    detect_type,
    has_sleeves,
    place_garment,
)
from pipeline.core.fit.skinning import limb_labels, transfer_weights
from pipeline.core.fit.solver import ClothSolver, DrapeSettings
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.topology import boundary_loops, unique_edges


@dataclasses.dataclass
class FitResult:
    """A garment fitted onto a body: positions (world frame), skin weights, fit map and figures."""

    vertices: np.ndarray  # (G, 3) fitted positions
    weights: np.ndarray  # (G, K) skin weights, rows sum to 1
    weight_bones: np.ndarray  # (G, K) indices into body.bone_names
    garment_type: str
    strain: np.ndarray  # (G,) relative stretch against the rest shape
    pressure: np.ndarray  # (G,) relative contact pressure in [0, 1]
    fit_colors: np.ndarray  # (G, 4) strain colours
    stats: dict[str, Any]
    limbs: np.ndarray | None = None  # (G,) limb label per vertex (skinning.limb_labels), None if unknown

    def garment(self, source: GarmentMesh) -> GarmentMesh:
        """`source` with the fitted positions (and the fit map as vertex colours)."""
        g = source.copy()
        g.vertices = self.vertices.copy()
        return g


def check_garment(garment: GarmentMesh) -> None:
    """One clear error for garments the solver cannot use (empty, NaN, not in metres)."""
    v = np.asarray(garment.vertices)
    if v.ndim != 2 or len(v) < 3 or len(garment.faces) < 1:
        raise UserError(f"garment '{garment.name}' has no faces to fit")
    if not np.isfinite(v).all():
        raise UserError(f"garment '{garment.name}' has NaN or infinite vertex positions")
    size = float(np.ptp(v, axis=0).max())
    if not 0.05 < size < 3.0:
        raise UserError(
            f"garment '{garment.name}' is {size:.3g} units across: expected metres (0.05-3 m); "
            "clean it up first (python -m pipeline clean ...) or fix its units"
        )


def uv_rest_lengths(garment: GarmentMesh) -> np.ndarray | None:
    """Edge rest lengths from the UVs when they are a flat sewing pattern in metres (the project's own
    garments: UVs = pattern coordinates), i.e. when UV and 3D edge lengths agree; otherwise None."""
    if garment.uv is None or garment.face_uv is None:
        return None
    f, fu = np.asarray(garment.faces), np.asarray(garment.face_uv)
    n = len(garment.vertices)
    a, b = f.T.ravel(), np.roll(f, -1, axis=1).T.ravel()
    ua, ub = fu.T.ravel(), np.roll(fu, -1, axis=1).T.ravel()
    l_uv = np.linalg.norm(garment.uv[ua] - garment.uv[ub], axis=1)
    key = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
    uniq, inv = np.unique(key, return_inverse=True)
    rest = np.bincount(inv, weights=l_uv) / np.bincount(inv)
    e = np.stack([uniq // n, uniq % n], axis=1)  # same order as topology.unique_edges
    l3 = np.linalg.norm(garment.vertices[e[:, 1]] - garment.vertices[e[:, 0]], axis=1)
    ratio = rest / np.maximum(l3, 1e-12)
    if 0.8 < np.median(ratio) < 1.25 and np.percentile(np.abs(ratio - 1), 90) < 0.35:
        return rest
    return None


def waistband_limits(
    vertices: np.ndarray,
    faces: np.ndarray,
    kind: str,
    max_strain: float,
    band_m: float = 0.03,
    band_strain: float = 0.01,
) -> np.ndarray | None:
    """Per-edge stretch limits: a bottom's waistband (edges within `band_m` below its top opening) is
    interfaced, nearly inextensible, so the garment hangs from the waist instead of sliding over the hips."""
    if kind not in LOWER_TYPES:
        return None
    loops = boundary_loops(faces)
    if not loops:
        return None
    top = max(loops, key=lambda lp: vertices[lp, 2].mean())
    e = unique_edges(faces)
    from scipy.spatial import cKDTree

    d, _ = cKDTree(vertices[top]).query(vertices[e].mean(1))
    return np.where(d < band_m, 1.0 + band_strain, 1.0 + max_strain)


def penetration_stats(
    field: BodyField, vertices: np.ndarray, signed_distance: np.ndarray | None = None
) -> dict[str, float]:
    """How deep and how often garment vertices sit inside the body (depths in mm); `signed_distance` reuses a
    query already made for these vertices."""
    sd = field.closest(vertices).signed_distance if signed_distance is None else signed_distance
    depth = np.maximum(-sd, 0.0)
    inside = depth > 0
    return {
        "max_penetration_mm": round(float(depth.max()) * 1000, 3),
        "mean_penetration_mm": round(float(depth[inside].mean()) * 1000, 3) if inside.any() else 0.0,
        "penetrating_share": round(float(inside.mean()), 5),
        "min_clearance_mm": round(float(sd.min()) * 1000, 3),
    }


PLACEMENTS = ("auto", "landmarks", "mhclo", "source-body")
MIN_EASE_M = 0.006  # least distance from the skin a transferred garment vertex starts at


def covers_shoulders(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """Whether a garment hangs from the shoulders (tops, dresses, outfits) rather than the waist."""
    faces = np.asarray(faces)
    return detect_type(vertices, faces) not in LOWER_TYPES or has_sleeves(vertices, faces)


def transfer_placement(
    garment: GarmentMesh,
    body,
    placement: str,
    mhclo=None,
    scale: float | tuple[float, float, float] | None = None,
    units_loaded: str | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]] | None:
    """Move the garment from the body it was made for onto `body` before draping: (start, rest, record), or
    None when the landmark placement applies. `start` sits on the posed body, `rest` on the same body in its
    rest pose (the garment graded to this body: its rest shape for the drape).

    auto: a `.mhclo` beside the file (MakeHuman's own binding) when its vertices match the garment's; else the
    project's pattern garments (UVs are their flat sewing pattern, in metres) keep the landmark placement; any
    other garment gets a source-body fit (anny fitted inside it, `pipeline.core.fit.source_body`) and a
    surface transfer from that body."""
    from pipeline.core.fit import transfer

    if placement not in PLACEMENTS:
        raise UserError(f"--placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
    if placement == "landmarks":
        return None
    use_mhclo = mhclo is not None and len(mhclo.refs) == len(garment.vertices)
    if placement == "mhclo" and not use_mhclo:
        raise UserError(
            "--placement mhclo needs a .mhclo beside the garment with one binding per garment vertex"
            + ("" if mhclo is None else f" ({len(mhclo.refs)} bindings, {len(garment.vertices)} vertices)")
        )
    if placement == "auto" and not use_mhclo and uv_rest_lengths(garment) is not None:
        return None
    record: dict[str, Any]
    if use_mhclo and placement in ("auto", "mhclo"):
        from pipeline.core.fit.mhclo import garment_on_body

        rest = garment_on_body(mhclo, body.rest_vertices, body.faces)
        record = {"placement": "mhclo", "mhclo": mhclo.path.name, "bindings": len(mhclo.refs)}
        source_vertices, made_on = rest, body.rest_vertices
    else:
        from pipeline.core.fit.source_body import fit_source_body

        v = np.asarray(garment.vertices, dtype=np.float64)
        fixed = scale is not None
        if fixed:
            v = v * np.asarray(scale, dtype=np.float64)
        fit = fit_source_body(
            v, garment.faces, covers_shoulders=covers_shoulders(v, garment.faces), fix_scale=fixed
        )
        record = {"placement": "source-body", "source_body": fit.record(None if fixed else units_loaded)}
        source_vertices, made_on = v * fit.scale, fit.vertices
    binding = transfer.bind(source_vertices, made_on, body.faces)
    # the garment's mesh is coarser than the body's: with less ease than this, skin bulges between its vertices
    binding.offset[:, 2] = np.maximum(binding.offset[:, 2], MIN_EASE_M)
    rest = transfer.evaluate(binding, body.rest_vertices, body.faces)
    start = transfer.evaluate(binding, body.vertices, body.faces)
    return start, rest, record


def fit_garment(
    garment: GarmentMesh,
    body,
    garment_type: str | None = None,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback | None = None,
    scale: float | tuple[float, float, float] | None = None,
    settings: DrapeSettings | None = None,
    rest_vertices: np.ndarray | None = None,
    rest_edge_lengths: np.ndarray | None = None,
    start_vertices: np.ndarray | None = None,
    obstacles: list[tuple[np.ndarray, np.ndarray]] | None = None,
    skin: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    placement: str = "landmarks",
    mhclo=None,
    units_loaded: str | None = None,
) -> FitResult:
    """Fit `garment` onto `body` (a BodyArrays): place by landmarks, drape, rig, measure.

    `rest_vertices` (default: the garment as given) is the shape the cloth wants to keep; `start_vertices`
    skips the landmark placement (used by grading, which starts from a neighbouring size's fit, and by outfits
    posed after their fit). `obstacles` are garments already fitted underneath, as (vertices, faces) whose
    faces point away from the body: the cloth collides with them as with the body, so layers never cross.
    `skin` = (weights, bones, limb labels) reuses skin weights found before (an outfit fitted in the A-pose,
    then posed) instead of transferring them again.
    `placement` (see `transfer_placement`): "landmarks" (the default here), "auto", "mhclo", "source-body";
    `mhclo` is a `pipeline.core.fit.mhclo.Mhclo` read beside the garment file."""
    progress = progress or silent
    t0 = time.perf_counter()
    check_garment(garment)
    placed = None
    if start_vertices is None and rest_vertices is None:
        progress(0.01, "finding the body the garment was made for")
        placed = transfer_placement(garment, body, placement, mhclo, scale, units_loaded)
    if placed is not None:
        start_vertices, rest_vertices, placed_record = placed
        scale = None
    else:
        placed_record = {"placement": "landmarks" if start_vertices is None else "given"}
    fab = get_fabric(fabric)
    faces = np.asarray(garment.faces, dtype=np.int64)
    rest = np.asarray(garment.vertices if rest_vertices is None else rest_vertices, dtype=np.float64)
    kind = garment_type or detect_type(rest, faces)
    if kind not in GARMENT_TYPES:
        raise UserError(f"--type must be one of {', '.join(GARMENT_TYPES)}, not {kind!r}")
    progress(0.02, f"placing the {kind}")
    field = BodyField(body.vertices, body.faces)
    collide = field if not obstacles else collision_field(body, obstacles)
    if start_vertices is None:
        start = place_garment(garment.vertices, faces, body, kind, scale=scale)
    else:
        start = np.asarray(start_vertices, dtype=np.float64)
    if scale is not None and rest_vertices is None:
        rest = place_garment(rest, faces, body, kind, scale=scale)
    rest_source = "given" if rest_edge_lengths is not None else "mesh"
    if rest_edge_lengths is None and rest_vertices is None and scale is None:
        rest_edge_lengths = uv_rest_lengths(garment)
        rest_source = "pattern-uv" if rest_edge_lengths is not None else "mesh"
    settings = settings or DrapeSettings()
    solver = ClothSolver(
        faces,
        rest,
        fab,
        collide,
        settings,
        rest_edge_lengths=rest_edge_lengths,
        edge_limit=waistband_limits(rest, faces, kind, fab.max_strain),
    )
    t_place = time.perf_counter() - t0
    x, info = solver.settle(start, progress=lambda f, m="": progress(0.05 + 0.8 * f, m))
    progress(0.88, "transferring skin weights")
    # loose cloth below the hips (skirts, dresses) copies weights only where it touches a leg and inpaints the
    # rest across both legs; sleeves and trouser legs keep to their own limb
    if skin is None:
        loose = kind in ("bottom", "skirt", "dress")
        limbs = limb_labels(x, body, kind, field)
        weights, bones, reliable = transfer_weights(
            x,
            faces,
            body,
            field,
            max_distance_m=0.015 if loose else 0.04,
            smooth_iterations=12 if loose else 2,
            limbs=limbs,
        )
    else:
        weights, bones, limbs = skin
        reliable = np.ones(len(x), bool)
    progress(0.95, "measuring the fit")
    strain = vertex_strain(x, faces, rest, solver.edge_rest)
    c = field.closest(x)
    pressure = contact_pressure(c.signed_distance, strain, settings.offset_m)
    e = unique_edges(faces)
    edge_strain = np.linalg.norm(x[e[:, 1]] - x[e[:, 0]], axis=1) / solver.edge_rest - 1
    stats: dict[str, Any] = {
        "garment_type": kind,
        "fabric": fab.name,
        "rest_shape": rest_source,
        **placed_record,
        "vertices": len(x),
        "faces": len(faces),
        **penetration_stats(field, x, c.signed_distance),
        "strain_mean": round(float(np.abs(edge_strain).mean()), 4),
        "strain_p95": round(float(np.percentile(edge_strain, 95)), 4),
        "strain_max": round(float(edge_strain.max()), 4),
        "contact_share": round(float((pressure > 0).mean()), 4),
        "weights_reliable_share": round(float(reliable.mean()), 4),
        "drape_steps": info["steps"],
        "place_s": round(t_place, 3),
        "drape_s": round(info["solve_s"], 3),
        "fit_s": round(time.perf_counter() - t0, 3),
    }
    progress(1.0, "fitted")
    return FitResult(x, weights, bones, kind, strain, pressure, strain_colors(strain), stats, limbs)


def collision_field(body, obstacles: list[tuple[np.ndarray, np.ndarray]]) -> BodyField:
    """One collision field for the body and the garments already fitted over it (each turned so its faces
    point away from the body): the nearest surface decides, so a point just inside an inner layer reads as
    inside and is pushed out over it."""
    from pipeline.core.fit.bodyfield import face_normals
    from pipeline.core.fit.checks import outward_face_normals

    field = BodyField(body.vertices, body.faces)
    verts, faces = [np.asarray(body.vertices, np.float64)], [np.asarray(body.faces, np.int64)]
    n = len(body.vertices)
    for v, f in obstacles:
        f = np.asarray(f, np.int64)
        flip = np.einsum("ij,ij->i", face_normals(v, f), outward_face_normals(v, f, field)) < 0
        f = np.where(flip[:, None], f[:, ::-1], f)
        verts.append(np.asarray(v, np.float64))
        faces.append(f + n)
        n += len(v)
    return BodyField(np.vstack(verts), np.vstack(faces))

"""Tape measures on an anny body mesh, as a tailor takes them (ISO 8559-1 names), in numpy and in torch.

Girths are the perimeter of the convex hull of a planar section of the body (the tape bridges hollows, as a
real tape does), cut only through the body region the measure belongs to (arms excluded from trunk girths).
Lengths run between surface landmarks. Landmarks are fixed vertex ids of anny's topology, derived once by
`pipeline/core/body/data/derive_landmarks.py` (stored in `landmarks.npz`). The floor is the body's lowest vertex.

Definitions (ISO 8559-1:2017 meaning, then how it is taken here):
- stature: vertical distance floor to top of head -> highest vertex minus lowest vertex.
- neck_girth: girth of the neck just below the laryngeal prominence, perpendicular to the neck axis ->
  section of the neck region through the laryngeal prominence and the back of the neck, tilted with them.
- chest_girth / bust_girth: horizontal girth at bust-point (nipple) level, arms excluded -> horizontal
  section of the trunk at the height of the left bust point (the same measure under both names).
- underbust_girth: horizontal girth just below the breasts -> trunk section at the inframammary fold.
- waist_girth: horizontal girth at the natural waist (between the lowest rib and the iliac crest) ->
  trunk section at the natural-waist landmark (narrowest trunk level of the reference body).
- hip_girth: horizontal girth at the level of greatest buttock prominence -> trunk section at that level.
- thigh_girth: horizontal girth of the thigh at its highest position, just below the gluteal fold ->
  horizontal section of the left leg 2 cm below the crotch.
- upper_arm_girth: girth of the upper arm midway between acromion and olecranon, perpendicular to the arm
  -> section of the left upper arm through that midpoint, normal along the acromion-olecranon line.
- shoulder_width: distance between the two acromion points (biacromial breadth) -> straight distance.
- arm_length: acromion over the elbow (olecranon) to the wrist (ulnar styloid) -> sum of the two segments.
- inside_leg_length: vertical distance from the crotch to the floor.
- back_waist_length: from cervicale (nape) down the spine to the waist level -> straight distance from the
  nape to the back-midline waist point (the back between them is nearly flat).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core import vocab
from pipeline.core.topology import unique_edges

LANDMARKS_FILE = Path(__file__).resolve().parent / "data" / "landmarks.npz"
# every tape this module takes: the vocabulary's twelve, and the bust (the same tape as the chest)
MEASUREMENTS = (*vocab.MEASUREMENTS[:3], "bust_girth", *vocab.MEASUREMENTS[3:])
THIGH_BELOW_CROTCH_M = 0.02
_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class _Template:
    ids: dict[str, int]
    regions: dict[str, np.ndarray]  # name -> bool mask (V,)
    edges: np.ndarray  # (E, 2) unique mesh edges


@functools.lru_cache(maxsize=1)
def _template() -> _Template:
    with np.load(LANDMARKS_FILE, allow_pickle=False) as z:
        count = int(z["vertex_count"])
        ids = {str(n): int(i) for n, i in zip(z["names"], z["ids"], strict=True)}
        regions = {}
        for key in ("arm", "leg_l", "leg_r", "neck", "upperarm_l", "upperarm_r"):
            mask = np.zeros(count, dtype=bool)
            mask[z[key]] = True
            regions[key] = mask
    regions["trunk"] = ~regions[
        "arm"
    ]  # trunk girths cut everything but the arms (hip sides are thigh-weighted)
    return _Template(ids=ids, regions=regions, edges=unique_edges(_template_faces()))


@functools.lru_cache(maxsize=1)
def _template_faces() -> np.ndarray:
    with np.load(LANDMARKS_FILE, allow_pickle=False) as z:
        return z["faces"].astype(np.int64)


@functools.lru_cache(maxsize=8)
def _region_edges(region: str) -> np.ndarray:
    """The template edges with both ends in `region`."""
    tpl = _template()
    mask = tpl.regions[region]
    return tpl.edges[mask[tpl.edges[:, 0]] & mask[tpl.edges[:, 1]]]


# --- sections (numpy): which edges the plane cuts and which of those points make the convex hull -----------


@dataclass(frozen=True)
class Section:
    """A girth's plane cut: the cut edges (a, b) whose crossing points make the hull, in hull order."""

    name: str
    edges: np.ndarray  # (H, 2) vertex ids, ordered around the hull


def _plane_for(name: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """(point, unit normal, region) of the plane of girth `name` on vertices `v` (numpy or torch-as-numpy)."""
    ids = _template().ids
    if name in ("chest_girth", "bust_girth"):
        return v[ids["bust_l"]], _UP, "trunk"
    if name == "underbust_girth":
        return v[ids["underbust_l"]], _UP, "trunk"
    if name == "waist_girth":
        return v[ids["waist_side_l"]], _UP, "trunk"
    if name == "hip_girth":
        return v[ids["buttock_l"]], _UP, "trunk"
    if name == "thigh_girth":
        return v[ids["crotch"]] - THIGH_BELOW_CROTCH_M * _UP, _UP, "trunk"
    if name == "upper_arm_girth":
        a, e = v[ids["acromion_l"]], v[ids["elbow_l"]]
        n = e - a
        return (a + e) / 2, n / np.linalg.norm(n), "upperarm_l"
    if name == "neck_girth":
        f, b = v[ids["neck_top_front"]], v[ids["neck_top_back"]]
        n = np.cross(b - f, [1.0, 0.0, 0.0])
        n = n / np.linalg.norm(n)
        return (f + b) / 2, n if n[2] > 0 else -n, "trunk"
    raise KeyError(name)


def _plane_basis(normal: np.ndarray) -> np.ndarray:
    """(2, 3) orthonormal in-plane axes."""
    if normal is _UP:
        return _UP_BASIS
    ref = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(normal, ref)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(normal, u)])


_UP_BASIS = _plane_basis(_UP.copy())  # the horizontal sections' axes, computed once


def find_section(name: str, v: np.ndarray) -> Section:
    """Cut girth `name` on vertices `v` (V, 3) and keep the cut edges that lie on the convex hull, in order."""
    point, normal, region = _plane_for(name, v)
    d = v[:, 2] - point[2] if normal is _UP else (v - point) @ normal  # the same numbers, 3x fewer operations
    candidates = _region_edges(region)
    side = np.sign(d)
    cut = side[candidates[:, 0]] != side[candidates[:, 1]]
    if name == "thigh_girth":
        # The left leg's skin-weight region leaves out the inner thigh next to the crotch (weighted to the
        # pelvis; 12-15 section points, 1.6-2.0 cm of girth on women), so the thigh is cut through everything
        # but the arms on the left of the crotch: where the thighs touch, the tape passes between them.
        left = v[:, 0] > v[_template().ids["crotch"], 0]
        cut &= left[candidates[:, 0]] & left[candidates[:, 1]]
    edges = candidates[cut]
    if len(edges) < 3:
        raise ValueError(f"{name}: the plane does not cut the body")
    pts = _cut_points(v, d, edges)
    if name in ("upper_arm_girth", "thigh_girth", "neck_girth"):
        edges, pts = _component_nearest(edges, pts, point)
    uv = (pts - point) @ _plane_basis(normal).T
    return Section(name, edges[convex_hull_2d(uv)])


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """Indices of the convex hull of (N, 2) points, counter-clockwise (Andrew's monotone chain; numpy only,
    so measuring works in Blender's own Python). Points strictly inside the quadrilateral of the extreme
    points cannot be on the hull and are dropped first (Akl-Toussaint), so the Python loop is shorter."""
    keep = _outside_quadrilateral(points)
    order = keep[np.lexsort((points[keep, 1], points[keep, 0]))]
    xy = points.tolist()

    def chain(idx) -> list[int]:
        out: list[int] = []
        for i in idx:
            bx, by = xy[i]
            while len(out) >= 2:
                ox, oy = xy[out[-2]]
                ax, ay = xy[out[-1]]
                if (ax - ox) * (by - oy) - (ay - oy) * (bx - ox) > 1e-15:
                    break
                out.pop()
            out.append(i)
        return out

    order = order.tolist()
    lower, upper = chain(order), chain(order[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.int64)


def _outside_quadrilateral(points: np.ndarray) -> np.ndarray:
    """Indices of the points not strictly inside the quadrilateral of the right-, top-, left- and bottom-most
    points (counter-clockwise; a margin keeps points on its edges)."""
    poly = points[
        [points[:, 0].argmax(), points[:, 1].argmax(), points[:, 0].argmin(), points[:, 1].argmin()]
    ]
    edge = np.roll(poly, -1, axis=0) - poly
    rel = points[:, None, :] - poly[None, :, :]
    cross = edge[None, :, 0] * rel[..., 1] - edge[None, :, 1] * rel[..., 0]  # > 0: left of (inside) the edge
    inside = (cross > 1e-9 * np.abs(edge).sum(axis=1)[None, :]).all(axis=1)
    return np.flatnonzero(~inside)


def _cut_points(v: np.ndarray, d: np.ndarray, edges: np.ndarray) -> np.ndarray:
    da, db = d[edges[:, 0]], d[edges[:, 1]]
    t = da / (da - db)
    return v[edges[:, 0]] + t[:, None] * (v[edges[:, 1]] - v[edges[:, 0]])


def _component_nearest(edges: np.ndarray, pts: np.ndarray, point: np.ndarray):
    """Keep the connected loop of cut edges nearest `point` (a limb plane may graze other parts). Cut edges of
    one loop share vertices; components by union-find over the edges."""
    parent = list(range(len(edges)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_edge_of: dict[int, int] = {}
    for e, (a, b) in enumerate(edges.tolist()):
        for vid in (a, b):
            other = first_edge_of.setdefault(vid, e)
            ra, rb = find(e), find(other)
            if ra != rb:
                parent[ra] = rb
    roots = np.array([find(i) for i in range(len(edges))])
    keep = roots == roots[np.argmin(np.linalg.norm(pts - point, axis=1))]
    return edges[keep], pts[keep]


def section_perimeter(section: Section, v: np.ndarray) -> float:
    """Perimeter (m) of the hull polygon of `section` on vertices `v` (numpy)."""
    point, normal, _ = _plane_for(section.name, v)
    d = (v - point) @ normal
    pts = _cut_points(v, d, section.edges)
    return float(np.linalg.norm(pts - np.roll(pts, -1, axis=0), axis=1).sum())


def _length(name: str, v: np.ndarray) -> float:
    ids = _template().ids
    p = {k: v[i] for k, i in ids.items()}
    if name == "stature":
        return float(v[:, 2].max() - v[:, 2].min())
    if name == "shoulder_width":
        return float(np.linalg.norm(p["acromion_l"] - p["acromion_r"]))
    if name == "arm_length":
        return float(
            np.linalg.norm(p["acromion_l"] - p["elbow_l"]) + np.linalg.norm(p["elbow_l"] - p["wrist_l"])
        )
    if name == "inside_leg_length":
        return float(p["crotch"][2] - v[:, 2].min())
    if name == "back_waist_length":
        waist_back = p["waist_back"].copy()
        waist_back[2] = p["waist_side_l"][2]
        return float(np.linalg.norm(p["nape"] - waist_back))
    raise KeyError(name)


def landmark_ids() -> dict[str, int]:
    """Landmark name -> vertex id on anny's topology (see data/derive_landmarks.py)."""
    return dict(_template().ids)


def is_girth(name: str) -> bool:
    """True for girths (plane sections), False for lengths."""
    return name.endswith("_girth")


def measure_body(
    vertices_m: np.ndarray, names: tuple[str, ...] | list[str] | None = None
) -> dict[str, float]:
    """Tape measures (cm, ISO 8559-1 names) of an anny-topology body given its (V, 3) vertices in metres."""
    v = np.asarray(vertices_m, dtype=np.float64)
    if v.shape != (len(_template().regions["trunk"]), 3):
        raise ValueError(f"expected anny's ({len(_template().regions['trunk'])}, 3) vertices, got {v.shape}")
    out = {}
    for name in names or MEASUREMENTS:
        metres = section_perimeter(find_section(name, v), v) if is_girth(name) else _length(name, v)
        out[name] = round(100.0 * metres, 2)
    return out


def body_landmarks(body) -> dict[str, np.ndarray | float]:
    """World-frame landmark points (m) of a BodyArrays in its current pose, plus their heights.

    Points: neck_front (jugular notch), nape (cervicale), neck_base (their midpoint), shoulder_l/r
    (acromion), elbow_l/r, wrist_l/r, bust_l/r, chest (midline at bust height), underbust, waist, waist_l/r
    (sides), waist_back, hip (midline at the hip level, back), buttock_l, crotch; and `<name>_z` heights
    (floats) for neck_base, shoulder, chest, underbust, waist, hip, crotch, and `floor_z`.
    """
    v = np.asarray(body.vertices, dtype=np.float64)
    ids = _template().ids
    p = {k: v[i].copy() for k, i in ids.items()}
    out: dict[str, np.ndarray] = {
        "neck_front": p["neck_front"],
        "nape": p["nape"],
        "neck_base": (p["neck_front"] + p["nape"]) / 2,
        "shoulder_l": p["acromion_l"],
        "shoulder_r": p["acromion_r"],
        "elbow_l": p["elbow_l"],
        "elbow_r": p["elbow_r"],
        "wrist_l": p["wrist_l"],
        "wrist_r": p["wrist_r"],
        "bust_l": p["bust_l"],
        "bust_r": p["bust_r"],
        "underbust": p["underbust_l"] * [0.0, 1.0, 1.0],
        "waist_l": p["waist_side_l"],
        "waist_r": p["waist_side_l"] * [-1.0, 1.0, 1.0],
        "waist_back": p["waist_back"],
        "waist": (p["waist_front"] + p["waist_back"]) / 2,
        "buttock_l": p["buttock_l"],
        "crotch": p["crotch"],
    }
    out["chest"] = np.array(
        [0.0, (p["bust_l"][1] + p["bust_r"][1]) / 2, (p["bust_l"][2] + p["bust_r"][2]) / 2]
    )
    out["waist"][2] = p["waist_side_l"][2]
    out["hip"] = np.array([0.0, p["buttock_l"][1], p["buttock_l"][2]])
    heights = {
        "neck_base_z": out["neck_base"][2],
        "shoulder_z": (p["acromion_l"][2] + p["acromion_r"][2]) / 2,
        "chest_z": out["chest"][2],
        "underbust_z": p["underbust_l"][2],
        "waist_z": p["waist_side_l"][2],
        "hip_z": p["buttock_l"][2],
        "crotch_z": p["crotch"][2],
        "floor_z": v[:, 2].min(),
    }
    out.update({k: float(h) for k, h in heights.items()})
    return out


# --- torch (differentiable) --------------------------------------------------------------------------------


def find_sections(vertices_m: np.ndarray, names) -> dict[str, Section]:
    """The hull sections of the girths in `names` on numpy vertices (recomputed now and then by the optimiser)."""
    v = np.asarray(vertices_m, dtype=np.float64)
    return {n: find_section(n, v) for n in names if is_girth(n)}


def measure_torch(vertices, names, sections: dict[str, Section], ids: dict[str, int] | None = None):
    """Differentiable measures (metres) of torch vertices (..., V, 3), girths along the given hull sections.
    `vertices` may be a subset of the body's vertices (those the measures read, including the highest and
    lowest for stature), with `ids` and the sections' edges indexing into that subset. The horizontal girths
    are taken together (one set of operations over all their hull edges): the shape fit calls this a
    thousand times per body."""
    import torch

    ids = _template().ids if ids is None else ids
    v = vertices
    up = torch.tensor([0.0, 0.0, 1.0], dtype=v.dtype)
    flat = [n for n in names if n in _HORIZONTAL]
    out = _horizontal_girths(v, flat, sections, ids) if flat else {}
    for name in names:
        if name in out:
            continue
        if is_girth(name):
            point, normal = _plane_torch(name, v, ids, up)
            e = torch.as_tensor(sections[name].edges)
            out[name] = _hull_perimeter(v[..., e[:, 0], :], v[..., e[:, 1], :], point, normal)
        else:
            out[name] = _length_torch(name, v, ids)
    return out


# horizontal girths: the landmark whose height sets the plane, and its offset (m)
_HORIZONTAL = {
    "chest_girth": ("bust_l", 0.0),
    "bust_girth": ("bust_l", 0.0),
    "underbust_girth": ("underbust_l", 0.0),
    "waist_girth": ("waist_side_l", 0.0),
    "hip_girth": ("buttock_l", 0.0),
    "thigh_girth": ("crotch", -THIGH_BELOW_CROTCH_M),
}


def _crossing(va, vb, da, db):
    """The points where edges (va, vb) (..., H, 3) cross a plane, from their ends' signed distances to it (da,
    db: (..., H)), kept on the edge."""
    import torch

    denom = da - db
    denom = torch.where(denom.abs() < 1e-9, torch.full_like(denom, 1e-9), denom)
    return va + (da / denom).clamp(0.0, 1.0)[..., None] * (vb - va)


def horizontal_section_points(v, name: str, section: Section, ids: dict[str, int] | None = None):
    """The points (H, 3) where a horizontal girth's hull section (`find_section`) crosses its level on torch
    vertices (V, 3), differentiable: the section's extents along X and Y are its breadth and depth."""
    import torch

    ids = _template().ids if ids is None else ids
    e = torch.as_tensor(section.edges)
    lm, shift = _HORIZONTAL[name]
    level = v[ids[lm], 2] + shift
    va, vb = v[e[:, 0]], v[e[:, 1]]
    return _crossing(va, vb, va[:, 2] - level, vb[:, 2] - level)


def _hull_perimeter(va, vb, point, normal):
    """Perimeter of the closed polygon of the points where edges (va, vb) (..., H, 3) cross the plane."""
    import torch

    da = ((va - point[..., None, :]) * normal[..., None, :]).sum(-1)
    db = ((vb - point[..., None, :]) * normal[..., None, :]).sum(-1)
    pts = _crossing(va, vb, da, db)
    seg = pts - torch.roll(pts, -1, dims=-2)
    return torch.sqrt((seg * seg).sum(-1) + 1e-12).sum(-1)


def _horizontal_girths(v, names, sections, ids) -> dict:
    """The horizontal girths in `names` at once: every hull edge of every girth in one array, each with its
    girth's plane height; each point's successor along its own hull; per-girth sums by index_add."""
    import torch

    edges = [np.asarray(sections[n].edges) for n in names]
    sizes = [len(e) for e in edges]
    start = np.cumsum([0, *sizes[:-1]])
    e = torch.as_tensor(np.concatenate(edges))
    nxt = torch.as_tensor(
        np.concatenate([s + np.roll(np.arange(k), -1) for s, k in zip(start, sizes, strict=True)])
    )
    owner = torch.as_tensor(np.repeat(np.arange(len(names)), sizes))
    lm = torch.as_tensor([ids[_HORIZONTAL[n][0]] for n in names])
    shift = torch.as_tensor([_HORIZONTAL[n][1] for n in names], dtype=v.dtype)
    level = (v[..., lm, 2] + shift)[..., owner]  # (..., H) plane height per edge
    da, db = v[..., e[:, 0], 2] - level, v[..., e[:, 1], 2] - level
    pts = _crossing(v[..., e[:, 0], :], v[..., e[:, 1], :], da, db)
    seg = pts - pts[..., nxt, :]
    lengths = torch.sqrt((seg * seg).sum(-1) + 1e-12)
    total = torch.zeros((*lengths.shape[:-1], len(names)), dtype=v.dtype)
    total = total.index_add(-1, owner, lengths)
    return {n: total[..., i] for i, n in enumerate(names)}


def _plane_torch(name: str, v, ids, up):
    import torch

    if name in ("chest_girth", "bust_girth", "underbust_girth", "waist_girth", "hip_girth"):
        key = {
            "chest_girth": "bust_l",
            "bust_girth": "bust_l",
            "underbust_girth": "underbust_l",
            "waist_girth": "waist_side_l",
            "hip_girth": "buttock_l",
        }[name]
        return v[..., ids[key], :], up.expand_as(v[..., 0, :])
    if name == "thigh_girth":
        return v[..., ids["crotch"], :] - THIGH_BELOW_CROTCH_M * up, up.expand_as(v[..., 0, :])
    if name == "upper_arm_girth":
        a, e = v[..., ids["acromion_l"], :], v[..., ids["elbow_l"], :]
        n = e - a
        return (a + e) / 2, n / n.norm(dim=-1, keepdim=True)
    if name == "neck_girth":
        f, b = v[..., ids["neck_top_front"], :], v[..., ids["neck_top_back"], :]
        x = torch.zeros_like(f)
        x[..., 0] = 1.0
        n = torch.cross(b - f, x, dim=-1)
        n = n / n.norm(dim=-1, keepdim=True)
        n = torch.where(n[..., 2:3] < 0, -n, n)
        return (f + b) / 2, n
    raise KeyError(name)


def _length_torch(name: str, v, ids):
    def p(k):
        return v[..., ids[k], :]

    if name == "stature":
        return v[..., 2].amax(-1) - v[..., 2].amin(-1)
    if name == "shoulder_width":
        return (p("acromion_l") - p("acromion_r")).norm(dim=-1)
    if name == "arm_length":
        return (p("acromion_l") - p("elbow_l")).norm(dim=-1) + (p("elbow_l") - p("wrist_l")).norm(dim=-1)
    if name == "inside_leg_length":
        return p("crotch")[..., 2] - v[..., 2].amin(-1)
    if name == "back_waist_length":
        wb = p("waist_back")
        dz = p("nape")[..., 2] - p("waist_side_l")[..., 2]
        dxy = (p("nape")[..., :2] - wb[..., :2]).norm(dim=-1)
        return (dz * dz + dxy * dxy).sqrt()
    raise KeyError(name)

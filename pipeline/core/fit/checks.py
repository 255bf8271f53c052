"""Two-sided contact figures of a fitted garment in its final pose, and the quality gates a fit must pass.

Numpy/scipy and Warp (the exact closest-point queries reuse `BodyField`, which runs on any triangle mesh; the
ray queries use Warp's BVH):

- `garment_inside_body`: garment vertices inside the body (depth in mm, share): the solver's own check.
- `body_through_garment`: body vertices the garment should cover that stand out through its faces (skin
  showing between garment vertices). From each body vertex a ray goes both ways along its normal (Warp's BVH
  ray query); the nearer first cloth hit is the cloth over it. The skin stands out through that cloth when
  the hit lies behind it (along the inward normal, inside the body: the cloth passes under the skin there),
  by the skin's distance from the cloth across it (the hit's distance times the cosine), unless the ray grazes
  the cloth (within about 17 degrees of it, where one ray does not decide the side). Which way a cloth face is
  wound never matters, so the under-layer of a folded collar, a fold's turned-back wall or a piece sewn from
  panels wound both ways read alike. A body vertex is
  *covered* when (a) such a hit lies within 8 cm, (b) over this part of the body: the body point nearest to
  the hit is within 2 cm of the vertex (a sleeve hanging by the torso's side, or trousers beside a hand, do
  not cover them), and, given the body's part labels, (c) the vertex's part (hand, forearm, thigh, torso...)
  is one the garment covers: at least 3 % of the garment's vertices lie nearest to it (fingers touching a
  skirt's side are not covered by it), (d) it is not pinched: facing other skin within 1.5 cm along its normal
  (`pinched_vertices`: a hanging arm pressed to the torso, the armpit's and the crotch's creases, where no
  cloth fits and no camera sees), and (e, given the garment's limb labels) the hit is on its own segment's
  cloth (an arm's skin on its sleeve, not on the outside of the jacket's side beside it). Skin past an opening
  (the neck above a collar, the forearm beyond a short sleeve) has no hit along its normal and is not covered.
- `off_body_share`: share of the garment (vertex area) more than 8 cm from the body where it should follow it.
  Parts that hang free by design are left out: for skirts and dresses everything below the hip line, and for
  every type the band within 4 cm of an opening that lies below the hips or on a limb (a flared hem, a loose
  sleeve or trouser end).
- `gate(stats)`: one warning line per failed limit, naming the problem and the likely fix.

Limits (`LIMITS`): strain p95 over 25 %, garment more than 2 mm inside the body, poke-through over 0.2 % of the
covered body vertices or deeper than 5 mm, more than 3 % off the body, a piece off its limb, layers crossing.
The API (function names, argument order, returned keys) is stable: the drape bench uses it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from pipeline.core.fit.bodyfield import BodyField, face_normals, vertex_normals
from pipeline.core.topology import boundary_loops, face_areas, face_components

LIMITS: dict[str, float] = {
    "strain_p95": 0.25,  # relative stretch, 95th percentile of edges
    "inside_max_mm": 2.0,  # deepest garment vertex inside the body
    "poke_share": 0.002,  # share of covered body vertices standing out through the cloth
    "poke_max_mm": 5.0,  # deepest body vertex standing out through the cloth
    "off_body_share": 0.03,  # share of the garment (area) more than 8 cm off the body where it should follow
    "off_limb_share": 0.02,  # share of a sleeve/leg's vertices more than 8 cm from their own limb's skin
    "crossing_share": 0.01,  # share of an outer piece's vertices inside a piece under it
}
OFF_BODY_M = 0.08
FREE_HANGING = ("skirt", "dress", "bottom")  # types whose part below the hips hangs free


def _field(vertices: np.ndarray, faces: np.ndarray, field: BodyField | None) -> BodyField:
    return field if field is not None else BodyField(vertices, faces)


def garment_inside_body(
    garment_vertices: np.ndarray,
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    body_field: BodyField | None = None,
    tolerance_mm: float = 0.0,
) -> dict[str, float]:
    """Garment vertices inside the body: `inside_max_mm` (deepest), `inside_share` (share deeper than
    `tolerance_mm`), `inside_mean_mm` (mean depth of those)."""
    sd = _field(body_vertices, body_faces, body_field).closest(garment_vertices).signed_distance
    depth_mm = np.maximum(-sd, 0.0) * 1000
    inside = depth_mm > tolerance_mm
    return {
        "inside_max_mm": round(float(depth_mm.max()) if len(depth_mm) else 0.0, 3),
        "inside_share": round(float(inside.mean()) if len(depth_mm) else 0.0, 5),
        "inside_mean_mm": round(float(depth_mm[inside].mean()) if inside.any() else 0.0, 3),
    }


def consistent_winding(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """`faces` with every face wound like its neighbours across manifold edges (rows keep their order)."""
    from pipeline.core.topology import face_adjacency

    faces = np.asarray(faces, np.int64)
    _, _, agree = face_adjacency(faces)
    if agree.all():
        return faces
    import trimesh

    mesh = trimesh.Trimesh(np.asarray(vertices, np.float64), faces.copy(), process=False)
    trimesh.repair.fix_winding(mesh)
    return np.asarray(mesh.faces, np.int64)


def outward_face_normals(
    garment_vertices: np.ndarray, garment_faces: np.ndarray, body_field: BodyField
) -> np.ndarray:
    """Garment face normals turned to point away from the body, decided once per connected piece (a majority
    of area-weighted votes against the body normal at each face's nearest body point), so a place where the
    body pokes through cannot flip its own faces. Faces wound against their neighbours (panels sewn with
    opposite windings) are turned to agree first (trimesh's `fix_winding`)."""
    garment_faces = consistent_winding(garment_vertices, garment_faces)
    fn = face_normals(garment_vertices, garment_faces)
    centre = garment_vertices[garment_faces].mean(1)
    c = body_field.closest(centre)
    area = face_areas(garment_vertices, garment_faces)
    vote = np.einsum("ij,ij->i", fn, c.normals) * area
    comp = face_components(garment_faces, len(garment_vertices))
    sign = np.sign(np.bincount(comp, weights=vote))
    sign[sign == 0] = 1.0
    return fn * sign[comp][:, None]


def boundary_vertex_mask(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Vertices on an opening (a boundary loop) of the mesh."""
    mask = np.zeros(n_vertices, bool)
    for loop in boundary_loops(faces):
        mask[loop] = True
    return mask


PART_WORDS = (  # coarse body parts from bone names (first match wins), each side apart
    ("hand", ("finger", "metacarpal", "wrist", "hand", "thumb")),
    ("forearm", ("lowerarm",)),
    ("upperarm", ("upperarm", "shoulder", "clavicle")),
    ("foot", ("foot", "toe")),
    ("shin", ("lowerleg",)),
    ("thigh", ("upperleg",)),
    ("head", ("neck", "head", "eye", "jaw", "tongue", "ear", "nose", "lip", "brow", "cheek", "teeth")),
)


PARTS = tuple(
    sorted({p + side for p, _ in PART_WORDS if p != "head" for side in (".L", ".R", "")} | {"head", "torso"})
)  # every label `part_of_bone` can give, in a fixed order (the integer labels index it)
GRAZING_COS = 0.3  # a ray meeting the cloth flatter than this (about 17 degrees) only grazes it
UNCOVERED_PARTS = ("hand", "foot")  # parts no garment type here covers
PINCH_M = 0.015  # two skin offsets and two cloth thicknesses: less room than this holds no cloth


def part_group(part: str) -> str:
    """The body segment a coarse part belongs to: `arm.L`, `arm.R`, `leg.L`, `leg.R` or `trunk`."""
    base, _, side = part.partition(".")
    if base in ("hand", "forearm", "upperarm"):
        return "arm." + side
    if base in ("foot", "shin", "thigh"):
        return "leg." + side
    return "trunk"


def pinched_vertices(
    body_vertices: np.ndarray, body_faces: np.ndarray, pinch_m: float = PINCH_M
) -> np.ndarray:
    """(V,) mask of body vertices with other skin within `pinch_m` along their normal line: ahead (a hanging arm
    against the torso, the thighs in a stride, the armpit's and the crotch's creases) or behind (skin sunk
    inside another part of the body; also parts thinner than `pinch_m`, such as fingers). No cloth fits there
    (two layers need about 1.5 cm) and no camera sees it, so these are not counted as covered (a ray query on
    the body itself, Warp's BVH). At the apex of a sharp crease the normal line is ill-defined (area- and
    angle-weighted normals differ by up to 35 degrees at the armpit of a heavy body in a relaxed pose), so
    both are tried and either finding skin makes the vertex pinched."""
    import trimesh

    from pipeline.core.fit.warp_kernels import ray_cast

    bv = np.asarray(body_vertices, np.float64)
    bf = np.asarray(body_faces, np.int64)
    mesh = trimesh.Trimesh(bv, bf, process=False)
    by_angle = trimesh.geometry.weighted_vertex_normals(len(bv), bf, mesh.face_normals, mesh.face_angles)
    pinched = np.zeros(len(bv), bool)
    for normals in (vertex_normals(bv, bf), by_angle):
        # ahead: facing skin; behind: skin inside another part (an arm sunk into the torso)
        for sign in (1.0, -1.0):
            hit = ray_cast(bv, bf, bv + sign * 1e-4 * normals, sign * normals, pinch_m)
            if hit is None:
                raise RuntimeError("the poke-through check needs Warp (warp-lang), which anny installs")
            pinched |= hit[1] >= 0
    return pinched


def part_of_bone(name: str) -> str:
    """A bone's coarse body part (`hand.L`, `thigh.R`, `torso`, ...), from words in its name."""
    low = name.lower()
    side = ".L" if low.endswith(".l") else ".R" if low.endswith(".r") else ""
    for part, words in PART_WORDS:
        if any(w in low for w in words):
            return part + (side if part != "head" else "")
    return "torso"


def body_part_labels(bone_names: list[str], weights: np.ndarray, weight_bones: np.ndarray) -> np.ndarray:
    """(V,) integer coarse body part of each body vertex (an index into `PARTS`), from its heaviest skin
    weight's bone."""
    index = np.array([PARTS.index(part_of_bone(n)) for n in bone_names])
    return index[weight_bones[np.arange(len(weights)), np.argmax(weights, axis=1)]]


def covered_parts(garment_nearest_body: np.ndarray, parts: np.ndarray, min_share: float = 0.03) -> np.ndarray:
    """(V,) mask of body vertices whose part the garment covers: at least `min_share` of the garment's
    vertices have their nearest body vertex in that part (fingers touching a skirt's side do not make the
    hands covered). Hands and feet never are (`UNCOVERED_PARTS`: no garment type here is a glove or a sock;
    a hand hanging against a wide skirt is beside it, not under it)."""
    counts = np.bincount(parts[garment_nearest_body], minlength=len(PARTS))
    worn = counts / max(len(garment_nearest_body), 1) >= min_share
    worn[[k for k, name in enumerate(PARTS) if name.split(".")[0] in UNCOVERED_PARTS]] = False
    return worn[parts]


LIMB_OF_GROUP = {"trunk": 0, "arm.L": 1, "arm.R": 2, "leg.L": 3, "leg.R": 4}  # as `skinning.LIMB_NAMES`


def face_owner(face_limbs: np.ndarray) -> np.ndarray:
    """(F,) the segment each cloth face wraps, from its corners' limb labels (F, 3): the one limb among them
    (a seam face between a sleeve and the torso goes with the sleeve), 0 (the torso) when none, -1 when two
    limbs meet in it (the crotch seam between the trouser legs: neither leg's alone)."""
    lo = np.where(face_limbs > 0, face_limbs, 99).min(1)
    hi = face_limbs.max(1)
    return np.where(hi == 0, 0, np.where(lo == hi, hi, -1))


def _own_cloth_groups(body_parts, limbs, n_body: int, gf: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(body vertex rows, garment face ids) pairs: each body segment with the cloth of its own segment where
    the garment has one (an arm's skin with its sleeve, the torso's with the torso's cloth: `face_owner`), so
    a forearm hanging against a jacket's hem, or the torso beside a sleeve's inner wall, is judged by the
    layer over it and not by the outside of its neighbour. Segments the garment has no cloth of (thighs under
    a skirt), and every vertex without labels, go with all of the cloth."""
    every = np.arange(len(gf))
    if body_parts is None or limbs is None:
        return [(np.arange(n_body), every)]
    limbs = np.asarray(limbs, np.int64)
    own = np.array([LIMB_OF_GROUP.get(part_group(PARTS[k]), -1) for k in np.asarray(body_parts)])
    owner = face_owner(limbs[gf])
    groups, rest = [], np.ones(n_body, bool)
    for label in np.unique(own):
        faces = np.nonzero(owner == label)[0]
        if label < 0 or not len(faces):
            continue
        rows = np.nonzero(own == label)[0]
        groups.append((rows, faces))
        rest[rows] = False
    if rest.any():
        groups.append((np.nonzero(rest)[0], every))
    return groups


def _cloth_along_normals(bv, bn, gv, gf, groups, reach_m: float, field: BodyField, near_m: float):
    """The cloth over each body vertex: of the first cloth hits along its normal line, one each way within
    `reach_m`, the nearer one lying over this part of the body (its own nearest body point within `near_m` of
    the vertex: not a sleeve hanging in front of the torso, not trousers beside a hand). Returns (distance
    (inf = none), face id, barycentrics, ray direction)."""
    from pipeline.core.fit.warp_kernels import ray_cast

    t = np.full(len(bv), np.inf)
    face = np.full(len(bv), -1, np.int64)
    bary = np.zeros((len(bv), 3))
    dirs = np.zeros((len(bv), 3))
    for rows, fids in groups:
        for sign in (1.0, -1.0):
            hit = ray_cast(gv, gf[fids], bv[rows], sign * bn[rows], reach_m)
            if hit is None:
                raise RuntimeError("the poke-through check needs Warp (warp-lang), which anny installs")
            h_t, h_face, h_bary = hit
            found = h_face >= 0
            points = (gv[gf[fids[np.where(found, h_face, 0)]]] * h_bary[:, :, None]).sum(1)
            over_here = np.linalg.norm(field.closest(points).points - bv[rows], axis=1) < near_m
            better = found & over_here & (h_t < t[rows])
            r = rows[better]
            t[r], face[r], bary[r], dirs[r] = h_t[better], fids[h_face[better]], h_bary[better], sign * bn[r]
    return t, face, bary, dirs


def poke_through(
    body_vertices: np.ndarray,
    garment_vertices: np.ndarray,
    garment_faces: np.ndarray,
    body_field: BodyField,
    near_m: float = 0.02,
    max_gap_m: float = OFF_BODY_M,
    body_parts: np.ndarray | None = None,
    pinched: np.ndarray | None = None,
    garment_limbs: np.ndarray | None = None,
):
    """Per body vertex: (covered mask, signed distance from the cloth's surface to the skin, measured across the
    cloth at the hit (positive = the skin stands out through the cloth), the cloth face hit, barycentrics there).

    From each body vertex a ray goes both ways along its normal (up to `max_gap_m`); the nearer first hit whose
    own nearest body point is the vertex's neighbourhood (within `near_m`: not a sleeve hanging in front of the
    torso) is the cloth over it (`_cloth_along_normals`). The vertex pokes through when that hit lies behind
    it, inside the body (the cloth passes under the skin), and the ray crosses the cloth rather than grazing
    it. Face winding is not used. Skin facing other skin within 1.5 cm is not covered (`pinched_vertices`, or
    the given mask). `body_parts` (V,) labels (`body_part_labels`) limit the covered vertices to the parts the
    garment covers; with the garment's `garment_limbs` (G,) too (`skinning.limb_labels`) each segment is judged
    against its own cloth (`_own_cloth_groups`)."""
    bv = np.asarray(body_vertices, np.float64)
    gv = np.asarray(garment_vertices, np.float64)
    gf = np.asarray(garment_faces, np.int64)
    groups = _own_cloth_groups(body_parts, garment_limbs, len(bv), gf)
    bn = body_field.vnormals
    t, face, bary, dirs = _cloth_along_normals(bv, bn, gv, gf, groups, max_gap_m, body_field, near_m)
    covered = face >= 0
    face_c = np.where(covered, face, 0)
    hit = (gv[gf[face_c]] * bary[:, :, None]).sum(1)
    behind = (np.einsum("ij,ij->i", dirs, bn) < 0) & (body_field.closest(hit).signed_distance < 0)
    # across the cloth, not grazing it: at grazing incidence (a crease at the armpit, a bib's edge over the
    # bust) the skin runs along the cloth and which side it is on is not decided by one ray
    cos = np.abs(np.einsum("ij,ij->i", face_normals(gv, gf)[face_c], dirs))
    depth = np.where(covered, t, 0.0) * cos  # the skin's distance from the cloth across it
    signed = np.where(covered, np.where(behind & (cos > GRAZING_COS), depth, -depth), -np.inf)
    covered &= ~(pinched_vertices(bv, body_field.faces) if pinched is None else pinched)
    if body_parts is not None:
        g = body_field.closest(gv)
        nearest = body_field.faces[g.faces][np.arange(len(gv)), g.bary.argmax(1)]
        covered &= covered_parts(nearest, np.asarray(body_parts))
    return covered, signed, face_c, bary


def body_through_garment(
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    garment_vertices: np.ndarray,
    garment_faces: np.ndarray,
    body_field: BodyField | None = None,
    near_m: float = 0.02,
    max_gap_m: float = OFF_BODY_M,
    body_parts: np.ndarray | None = None,
    garment_limbs: np.ndarray | None = None,
    pinched: np.ndarray | None = None,
) -> dict[str, float | int]:
    """Body vertices the garment should cover that stand outside the cloth surface (see the module doc).
    `pinched` is the body's `pinched_vertices` when already found (one per body, whatever the garment).

    Returns `covered_vertices`, `pinched_vertices` (skin facing other skin within 1.5 cm, not counted as
    covered), `poke_vertices`, `poke_share` (of covered), `poke_max_mm` (deepest, along the
    garment's outward normal) and `poke_p99_mm`."""
    body_field = _field(body_vertices, body_faces, body_field)
    if pinched is None:
        pinched = pinched_vertices(body_vertices, body_field.faces)
    covered, signed, *_ = poke_through(
        body_vertices,
        garment_vertices,
        garment_faces,
        body_field,
        near_m,
        max_gap_m,
        body_parts,
        pinched,
        garment_limbs,
    )
    out = covered & (signed > 0)
    depth_mm = np.where(out, signed, 0.0) * 1000
    n_cov = int(covered.sum())
    return {
        "covered_vertices": n_cov,
        "pinched_vertices": int(pinched.sum()),
        "poke_vertices": int(out.sum()),
        "poke_share": round(float(out.sum() / max(n_cov, 1)), 5),
        "poke_max_mm": round(float(depth_mm.max()), 3),
        "poke_p99_mm": round(float(np.percentile(depth_mm[covered], 99)) if n_cov else 0.0, 3),
    }


def free_hanging_mask(
    garment_vertices: np.ndarray,
    garment_faces: np.ndarray,
    garment_type: str,
    hip_z: float,
    band_m: float = 0.04,
    limb_vertices: np.ndarray | None = None,
) -> np.ndarray:
    """Garment vertices allowed to stand off the body: below `hip_z` on skirts and dresses, and a `band_m`
    band above any opening that lies below the hips or (given `limb_vertices`, a mask over the garment) on a
    limb: flared hems, loose sleeve and trouser ends."""
    gv = garment_vertices
    free = np.zeros(len(gv), bool)
    if garment_type in FREE_HANGING:
        free |= gv[:, 2] < hip_z
    loops = boundary_loops(np.asarray(garment_faces, np.int64))
    ends = [
        lp
        for lp in loops
        if gv[lp, 2].mean() < hip_z or (limb_vertices is not None and limb_vertices[lp].mean() > 0.5)
    ]
    if ends:
        d, _ = cKDTree(gv[np.concatenate(ends)]).query(gv, distance_upper_bound=band_m)
        free |= np.isfinite(d)
    return free


def off_body_share(
    garment_vertices: np.ndarray,
    garment_faces: np.ndarray,
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    free: np.ndarray | None = None,
    body_field: BodyField | None = None,
    limit_m: float = OFF_BODY_M,
) -> dict[str, float]:
    """Share of the garment's area (vertex areas) more than `limit_m` from the body, not counting the `free`
    vertices (see `free_hanging_mask`): `off_body_share`, and `off_body_max_mm` over the counted part."""
    gv = np.asarray(garment_vertices, np.float64)
    gf = np.asarray(garment_faces, np.int64)
    d = np.abs(_field(body_vertices, body_faces, body_field).closest(gv).signed_distance)
    area = np.zeros(len(gv))
    fa = face_areas(gv, gf) / 3
    for k in range(3):
        np.add.at(area, gf[:, k], fa)
    counted = np.ones(len(gv), bool) if free is None else ~np.asarray(free, bool)
    far = counted & (d > limit_m)
    total = float(area.sum())
    return {
        "off_body_share": round(float(area[far].sum() / total) if total > 0 else 0.0, 5),
        "off_body_max_mm": round(float(d[counted].max()) * 1000 if counted.any() else 0.0, 1),
    }


def contact_figures(
    garment_vertices: np.ndarray,
    garment_faces: np.ndarray,
    body_vertices: np.ndarray,
    body_faces: np.ndarray,
    garment_type: str,
    hip_z: float,
    body_field: BodyField | None = None,
    limb_vertices: np.ndarray | None = None,
    body_parts: np.ndarray | None = None,
    garment_limbs: np.ndarray | None = None,
    pinched: np.ndarray | None = None,
) -> dict[str, float | int]:
    """All three figures for one fitted piece in its final pose, as one flat dict (keys as above).
    `limb_vertices` (G,) marks sleeve and trouser-leg vertices; `garment_limbs` (G,) says which limb each wraps
    (`skinning.limb_labels`), so each body segment is judged against its own cloth."""
    field = _field(body_vertices, body_faces, body_field)
    free = free_hanging_mask(
        garment_vertices, garment_faces, garment_type, hip_z, limb_vertices=limb_vertices
    )
    return {
        **garment_inside_body(garment_vertices, body_vertices, body_faces, field),
        **body_through_garment(
            body_vertices,
            body_faces,
            garment_vertices,
            garment_faces,
            field,
            body_parts=body_parts,
            garment_limbs=garment_limbs,
            pinched=pinched,
        ),
        **off_body_share(garment_vertices, garment_faces, body_vertices, body_faces, free, field),
    }


def garment_crossings(
    outer_vertices: np.ndarray,
    inner_vertices: np.ndarray,
    inner_faces: np.ndarray,
    body_field: BodyField,
    near_m: float = 0.03,
    skip: np.ndarray | None = None,
) -> dict[str, float]:
    """Vertices of an outer piece lying inside an inner piece (under its outward surface, within `near_m`,
    where the inner piece's nearest point is not beside an opening: a hanging cuff's rim resting on the
    trousers' thigh is an edge touching, not layers crossing): `crossing_share`, `crossing_max_mm`. `skip`
    (V,) leaves out outer vertices where the two pieces are one surface (a welded seam)."""
    iv = np.asarray(inner_vertices, np.float64)
    inf = np.asarray(inner_faces, np.int64)
    c = BodyField(iv, inf).closest(outer_vertices)
    interior = ~boundary_vertex_mask(inf, len(iv))[inf[c.faces]].any(1)
    signed = np.einsum(
        "ij,ij->i", outer_vertices - c.points, outward_face_normals(iv, inf, body_field)[c.faces]
    )
    cross = interior & (signed < 0) & (signed > -near_m)
    if skip is not None:
        cross &= ~np.asarray(skip, bool)
    return {
        "crossing_share": round(float(cross.mean()) if len(cross) else 0.0, 5),
        "crossing_max_mm": round(float(-signed[cross].min()) * 1000 if cross.any() else 0.0, 3),
    }


def gate(stats: dict, limits: dict[str, float] | None = None) -> list[str]:
    """One warning line per limit the fit `stats` exceed, each naming the problem and the likely fix; empty
    when the fit passes. Missing figures are not judged."""
    lim = dict(LIMITS, **(limits or {}))
    name = stats.get("piece") or stats.get("garment_type") or "garment"
    out: list[str] = []
    s = stats.get("strain_p95")
    if s is not None and s > lim["strain_p95"]:
        out.append(
            f"{name}: crushed or overstretched (strain p95 {100 * s:.0f} % > {100 * lim['strain_p95']:.0f} %): "
            "the garment is too small for this body or in the wrong units; try --scale 1.2, or a larger "
            "size, or check --type"
        )
    d = stats.get("inside_max_mm", stats.get("max_penetration_mm"))
    if d is not None and d > lim["inside_max_mm"]:
        out.append(
            f"{name}: cloth {d:.1f} mm inside the body (limit {lim['inside_max_mm']:.0f} mm): the garment is "
            "too tight; try --scale 1.1 or check --type"
        )
    ps, pd = stats.get("poke_share"), stats.get("poke_max_mm")
    if ps is not None and pd is not None and (ps > lim["poke_share"] or pd > lim["poke_max_mm"]):
        strained = s is not None and s > lim["strain_p95"]
        why = (
            "the garment is too small for this body; try a larger size or --scale 1.1"
            if strained
            else f"not from size (strain p95 {100 * (s or 0.0):.0f} %): the cloth spans a crease or is coarser "
            "than the body there, or the piece is placed wrong; see the fit map, try the a-pose or check --type"
        )
        out.append(
            f"{name}: skin shows through the cloth ({100 * ps:.2f} % of covered body vertices, up to {pd:.1f} mm; "
            f"limits {100 * lim['poke_share']:.1f} %, {lim['poke_max_mm']:.0f} mm): {why}"
        )
    o = stats.get("off_body_share")
    if o is not None and o > lim["off_body_share"]:
        out.append(
            f"{name}: {100 * o:.1f} % of the garment hangs more than {OFF_BODY_M * 100:.0f} cm off the body "
            f"(limit {100 * lim['off_body_share']:.0f} %): it is too large or in the wrong units; try --scale "
            "0.9 or check --type"
        )
    lb = stats.get("off_limb_share")
    if lb is not None and lb > lim["off_limb_share"]:
        out.append(
            f"{name}: a sleeve or trouser leg left its limb ({100 * lb:.1f} % of its vertices): wrong "
            "--type (trousers vs skirt) or a garment not split into pieces"
        )
    cr = stats.get("crossing_share")
    if cr is not None and cr > lim["crossing_share"]:
        out.append(
            f"{name}: {100 * cr:.1f} % of it lies inside the piece under it: the layers cross; fit the pieces "
            "together (one outfit) or give the outer piece --type outerwear"
        )
    return out

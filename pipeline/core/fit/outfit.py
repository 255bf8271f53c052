"""Outfits: a garment file holding several pieces (a shirt and trousers, a T-shirt under dungarees) is split
into pieces, each typed, fitted inside-out in a fixed layer order (shirts and dresses, then trousers and skirts,
then outerwear), each piece colliding with the body and the pieces already fitted under it, and then posed.

Splitting: connected components; tiny ones (buttons, buckles: under `trim_share` of the faces) are trims,
carried along by the nearest piece instead of draped. A component that is a top and trousers welded into one
surface (MakeHuman's casual suit: a shirt sewn to jeans at the waist) is cut along its UV islands: islands
reaching the leg openings form the trousers, the rest the top. Without UVs such a welded suit stays one piece.
Typing: `place.detect_type` on each piece; of two tops the one enclosing the other is outerwear.

Welded seams: pieces cut from one welded surface share the seam's vertices in the file. Fitted apart, the
shirt's hem and the jeans' waistband drift a centimetre apart and a line of skin shows between them; after the
fit the inner piece's seam is tucked just under the outer piece's (`weld_shared_seams`), fading over a few
centimetres of the inner piece, so the outfit closes as it was made.

Posing: every piece is fitted on the body in the A-pose (arms and legs clear of the torso), takes skin weights
that keep sleeves and trouser legs on their own limb, is moved into the asked pose by linear blend skinning,
and settles there against the posed body and the posed pieces under it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.topology import connected_components, face_components

LAYER = {"top": 0, "dress": 0, "bottom": 1, "trousers": 1, "skirt": 1, "outerwear": 2}


@dataclasses.dataclass
class Piece:
    """One piece of an outfit: its mesh (draped part and trims), type, and which vertices the solver drapes."""

    garment: GarmentMesh
    garment_type: str
    drape: np.ndarray  # (V,) bool: draped vertices; the others are trims carried by the nearest draped vertex
    source_vertices: np.ndarray  # (V,) indices of these vertices in the file's mesh
    source: int = 0  # which garment file (of those worn together) the piece comes from

    @property
    def name(self) -> str:
        return self.garment.name


def submesh(
    garment: GarmentMesh, face_mask: np.ndarray, name: str | None = None
) -> tuple[GarmentMesh, np.ndarray]:
    """The faces in `face_mask` as their own GarmentMesh (vertices renumbered), and the kept vertex ids."""
    faces = np.asarray(garment.faces, np.int64)[face_mask]
    keep = np.unique(faces)
    remap = np.full(len(garment.vertices), -1, np.int64)
    remap[keep] = np.arange(len(keep))
    g = dataclasses.replace(
        garment.copy(),
        vertices=np.asarray(garment.vertices, np.float64)[keep],
        faces=remap[faces],
        face_uv=None if garment.face_uv is None else np.asarray(garment.face_uv)[face_mask],
        vertex_colors=None if garment.vertex_colors is None else np.asarray(garment.vertex_colors)[keep],
        name=name or garment.name,
    )
    return g, keep


def _uv_islands(garment: GarmentMesh) -> np.ndarray | None:
    """Label per face of its UV island (faces sharing UV corners), or None without UVs."""
    if garment.uv is None or garment.face_uv is None:
        return None
    fu = np.asarray(garment.face_uv, np.int64)
    lab = connected_components(len(garment.uv), np.r_[fu[:, 0], fu[:, 1]], np.r_[fu[:, 1], fu[:, 2]])
    return np.unique(lab[fu[:, 0]], return_inverse=True)[1]


def _split_welded_suit(garment: GarmentMesh, face_mask: np.ndarray) -> list[np.ndarray]:
    """A top welded to trousers (sleeves above, two legs below) cut into [top faces, trousers faces] along
    its UV islands; otherwise [face_mask] unchanged."""
    from pipeline.core.fit.place import detect_type, has_sleeves

    part, _ = submesh(garment, face_mask)
    if detect_type(part.vertices, part.faces) != "trousers" or not has_sleeves(part.vertices, part.faces):
        return [face_mask]
    islands = _uv_islands(garment)
    if islands is None:
        return [face_mask]
    v, f = np.asarray(garment.vertices), np.asarray(garment.faces)
    lo_z = v[np.unique(f[face_mask]), 2].min()
    height = float(np.ptp(v[np.unique(f[face_mask]), 2]))
    lower = np.zeros(len(f), bool)
    for k in np.unique(islands[face_mask]):
        fk = face_mask & (islands == k)
        if v[np.unique(f[fk]), 2].min() < lo_z + 0.25 * height:
            lower |= fk
    top, bottom = face_mask & ~lower, face_mask & lower
    if not top.any() or not bottom.any():
        return [face_mask]
    b, _ = submesh(garment, bottom)
    return [top, bottom] if detect_type(b.vertices, b.faces) == "trousers" else [face_mask]


def _mark_outerwear(pieces: list[Piece]) -> None:
    """Of two or more tops, those enclosing another (larger mean distance from the common vertical axis over
    the heights they share) are outerwear."""
    tops = [p for p in pieces if p.garment_type == "top"]
    if len(tops) < 2:
        return
    axis = np.vstack([p.garment.vertices[p.drape] for p in tops])[:, :2].mean(0)
    z_lo = max(p.garment.vertices[p.drape, 2].min() for p in tops)
    z_hi = min(p.garment.vertices[p.drape, 2].max() for p in tops)
    radius = []
    for p in tops:
        v = p.garment.vertices[p.drape]
        band = v[(v[:, 2] >= z_lo) & (v[:, 2] <= z_hi)]
        radius.append(float(np.linalg.norm(band[:, :2] - axis, axis=1).mean()) if len(band) else 0.0)
    inner = int(np.argmin(radius))
    for k, p in enumerate(tops):
        if k != inner:
            p.garment_type = "outerwear"


def split_outfit(garment: GarmentMesh, trim_share: float = 0.02) -> list[Piece]:
    """Pieces of a garment file, typed, in layer order (inside first). One piece for a one-piece garment."""
    from pipeline.core.fit.place import detect_type

    faces = np.asarray(garment.faces, np.int64)
    comp = face_components(faces, len(garment.vertices))
    counts = np.bincount(comp)
    big = np.nonzero(counts >= trim_share * len(faces))[0]
    if not len(big):
        big = np.array([int(np.argmax(counts))])
    groups: list[np.ndarray] = []
    for k in big:
        groups.extend(_split_welded_suit(garment, comp == k))
    # each trim goes with the group holding the nearest vertex
    owner = np.full(len(faces), -1)
    for i, g in enumerate(groups):
        owner[g] = i
    v = np.asarray(garment.vertices, np.float64)
    gv = [np.unique(faces[g]) for g in groups]
    trees = [cKDTree(v[ids]) for ids in gv]
    for k in np.setdiff1d(np.unique(comp), big):
        centre = v[np.unique(faces[comp == k])].mean(0)
        owner[comp == k] = int(np.argmin([t.query(centre)[0] for t in trees]))
    pieces = []
    for i, g in enumerate(groups):
        mesh, keep = submesh(garment, owner == i)
        drape = np.isin(keep, gv[i])
        dpart, _ = submesh(garment, g)
        kind = detect_type(dpart.vertices, dpart.faces)
        pieces.append(Piece(mesh, kind, drape, keep))
    _mark_outerwear(pieces)
    names: dict[str, int] = {}
    for p in pieces:
        names[p.garment_type] = names.get(p.garment_type, 0) + 1
        suffix = f"_{names[p.garment_type]}" if names[p.garment_type] > 1 else ""
        p.garment.name = f"{garment.name}_{p.garment_type}{suffix}" if len(pieces) > 1 else garment.name
    return sorted(pieces, key=lambda p: LAYER.get(p.garment_type, 0))


@dataclasses.dataclass
class FittedPiece:
    """A piece and its FitResult on the posed body (positions, weights, figures for the whole piece)."""

    piece: Piece
    result: Any  # pipeline.core.fit.api.FitResult


def _carry_trims(piece: Piece, drape_result) -> Any:
    """The drape part's FitResult extended to the whole piece: each trim vertex keeps its offset from the
    nearest draped vertex and that vertex's skin weights."""
    from pipeline.core.fit.api import FitResult

    if piece.drape.all():
        return drape_result
    v0 = piece.garment.vertices
    d_idx = np.nonzero(piece.drape)[0]
    t_idx = np.nonzero(~piece.drape)[0]
    _, near = cKDTree(v0[d_idx]).query(v0[t_idx])
    n = len(v0)
    r = drape_result

    def spread(a: np.ndarray, fill: float = 0.0) -> np.ndarray:
        out = np.full((n, *a.shape[1:]), fill, dtype=a.dtype)
        out[d_idx] = a
        out[t_idx] = a[near]
        return out

    x = spread(r.vertices)
    x[t_idx] = r.vertices[near] + (v0[t_idx] - v0[d_idx][near])
    limbs = None if r.limbs is None else spread(r.limbs)
    return FitResult(
        x,
        spread(r.weights),
        spread(r.weight_bones),
        r.garment_type,
        spread(r.strain),
        spread(r.pressure),
        spread(r.fit_colors),
        r.stats,
        limbs,
    )


Placer = Callable[[int, Any], "tuple[np.ndarray, np.ndarray] | None"]


def _placed_parts(pieces: list[Piece], drapes_ids: list[np.ndarray], ref, place: Placer | None):
    """Per piece (start, rest) of its draped vertices on the reference body, from `place(file index, body)`
    (the whole file moved at once, so its pieces keep their places on each other), or None."""
    if place is None:
        return [None] * len(pieces), [0.0] * len(pieces)
    import time

    files: dict[int, Any] = {}
    seconds: dict[int, float] = {}
    out = []
    for p, ids in zip(pieces, drapes_ids, strict=True):
        if p.source not in files:
            t0 = time.perf_counter()
            files[p.source] = place(p.source, ref)
            seconds[p.source] = time.perf_counter() - t0
        placed = files[p.source]
        if placed is None:
            out.append(None)
            continue
        rows = p.source_vertices[ids]
        out.append((np.asarray(placed[0])[rows], np.asarray(placed[1])[rows]))
    share = {k: sum(p.source == k for p in pieces) for k in seconds}
    return out, [seconds.get(p.source, 0.0) / max(share.get(p.source, 1), 1) for p in pieces]


def fit_outfit(
    pieces: list[Piece],
    body,
    fabric: str = "cotton-jersey",
    progress: ProgressCallback | None = None,
    scale: float | tuple[float, float, float] | None = None,
    garment_types: list[str | None] | None = None,
    place: Placer | None = None,
    stages: int = 1,
) -> list[FittedPiece]:
    """Fit `pieces` (in layer order) onto `body` (posed with any preset): in the A-pose inside-out, each piece
    colliding with the body and the pieces under it, then posed by skinning and settled in the pose. Each
    result's stats carry the two-sided contact figures and the gates' warnings (`stats["warnings"]`).
    `garment_types` overrides the detected types piece by piece (None keeps the detected one). `place(file
    index, a-pose body)` may move a whole garment file onto the body before the drape (start, rest positions
    of all its vertices; e.g. a transfer from the body it was made for); None = landmark placement. The move
    from the A-pose into the pose may be made in `stages` steps, each settled (measured on the samples and the
    sports suit: 3 stages took twice as long and changed the poke-through figures by under 1 % either way, so
    the default is one step)."""
    from pipeline.core.body.poses import pose_body
    from pipeline.core.fit.api import fit_garment

    progress = progress or silent
    if garment_types:
        for p, t in zip(pieces, garment_types, strict=False):
            if t:
                p.garment_type = t
    pose = body.params.get("pose", "a-pose") if isinstance(body.params, dict) else "a-pose"
    ref = body if pose == "a-pose" else pose_body(body, "a-pose")
    n = len(pieces)
    parts = [submesh(p.garment, np.all(p.drape[p.garment.faces], axis=1)) for p in pieces]
    drapes = [g for g, _ in parts]
    placed, transfer_s = _placed_parts(pieces, [ids for _, ids in parts], ref, place)
    fitted, obstacles = [], []
    for i, (p, g) in enumerate(zip(pieces, drapes, strict=True)):
        span = 0.5 if pose != "a-pose" else 1.0
        start, rest = placed[i] if placed[i] is not None else (None, None)
        r = fit_garment(
            g,
            ref,
            garment_type=p.garment_type,
            fabric=fabric,
            scale=None if start is not None else scale,
            start_vertices=start,
            rest_vertices=rest,
            obstacles=obstacles,
            progress=lambda f, m="", i=i, span=span, name=p.name: progress(
                span * (i + f) / n, f"{name}: {m}"
            ),
        )
        r.stats["transfer_s"] = round(transfer_s[i], 3)  # the file's transfer, shared among its pieces
        r.stats["fit_s"] = round(r.stats["fit_s"] + transfer_s[i], 3)
        fitted.append(r)
        obstacles = obstacles + [(r.vertices, g.faces)]
    if pose != "a-pose":
        fitted = _pose_pieces(pieces, drapes, fitted, placed, ref, body, fabric, scale, stages, progress)
    progress(0.97, "lifting cloth off the skin")
    contact = BodyContact.of(body)
    joined = weld_shared_seams(pieces, [ids for _, ids in parts], fitted, contact.field)
    _lift_off_skin(fitted, drapes, body, contact)
    out = []
    for i, (p, g, r) in enumerate(zip(pieces, drapes, fitted, strict=True)):
        inner = [(fitted[k].vertices, drapes[k].faces) for k in range(i)]
        r.stats.update(piece_figures(g, r, body, inner, contact, joined[i]))
        r.stats["piece"] = p.name
        out.append(FittedPiece(p, _carry_trims(p, r)))
    progress(1.0, "fitted")
    return out


@dataclasses.dataclass
class BodyContact:
    """What the contact pass and the figures need of the posed body, found once per outfit: its field, part
    labels and pinched skin."""

    field: Any  # BodyField
    parts: np.ndarray
    pinched: np.ndarray

    @classmethod
    def of(cls, body) -> BodyContact:
        from pipeline.core.fit.bodyfield import BodyField
        from pipeline.core.fit.checks import body_part_labels, pinched_vertices

        return cls(
            BodyField(body.vertices, body.faces),
            body_part_labels(body.bone_names, body.weights, body.weight_bones),
            pinched_vertices(body.vertices, body.faces),
        )


def weld_shared_seams(
    pieces: list[Piece],
    drape_ids: list[np.ndarray],
    fitted: list,
    field,
    tuck_m: float = 0.002,
    fade_m: float = 0.08,
    offset_m: float = 0.002,
    joined_m: float = 0.03,
) -> list[np.ndarray]:
    """Close the seams of pieces cut from one welded surface: where an inner piece (earlier in layer order) and
    an outer one from the same file share vertices of the file's mesh, both seams meet halfway, the inner one
    `tuck_m` under the outer (toward the body); each piece's vertices within `fade_m` of its seam follow by a
    share fading with distance (a 1 cm gap closed over 8 cm adds about 6 % stretch there), then stay
    `offset_m` off the body. Changes the `fitted` results' vertices in place; returns per piece the mask of
    its vertices within `joined_m` of a seam it was welded to an inner piece by (the pieces are one surface
    there, so the crossing check leaves them out). Limits: pieces from different files, or cut apart in the
    file, share no vertices and are left as fitted; the strain figures are those of the drape, before the
    weld."""
    joined = [np.zeros(len(r.vertices), bool) for r in fitted]
    for j, outer in enumerate(pieces):
        for i in range(j):
            inner = pieces[i]
            if inner.source != outer.source or LAYER.get(inner.garment_type, 0) >= LAYER.get(
                outer.garment_type, 0
            ):
                continue
            shared, a, b = np.intersect1d(
                inner.source_vertices[drape_ids[i]], outer.source_vertices[drape_ids[j]], return_indices=True
            )
            if not len(shared):
                continue
            xi, xj = fitted[i].vertices, fitted[j].vertices
            mid = 0.5 * (xi[a] + xj[b])
            tuck = field.closest(mid).normals * (0.5 * tuck_m)
            fitted[i].vertices = _follow_seam(xi, a, mid - tuck, field, fade_m, offset_m)
            fitted[j].vertices = _follow_seam(xj, b, mid + tuck, field, fade_m, offset_m)
            joined[j] |= cKDTree(fitted[j].vertices[b]).query(fitted[j].vertices)[0] < joined_m
    return joined


def _follow_seam(x: np.ndarray, seam: np.ndarray, target: np.ndarray, field, fade_m: float, offset_m: float):
    """`x` with its `seam` vertices at `target` and the vertices near them following by a fading share."""
    dist, near = cKDTree(x[seam]).query(x)
    share = np.clip(1.0 - dist / fade_m, 0.0, 1.0)[:, None]
    out = x + (target - x[seam])[near] * share
    out[seam] = target
    moved = share[:, 0] > 0
    out[moved] = field.push_out(out[moved], offset_m)
    return out


def _lift_off_skin(fitted: list, drapes: list[GarmentMesh], body, contact: BodyContact) -> None:
    """The last contact pass on every piece in its final pose (`skin_contact.lift_cloth_off_skin`); the mended
    body vertices are counted in each piece's `skin_lifted_vertices`."""
    import time

    from pipeline.core.fit.skin_contact import lift_cloth_off_skin

    for r, g in zip(fitted, drapes, strict=True):
        t0 = time.perf_counter()
        r.vertices, lifted = lift_cloth_off_skin(
            r.vertices, g.faces, body.vertices, contact.field, contact.parts, r.limbs, contact.pinched
        )
        r.stats["skin_lifted_vertices"] = lifted
        r.stats["fit_s"] = round(r.stats["fit_s"] + time.perf_counter() - t0, 3)


def pose_stage(ref, body, t: float):
    """The body part-way (t in [0, 1]) from the A-pose `ref` to the posed `body`: each bone turned by the
    fraction t of its rotation about its own head, the head moved linearly; returns (body at t, per-bone
    transforms from `ref` to it)."""
    from scipy.spatial.transform import Rotation, Slerp

    from pipeline.core.body.poses import linear_blend_skinning

    full = body.bone_poses @ np.linalg.inv(ref.bone_poses)
    heads_a, heads_b = ref.bone_poses[:, :3, 3], body.bone_poses[:, :3, 3]
    rots = Rotation.from_matrix(full[:, :3, :3])
    step = np.zeros_like(full)
    for k in range(len(full)):
        r_t = Slerp([0.0, 1.0], Rotation.concatenate([Rotation.identity(), rots[k]]))([t]).as_matrix()[0]
        step[k, :3, :3] = r_t
        step[k, :3, 3] = heads_a[k] + t * (heads_b[k] - heads_a[k]) - r_t @ heads_a[k]
        step[k, 3, 3] = 1.0
    skin = step @ ref.bone_poses @ np.linalg.inv(ref.rest_bone_poses)
    verts = linear_blend_skinning(ref.rest_vertices, ref.weights, ref.weight_bones, skin)
    staged = dataclasses.replace(ref, vertices=verts, bone_poses=step @ ref.bone_poses)
    return staged, step


def _pose_pieces(pieces, drapes, fitted, placed, ref, body, fabric, scale, stages, progress):
    """Move the A-pose fits into the pose in `stages` steps: at each, every piece (inside-out) is carried by its
    skin weights and settled against the body and the pieces under it at that step."""
    from pipeline.core.fit.api import fit_garment
    from pipeline.core.fit.skinning import pose_garment
    from pipeline.core.fit.solver import DrapeSettings
    from pipeline.core.fit.untangle import untangle_parts

    n = len(pieces)
    current = [r.vertices for r in fitted]
    spent = [float(r.stats["fit_s"]) for r in fitted]
    prev_step = None
    posed: list = []
    for s_i in range(1, stages + 1):
        last = s_i == stages
        staged, step = (
            (body, body.bone_poses @ np.linalg.inv(ref.bone_poses))
            if last
            else pose_stage(ref, body, s_i / stages)
        )
        delta = step if prev_step is None else step @ np.linalg.inv(prev_step)
        prev_step = step
        settings = None if last else DrapeSettings(steps=10, min_steps=4)
        posed, obstacles = [], []
        for i, (p, g, r) in enumerate(zip(pieces, drapes, fitted, strict=True)):
            start = pose_garment(current[i], r.weights, r.weight_bones, delta)
            if (
                r.limbs is not None
            ):  # sleeves and legs that skinning left on another part go back to their own
                start, _ = untangle_parts(start, r.limbs, staged)
            rp = fit_garment(
                g,
                staged,
                garment_type=p.garment_type,
                fabric=fabric,
                scale=scale if placed[i] is None else None,
                start_vertices=start,
                rest_vertices=None if placed[i] is None else placed[i][1],
                obstacles=obstacles,
                skin=(r.weights, r.weight_bones, r.limbs),
                settings=settings,
                progress=lambda f, m="", i=i, name=p.name, s_i=s_i: progress(
                    0.5 + 0.5 * ((s_i - 1) * n + i + f) / (stages * n), f"{name} posing {s_i}/{stages}: {m}"
                ),
            )
            spent[i] += rp.stats["fit_s"]
            rp.stats["fit_s"] = round(spent[i], 3)  # A-pose fit, transfer and every stage
            current[i] = rp.vertices
            posed.append(rp)
            obstacles = obstacles + [(rp.vertices, g.faces)]
        for r_old, rp in zip(fitted, posed, strict=True):
            rp.stats["apose_drape_steps"] = r_old.stats["drape_steps"]
            rp.stats["transfer_s"] = r_old.stats.get("transfer_s", 0.0)
    return posed


def piece_figures(
    garment: GarmentMesh,
    result,
    body,
    inner: list[tuple[np.ndarray, np.ndarray]],
    contact: BodyContact | None = None,
    joined: np.ndarray | None = None,
) -> dict:
    """The two-sided contact figures, the limb check and the crossings with inner pieces of one fitted piece
    in its final pose, with the gates' warnings. `contact` is the body's, when already found; `joined` (V,)
    marks vertices by a seam welded to an inner piece, left out of the crossings."""
    from pipeline.core.fit.checks import contact_figures, free_hanging_mask, garment_crossings, gate
    from pipeline.core.fit.landmarks import body_landmarks
    from pipeline.core.fit.skinning import off_limb_share

    contact = contact or BodyContact.of(body)
    field = contact.field
    lm = body_landmarks(body)
    limbs = result.limbs if result.limbs is not None else np.zeros(len(result.vertices), np.int64)
    figs: dict[str, Any] = contact_figures(
        result.vertices,
        garment.faces,
        body.vertices,
        body.faces,
        result.garment_type,
        lm.hip_z,
        field,
        limbs > 0,
        contact.parts,
        limbs,
        contact.pinched,
    )
    # a wide hem or cuff flares off its ankle or wrist by design: the band by a limb's opening is not judged
    hem = free_hanging_mask(
        result.vertices, garment.faces, result.garment_type, lm.hip_z, limb_vertices=limbs > 0
    )
    figs.update(off_limb_share(result.vertices, np.where(hem, 0, limbs), body))
    cross = [garment_crossings(result.vertices, v, f, field, skip=joined) for v, f in inner]
    figs["crossing_share"] = max((c["crossing_share"] for c in cross), default=0.0)
    figs["crossing_max_mm"] = max((c["crossing_max_mm"] for c in cross), default=0.0)
    figs["warnings"] = gate({**result.stats, **figs, "piece": garment.name})
    return figs

"""Placement: wrap a sewn pattern around a body (front/back depth maps), detect a garment's type from its
openings, and align any garment onto a body by landmarks (neck and shoulders, waist and hips)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from pipeline.core.errors import UserError
from pipeline.core.fit.landmarks import Landmarks, body_landmarks
from pipeline.core.topology import boundary_loops, unique_edges
from pipeline.core.vocab import GARMENT_TYPES

LOWER_TYPES = ("bottom", "trousers", "skirt")  # hung from the waist; "bottom" = either


def graph_laplacian(n: int, edges: np.ndarray) -> sp.csr_matrix:
    """Uniform graph Laplacian L = D - A (positive semi-definite)."""
    i, j = edges[:, 0], edges[:, 1]
    a = sp.coo_matrix((np.ones(2 * len(edges)), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    return (sp.diags(np.asarray(a.sum(1)).ravel()) - a).tocsr()


def harmonic_inpaint(n: int, edges: np.ndarray, known: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Fill unknown vertex values smoothly (Laplace equation) from the known ones; values: (n, k)."""
    values = np.asarray(values, dtype=np.float64)
    squeeze = values.ndim == 1
    if squeeze:
        values = values[:, None]
    out = values.copy()
    unknown = ~known
    if unknown.any() and known.any():
        lap = graph_laplacian(n, edges)
        luu = lap[unknown][:, unknown] + sp.identity(int(unknown.sum())) * 1e-9
        luk = lap[unknown][:, known]
        rhs = -(luk @ values[known])
        sol = spsolve(luu.tocsc(), rhs)
        out[unknown] = sol.reshape(-1, values.shape[1])
    return out[:, 0] if squeeze else out


def depth_maps(body, cell_m: float = 0.004):
    """Front (min y) and back (max y) surface depth over a frontal x/z grid of the body."""
    v, f = body.vertices, body.faces
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    samples = [a, b, c]
    rng = np.random.default_rng(0)
    for _ in range(6):
        w = rng.dirichlet((1, 1, 1), size=len(f))
        samples.append(w[:, :1] * a + w[:, 1:2] * b + w[:, 2:] * c)
    pts = np.vstack(samples)
    lo = pts[:, [0, 2]].min(0) - cell_m
    ij = np.floor((pts[:, [0, 2]] - lo) / cell_m).astype(np.int64)
    shape = ij.max(0) + 2
    front = np.full(shape, np.inf)
    back = np.full(shape, -np.inf)
    np.minimum.at(front, (ij[:, 0], ij[:, 1]), pts[:, 1])
    np.maximum.at(back, (ij[:, 0], ij[:, 1]), pts[:, 1])
    return lo, cell_m, front, back


def wrap_sewn(sewn, body, gap_m: float = 0.012) -> np.ndarray:
    """3D start shape of a sewn pattern: the body part of each panel (below the top of its side seam) wrapped
    round the body's cross-section by arc length (side seams land on the body's sides, as worn), the rest
    (shoulders, sleeves) laid over the body's front/back depth, and seams and gaps filled smoothly between."""
    lo, cell, front, back = depth_maps(body)
    xz = sewn.vertices2d
    ij = np.floor((xz - lo) / cell).astype(np.int64)
    ij = np.clip(ij, 0, np.array(front.shape) - 1)
    # look a little around each point so thin gaps (armpits) do not read as empty
    yf = np.full(len(xz), np.inf)
    yb = np.full(len(xz), -np.inf)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            ii = np.clip(ij[:, 0] + di, 0, front.shape[0] - 1)
            jj = np.clip(ij[:, 1] + dj, 0, front.shape[1] - 1)
            yf = np.minimum(yf, front[ii, jj])
            yb = np.maximum(yb, back[ii, jj])
    covered = np.isfinite(yf)
    side = sewn.vertex_side
    y = np.where(side > 0, yf - gap_m, yb + gap_m)
    disp = np.zeros((len(xz), 2))  # (dx, y): the move away from the flat frontal layout
    disp[:, 1] = np.where(covered, y, 0.0)
    known = covered & (side != 0)
    # tops: the body panels round the torso (a skirt's flare hangs best from the flat front/back layout)
    girth = _girth_wrap(sewn, body, gap_m) if sewn.kind != "bottom" else None
    if girth is not None:
        in_band, wrapped, top_z, body_part, loose_z = girth
        disp[in_band] = wrapped[in_band] - np.c_[xz[in_band, 0], np.zeros(int(in_band.sum()))]
        # between the wrapped body and the depth-mapped shoulders/sleeves (and a flared hem): the smooth fill
        z = xz[:, 1]
        hanging = body_part & (
            z < loose_z - 0.05
        )  # flared rows: flat (no sideways move), depth where covered
        known = in_band | (known & ((z > top_z + 0.05) | ~body_part | hanging))
        known_x = known | hanging
    else:
        known_x = known
    edges = unique_edges(sewn.faces)
    dx = harmonic_inpaint(len(xz), edges, known_x, disp[:, 0])
    y = harmonic_inpaint(len(xz), edges, known, disp[:, 1])
    return np.stack([xz[:, 0] + dx, y, xz[:, 1]], axis=1)


def _side_seam(panel) -> np.ndarray | None:
    """A body panel's left side seam as (n, 2) points sorted by height; None for other pieces (sleeves)."""
    side = dict(panel.segments).get("side_l")
    return None if side is None else side[np.argsort(side[:, 1])]


def _girth_wrap(sewn, body, gap_m: float):
    """Arc-length wrap of each panel's body part round the body's (arms-free) cross-section scaled to the
    garment's girth at that height, where it fits (up to 20 % over the body): (vertex mask, (V, 2) wrapped
    x/y, top height of the wrapped band, body-panel vertex mask, top height of the loose rows below)."""
    from scipy.spatial import ConvexHull

    from pipeline.core.fit.landmarks import dominant_bone_masks

    seam = _side_seam(sewn.panels[0])
    if seam is None:
        return None
    xz = sewn.vertices2d
    top_z = float(seam[-1, 1])
    owner = sewn.vertex_panel if sewn.vertex_panel is not None else np.zeros(len(xz), np.int64)
    body_part = np.array([_side_seam(p) is not None for p in sewn.panels])[owner]
    in_band = body_part & (xz[:, 1] <= top_z - 0.005)
    if not in_band.any():
        return None
    masks = dominant_bone_masks(body)
    pts = body.vertices[~(masks["arm"] | masks["head"])]
    wrapped = np.zeros((len(xz), 2))
    step = 0.01
    loose_z = -np.inf  # below this a flared part hangs loose: laid out flat front and back instead
    for z in np.arange(xz[in_band, 1].min(), top_z + step, step):
        rows = in_band & (np.abs(xz[:, 1] - z) <= step / 2 + 1e-9)
        if not rows.any():
            continue
        sl = pts[np.abs(pts[:, 2] - z) < 0.012][:, :2]
        if len(sl) < 8:
            sl = pts[np.argsort(np.abs(pts[:, 2] - z))[:64]][:, :2]
        hull = sl[ConvexHull(sl).vertices]  # counter-clockwise seen from above
        centre = hull.mean(0)
        start = int(
            np.argmin(np.where(hull[:, 1] < centre[1], np.abs(hull[:, 0] - centre[0]), np.inf))
        )  # centre front
        ring = np.roll(hull, -start, axis=0)
        ring = np.vstack([ring, ring[:1]])
        seg = np.linalg.norm(np.diff(ring, axis=0), axis=1)
        arc = np.r_[0.0, np.cumsum(seg)]
        perimeter = arc[-1]
        half_w = float(np.interp(z, seam[:, 1], seam[:, 0]))
        garment_p = 4.0 * half_w
        if garment_p > 1.2 * perimeter:
            in_band &= ~rows
            loose_z = max(loose_z, z)
            continue
        scale = max(garment_p, perimeter + 2 * np.pi * min(gap_m, 0.004)) / perimeter  # snug parts start snug
        x = xz[rows, 0]
        frac = np.where(sewn.vertex_side[rows] < 0, 0.5 - x / garment_p, x / garment_p) % 1.0
        px = np.interp(frac * perimeter, arc, ring[:, 0])
        py = np.interp(frac * perimeter, arc, ring[:, 1])
        wrapped[rows] = centre + (np.c_[px, py] - centre) * scale
    return in_band, wrapped, top_z, body_part, loose_z


# ---------------------------------------------------------------- any garment


def detect_type(vertices: np.ndarray, faces: np.ndarray) -> str:
    """trousers / skirt / dress / top from the openings (one piece; `outfit.split_outfit` splits files first):
    trousers have two openings side by side at the bottom (legs; a waistband or a bib above); a skirt has two
    (waist, hem) and is shorter than 95 cm, longer is a (tube) dress; a top has a neck, two sleeves or
    armholes and a hem, and is a dress when longer than 85 cm. Heights assume metres (a garment in the wrong
    units is typed wrongly: the fit's gates then say so)."""
    loops = [lp for lp in boundary_loops(faces) if len(lp) >= 6]
    lo, hi = vertices.min(0), vertices.max(0)
    height = float(hi[2] - lo[2])
    if not loops:
        return "top"
    centre_x = (lo[0] + hi[0]) / 2
    width = float(hi[0] - lo[0])
    zs = np.array([vertices[lp, 2].mean() for lp in loops])
    xs = np.array([vertices[lp, 0].mean() for lp in loops]) - centre_x
    low = zs < lo[2] + 0.15 * height
    if (low & (xs > 0.04 * width)).any() and (low & (xs < -0.04 * width)).any():
        return "trousers"  # two leg openings side by side at the bottom
    upper_side = (zs > (lo[2] + hi[2]) / 2) & (np.abs(xs) > 0.25 * width)
    if len(loops) <= 2 and not upper_side.any():
        return "dress" if height > 0.95 else "skirt"
    return "dress" if height > 0.85 else "top"


def has_sleeves(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """Whether the mesh has openings on its sides in its upper half (sleeves or armholes)."""
    lo, hi = vertices.min(0), vertices.max(0)
    width = float(hi[0] - lo[0])
    for lp in boundary_loops(faces):
        c = vertices[lp].mean(0)
        if len(lp) >= 6 and c[2] > (lo[2] + hi[2]) / 2 and abs(c[0] - (lo[0] + hi[0]) / 2) > 0.25 * width:
            return True
    return False


def place_garment(
    vertices: np.ndarray,
    faces: np.ndarray,
    body,
    garment_type: str,
    scale: float | tuple[float, float, float] | None = None,
    lm: Landmarks | None = None,
) -> np.ndarray:
    """Translate (and scale only if asked) the garment so its neck/shoulders (tops, dresses) or
    waistband (bottoms) sit on the body's landmarks; returns new vertices."""
    if garment_type not in GARMENT_TYPES:
        raise UserError(f"--type must be one of {', '.join(GARMENT_TYPES)}, not {garment_type!r}")
    lm = lm or body_landmarks(body)
    v = np.array(vertices, dtype=np.float64)
    if scale is not None:
        c = v.mean(0)
        v = c + (v - c) * np.asarray(scale, dtype=np.float64)
    lo, hi = v.min(0), v.max(0)
    loops = boundary_loops(faces)
    top_loop = max(loops, key=lambda lp: v[lp, 2].mean()) if loops else None
    if garment_type in ("top", "dress", "outerwear"):
        # the neck opening's back point rests on the base of the neck; centre across and in depth
        if top_loop is not None:
            ring = v[top_loop]
            anchor = np.array([ring[:, 0].mean(), ring[:, 1].mean(), ring[:, 2].max()])
        else:
            anchor = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2]])
        # shoulders: the garment's top above the shoulder joints rests just above the body's shoulder line
        above = np.abs(np.abs(v[:, 0] - anchor[0]) - abs(lm.shoulder_l[0])) < 0.02
        side = above if above.sum() >= 4 else np.abs(v[:, 0] - anchor[0]) > 0.5 * abs(lm.shoulder_l[0])
        garment_shoulder_z = v[side, 2].max() if side.any() else hi[2]
        dz = lm.shoulder_top_z + (0.004 if above.sum() >= 4 else 0.01) - garment_shoulder_z
        # depth: the garment's top band centred on the body's over the same heights and width
        top = hi[2] - 0.25 * (hi[2] - lo[2])
        band = v[v[:, 2] > top]
        bv = body.vertices
        body_band = bv[
            (bv[:, 2] + 1e-9 > top + dz)
            & (bv[:, 2] < hi[2] + dz)
            & (np.abs(bv[:, 0]) <= np.abs(band[:, 0] - anchor[0]).max())
        ]
        body_mid = (body_band[:, 1].min() + body_band[:, 1].max()) / 2 if len(body_band) else lm.centre_y
        y_mid = (band[:, 1].min() + band[:, 1].max()) / 2
        shift = np.array([-anchor[0], body_mid - y_mid, dz])
    else:
        if top_loop is not None:
            ring = v[top_loop]
            centre = ring.mean(0)
            top_z = ring[:, 2].max()
        else:
            centre = (lo + hi) / 2
            top_z = hi[2]
        shift = np.array([-centre[0], 0.0, lm.waist_z + 0.01 - top_z])
        if top_loop is not None:
            # a waistband looser than the waist slides down until the body is as wide as it: start it there
            ring = v[top_loop]
            loop_m = float(np.linalg.norm(np.diff(np.vstack([ring, ring[:1]]), axis=0), axis=1).sum())
            rest_z = waistband_rest_z(body, lm, loop_m)
            if rest_z is not None:
                shift[2] = min(shift[2], rest_z - float(ring[:, 2].mean()))
        # depth: centred on the body's cross-section at the height the band ends up at (on a belly or a
        # sway back that centre moves with height; a band centred elsewhere slowly slides there in the drape)
        shift[1] = _torso_centre_y(body, float(centre[2] + shift[2])) - centre[1]
        v = v + shift
        v[:, 1] += _clear_body_depth(v, body, float(centre[2] + shift[2]), float(v[:, 2].min()))
        return v
    return v + shift


def waistband_rest_z(body, lm: Landmarks, loop_m: float, offset_m: float = 0.0025) -> float | None:
    """Height where a waistband of length `loop_m` comes to rest: the first level below the narrowest part of
    the waist where the body's girth (plus the skin offset) reaches it; None if it grips at the waist already
    or would slip past the hips."""
    from scipy.spatial import ConvexHull

    from pipeline.core.fit.landmarks import dominant_bone_masks

    masks = dominant_bone_masks(body)
    pts = body.vertices[~(masks["arm"] | masks["head"])]

    def girth(z: float) -> float:
        sl = pts[np.abs(pts[:, 2] - z) < 0.006][:, :2]
        return float(ConvexHull(sl).area) + 2 * np.pi * offset_m if len(sl) >= 4 else 0.0

    zs = np.arange(lm.waist_z + 0.02, lm.hip_z, -0.005)
    g = np.array([girth(z) for z in zs])
    k = int(np.argmin(g[zs >= lm.waist_z - 0.06]))
    below = np.nonzero(g[k:] >= loop_m)[0]
    # tighter than the waist already (it grips where it is put), or loose enough to fall off: no rest level
    return float(zs[k + below[0]]) if len(below) and below[0] > 0 else None


def _clear_body_depth(
    v: np.ndarray, body, top_z: float, bottom_z: float, step_m: float = 0.01, margin_m: float = 0.005
) -> np.ndarray:
    """Depth shift per vertex for a bottom hanging from its band: each row of cloth below the band moves front
    or back just enough to clear the body at its height (a belly, the seat, the thighs), as the drape would
    push it, so the drape need not slide it there slowly. Rows that clear the body stay where they are."""
    from pipeline.core.fit.landmarks import dominant_bone_masks

    masks = dominant_bone_masks(body)
    bv = body.vertices[~(masks["arm"] | masks["head"])]
    zs = np.arange(top_z, bottom_z - 1e-9, -step_m)
    if len(zs) < 2:
        return np.zeros(len(v))
    dy = np.zeros(len(zs))
    for k, z in enumerate(zs):
        g = v[np.abs(v[:, 2] - z) <= step_m / 2, 1]
        b = bv[np.abs(bv[:, 2] - z) <= step_m / 2, 1]
        if len(g) < 4 or len(b) < 4:
            continue
        front = min(b.min() - margin_m - g.min(), 0.0)  # body in front of the cloth: move it forward (-y)
        back = max(b.max() + margin_m - g.max(), 0.0)  # ... behind it: move it back
        both = front < 0 and back > 0  # tighter than the body in depth: centre it
        dy[k] = (b.min() + b.max() - g.min() - g.max()) / 2 if both else front + back
    return np.interp(v[:, 2], zs[::-1], dy[::-1])  # constant beyond the ends: 0 above the band


def _torso_centre_y(body, z: float) -> float:
    v = body.vertices
    s = v[(np.abs(v[:, 2] - z) < 0.01) & (np.abs(v[:, 0]) < 0.2)]
    return float((s[:, 1].min() + s[:, 1].max()) / 2) if len(s) else 0.0

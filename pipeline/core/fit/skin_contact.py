"""The last contact pass of a fit in its final pose: cloth faces pushed off skin that stands out through them,
found exactly as the fit report finds it (`checks.poke_through`: along each body vertex's normal line, against
its own segment's cloth), so what the report would call poke-through is mended before it is reported.

Each poking body vertex moves the cloth face its ray hit to just outside the skin (the skin offset along the
vertex normal), shared among the face's corners by their barycentric weights (the least-squares split that
moves the hit point exactly), then any cloth vertex the move drove into the body (across a crease) goes back
out, a few passes over. Limits: only pokes shallower than `max_move_m` are mended (a
deeper one is a misfit the report must show, not a speck to tidy), and the move is not followed by a new
settle, so a mended spot may stretch the cloth a little there.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.fit.bodyfield import BodyField


def lift_cloth_off_skin(
    cloth: np.ndarray,
    faces: np.ndarray,
    body_vertices: np.ndarray,
    field: BodyField,
    body_parts: np.ndarray | None = None,
    limbs: np.ndarray | None = None,
    pinched: np.ndarray | None = None,
    offset_m: float = 0.0025,
    max_move_m: float = 0.03,
    passes: int = 3,
    near_m: float = 0.03,
) -> tuple[np.ndarray, int]:
    """`cloth` (G, 3) with the faces that skin stands out through moved off it; returns (vertices, how many
    body vertices poked through before the first pass). `near_m` is wider than the report's 2 cm, so cloth
    passing under the skin just past that margin (a deep armpit crease) is mended too: a hit behind the skin
    and inside the body is never cloth over another part, so the wider margin cannot pull a sleeve onto
    the torso."""
    from pipeline.core.fit.checks import pinched_vertices, poke_through

    x = np.array(cloth, dtype=np.float64)
    faces = np.asarray(faces, np.int64)
    bv = np.asarray(body_vertices, np.float64)
    pinched = pinched_vertices(bv, field.faces) if pinched is None else pinched
    first = None
    for _ in range(passes):
        covered, signed, face, bary = poke_through(
            bv, x, faces, field, near_m=near_m, body_parts=body_parts, pinched=pinched, garment_limbs=limbs
        )
        poke = np.nonzero(covered & (signed > 0) & (signed < max_move_m))[0]
        first = len(poke) if first is None else first
        if not len(poke):
            break
        corners = faces[face[poke]]  # (P, 3)
        w = bary[poke]
        hit = (x[corners] * w[:, :, None]).sum(1)
        move = bv[poke] + field.vnormals[poke] * offset_m - hit
        share = w / np.maximum((w * w).sum(1, keepdims=True), 1e-12)
        delta = np.zeros_like(x)
        count = np.zeros(len(x))
        for k in range(3):
            np.add.at(delta, corners[:, k], move * share[:, k : k + 1])
            np.add.at(count, corners[:, k], 1.0)
        x += delta / np.maximum(count, 1.0)[:, None]
        x = field.push_out(
            x, offset_m * 0.8, iterations=2
        )  # never into the body on the other side of a crease
    return x, int(first or 0)

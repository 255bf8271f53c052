"""Put cloth back on its own body part after posing: where a pose brings two body parts close (a hanging arm
against the torso, the thighs in a stride), skinning alone leaves the sleeve's inner wall on the torso side of
the jacket's side panel (or a trouser leg on the other thigh), and the two layers cross in the gap. The cloth
solver cannot undo a crossing: it only pushes cloth out of the nearest body surface, which in a narrow gap may
be the wrong part.

`untangle_parts` moves each such vertex next to its own part before the posed settle: a sleeve or trouser-leg
vertex (a limb label from `skinning.limb_labels`) whose nearest body point lies on another part goes to its own
limb's surface, and a torso-cloth vertex whose nearest body point lies on an arm goes to the torso's, each at
most half the gap between the parts off its own surface, so the two layers lie in the gap in the right order
(torso | side panel | sleeve | arm). Torso cloth near a leg (a hem by the thighs, the seat of trousers) is left
alone: hips and thighs blend there by design.

Limits: the move is local (only vertices on the wrong part, within `reach_m` of their own part); where the gap
is narrower than two skin offsets the layers still touch.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.skinning import body_limb_labels, limb_face_labels

ARM_LABELS = (1, 2)


def _part_field(body, face_labels: np.ndarray, label: int) -> BodyField | None:
    faces = np.asarray(body.faces)[face_labels == label]
    return BodyField(body.vertices, faces) if len(faces) else None


def untangle_parts(
    vertices: np.ndarray,
    limbs: np.ndarray,
    body,
    field: BodyField | None = None,
    offset_m: float = 0.0025,
    reach_m: float = 0.04,
) -> tuple[np.ndarray, int]:
    """`vertices` (posed cloth) with those lying on the wrong body part moved next to their own (see the module
    doc); returns (new vertices, how many moved). `limbs` (G,) are the cloth's limb labels."""
    x = np.array(vertices, dtype=np.float64)
    limbs = np.asarray(limbs, np.int64)
    field = field or BodyField(body.vertices, body.faces)
    body_labels = body_limb_labels(body)
    c = field.closest(x)
    nearest = np.asarray(body.faces)[c.faces][np.arange(len(x)), c.bary.argmax(1)]
    near_part = body_labels[nearest]
    wrong = ((limbs > 0) & (near_part != limbs)) | ((limbs == 0) & np.isin(near_part, ARM_LABELS))
    if not wrong.any():
        return x, 0
    face_labels = limb_face_labels(body, body_labels)
    moved = 0
    for own in np.unique(limbs[wrong]):
        rows = np.nonzero(wrong & (limbs == own))[0]
        part = _part_field(body, face_labels, int(own))
        if part is None:
            continue
        o = part.closest(x[rows])
        d_own = np.linalg.norm(x[rows] - o.points, axis=1)
        ok = d_own < reach_m
        rows, o_pts, o_nrm = rows[ok], o.points[ok], o.normals[ok]
        if not len(rows):
            continue
        # at most half the gap off the own surface: the other part's surface is about d_own + its distance away
        gap = np.where(o.signed_distance[ok] > 0, d_own[ok], 0.0) + np.maximum(c.signed_distance[rows], 0.0)
        height = np.clip(
            np.maximum(o.signed_distance[ok], offset_m), offset_m, np.maximum(0.45 * gap, offset_m)
        )
        x[rows] = o_pts + o_nrm * height[:, None]
        moved += len(rows)
    return x, moved

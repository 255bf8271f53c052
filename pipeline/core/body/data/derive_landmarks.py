"""Derive the tape-measure landmarks (vertex ids and region masks) on anny's fixed topology.

Run once with the project venv; writes pipeline/core/body/data/landmarks.npz, which pipeline/core/body/measure.py reads
(numpy only, so measuring works without torch/anny):

    .venv/bin/python -m pipeline.core.body.data.derive_landmarks

Vertices are picked on adult reference bodies (age 0.75; a female one, gender 1, for bust/underbust/waist,
whose shape makes those landmarks well defined) from anny's rest pose and skin weights. Regions come from
the skin weights: a vertex belongs to a region when its weights on that region's bones sum to > 0.5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "landmarks.npz"
ARM_PREFIXES = ("shoulder01", "upperarm", "lowerarm", "wrist", "finger", "metacarpal")


def _region(body, predicate) -> np.ndarray:
    bones = np.array([bool(predicate(n)) for n in body.bone_names])
    return (body.weights * bones[body.weight_bones]).sum(axis=1) > 0.5


def _head(body, name: str) -> np.ndarray:
    return body.rest_bone_poses[body.bone_names.index(name)][:3, 3]


def _pick(v: np.ndarray, candidates: np.ndarray, score: np.ndarray) -> int:
    idx = np.flatnonzero(candidates)
    if idx.size == 0:
        raise RuntimeError("no candidate vertex")
    return int(idx[np.argmax(score[idx])])


def _mirror(v: np.ndarray, i: int) -> int:
    target = v[i] * np.array([-1.0, 1.0, 1.0])
    return int(np.argmin(np.linalg.norm(v - target, axis=1)))


def derive() -> dict[str, np.ndarray]:
    from pipeline.core.body.anny_model import body_arrays

    ref = body_arrays({"age": 0.75, "gender": 0.5})
    fem = body_arrays({"age": 0.75, "gender": 1.0, "weight": 0.6})
    v, vf = ref.rest_vertices, fem.rest_vertices
    x, y, z = v.T
    arm = _region(ref, lambda n: n.startswith(ARM_PREFIXES))
    leg_l = _region(ref, lambda n: n.endswith(".L") and n.startswith(("upperleg", "lowerleg", "foot", "toe")))
    leg_r = _region(ref, lambda n: n.endswith(".R") and n.startswith(("upperleg", "lowerleg", "foot", "toe")))
    neck = _region(ref, lambda n: n.startswith("neck"))
    upperarm_l = _region(ref, lambda n: n.startswith("upperarm") and n.endswith(".L"))
    upperarm_r = _region(ref, lambda n: n.startswith("upperarm") and n.endswith(".R"))
    torso = ~arm & ~leg_l & ~leg_r
    mid = np.abs(x) < 0.004

    lm: dict[str, int] = {}
    floor, stature = z.min(), np.ptp(z)

    def midline(front: bool, ratio: float) -> int:
        side = (y < 0.0) if front else (y > 0.0)
        return _pick(v, mid & side, -np.abs(z - (floor + ratio * stature)))

    # Heights as fractions of stature on the reference body (ANSUR II means: suprasternale 0.82,
    # cervicale 0.865); the neck girth's front point is the laryngeal prominence just above the notch.
    lm["neck_front"] = midline(True, 0.82)  # jugular notch (suprasternale)
    lm["nape"] = midline(False, 0.865)  # cervicale (C7)
    lm["neck_top_front"] = midline(True, 0.855)  # just below the laryngeal prominence (Adam's apple)
    lm["neck_top_back"] = midline(False, 0.88)  # back of the neck at the same tilted level
    # Acromion: the highest point over the shoulder joint's outer edge.
    ua = _head(ref, "upperarm01.L")
    near = (np.linalg.norm(v - ua, axis=1) < 0.09) & (x > ua[0] - 0.005) & (np.abs(y - ua[1]) < 0.03)
    lm["acromion_l"] = _pick(v, near, z)
    lm["acromion_r"] = _mirror(v, lm["acromion_l"])
    # Olecranon (elbow point, back of the elbow) and ulnar styloid (wrist bone, little-finger side).
    el, wr = _head(ref, "lowerarm01.L"), _head(ref, "wrist.L")
    lm["elbow_l"] = _pick(v, np.linalg.norm(v - el, axis=1) < 0.06, y - 2 * np.linalg.norm(v - el, axis=1))
    lm["elbow_r"] = _mirror(v, lm["elbow_l"])
    lm["wrist_l"] = _pick(v, np.linalg.norm(v - wr, axis=1) < 0.05, y - 2 * np.linalg.norm(v - wr, axis=1))
    lm["wrist_r"] = _mirror(v, lm["wrist_l"])
    # Bust point: the most prominent point of the left breast (female reference).
    fx, fy, fz = vf.T
    s2, cl = _head(fem, "spine02"), _head(fem, "clavicle.L")
    band = torso & (fx > 0.04) & (fx < 0.16) & (fz > s2[2]) & (fz < cl[2] - 0.05)
    lm["bust_l"] = _pick(vf, band, -fy)
    lm["bust_r"] = _mirror(vf, lm["bust_l"])
    b = vf[lm["bust_l"]]
    # Underbust: the inframammary fold, where the front profile below the bust point stops receding (the first
    # vertex of the column below it whose slope to the next one is under 0.2).
    col = np.flatnonzero(
        torso & (np.abs(fx - b[0]) < 0.01) & (fy < 0) & (fz < b[2] - 0.02) & (fz > b[2] - 0.2)
    )
    col = col[np.argsort(-fz[col])]
    slope = np.abs(np.diff(fy[col])) / np.maximum(np.abs(np.diff(fz[col])), 1e-6)
    lm["underbust_l"] = int(col[int(np.argmax(slope < 0.2))])
    # Natural waist: the narrowest torso width between the underbust and the hip joints (female reference).
    ub, hipj = vf[lm["underbust_l"]], _head(fem, "upperleg01.L")
    levels = np.linspace(hipj[2] + 0.04, ub[2] - 0.03, 40)
    widths = [np.ptp(fx[torso & (np.abs(fz - h) < 0.006)]) for h in levels]
    wz = levels[int(np.argmin(widths))]
    lm["waist_side_l"] = _pick(vf, torso & (np.abs(fz - wz) < 0.006), fx)
    lm["waist_back"] = _pick(vf, torso & (np.abs(fx) < 0.006) & (fy > 0), -np.abs(fz - wz))
    lm["waist_front"] = _pick(vf, torso & (np.abs(fx) < 0.006) & (fy < 0), -np.abs(fz - wz))
    # Hip: the level of greatest buttock prominence (most posterior buttock point).
    r = _head(ref, "root")
    butt = torso & (x > 0.02) & (x < 0.12) & (z < r[2] + 0.02) & (z > r[2] - 0.2)
    lm["buttock_l"] = _pick(v, butt, y)
    # Crotch: the lowest midline point of the trunk between the legs.
    lm["crotch"] = _pick(v, torso & mid & (np.abs(y - r[1]) < 0.06) & (z < r[2]), -z)
    # Thigh: highest thigh position just below the gluteal fold, on the left leg.
    return {
        "names": np.array(list(lm)),
        "ids": np.array(list(lm.values()), dtype=np.int64),
        "arm": np.flatnonzero(arm),
        "leg_l": np.flatnonzero(leg_l),
        "leg_r": np.flatnonzero(leg_r),
        "neck": np.flatnonzero(neck),
        "upperarm_l": np.flatnonzero(upperarm_l),
        "upperarm_r": np.flatnonzero(upperarm_r),
        "vertex_count": np.array(len(v)),
        "faces": ref.faces.astype(np.int32),
    }


def main() -> None:
    data = derive()
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT}: " + ", ".join(f"{n}={i}" for n, i in zip(data["names"], data["ids"], strict=True)))


if __name__ == "__main__":
    main()

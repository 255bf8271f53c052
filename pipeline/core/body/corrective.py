"""A smooth, low-frequency corrective of the trunk and thighs for girths anny's shape space cannot make.

anny's blendshapes cannot make some real people: apple-shaped women whose belly is larger than their bust,
very lean or very heavy hips against the rest of the body (ANSUR II). After the shape fit, each girth that is
still off is closed by a horizontal scaling of the body about that girth's section centre, faded out
smoothly (smoothstep) towards the neighbouring girth levels:

- neck: a band peaking at the neck's section and zero at the acromion (or jugular notch) level below and
  under the jaw above;
- chest (bust), waist and hip: bands peaking at their own level and reaching zero at the next level
  (the chest band fades out 60 % of the chest-to-waist distance above the bust, below the acromia, so
  shoulder width is unchanged), weighted by one minus the arms' skin weight, so the arms are not scaled;
- thigh: a band peaking 2 cm below the crotch, zero half-way up to the hip level and 15 cm further down,
  scaling each leg about its own thigh centre, weighted by that leg's skin weight.

Two vertical fields close the lengths when the torso is too long for the legs (long-legged people): the
legs scale vertically about the crotch (inside leg), and the body above the crotch about it (stature), the
arms carried along unstretched. The girth fields are horizontal: stature, crotch height, arm length and
shoulder width do not move. At a girth's own level the other bands are zero and the section scales by
exactly (1 + amplitude), so each amplitude is set in closed form (a few rounds, as the fields overlap). Amplitudes are bounded
(MAX_AMPLITUDE): the field stays a gentle bulge or taper a few cm high, never a crease. It is a rest-pose
displacement applied before skinning (`anny_model.body_arrays`), so poses deform it like the rest of the body.
"""

from __future__ import annotations

import numpy as np

CORRECTED_GIRTHS = ("neck_girth", "chest_girth", "waist_girth", "hip_girth", "thigh_girth")
CORRECTED_LENGTHS = ("inside_leg_length", "stature")
CORRECTED = CORRECTED_GIRTHS + CORRECTED_LENGTHS
ALIASES = {"bust_girth": "chest_girth"}
MAX_AMPLITUDE = 0.12  # at most a 12 % change of a girth at its level
THRESHOLD_CM = 0.2  # girths the fit left closer than this are not corrected
ARM_BONES = ("upperarm", "lowerarm", "wrist", "metacarpal", "finger")


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _hat(z: np.ndarray, low: float, peak: float, high: float) -> np.ndarray:
    """1 at `peak`, falling smoothly to 0 at `low` and `high`."""
    up = _smoothstep((z - low) / max(peak - low, 1e-6))
    down = _smoothstep((high - z) / max(high - peak, 1e-6))
    return np.where(z <= peak, up, down)


def _bone_weight(weights: np.ndarray, weight_bones: np.ndarray, bone_names: list[str], pick) -> np.ndarray:
    chosen = np.array([pick(n) for n in bone_names])
    return (weights * chosen[weight_bones]).sum(axis=1)


def _centre(name: str, v: np.ndarray) -> np.ndarray:
    """Horizontal centre (x, y) of the girth's section hull on `v`."""
    from pipeline.core.body.measure import _cut_points, _plane_for, find_section

    section = find_section(name, v)
    point, normal, _ = _plane_for(name, v)
    pts = _cut_points(v, (v - point) @ normal, section.edges)
    return pts[:, :2].mean(axis=0)


def corrective_fields(
    rest_vertices: np.ndarray, weights: np.ndarray, weight_bones: np.ndarray, bone_names: list[str]
) -> dict[str, np.ndarray]:
    """Per corrected girth, the (V, 3) displacement of a unit amplitude on this (uncorrected) rest body."""
    from pipeline.core.body.measure import landmark_ids

    v = np.asarray(rest_vertices, dtype=np.float64)
    ids = landmark_ids()
    z = v[:, 2]
    chest, waist, hip, crotch = (v[ids[k], 2] for k in ("bust_l", "waist_side_l", "buttock_l", "crotch"))
    neck = (v[ids["neck_top_front"], 2] + v[ids["neck_top_back"], 2]) / 2
    shoulder = max(v[ids["acromion_l"], 2], v[ids["neck_front"], 2] - 0.01)
    thigh = crotch - 0.02
    not_arm = 1.0 - _bone_weight(weights, weight_bones, bone_names, lambda n: n.startswith(ARM_BONES))
    leg_l = _bone_weight(
        weights, weight_bones, bone_names, lambda n: n.startswith("upperleg") and n.endswith(".L")
    )
    leg_r = _bone_weight(
        weights, weight_bones, bone_names, lambda n: n.startswith("upperleg") and n.endswith(".R")
    )
    bands = {
        "neck_girth": _hat(z, shoulder, neck, neck + 0.7 * (neck - shoulder)),
        "chest_girth": _hat(z, waist, chest, chest + 0.6 * (chest - waist)),
        "waist_girth": _hat(z, hip, waist, chest),
        "hip_girth": _hat(z, thigh - 0.5 * (hip - thigh), hip, waist),
    }
    fields = {}
    for name, band in bands.items():
        c = _centre(name, v)
        d = np.zeros_like(v)
        d[:, :2] = (band * not_arm)[:, None] * (v[:, :2] - c)
        fields[name] = d
    c_l = _centre("thigh_girth", v)
    c_r = c_l * [-1.0, 1.0]
    band = _hat(z, thigh - 0.15, thigh, crotch + 0.5 * (hip - crotch))
    d = np.zeros_like(v)
    d[:, :2] = (band * leg_l)[:, None] * (v[:, :2] - c_l) + (band * leg_r)[:, None] * (v[:, :2] - c_r)
    fields["thigh_girth"] = d
    # Lengths: the legs below the crotch scale vertically about it (inside leg, and stature with it); the
    # body above the crotch scales vertically about it, faded in over 8 cm, with the arms carried (translated
    # with their shoulder) rather than stretched.
    d = np.zeros_like(v)
    d[:, 2] = np.minimum(z - crotch, 0.0)
    fields["inside_leg_length"] = d
    lift = _smoothstep((z - crotch) / 0.08)
    arm_w = 1.0 - not_arm
    shoulder_z = v[ids["acromion_l"], 2]
    d = np.zeros_like(v)
    d[:, 2] = lift * ((1 - arm_w) * (z - crotch) + arm_w * (shoulder_z - crotch))
    fields["stature"] = d
    return fields


def apply_corrective(fields: dict[str, np.ndarray], amplitudes: dict[str, float]) -> np.ndarray:
    """(V, 3) displacement for these amplitudes."""
    out = np.zeros_like(next(iter(fields.values())))
    for name, a in amplitudes.items():
        out += float(a) * fields[name]
    return out


def solve_amplitudes(
    rest_vertices: np.ndarray, fields: dict[str, np.ndarray], targets_cm: dict[str, float], rounds: int = 4
) -> dict[str, float]:
    """Amplitudes that bring the given corrected measurements to their targets (those within THRESHOLD_CM of
    it are left alone until another field's band moves them off); bounded by MAX_AMPLITUDE. At its own level
    each field changes its girth by the factor (1 + amplitude); the leg field scales the inside leg so, and the
    trunk field the stature above the crotch."""
    from pipeline.core.body.measure import measure_body

    wanted = {ALIASES.get(k, k): float(t) for k, t in targets_cm.items() if ALIASES.get(k, k) in CORRECTED}
    if not wanted:
        return {}
    names = sorted(set(wanted) | {"stature", "inside_leg_length"}, key=CORRECTED.index)
    got = measure_body(rest_vertices, names)
    amps: dict[str, float] = {}
    for _ in range(rounds):
        if amps:
            got = measure_body(rest_vertices + apply_corrective(fields, amps), names)
        # a girth the fit left close joins once a neighbour's band moves it off (a narrowed hip narrows the
        # thigh below it)
        amps |= {
            k: 0.0
            for k in CORRECTED
            if k in wanted and k not in amps and abs(got[k] - wanted[k]) > THRESHOLD_CM
        }
        if not amps:
            break
        for k in amps:
            if k == "stature":  # only the part above the crotch scales
                ratio = (wanted[k] - got["inside_leg_length"]) / (got[k] - got["inside_leg_length"])
            else:
                ratio = wanted[k] / got[k]
            amps[k] = float(np.clip((1 + amps[k]) * ratio - 1, -MAX_AMPLITUDE, MAX_AMPLITUDE))
    return {k: round(a, 5) for k, a in amps.items()}

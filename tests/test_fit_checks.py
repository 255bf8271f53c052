"""Two-sided contact checks (pipeline.core.fit.checks) on synthetic cases whose answer is known, and the gates."""

from __future__ import annotations

import numpy as np
import trimesh

from pipeline.core.fit.checks import body_through_garment, garment_inside_body, gate, off_body_share


def _sphere(r: float, subdiv: int = 4):
    s = trimesh.creation.icosphere(subdivisions=subdiv, radius=r)
    return np.asarray(s.vertices, float), np.asarray(s.faces, np.int64)


def test_sphere_in_sphere_cloth_is_clean():
    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)  # coarser cloth: body vertices fall between cloth vertices
    through = body_through_garment(bv, bf, gv, gf)
    assert through["covered_vertices"] > 0.95 * len(bv)
    assert through["poke_vertices"] == 0 and through["poke_max_mm"] == 0.0
    assert garment_inside_body(gv, bv, bf)["inside_max_mm"] == 0.0


def test_dent_in_the_cloth_is_found_and_measured():
    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)
    gv = gv.copy()
    dent = gv[:, 0] > 0.095  # a cap of the cloth pushed in to r = 0.09: the body stands out 10 mm there
    gv[dent] *= 0.09 / 0.105
    through = body_through_garment(bv, bf, gv, gf)
    inside = garment_inside_body(gv, bv, bf)
    assert 9.0 < inside["inside_max_mm"] < 10.5
    assert 8.0 < through["poke_max_mm"] < 10.5
    poked = bv[:, 0] > 0.097
    assert through["poke_vertices"] >= 0.8 * poked.sum()
    assert through["poke_share"] > 0.002
    warnings = gate({"piece": "top", **inside, **through})
    assert any("skin shows through" in w for w in warnings)


def test_face_winding_does_not_decide_the_side():
    """Cloth wound inside out in patches (a folded collar's under-layer, panels sewn with either winding) reads
    as it lies: a clean cloth stays clean and a dent stays a poke, whichever way its faces turn."""
    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)
    flipped = gf.copy()
    patch = gv[gf].mean(1)[:, 1] > 0.0  # half the faces turned inside out
    flipped[patch] = flipped[patch][:, ::-1]
    assert body_through_garment(bv, bf, gv, flipped)["poke_vertices"] == 0
    dented = gv.copy()
    dented[gv[:, 0] > 0.095] *= 0.09 / 0.105
    assert body_through_garment(bv, bf, dented, flipped)["poke_max_mm"] > 8.0
    assert body_through_garment(bv, bf, dented, gf[:, ::-1])["poke_max_mm"] > 8.0


def test_hole_is_an_opening_not_a_poke_through():
    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)
    keep = gv[gf].mean(1)[:, 2] < 0.08  # cut a cap off the top: a neck opening
    through = body_through_garment(bv, bf, gv, gf[keep])
    assert through["poke_vertices"] == 0
    assert through["covered_vertices"] < 0.95 * len(bv)


def test_off_body_share_and_gates():
    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)
    assert off_body_share(gv, gf, bv, bf)["off_body_share"] == 0.0
    far = off_body_share(gv * 2.0, gf, bv, bf)  # twice too large: all of it is 10 cm off
    assert far["off_body_share"] == 1.0
    assert gate({"strain_p95": 0.1, "inside_max_mm": 0.5, "poke_share": 0.0, "poke_max_mm": 0.0}) == []
    lines = gate({"piece": "dress", "strain_p95": 1.2, "off_body_share": 0.2})
    assert len(lines) == 2 and "--scale" in lines[0] and "dress" in lines[0]


def test_diffcloth_tee_armpits(shared_data, default_body):
    """The real DiffCloth tee on the default body (scaled to fit): the cloth covers the torso and upper arms
    with at most sub-millimetre specks of skin through it; a body swollen by 10 mm at the armpits, where the
    cloth is pinched between arm and torso (a known answer), stands out there by about that much, and only
    there."""
    from pipeline.core.fit.api import fit_garment
    from pipeline.core.fit.bodyfield import BodyField
    from pipeline.core.fit.checks import poke_through
    from pipeline.core.fit.landmarks import body_landmarks
    from pipeline.core.garment.mesh import read_obj
    from pipeline.core.garment.normalise import normalise_garment

    g, _ = normalise_garment(read_obj(shared_data / "garments" / "diffcloth_tshirt" / "tshirt1900.obj"))
    r = fit_garment(g, default_body, garment_type="top", scale=0.6)
    body = default_body
    lm = body_landmarks(body)
    field = BodyField(body.vertices, body.faces)
    covered, signed, *_ = poke_through(body.vertices, r.vertices, g.faces, field)
    v = body.vertices
    armpit = (np.abs(v[:, 2] - lm.armpit_z) < 0.08) & (np.abs(np.abs(v[:, 0]) - abs(lm.shoulder_l[0])) < 0.08)
    poked = covered & (signed > 0)
    assert covered.sum() > 1000
    assert armpit[covered].sum() > 50
    assert signed[poked].max(initial=0.0) < 0.002
    # a body swollen by 10 mm at the armpits (cloth unchanged) stands out through the cloth there
    swollen = v + np.where(armpit & covered, 0.010, 0.0)[:, None] * field.vnormals
    covered2, signed2, *_ = poke_through(swollen, r.vertices, g.faces, BodyField(swollen, body.faces))
    poked2 = covered2 & (signed2 > 0.002)
    assert poked2.sum() > 5 and armpit[poked2].all()  # where the loose tee lies closer than 1 cm
    through = body_through_garment(swollen, body.faces, r.vertices, g.faces)
    assert 5.0 < through["poke_max_mm"] < 12.0


def _two_segments(gap_m: float):
    """A 'torso' sphere (r 10 cm) and an 'upper arm' sphere (r 4 cm) `gap_m` beside it on +X, as one body
    with part labels (indices into checks.PARTS)."""
    from pipeline.core.fit.checks import PARTS

    tv, tf = _sphere(0.10)
    av, af = _sphere(0.04, 3)
    av = av + [0.14 + gap_m, 0.0, 0.0]
    bv, bf = np.vstack([tv, av]), np.vstack([tf, af + len(tv)])
    parts = np.r_[np.full(len(tv), PARTS.index("torso")), np.full(len(av), PARTS.index("upperarm.L"))]
    return bv, bf, parts, len(tv)


def test_skin_facing_other_skin_is_pinched():
    """Skin facing other skin within 1.5 cm (an arm 5 mm from the torso) is pinched: no cloth fits there. The
    far sides, and the same two parts 3 cm apart, are not."""
    from pipeline.core.fit.checks import pinched_vertices

    bv, bf, _, n_torso = _two_segments(0.005)
    pinched = pinched_vertices(bv, bf)
    facing = (bv[:n_torso, 0] > 0.098) & (np.abs(bv[:n_torso, 1:]).max(1) < 0.01)
    assert pinched[:n_torso][facing].all()
    assert not pinched[:n_torso][bv[:n_torso, 0] < 0.05].any()
    far, ff, _, _ = _two_segments(0.03)
    assert not pinched_vertices(far, ff).any()


def test_each_segment_is_judged_by_its_own_cloth():
    """A sleeve's inner wall lying between the torso and a jacket side pushed out beyond it: the torso's skin
    is under its own cloth (the jacket), not outside the sleeve, once the cloth's limb labels are given."""
    from pipeline.core.fit.bodyfield import BodyField

    bv, bf, parts, n_torso = _two_segments(0.02)
    tv, tf = _sphere(0.105, 3)
    tv = tv.copy()
    side = tv[:, 0] > 0.09  # the jacket's side pushed out to 13 cm, past the sleeve's inner wall
    tv[side] *= 0.13 / 0.105
    sv, sf = _sphere(0.048, 3)
    sv = sv + [0.16, 0.0, 0.0]  # the sleeve: inner wall at x = 11.2 cm, between torso skin and jacket side
    gv, gf = np.vstack([tv, sv]), np.vstack([tf, sf + len(tv)])
    limbs = np.r_[np.zeros(len(tv), np.int64), np.ones(len(sv), np.int64)]
    field = BodyField(bv, bf)
    blind = body_through_garment(bv, bf, gv, gf, field)
    assert blind["poke_vertices"] > 0  # without labels the torso reads as outside the sleeve
    judged = body_through_garment(bv, bf, gv, gf, field, body_parts=parts, garment_limbs=limbs)
    assert judged["poke_vertices"] == 0
    assert judged["covered_vertices"] > 0.9 * len(bv)


def test_last_contact_pass_lifts_a_dent_off_the_skin():
    """The dent that the checks find (skin 10 mm out through the cloth) is mended by the last contact pass,
    found the same way; the rest of the cloth does not move."""
    from pipeline.core.fit.bodyfield import BodyField
    from pipeline.core.fit.skin_contact import lift_cloth_off_skin

    bv, bf = _sphere(0.10)
    gv, gf = _sphere(0.105, 3)
    gv = gv.copy()
    dent = gv[:, 0] > 0.095
    gv[dent] *= 0.09 / 0.105
    field = BodyField(bv, bf)
    assert body_through_garment(bv, bf, gv, gf, field)["poke_vertices"] > 0
    lifted, found = lift_cloth_off_skin(gv, gf, bv, field)
    assert found > 0
    after = body_through_garment(bv, bf, lifted, gf, field)
    assert after["poke_vertices"] == 0
    assert garment_inside_body(lifted, bv, bf)["inside_max_mm"] == 0.0
    far = gv[:, 0] < 0.0
    assert np.allclose(lifted[far], gv[far])


def test_layers_crossing_found_away_from_openings_and_welded_seams():
    """An outer piece sunk under the piece it is worn over is found; vertices marked as joined to it at a
    welded seam are not."""
    from pipeline.core.fit.bodyfield import BodyField
    from pipeline.core.fit.checks import garment_crossings

    bv, bf = _sphere(0.10)
    field = BodyField(bv, bf)
    iv, inf = _sphere(0.11, 3)
    ov, _ = _sphere(0.115, 3)
    assert garment_crossings(ov, iv, inf, field)["crossing_share"] == 0.0
    sunk = garment_crossings(ov * (0.105 / 0.115), iv, inf, field)
    assert sunk["crossing_share"] > 0.9 and 4.0 < sunk["crossing_max_mm"] < 6.0
    skip = ov[:, 2] > 0.0
    half = garment_crossings(ov * (0.105 / 0.115), iv, inf, field, skip=skip)
    assert half["crossing_share"] < 0.6

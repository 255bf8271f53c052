"""The look of a still: colour maths (CIEDE2000 on Sharma's published pairs), colorways and texture recolouring,
fabric presets in the solver and the material, frame presets, render progress, and tiny Cycles renders of
every look and every fabric on the sample T-shirt fitted to anny's default body (64x80 px, 4 samples)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO_ROOT, run_pipeline

from pipeline.core.errors import UserError
from pipeline.core.look import colour as C
from pipeline.core.look.fabric_look import LOOKS_BY_FABRIC, base_colour, fabric_look
from pipeline.core.look.frames import FRAME_SIZES, fill_share, frame_size, over_white
from pipeline.core.progress import RenderProgress, TerminalProgress, render_fraction
from pipeline.core.vocab import FABRIC_ALIASES, FABRICS, FRAMES, LOOKS

TINY = {"width": 64, "height": 80, "samples": 4, "device": "cpu", "denoise": False}

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula", table 1 (a selection).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]


# --- colour maths (no bpy) --------------------------------------------------------------------------------
def test_delta_e_2000_matches_published_pairs():
    lab1 = np.array([p[0] for p in SHARMA])
    lab2 = np.array([p[1] for p in SHARMA])
    np.testing.assert_allclose(C.delta_e_2000(lab1, lab2), [p[2] for p in SHARMA], atol=1e-4)
    np.testing.assert_allclose(C.delta_e_2000(lab2, lab1), [p[2] for p in SHARMA], atol=1e-4)  # symmetric


def test_srgb_lab_round_trip_and_white_point():
    np.testing.assert_allclose(C.srgb_to_lab(np.ones(3)), [100.0, 0.0, 0.0], atol=1e-9)
    rgb = np.random.default_rng(1).uniform(0, 1, (500, 3))
    np.testing.assert_allclose(C.lab_to_srgb(C.srgb_to_lab(rgb)), rgb, atol=1e-9)


def test_colour_values_parse_and_bad_ones_are_user_errors():
    assert C.parse_colour("navy") == C.hex_to_srgb(C.COLORWAYS["navy"])
    assert C.parse_colour("#FF8000") == (1.0, 128 / 255, 0.0)
    assert len(C.BENCH_SWATCHES) == 12
    for bad in ("#12345", "chartreuse-ish", "rgb(1,2,3)", ""):
        with pytest.raises(UserError, match="--color"):
            C.parse_colour(bad)


def _generated_texture(size: int = 96) -> np.ndarray:
    """A knit-like test texture: light heather with stitch rows, a darker stripe and a red print."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size] / size
    value = 0.78 + 0.08 * np.sin(2 * np.pi * 24 * y) + 0.05 * rng.standard_normal((size, size))
    value -= 0.25 * ((y > 0.4) & (y < 0.55))
    rgb = np.repeat(value[..., None], 3, axis=-1)
    rgb[(x - 0.7) ** 2 + (y - 0.2) ** 2 < 0.01] = (0.8, 0.15, 0.15)
    return np.clip(rgb, 0, 1)


def test_recolour_keeps_the_texture_detail_and_lands_on_the_colorway():
    tex = _generated_texture()
    for name in ("navy", "red", "sand", "forest"):
        out = C.recolour(tex, C.parse_colour(name))
        assert C.luminance_correlation(tex, out) > 0.9, name
        mean_lab = C.srgb_to_lab(out).reshape(-1, 3).mean(0)
        assert C.delta_e_2000(mean_lab, C.srgb_to_lab(np.array(C.parse_colour(name)))) < 6.0, name
    flat = C.recolour(np.full((4, 4, 3), 0.7), C.parse_colour("red"))
    np.testing.assert_allclose(flat[0, 0], C.parse_colour("red"), atol=1e-6)  # a flat texture is exact


# --- fabrics, frames, compositing, progress (no bpy) ------------------------------------------------------
def test_every_fabric_has_a_physical_and_a_render_preset_and_old_names_still_work():
    from pipeline.core.fit.fabrics import FABRICS as PHYSICAL
    from pipeline.core.fit.fabrics import get_fabric

    assert tuple(PHYSICAL) == FABRICS == tuple(LOOKS_BY_FABRIC)
    for issue_name in ("cotton-jersey", "denim-twill", "silk-satin", "wool-knit", "leather", "polyester"):
        assert issue_name in FABRICS
    for old, new in FABRIC_ALIASES.items():
        assert get_fabric(old).name == new and fabric_look(old).name == new
    for look in LOOKS_BY_FABRIC.values():
        assert 0.2 <= look.thickness_mm <= 3.0 and look.period_mm > 0 and look.bump_mm > 0
        assert not C.is_light_neutral(C.hex_to_srgb(look.colour)), (
            f"{look.name} would vanish on the mannequin"
        )
    with pytest.raises(UserError, match="--fabric"):
        fabric_look("tin")


def test_untextured_garment_colour_is_never_white_on_the_white_mannequin():
    assert base_colour("denim-twill", (0.8, 0.8, 0.8)) == C.hex_to_srgb(fabric_look("denim-twill").colour)
    assert base_colour("silk-satin", (1.0, 1.0, 1.0)) == C.hex_to_srgb(fabric_look("silk-satin").colour)
    assert base_colour("silk-satin", (0.6, 0.1, 0.2)) == (0.6, 0.1, 0.2)  # the file's own colour is kept
    assert base_colour("silk-satin", (0.6, 0.1, 0.2), C.parse_colour("navy")) == C.parse_colour("navy")


def test_frame_presets_and_explicit_sizes():
    assert tuple(FRAME_SIZES) == FRAMES
    assert frame_size("4:5", None, None) == (1080, 1350)
    assert frame_size("1:1.44", None, None) == (1800, 2592)
    assert frame_size("square", None, None) == (2048, 2048)
    assert frame_size("square", 512, None) == (512, 2048) and frame_size(None, None, None) == (1080, 1350)
    with pytest.raises(UserError, match="--frame"):
        frame_size("16:9", None, None)


def test_over_white_is_exactly_white_where_nothing_was_rendered():
    rgba = np.zeros((6, 6, 4))
    rgba[0, 0] = (0.2, 0.3, 0.4, 1.0)  # garment
    rgba[1, 1] = (0.0, 0.0, 0.0, 0.5)  # shadow at its foot
    rgba[2, 2] = (0.0, 0.0, 0.0, 0.03)  # the shadow catcher's faint tail
    rgba[5, 5] = (0.0, 0.0, 0.0, 0.3)  # a speck of noise away from the product
    out = over_white(rgba)
    assert np.all(np.round(out[3] * 255) == 255) and np.all(np.round(out[2, 2] * 255) == 255)
    assert np.all(np.round(out[5, 5] * 255) == 255)
    np.testing.assert_allclose(out[0, 0], (0.2, 0.3, 0.4), atol=1e-9)
    assert 0.5 < out[1, 1, 0] < 0.9  # about half of the light in linear terms
    assert fill_share(np.array([0, 1, 1, 1, 0], bool)) == 0.6


def test_render_progress_reads_samples_and_tiles_with_an_eta():
    assert render_fraction("Mem: 5M | Updating Lights") is None
    assert render_fraction("Remaining: 00:01.20 | Mem: 5M | Sample 4/16") == (0.25, "sample 4/16")
    frac, text = render_fraction("Rendered 1/4 Tiles, Sample 8/16")
    assert frac == pytest.approx(0.375) and text == "tile 1/4, sample 8/16"
    assert render_fraction("Rendering 3 / 12 samples")[0] == 0.25  # Eevee
    calls, clock = [], iter([0.0, 2.0, 4.0])
    report = RenderProgress(lambda f, m: calls.append((f, m)), clock=lambda: next(clock))
    for line in ("Sample 0/8", "Sample 2/8", "Sample 4/8"):
        report(line)
    assert calls[-1] == (0.5, "rendering: sample 4/8, ETA 4 s")


def test_terminal_progress_reports_every_render_sample_only_when_asked(monkeypatch):
    import io

    for wanted, expected in (("0", 0), ("1", 3)):
        monkeypatch.setenv("TRYON_PROGRESS", wanted)
        stream = io.StringIO()
        bar = TerminalProgress("render", stream)
        for i in (1, 2, 3):
            bar(i / 4, f"rendering: sample {i}/4, ETA {4 - i} s")
        assert stream.getvalue().count("rendering: sample") == expected


# --- renders (bpy, Cycles CPU, 64x80 px, 4 samples) -------------------------------------------------------
@pytest.fixture(scope="module")
def tee_blend(tmp_path_factory, anny_model):
    """The sample T-shirt fitted to anny's default body, as a file without a colour of its own (0.8 grey)."""
    from pipeline.app.tryon import dress
    from pipeline.blender.blendfile import new_scene, save_blend
    from pipeline.blender.tryon_scene import build_dressed_scene

    dressed = dress(REPO_ROOT / "garments" / "tshirt.obj")
    dressed.garment.base_color = (0.8, 0.8, 0.8, 1.0)
    new_scene()
    build_dressed_scene(dressed)
    return save_blend(tmp_path_factory.mktemp("looks") / "tee.blend")


def _render(blend, out, **options) -> tuple[np.ndarray, dict]:
    import bpy

    from pipeline.blender.blendfile import open_blend
    from pipeline.blender.render import render_scene_still

    scene = open_blend(blend)
    info = render_scene_still(scene, out, **{**TINY, **options})
    image = bpy.data.images.load(str(out))
    w, h = image.size
    rgb = np.array(image.pixels[:]).reshape(h, w, image.channels)[::-1, :, :3]
    bpy.data.images.remove(image)
    return rgb, info


def _garment(scene=None):
    import bpy

    scene = scene or bpy.context.scene
    return next(o for o in scene.objects if o.get("tryon_role") == "garment")


@pytest.mark.parametrize("look", LOOKS)
def test_every_look_renders(tee_blend, tmp_path, look):
    import bpy

    seen = {}

    @bpy.app.handlers.persistent  # opening the .blend would drop it otherwise
    def check_body(scene, *_):
        body = next(o for o in scene.objects if o.get("tryon_role") == "avatar")
        seen["body"] = (body.visible_camera, body.visible_shadow, body.hide_render)

    messages = []
    bpy.app.handlers.render_pre.append(check_body)
    try:
        rgb, info = _render(
            tee_blend, tmp_path / f"{look}.png", look=look, progress=lambda f, m: messages.append(m)
        )
    finally:
        bpy.app.handlers.render_pre.remove(check_body)
    assert rgb.shape == (80, 64, 3) and info["look"] == look
    assert any(m.startswith("rendering: sample 4/4") for m in messages), messages[-3:]
    garment_share = float((np.abs(rgb[..., 2] - rgb[..., 0]) > 0.08).mean())  # the fabric colour is blue-grey
    assert garment_share > 0.03, f"the garment is hardly visible in the {look} look"
    body = next(o for o in bpy.context.scene.objects if o.get("tryon_role") == "avatar")
    assert (body.visible_camera, body.hide_render) == (True, False), "the body's visibility is restored"
    if look == "ghost":
        assert seen["body"] == (False, False, True), "the ghost look renders without the body"
        assert info["fill_height"] >= 0.5
    else:
        assert seen["body"][0] is True
    if look != "studio":
        white = np.all(np.round(rgb * 255) == 255, axis=-1)
        assert white[:8, :8].all() and white[:8, -8:].all(), "the top corners are the white background"
        assert white.mean() > 0.4


def test_white_look_background_is_exactly_255_and_the_product_fills_85_percent(tee_blend, tmp_path):
    # denoised, as a catalog render is: at 4 raw samples single floor pixels catch a 25 % shadow sample
    rgb, info = _render(
        tee_blend,
        tmp_path / "white.png",
        look="white",
        frame="4:5",
        width=96,
        height=120,
        samples=8,
        denoise=True,
    )
    px = np.round(rgb * 255).astype(int)
    assert info["size"] == [96, 120] and info["fill_height"] >= 0.85
    white = np.all(px == 255, axis=-1)
    assert white.mean() > 0.5 and white[0].all() and white[:, 0].all() and white[:, -1].all(), (
        "borders not 255"
    )
    subject_rows = (px < 235).any(axis=(1, 2))  # the mannequin is shaded well below the background
    assert fill_share(subject_rows) >= 0.85


@pytest.mark.parametrize("fabric", FABRICS)
def test_every_fabric_renders_in_its_own_colour_with_thickness_and_relief(tee_blend, tmp_path, fabric):
    rgb, info = _render(
        tee_blend, tmp_path / f"{fabric}.png", look="ghost", fabric=fabric, width=48, height=48
    )
    obj = _garment()
    assert info["fabrics"] == [fabric] and obj["tryon_fabric"] == fabric
    look = fabric_look(fabric)
    assert obj.modifiers["Thickness"].thickness == pytest.approx(look.thickness_mm / 1000)
    mat = obj.data.materials[0]
    bump = next(n for n in mat.node_tree.nodes if n.type == "BUMP")
    assert bump.inputs["Height"].is_linked and bump.inputs["Distance"].default_value == pytest.approx(
        look.bump_mm / 1000
    )
    cloth = rgb[np.any(np.round(rgb * 255) < 250, axis=-1)]
    assert len(cloth) > 100
    assert not C.is_light_neutral(tuple(np.median(cloth, axis=0))), "white cloth on the white mannequin"


def test_colorway_recolours_a_texture_keeping_its_detail_and_keeps_it_without_one(tee_blend, tmp_path):
    import bpy

    from pipeline.blender.blendfile import open_blend
    from pipeline.blender.materials import apply_fabric

    scene = open_blend(tee_blend)
    obj = _garment(scene)
    tex = _generated_texture(128)
    image = bpy.data.images.new("scan texture", 128, 128)
    image.pixels.foreach_set(np.concatenate([tex, np.ones((128, 128, 1))], -1).astype(np.float32).ravel())
    for key in ("tryon_own_colour", "tryon_own_texture"):  # as if the importer had given it this texture
        obj.pop(key, None)
    mat = obj.data.materials[0]
    mat.node_tree.nodes.new("ShaderNodeTexImage").image = image

    def used_image() -> np.ndarray:
        node = next(n for n in obj.data.materials[0].node_tree.nodes if n.type == "TEX_IMAGE")
        px = np.empty(128 * 128 * 4, np.float32)
        node.image.pixels.foreach_get(px)
        return node.image, px.reshape(128, 128, 4)[..., :3]

    apply_fabric(obj, "cotton-jersey")
    kept, _ = used_image()
    assert kept == image, "a scan's own texture is kept"
    apply_fabric(obj, "cotton-jersey", C.parse_colour("navy"), "navy")
    recoloured, px = used_image()
    assert recoloured != image and recoloured.packed_file is not None
    assert C.luminance_correlation(tex, px) > 0.9
    navy = C.srgb_to_lab(np.array(C.parse_colour("navy")))
    assert C.delta_e_2000(C.srgb_to_lab(px).reshape(-1, 3).mean(0), navy) < 6


def test_bad_color_is_one_error_line_exit_2(tmp_path):
    proc = run_pipeline(
        "tryon", "--garment", "garments/tshirt.obj", "--out", str(tmp_path), "--color", "#12345"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--color" in proc.stderr
    assert not (tmp_path / "tryon.png").exists()


def test_colorway_recolours_a_scans_vertex_colours_keeping_their_detail(fresh_scene):
    from pipeline.blender.importers import garment_to_object
    from pipeline.blender.materials import apply_fabric
    from pipeline.core.garment.synthetic import noisy_scan

    mesh = noisy_scan(target_faces=5000)
    obj = garment_to_object(mesh, "scan")
    apply_fabric(obj, "cotton-jersey", C.parse_colour("burgundy"), "burgundy")
    before = np.empty(len(mesh.vertices) * 4, np.float32)
    after = np.empty_like(before)
    obj.data.color_attributes["Col"].data.foreach_get("color_srgb", before)
    obj.data.color_attributes["ColRecolour"].data.foreach_get("color_srgb", after)
    before, after = before.reshape(-1, 4)[:, :3], after.reshape(-1, 4)[:, :3]
    assert C.luminance_correlation(before, after) > 0.9
    attr = next(n for n in obj.data.materials[0].node_tree.nodes if n.type == "VERTEX_COLOR")
    assert attr.layer_name == "ColRecolour"


def test_reading_a_fitted_garment_back_ignores_its_render_thickness(tee_blend):
    from pipeline.blender.blendfile import open_blend
    from pipeline.blender.importers import object_to_garment

    obj = _garment(open_blend(tee_blend))
    assert obj.modifiers["Thickness"].show_viewport
    mesh = object_to_garment(obj)
    assert len(mesh.faces) == len(obj.data.polygons)  # one surface, not the Solidify's two shells and rim
    assert obj.modifiers["Thickness"].show_viewport

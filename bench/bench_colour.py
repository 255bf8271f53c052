"""Colour fidelity of a still: 12 named colorway swatches rendered by Cycles, measured against their sRGB values
with CIEDE2000. Goal: every swatch within dE2000 < 3 with the Standard view transform (the white and ghost
looks); the studio look's AgX transform, rendered in the same run, is the baseline it is compared with.

Each swatch is a flat matte plane (`pipeline.blender.materials.swatch_material`, colour set through the same
sRGB-to-linear route as the fabrics) facing an orthographic camera under the neutral light: a uniform white
world of strength 1, under which a Lambertian surface of albedo rho has radiance rho, so an exact pipeline
renders each swatch at its own sRGB value. The centre half of every swatch is averaged from the 8-bit PNG.

    .venv/bin/python bench/bench_colour.py [--samples 16] [--px 64]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bpy  # noqa: E402

from pipeline.blender.blendfile import new_scene  # noqa: E402
from pipeline.blender.materials import swatch_material  # noqa: E402
from pipeline.blender.render import configure_render  # noqa: E402
from pipeline.core.look.colour import (  # noqa: E402
    BENCH_SWATCHES,
    COLORWAYS,
    delta_e_2000,
    hex_to_srgb,
    srgb_to_lab,
)

COLS, ROWS = 4, 3


def build_swatches(scene) -> None:
    """12 unit planes in a 4 x 3 grid at y = 0 facing -Y, a white world and an orthographic camera."""
    for i, name in enumerate(BENCH_SWATCHES):
        me = bpy.data.meshes.new(name)
        x, z = i % COLS, ROWS - 1 - i // COLS
        me.from_pydata([(x, 0, z), (x + 1, 0, z), (x + 1, 0, z + 1), (x, 0, z + 1)], [], [(0, 1, 2, 3)])
        me.materials.append(swatch_material(f"swatch {name}", hex_to_srgb(COLORWAYS[name])))
        scene.collection.objects.link(bpy.data.objects.new(name, me))
    world = bpy.data.worlds.new("Neutral")
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
    bg.inputs["Strength"].default_value = 1.0
    scene.world = world
    cam_data = bpy.data.cameras.new("Bench")
    cam_data.type, cam_data.ortho_scale = "ORTHO", float(COLS)
    cam = bpy.data.objects.new("Bench", cam_data)
    cam.location = (COLS / 2, -5.0, ROWS / 2)
    cam.rotation_euler = (np.pi / 2, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam


def measure(scene, look: str, samples: int, px: int, out: Path) -> np.ndarray:
    """Render with the look's colour management; the mean sRGB (0..1) of each swatch's centre half."""
    configure_render(scene, COLS * px, ROWS * px, "cycles", samples, False, "cpu", look)
    scene.render.film_transparent = False
    scene.render.filepath = str(out)
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(out))
    rgb = np.array(image.pixels[:]).reshape(ROWS * px, COLS * px, 4)[::-1, :, :3]
    bpy.data.images.remove(image)
    q = px // 4
    means = []
    for i in range(len(BENCH_SWATCHES)):
        r, c = i // COLS, i % COLS
        means.append(rgb[r * px + q : (r + 1) * px - q, c * px + q : (c + 1) * px - q].reshape(-1, 3).mean(0))
    return np.array(means)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--px", type=int, default=64, help="pixels per swatch side")
    args = parser.parse_args()
    scene = new_scene()
    build_swatches(scene)
    truth = np.array([hex_to_srgb(COLORWAYS[n]) for n in BENCH_SWATCHES])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        standard = measure(scene, "white", args.samples, args.px, Path(tmp) / "standard.png")
        t1 = time.perf_counter()
        agx = measure(scene, "studio", args.samples, args.px, Path(tmp) / "agx.png")
    de_std = delta_e_2000(srgb_to_lab(standard), srgb_to_lab(truth))
    de_agx = delta_e_2000(srgb_to_lab(agx), srgb_to_lab(truth))
    print(f"{'swatch':<14}{'sRGB':>9}{'rendered (Standard)':>22}{'dE2000':>8}{'AgX dE':>8}  result")
    for name, s, d, a in zip(BENCH_SWATCHES, standard, de_std, de_agx, strict=True):
        hex_s = "#" + "".join(f"{round(255 * v):02x}" for v in s)
        print(f"{name:<14}{COLORWAYS[name]:>9}{hex_s:>22}{d:8.2f}{a:8.2f}  {'pass' if d < 3 else 'FAIL'}")
    print(
        f"Standard: max dE2000 {de_std.max():.2f}, mean {de_std.mean():.2f} ({(de_std < 3).sum()}/12 pass, "
        f"{t1 - t0:.1f} s render); baseline AgX (studio look): max {de_agx.max():.2f}, mean {de_agx.mean():.2f}"
    )
    return 0 if (de_std < 3).all() else 1


if __name__ == "__main__":
    sys.exit(main())

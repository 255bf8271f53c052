"""bench_drape's Blender reference rests at the flat pattern (`rest_at`): real Blender cloth, a 1 m grid whose
rest shape is 0.5x, gravity off, must shrink to half (Blender 5.0.1 ignores `rest_shape_key`: it stays 1 m)."""

import sys

import numpy as np


def test_blender_cloth_rests_at_the_given_shape(fresh_scene, repo_root):
    import bpy

    sys.path.insert(0, str(repo_root / "bench"))
    from bench_drape import rest_at

    bpy.ops.mesh.primitive_grid_add(x_subdivisions=10, y_subdivisions=10, size=1.0)
    grid = bpy.context.active_object
    start = np.empty((len(grid.data.vertices), 3), np.float32)
    grid.data.vertices.foreach_get("co", start.ravel())
    mod = grid.modifiers.new("Cloth", "CLOTH")
    mod.settings.effector_weights.gravity = 0.0
    rest_at(grid, mod, start, 0.5 * start)
    widths_m = []
    for frame in range(1, 6):
        bpy.context.scene.frame_set(frame)
        x = np.empty_like(start)
        grid.evaluated_get(bpy.context.evaluated_depsgraph_get()).data.vertices.foreach_get("co", x.ravel())
        widths_m.append(float(np.ptp(x[:, 0])))
    assert abs(widths_m[0] - 1.0) < 1e-3  # starts at the start shape
    assert abs(widths_m[-1] - 0.5) < 0.01  # rests at half its size

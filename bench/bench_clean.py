"""Bench: clean a generated 1-million-triangle noisy scan (vertex colours, no UVs, scan defects) down to 50k
faces with the pipeline, and with the equivalent pymeshlab pipeline as the baseline, in the same run.

Each contender runs in its own process (so peak memory is its own): time counts from the mesh in memory to
the cleaned mesh with its colours in a texture. Prints time, peak RSS, resulting counts and the ratio.

    .venv/bin/python bench/bench_clean.py [--faces 1000000] [--target 50000] [--uvs]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_pipeline(npz: str, target: int) -> dict:
    import bpy  # noqa: F401  (Blender data for decimation and baking)
    import numpy as np

    from pipeline.app.clean_job import CleanOptions, clean_garment_mesh
    from pipeline.core.garment.mesh import GarmentMesh

    data = np.load(npz)
    if "uv" in data.files:
        mesh = GarmentMesh(
            vertices=data["vertices"],
            faces=data["faces"],
            uv=data["uv"],
            face_uv=data["face_uv"],
            texture_path=str(Path(npz).with_name("texture.png")),
            name="scan",
        )
    else:
        mesh = GarmentMesh(
            vertices=data["vertices"], faces=data["faces"], vertex_colors=data["colors"], name="scan"
        )
    start = time.perf_counter()
    out, report = clean_garment_mesh(
        mesh,
        CleanOptions(target_faces=target, texture_size=1024),
        bake_path=Path(npz).with_name("pipeline_basecolor.png"),
    )
    seconds = time.perf_counter() - start
    steps = {o["step"]: o.get("seconds") for o in report.operations}
    return {
        "seconds": seconds,
        "faces": len(out.faces),
        "vertices": len(out.vertices),
        "steps": steps,
        "textured": out.texture_path is not None,
    }


def run_pymeshlab(npz: str, target: int) -> dict:
    import numpy as np
    import pymeshlab

    data = np.load(npz)
    start = time.perf_counter()
    steps = {}

    def step(name, fn, **kw):
        t = time.perf_counter()
        getattr(ms, fn)(**kw)
        steps[name] = round(time.perf_counter() - t, 3)

    textured = "uv" in data.files
    ms = pymeshlab.MeshSet()
    if textured:  # arrays give no wedge texture index, which texture-aware decimation needs: load the OBJ
        ms.load_new_mesh(str(Path(npz).with_name("scan.obj")))
        start = time.perf_counter()
    else:
        ms.add_mesh(
            pymeshlab.Mesh(
                vertex_matrix=data["vertices"], face_matrix=data["faces"], v_color_matrix=data["colors"]
            )
        )
    step("merge", "meshing_remove_duplicate_vertices")
    step("degenerate", "meshing_remove_null_faces")
    step("duplicate_faces", "meshing_remove_duplicate_faces")
    step("non_manifold", "meshing_repair_non_manifold_edges")
    step(
        "floaters",
        "meshing_remove_connected_component_by_diameter",
        mincomponentdiag=pymeshlab.PercentageValue(10),
    )
    step("normals", "meshing_re_orient_faces_coherently")
    if not textured:  # new hole faces have no wedge UVs, which texture-aware decimation refuses: close after
        step("holes", "meshing_close_holes", maxholesize=60, selected=False)
    ms.set_selection_none()
    # pymeshlab's default quality settings (the fastest; extra ones like preservenormal cost ~20% more)
    if textured:
        step(
            "decimate",
            "meshing_decimation_quadric_edge_collapse_with_texture",
            targetfacenum=target,
            selected=False,
        )
        step("non_manifold_2", "meshing_repair_non_manifold_edges")  # decimation can leave some behind
        step("holes", "meshing_close_holes", maxholesize=60, selected=False)
    else:
        step("decimate", "meshing_decimation_quadric_edge_collapse", targetfacenum=target, selected=False)
        step("uv", "compute_texcoord_parametrization_triangle_trivial_per_wedge", textdim=1024)
        step(
            "bake",
            "transfer_attributes_to_texture_per_vertex",
            textname="pymeshlab_basecolor.png",
            textw=1024,
            texth=1024,
        )
    seconds = time.perf_counter() - start
    m = ms.current_mesh()
    return {
        "seconds": seconds,
        "faces": m.face_number(),
        "vertices": m.vertex_number(),
        "steps": steps,
        "textured": True,
    }


def child(kind: str, npz: str, target: int) -> None:
    result = run_pipeline(npz, target) if kind == "pipeline" else run_pymeshlab(npz, target)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--target", type=int, default=50_000)
    parser.add_argument(
        "--uvs",
        action="store_true",
        help="a photo-textured scan (UV map + texture) instead of vertex colours",
    )
    parser.add_argument("--child", choices=["pipeline", "pymeshlab"], help=argparse.SUPPRESS)
    parser.add_argument("--npz", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.npz, args.target)
        return
    import numpy as np

    from pipeline.core.garment.mesh import write_obj
    from pipeline.core.garment.synthetic import noisy_scan, stripe_texture

    t = time.perf_counter()
    scan = noisy_scan(args.faces, uvs=args.uvs)
    kind = "UV map + texture" if args.uvs else "vertex colours, no UVs"
    print(
        f"generated scan: {len(scan.faces):,} triangles, {len(scan.vertices):,} vertices, {kind} "
        f"({time.perf_counter() - t:.1f} s)"
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-clean-") as tmp:
        npz = str(Path(tmp) / "scan.npz")
        if args.uvs:
            stripe_texture(Path(tmp) / "texture.png", 512)
            scan.texture_path = "texture.png"
            write_obj(scan, Path(tmp) / "scan.obj")
            np.savez(npz, vertices=scan.vertices, faces=scan.faces, uv=scan.uv, face_uv=scan.face_uv)
        else:
            np.savez(npz, vertices=scan.vertices, faces=scan.faces, colors=scan.vertex_colors)
        for kind in ("pipeline", "pymeshlab"):
            cmd = [sys.executable, __file__, "--child", kind, "--npz", npz, "--target", str(args.target)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"{kind} failed:\n{proc.stderr[-2000:]}")
                continue
            results[kind] = r = json.loads(line[7:])
            print(
                f"{kind:10s} {r['seconds']:6.2f} s  peak RSS {r['peak_rss_mb']:7.0f} MB  -> {r['faces']:,} faces "
                f"{r['vertices']:,} vertices  steps {r['steps']}"
            )
    if len(results) == 2:
        ratio = results["pymeshlab"]["seconds"] / results["pipeline"]["seconds"]
        mem = results["pipeline"]["peak_rss_mb"] / results["pymeshlab"]["peak_rss_mb"]
        print(f"speed: pipeline is {ratio:.2f}x the baseline's speed (>1 = faster); goal >= 1.0 and < 20 s")
        print(f"memory: pipeline peak is {mem:.2f}x the baseline's")


if __name__ == "__main__":
    main()

"""Source-body registration: the body a garment was made for, found from the garment alone.

Rows 1-3: MakeHuman's work suit put on anny's average adult by its `.mhclo`, re-posed by its surface binding
with the arms at 20, 45 (as made) and 90 degrees, written to OBJ without the `.mhclo`: the arm angle found
(truth in the row name) and the scale (truth 1). Then every garment file in ../shared/data/garments without a
`.mhclo` beside it (GLB, FBX, USD, STL copies of the MakeHuman suits, which are in decimetres; the DiffCloth
tee in unknown units, about 0.055 m per unit; the DiffCloth skirt in metres): angles, unit guess, residual.
Time per registration, wall and this process's CPU. Baseline in the same run: the importer's unit guess alone
(size of a typical garment), which is what the fit had before.

    .venv/bin/python bench/bench_source_body.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core.fit import mhclo as mh  # noqa: E402
from pipeline.core.fit import transfer  # noqa: E402
from pipeline.core.fit.api import covers_shoulders  # noqa: E402
from pipeline.core.fit.source_body import _posed, fit_source_body, linear_anny  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "garments"


def reposed(folder: Path) -> list[tuple[str, Path]]:
    from pipeline.core.garment.mesh import GarmentMesh, read_obj, write_obj

    lin = linear_anny()
    stem = DATA / "makehuman_male_worksuit01" / "male_worksuit01"
    clo = mh.read_mhclo(stem.with_suffix(".mhclo"))
    binding = transfer.bind(mh.garment_on_body(clo, lin.rest, lin.faces), lin.rest, lin.faces)
    faces = read_obj(stem.with_suffix(".obj")).faces
    out = []
    for arm in (20.0, 45.0, 90.0):
        angles = {f"{j}_{s}": 0.0 for j in ("shoulder", "elbow", "hip_flexion", "knee") for s in "LR"}
        angles.update({"shoulder_L": arm, "shoulder_R": arm, "hip_abduction_L": 6.0, "hip_abduction_R": 6.0})
        v = transfer.evaluate(binding, _posed(lin, lin.heads, lin.rest, angles), lin.faces)
        out.append(
            (f"worksuit arms {arm:.0f}", write_obj(GarmentMesh(v, faces), folder / f"ws{arm:.0f}.obj"))
        )
    return out


def main() -> None:
    from pipeline.app.tryon import load_garment_source
    from pipeline.core.fit.mhclo import find_mhclo

    linear_anny()
    with tempfile.TemporaryDirectory() as tmp:
        items = reposed(Path(tmp))
        for f in sorted(DATA.glob("*/*")):
            if (
                f.suffix.lower() in (".obj", ".glb", ".fbx", ".usdc", ".stl", ".ply")
                and find_mhclo(f) is None
            ):
                items.append((f"{f.parent.name}/{f.name}", f))
        print(
            f"{'garment':<46}{'importer':>9}{'guess':>9}{'m/unit':>9}{'shoulders':>11}{'elbows':>9}"
            f"{'knees':>8}{'resid_mm':>9}{'wall_s':>7}{'cpu_s':>6}  shape (gender, weight)"
        )
        for name, path in items:
            garment, source = load_garment_source(path)
            t0, c0 = time.perf_counter(), time.process_time()
            shoulders = covers_shoulders(garment.vertices, garment.faces)
            fit = fit_source_body(garment.vertices, garment.faces, covers_shoulders=shoulders, check=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            r = fit.record(source["units_loaded"])
            p = r["pose_deg"]
            print(
                f"{name[:45]:<46}{source['units_loaded']:>9}{r['units_guess']:>9}{r['metres_per_file_unit']:>9.4f}"
                f"{p['shoulder_L']:>5.0f}/{p['shoulder_R']:<5.0f}{p['elbow_L']:>4.0f}/{p['elbow_R']:<4.0f}"
                f"{p['knee_L']:>3.0f}/{p['knee_R']:<4.0f}{r['residual_mm']:>9.1f}{wall:>7.1f}{cpu:>6.1f}"
                f"  {r['phenotypes']['gender']:.2f}, {r['phenotypes']['weight']:.2f}",
                flush=True,
            )
    print("truth: worksuit rows 20/45/90 degrees and 1 m per unit; MakeHuman copies 0.1 m per unit (dm)")


if __name__ == "__main__":
    main()

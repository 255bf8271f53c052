"""MakeHuman clothes moved by their `.mhclo` binding vs the landmark placement (baseline, same run).

For each MakeHuman CC0 outfit in ../shared/data/garments that has a `.mhclo` (casual, work and sports suits),
on avatars from the size tables (female XS, female XL, male XXL) in a-pose, relaxed and walking, both
placements are draped with the same solver and settings. Printed per row: placement and drape time (wall and
this process's CPU), garment vertices inside the body (max depth), body poke-through (share of the body
vertices under the garment that stand more than 2 mm outside it, and how deep: a rough one-sided check against
the garment's vertex normals, not the two-sided check of pipeline.core.fit.checks), the share of the garment
more than 8 cm off the body, and strain p95.

    .venv/bin/python bench/bench_mhclo_transfer.py [--bodies XL:female,XXL:male,XS:female] [--poses a-pose,walking]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core.body.poses import pose_body  # noqa: E402
from pipeline.core.fit.api import fit_garment  # noqa: E402
from pipeline.core.fit.bodyfield import BodyField, vertex_normals  # noqa: E402
from pipeline.core.fit.mhclo import find_mhclo, read_mhclo  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "garments"
ITEMS = ("makehuman_male_casualsuit01", "makehuman_male_worksuit01", "makehuman_female_sportsuit01")


def poke_through(body_vertices, garment_vertices, garment_faces, field: BodyField) -> tuple[float, float]:
    """(share, max depth mm) of covered body vertices outside the garment by more than 2 mm."""
    n = vertex_normals(garment_vertices, garment_faces)
    c = field.closest(garment_vertices)
    n = np.where((np.einsum("ij,ij->i", n, garment_vertices - c.points) < 0)[:, None], -n, n)
    d, j = cKDTree(garment_vertices).query(body_vertices)
    covered = d < 0.03
    out = np.einsum("ij,ij->i", body_vertices - garment_vertices[j], n[j])
    bad = covered & (out > 0.002)
    share = float(bad.sum() / max(covered.sum(), 1))
    return share, float(out[bad].max() * 1000) if bad.any() else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bodies", default="XS:female,XL:female,XXL:male")
    ap.add_argument("--poses", default="a-pose,relaxed,walking")
    args = ap.parse_args()
    from pipeline.app.tryon import load_garment_source
    from pipeline.core.body.avatar_body import fit_body

    print(
        f"{'garment':<22}{'body':<10}{'pose':<9}{'placement':<10}{'place_s':>8}{'drape_s':>8}{'cpu_s':>7}"
        f"{'in_mm':>7}{'poke%':>7}{'poke_mm':>8}{'off8cm%':>8}{'strain95':>9}"
    )
    for spec in args.bodies.split(","):
        size, sex = spec.split(":")
        body, _ = fit_body(None, size, sex)
        for pose in args.poses.split(","):
            posed = pose_body(body, pose)
            field = BodyField(posed.vertices, posed.faces)
            for item in ITEMS:
                obj = next((DATA / item).glob("*.obj"))
                garment, source = load_garment_source(obj)
                assert source["mhclo"] is not None and find_mhclo(obj) is not None
                for placement in ("mhclo", "landmarks"):
                    c0 = time.process_time()
                    r = fit_garment(garment, posed, placement=placement, mhclo=read_mhclo(find_mhclo(obj)))
                    cpu = time.process_time() - c0
                    share, depth = poke_through(posed.vertices, r.vertices, garment.faces, field)
                    off = float((field.closest(r.vertices).signed_distance > 0.08).mean())
                    print(
                        f"{item[10:32]:<22}{sex[0] + size:<10}{pose:<9}{placement:<10}{r.stats['place_s']:>8.2f}"
                        f"{r.stats['drape_s']:>8.2f}{cpu:>7.1f}{r.stats['max_penetration_mm']:>7.1f}"
                        f"{100 * share:>7.2f}{depth:>8.1f}{100 * off:>8.2f}{r.stats['strain_p95']:>9.3f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()

"""The clean-up report: counts before and after, each operation with what it changed, warnings; as JSON
and as a short human summary."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from pipeline.core.files import write_json
from pipeline.core.garment.mesh import GarmentMesh


def mesh_stats(mesh: GarmentMesh) -> dict:
    """Counts and size of a garment, for the report."""
    size = np.ptp(mesh.vertices, axis=0) if len(mesh.vertices) else np.zeros(3)
    return {
        "vertices": int(len(mesh.vertices)),
        "faces": int(len(mesh.faces)),
        "uv": mesh.uv is not None,
        "vertex_colors": mesh.vertex_colors is not None,
        "texture": Path(mesh.texture_path).name if mesh.texture_path else None,
        "size": [round(float(x), 4) for x in size],
    }


@dataclasses.dataclass
class CleanReport:
    """What the clean-up did, step by step."""

    input: str = ""
    output: str = ""
    format: str = ""
    objects: list[str] = dataclasses.field(default_factory=list)
    before: dict = dataclasses.field(default_factory=dict)
    after: dict = dataclasses.field(default_factory=dict)
    operations: list[dict] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def add(self, step: str, enabled: bool = True, seconds: float = 0.0, **details) -> None:
        entry = {"step": step, "enabled": enabled}
        if enabled:
            entry["seconds"] = round(seconds, 3)
        entry.update(details)
        self.operations.append(entry)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def operation(self, step: str) -> dict | None:
        """The entry of `step`, if it ran or was switched off."""
        return next((o for o in self.operations if o["step"] == step), None)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["seconds"] = round(self.seconds, 3)
        d["summary"] = self.summary()
        return d

    def write(self, path: str | os.PathLike) -> Path:
        return write_json(path, self.to_dict())

    def summary(self) -> str:
        """A few lines a person reads: counts, what changed, warnings."""
        b, a = self.before, self.after
        lines = [
            f"{Path(self.input).name or 'garment'} -> {Path(self.output).name or '(in place)'}: "
            f"{b.get('vertices', 0):,} vertices / {b.get('faces', 0):,} triangles -> "
            f"{a.get('vertices', 0):,} / {a.get('faces', 0):,}"
        ]
        for op in self.operations:
            text = _describe(op)
            if text:
                lines.append(f"  {op['step']}: {text}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _describe(op: dict) -> str:
    if not op.get("enabled", True):
        return "off"
    s = op["step"]
    if op.get("skipped"):
        return f"skipped ({op['skipped']})"
    if s == "import":
        welded = (
            f", {op['welded_vertices']:,} coincident vertices welded" if op.get("welded_vertices") else ""
        )
        return f"{len(op.get('objects', []))} mesh object(s) read{welded}"
    if s == "normalise":
        size = " x ".join(f"{x:.2f}" for x in op.get("size_m", []))
        turn = f", turned {op['front_turn_deg']:.0f} deg to face -Y" if op.get("front_turn_deg") else ""
        return f"units {op['units']} (x{op['scale']:g}), up {op['up_axis']}{turn}; now {size} m"
    if s == "merge":
        return f"{op['merged_vertices']:,} duplicate vertices merged"
    if s == "degenerate":
        return f"{op['degenerate_faces']:,} degenerate and {op['duplicate_faces']:,} duplicate faces removed"
    if s == "non_manifold":
        return f"{op['removed_faces']:,} faces removed at {op['non_manifold_edges']:,} non-manifold edges"
    if s == "floaters":
        return (
            f"{op['removed_parts']:,} of {op['parts']:,} loose parts removed ({op['removed_faces']:,} faces)"
        )
    if s == "normals":
        return f"{op['flipped_faces']:,} faces flipped outward"
    if s == "holes":
        return f"{op['filled_holes']:,} small holes filled, {op['openings']} openings kept"
    if s == "decimate":
        via = f" (patch merge to {op['clustering']['faces_after']:,} first)" if op.get("clustering") else ""
        return f"{op['faces_before']:,} -> {op['faces_after']:,} triangles{via}"
    if s == "bake":
        return f"vertex colours baked into {op['texture']} ({op['size_px']} px)"
    return ""

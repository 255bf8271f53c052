"""The three layers stay apart: core (no bpy), blender (bpy, no app), app; and no module imports in a circle.

Every import is read from the source (top-level and inside functions), so a lazy import cannot hide a
dependency. Layers are the folders: `pipeline/core`, `pipeline/blender`, `pipeline/app` (+ `blender_addon`).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BPY_MODULES = {"bpy", "bmesh", "mathutils", "gpu", "bpy_extras", "_cycles", "bl_math"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def _modules() -> dict[str, set[str]]:
    files = [*ROOT.joinpath("pipeline").rglob("*.py"), *ROOT.joinpath("blender_addon").rglob("*.py")]
    return {_module_name(f): _imports(f) for f in files}


def _layer(module: str) -> str | None:
    for layer in ("pipeline.core", "pipeline.blender", "pipeline.app"):
        if module == layer or module.startswith(layer + "."):
            return layer.rpartition(".")[2]
    return "addon" if module.startswith("blender_addon") else None


def test_every_pipeline_module_sits_in_a_layer():
    loose = [
        m
        for m in _modules()
        if _layer(m) is None and m not in {"pipeline", "pipeline.__main__", "pipeline.cli"}
    ]
    assert not loose, f"modules outside core/blender/app: {loose}"


def test_core_never_reaches_bpy_or_the_layers_above():
    bad = []
    for mod, imports in _modules().items():
        if _layer(mod) != "core":
            continue
        for imp in imports:
            top = imp.split(".")[0]
            if top in BPY_MODULES or _layer(imp) in ("blender", "app", "addon"):
                bad.append(f"{mod} imports {imp}")
    assert not bad, "\n".join(sorted(bad))


def test_blender_layer_never_reaches_the_app():
    bad = [
        f"{m} imports {i}"
        for m, imps in _modules().items()
        if _layer(m) == "blender"
        for i in imps
        if _layer(i) in ("app", "addon")
    ]
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles():
    mods = _modules()
    graph = {
        m: {i if i in mods else i.rpartition(".")[0] for i in imps} & mods.keys() - {m}
        for m, imps in mods.items()
    }
    # A package's __init__ importing its own children is not a cycle of logic; drop parent->child edges.
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    names = sorted(graph)
    index = {n: i for i, n in enumerate(names)}
    rows = [index[m] for m in names for d in graph[m]]
    cols = [index[d] for m in names for d in graph[m]]
    adj = sp.coo_matrix(([1] * len(rows), (rows, cols)), shape=(len(names), len(names)))
    _, labels = connected_components(adj, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for n, lab in zip(names, labels, strict=True):
        groups.setdefault(lab, []).append(n)
    cycles = [g for g in groups.values() if len(g) > 1]
    assert not cycles, f"import cycles: {cycles}"

"""Fit maps: per-vertex strain (stretch against the garment's rest shape) and body contact pressure, as
colours (CLO-style bands: blue loose, green relaxed, yellow to red stretched) and a front/back PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.core.topology import unique_edges

STRAIN_RANGE = (-0.10, 0.20)  # colour scale limits: 10 % compression .. 20 % stretch
# (position on the scale, RGB): blue = compressed, green = 0, yellow, red = stretched
STRAIN_STOPS = (
    (0.0, (0.15, 0.3, 0.95)),
    (0.5, (0.2, 0.8, 0.35)),
    (0.75, (0.95, 0.9, 0.2)),
    (1.0, (0.9, 0.1, 0.1)),
)


def vertex_strain(
    vertices: np.ndarray,
    faces: np.ndarray,
    rest_vertices: np.ndarray,
    rest_edge_lengths: np.ndarray | None = None,
) -> np.ndarray:
    """Mean relative change of length of the edges around each vertex (+0.1 = stretched 10 %)."""
    e = unique_edges(faces)
    rest = (
        rest_edge_lengths
        if rest_edge_lengths is not None
        else np.linalg.norm(rest_vertices[e[:, 1]] - rest_vertices[e[:, 0]], axis=1)
    )
    cur = np.linalg.norm(vertices[e[:, 1]] - vertices[e[:, 0]], axis=1)
    s = cur / np.maximum(rest, 1e-12) - 1.0
    acc = np.zeros(len(vertices))
    cnt = np.zeros(len(vertices))
    for k in (0, 1):
        np.add.at(acc, e[:, k], s)
        np.add.at(cnt, e[:, k], 1)
    return acc / np.maximum(cnt, 1)


def contact_pressure(signed_distance: np.ndarray, strain: np.ndarray, offset_m: float) -> np.ndarray:
    """A relative pressure in [0, 1]: cloth touching the body (within the skin offset + 1 mm) and stretched."""
    touching = signed_distance < offset_m + 0.001
    return np.where(touching, np.clip(np.maximum(strain, 0.0) / STRAIN_RANGE[1] + 0.15, 0, 1), 0.0)


def strain_colors(strain: np.ndarray) -> np.ndarray:
    """RGBA colours (V, 4) for strain values: blue < green (0) < yellow < red."""
    lo, hi = STRAIN_RANGE
    t = np.where(strain < 0, 0.5 * (1 - np.clip(strain / lo, 0, 1)), 0.5 + 0.5 * np.clip(strain / hi, 0, 1))
    pos, stops = np.array([p for p, _ in STRAIN_STOPS]), np.array([c for _, c in STRAIN_STOPS])
    rgb = np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=1)
    return np.hstack([rgb, np.ones((len(t), 1))])


def strain_scale():
    """A matplotlib ScalarMappable of the strain colours in percent, for the colour bar of a fit-map figure."""
    import matplotlib
    import matplotlib.pyplot as plt

    lo, hi = STRAIN_RANGE
    cmap = matplotlib.colors.LinearSegmentedColormap.from_list("fit", list(STRAIN_STOPS))
    return plt.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(lo * 100, hi * 100))


def pressure_colors(pressure: np.ndarray) -> np.ndarray:
    """RGBA colours (V, 4) for relative contact pressure: light grey (none) to magenta (high)."""
    t = np.clip(pressure, 0, 1)[:, None]
    rgb = (1 - t) * np.array([0.85, 0.85, 0.85]) + t * np.array([0.75, 0.05, 0.55])
    return np.hstack([rgb, np.ones((len(t), 1))])


def draw_fit_map(
    path: str | os.PathLike,
    vertices: np.ndarray,
    faces: np.ndarray,
    colors: np.ndarray,
    body_vertices: np.ndarray | None = None,
    body_faces: np.ndarray | None = None,
    title: str = "strain",
    size_px: tuple[int, int] = (900, 700),
    pressure: np.ndarray | None = None,
) -> Path:
    """Draw the garment's strain colours from the front and the back (painter's order) over the body's
    silhouette, plus a front view of the contact pressure when `pressure` is given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from pipeline.core.files import atomic_path

    panels = 3 if pressure is not None else 2
    width = size_px[0] * panels // 2
    fig, axes = plt.subplots(1, panels, figsize=(width / 100, size_px[1] / 100), dpi=100)
    strain_rgb = colors[faces, :3].mean(1)
    views = [(axes[0], 1, "front: strain", strain_rgb), (axes[1], -1, "back: strain", strain_rgb)]
    if pressure is not None:
        views.append((axes[2], 1, "front: contact pressure", pressure_colors(pressure)[faces, :3].mean(1)))
    for ax, sign, label, face_rgb in views:
        if body_vertices is not None and body_faces is not None:
            bv = body_vertices
            order = np.argsort(-sign * bv[body_faces].mean(1)[:, 1])
            tri = bv[body_faces[order]][:, :, [0, 2]] * [sign, 1]
            ax.add_collection(PolyCollection(tri, facecolors="0.82", edgecolors="none"))
        order = np.argsort(-sign * vertices[faces].mean(1)[:, 1])
        tri = vertices[faces[order]][:, :, [0, 2]] * [sign, 1]
        ax.add_collection(
            PolyCollection(tri, facecolors=face_rgb[order], edgecolors=face_rgb[order] * 0.85, linewidths=0.1)
        )
        pts = vertices if body_vertices is None else np.vstack([vertices, body_vertices])
        ax.set_xlim(-np.abs(pts[:, 0]).max() * 1.05, np.abs(pts[:, 0]).max() * 1.05)
        ax.set_ylim(pts[:, 2].min() - 0.02, pts[:, 2].max() + 0.02)
        ax.set_aspect("equal")
        ax.set_title(label)
        ax.axis("off")
    sm = strain_scale()
    cb = fig.colorbar(sm, ax=axes[:2], fraction=0.03, pad=0.02)
    cb.set_label("strain % (negative = compressed / loose, positive = stretched)")
    fig.suptitle(title)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path

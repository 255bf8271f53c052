"""Training the capture fit's initialiser (`train-initialiser`): ray-cast depth renders of random anny bodies
(Blender's BVH) feed the core trainer; the weights go to models/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.progress import ProgressCallback, silent


def train_initialiser(
    samples: int, seed: int, out: str | None = None, epochs: int = 800, progress: ProgressCallback = silent
) -> dict[str, Any]:
    """Train and save the initialiser; returns its training record."""
    from pipeline.blender.raycast import raycast_depth
    from pipeline.core.capture.initialiser import MODEL_PATH, train

    return train(samples, seed, raycast_depth, Path(out) if out else MODEL_PATH, epochs, progress)

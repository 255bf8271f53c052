"""Training the capture fit's initialiser (`train-initialiser`): ray-cast depth renders (Blender's BVH) of random
anny bodies and of ANSUR II people built by the avatar fit feed the core trainer; the weights go to models/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.progress import ProgressCallback, silent


def train_initialiser(
    samples: int,
    seed: int,
    people: int = 0,
    out: str | None = None,
    epochs: int = 800,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Train and save the initialiser on `samples` random anny bodies and `people` ANSUR II people (none the
    measure bench or the calibrations use); returns its training record."""
    from pipeline.blender.raycast import raycast_depth
    from pipeline.core.capture.initialiser import MODEL_PATH, held_out_ids, train, training_people

    chosen = training_people(people, seed, held_out_ids()) if people else []
    return train(samples, chosen, seed, raycast_depth, Path(out) if out else MODEL_PATH, epochs, progress)

"""What a try-on hands from the compute side to Blender: the avatar asked for, and the dressed result as
arrays (a worker process passes it to Blender's own Python through `pipeline.core.codec`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeline.core.body.anny_model import BodyArrays
from pipeline.core.garment.mesh import GarmentMesh


@dataclasses.dataclass
class BodyRequest:
    """Which avatar to dress: a measurements object (file format), a standard size + sex, or the default body."""

    measurements: dict[str, Any] | None = None
    size: str | None = None
    sex: str | None = None
    source: str = "measurements"

    def is_default(self) -> bool:
        return self.measurements is None and self.size is None


@dataclasses.dataclass
class Dressed:
    """A posed avatar body, the garment as loaded, and its FitResult on that body; an outfit's further pieces
    (layered over the first, inside-out) in `extra`."""

    body: BodyArrays
    garment: GarmentMesh
    result: Any  # pipeline.core.fit.api.FitResult
    pose: str = "a-pose"
    extra: list[tuple[GarmentMesh, Any]] = dataclasses.field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    @property
    def pieces(self) -> list[tuple[GarmentMesh, Any]]:
        """Every (garment, result) pair, innermost first."""
        return [(self.garment, self.result), *self.extra]

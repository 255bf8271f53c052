"""The population's word on the trunk's depth, for the side of the body a capture does not see.

A front view measures the trunk's breadths (the outline) and its front surface well, and its depth front to
back badly: the back is unseen, and without this term anny's parameter prior fills it (the heaviest ANSUR II
woman came out 5 cm small in the bust, her fitted torso thin front to back). Here real people of that breadth
fill it: ANSUR II's chest, waist and buttock depths given stature and the chest, waist and hip breadths, per
sex (`population.trunk_depth_regression`), as a Gaussian negative log-likelihood of the body's depths.

Breadth and depth are taken on the horizontal hull sections the tape measures use (`measure.find_sections`:
bust-point, natural-waist and buttock levels, arms excluded): the extent of the section along X (breadth) and
Y (depth, the body faces -Y). Sections are found on numpy vertices (not differentiable) and re-found now and
then; the extents along them are differentiable in torch. Limit: a population mean, so a person deeper than
usual for their breadth (conditional std 1.4-1.7 cm) is pulled toward the usual depth; the term is weighted so
the depth points win where they see the body.
"""

from __future__ import annotations

import numpy as np

from pipeline.core.body.measure import _HORIZONTAL, _template, find_sections
from pipeline.core.body.population import trunk_depth_regression
from pipeline.core.vocab import SEXES

SECTIONS = ("chest_girth", "waist_girth", "hip_girth")  # the trunk levels, in the population file's order


class DepthPrior:
    """Negative log-likelihood of a body's trunk depths given its breadths and stature, blended by sex."""

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.reg = {}
        for sex in SEXES:
            gain, offset, cov = trunk_depth_regression(sex)
            inv_chol = np.linalg.inv(np.linalg.cholesky(cov))
            self.reg[sex] = tuple(torch.tensor(a, dtype=torch.float32) for a in (gain, offset, inv_chol))
        self.sections: dict | None = None

    def refresh(self, rest_vertices_m: np.ndarray) -> None:
        """Re-find the sections on the current rest body (numpy)."""
        self.sections = find_sections(rest_vertices_m, SECTIONS)

    def dims_cm(self, v):
        """(stature, breadths (3,), depths (3,)) in cm of torch rest vertices (V, 3), along the sections."""
        torch = self.torch
        ids = _template().ids
        breadth, depth = [], []
        for name in SECTIONS:
            e = torch.as_tensor(self.sections[name].edges)
            lm, shift = _HORIZONTAL[name]
            level = v[ids[lm], 2] + shift
            va, vb = v[e[:, 0]], v[e[:, 1]]
            da, db = va[:, 2] - level, vb[:, 2] - level
            denom = da - db
            denom = torch.where(denom.abs() < 1e-9, torch.full_like(denom, 1e-9), denom)
            pts = va + (da / denom).clamp(0.0, 1.0)[:, None] * (vb - va)
            breadth.append(pts[:, 0].max() - pts[:, 0].min())
            depth.append(pts[:, 1].max() - pts[:, 1].min())
        stature = v[:, 2].max() - v[:, 2].min()
        return 100 * stature, 100 * torch.stack(breadth), 100 * torch.stack(depth)

    def nll(self, v, female_weight: float):
        """0.5 * squared Mahalanobis distance of the depths from ANSUR II's conditional mean, the two sexes'
        blended by `female_weight` (anny's gender: 1 female)."""
        stature, breadth, depth = self.dims_cm(v)
        given = self.torch.cat([stature.reshape(1), breadth])
        total = 0.0
        for sex, w in (("female", female_weight), ("male", 1.0 - female_weight)):
            gain, offset, inv_chol = self.reg[sex]
            z = inv_chol @ (depth - offset - gain @ given)
            total = total + w * 0.5 * (z * z).sum()
        return total

"""The population's word on the chest's depth, for the side of the body a front view does not see.

A front view measures the trunk's breadths (the outline) and its front surface well, and its depth front to
back badly: the back is unseen, and without this term anny's parameter prior fills it (from the front, the
fitted chests of ANSUR II-built bodies came out 0.5-3 cm thin front to back and their girths 2-10 cm small).
Here real people fill it: ANSUR II's chest depth given stature and waist breadth, per sex
(`population.trunk_depth_regression`, conditional std 1.7 cm women, 1.5 cm men), as a Gaussian negative
log-likelihood of the body's chest depth, the sexes blended by anny's gender.

Breadth and depth are taken on the horizontal hull sections the tape measures use (`measure.find_sections`:
bust-point and natural-waist levels, arms excluded): a section's extent along X (breadth) and Y (depth; the
body faces -Y). Sections are found on numpy vertices (not differentiable) and re-found now and then; the
extents along them are differentiable in torch. Why only these three numbers: on 12 ANSUR II-built bodies the
mesh's chest depth matched the person's ANSUR II chest depth (-0.6 +- 1.6 cm) and its waist breadth the
waist breadth (-0.5 +- 1.9 cm), while the mesh's chest breadth (+7 cm: the trunk section at bust level takes in
the armpit, ANSUR's anthropometer does not), waist depth (+2.4 cm: natural waist against ANSUR's omphalion)
and hip breadth (+2.7 cm) do not measure what ANSUR's do. Limit: a population mean, so a person deeper than
usual for their waist is pulled toward the usual depth; the depth points win where they see the body. The capture
fit leaves it off by default (`body_fit.W_DEPTH_PRIOR`: it helped the front's chest but failed the heaviest man).
"""

from __future__ import annotations

import numpy as np

from pipeline.core.body.measure import find_sections, horizontal_section_points
from pipeline.core.body.population import trunk_depth_regression
from pipeline.core.vocab import SEXES

GIVEN = ("stature", "waist_breadth")
PREDICTED = ("chest_depth",)
# Student's t degrees of freedom of the depth's residual: heavy-tailed, so a person far from the population's
# line is pulled back less than a Gaussian would pull (not enough for the heaviest ANSUR II man, whose chest is 4
# conditional std deeper than his waist predicts: see body_fit.W_DEPTH_PRIOR)
STUDENT_NU = 1.0
_SECTION_OF = {"chest": "chest_girth", "waist": "waist_girth", "hip": "hip_girth"}


class DepthPrior:
    """Negative log-likelihood of a body's chest depth given its waist breadth and stature, blended by sex."""

    def __init__(self, given: tuple[str, ...] = GIVEN, predicted: tuple[str, ...] = PREDICTED) -> None:
        import torch

        self.torch = torch
        self.given, self.predicted = given, predicted
        self.reg = {}
        for sex in SEXES:
            gain, offset, cov = trunk_depth_regression(sex, given, predicted)
            inv_chol = np.linalg.inv(np.linalg.cholesky(cov))
            self.reg[sex] = tuple(torch.tensor(a, dtype=torch.float32) for a in (gain, offset, inv_chol))
        names = [n for n in (*given, *predicted) if n != "stature"]
        self.section_names = sorted({_SECTION_OF[n.split("_")[0]] for n in names})
        self.sections: dict | None = None

    def refresh(self, rest_vertices_m: np.ndarray) -> None:
        """Re-find the sections on the current rest body (numpy)."""
        self.sections = find_sections(np.asarray(rest_vertices_m, dtype=np.float64), self.section_names)

    def dims_cm(self, v) -> dict:
        """{"stature", "<level>_breadth", "<level>_depth"} in cm of torch rest vertices (V, 3), along the
        sections."""
        out = {"stature": 100 * (v[:, 2].max() - v[:, 2].min())}
        for level, name in _SECTION_OF.items():
            if name not in self.sections:
                continue
            pts = horizontal_section_points(v, name, self.sections[name])
            out[f"{level}_breadth"] = 100 * (pts[:, 0].max() - pts[:, 0].min())
            out[f"{level}_depth"] = 100 * (pts[:, 1].max() - pts[:, 1].min())
        return out

    def nll(self, v, female_weight: float):
        """Student's t negative log-likelihood (up to a constant) of the predicted dimensions' standardised
        residuals from ANSUR II's conditional mean given the body's (held) breadths, the two sexes' blended by
        `female_weight` (anny's gender: 1 female)."""
        dims = self.dims_cm(v)
        # the given breadths are the data's to set: only the depth is pulled (else the prior widens the waist
        # to explain a deep chest)
        torch = self.torch
        given = torch.stack([dims[n] for n in self.given]).detach()
        pred = torch.stack([dims[n] for n in self.predicted])
        total = 0.0
        for sex, w in (("female", female_weight), ("male", 1.0 - female_weight)):
            gain, offset, inv_chol = self.reg[sex]
            z = inv_chol @ (pred - offset - gain @ given)
            total = total + w * torch.log1p(z * z / STUDENT_NU).sum() * (STUDENT_NU + 1) / 2
        return total

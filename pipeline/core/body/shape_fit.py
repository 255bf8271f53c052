"""Find anny parameters that reproduce body measurements: projected Adam in torch over the phenotypes and the
`measure-*` local controls of the measurements given, with a prior towards the mean body.

Two stages: the phenotypes alone (a plausible whole body), then phenotypes plus local controls (exact
measurements), holding the measurements not given near their stage-one values so they do not drift; one
short polishing round when a target is still off by more than 0.3 cm, and one restart (phenotypes and local
controls together, from the mean body) when one is still off by more than 0.5 cm, keeping the better result. Errors are pseudo-Huber, so a target
outside the model's range pulls with a bounded force and does not spoil the others. The rest shape is linear
in anny's blendshape coefficients: each step evaluates anny's phenotype blend weights and a small matrix
product on the few hundred vertices the tape measures read (hull sections refreshed every 8 steps). Runs on
one torch thread (many tiny ops: faster, and robust on a busy 2-core machine).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from pipeline.core.body.measure import MEASUREMENTS, find_sections, measure_body, measure_torch
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.vocab import ADULT_AGE_RANGE

# The local controls that move each measurement most directly.
CONTROLS: dict[str, tuple[str, ...]] = {
    "stature": ("measure-neck-height-incr",),
    "neck_girth": ("measure-neck-circ-incr",),
    "chest_girth": ("measure-bust-circ-incr",),
    "bust_girth": ("measure-bust-circ-incr",),
    "underbust_girth": ("measure-underbust-circ-incr",),
    "waist_girth": ("measure-waist-circ-incr",),
    "hip_girth": ("measure-hips-circ-incr",),
    "thigh_girth": ("measure-thigh-circ-incr",),
    "upper_arm_girth": ("measure-upperarm-circ-incr",),
    "shoulder_width": ("measure-shoulder-dist-incr",),
    "arm_length": ("measure-upperarm-length-incr", "measure-lowerarm-length-incr"),
    "inside_leg_length": ("measure-upperleg-height-incr", "measure-lowerleg-height-incr"),
    "back_waist_length": ("measure-napetowaist-dist-incr", "torso-scale-vert-incr"),
}
SEX_GENDER = {"female": 1.0, "male": 0.0}  # anny: gender 1 is female, 0 male
ADULT_AGE = ADULT_AGE_RANGE
DEFAULT_AGE = 0.75
TOLERANCE_CM = 0.5
_REFRESH_EVERY = 8
_HUBER_CM = 0.5
_PRIOR_PHENO = 0.5  # per unit^2 of phenotype away from the mean, in cm^2 of measurement error
_PRIOR_LOCAL = 0.1


@dataclasses.dataclass
class ShapeFit:
    """A fitted body: anny parameters and the measurements (cm) they reach."""

    phenotypes: dict[str, float]
    local_changes: dict[str, float]
    reached_cm: dict[str, float]  # every measure, given or not
    targets_cm: dict[str, float]
    seconds: float

    def errors_cm(self) -> dict[str, float]:
        """Signed reached-minus-target error per given measurement."""
        return {k: round(self.reached_cm[k] - t, 2) for k, t in self.targets_cm.items()}


class _Shape:
    """Rest vertices as a differentiable function of phenotypes and a few local controls."""

    def __init__(self, controls: list[str]) -> None:
        import torch

        from pipeline.core.body.anny_model import load_model

        self.model = model = load_model()
        self.torch = torch
        n_local = len(model.local_change_labels)
        n_pheno = model.blendshapes.shape[0] - 2 * n_local - len(model.facial_action_labels)
        self.controls = controls
        cols = [
            n_pheno + len(model.facial_action_labels) + 2 * model.local_change_labels.index(c)
            for c in controls
        ]
        with torch.no_grad():
            self.template = model.template_vertices.double()
            self.b_pheno = model.blendshapes[:n_pheno].double().reshape(n_pheno, -1)
            self.b_pos = model.blendshapes[cols].double().reshape(len(cols), -1)
            self.b_neg = model.blendshapes[[c + 1 for c in cols]].double().reshape(len(cols), -1)

    def pheno_weights(self, pheno):
        from anny.models.phenotype import phenotype_blendshape_weights

        m = self.model
        wi = phenotype_blendshape_weights(
            pheno[None].to(m.dtype),
            m.phenotype_labels,
            m.anchors,
            m.stacked_phenotype_blend_shapes_mask,
            extrapolate=m.extrapolate_phenotypes,
        )
        if m.phenotype_blendshape_projection is not None:
            wi = wi @ m.phenotype_blendshape_projection
        return wi[0].double()

    def vertices(self, pheno, local):
        """(V, 3) rest vertices for phenotypes (6,) in anny's order and local control values (C,)."""
        flat = self.pheno_weights(pheno) @ self.b_pheno
        if len(self.controls):
            # anny's split into positive/negative targets, written (as anny does) so the gradient at 0 is not 0.
            pos = local * (local >= 0).to(local.dtype)
            neg = -local * (local <= 0).to(local.dtype)
            flat = flat + pos @ self.b_pos + neg @ self.b_neg
        return self.template + flat.reshape(-1, 3)

    def vertices_on(self, pheno, local, full_np, sub):
        """Full (V, 3) vertices where only the rows `sub` are differentiable (recomputed); the rest are the
        constant `full_np`. The tape measures only read a few hundred vertices, so this is ~3x cheaper."""
        torch = self.torch
        if getattr(self, "_sub", None) is not sub:
            cols = torch.as_tensor(np.stack([3 * sub, 3 * sub + 1, 3 * sub + 2], axis=1).ravel())
            self._sub, self._cols = sub, cols
            self._t_sub = self.template[torch.as_tensor(sub)]
            self._bp_sub, self._bpos_sub, self._bneg_sub = (
                b[:, cols] for b in (self.b_pheno, self.b_pos, self.b_neg)
            )
        flat = self.pheno_weights(pheno) @ self._bp_sub
        if len(self.controls):
            pos = local * (local >= 0).to(local.dtype)
            neg = -local * (local <= 0).to(local.dtype)
            flat = flat + pos @ self._bpos_sub + neg @ self._bneg_sub
        rows = self._t_sub + flat.reshape(-1, 3)
        return torch.from_numpy(full_np).index_copy(0, torch.as_tensor(sub), rows)


def _needed_vertices(v: np.ndarray, sections: dict) -> np.ndarray:
    """Vertex ids the measures read: section edges, landmarks, and top/bottom candidates for stature."""
    from pipeline.core.body.measure import landmark_ids

    z = v[:, 2]
    parts = [s.edges.ravel() for s in sections.values()]
    parts += [
        np.array(list(landmark_ids().values())),
        np.flatnonzero(z > z.max() - 0.02),
        np.flatnonzero(z < z.min() + 0.01),
    ]
    return np.unique(np.concatenate(parts))


def fit_shape(
    targets_cm: dict[str, float],
    sex: str | None = None,
    progress: ProgressCallback = silent,
    steps: tuple[int, int] = (40, 100),
) -> ShapeFit:
    """Fit anny to `targets_cm` (ISO names, cm; any subset); `sex` fixes the gender phenotype when given."""
    import torch

    # The steps are many small ops: one thread is fastest, and it does not collapse when the cores are busy
    # (two threads were 10x slower on a loaded 2-core machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit_shape(targets_cm, sex, progress, steps)
    finally:
        torch.set_num_threads(threads)


def _fit_shape(targets_cm, sex, progress, steps) -> ShapeFit:
    import torch

    start = time.monotonic()
    names = [n for n in targets_cm if n in MEASUREMENTS]
    controls = sorted({c for n in names for c in CONTROLS[n]})
    shape = _Shape(controls)
    labels = list(shape.model.phenotype_labels)
    init = {k: 0.5 for k in labels} | {"age": DEFAULT_AGE}
    if sex:
        init["gender"] = SEX_GENDER[sex]
    pheno = torch.tensor([init[k] for k in labels], dtype=torch.float64, requires_grad=True)
    local = torch.zeros(len(controls), dtype=torch.float64, requires_grad=True)
    lo = torch.tensor([ADULT_AGE[0] if k == "age" else 0.0 for k in labels], dtype=torch.float64)
    hi = torch.tensor([ADULT_AGE[1] if k == "age" else 1.0 for k in labels], dtype=torch.float64)
    frozen = torch.tensor([k == "gender" and sex is not None for k in labels])
    mean = torch.tensor([0.5 if k != "age" else DEFAULT_AGE for k in labels], dtype=torch.float64)
    target = torch.tensor([targets_cm[n] for n in names], dtype=torch.float64)
    others = [n for n in MEASUREMENTS if n not in names and n != "bust_girth"]
    all_names = names + others
    hold = None

    def run_stage(
        n_steps: int, use_local: bool, base_frac: float, span: float, lr_scale: float = 1.0
    ) -> None:
        nonlocal hold
        params = [{"params": [pheno], "lr": 0.04 * lr_scale}]
        if use_local:
            params.append({"params": [local], "lr": 0.05 * lr_scale})
        opt = torch.optim.Adam(params)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.985)
        sections = None
        for step in range(n_steps):
            if step % _REFRESH_EVERY == 0:
                with torch.no_grad():
                    v_np = shape.vertices(pheno, local).numpy()
                sections = find_sections(v_np, all_names)
                sub = _needed_vertices(v_np, sections)
                progress(base_frac + span * step / n_steps, "fitting shape")
            opt.zero_grad()
            v = shape.vertices_on(pheno, local, v_np, sub)
            meas = measure_torch(v, all_names, sections)
            got = torch.stack([meas[n] for n in names]) * 100.0 if names else torch.zeros(0)
            # Pseudo-Huber (quadratic within ~0.5 cm, linear beyond): a measurement the model cannot reach
            # pulls with a bounded force instead of dragging the reachable ones off target.
            err = got - target
            loss = (_HUBER_CM**2 * (torch.sqrt(1 + (err / _HUBER_CM) ** 2) - 1)).sum()
            loss = loss + _PRIOR_PHENO * ((pheno - mean) ** 2).sum()
            if use_local:
                loss = loss + _PRIOR_LOCAL * (local**2).sum()
                if hold is not None and others:
                    kept = torch.stack([meas[n] for n in others]) * 100.0
                    loss = loss + 0.05 * ((kept - hold) ** 2).sum()
            loss.backward()
            pheno.grad[frozen] = 0.0
            opt.step()
            sched.step()
            with torch.no_grad():
                pheno.copy_(torch.maximum(torch.minimum(pheno, hi), lo))
                local.clamp_(-1.0, 1.0)
        if not use_local and others:
            with torch.no_grad():
                v = shape.vertices(pheno, local)
                meas = measure_torch(v, others, find_sections(v.numpy(), others))
                hold = torch.stack([meas[n] for n in others]) * 100.0

    run_stage(steps[0], False, 0.0, 0.3)
    if names and steps[1]:
        run_stage(steps[1], True, 0.3, 0.6)
        worst = _worst_error_cm(shape, pheno, local, names, target)
        if worst > 0.6 * TOLERANCE_CM:  # one polishing round for slow or coupled cases
            run_stage(steps[1] // 2, True, 0.9, 0.1, lr_scale=0.3)
            worst = _worst_error_cm(shape, pheno, local, names, target)
        if worst > TOLERANCE_CM:  # a poor local minimum (rare): restart from the mean body, all at once
            best = (worst, pheno.detach().clone(), local.detach().clone())
            with torch.no_grad():
                pheno.copy_(torch.tensor([init[k] for k in labels], dtype=torch.float64))
                local.zero_()
            run_stage(steps[1] + steps[0], True, 0.9, 0.1)
            if _worst_error_cm(shape, pheno, local, names, target) > best[0]:
                with torch.no_grad():
                    pheno.copy_(best[1])
                    local.copy_(best[2])
    with torch.no_grad():
        final_v = shape.vertices(pheno, local).numpy()
    reached = measure_body(final_v)
    phenotypes = {k: round(float(x), 5) for k, x in zip(labels, pheno.detach(), strict=True)}
    local_changes = {c: round(float(x), 5) for c, x in zip(controls, local.detach(), strict=True)}
    progress(1.0, "shape fitted")
    return ShapeFit(phenotypes, local_changes, reached, dict(targets_cm), time.monotonic() - start)


def _worst_error_cm(shape: _Shape, pheno, local, names: list[str], target) -> float:
    import torch

    with torch.no_grad():
        v = shape.vertices(pheno, local)
        meas = measure_torch(v, names, find_sections(v.numpy(), names))
        got = torch.stack([meas[n] for n in names]) * 100.0
    return float((got - target).abs().max())


def fit_summary(fit: ShapeFit) -> dict[str, Any]:
    """JSON-ready record of a fit: parameters, targets, reached measurements and errors (cm)."""
    return {
        "unit": "cm",
        "reached": fit.reached_cm,
        "targets": fit.targets_cm,
        "errors": fit.errors_cm(),
        "within_tolerance": all(abs(e) <= TOLERANCE_CM for e in fit.errors_cm().values()),
        "tolerance_cm": TOLERANCE_CM,
        "anny": {"phenotypes": fit.phenotypes, "local_changes": fit.local_changes},
        "seconds": round(fit.seconds, 2),
    }


def measurements_of_params(phenotypes: dict[str, float], local_changes: dict[str, float]) -> dict[str, float]:
    """Measurements (cm) of the rest body with the given anny parameters."""
    from pipeline.core.body.anny_model import body_arrays

    return measure_body(body_arrays(phenotypes, local_changes).rest_vertices)

"""Find anny parameters that reproduce body measurements: damped Gauss-Newton (Levenberg-Marquardt) over
anny's phenotypes and the local controls of the trunk and limbs, with a prior towards the mean body.

What the fit aims at:
- every measurement given, to within TOLERANCE_CM (pseudo-Huber weights, so one the model cannot reach
  pulls with a bounded force and does not spoil the others);
- every measurement of the population model (`population.py`, ANSUR II) that was not given, near its
  conditional mean given the others and the sex, weighted by its conditional standard deviation: a body with
  only stature, bust, waist and hip given gets the neck, thigh, shoulders, arms and legs typical of people
  with those four, not anny's prior;
- the measurements neither given nor covered by the population (underbust, upper arm, back waist length)
  held near their values after the phenotype-only stage, so local controls do not drag them.

Two stages: phenotypes alone (a plausible whole body), then phenotypes plus local controls. The controls
are anny's `measure-*` targets of the measurements involved plus a few trunk shapes (belly, breast volume,
buttocks, torso depth) that make apple-shaped and lean bodies the `measure-*` targets alone cannot; all are
MakeHuman's artist-made blend targets, bounded to [-1, 1], so the surface stays smooth and carried by the
skin weights in every pose. The rest shape is linear in anny's blendshape coefficients, so each iteration
evaluates the phenotype blend weights and a small matrix product on the few hundred vertices the tape
measures read, for the current parameters and a forward-difference step of each (one batched evaluation:
the Jacobian); hull sections are refreshed every iteration. Parameters held on a bound by the gradient are
left out of the step (active set), and the fit stops once every given measurement is within 0.1 cm and a step
gains little.

Speed (bench/bench_avatar.py, 40 ANSUR II people, machine load ~7.6 on 2 cores): 0.54 s CPU per avatar (fit +
body), from 1.80 s. Where it went: one torch and one BLAS thread (OpenBLAS's second thread made 30x30 solves
take 4 ms on busy cores); the phenotype blend vectorised and evaluated once per distinct phenotype row (the
Jacobian's local-control rows share the base row's); the float64 basis built once per process; the hull
sections' Python loop shortened; the horizontal girths measured together; and the active set, without which
stage 2 crawled to its 24-iteration cap on a bounded age.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import numpy as np

from pipeline.core.body.anny_model import control_columns, single_threaded
from pipeline.core.body.corrective import (
    ALIASES,
    CORRECTED,
    MAX_AMPLITUDE,
    THRESHOLD_CM,
    apply_corrective,
    corrective_fields,
    solve_amplitudes,
)
from pipeline.core.body.measure import MEASUREMENTS, find_sections, measure_body, measure_torch
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.vocab import ADULT_AGE_RANGE

# The local controls that move each measurement most directly.
CONTROLS: dict[str, tuple[str, ...]] = {
    "stature": (
        "measure-neck-height-incr",
        "measure-napetowaist-dist-incr",
        "measure-waisttohip-dist-incr",
        "torso-scale-vert-incr",
    ),
    "neck_girth": ("measure-neck-circ-incr",),
    "chest_girth": ("measure-bust-circ-incr", "breast-volume-vert-up"),
    "bust_girth": ("measure-bust-circ-incr", "breast-volume-vert-up"),
    "underbust_girth": ("measure-underbust-circ-incr",),
    "waist_girth": ("measure-waist-circ-incr", "stomach-pregnant-incr"),
    "hip_girth": ("measure-hips-circ-incr", "buttocks-volume-incr"),
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
LOCAL_LIMIT = 1.0
_HUBER_CM = 2.0
_PRIOR_PHENO = 0.5  # per unit^2 of phenotype away from the mean, in cm^2 of measurement error
_PRIOR_LOCAL = 0.1  # per unit^2 of local control
_PREDICTED_WEIGHT = 0.5  # a predicted measurement one conditional std off costs like 0.5 cm off a given one
_HOLD_WEIGHT = 0.3
_FD_STEP = 1e-4
_RTOL = 2e-3  # stop when a step gains less than this share of the cost ...
_XTOL = 0.02  # ... and moves no parameter by more than this
_CLOSE_CM = 0.1  # once every given measurement is this close (the survey rounds to 0.1 cm) ...
_RTOL_CLOSE = 0.02  # ... stop when a step gains less than this share of the cost
_PRIOR_CORRECTIVE = 2500.0  # per unit^2 of corrective amplitude: 2 % of a girth costs like 1 cm
_PRIOR_SHAPE = 1.0  # per unit^2 of the trunk shapes that are not tape-measure controls
_STARTS = ((0.5, 0.5), (0.2, 0.8), (0.2, 0.3), (0.8, 0.3))  # (muscle, weight) starts of stage 1


@dataclasses.dataclass
class ShapeFit:
    """A fitted body: anny parameters and the measurements (cm) they reach."""

    phenotypes: dict[str, float]
    local_changes: dict[str, float]
    reached_cm: dict[str, float]  # every measure, given or not
    targets_cm: dict[str, float]
    seconds: float
    predicted_cm: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # (mean, std)
    sex: str | None = None  # the sex given, or the one the population model found likelier
    corrective: dict[str, float] = dataclasses.field(default_factory=dict)  # see corrective.py

    def params(self) -> dict[str, Any]:
        """The anny parameters of the body: what `anny_model.body_arrays(**fit.params())` takes."""
        return {"phenotypes": self.phenotypes, "local_changes": self.local_changes} | (
            {"corrective": self.corrective} if self.corrective else {}
        )

    def errors_cm(self) -> dict[str, float]:
        """Signed reached-minus-target error per given measurement."""
        return {k: round(self.reached_cm[k] - t, 2) for k, t in self.targets_cm.items()}


class _PhenoBlend:
    """anny's phenotype blendshape weights (`anny.models.phenotype.phenotype_blendshape_weights`) for the
    model's phenotypes, in float64 and vectorised: each phenotype's piecewise-linear coefficients over its
    anchors, the phenotypes anny's model does not expose held at their constant values once, then each
    blendshape's product of its few variations by one gather. The same numbers as anny's function (to float64
    rounding; anny's runs in the model's float32), about ten times fewer torch operations."""

    _INTERPOLATED = ("age", "gender", "muscle", "weight", "height", "proportions", "cupsize", "firmness")

    def __init__(self, model) -> None:
        import torch
        from anny.models.model_data import PHENOTYPE_VARIATIONS

        self.labels = list(model.phenotype_labels)
        self.extrapolate = bool(model.extrapolate_phenotypes)
        offsets, n_cols = {}, 0
        for feature, keys in PHENOTYPE_VARIATIONS.items():
            offsets[feature] = n_cols
            n_cols += len(keys)
        self.anchors = {f: model.anchors[f].double() for f in self._INTERPOLATED}
        self.free = [f for f in self._INTERPOLATED if f in self.labels]
        self.free_idx = torch.tensor([self.labels.index(f) for f in self.free])
        self.constant = torch.ones(1, n_cols + 1, dtype=torch.float64)  # the last column stays 1: padding
        for f in self._INTERPOLATED:
            a = self.anchors[f]
            cols = slice(offsets[f], offsets[f] + len(a))
            self.constant[:, cols] = 0.0 if f in self.free else self._coefficients(a, torch.full((1,), 0.5))
        race = PHENOTYPE_VARIATIONS["race"]
        if any(r in self.labels for r in race):
            raise NotImplementedError("race phenotypes are not fitted")  # MODEL_CONFIG never exposes them
        self.constant[:, offsets["race"] : offsets["race"] + len(race)] = 1.0 / len(race)
        # the free phenotypes' anchors side by side, padded with +inf (never reached by a left search)
        n_max = max(len(self.anchors[f]) for f in self.free)
        self.table = torch.full((len(self.free), n_max), float("inf"), dtype=torch.float64)
        for j, f in enumerate(self.free):
            self.table[j, : len(self.anchors[f])] = self.anchors[f]
        self.first = torch.stack([self.anchors[f][0] for f in self.free])[:, None]
        self.last = torch.stack([self.anchors[f][-1] for f in self.free])[:, None]
        self.top = torch.tensor([len(self.anchors[f]) - 1 for f in self.free])[:, None]
        self.offset = torch.tensor([offsets[f] for f in self.free])[:, None]
        mask = model.stacked_phenotype_blend_shapes_mask.numpy() > 0.5
        gather = np.full((len(mask), int(mask.sum(axis=1).max())), n_cols)
        for k, row in enumerate(mask):
            cols = np.flatnonzero(row)
            gather[k, : len(cols)] = cols
        self.gather = torch.as_tensor(gather)
        proj = model.phenotype_blendshape_projection
        self.projection = None if proj is None else proj.double()

    def _coefficients(self, anchors, value):
        """(B, n_anchors) linear interpolation coefficients of one phenotype (anny.utils.interpolation)."""
        import torch

        if not self.extrapolate:
            value = value.clamp(float(anchors[0]), float(anchors[-1]))
        i = torch.searchsorted(anchors, value.contiguous()).clamp(1, len(anchors) - 1)
        alpha = (value - anchors[i - 1]) / (anchors[i] - anchors[i - 1])
        out = torch.zeros(len(value), len(anchors), dtype=torch.float64)
        rows = torch.arange(len(value))
        out[rows, i - 1] = 1.0 - alpha
        out[rows, i] = alpha
        return out

    def __call__(self, pheno):
        """(B, K) blendshape weights of (B, P) phenotypes in the model's label order: the interpolation of
        every free phenotype at once (anchors side by side), scattered into anny's variation columns."""
        import torch

        value = pheno[:, self.free_idx].double().T.contiguous()  # (F, B)
        if not self.extrapolate:
            value = torch.minimum(torch.maximum(value, self.first), self.last)
        i = torch.minimum(torch.searchsorted(self.table, value).clamp(min=1), self.top)
        lo, hi = self.table.gather(1, i - 1), self.table.gather(1, i)
        alpha = (value - lo) / (hi - lo)
        phens = self.constant.repeat(len(pheno), 1)
        phens.scatter_(1, (self.offset + i - 1).T, (1.0 - alpha).T)
        phens.scatter_(1, (self.offset + i).T, alpha.T)
        w = phens[:, self.gather].prod(dim=-1)
        return w if self.projection is None else w @ self.projection


@functools.lru_cache(maxsize=1)
def _basis():
    """The model's template and phenotype blendshapes as flat float64 and float32 tensors, and its phenotype
    blend: built once per process (copying the blendshapes took a tenth of a second per fit)."""
    import torch

    from pipeline.core.body.anny_model import load_model

    model = load_model()
    n_pheno = (
        model.blendshapes.shape[0] - 2 * len(model.local_change_labels) - len(model.facial_action_labels)
    )
    with torch.no_grad():
        template = model.template_vertices.double()
        b_pheno = model.blendshapes[:n_pheno].double().reshape(n_pheno, -1)
    return model, n_pheno, template, b_pheno, template.float(), b_pheno.float(), _PhenoBlend(model)


class _Shape:
    """Rest vertices as a function of phenotypes and a few local controls."""

    def __init__(self, controls: list[str]) -> None:
        import torch

        model, _, self.template, self.b_pheno, t32, bp32, self.blend = _basis()
        self.model = model
        self.torch = torch
        self.controls = controls
        cols = control_columns(model, controls)
        with torch.no_grad():
            n_coords = self.template.numel()
            self.b_pos = model.blendshapes[cols].double().reshape(len(cols), n_coords)
            self.b_neg = model.blendshapes[[c + 1 for c in cols]].double().reshape(len(cols), n_coords)
            # float32 copies for the whole-body evaluations that only locate the hull sections (2x faster)
            self.f32 = [t32, bp32, self.b_pos.float(), self.b_neg.float()]
        self.n_fields = 0
        self.fields = torch.zeros(0, self.template.numel(), dtype=torch.float64)
        self._sub = None

    def set_fields(self, fields: list[np.ndarray]) -> None:
        """Linear displacement fields (each (V, 3)) driven by the last len(fields) entries of `local`."""
        self.fields = self.torch.as_tensor(np.stack([f.ravel() for f in fields]), dtype=self.torch.float64)
        self.n_fields = len(fields)
        self._sub = None

    def _local_flat(self, local, b_pos, b_neg, fields):
        c = len(self.controls)
        flat = local[:, :c].clamp(min=0) @ b_pos + (-local[:, :c]).clamp(min=0) @ b_neg
        if self.n_fields:
            flat = flat + local[:, c : c + self.n_fields] @ fields
        return flat

    def pheno_weights(self, pheno):
        """(B, K) phenotype blendshape weights of (B, 6) phenotypes (anny's blend, float64)."""
        return self.blend(pheno)

    def vertices(self, pheno, local) -> np.ndarray:
        """(V, 3) rest vertices for phenotypes (6,) in anny's order and local control values (C,)."""
        with self.torch.no_grad():
            template, b_pheno, b_pos, b_neg = self.f32
            flat = self.pheno_weights(pheno[None])[0].float() @ b_pheno
            if local.any():  # all zero in stage 1
                flat = flat + self._local_flat(local[None].float(), b_pos, b_neg, self.fields.float())[0]
            return (template + flat.reshape(-1, 3)).double().numpy()

    def vertices_exact(self, pheno, local) -> np.ndarray:
        """(V, 3) rest vertices in float64 (for the final measurements)."""
        with self.torch.no_grad():
            flat = self.pheno_weights(pheno[None])[0] @ self.b_pheno
            flat = flat + self._local_flat(local[None], self.b_pos, self.b_neg, self.fields)[0]
            return (self.template + flat.reshape(-1, 3)).numpy()

    def batch_rows(self, pheno, local, sub: np.ndarray):
        """(B, S, 3) rows `sub` of the rest vertices for (B, 6) phenotypes and (B, C) controls: only the
        vertices the tape measures read, so each evaluation is a small matrix product."""
        torch = self.torch
        if self._sub is not sub:
            cols = torch.as_tensor(np.stack([3 * sub, 3 * sub + 1, 3 * sub + 2], axis=1).ravel())
            self._sub = sub
            self._t_sub = self.template[torch.as_tensor(sub)]
            self._bp_sub, self._bpos_sub, self._bneg_sub, self._f_sub = (
                b[:, cols] for b in (self.b_pheno, self.b_pos, self.b_neg, self.fields)
            )
        # The Jacobian's rows that step a local control share the phenotypes of the first row: blend each
        # distinct phenotype row once (the (B, 136) x (136, 3S) product is most of an evaluation).
        unique, inverse = torch.unique(pheno, dim=0, return_inverse=True)
        flat = (self.pheno_weights(unique) @ self._bp_sub)[inverse]
        if local.any():  # all zero in stage 1
            flat = flat + self._local_flat(local, self._bpos_sub, self._bneg_sub, self._f_sub)
        return self._t_sub + flat.reshape(len(pheno), -1, 3)


class _Subset:
    """The vertices the measures read, grown as the body changes (so the blendshape columns are re-sliced only
    when a section reaches new vertices), with the landmark ids and section edges re-indexed into it."""

    def __init__(self) -> None:
        self.sub = np.zeros(0, dtype=np.int64)

    def update(self, v: np.ndarray, sections: dict) -> tuple[np.ndarray, dict, dict]:
        from pipeline.core.body.measure import Section, landmark_ids

        need = _needed_vertices(v, sections)
        if not np.isin(need, self.sub).all():  # grow by the 2-ring, so small shape changes need no re-slicing
            ring = _adjacency()
            grown = np.zeros(ring.shape[0], dtype=bool)
            grown[need] = True
            for _ in range(2):
                grown |= ring @ grown
            self.sub = np.union1d(self.sub, np.flatnonzero(grown))
        ids = {k: int(np.searchsorted(self.sub, i)) for k, i in landmark_ids().items()}
        local = {n: Section(n, np.searchsorted(self.sub, s.edges)) for n, s in sections.items()}
        return self.sub, ids, local


@functools.lru_cache(maxsize=1)
def _adjacency():
    """Vertex adjacency of anny's mesh (sparse, boolean)."""
    import scipy.sparse

    from pipeline.core.body.measure import _template

    e = _template().edges
    n = int(e.max()) + 1
    a = scipy.sparse.coo_matrix((np.ones(len(e), dtype=bool), (e[:, 0], e[:, 1])), shape=(n, n))
    return (a + a.T).tocsr()


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


@dataclasses.dataclass
class _Problem:
    """The least-squares problem of one fit: which measurements pull where, and how hard."""

    names: list[str]  # measured each iteration
    target: np.ndarray  # (R,) cm
    scale: np.ndarray  # (R,) residual weight per cm
    robust: np.ndarray  # (R,) bool: pseudo-Huber (given measurements)


def fit_shape(
    targets_cm: dict[str, float],
    sex: str | None = None,
    progress: ProgressCallback = silent,
    use_local: bool = True,
    predict_rest: bool = True,
    iterations: tuple[int, int] = (6, 24),
) -> ShapeFit:
    """Fit anny to `targets_cm` (ISO names, cm; any subset); `sex` fixes the gender phenotype when given.
    `use_local=False` fits the phenotypes alone; `predict_rest=False` leaves the measurements not given to
    anny's prior instead of the population's conditional mean (both for comparisons in the benches)."""
    with single_threaded():
        return _fit_shape(dict(targets_cm), sex, progress, use_local, predict_rest, iterations)


def _fit_shape(targets_cm, sex, progress, use_local, predict_rest, iterations) -> ShapeFit:
    import torch

    from pipeline.core.body.population import likely_sex, predict

    start = time.monotonic()
    given = [n for n in targets_cm if n in MEASUREMENTS]
    pop_sex = sex or likely_sex(targets_cm)
    predicted = predict(targets_cm, pop_sex) if predict_rest else {}
    involved = given + list(predicted)
    controls = sorted({c for n in involved for c in CONTROLS[n]}) if use_local else []
    shape = _Shape(controls)
    labels = list(shape.model.phenotype_labels)
    init = {k: 0.5 for k in labels} | {"age": DEFAULT_AGE, "gender": SEX_GENDER[pop_sex]}
    free = [k for k in labels if not (k == "gender" and sex is not None)]
    n_pheno = len(free)
    # The corrective fields of the given trunk girths join as linear parameters in stage 2, with a stiff prior:
    # the fit uses them only for what anny's controls cannot make, and does not trade lengths for girths.
    amp_names = [n for n in CORRECTED if n in {ALIASES.get(g, g) for g in given}] if use_local else []
    n_extra = len(controls) + len(amp_names)
    bounds = (
        np.array(
            [ADULT_AGE[0] if k == "age" else 0.0 for k in free]
            + [-LOCAL_LIMIT] * len(controls)
            + [-MAX_AMPLITUDE] * len(amp_names)
        ),
        np.array(
            [ADULT_AGE[1] if k == "age" else 1.0 for k in free]
            + [LOCAL_LIMIT] * len(controls)
            + [MAX_AMPLITUDE] * len(amp_names)
        ),
    )
    prior = (
        np.array([DEFAULT_AGE if k == "age" else 0.5 for k in free] + [0.0] * n_extra),
        np.sqrt(
            [_PRIOR_PHENO] * n_pheno
            + [_PRIOR_LOCAL if c.startswith("measure-") else _PRIOR_SHAPE for c in controls]
            + [_PRIOR_CORRECTIVE] * len(amp_names)
        ),
    )
    base_pheno = torch.tensor([init[k] for k in labels], dtype=torch.float64)
    free_idx = torch.tensor([labels.index(k) for k in free])

    def unpack(X: np.ndarray):
        X = torch.as_tensor(np.atleast_2d(X))
        pheno = base_pheno.repeat(len(X), 1)
        pheno[:, free_idx] = X[:, :n_pheno]
        return pheno, X[:, n_pheno:]

    problem = _Problem(
        names=given + list(predicted),
        target=np.array([targets_cm[n] for n in given] + [m for m, _ in predicted.values()]),
        scale=np.array([1.0] * len(given) + [_PREDICTED_WEIGHT / s for _, s in predicted.values()]),
        robust=np.array([True] * len(given) + [False] * len(predicted)),
    )
    solver = _Solver(shape, unpack, bounds, prior, problem)
    # Stage 1: phenotypes only, from a few starts across anny's muscle/weight kinks (one start can land in
    # a poor minimum); stage 2: with the local controls, holding the measurements not involved.
    mask = np.arange(len(bounds[0])) < n_pheno
    starts = []
    for muscle, weight in _STARTS:
        x0 = np.array([init[k] for k in free] + [0.0] * n_extra)
        x0[free.index("muscle")], x0[free.index("weight")] = muscle, weight
        starts.append(solver.run(x0, mask, 3))
    starts.sort(key=lambda t: t[1])

    def finish(x_start: np.ndarray) -> ShapeFit:
        """Stage 1 refined from this start, stage 2 and the final corrective."""
        solver.problem = problem
        x, _ = solver.run(x_start, mask, iterations[0])
        progress(0.3, "fitting shape")
        if controls:
            others = [n for n in MEASUREMENTS if n not in involved and n not in ("bust_girth", "chest_girth")]
            if others:
                held = measure_body(shape.vertices(*(t[0] for t in unpack(x))), others)
                solver.problem = _Problem(
                    names=problem.names + others,
                    target=np.concatenate([problem.target, [held[n] for n in others]]),
                    scale=np.concatenate([problem.scale, [_HOLD_WEIGHT] * len(others)]),
                    robust=np.concatenate([problem.robust, [False] * len(others)]),
                )
            if amp_names:
                fields = _corrective_fields(shape, shape.vertices(*(t[0] for t in unpack(x))))
                shape.set_fields([fields[n] for n in amp_names])
            x, _ = solver.run(x, np.ones_like(mask), iterations[1])
            x[n_pheno + len(controls) :] = 0.0  # the final corrective is solved on the final anny body below
        pheno, local = (t[0] for t in unpack(x))
        rest = shape.vertices_exact(pheno, local)
        local = local[: len(controls)]
        corrective = {}
        reached = measure_body(rest)
        if amp_names and any(
            abs(reached[n] - targets_cm[n]) > THRESHOLD_CM
            for n in given
            if n in amp_names or ALIASES.get(n) in amp_names
        ):
            fields = _corrective_fields(shape, rest)
            corrective = solve_amplitudes(rest, fields, targets_cm)
            if corrective:
                reached = measure_body(rest + apply_corrective(fields, corrective))
        phenotypes = {k: round(float(v), 5) for k, v in zip(labels, pheno, strict=True)}
        local_changes = {c: round(float(v), 5) for c, v in zip(controls, local, strict=True)}
        seconds = time.monotonic() - start
        return ShapeFit(
            phenotypes, local_changes, reached, dict(targets_cm), seconds, predicted, pop_sex, corrective
        )

    # From the best start; where that misses a given measurement (3 of ANSUR II's 6,068 people: a compromise
    # of shoulder width against a heavy trunk, a short neck whose tilted tape then cuts the shoulders, a step
    # given up after six raised dampings), again from every start with a more patient step (twelve), keeping
    # the first that reaches every one, else the closest. Fits reached the first time are not touched.
    best = None
    retries = [(x, 12) for x, _ in starts] if use_local else []
    for x_start, tries in [(starts[0][0], 6), *retries]:
        solver.damping_tries = tries
        fit = finish(x_start)
        if best is None or _worst_cm(fit) < _worst_cm(best):
            best = fit
        if _worst_cm(best) <= TOLERANCE_CM:
            break
    progress(1.0, "shape fitted")
    return best


def _worst_cm(fit: ShapeFit) -> float:
    """The fit's largest miss of a given measurement (cm)."""
    return max((abs(e) for e in fit.errors_cm().values()), default=0.0)


def _corrective_fields(shape: _Shape, rest: np.ndarray) -> dict[str, np.ndarray]:
    m = shape.model
    weights = m.vertex_bone_weights.double().numpy()
    return corrective_fields(rest, weights, m.vertex_bone_indices.long().numpy(), list(m.bone_labels))


class _Solver:
    """Levenberg-Marquardt on sum(rho(measurement residuals)) + |w (x - mean)|^2 within bounds, over a
    chosen subset of the parameters. Jacobian by forward differences, all in one batched evaluation;
    pseudo-Huber for the given measurements by reweighting; hull sections refreshed at every accepted step."""

    def __init__(self, shape: _Shape, unpack, bounds, prior, problem: _Problem) -> None:
        self.shape, self.unpack, self.problem = shape, unpack, problem
        self.lo, self.hi = bounds
        self.prior_mean, self.prior_w = prior
        self.subset = _Subset()
        self.damping_tries = 6  # raised dampings before a step is given up (see _fit_shape's retries)

    def _state(self, x: np.ndarray):
        v = self.shape.vertices(*(t[0] for t in self.unpack(x)))
        return self.subset.update(v, find_sections(v, self.problem.names))

    def _residuals(self, X: np.ndarray, state) -> np.ndarray:
        """(B, R) weighted measurement residuals for parameter rows X (B, P)."""
        import torch

        sub, ids, sections = state
        v = self.shape.batch_rows(*self.unpack(X), sub)
        meas = measure_torch(v, self.problem.names, sections, ids)
        got = torch.stack([meas[n] for n in self.problem.names], dim=-1).numpy() * 100.0
        return (got - self.problem.target) * self.problem.scale

    def _cost(self, r: np.ndarray, x: np.ndarray) -> float:
        robust = self.problem.robust
        rho = np.where(robust, 2 * _HUBER_CM**2 * (np.sqrt(1 + (r / _HUBER_CM) ** 2) - 1), r * r)
        return float(rho.sum() + ((self.prior_w * (x - self.prior_mean)) ** 2).sum())

    def run(self, x: np.ndarray, mask: np.ndarray, n_iter: int) -> tuple[np.ndarray, float]:
        """Minimise over x[mask] from x; returns (x, cost)."""
        free = np.flatnonzero(mask)
        state = self._state(x)
        lam = 1e-3
        for _ in range(n_iter):
            X = np.repeat(x[None], len(free) + 1, axis=0)
            step = np.where(x[free] + _FD_STEP > self.hi[free], -_FD_STEP, _FD_STEP)
            X[np.arange(1, len(free) + 1), free] += step
            R = self._residuals(X, state)
            r, J = R[0], (R[1:] - R[0]).T / step  # J: (R, P)
            cost = self._cost(r, x)
            trial = self._step(x, free, r, J, lam, cost, state)
            if trial is None:
                break
            x, cost_new, r_new, delta, lam = trial
            state = self._state(x)
            if self._converged(cost, cost_new, r_new, delta):
                break
        cost = self._cost(self._residuals(x, state)[0], x)
        return x, cost

    def _step(self, x, free, r, J, lam, cost, state):
        """One damped Gauss-Newton step that lowers the cost, raising the damping until one does (trial steps
        are judged on the current sections: cheap); (x, cost, residuals, step, damping), or None."""
        w = np.where(self.problem.robust, 1.0 / np.sqrt(1 + (r / _HUBER_CM) ** 2), 1.0)
        pw = self.prior_w[free] ** 2
        A = J.T @ (w[:, None] * J) + np.diag(pw)
        g = J.T @ (w * r) + pw * (x[free] - self.prior_mean[free])
        # Parameters on a bound that the gradient pushes further out stay there (active set): a step solved
        # with them free and then clipped is not the step the model chose, fails, and makes LM crawl.
        xf = x[free]
        move = ~(((xf <= self.lo[free]) & (g > 0)) | ((xf >= self.hi[free]) & (g < 0)))
        A, g = A[np.ix_(move, move)], g[move]
        for _ in range(self.damping_tries):
            delta = np.zeros(len(free))
            delta[move] = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-6), -g)
            x_new = x.copy()
            x_new[free] = np.clip(x[free] + delta, self.lo[free], self.hi[free])
            r_new = self._residuals(x_new, state)[0]
            cost_new = self._cost(r_new, x_new)
            if cost_new < cost:
                return x_new, cost_new, r_new, delta, max(lam / 3, 1e-6)
            lam *= 4
        return None

    def _converged(self, cost: float, cost_new: float, r_new: np.ndarray, delta: np.ndarray) -> bool:
        """Stop when the step gained little and was short (a long step that gains little is a slide along a
        flat valley of the robust cost, where the refreshed sections may still change the picture); or, once
        every given measurement is within _CLOSE_CM, when it gained less than _RTOL_CLOSE: what is left is
        the prior's and the held measurements' slow pull, worth a few hundredths of a cm, and twenty more
        iterations (half the fit's time)."""
        gain = cost - cost_new
        if gain < _RTOL * cost and np.abs(delta).max() < _XTOL:
            return True
        given = self.problem.robust
        return bool(given.any() and gain < _RTOL_CLOSE * cost and (np.abs(r_new[given]) <= _CLOSE_CM).all())


def fit_summary(fit: ShapeFit) -> dict[str, Any]:
    """JSON-ready record of a fit: parameters, targets, reached measurements and errors (cm)."""
    return {
        "unit": "cm",
        "reached": fit.reached_cm,
        "targets": fit.targets_cm,
        "errors": fit.errors_cm(),
        "within_tolerance": all(abs(e) <= TOLERANCE_CM for e in fit.errors_cm().values()),
        "tolerance_cm": TOLERANCE_CM,
        "predicted": {k: {"mean": round(m, 1), "std": round(s, 1)} for k, (m, s) in fit.predicted_cm.items()},
        "population_sex": fit.sex,
        "anny": fit.params(),
        "seconds": round(fit.seconds, 2),
    }


def measurements_of_params(
    phenotypes: dict[str, float], local_changes: dict[str, float], corrective: dict[str, float] | None = None
) -> dict[str, float]:
    """Measurements (cm) of the rest body with the given anny parameters."""
    from pipeline.core.body.anny_model import body_arrays

    return measure_body(body_arrays(phenotypes, local_changes, corrective=corrective).rest_vertices)

"""What the population says about the measurements a person did not give: the ANSUR II conditional mean.

Per sex, the nine measurements ANSUR II shares with the project are modelled as one Gaussian (mean and
covariance in data/population.json, derived by data/derive_population.py). Given some of them, the others are
predicted by the conditional mean, with the conditional standard deviation as their uncertainty; when the sex
is not given, the sex under which the given measurements are likelier is used. The three measurements ANSUR II
lacks (underbust, upper arm, back waist length) are not predicted. Limits: one Gaussian per sex (no
mixture), fitted on US Army personnel, so very heavy or very old bodies are predicted by extrapolation.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from pipeline.core.vocab import SEXES

POPULATION_FILE = Path(__file__).resolve().parent / "data" / "population.json"
ALIASES = {"bust_girth": "chest_girth"}


@functools.lru_cache(maxsize=1)
def population() -> dict:
    """The population file: names, ranges_cm, and per sex subjects, mean, cov."""
    return json.loads(POPULATION_FILE.read_text(encoding="utf-8"))


def population_names() -> tuple[str, ...]:
    """The measurements the population model covers (ISO names; chest_girth stands for bust_girth too)."""
    return tuple(population()["names"])


def _gaussian(sex: str) -> tuple[np.ndarray, np.ndarray]:
    p = population()[sex]
    return np.asarray(p["mean"], dtype=np.float64), np.asarray(p["cov"], dtype=np.float64)


def _known(measurements_cm: dict[str, float]) -> dict[str, float]:
    names = population_names()
    out = {ALIASES.get(k, k): float(v) for k, v in measurements_cm.items()}
    return {k: v for k, v in out.items() if k in names}


def log_likelihood(measurements_cm: dict[str, float], sex: str) -> float:
    """Log density of the given (covered) measurements under one sex's marginal Gaussian."""
    names = population_names()
    known = _known(measurements_cm)
    if not known:
        return 0.0
    mean, cov = _gaussian(sex)
    idx = [names.index(k) for k in known]
    d = np.array(list(known.values())) - mean[idx]
    c = cov[np.ix_(idx, idx)]
    _, logdet = np.linalg.slogdet(c)
    return float(-0.5 * (d @ np.linalg.solve(c, d) + logdet + len(idx) * np.log(2 * np.pi)))


def likely_sex(measurements_cm: dict[str, float]) -> str:
    """The sex under which the given measurements are likelier (female on a tie or when none is covered)."""
    return max(SEXES, key=lambda s: (log_likelihood(measurements_cm, s), s == "female"))


def predict(measurements_cm: dict[str, float], sex: str | None = None) -> dict[str, tuple[float, float]]:
    """The covered measurements not given: {name: (conditional mean, conditional std)} in cm, under `sex` (or
    the likelier sex). chest_girth is reported under the name given (bust_girth) when it was given."""
    names = population_names()
    sex = sex or likely_sex(measurements_cm)
    known = _known(measurements_cm)
    mean, cov = _gaussian(sex)
    k = [names.index(n) for n in known]
    u = [i for i, n in enumerate(names) if n not in known]
    if not u:
        return {}
    if k:
        gain = np.linalg.solve(cov[np.ix_(k, k)], cov[np.ix_(k, u)]).T  # (U, K)
        mu = mean[u] + gain @ (np.array(list(known.values())) - mean[k])
        var = cov[np.ix_(u, u)] - gain @ cov[np.ix_(k, u)]
    else:
        mu, var = mean[u], cov[np.ix_(u, u)]
    return {
        names[i]: (float(m), float(np.sqrt(max(s, 1e-6))))
        for i, m, s in zip(u, mu, np.diag(var), strict=True)
    }


TRUNK_DEPTHS_FILE = Path(__file__).resolve().parent / "data" / "trunk_depths.json"


@functools.lru_cache(maxsize=1)
def trunk_depths() -> dict:
    """The trunk file (data/derive_trunk_depths.py): names, given, predicted, and per sex subjects, mean, cov."""
    return json.loads(TRUNK_DEPTHS_FILE.read_text(encoding="utf-8"))


def trunk_depth_regression(
    sex: str, given: tuple[str, ...] | None = None, predicted: tuple[str, ...] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ANSUR II's trunk depths given stature and the trunk's breadths, for one sex: (gain (P, G), offset (P,),
    conditional covariance (P, P)), cm, such that predicted ~ N(offset + gain @ given, covariance). Default
    given = (stature, chest, waist, hip breadth), predicted = (chest, waist, hip (buttock) depth); any subsets
    of the file's names may be asked for. A population mean: a person deeper than usual for their breadth is
    predicted at the usual depth (conditional std 1.4-1.7 cm)."""
    t = trunk_depths()
    names = t["names"]
    g = [names.index(n) for n in (given or t["given"])]
    d = [names.index(n) for n in (predicted or t["predicted"])]
    mean, cov = np.asarray(t[sex]["mean"], dtype=np.float64), np.asarray(t[sex]["cov"], dtype=np.float64)
    gain = np.linalg.solve(cov[np.ix_(g, g)], cov[np.ix_(g, d)]).T
    return gain, mean[d] - gain @ mean[g], cov[np.ix_(d, d)] - gain @ cov[np.ix_(g, d)]

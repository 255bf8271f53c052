"""Fit every size on the shopper's body, read the ease per region, word it with the bands, and recommend one
size with the reason in one sentence."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from pipeline.core.advice.bands import (
    DECIDING_REGIONS,
    RULING_REGIONS,
    bands_for,
    type_group,
    word_for,
)
from pipeline.core.advice.chart import garment_chart
from pipeline.core.advice.ease import body_planes, region_ease
from pipeline.core.errors import UserError
from pipeline.core.garment.mesh import GarmentMesh
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.vocab import SIZES

ORDER_REGIONS = {"top": ("chest",), "outerwear": ("chest",), "dress": ("chest",), "bottom": ("waist",)}
TABLE_KEYS = {"chest": "chest_girth", "waist": "waist_girth", "hip": "hip_girth"}
IMPLIED_EASE_RANGE_CM = (-8.0, 45.0)  # a garment labelled with a size must hold that size's body within this


@dataclasses.dataclass
class SizeOption:
    """One size of the garment: its mesh and, when known (graded sample garments), the ease it was drafted
    with, read on its own size's body the same way as on the shopper."""

    size: str
    garment: GarmentMesh
    design_ease_cm: dict[str, float] | None = None


@dataclasses.dataclass
class SizeFit:
    """One size fitted on the shopper."""

    size: str
    ease_cm: dict[str, float]
    words: dict[str, str]
    vertices: np.ndarray
    fit_stats: dict[str, Any]
    strain_colors: np.ndarray


@dataclasses.dataclass
class Advice:
    recommended: str
    sentence: str
    fits: list[SizeFit]
    bands: dict[str, dict[str, float]]
    chart: dict[str, dict[str, float]]
    design_ease_cm: dict[str, dict[str, float]]  # size -> region -> the ease it was made with
    garment_type: str
    fabric: str
    seconds: float

    def closest_two(self) -> list[SizeFit]:
        """The recommended size and its nearest neighbour the other way of the key ease (for the picture)."""
        i = [f.size for f in self.fits].index(self.recommended)
        if len(self.fits) == 1:
            return [self.fits[0]]
        j = i - 1 if i > 0 else i + 1
        pair = sorted((i, j))
        return [self.fits[k] for k in pair]

    def to_json(self) -> dict[str, Any]:
        return {
            "recommended": self.recommended,
            "why": self.sentence,
            "garment_type": self.garment_type,
            "fabric": self.fabric,
            "bands": self.bands,
            "design_ease_cm": self.design_ease_cm,
            "sizes": [
                {"size": f.size, "ease_cm": f.ease_cm, "words": f.words, "fit": f.fit_stats}
                for f in self.fits
            ],
            "size_chart_cm": self.chart,
            "seconds": round(self.seconds, 2),
        }


def check_size_order(sizes: list[str]) -> list[str]:
    """Sizes in upper case, known, each once and smallest first; else one UserError line."""
    out = [s.strip().upper() for s in sizes if s.strip()]
    unknown = [s for s in out if s not in SIZES]
    if unknown:
        raise UserError(f"unknown size {unknown[0]!r}; expected some of {', '.join(SIZES)}")
    if len(set(out)) != len(out):
        raise UserError(f"--sizes lists a size twice: {','.join(out)}")
    if out != sorted(out, key=SIZES.index):
        raise UserError(
            f"--sizes must go from small to large ({','.join(sorted(out, key=SIZES.index))}), not {','.join(out)}"
        )
    if not out:
        raise UserError("--sizes is empty")
    return out


def size_chart(options: list[SizeOption], garment_type: str) -> dict[str, dict[str, float]]:
    """The garment's measured chart per size; sizes whose girths do not grow with the size are an error."""
    chart = {o.size: garment_chart(o.garment.vertices, o.garment.faces, garment_type) for o in options}
    # checked on the girth every garment has plainly: a top's chest, a bottom's waistband
    for region in ORDER_REGIONS[type_group(garment_type)]:
        values = [(s, c[region]) for s, c in chart.items() if region in c]
        for (s0, g0), (s1, g1) in zip(values, values[1:], strict=False):
            if g1 < g0 - 0.5:
                raise UserError(
                    f"sizes out of order: size {s0} measures {g0:.0f} cm at the {region}, more than size {s1} "
                    f"({g1:.0f} cm); check which file is which size"
                )
    return chart


def check_labels(
    chart: dict[str, dict[str, float]], garment_type: str, table: dict[str, dict[str, float]]
) -> None:
    """Each file must hold the body of the size it is given as (within a wide ease range)."""
    lo, hi = IMPLIED_EASE_RANGE_CM
    for size, c in chart.items():
        for region in ORDER_REGIONS[type_group(garment_type)]:
            if region not in c or TABLE_KEYS[region] not in table.get(size, {}):
                continue
            body = table[size][TABLE_KEYS[region]]
            if not lo <= c[region] - body <= hi:
                fits = [s for s, row in table.items() if lo <= c[region] - row[TABLE_KEYS[region]] <= hi]
                raise UserError(
                    f"the garment given as size {size} measures {c[region]:.0f} cm at the {region}, which fits "
                    f"no size given (size {size}'s body: {body:.0f} cm"
                    + (f"; it would suit {', '.join(fits)}" if fits else "")
                    + ")"
                )


def design_ease(
    options: list[SizeOption], chart: dict[str, dict[str, float]], table: dict[str, dict[str, float]], regions
) -> dict[str, list[float]]:
    """The ease each size was made with, per region (cm, one per size): measured on its own size's body the
    same way as on the shopper when known (graded sample garments), else the garment's chart girths less the
    size table's body girths, averaged over the sizes (a file's own chart is read flat, not on a body, so only
    its mean over the sizes is trusted)."""
    out = {}
    for r in regions:
        if all(o.design_ease_cm and r in o.design_ease_cm for o in options):
            out[r] = [o.design_ease_cm[r] for o in options]
            continue
        vals = [
            chart[o.size][r] - table[o.size][TABLE_KEYS[r]]
            for o in options
            if r in chart[o.size] and r in TABLE_KEYS and o.size in table
        ]
        if vals:
            out[r] = [round(float(np.mean(vals)), 2)] * len(options)
    return out


def recommend(fits: list[SizeFit], design: dict[str, list[float]], deciding, ruling) -> str:
    """Per deciding region, the size whose ease on the shopper is nearest the ease that size was made with (its
    design ease: the garment then sits on the shopper as its pattern meant it to); the largest of those (the
    limiting region: one buys for the largest measurement); then up while the size would be tight in any
    `ruling` region (tight anywhere rules a size out)."""
    order = [f.size for f in fits]
    picks = []
    for r in deciding:
        have = [
            (abs(f.ease_cm[r] - design[r][i]), i)
            for i, f in enumerate(fits)
            if r in design and r in f.ease_cm
        ]
        if have:
            picks.append(min(have)[1])
    i = max(picks) if picks else len(order) // 2
    while i + 1 < len(fits) and any(fits[i].words.get(r) == "tight" for r in ruling):
        i += 1
    return order[i]


def signed_cm(value: float) -> str:
    """Whole centimetres with their sign, never '-0'."""
    return f"{round(value):+d}"


def sentence(fits: list[SizeFit], rec: str, design: dict[str, list[float]], deciding, ruling) -> str:
    """'M: chest +6 cm ease, regular; S would be tight at the chest (-1 cm)': the recommended size's deciding
    regions, then its smaller neighbour where it is tight (else where it falls furthest under its design
    ease), or, for the smallest size, its larger neighbour where it is furthest over it."""
    order = [f.size for f in fits]
    i = order.index(rec)
    f = fits[i]
    parts = [f"{r} {signed_cm(f.ease_cm[r])} cm ease, {f.words[r]}" for r in deciding if r in f.ease_cm]
    text = f"{rec}: " + "; ".join(parts)
    j = i - 1 if i > 0 else i + 1
    if j >= len(fits):
        return text
    other = fits[j]
    tight = [r for r in ruling if other.words.get(r) == "tight"]
    if i > 0 and tight:
        r = min(tight, key=lambda r: other.ease_cm[r])
        return text + f"; {other.size} would be tight at the {r} ({signed_cm(other.ease_cm[r])} cm)"
    have = [r for r in deciding if r in other.ease_cm and r in design]
    if not have:
        return text
    sign = 1 if i > 0 else -1  # the smaller size: furthest under its design ease; the larger: furthest over
    r = min(have, key=lambda r: sign * (other.ease_cm[r] - design[r][j]))
    return text + (
        f"; {other.size} would be {other.words[r]} at the {r} ({signed_cm(other.ease_cm[r])} cm, "
        f"made for {signed_cm(design[r][j])})"
    )


def advise(
    body,
    options: list[SizeOption],
    garment_type: str,
    fabric: str,
    table: dict[str, dict[str, float]],
    progress: ProgressCallback = silent,
) -> Advice:
    """Fit every size on `body` (a BodyArrays) and advise one. `table`: the size table rows of the shopper's
    sex (cm), used to check the files' labels and, for files, the garment's designed ease."""
    from pipeline.core.fit.api import fit_garment

    t0 = time.perf_counter()
    group = type_group(garment_type)
    chart = size_chart(options, garment_type)
    check_labels(chart, garment_type, table)
    deciding, ruling = DECIDING_REGIONS[group], RULING_REGIONS[group]
    design = design_ease(options, chart, table, deciding)
    bands = bands_for(group, fabric)
    planes = body_planes(body)
    fits = []
    for i, o in enumerate(options):
        progress(i / len(options), f"fitting size {o.size}")
        r = fit_garment(o.garment, body, garment_type=garment_type, fabric=fabric)
        ease = region_ease(r.vertices, o.garment.faces, group, planes, o.garment.vertices)
        words = {k: word_for(k, v, bands) for k, v in ease.items() if k in bands}
        fits.append(SizeFit(o.size, ease, words, r.vertices, r.stats, r.fit_colors))
    rec = recommend(fits, design, deciding, ruling)
    progress(1.0, "advised")
    return Advice(
        rec,
        sentence(fits, rec, design, deciding, ruling),
        fits,
        bands,
        chart,
        {o.size: {r: design[r][i] for r in design} for i, o in enumerate(options)},
        garment_type,
        fabric,
        time.perf_counter() - t0,
    )

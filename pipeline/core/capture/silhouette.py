"""Scale-aware features of a person's front-view silhouette and depth: the capture initialiser's input."""

from __future__ import annotations

import numpy as np

from pipeline.core.capture.frames import Intrinsics, deproject

N_BANDS = 24
L_SH, R_SH, L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANK, R_ANK = 11, 12, 23, 24, 25, 26, 27, 28


def silhouette_features(
    mask: np.ndarray, depth_m: np.ndarray, landmarks_px: np.ndarray, intr: Intrinsics
) -> np.ndarray | None:
    """Scale-aware features of a front view: height, per-band widths and front-surface relief, landmark ratios."""
    rows = np.nonzero(mask.any(axis=1))[0]
    if len(rows) < 20:
        return None
    top, bottom = rows[0], rows[-1]
    pts = deproject(depth_m, intr, mask)
    if len(pts) < 100:
        return None
    z = float(np.median(pts[:, 2]))
    m_per_px = z / intr.fy
    height_m = (bottom - top + 1) * m_per_px
    cx = float(np.mean(landmarks_px[[L_SH, R_SH, L_HIP, R_HIP], 0]))
    widths, relief = [], []
    for f in np.linspace(0.12, 0.92, N_BANDS):  # from near the head down to the ankles
        r = int(top + f * (bottom - top))
        row = mask[r]
        c = int(np.clip(round(cx), 0, len(row) - 1))
        if not row[c]:  # between the legs: take the two legs together
            cols = np.nonzero(row)[0]
            if len(cols) == 0:
                widths.append(0.0)
                relief.append(0.0)
                continue
            lo, hi = cols[0], cols[-1]
        else:
            lo = c - np.argmin(row[c::-1]) + 1 if not row[: c + 1].all() else 0
            hi = c + np.argmin(row[c:]) - 1 if not row[c:].all() else len(row) - 1
        widths.append((hi - lo + 1) * m_per_px / height_m)
        d = depth_m[r, lo : hi + 1][row[lo : hi + 1]]
        d = d[d > 0]
        if len(d) >= 5:
            n = len(d)
            relief.append(
                (np.median(d[: max(n // 5, 1)]) + np.median(d[-max(n // 5, 1) :])) / 2
                - np.median(d[2 * n // 5 : 3 * n // 5 + 1])
            )
        else:
            relief.append(0.0)
    lm = landmarks_px
    sh_w = np.linalg.norm(lm[L_SH] - lm[R_SH]) * m_per_px / height_m
    hip_w = np.linalg.norm(lm[L_HIP] - lm[R_HIP]) * m_per_px / height_m
    heights = [
        (bottom - np.mean(lm[[a, b], 1])) / (bottom - top + 1)
        for a, b in ((L_SH, R_SH), (L_HIP, R_HIP), (L_KNEE, R_KNEE), (L_ANK, R_ANK))
    ]
    return np.array([height_m, *widths, *np.clip(relief, -0.3, 0.3), sh_w, hip_w, *heights], dtype=np.float32)

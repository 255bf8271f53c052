"""Contact sheets: a PNG grid of the catalog's stills as labelled thumbnails (cv2), so a merchandiser checks a
whole batch at a glance. Missing or failed stills get a grey cell saying so. Pages of at most ROWS x COLS."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

THUMB_W, THUMB_H = 160, 200
LABEL_H = 34
COLS, ROWS = 8, 8
FONT_SCALE = 0.36
INK = (40, 40, 40)
FAILED_INK = (40, 40, 200)


@dataclasses.dataclass
class Cell:
    """One thumbnail: two label lines, the PNG (None when there is none) and the item's status."""

    title: str
    subtitle: str
    png: Path | None
    status: str = ""


def _fit_text(text: str, width_px: int) -> str:
    import cv2

    while text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, 1)[0][0] > width_px - 6:
        text = text[:-2] + "~" if len(text) > 2 else ""
    return text


def _thumbnail(png: Path | None) -> np.ndarray | None:
    import cv2

    if png is None:
        return None
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    if img is None:
        return None
    h, w = img.shape[:2]
    scale = min(THUMB_W / w, THUMB_H / h)
    small = cv2.resize(
        img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    canvas = np.full((THUMB_H, THUMB_W, 3), 255, np.uint8)
    y, x = (THUMB_H - small.shape[0]) // 2, (THUMB_W - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def _cell_image(cell: Cell) -> np.ndarray:
    import cv2

    img = np.full((THUMB_H + LABEL_H, THUMB_W, 3), 255, np.uint8)
    thumb = _thumbnail(cell.png)
    if thumb is None:
        img[:THUMB_H] = 205
        word = cell.status if cell.status in ("failed", "pending") else "missing"
        cv2.putText(img, word, (10, THUMB_H // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, FAILED_INK, 1, cv2.LINE_AA)
    else:
        img[:THUMB_H] = thumb
    ink = FAILED_INK if thumb is None else INK
    for i, line in enumerate((cell.title, cell.subtitle)):
        text = _fit_text(line, THUMB_W)
        cv2.putText(
            img, text, (3, THUMB_H + 13 + 14 * i), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, ink, 1, cv2.LINE_AA
        )
    cv2.rectangle(img, (0, 0), (THUMB_W - 1, THUMB_H + LABEL_H - 1), (225, 225, 225), 1)
    return img


def render_sheet(cells: list[Cell], cols: int = COLS) -> np.ndarray:
    """One page: the cells in rows of `cols`, on white."""
    cols = max(1, min(cols, len(cells)))
    rows = -(-len(cells) // cols)
    ch, cw = THUMB_H + LABEL_H, THUMB_W
    sheet = np.full((rows * ch + 8 * (rows + 1), cols * cw + 8 * (cols + 1), 3), 255, np.uint8)
    for k, cell in enumerate(cells):
        r, c = divmod(k, cols)
        y, x = 8 + r * (ch + 8), 8 + c * (cw + 8)
        sheet[y : y + ch, x : x + cw] = _cell_image(cell)
    return sheet


def write_contact_sheets(cells: list[Cell], out: Path, cols: int = COLS, rows: int = ROWS) -> list[Path]:
    """Write `out` (and `out_2.png`, ... when the cells fill more than one page) atomically; returns the paths."""
    import cv2

    from pipeline.core.files import write_bytes

    per_page = cols * rows
    paths = []
    for page in range(max(1, -(-len(cells) // per_page))):
        chunk = cells[page * per_page : (page + 1) * per_page]
        if not chunk:
            break
        ok, data = cv2.imencode(".png", render_sheet(chunk, cols))
        if not ok:
            raise RuntimeError("cv2 could not encode the contact sheet")
        path = out if page == 0 else out.with_name(f"{out.stem}_{page + 1}{out.suffix}")
        paths.append(write_bytes(path, data.tobytes()))
    return paths

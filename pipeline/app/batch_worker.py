"""A warm batch worker: one process renders many catalog stills. bpy, torch and anny are imported once; each
body of the job is built once (anny shape fit) and each garment fitted once per body and pose, then reused for
every colorway, view and look; Blender's scene is reset to factory settings before each still.

This is what `python -m pipeline batch JOB --items a,b,c` (or `--shard i/N`) runs, so a local pool, Ray, OpenJD,
Flamenco and SLURM all get the same warm path. Items are idempotent: a done one is skipped.
"""

from __future__ import annotations

import collections
import hashlib
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.app.batch import BatchItem
from pipeline.core.errors import UserError

FIT_CACHE_SIZE = 4  # fitted garments kept: the items of a chunk come grouped by garment and body


def _request(item: BatchItem):
    from pipeline.core.files import read_json
    from pipeline.core.fit.dressed import BodyRequest

    body = item.body
    if body.measurements is not None:
        return BodyRequest(
            measurements=read_json(body.measurements, "measurements file"),
            sex=body.sex,
            source=str(body.measurements),
        )
    if body.size is not None:
        return BodyRequest(size=body.size, sex=body.sex)
    return None


def one_line(exc: BaseException) -> str:
    """The one line a report shows for a failed item."""
    if isinstance(exc, UserError):
        return str(exc).splitlines()[0]
    text = str(exc).strip().splitlines()
    return f"internal error: {type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


class WarmWorker:
    """Renders items in this process, caching bodies (per size, sex, measurements) and fitted garments."""

    def __init__(self, cache_dir: Path | None = None, log=sys.stderr) -> None:
        from pipeline.blender.render import render_scene_still

        self.cache_dir = cache_dir
        self.bodies: dict[str, Any] = {}
        self.fits: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
        self.log = log
        self.render_params = set(inspect.signature(render_scene_still).parameters)
        self.stats = {"bodies_built": 0, "bodies_loaded": 0, "fits": 0, "stills": 0}

    def dressed(self, item: BatchItem):
        """The fitted garment on the item's posed body, from the cache when an earlier item made it."""
        from pipeline.app.tryon import dress

        key = item.fit_key()
        if key in self.fits:
            self.fits.move_to_end(key)
            return self.fits[key]
        request = _request(item)
        self._load_body(request)
        before = len(self.bodies)
        made = dress(item.garment, request, item.pose, item.type, item.fabric, body_cache=self.bodies)
        self.stats["bodies_built"] += len(self.bodies) - before
        self._save_body(request)
        self.stats["fits"] += 1
        self.fits[key] = made
        while len(self.fits) > FIT_CACHE_SIZE:
            self.fits.popitem(last=False)
        return made

    def _body_file(self, request) -> tuple[str, Path] | None:
        """The job's on-disk body cache (<output>/.cache/bodies): a fitted body is built once per job, not
        once per worker or per run. None for anny's default body, which is cheap to make."""
        from pipeline import __version__
        from pipeline.app.tryon import body_key

        key = body_key(request)
        if self.cache_dir is None or key == "default":
            return None
        stem = hashlib.sha256(f"{__version__} {key}".encode()).hexdigest()[:24]
        return key, self.cache_dir / f"{stem}.npz"

    def _load_body(self, request) -> None:
        found = self._body_file(request)
        if found is None or found[0] in self.bodies or not found[1].is_file():
            return
        from pipeline.core import codec
        from pipeline.core.errors import InternalError

        key, npz = found
        try:  # written atomically: a file there is whole
            cached = codec.load(npz)
            self.bodies[key] = (cached["body"], cached["record"])
            self.stats["bodies_loaded"] += 1
        except (OSError, ValueError, KeyError, InternalError) as exc:
            self.log.write(f"batch: ignoring a broken cached body {npz.name}: {exc}\n")

    def _save_body(self, request) -> None:
        found = self._body_file(request)
        if found is None or found[0] not in self.bodies or found[1].is_file():
            return
        from pipeline.core import codec

        key, npz = found
        body, record = self.bodies[key]
        codec.save(npz, {"body": body, "record": record})

    def _render_options(self, item: BatchItem) -> dict[str, Any]:
        """The item's render options with its colorway and look (what `tryon --color/--look` pass on)."""
        render = dict(item.render)
        for key, value in (("color", item.color), ("look", item.look)):
            if value is None:
                continue
            if key not in self.render_params:
                raise UserError(f"{key} {value!r}: this pipeline's renderer has no {key} option")
            render[key] = value
        return render

    def render(self, item: BatchItem) -> dict[str, Any]:
        """Render one item to its final PNG (+ sidecar JSON, + .blend when asked)."""
        from pipeline.app.tryon import run_tryon

        render = self._render_options(item)
        dressed = self.dressed(item)
        summary = run_tryon(
            item.out_dir,
            item.garment,
            _request(item),
            render=render,
            material=item.material,
            pose=item.pose,
            garment_type=item.type,
            fabric=item.fabric,
            name=item.name,
            save_blend=item.save_blend,
            dressed=dressed,
        )
        self.stats["stills"] += 1
        return summary

    def run(self, item: BatchItem, force: bool = False) -> dict[str, Any]:
        """Run one item; never raises: the result says done, skipped (with its path) or failed (one line)."""
        if not force and item.done():
            return {"id": item.id, "status": "skipped", "png": str(item.png)}
        t0 = time.perf_counter()
        try:
            self.render(item)
        except Exception as exc:  # noqa: BLE001 - one item's failure must never stop the others
            if not isinstance(exc, UserError):
                traceback.print_exc(file=self.log)
            return {
                "id": item.id,
                "status": "failed",
                "error": one_line(exc),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        return {
            "id": item.id,
            "status": "done",
            "png": str(item.png),
            "seconds": round(time.perf_counter() - t0, 2),
        }


def run_items(
    items: list[BatchItem],
    force: bool = False,
    on_result: Callable[[dict], None] | None = None,
    cache_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Run `items` in this process with one warm worker; `on_result` gets each result as it comes. Fitted
    bodies are kept in `cache_dir` (shared by the job's workers and runs) when given."""
    worker = WarmWorker(cache_dir)
    results = []
    for item in items:
        result = worker.run(item, force)
        results.append(result)
        if on_result is not None:
            on_result(result)
    st = worker.stats
    worker.log.write(
        f"batch worker: {st['stills']} stills; bodies built {st['bodies_built']}, loaded from the job's cache "
        f"{st['bodies_loaded']}; garment fits {st['fits']}\n"
    )
    return results

"""Synthetic RGB-D captures with ground truth: an anny body rendered by Blender (colour) and ray cast
(depth, with the D4xx noise model) from a virtual D435, written as a frame folder and a `.db3` recording.

Views: `front` (the person still, facing the camera; several frames differing in sensor noise) or
`turn` (the person turning slowly on the spot from front through side to back, one frame per step).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np

from pipeline.blender.raycast import raycast_depth
from pipeline.core import vocab
from pipeline.core.capture.depth_noise import NoiseModel, add_depth_noise
from pipeline.core.capture.frames import RGBDFrame
from pipeline.core.capture.virtual_camera import VirtualCamera, backdrop, d435_intrinsics, rotate_z
from pipeline.core.errors import UserError
from pipeline.core.files import write_json
from pipeline.core.progress import ProgressCallback, silent

VIEWS = vocab.CAPTURE_VIEWS
SKIN_TONES = [
    (0.80, 0.60, 0.48),
    (0.62, 0.43, 0.32),
    (0.42, 0.27, 0.19),
    (0.88, 0.70, 0.58),
    (0.30, 0.19, 0.13),
]
TOP_COLOURS = [
    (0.12, 0.25, 0.55),
    (0.55, 0.10, 0.10),
    (0.15, 0.40, 0.20),
    (0.75, 0.72, 0.65),
    (0.20, 0.20, 0.22),
]
TROUSER_COLOURS = [(0.08, 0.10, 0.18), (0.25, 0.22, 0.20), (0.35, 0.30, 0.22), (0.05, 0.05, 0.05)]
HAIR_COLOURS = [(0.05, 0.03, 0.02), (0.25, 0.14, 0.06), (0.55, 0.40, 0.20)]


@dataclasses.dataclass
class SynthSettings:
    """What to render: view, distance, image size, frame counts, samples, seed."""

    view: str = "front"
    distance_m: float = 2.0
    camera_height_m: float = 1.0
    width: int = 640
    height: int = 480
    front_frames: int = 4
    turn_frames: int = 7
    samples: int = 8
    seed: int = 0

    def yaws(self) -> list[float]:
        """Body yaw (degrees) per colour render."""
        if self.view == "front":
            return [0.0]
        return list(np.linspace(0.0, 180.0, self.turn_frames))


def clothing_slots(body) -> np.ndarray:
    """Material slot per face (0 skin, 1 top, 2 trousers, 3 shoes, 4 hair) from the dominant bone and height."""
    names = np.array(body.bone_names)
    dom = body.weight_bones[np.arange(len(body.weights)), body.weights.argmax(axis=1)]
    bone = names[dom]
    z, y = body.rest_vertices[:, 2], body.rest_vertices[:, 1]
    stature = float(z.max())
    slot = np.zeros(len(bone), np.int64)
    torso = (
        np.char.startswith(bone, "spine")
        | np.char.startswith(bone, "clavicle")
        | np.char.startswith(bone, "shoulder")
    )
    torso |= np.char.startswith(bone, "upperarm01") | np.char.startswith(bone, "pelvis") | (bone == "root")
    legs = np.char.startswith(bone, "upperleg") | np.char.startswith(bone, "lowerleg")
    feet = np.char.startswith(bone, "foot") | np.char.startswith(bone, "toe")
    slot[torso] = 1
    slot[(torso & (z < 0.585 * stature)) | legs] = 2
    slot[feet] = 3
    head = (bone == "head") | np.char.startswith(bone, "eye")
    head_y = float(np.median(y[head])) if head.any() else 0.0
    slot[head & ((z > stature - 0.075) | ((z > stature - 0.2) & (y > head_y + 0.025)))] = 4
    return slot[body.faces[:, 0]]


def random_look(rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
    """Skin, clothing, hair, wall and floor colours for one capture."""

    def pick(options):
        return tuple(float(c) for c in options[rng.integers(len(options))])

    wall = tuple(
        float(c)
        for c in rng.uniform(0.45, 0.7) * np.array([1.0, rng.uniform(0.9, 1.0), rng.uniform(0.8, 1.0)])
    )
    return {
        "skin": pick(SKIN_TONES),
        "top": pick(TOP_COLOURS),
        "trousers": pick(TROUSER_COLOURS),
        "shoes": (0.1, 0.1, 0.1),
        "hair": pick(HAIR_COLOURS),
        "wall": wall,
    }


def render_depth_frames(
    body_vertices: np.ndarray, body_faces: np.ndarray, settings: SynthSettings
) -> list[np.ndarray]:
    """Ideal z-depth (metres) per yaw, with the room behind (floor and wall)."""
    cam = VirtualCamera(
        d435_intrinsics(settings.width, settings.height), settings.distance_m, settings.camera_height_m
    )
    return [raycast_depth(cam, rotate_z(body_vertices, yaw), body_faces)[0] for yaw in settings.yaws()]


def render_views(
    body, settings: SynthSettings, rng: np.random.Generator, progress: ProgressCallback = silent
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(colour RGB uint8, ideal z-depth in metres) per yaw of the settings: Blender for colour, ray casting for depth."""
    import cv2

    from pipeline.blender.capture_render import render_capture_colour

    if settings.view not in VIEWS:
        raise UserError(f"--view must be one of {', '.join(VIEWS)}, got {settings.view!r}")
    if not 0.5 <= settings.distance_m <= 6.0:
        raise UserError(f"--distance-m must be between 0.5 and 6 m, got {settings.distance_m}")
    intr = d435_intrinsics(settings.width, settings.height)
    cam = VirtualCamera(intr, settings.distance_m, settings.camera_height_m)
    progress(0.05, "ray casting depth")
    depths = render_depth_frames(body.vertices, body.faces, settings)
    progress(0.2, f"rendering {len(depths)} colour frame(s)")
    with tempfile.TemporaryDirectory(prefix="synth-capture-") as tmp:
        paths = render_capture_colour(
            body.vertices,
            body.faces,
            clothing_slots(body),
            random_look(rng),
            settings.yaws(),
            intr,
            cam.centre,
            backdrop(),
            tmp,
            settings.samples,
        )
        colours = [np.ascontiguousarray(cv2.imread(str(p), cv2.IMREAD_COLOR)[:, :, ::-1]) for p in paths]
    return list(zip(colours, depths, strict=True))


def noisy_frames(
    views: list[tuple[np.ndarray, np.ndarray]], repeats: int, intr, rng: np.random.Generator
) -> list[RGBDFrame]:
    """Sensor frames: each view `repeats` times with fresh depth noise (and a little colour noise)."""
    frames: list[RGBDFrame] = []
    for colour, z in views:
        for _ in range(repeats):
            noisy_colour = np.clip(colour + rng.normal(0, 2.0, colour.shape), 0, 255).astype(np.uint8)
            depth = add_depth_noise(z, intr, rng, NoiseModel())
            frames.append(
                RGBDFrame(noisy_colour, depth, intr, timestamp_ms=len(frames) * 1000 / 30, index=len(frames))
            )
    return frames


def synthesise(
    body, out: str | os.PathLike, settings: SynthSettings, progress: ProgressCallback = silent
) -> dict:
    """Render, add noise and write OUT/frames/ and OUT/capture.db3; return a summary (no truth: the caller adds it)."""
    from pipeline.core.capture.recording import write_frame_folder, write_recording

    out = Path(out)
    rng = np.random.default_rng(settings.seed)
    intr = d435_intrinsics(settings.width, settings.height)
    views = render_views(body, settings, rng, progress)
    progress(0.8, "adding sensor noise")
    frames = noisy_frames(views, settings.front_frames if settings.view == "front" else 1, intr, rng)
    progress(0.9, "writing frames and recording")
    write_frame_folder(out / "frames", frames, intr)
    write_recording(out / "capture.db3", frames, intr)
    progress(1.0, "done")
    return {
        "view": settings.view,
        "yaws_deg": [float(y) for y in settings.yaws()],
        "frames": len(frames),
        "distance_m": settings.distance_m,
        "camera_height_m": settings.camera_height_m,
        "intrinsics": intr.to_json(),
        "seed": settings.seed,
    }


TRUTH_HOLDOUT_INSET_M = 0.005
TRUTH_COVERED_M = 0.015  # skin within this of the cloth is under it: inset fully, fading to none at twice it


def truth_holdout(
    body_vertices: np.ndarray, body_faces: np.ndarray, garment_vertices: np.ndarray, garment_faces: np.ndarray
) -> np.ndarray:
    """The truth render's holdout: the body a little inside its skin (`TRUTH_HOLDOUT_INSET_M`) where the cloth
    lies on it, so the renderer's samples do not speckle tight cloth with skin no viewer would see; the skin
    away from the cloth (a forearm or hand in front of the tee, whose outline is 2-4 cm off the cloth) keeps
    its place. Insetting every vertex shrank the arms in front by a pixel a side at 320 px: the truth then
    showed cloth on the arms' edges, 5 % of its pixels closer than the real depth (the bench's violations)."""
    from scipy.spatial import cKDTree

    from pipeline.core.fit.bodyfield import vertex_normals

    cloth = np.vstack([garment_vertices, garment_vertices[garment_faces].mean(axis=1)])  # ~1 cm apart
    gap, _ = cKDTree(cloth).query(body_vertices)
    share = np.clip(2.0 - gap / TRUTH_COVERED_M, 0.0, 1.0)
    return body_vertices - (TRUTH_HOLDOUT_INSET_M * share)[:, None] * vertex_normals(
        body_vertices, body_faces
    )


def render_truth_garment(
    body, garment: str, size: str, sex: str | None, settings: SynthSettings, out: Path
) -> dict:
    """The truth of a try-on on this capture: the same avatar dressed in the garment, rendered from the same
    camera with the body as a holdout, per colour view: truth_garment_NNN.png (RGBA) and
    truth_garment_mask_NNN.png (the garment's visible silhouette)."""
    import cv2

    from pipeline.app.ar import dressed_garment
    from pipeline.blender.ar import render_garment_layer
    from pipeline.core.files import atomic_path

    mesh, posed_garment, gtype = dressed_garment(body, garment, size, sex)
    intr = d435_intrinsics(settings.width, settings.height)
    cam = VirtualCamera(intr, settings.distance_m, settings.camera_height_m)
    holdout = truth_holdout(body.vertices, body.faces, posed_garment, mesh.faces)
    files = []
    for k, yaw in enumerate(settings.yaws()):
        g_cam = cam.world_to_camera(rotate_z(posed_garment, yaw))
        b_cam = cam.world_to_camera(rotate_z(holdout, yaw))
        rgba = render_garment_layer(
            g_cam, mesh.faces, mesh.base_color, intr, occluder_cam=(b_cam, body.faces), samples=4
        )
        for name, img in (
            (f"truth_garment_{k:03d}.png", (rgba[..., [2, 1, 0, 3]] * 255).round().astype(np.uint8)),
            (f"truth_garment_mask_{k:03d}.png", ((rgba[..., 3] > 0.5) * 255).astype(np.uint8)),
        ):
            with atomic_path(out / name) as tmp:
                cv2.imwrite(str(tmp), img)
            files.append(name)
    return {"garment": str(garment), "size": size.upper(), "garment_type": gtype, "files": files}


def synth_capture(
    out: str,
    measurements: dict | None = None,
    params: dict | None = None,
    view: str = "front",
    distance_m: float = 2.0,
    width: int = 640,
    frames: int | None = None,
    samples: int = 8,
    seed: int = 0,
    pose: str | None = None,
    garment: str | None = None,
    size: str = "M",
    progress: ProgressCallback = silent,
) -> dict:
    """The `synth-capture` job: the avatar of `measurements` (or of anny `params`) recorded by a virtual D435
    into `out`, with its truth (true_measurements.json, truth.json); returns the capture summary. `pose`: a
    preset (default anny's rest A-pose); `garment` (+ `size`): also the truth render of the avatar dressed."""
    import bpy  # noqa: F401

    from pipeline.core.body.anny_model import body_arrays
    from pipeline.core.body.shape_fit import measurements_of_params

    if measurements is not None:
        from pipeline.core.body.measurements import validate_measurements
        from pipeline.core.body.shape_fit import fit_shape

        m = validate_measurements(measurements, source="measurements file")
        fit = fit_shape(m["measurements"], m["sex"])
        params = fit.params()
    elif not isinstance(params, dict) or not isinstance(params.get("phenotypes", {}), dict):
        raise UserError('anny parameters file: expected {"phenotypes": {...}, "local_changes": {...}}')
    settings = SynthSettings(
        view=view, distance_m=distance_m, width=width, height=width * 3 // 4, samples=samples, seed=seed
    )
    if frames:
        settings.front_frames = settings.turn_frames = frames
    body = body_arrays(
        params.get("phenotypes"), params.get("local_changes"), corrective=params.get("corrective")
    )
    if pose:
        from pipeline.core.body.poses import pose_body

        body = pose_body(body, pose)
    summary = synthesise(body, out, settings, progress)
    summary["pose"] = pose or "rest"
    if garment:
        sex = "female" if (params.get("phenotypes") or {}).get("gender", 0.5) > 0.5 else "male"
        progress(0.95, "rendering the dressed truth")
        summary["truth_garment"] = render_truth_garment(body, garment, size, sex, settings, Path(out))
    measured = measurements_of_params(
        params.get("phenotypes") or {}, params.get("local_changes") or {}, params.get("corrective")
    )
    truth = write_truth(Path(out), params, summary, measured)
    return dict(summary, true_stature_cm=truth["stature"])


def write_truth(out: Path, params: dict, summary: dict, measured_cm: dict) -> dict:
    """true_measurements.json (a measurements file) and truth.json (anny parameters + capture settings)."""
    from pipeline.core.body.measurements import to_file_object
    from pipeline.core.capture.measure_capture import OUTPUT_MEASUREMENTS

    obj = to_file_object({k: measured_cm[k] for k in OUTPUT_MEASUREMENTS if k in measured_cm})
    write_json(out / "true_measurements.json", obj)
    write_json(out / "truth.json", {"anny": params, "capture": summary, "measurements_cm": measured_cm})
    return obj

"""Try-On operators. Each one gathers the panel's settings and calls the pipeline function that the
matching CLI verb calls; errors come back as one line in Blender's status bar, progress in the window manager."""

import traceback

import bpy

from . import preferences


class _PipelineOperator:
    """Shared execute(): window-manager progress, UserError -> one ERROR line, anything else logged."""

    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from pipeline.core.errors import UserError

        wm = context.window_manager
        wm.progress_begin(0, 100)

        def progress(fraction: float, message: str = "") -> None:
            wm.progress_update(int(100 * min(max(fraction, 0.0), 1.0)))
            if message:
                context.workspace.status_text_set(f"Try-On: {message}") if context.workspace else None

        try:
            message = self.run(context, context.scene.tryon, progress)
        except UserError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        except Exception as exc:  # noqa: BLE001 - a bug: show one line, full trace in the console
            traceback.print_exc()
            self.report(
                {"ERROR"}, f"Try-On internal error: {type(exc).__name__}: {exc} (see the system console)"
            )
            return {"CANCELLED"}
        finally:
            wm.progress_end()
            if context.workspace:
                context.workspace.status_text_set(None)
        if message:
            self.report({"INFO"}, message)
        return {"FINISHED"}

    def run(self, context, settings, progress) -> str:
        raise NotImplementedError


def _device() -> str:
    prefs = preferences.get()
    return prefs.device if prefs else "auto"


def _select_only(context, objs) -> None:
    """Select `objs` (one object or a list), the last one active."""
    objs = objs if isinstance(objs, list) else [objs]
    for other in context.selected_objects:
        other.select_set(False)
    for obj in objs:
        obj.select_set(True)
    context.view_layer.objects.active = objs[-1]


class TRYON_OT_render_still(_PipelineOperator, bpy.types.Operator):
    """Light and frame the avatar and garments in the studio and render a try-on still"""

    bl_idname = "tryon.render_still"
    bl_label = "Render Still"

    def run(self, context, s, progress) -> str:
        from pipeline.blender.render import render_scene_still

        out = bpy.path.abspath(s.output_path)
        progress(0.05, "rendering")
        custom = s.frame == "custom"
        info = render_scene_still(
            context.scene,
            out,
            s.width if custom else None,
            s.height if custom else None,
            s.engine,
            s.samples,
            _device(),
            s.view,
            look=s.look,
            color=s.color.strip() or None,
            frame=None if custom else s.frame,
            progress=progress,  # samples and ETA in the status bar
        )
        return (
            f"Wrote {out} ({info['look']} look, {info['engine']} on {info['device']}, {info['render_s']} s)"
        )


class TRYON_OT_frame_camera(_PipelineOperator, bpy.types.Operator):
    """Build the studio (backdrop, lights) and a camera framing the whole figure, without rendering"""

    bl_idname = "tryon.frame_camera"
    bl_label = "Set Up Studio"

    def run(self, context, s, progress) -> str:
        from pipeline.blender.render import build_studio, configure_render, subject_objects
        from pipeline.core.look.frames import frame_size

        custom = s.frame == "custom"
        width, height = frame_size(
            None if custom else s.frame, s.width if custom else None, s.height if custom else None
        )
        configure_render(context.scene, width, height, s.engine, s.samples, True, _device(), s.look)
        build_studio(context.scene, subject_objects(context.scene), view=s.view, look=s.look)
        return "Studio and camera ready"


class TRYON_OT_build_avatar(_PipelineOperator, bpy.types.Operator):
    """Build a rigged, posed avatar from a size, a measurements file or the typed measurements"""

    bl_idname = "tryon.build_avatar"
    bl_label = "Build Avatar"

    def run(self, context, s, progress) -> str:
        from pipeline.app.avatar_job import avatar_from_measurements
        from pipeline.core.body.measurements import load_measurements
        from pipeline.core.files import read_json

        measurements, size, sex, source = None, None, s.sex, "typed measurements"
        if s.avatar_source == "size":
            size = s.size
        elif s.avatar_source == "file":
            path = bpy.path.abspath(s.measurements_path)
            load_measurements(path)
            measurements, sex, source = read_json(path, "measurements file"), None, path
        else:
            measurements = {
                "unit": "cm",
                "sex": s.sex,
                "stature": s.stature_cm,
                "chest_girth": s.chest_girth_cm,
                "waist_girth": s.waist_girth_cm,
                "hip_girth": s.hip_girth_cm,
            }
            sex = None
        obj, record = avatar_from_measurements(
            measurements, size, sex, s.pose, s.skin, progress, source=source
        )
        _select_only(context, obj)
        worst = max((abs(e) for e in record.get("errors", {}).values()), default=0.0)
        return f"Avatar '{obj.name}' built (largest measurement error {worst:.1f} cm)"


class TRYON_OT_import_garment(_PipelineOperator, bpy.types.Operator):
    """Import a garment (OBJ, PLY, STL, glTF/GLB, FBX, USD, .blend) in metres, Z up, facing -Y, and clean it"""

    bl_idname = "tryon.import_garment"
    bl_label = "Import & Clean Garment"

    def run(self, context, s, progress) -> str:
        from pipeline.app.clean_job import CleanOptions, clean_garment_object
        from pipeline.blender.importers import garment_to_object, import_garment
        from pipeline.core.errors import UserError

        if not s.garment_path:
            raise UserError("choose a garment file first")
        progress(0.05, "importing")
        obj = garment_to_object(import_garment(bpy.path.abspath(s.garment_path)))
        report = clean_garment_object(
            obj, CleanOptions(target_faces=s.target_faces), lambda f, m="": progress(0.2 + 0.8 * f, m)
        )
        _select_only(context, obj)
        print(report.summary())
        warnings = f", {len(report.warnings)} warning(s): {report.warnings[0]}" if report.warnings else ""
        return f"Garment '{obj.name}': {report.after.get('faces', 0):,} triangles{warnings}"


class TRYON_OT_clean_garment(_PipelineOperator, bpy.types.Operator):
    """Clean the selected garment in place: duplicates, floaters, bad faces, normals, small holes, face budget"""

    bl_idname = "tryon.clean_garment"
    bl_label = "Clean Selected"

    @classmethod
    def poll(cls, context):
        return context.active_object is not None and context.active_object.type == "MESH"

    def run(self, context, s, progress) -> str:
        from pipeline.app.clean_job import CleanOptions, clean_garment_object

        report = clean_garment_object(
            context.active_object, CleanOptions(target_faces=s.target_faces), progress
        )
        print(report.summary())
        return (
            f"Cleaned: {report.before.get('faces', 0):,} -> {report.after.get('faces', 0):,} triangles, "
            f"{len(report.warnings)} warning(s)"
        )


class TRYON_OT_measure_capture(_PipelineOperator, bpy.types.Operator):
    """Measure the person in an RGB-D recording (.bag/.db3) or frame folder, then build their avatar"""

    bl_idname = "tryon.measure_capture"
    bl_label = "Measure & Build Avatar"

    def run(self, context, s, progress) -> str:
        from pathlib import Path

        from pipeline.app import worker
        from pipeline.app.avatar_job import avatar_from_measurements
        from pipeline.core.errors import UserError
        from pipeline.core.files import write_json

        if not s.capture_path:
            raise UserError("choose a recording (.bag/.db3) or an RGB-D frame folder first")
        capture = Path(bpy.path.abspath(s.capture_path))
        out = capture.parent / f"{capture.stem or capture.name}_measurements.json"
        source = {"rgbd": str(capture)} if capture.is_dir() else {"bag": str(capture)}
        result = worker.call(
            "measure", lambda f, m="": progress(0.6 * f, m), **source
        )  # same code as the CLI
        write_json(out, result["measurements"])
        s.avatar_source, s.measurements_path = "file", str(out)
        progress(0.6, "building the avatar")
        obj, record = avatar_from_measurements(
            result["measurements"],
            None,
            None,
            s.pose,
            s.skin,
            lambda f, m="": progress(0.6 + 0.4 * f, m),
            source=str(out),
        )
        _select_only(context, obj)
        return f"Measured {capture.name}: wrote {out.name} and built '{obj.name}'"


def _shopper_source(s) -> tuple:
    """Keyword inputs for the shopper (the recording, else the avatar's measurements file) and the path stem
    the outputs are written beside."""
    from pathlib import Path

    from pipeline.core.errors import UserError

    if s.capture_path:
        capture = Path(bpy.path.abspath(s.capture_path))
        key = "rgbd" if capture.is_dir() else "bag"
        return {key: str(capture)}, capture.parent / (capture.stem or capture.name)
    if s.measurements_path:
        m = Path(bpy.path.abspath(s.measurements_path))
        return {"measurements": str(m)}, m.parent / m.stem.replace("_measurements", "")
    raise UserError("choose a recording (or a measurements file in the Avatar section) first")


def _shop_garment(s) -> str:
    return bpy.path.abspath(s.shop_garment) if s.shop_garment.startswith("//") else s.shop_garment


def _show_image(context, path) -> None:
    """Load a PNG the pipeline wrote and show it in an Image Editor, if the window has one."""
    img = bpy.data.images.load(str(path), check_existing=True)
    img.reload()
    for area in context.screen.areas if context.screen else []:
        if area.type == "IMAGE_EDITOR":
            area.spaces.active.image = img
            break


class TRYON_OT_advise_size(_PipelineOperator, bpy.types.Operator):
    """Which size to buy: every size fitted on the shopper's avatar, ease per region, one size recommended"""

    bl_idname = "tryon.advise_size"
    bl_label = "Advise Size"

    def run(self, context, s, progress) -> str:
        from pipeline.app import worker

        source, stem = _shopper_source(s)
        out = stem.with_name(f"{stem.name}_advice.json")
        sizes = [x for x in s.shop_sizes.split(",") if x.strip()]
        # the `advise` verb's function, in the pipeline environment when Blender's Python lacks torch
        record = worker.call(
            "advise", progress, out=str(out), sizes=sizes, garment=_shop_garment(s), **source
        )
        s.advice_text = record["why"]
        _show_image(context, record["picture"])
        return f"Advice: {record['why']} (wrote {out.name})"


class TRYON_OT_try_on_me(_PipelineOperator, bpy.types.Operator):
    """The garment on the shopper's own camera image: measured, dressed, rendered and composited"""

    bl_idname = "tryon.try_on_me"
    bl_label = "Try On Me"

    def run(self, context, s, progress) -> str:
        from pipeline.app import worker
        from pipeline.core.errors import UserError

        if not s.capture_path:
            raise UserError("choose a recording (.bag/.db3) or an RGB-D frame folder first")
        source, stem = _shopper_source(s)
        out = stem.with_name(f"{stem.name}_tryon_{s.shop_size}.png")
        # the `ar` verb's function (its garment layer renders in a scene of its own: this one is left alone)
        worker.call("ar", progress, out=str(out), garment=_shop_garment(s), size=s.shop_size, **source)
        s.tryon_image = out.name
        _show_image(context, out)
        return f"Tried on {s.shop_garment} size {s.shop_size}: {out.name}"


def _scene_avatar(context):
    """The avatar the garment goes on: the selected one, else the only one in the scene."""
    from pipeline.core.errors import UserError

    avatars = [o for o in context.scene.objects if o.get("tryon_role") == "avatar"]
    chosen = [o for o in avatars if o.select_get()] or avatars
    if len(chosen) != 1:
        raise UserError(
            "build an avatar first" if not chosen else "select the avatar to fit onto (several found)"
        )
    return chosen[0]


class TRYON_OT_fit_garment(_PipelineOperator, bpy.types.Operator):
    """Drape the active garment onto the avatar (cloth solve), transfer skin weights and bind it to the rig"""

    bl_idname = "tryon.fit_garment"
    bl_label = "Fit Garment"

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and obj.type == "MESH" and obj.get("tryon_role") != "avatar"

    def run(self, context, s, progress) -> str:
        from pipeline.app.fit_job import fit_in_scene

        avatar = _scene_avatar(context)
        garment_type = None if s.garment_type == "auto" else s.garment_type
        source = context.active_object.name
        fitted = fit_in_scene(context.active_object, avatar, garment_type, s.fabric, progress)
        _select_only(context, fitted)
        stats = [__import__("json").loads(o.get("tryon_fit", "{}")) for o in fitted]
        for line in (w for st in stats for w in st.get("warnings", [])):
            self.report({"WARNING"}, line)
        pieces = ", ".join(
            f"{st.get('garment_type', '?')} (strain p95 {st.get('strain_p95', 0):.0%})" for st in stats
        )
        return f"Fitted '{source}': {pieces}"


CLASSES = [
    TRYON_OT_build_avatar,
    TRYON_OT_measure_capture,
    TRYON_OT_advise_size,
    TRYON_OT_try_on_me,
    TRYON_OT_import_garment,
    TRYON_OT_clean_garment,
    TRYON_OT_fit_garment,
    TRYON_OT_render_still,
    TRYON_OT_frame_camera,
]


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)

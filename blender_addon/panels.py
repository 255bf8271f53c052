"""The "Try-On" sidebar tab in the 3D viewport: Avatar, Garment, Fit, Capture and Render sections."""

import bpy


class _TryOnPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Try-On"


class TRYON_PT_main(_TryOnPanel, bpy.types.Panel):
    bl_label = "Try-On"
    bl_idname = "TRYON_PT_main"

    def draw(self, context) -> None:
        self.layout.label(text="Avatar, garment, fit, render", icon="MOD_CLOTH")


class TRYON_PT_avatar(_TryOnPanel, bpy.types.Panel):
    bl_label = "Avatar"
    bl_parent_id = "TRYON_PT_main"

    def draw(self, context) -> None:
        s = context.scene.tryon
        col = self.layout.column(align=True)
        col.prop(s, "avatar_source")
        if s.avatar_source == "size":
            row = col.row(align=True)
            row.prop(s, "size")
            row.prop(s, "sex", text="")
        elif s.avatar_source == "file":
            col.prop(s, "measurements_path")
        else:
            col.prop(s, "sex")
            for name in ("stature_cm", "chest_girth_cm", "waist_girth_cm", "hip_girth_cm"):
                col.prop(s, name)
        col.separator()
        col.prop(s, "pose")
        col.prop(s, "skin")
        col.operator("tryon.build_avatar", icon="OUTLINER_OB_ARMATURE")


class TRYON_PT_capture(_TryOnPanel, bpy.types.Panel):
    bl_label = "Measure from Depth Camera"
    bl_parent_id = "TRYON_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context) -> None:
        s = context.scene.tryon
        col = self.layout.column(align=True)
        col.prop(s, "capture_path")
        col.operator("tryon.measure_capture", icon="OUTLINER_OB_CAMERA")
        col = self.layout.column(align=True)
        col.prop(s, "shop_garment")
        col.prop(s, "shop_sizes")
        col.operator("tryon.advise_size", icon="FILE_TEXT")
        if s.advice_text:
            box = self.layout.box()
            for line in _wrap(s.advice_text, 38):
                box.label(text=line)
        col = self.layout.column(align=True)
        col.prop(s, "shop_size")
        col.operator("tryon.try_on_me", icon="IMAGE_RGB")
        if s.tryon_image:
            self.layout.label(text=f"Composite: {s.tryon_image}", icon="IMAGE_DATA")


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters (a panel label does not wrap by itself)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


class TRYON_PT_garment(_TryOnPanel, bpy.types.Panel):
    bl_label = "Garment"
    bl_parent_id = "TRYON_PT_main"

    def draw(self, context) -> None:
        s = context.scene.tryon
        col = self.layout.column(align=True)
        col.prop(s, "garment_path")
        col.prop(s, "target_faces")
        col.operator("tryon.import_garment", icon="IMPORT")
        col.operator("tryon.clean_garment", icon="BRUSH_DATA")


class TRYON_PT_fit(_TryOnPanel, bpy.types.Panel):
    bl_label = "Fit"
    bl_parent_id = "TRYON_PT_main"

    def draw(self, context) -> None:
        s = context.scene.tryon
        col = self.layout.column(align=True)
        col.prop(s, "garment_type")
        col.prop(s, "fabric")
        col.operator("tryon.fit_garment", icon="MOD_CLOTH")


class TRYON_PT_render(_TryOnPanel, bpy.types.Panel):
    bl_label = "Render"
    bl_parent_id = "TRYON_PT_main"

    def draw(self, context) -> None:
        s = context.scene.tryon
        col = self.layout.column(align=True)
        col.prop(s, "engine")
        col.prop(s, "samples")
        col.prop(s, "look")
        col.prop(s, "color")
        col.prop(s, "frame")
        if s.frame == "custom":
            row = col.row(align=True)
            row.prop(s, "width")
            row.prop(s, "height")
        col.prop(s, "view")
        col.prop(s, "output_path")
        col.operator("tryon.frame_camera", icon="CAMERA_DATA")
        col.operator("tryon.render_still", icon="RENDER_STILL")


PANELS = [TRYON_PT_main, TRYON_PT_avatar, TRYON_PT_capture, TRYON_PT_garment, TRYON_PT_fit, TRYON_PT_render]


def register() -> None:
    for cls in PANELS:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(PANELS):
        bpy.utils.unregister_class(cls)

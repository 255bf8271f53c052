"""Add-on preferences: where the project's environment lives (for torch/anny/mediapipe steps) and the render device."""

import os

import bpy

ADDON_ID = __package__.rpartition(".")[0] or __package__


def _project_dir_changed(self, _context) -> None:
    if self.project_dir:
        os.environ["TRYON_PROJECT_DIR"] = bpy.path.abspath(self.project_dir)


class TRYON_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    project_dir: bpy.props.StringProperty(
        name="Project Folder",
        description="Checkout of the try-on project where `make setup` was run; its .venv runs avatar fitting "
        "and capture measuring (torch, anny, mediapipe), which Blender's own Python lacks",
        subtype="DIR_PATH",
        default=os.environ.get("TRYON_PROJECT_DIR", ""),
        update=_project_dir_changed,
    )
    device: bpy.props.EnumProperty(
        name="Render Device",
        items=[
            ("auto", "Automatic", "GPU when Cycles finds one, else CPU"),
            ("gpu", "GPU", ""),
            ("cpu", "CPU", ""),
        ],
        default="auto",
    )

    def draw(self, _context) -> None:
        col = self.layout.column()
        col.prop(self, "project_dir")
        col.prop(self, "device")


def get() -> TRYON_AP_preferences | None:
    addon = bpy.context.preferences.addons.get(ADDON_ID)
    return addon.preferences if addon else None


def register() -> None:
    bpy.utils.register_class(TRYON_AP_preferences)
    prefs = get()
    if prefs and prefs.project_dir:
        os.environ["TRYON_PROJECT_DIR"] = bpy.path.abspath(prefs.project_dir)


def unregister() -> None:
    bpy.utils.unregister_class(TRYON_AP_preferences)

"""Scene settings behind the Try-On panel (one PropertyGroup, stored in the .blend as scene.tryon)."""

import bpy

from pipeline.core import vocab

SIZES = [(s, s, f"Size {s}") for s in vocab.SIZES]
POSES = vocab.enum_items(vocab.POSES)
GARMENT_TYPES = [
    ("auto", "Detect", "Detect from the garment's shape"),
    *vocab.enum_items(vocab.GARMENT_TYPES),
]


_FABRIC_ITEMS: list = []


def _fabric_items() -> list:
    """The cloth solver's fabric presets (kept in a module list: Blender needs the strings to stay alive)."""
    if not _FABRIC_ITEMS:
        from pipeline.core.fit.fabrics import FABRICS

        _FABRIC_ITEMS.extend((name, name.replace("-", " ").title(), "") for name in FABRICS)
    return _FABRIC_ITEMS


class TryOnSettings(bpy.types.PropertyGroup):
    # Avatar
    avatar_source: bpy.props.EnumProperty(
        name="From",
        items=[
            ("size", "Size Table", "Women's/men's XS-XXL"),
            ("file", "Measurements File", "A measurements JSON (cm, ISO 8559-1 names)"),
            ("typed", "Typed Measurements", "Enter the main measurements here"),
        ],
        default="size",
    )
    size: bpy.props.EnumProperty(name="Size", items=SIZES, default="M")
    sex: bpy.props.EnumProperty(name="Sex", items=vocab.enum_items(vocab.SEXES), default="female")
    measurements_path: bpy.props.StringProperty(name="Measurements", subtype="FILE_PATH")
    stature_cm: bpy.props.FloatProperty(
        name="Stature (cm)", default=168.0, min=0.0, soft_min=140, soft_max=205
    )
    chest_girth_cm: bpy.props.FloatProperty(
        name="Chest/Bust (cm)", default=92.0, min=0.0, soft_min=70, soft_max=140
    )
    waist_girth_cm: bpy.props.FloatProperty(
        name="Waist (cm)", default=76.0, min=0.0, soft_min=55, soft_max=140
    )
    hip_girth_cm: bpy.props.FloatProperty(name="Hip (cm)", default=100.0, min=0.0, soft_min=75, soft_max=150)
    pose: bpy.props.EnumProperty(name="Pose", items=POSES, default=vocab.DEFAULT_POSE)
    skin: bpy.props.EnumProperty(
        name="Look", items=vocab.enum_items(vocab.AVATAR_MATERIALS), default=vocab.DEFAULT_MATERIAL
    )
    # Garment
    garment_path: bpy.props.StringProperty(name="Garment File", subtype="FILE_PATH")
    target_faces: bpy.props.IntProperty(name="Face Budget", default=20000, min=100, soft_max=200000)
    # Fit
    garment_type: bpy.props.EnumProperty(name="Type", items=GARMENT_TYPES, default="auto")
    fabric: bpy.props.EnumProperty(name="Fabric", items=lambda _self, _ctx: _fabric_items())
    # Capture
    capture_path: bpy.props.StringProperty(
        name="Recording",
        subtype="FILE_PATH",
        description="A RealSense recording (.bag/.db3) or an RGB-D frame folder",
    )
    # Render
    engine: bpy.props.EnumProperty(
        name="Engine",
        items=vocab.enum_items(vocab.ENGINES),
        default="cycles",
    )
    samples: bpy.props.IntProperty(name="Samples", default=64, min=1, soft_max=1024)
    width: bpy.props.IntProperty(name="Width", default=1080, min=16, max=8192)
    height: bpy.props.IntProperty(name="Height", default=1350, min=16, max=8192)
    view: bpy.props.EnumProperty(
        name="View",
        items=vocab.enum_items(vocab.VIEWS),
        default=vocab.DEFAULT_VIEW,
    )
    output_path: bpy.props.StringProperty(name="Output", subtype="FILE_PATH", default="//tryon.png")


def register() -> None:
    bpy.utils.register_class(TryOnSettings)
    bpy.types.Scene.tryon = bpy.props.PointerProperty(type=TryOnSettings)


def unregister() -> None:
    del bpy.types.Scene.tryon
    bpy.utils.unregister_class(TryOnSettings)

"""A dressed scene in Blender: the rigged avatar and the fitted garment bound to its armature."""

from __future__ import annotations

from pipeline.core.fit.dressed import Dressed


def build_dressed_scene(dressed: Dressed, material: str = "mannequin"):
    """The rigged avatar in its pose, with the fitted garment bound to its armature; returns both objects."""
    from pipeline.blender.avatar import build_avatar
    from pipeline.blender.dress import dress_avatar

    avatar = build_avatar(dressed.body, "Avatar", material=material, pose=dressed.pose)
    garment = dress_avatar(
        avatar, dressed.body, dressed.garment, dressed.result, name=dressed.garment.name or "Garment"
    )
    return avatar, garment

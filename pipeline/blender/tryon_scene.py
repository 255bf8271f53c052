"""A dressed scene in Blender: the rigged avatar and the fitted garment bound to its armature."""

from __future__ import annotations

from pipeline.core.fit.dressed import Dressed


def build_dressed_scene(dressed: Dressed, material: str = "mannequin"):
    """The rigged avatar in its pose, with the fitted garment bound to its armature; returns the avatar and the
    first garment object (an outfit's further pieces are bound alike, named after their piece)."""
    from pipeline.blender.avatar import build_avatar
    from pipeline.blender.dress import dress_avatar

    avatar = build_avatar(dressed.body, "Avatar", material=material, pose=dressed.pose)
    objects = [
        dress_avatar(avatar, dressed.body, g, r, name=g.name or f"Garment{i}")
        for i, (g, r) in enumerate(dressed.pieces)
    ]
    return avatar, objects[0]

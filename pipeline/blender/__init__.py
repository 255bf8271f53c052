"""The bpy layer: builds Blender data (avatar, garments, studio, renders) from core arrays; thin by design."""

"""The core layer: numpy/torch/scipy on dataclasses and arrays, never bpy or mathutils (tests/test_layers.py)."""

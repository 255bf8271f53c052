"""Look of a still (no bpy): colour maths and colorways, fabric appearance presets, frame presets, framing and compositing."""

"""Virtual try-on engine: avatar, garment clean-up, fitting and rendering, shared by the CLI and the Blender extension."""

__version__ = "0.1.0"

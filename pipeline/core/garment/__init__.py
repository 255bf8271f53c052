"""Garments: import helpers, unit/axis normalisation, scan clean-up and its report (no bpy in the core parts)."""

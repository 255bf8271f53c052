"""Body: the anny avatar, ISO 8559-1 tape measures, measurement files, fitting shape to measurements, size tables (no bpy)."""

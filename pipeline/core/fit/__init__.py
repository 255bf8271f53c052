"""Fitting a garment to the avatar: sewing patterns, placement, cloth drape, skin-weight transfer, grading, fit maps."""

"""Size advice: ease per body region of a garment fitted in each size, words from bands set per garment type
and fabric, one recommended size with the reason, and the garment's own size chart."""

"""AR try-on maths: lighting from one RGB-D frame (spherical harmonics), the occluder mesh built from the
depth frame, premultiplied alpha-over onto the colour frame, and the composite's quality figures."""

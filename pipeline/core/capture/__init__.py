"""Capture: RGB-D sources (RealSense, recordings, frame folders), synthetic captures, landmarks, fitting the body to points."""

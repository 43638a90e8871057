"""Scorers: rule-layer detectors, optional judge layer, and the inspect scorers."""

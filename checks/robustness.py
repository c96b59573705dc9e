"""Robustness checks (area ``robustness``, IDs RB001-)."""

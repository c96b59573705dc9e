"""Fairness checks (area ``fairness``, IDs FR001-)."""

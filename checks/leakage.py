"""Leakage checks (area ``leakage``, IDs LK001-LK007)."""

"""Drift checks (area ``drift``, IDs DR001-)."""

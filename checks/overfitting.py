"""Overfitting checks (area ``overfitting``, IDs OF001-OF005)."""

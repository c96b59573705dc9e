"""Privacy checks (area ``privacy``, IDs PV001-)."""

"""Small helpers that keep the report's sentences grammatical and its numbers consistent."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "column")`` -> "1 column"; ``count(3, "column")`` -> "3 columns"."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def share(rate: float) -> str:
    """A rate as a percentage with enough digits that a small non-zero rate never reads 0%."""
    pct = 100.0 * rate
    if pct == 0:
        return "0%"
    if abs(pct) >= 10:
        return f"{pct:.1f}%"
    if abs(pct) >= 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.2g}%"

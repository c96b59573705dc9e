"""One multiple-testing correction across the whole audit.

Checks mark their p-values (``Metric(p, p_value=True)``); after every check has run the
engine adjusts together every p-value that decides a result (one with a threshold) with
statsmodels' ``multipletests`` (Holm by default, Benjamini-Hochberg selectable with
``correction: fdr_bh`` in the policy), writes the adjusted value next to the raw one, and
judges the adjusted value. P-values that are only reported do not join the family: they
would make the verdicts depend on which informational tests happened to run.
"""

from __future__ import annotations

from typing import Literal

from auditor.contract.results import CheckResult

Correction = Literal["holm", "fdr_bh", "bonferroni", "none"]
CORRECTIONS: tuple[str, ...] = ("holm", "fdr_bh", "bonferroni", "none")


def correct(results: list[CheckResult], *, method: Correction = "holm") -> dict[str, object]:
    """Adjust every p-value in ``results`` in place; return a record for the report."""
    places = [
        (r, name)
        for r in results
        if r.status not in ("error", "skipped")
        for name, m in r.metrics.items()
        if m.get("p_value") and m.get("value") is not None and m.get("threshold") is not None
    ]
    record: dict[str, object] = {"method": method, "tests": len(places)}
    if not places:
        return record
    raw = [float(r.metrics[name]["value"]) for r, name in places]
    if method == "none":
        adjusted = raw
    else:
        from statsmodels.stats.multitest import multipletests

        adjusted = [float(v) for v in multipletests(raw, method=method)[1]]
    for (r, name), value in zip(places, adjusted):
        r.metrics[name]["adjusted"] = value
    record["families"] = sorted({r.id for r, _ in places})
    return record

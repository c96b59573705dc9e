"""DQ011: strongly associated (redundant) feature pairs."""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import MAX_ROWS, _columns, _empty_train, _is_categorical

np = lazy_module("numpy")
pd = lazy_module("pandas")
contingency = lazy_module("scipy.stats.contingency")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


class RedundantFeatures(Check):
    """Strongly associated (redundant) feature pairs

    What it checks:
        The association between pairs of model inputs in a seeded sample of at most
        ``sample_size`` (20,000) training rows: the absolute Spearman rank correlation
        for two numeric features, and Cramér's V for two categorical features and for a
        categorical feature paired with a numeric one of at most ``max_levels`` (50)
        distinct values, so that a category and its numeric code read as 1.0.
        Categorical features with more levels are left out (Cramér's V is biased upwards
        there). Missing values are left out pairwise. The metric ``max_association`` is
        the strongest pair; it warns above 0.9 and fails above 0.98.

    Why it matters:
        Near-duplicate features add no information, make linear coefficients unstable
        and their importances meaningless (the credit is split arbitrarily), and double
        the weight of one signal in distance-based models.

    How to fix:
        Keep one feature of each redundant pair (or combine them), or reduce with PCA or
        an L1 penalty; for a category and its code, keep the encoding the model needs.

    References:
        P1.6 of the practices; Cramér, Mathematical Methods of Statistics, 1946; SciPy
        ``scipy.stats.contingency.association``; pandas ``DataFrame.corr``.
    """

    id = "DQ011"
    name = "redundant-features"
    area = "data_quality"
    severity = "low"
    needs = frozenset({"train"})
    params = {
        "sample_size": Param(default=20_000, kind="int", low=100, high=10_000_000, help="rows of train sampled for the associations"),
        "max_levels": Param(
            default=50, kind="int", low=2, high=10_000,
            help="most distinct values a column may have to enter Cramér's V",
        ),
    }
    thresholds = {
        "max_association": Threshold(
            direction="above", warn=0.9, fail=0.98, low=0, high=1,
            help="strongest |Spearman| or Cramér's V between two features",
        )
    }
    practices = ("P1.6",)
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "Cramér, Mathematical Methods of Statistics, Princeton University Press, 1946",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.contingency.association.html",
        "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.corr.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        max_levels = int(params["max_levels"])
        idx, sample = ctx.sample_index("train", int(params["sample_size"]), check_id=self.id)
        frame = ctx.frame("train")
        cols = _columns(ctx, "train", target=False)
        data = frame.iloc[idx][cols]
        numeric = [c for c in cols if _is_numeric(data[c]) and data[c].nunique(dropna=True) > 1]
        categorical = [c for c in cols if c not in numeric and _is_categorical(data[c])]
        pairs: list[tuple[float, str, str, str]] = []

        if len(numeric) > 1:
            rho = data[numeric].astype(float).corr(method="spearman").to_numpy()
            for i, j in combinations(range(len(numeric)), 2):
                if np.isfinite(rho[i, j]):
                    pairs.append((abs(float(rho[i, j])), numeric[i], numeric[j], "|Spearman|"))

        codes: dict[str, np.ndarray] = {}
        too_many: list[str] = []
        for col in categorical + numeric:
            levels = data[col].nunique(dropna=True)
            if col in categorical and levels > max_levels:
                too_many.append(col)
            if 2 <= levels <= max_levels:
                codes[col] = pd.factorize(data[col], use_na_sentinel=True)[0]
        cat_codes = [c for c in categorical if c in codes]
        low_numeric = [c for c in numeric if c in codes]
        cramer_pairs = list(combinations(cat_codes, 2)) + [(c, n) for c in cat_codes for n in low_numeric]
        for a, b in cramer_pairs:
            ca, cb = codes[a], codes[b]
            keep = (ca >= 0) & (cb >= 0)
            table = contingency.crosstab(ca[keep], cb[keep]).count
            if min(table.shape) < 2:
                continue
            v = float(contingency.association(table, method="cramer"))
            if np.isfinite(v):
                pairs.append((v, a, b, "Cramér's V"))

        pairs.sort(key=lambda p: -p[0])
        max_assoc = pairs[0][0] if pairs else 0.0
        notes = []
        if too_many:
            notes.append(f"Left out of Cramér's V (more than {max_levels} levels): " + ", ".join(repr(_text(c)) for c in too_many[:MAX_ROWS]) + ".")
        evidence = [
            Evidence(
                title="Most strongly associated feature pairs (train sample)",
                columns=["feature", "feature", "method", "association"],
                rows=[[a, b, m, round(v, 4)] for v, a, b, m in pairs[:10]],
                note=" ".join(notes),
            )
        ] if pairs or notes else []
        if pairs:
            v, a, b, m = pairs[0]
            summary = (
                f"Measured {wording.count(len(pairs), 'feature-pair association')} on {wording.count(sample['rows_used'], 'train row')}; "
                f"the strongest is {m} = {v:.3f} between {a!r} and {b!r}."
            )
        else:
            summary = f"Found no pair of features whose association can be measured on {sample['rows_used']} train rows."
        return Findings(
            summary=summary,
            metrics={
                "max_association": Metric(max_assoc, description="strongest |Spearman| or Cramér's V between two features"),
                "pairs_measured": Metric(len(pairs), description="feature pairs with a measurable association"),
            },
            evidence=evidence,
            recommendation=(
                "Keep one feature of each strongly associated pair, combine them, or regularise (L1, PCA)."
                if pairs
                else "Nothing to reduce."
            ),
            sample=sample,
        )

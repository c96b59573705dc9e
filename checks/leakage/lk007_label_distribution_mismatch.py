"""LK007: label distribution that differs between train and test beyond sampling noise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import (
    MAX_ROWS,
    _as_float,
    _as_text,
    _empty,
    _rate,
    _skip,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
special = lazy_module("scipy.special")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


# -- LK007 ---------------------------------------------------------------------------
def _label_keys(train: pd.Series, test: pd.Series) -> tuple[pd.Series, pd.Series]:
    if _is_numeric(train) and _is_numeric(test):
        return pd.Series(_as_float(train)).dropna(), pd.Series(_as_float(test)).dropna()
    return _as_text(train).dropna(), _as_text(test).dropna()


class LabelDistributionMismatch(Check):
    """Label distribution that differs between train and test beyond sampling noise

    What it checks:
        Classification: the total variation distance (TVD, half the sum of absolute
        differences of class shares) between train and test, and the distance that
        sampling noise alone produces: ``n_null`` pairs of samples of the same sizes are
        drawn from the pooled class shares (``numpy.random.Generator.multinomial``) and
        the ``null_quantile`` (95%) quantile of their TVD is the noise level. The metric
        ``excess_label_distance`` = max(0, TVD − noise level); it warns above 0.02 and
        fails above 0.05. The raw TVD and the chi-squared test of the class-by-dataset
        table (``scipy.stats.chi2_contingency``) are reported. Regression: the
        two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``) minus its
        critical value at ``ks_alpha`` (5%), c(α)·sqrt((n+m)/(n·m)) with c from
        ``scipy.special.kolmogi``, is the same metric. Skipped when either dataset has
        no labels.

    Why it matters:
        A test set whose class mix (or target distribution) differs from training was
        not drawn the same way: a non-stratified split of a small data set, a filter
        applied to one side, or data from another period. Its scores then describe
        another population, and thresholds tuned on one side are miscalibrated on the
        other.

    How to fix:
        Split with stratification by class (``train_test_split(..., stratify=y)``,
        ``StratifiedKFold``), or, when the difference is real (a later period),
        evaluate on data that matches production and recalibrate.

    References:
        P4.1 and P1.7 of the practices; SciPy ``chi2_contingency`` and ``ks_2samp``;
        Moreno-Torres et al., "A unifying view on dataset shift in classification",
        Pattern Recognition 45(1), 2012.
    """

    id = "LK007"
    name = "label-distribution-mismatch"
    area = "leakage"
    severity = "medium"
    needs = frozenset({"train", "test"})
    params = {
        "n_null": Param(default=500, kind="int", low=50, high=100_000, help="samples drawn for the sampling-noise distribution of the TVD"),
        "null_quantile": Param(default=0.95, kind="float", low=0.5, high=0.999, help="quantile of the noise distribution taken as the noise level"),
        "ks_alpha": Param(default=0.05, kind="float", low=0.001, high=0.5, help="significance level of the KS critical value (regression)"),
    }
    thresholds = {
        "excess_label_distance": Threshold(
            direction="above", warn=0.02, fail=0.05, low=0, high=1,
            help="label distance between train and test beyond the sampling-noise level",
        )
    }
    practices = ("P4.1", "P1.7")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.6")
    references = (
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.chi2_contingency.html",
        "https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html",
        "Moreno-Torres et al., A unifying view on dataset shift in classification, Pattern Recognition 45(1), 2012",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty(ctx)) is not None:
            return skipped
        if not ctx.has_labels("train"):
            return _skip("the training data has no target values.")
        if not ctx.has_labels("test"):
            return _skip("the test data has no target values.")
        if ctx.task == "regression":
            return self._regression(ctx, params)
        return self._classification(ctx, params)

    def _classification(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        y_train, y_test = _label_keys(ctx.y("train"), ctx.y("test"))
        c_train, c_test = y_train.value_counts(), y_test.value_counts()
        labels = list(dict.fromkeys([*c_train.index, *c_test.index]))
        a = c_train.reindex(labels, fill_value=0).to_numpy(dtype="float64")
        b = c_test.reindex(labels, fill_value=0).to_numpy(dtype="float64")
        n_a, n_b = int(a.sum()), int(b.sum())
        p_a, p_b = a / n_a, b / n_b
        tvd = 0.5 * float(np.abs(p_a - p_b).sum())
        pooled = (a + b) / (n_a + n_b)
        rng = ctx.rng(self.id)
        n_null = int(params["n_null"])
        null_a = rng.multinomial(n_a, pooled, size=n_null) / n_a
        null_b = rng.multinomial(n_b, pooled, size=n_null) / n_b
        null = 0.5 * np.abs(null_a - null_b).sum(axis=1)
        noise = float(np.quantile(null, float(params["null_quantile"])))
        excess = max(0.0, tvd - noise)
        p_value = None
        if len(labels) > 1:
            p_value = float(stats.chi2_contingency(np.vstack([a, b])).pvalue)
        order = np.argsort(-np.abs(p_a - p_b), kind="stable")[:MAX_ROWS]
        rows = [[_text(labels[i]), int(a[i]), _rate(p_a[i]), int(b[i]), _rate(p_b[i]), _rate(p_b[i] - p_a[i])] for i in order]
        summary = (
            f"Compared class shares over {len(labels)} classes: the total variation distance between train "
            f"({n_a} rows) and test ({n_b} rows) is {tvd:.3f}, against {noise:.3f} from sampling noise alone "
            f"({float(params['null_quantile']):.0%} level), an excess of {excess:.3f}"
            + (f" (chi-squared p = {p_value:.2g})." if p_value is not None else ".")
        )
        return Findings(
            summary=summary,
            metrics={
                "excess_label_distance": Metric(excess, description="TVD of class shares beyond the sampling-noise level"),
                "label_tvd": Metric(tvd, description="total variation distance between train and test class shares"),
                "noise_level": Metric(noise, description="TVD that sampling noise alone reaches at the chosen quantile"),
                "chi2_p_value": Metric(p_value, description="chi-squared test of the class-by-dataset table", p_value=True),
            },
            evidence=[Evidence(
                title="Class shares in train and test (largest differences first)",
                columns=["class", "train rows", "train share", "test rows", "test share", "test − train"],
                rows=rows,
                note=f"Noise level from {n_null} multinomial draws of both sample sizes from the pooled shares.",
            )],
            recommendation=(
                "Split with stratification by class (stratify=y, StratifiedKFold); if the difference is real, "
                "evaluate on data that matches production and recalibrate."
                if excess > 0
                else "Nothing to change; the class mix matches within sampling noise."
            ),
        )

    def _regression(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        a = pd.to_numeric(ctx.y("train"), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        b = pd.to_numeric(ctx.y("test"), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) == 0 or len(b) == 0:
            return _skip("the target has no numeric values in train or test.")
        res = stats.ks_2samp(a, b)
        d, p_value = float(res.statistic), float(res.pvalue)
        n, m = len(a), len(b)
        critical = float(special.kolmogi(float(params["ks_alpha"])) * np.sqrt((n + m) / (n * m)))
        excess = max(0.0, d - critical)
        qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
        qa, qb = np.quantile(a, qs), np.quantile(b, qs)
        summary = (
            f"Compared the target distributions: the Kolmogorov-Smirnov statistic between train ({n} rows) and test "
            f"({m} rows) is {d:.3f}, against a critical value of {critical:.3f} at α = {float(params['ks_alpha']):g}, "
            f"an excess of {excess:.3f} (p = {p_value:.2g})."
        )
        return Findings(
            summary=summary,
            metrics={
                "excess_label_distance": Metric(excess, description="KS statistic beyond its critical value"),
                "ks_statistic": Metric(d, description="two-sample Kolmogorov-Smirnov statistic"),
                "ks_critical_value": Metric(critical, description="asymptotic critical value of the KS statistic"),
                "ks_p_value": Metric(p_value, description="p-value of the two-sample KS test", p_value=True),
            },
            evidence=[Evidence(
                title="Target quantiles in train and test",
                columns=["quantile", "train", "test"],
                rows=[[f"{q:.0%}", float(x), float(y)] for q, x, y in zip(qs, qa, qb)],
            )],
            recommendation=(
                "Stratify the split on binned target values, or, if the difference is real, evaluate on data that "
                "matches production."
                if excess > 0
                else "Nothing to change; the target distribution matches within sampling noise."
            ),
        )

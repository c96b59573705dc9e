"""Significance checks (area ``significance``, IDs ST001-ST003).

Can the test set support the claims made on it? ST001 puts intervals on the test
metrics, ST002 asks whether the model beats a baseline that ignores the inputs, ST003
asks whether the test set is large enough, overall and per class, to measure anything.
"""

from __future__ import annotations

from auditor import wording
from auditor.adapters import ModelCallError
from auditor.check import Check, Param, Threshold
from auditor.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.figures import bar_chart, interval_chart, label
from auditor.lazy import lazy_module
from auditor.results import Evidence, Findings, Metric
from auditor.stats import (
    bootstrap_ci,
    effective_rows,
    encode_labels,
    exact_interval_needed,
    metric_function,
    proportion_interval,
)

np = lazy_module("numpy")


class MetricIntervals(Check):
    """Test metrics with bootstrap confidence intervals

    What it checks:
        The task's main metrics on the test set (classification: accuracy, balanced
        accuracy, F1, ROC AUC and log loss when the model gives probabilities;
        regression: RMSE, MAE, R²), each with a bootstrap confidence interval over test
        rows (95% by default): for classification a class-stratified percentile
        bootstrap (every resample keeps the test set's class counts), otherwise
        scipy.stats.bootstrap with ``method`` (percentile by default; BCa selectable,
        at the cost of a jackknife over the rows). Accuracy and balanced accuracy are
        shares of correct rows, and where fewer than 5 errors (or 5 correct rows) lie
        behind them, or the bootstrap collapses to a point, the bootstrap says nothing
        (a perfect model on 54 rows would read "1.000, 95% CI 1.000 to 1.000"): their
        interval is then the exact Clopper-Pearson interval of the count of correct
        rows (statsmodels ``proportion_confint``), for balanced accuracy at Kish's
        effective number of rows, k² / Σ 1/n_c over the k classes, as Korn & Graubard
        (1998) do for a weighted proportion (54 rows in three classes of 18, 21 and
        15: 53 effective rows, a lower bound of 0.933 at 100%). The evidence table
        names the interval each metric got. The judged metric is
        the width of the widest interval among accuracy-like metrics (balanced
        accuracy, ROC AUC, R²): warn above 0.10, fail above 0.20. The R² interval is
        the one ST003 judges the test set by: the same rows and resamples.

    Why it matters:
        A score without its uncertainty is a guess. A wide interval means the test set
        cannot tell a good model from a mediocre one, and any decision taken on the
        point estimate alone is noise.

    How to fix:
        Evaluate on more held-out rows, or report the interval next to the score and
        decide on its lower bound. Stratify the test split by class.

    References:
        Efron & Tibshirani (1993), An Introduction to the Bootstrap.
        SciPy documentation, scipy.stats.bootstrap.
        Clopper & Pearson (1934), The use of confidence or fiducial limits illustrated
        in the case of the binomial, Biometrika 26.
        Korn & Graubard (1998), Confidence intervals for proportions with small
        expected number of positive counts estimated from survey data, Survey
        Methodology 24.
    """

    id = "ST001"
    name = "test-metric-intervals"
    area = "significance"
    severity = "medium"
    needs = frozenset({"test", "predictions"})
    params = {
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples", low=50, high=10000),
        "confidence": Param(default=0.95, kind="float", help="confidence level", low=0.5, high=0.999),
        "method": Param(default="percentile", kind="str", help="bootstrap interval method", choices=("percentile", "basic", "BCa")),
        "max_rows": Param(default=20000, kind="int", help="rows resampled at most (a seeded sample above)", low=100),
        "stratified": Param(default=True, kind="bool", help="classification: resample within each class (percentile interval); false: scipy.stats.bootstrap with `method`"),
    }
    thresholds = {
        "max_ci_width": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                                  help="widest interval among balanced accuracy, ROC AUC and R²"),
    }
    practices = ("P4.3", "P4.6")
    references = (
        "Efron & Tibshirani (1993), An Introduction to the Bootstrap",
        "scipy.stats.bootstrap",
        "Clopper & Pearson (1934), The use of confidence or fiducial limits illustrated in the case of the binomial, Biometrika 26",
        "Korn & Graubard (1998), Confidence intervals for proportions with small expected number of positive counts estimated from survey data, Survey Methodology 24",
    )

    def run(self, ctx, params):
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        problem = evaluation_problem(out)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        specs = out.specs()
        metrics: dict[str, Metric] = {}
        rows = []
        widths = []
        stratified = ctx.is_classification and params["stratified"]
        bootstrap_name = "class-stratified percentile bootstrap" if stratified else f"{params['method']} bootstrap"
        for spec in specs:
            est, low, high = bootstrap_ci(
                out.scorer(spec.name), out.y, out.output_for(spec), n_resamples=params["n_resamples"],
                confidence=params["confidence"], method=params["method"], random_state=ctx.seed_for(self.id),
                # Classification: resample within each class, so every resample keeps the class mix.
                strata=out.y if stratified else None,
            )
            how, description = bootstrap_name, spec.description
            if spec.name in ("accuracy", "balanced_accuracy"):
                n_eff = effective_rows(out.y, metric=spec.name)
                if exact_interval_needed(est, n_eff, low, high):
                    low, high = proportion_interval(est, n_eff, confidence=params["confidence"], method="beta")
                    how = "Clopper-Pearson" + (f" at {n_eff:.1f} effective rows" if spec.name == "balanced_accuracy" else "")
                    description += f"; exact interval ({how}): too few errors for the bootstrap"
            metrics[spec.name] = Metric(est, low, high, description=description)
            rows.append([spec.name, est, low, high, "higher" if spec.higher_is_better else "lower", how])
            if spec.name in ("balanced_accuracy", "roc_auc", "r2") and low is not None:
                widths.append(high - low)
        judged = "R²" if ctx.task == "regression" else "balanced accuracy and ROC AUC" if out.scores is not None else "balanced accuracy"
        metrics["max_ci_width"] = Metric(
            max(widths) if widths else None,
            description=f"widest {params['confidence']:.0%} interval among {judged}",
        )
        sample["rows_used"] = len(out)
        head = primary_metric(ctx.task)
        m = metrics[head]
        interval = f" ({params['confidence']:.0%} CI {m.ci_low:.3f} to {m.ci_high:.3f})" if m.ci_low is not None else ""
        return Findings(
            summary=f"On {len(out)} test rows the model's {wording.metric_label(head)} is {m.value:.3f}{interval}.",
            metrics=metrics,
            evidence=[Evidence(
                title="Test metrics",
                columns=["metric", "estimate", "CI low", "CI high", "better", "interval"],
                rows=rows,
                note=(f"{bootstrap_name}, {params['n_resamples']} resamples, seed {ctx.seed_for(self.id)}; Clopper-Pearson "
                      f"(exact) for accuracy and balanced accuracy where fewer than 5 errors or correct rows lie behind them"),
            )],
            figures=[interval_chart(
                "Test metrics with confidence intervals",
                [(r[0], r[1], r[2], r[3]) for r in rows if r[0] != "log_loss"],
                xlabel="score",
                caption=f"Dots: estimates on the test rows; bars: {params['confidence']:.0%} intervals.",
            )],
            recommendation="Quote each metric with its interval; if the interval is wide, evaluate on more held-out rows.",
            sample=sample,
        )


# -- ST002 ---------------------------------------------------------------------------
def _chance_table(y: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Confusion table (true classes present as rows, predicted values as columns) and its diagonal cells.

    A predicted label that is not a class (code -1) gets a column of its own: it is never right.
    """
    pred = np.where(pred < 0, k, pred)
    rows, cols = np.unique(y), np.unique(pred)
    table = np.zeros((len(rows), len(cols)), dtype=np.int64)
    np.add.at(table, (np.searchsorted(rows, y), np.searchsorted(cols, pred)), 1)
    col_of = {int(c): j for j, c in enumerate(cols)}
    diagonal = [(i, col_of[int(c)]) for i, c in enumerate(rows) if int(c) in col_of]
    return table, diagonal


def chance_p_value(y: np.ndarray, pred: np.ndarray, *, k: int, n_permutations: int = 9999,
                   random_state: int = 0) -> tuple[float, str]:
    """One-sided p that predictions independent of the labels reach the model's balanced accuracy.

    The null distribution is the permutation one: labels shuffled against predictions, both
    counts kept. For two classes balanced accuracy increases with the true-positive count
    once the margins are fixed, so the exact test is Fisher's (``scipy.stats.fisher_exact``);
    otherwise tables with the same margins are drawn with ``scipy.stats.random_table``.
    Returns the p-value and the name of the method used.
    """
    from scipy import stats

    table, diagonal = _chance_table(np.asarray(y), np.asarray(pred), k)
    if table.shape[1] < 2 or not diagonal:
        return 1.0, "exact (constant predictions: no association is possible)"
    row_sums = table.sum(axis=1)
    if diagonal == [(0, 0), (1, 1)] and table.shape == (2, 2):
        return float(stats.fisher_exact(table, alternative="greater").pvalue), "Fisher's exact test, one-sided"

    def balanced_accuracy(tables: np.ndarray) -> np.ndarray:
        return sum(tables[..., i, j] / row_sums[i] for i, j in diagonal) / len(row_sums)

    observed = float(balanced_accuracy(table))
    rng = np.random.default_rng(random_state)
    dist = stats.random_table(row_sums, table.sum(axis=0))
    batch = max(1, 2_000_000 // table.size)
    at_least, done = 0, 0
    while done < n_permutations:
        size = min(batch, n_permutations - done)
        null = balanced_accuracy(dist.rvs(size=size, random_state=rng))
        at_least += int(np.count_nonzero(null >= observed - 1e-12))
        done += size
    return (at_least + 1) / (n_permutations + 1), f"permutation test, {n_permutations:,} tables with the same margins"


def _p_text(p: float) -> str:
    """A p-value for a sentence: one that underflowed to 0 reads as a bound, not as certainty."""
    return "p < 1e-300" if p < 1e-300 else f"p = {p:.3g}"


def mcnemar_one_sided(model_right: np.ndarray, baseline_right: np.ndarray) -> tuple[float, np.ndarray]:
    """McNemar's test that the model is right more often than the baseline on the same rows.

    statsmodels' two-sided p-value, halved when the model wins more discordant rows
    (exact binomial below 25 discordant rows, continuity-corrected chi-square above), and
    1 when it does not: the one-sided test. Returns the p-value and the 2x2 table.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    m, b = np.asarray(model_right, bool), np.asarray(baseline_right, bool)
    table = np.array([[np.sum(m & b), np.sum(m & ~b)], [np.sum(~m & b), np.sum(~m & ~b)]])
    model_only, baseline_only = table[0, 1], table[1, 0]
    if model_only <= baseline_only:
        return 1.0, table
    result = mcnemar(table, exact=bool(model_only + baseline_only < 25), correction=True)
    return float(min(1.0, result.pvalue / 2)), table


class BetterThanBaseline(Check):
    """Better than a trivial baseline

    What it checks:
        Whether the model beats a baseline that ignores the inputs, fitted on the training
        labels (scikit-learn's DummyClassifier / DummyRegressor) and scored on the same test
        rows. The judged metric is the one-sided p-value ``p_value`` that the model is no
        better, corrected with the audit's other p-values (Holm by default): fail above 0.05.

        Classification, ``test: auto`` (the default) judges ``roc_auc`` for a binary model
        with probabilities (the one-sided Mann-Whitney U test of its ROC AUC against 0.5,
        threshold-free, so a useful ranking model on rare positives is not failed for never
        crossing 0.5) and ``balanced_accuracy`` otherwise. ``test: balanced_accuracy``: is the model's balanced
        accuracy above what predictions independent of the labels reach? That is 1/k for k
        classes: the balanced accuracy of the majority-class baseline, and the expected one
        of the "stratified" baseline (random classes in the training proportions). The test
        is the permutation test that shuffles labels against predictions and keeps both
        counts: Fisher's exact test of the confusion matrix for two classes (balanced
        accuracy grows with the true positives once the margins are fixed), tables drawn by
        scipy.stats.random_table for more (``n_permutations``; the p-value is at least
        1/(n_permutations + 1)). ``test: accuracy`` judges instead McNemar's test of the
        model's against the majority baseline's correctness on the same rows (statsmodels;
        exact binomial when fewer than 25 rows differ), one-sided: half the two-sided
        p-value when the model is right on more of the rows where the two differ, 1 when it
        is not. ``test: both`` judges the larger of the two (the model must beat the
        baseline on both). Both raw p-values are always reported.

        Regression: a paired permutation test of per-row squared errors, the model's against
        the training mean's (scipy.stats.permutation_test, sign flips within pairs), on a
        seeded sample of at most ``permutation_rows`` test rows; one-sided.

        Reported, not judged: ``improvement``, the model's primary metric (balanced accuracy,
        or R² for regression) minus the baseline's on the same rows, with a paired bootstrap
        interval.

    Why it matters:
        A model that does no better than always predicting the most common class, or the
        average, adds nothing but risk; on imbalanced data a high accuracy can hide exactly
        that. Comparing with the baseline on the same rows separates skill from base rates.

    How to fix:
        Look for a pipeline bug first (features shuffled against labels, a wrong target
        column, a preprocessing step fitted on other data); then for signal: better
        features, a model family suited to the data, class weights or resampling for
        imbalanced classes.

    References:
        McNemar (1947), Note on the sampling error of the difference between correlated
        proportions or percentages, Psychometrika 12.
        Ojala & Garriga (2010), Permutation tests for studying classifier performance, JMLR 11.
        Brodersen et al. (2010), The balanced accuracy and its posterior distribution, ICPR.
        scikit-learn user guide, Dummy estimators.
    """

    id = "ST002"
    name = "better-than-baseline"
    area = "significance"
    severity = "high"
    needs = frozenset({"train", "test", "predictions"})
    params = {
        "test": Param(default="auto", kind="str", help="judged test for classification (auto: roc_auc for a binary model with probabilities, else balanced_accuracy)",
                      choices=("auto", "roc_auc", "balanced_accuracy", "accuracy", "both")),
        "n_permutations": Param(default=9999, kind="int", help="permutations (multiclass and regression tests)", low=99, high=1_000_000),
        "permutation_rows": Param(default=5000, kind="int", help="test rows in the regression permutation test at most (a seeded sample above)", low=20),
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples for the improvement's interval", low=50, high=10000),
        "confidence": Param(default=0.95, kind="float", help="confidence level of the improvement's interval", low=0.5, high=0.999),
        "max_rows": Param(default=20000, kind="int", help="test rows used at most (a seeded sample above)", low=100),
    }
    thresholds = {
        "p_value": Threshold(direction="above", fail=0.05, low=0, high=1,
                             help="one-sided p-value that the model is no better than the baseline, after the audit-wide correction"),
    }
    practices = ("P4.3", "P4.6", "P2.2")
    references = (
        "McNemar (1947), Psychometrika 12",
        "Ojala & Garriga (2010), Permutation tests for studying classifier performance, JMLR 11",
        "https://scikit-learn.org/stable/modules/model_evaluation.html#dummy-estimators",
    )

    def run(self, ctx, params):
        seed = ctx.seed_for(self.id)
        y_train = ctx.y("train")
        y_train = None if y_train is None else y_train.dropna().to_numpy()
        if y_train is None or len(y_train) == 0:
            return Findings(status="inconclusive", summary="Inconclusive: the training data has no labels to fit the baseline on.")
        idx, sample = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        out = model_outputs(ctx, "test", idx)
        problem = evaluation_problem(out)
        if problem:
            return Findings(status="inconclusive", summary=f"Inconclusive: {problem}.", sample=sample)
        sample["rows_used"] = len(out)
        if ctx.is_classification:
            return self._classification(ctx, params, out, y_train, sample, seed)
        return self._regression(params, out, y_train.astype(float), sample, seed)

    def _improvement(self, out, baseline, params, seed):
        fn = out.scorer(primary_metric(out.task))

        def improvement(y, both):
            return fn(y, both[:, 0]) - fn(y, both[:, 1])

        if fn.batched is not None:  # many resamples at once (auditor.stats.batched_metric)
            improvement.batched = lambda y, both: fn.batched(y, both[..., 0]) - fn.batched(y, both[..., 1])
        return bootstrap_ci(
            improvement, out.y, np.column_stack([out.pred, baseline]),
            n_resamples=params["n_resamples"], confidence=params["confidence"], random_state=seed,
        )

    def _classification(self, ctx, params, out, y_train, sample, seed):
        from sklearn.dummy import DummyClassifier
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        k = len(out.classes)
        codes = encode_labels(y_train, ctx.classes)
        codes = codes[codes >= 0]
        majority = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(codes), 1)), codes)
        stratified = DummyClassifier(strategy="stratified").fit(np.zeros((len(codes), 1)), codes)
        baseline = majority.predict(np.zeros((len(out), 1)))
        majority_label = ctx.classes[int(baseline[0])]

        acc_m, acc_b = accuracy_score(out.y, out.pred), accuracy_score(out.y, baseline)
        ba_m, ba_b = balanced_accuracy_score(out.y, out.pred), balanced_accuracy_score(out.y, baseline)
        test_share = np.bincount(out.y, minlength=k) / len(out)
        prior = np.zeros(k)
        prior[stratified.classes_] = stratified.class_prior_
        present = test_share > 0
        acc_s, ba_s = float(prior @ test_share), float(prior[present].sum() / present.sum())

        p_ba, ba_method = chance_p_value(out.y, out.pred, k=k, n_permutations=params["n_permutations"], random_state=seed)
        p_mc, table = mcnemar_one_sided(out.pred == out.y, baseline == out.y)
        # A ranking model on rare positives can beat chance without ever crossing the 0.5 cut-off:
        # with probabilities, the threshold-free test of its ROC AUC against 0.5 decides.
        p_auc = None
        if ctx.task == "binary" and out.scores is not None:
            from scipy.stats import mannwhitneyu

            positive = out.y == out.positive
            p_auc = float(mannwhitneyu(out.scores[positive], out.scores[~positive], alternative="greater").pvalue)
        test = params["test"]
        if test == "auto":
            test = "roc_auc" if p_auc is not None else "balanced_accuracy"
        if test == "roc_auc" and p_auc is None:
            raise ValueError("test: roc_auc needs a binary model with probabilities; choose balanced_accuracy or accuracy")
        judged = {"roc_auc": p_auc, "balanced_accuracy": p_ba, "accuracy": p_mc, "both": max(p_ba, p_mc)}[test]
        judged_text = {
            "roc_auc": "ROC AUC no better than 0.5 (Mann-Whitney U, one-sided)",
            "balanced_accuracy": f"balanced accuracy no better than chance ({ba_method})",
            "accuracy": "accuracy no better than the majority-class baseline (McNemar, one-sided)",
            "both": "the larger of the balanced-accuracy and McNemar p-values (the model must win both)",
        }[test]
        imp, low, high = self._improvement(out, baseline, params, seed)
        interval = f" ({params['confidence']:.0%} CI {low:.3f} to {high:.3f})" if low is not None else ""
        metrics = {
            "p_value": Metric(judged, description=f"one-sided p-value: {judged_text}", p_value=True),
            "improvement": Metric(imp, low, high, description="balanced accuracy of the model minus the majority-class baseline's, same rows"),
            "balanced_accuracy_p": Metric(p_ba, description=f"uncorrected one-sided p, balanced accuracy vs chance ({ba_method})"),
            **({"roc_auc_p": Metric(p_auc, description="uncorrected one-sided p, ROC AUC vs 0.5 (Mann-Whitney U)")} if p_auc is not None else {}),
            "mcnemar_p": Metric(p_mc, description="uncorrected one-sided McNemar p, accuracy vs the majority-class baseline"),
            "model_balanced_accuracy": Metric(ba_m, description="balanced accuracy of the model"),
            "baseline_balanced_accuracy": Metric(ba_b, description="balanced accuracy of the majority-class baseline"),
            "model_accuracy": Metric(acc_m, description="accuracy of the model"),
            "baseline_accuracy": Metric(acc_b, description="accuracy of the majority-class baseline"),
        }
        rows = [
            ["model", acc_m, ba_m, ""],
            [f"majority class (always {label(majority_label)})", acc_b, ba_b, "DummyClassifier(strategy='most_frequent') fitted on the training labels"],
            ["stratified (expected)", acc_s, ba_s, "random classes in the training proportions: expected values"],
        ]
        return Findings(
            summary=(
                f"On {len(out)} test rows the model's balanced accuracy is {ba_m:.3f} against {ba_b:.3f} for a baseline "
                f"that ignores the inputs (improvement {imp:.3f}{interval}; one-sided {_p_text(p_ba)} before the audit-wide "
                f"correction). Accuracy is {acc_m:.3f} against {acc_b:.3f} for always predicting {label(majority_label)} "
                f"(McNemar one-sided {_p_text(p_mc)}; the model alone is right on {table[0, 1]} rows, the baseline alone on {table[1, 0]})."
            ),
            metrics=metrics,
            evidence=[Evidence(
                title="Model vs baselines on the same test rows",
                columns=["predictor", "accuracy", "balanced accuracy", "note"],
                rows=rows,
                note=f"Judged: {params['test'].replace('_', ' ')} test. Baselines fitted on {len(codes)} training labels.",
            ), Evidence(
                title="Correctness on the same rows (McNemar)",
                columns=["", "baseline right", "baseline wrong"],
                rows=[["model right", int(table[0, 0]), int(table[0, 1])], ["model wrong", int(table[1, 0]), int(table[1, 1])]],
            )],
            figures=[bar_chart(
                "Model vs baselines", ["accuracy", "balanced accuracy"],
                {"model": [acc_m, ba_m], "majority class": [acc_b, ba_b], "stratified (expected)": [acc_s, ba_s]},
                xlabel="score", caption="The model and two baselines that ignore the inputs, on the same test rows.",
            )],
            recommendation=(
                "If the model does not beat the baseline, look for a pipeline bug (features misaligned with labels, a wrong "
                "target column), then for signal; on imbalanced data judge balanced accuracy, not accuracy."
            ),
            sample=sample,
        )

    def _regression(self, params, out, y_train, sample, seed):
        from scipy import stats
        from sklearn.dummy import DummyRegressor

        mean = DummyRegressor(strategy="mean").fit(np.zeros((len(y_train), 1)), y_train)
        baseline = mean.predict(np.zeros((len(out), 1)))
        gain = (out.y - baseline) ** 2 - (out.y - out.pred) ** 2  # baseline's squared error minus the model's
        rng = np.random.default_rng(seed)
        used = gain
        if len(gain) > params["permutation_rows"]:
            used = gain[np.sort(rng.choice(len(gain), size=params["permutation_rows"], replace=False))]
        res = stats.permutation_test(
            (used,), lambda d, axis=-1: np.mean(d, axis=axis), permutation_type="samples", vectorized=True,
            n_resamples=params["n_permutations"], alternative="greater", random_state=rng,
            batch=max(1, 5_000_000 // len(used)),
        )
        p = float(res.pvalue)
        imp, low, high = self._improvement(out, baseline, params, seed)
        scores = {
            name: (out.scorer(name)(out.y, out.pred), out.scorer(name)(out.y, baseline)) for name in ("rmse", "mae", "r2")
        }
        interval = f" ({params['confidence']:.0%} CI {low:.3f} to {high:.3f})" if low is not None else ""
        return Findings(
            summary=(
                f"On {len(out)} test rows the model's RMSE is {scores['rmse'][0]:.4g} against {scores['rmse'][1]:.4g} for "
                f"predicting the training mean {baseline[0]:.4g}; R² improves by {imp:.3f}{interval} (paired permutation "
                f"test on {len(used)} rows, one-sided {_p_text(p)} before the audit-wide correction)."
            ),
            metrics={
                "p_value": Metric(p, description="one-sided p-value: squared errors no smaller than the mean baseline's (paired permutation test)", p_value=True),
                "improvement": Metric(imp, low, high, description="R² of the model minus the mean baseline's, same rows"),
                "mse_reduction": Metric(float(np.mean(gain)), description="mean squared error of the baseline minus the model's"),
                "model_r2": Metric(scores["r2"][0], description="R² of the model"),
                "baseline_r2": Metric(scores["r2"][1], description="R² of the training-mean baseline"),
            },
            evidence=[Evidence(
                title="Model vs baseline on the same test rows",
                columns=["predictor", "RMSE", "MAE", "R²"],
                rows=[["model", *(scores[n][0] for n in ("rmse", "mae", "r2"))],
                      [f"training mean ({baseline[0]:.4g})", *(scores[n][1] for n in ("rmse", "mae", "r2"))]],
                note=(f"DummyRegressor(strategy='mean') fitted on {len(y_train)} training labels; permutation test with "
                      f"{params['n_permutations']:,} sign flips, seed {seed}."),
            )],
            figures=[bar_chart(
                "Model vs baseline", ["RMSE", "MAE"],
                {"model": [scores["rmse"][0], scores["mae"][0]], "training mean": [scores["rmse"][1], scores["mae"][1]]},
                xlabel="error (lower is better)", caption="The model and a baseline that predicts the training mean, on the same test rows.",
            )],
            recommendation=(
                "If the model does not beat the mean, look for a pipeline bug (features misaligned with the target, a "
                "wrong target column or unit), then for signal in better features."
            ),
            sample=sample,
        )


# -- ST003 ---------------------------------------------------------------------------
CONFIDENCE = 0.95
ALPHA = 0.05


def proportion_ci_width(p: float, n: int) -> float:
    """Full width of the 95% Wilson interval of a proportion ``p`` observed on ``n`` rows."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(p * n, n, alpha=1 - CONFIDENCE, method="wilson")
    return float(high - low)


def min_detectable_difference(p: float, n: int, *, power: float) -> float:
    """Smallest difference from accuracy ``p`` that two samples of ``n`` rows detect.

    Two-sided two-proportion z-test at alpha 0.05 with the given power, in Cohen's h
    (statsmodels ``NormalIndPower``), turned back into a difference of proportions in the
    direction of 0.5, where the variance is larger (the conservative side).
    """
    from statsmodels.stats.power import NormalIndPower

    h = float(NormalIndPower().solve_power(effect_size=None, nobs1=n, alpha=ALPHA, power=power, ratio=1.0,
                                           alternative="two-sided"))
    phi = 2 * np.arcsin(np.sqrt(p))
    other = phi - h if p >= 0.5 else phi + h
    other = float(np.clip(other, 0.0, np.pi))
    return float(abs(p - np.sin(other / 2) ** 2))


class TestSetAdequacy(Check):
    """Test-set adequacy: enough rows overall and per class

    What it checks:
        Whether the test set is large enough to measure the model with useful precision.
        It needs only the test labels; the model's predictions sharpen it where they exist.

        Judged: ``ci_width``, the full width of the 95% Wilson interval of accuracy that the
        test size gives, at the observed accuracy when predictions exist, else at the worst
        case 50%: warn above 0.10, fail above 0.20 (the same levels as ST001's interval
        widths); and, for classification, ``smallest_class_rows``, the test rows of the
        rarest class (a class of the model that the test set lacks counts 0): warn below
        100. A class with fewer than ``min_class_rows`` rows (30) cannot be measured however
        many rows the others have: the result is then ``inconclusive`` (the data cannot
        decide), which the report lists among the undecided results at the gate.

        Reported: ``rows_needed``, the rows a 95% interval of accuracy of half-width
        ``target_ci_width`` (± 0.05 by default, a full width of 0.10) needs at that accuracy
        (statsmodels ``samplesize_confint_proportion``); ``min_detectable_difference``, the
        smallest accuracy difference that two samples of this size detect with a two-sided
        two-proportion test at alpha 0.05 and power ``power`` (statsmodels
        ``NormalIndPower``; comparing two models on the same rows with McNemar's test can
        detect smaller differences when they agree on most rows, so this is the
        conservative figure); per-class counts with the width of each class's recall
        interval, and the classes below ``min_class_rows``.

        Regression: ``ci_width`` is the width of the 95% bootstrap interval of R² when
        predictions exist (auditor.stats.bootstrap_ci on the rows and with the seed of
        ST001, so that both checks quote the same interval for the same R²; they differ
        only where ST001's ``confidence``, ``method``, ``n_resamples`` or ``max_rows`` is
        set away from its default), else the width of the 95% interval
        of the RMSE relative to the RMSE for normal residuals (chi-square, labels alone);
        the detectable effect is the paired t-test's Cohen's d (statsmodels ``TTestPower``).

    Why it matters:
        A test set of 50 rows cannot tell 80% accuracy from 70%; a class with 12 test rows
        has a recall that swings by tens of points from one split to the next. Metrics
        quoted on such a set, and comparisons between models on it, are noise.

    How to fix:
        Hold out more rows, or use cross-validation for the estimate; stratify the split
        by class so rare classes get their share; for very rare classes collect more
        labelled examples before judging per-class metrics.

    References:
        Wilson (1927), Probable inference, the law of succession, and statistical
        inference, JASA 22.
        Cohen (1988), Statistical Power Analysis for the Behavioral Sciences, ch. 6.
        statsmodels documentation, statsmodels.stats.power and statsmodels.stats.proportion.
    """

    id = "ST003"
    name = "test-set-adequacy"
    area = "significance"
    severity = "medium"
    needs = frozenset({"test"})
    params = {
        "target_ci_width": Param(default=0.05, kind="float", help="target half-width (±) of the 95% interval of accuracy, for rows_needed", low=0.001, high=0.5),
        "min_class_rows": Param(default=30, kind="int", help="rows a class needs for its own metrics; classes below are listed", low=1),
        "power": Param(default=0.8, kind="float", help="power of the minimum-detectable-difference calculation", low=0.5, high=0.99),
        "n_resamples": Param(default=200, kind="int", help="bootstrap resamples (regression with predictions)", low=50, high=10000),
        "max_rows": Param(default=20000, kind="int", help="rows bootstrapped at most (regression; a seeded sample above)", low=100),
    }
    thresholds = {
        "ci_width": Threshold(direction="above", warn=0.10, fail=0.20, low=0, high=1,
                              help="full width of the 95% interval of accuracy (regression: of R², or of the RMSE relative to it)"),
        "smallest_class_rows": Threshold(direction="below", warn=100, low=0,
                                         help="test rows of the rarest class (below min_class_rows: inconclusive)"),
    }
    practices = ("P1.7", "P4.1", "P4.6")
    references = (
        "Wilson (1927), JASA 22",
        "Cohen (1988), Statistical Power Analysis for the Behavioral Sciences",
        "https://www.statsmodels.org/stable/stats.html#power-and-sample-size-calculations",
    )

    def run(self, ctx, params):
        y_all = ctx.y("test")
        if y_all is None:
            return Findings(status="skipped", summary=f"Skipped: the test data has no target column {ctx.target!r}.")
        rows = np.flatnonzero(y_all.notna().to_numpy())
        sample = {"role": "test", "rows_used": len(rows), "rows_available": len(y_all), "seed": ctx.seed_for(self.id)}
        pred, why_no_pred = None, "no model predictions are available"
        if ctx.model is not None:
            try:
                pred = np.asarray(ctx.predictions("test"))[rows]
            except ModelCallError as exc:
                why_no_pred = str(exc)
        if ctx.is_classification:
            return self._classification(ctx, params, y_all.to_numpy()[rows], pred, why_no_pred, sample)
        return self._regression(ctx, params, y_all.to_numpy()[rows].astype(float), pred, rows, why_no_pred, sample)

    def _classification(self, ctx, params, y, pred, why_no_pred, sample):
        classes = ctx.classes if ctx.classes is not None else sorted(set(y.tolist()), key=str)
        codes = encode_labels(y, classes)
        n, k = len(codes), len(classes)
        counts = np.bincount(codes[codes >= 0], minlength=k)
        if pred is not None:
            right = (encode_labels(pred, classes) == codes) & (codes >= 0)
            acc, basis = float(right.mean()) if n else 0.5, "the observed accuracy"
        else:
            right, acc, basis = None, 0.5, f"the worst case of 50% accuracy ({why_no_pred})"
        width = proportion_ci_width(acc, n) if n else None
        metrics = {
            "ci_width": Metric(width, description=f"full width of the 95% Wilson interval of accuracy at {basis}"),
            "smallest_class_rows": Metric(int(counts.min()) if k else 0, description="test rows of the rarest class"),
            "rows": Metric(n, description="labelled test rows"),
        }
        small = [c for c, cnt in zip(classes, counts) if cnt < params["min_class_rows"]]
        metrics["classes_below_min"] = Metric(len(small), description=f"classes with fewer than {params['min_class_rows']} test rows")
        if n:
            needed = self._rows_needed(acc, params["target_ci_width"])
            metrics["rows_needed"] = Metric(needed, description=f"rows for a 95% interval of ± {params['target_ci_width']:g} at {basis}")
            metrics["min_detectable_difference"] = Metric(
                min_detectable_difference(acc, n, power=params["power"]),
                description=f"smallest accuracy difference two samples of {n} rows detect (alpha 0.05, power {params['power']:g})",
            )
        table = []
        for i, (c, cnt) in enumerate(zip(classes, counts)):
            recall = float(right[codes == i].mean()) if right is not None and cnt else 0.5
            table.append([label(c), int(cnt), cnt / n if n else 0.0, proportion_ci_width(recall, int(cnt)) if cnt else None,
                          "yes" if cnt < params["min_class_rows"] else ""])
        rarest = classes[int(np.argmin(counts))] if k else None
        if n == 0:
            summary = "The test set has no labelled rows: nothing can be measured on it."
        else:
            summary = (
                f"{wording.count(n, 'labelled test row')} give a 95% interval of accuracy {width:.3f} wide at {basis} "
                f"(± {params['target_ci_width']:g} needs {metrics['rows_needed'].value:,} rows); the rarest class, "
                f"{label(rarest)}, has {wording.count(int(counts.min()), 'row')}"
                + (f"; {wording.count(len(small), 'class', 'classes')} below {params['min_class_rows']} rows: "
                   f"{', '.join(label(c) for c in small[:10])}" if small else "")
                + f". Two samples of this size detect an accuracy difference of "
                  f"{metrics['min_detectable_difference'].value:.3f} (power {params['power']:g})."
            )
        return Findings(
            summary=summary,
            # A group too small to measure makes the verdict undecided, never a pass.
            status="inconclusive" if small else None,
            metrics=metrics,
            evidence=[Evidence(
                title="Test rows per class",
                columns=["class", "rows", "share", "95% CI width of recall", f"below {params['min_class_rows']}"],
                rows=table,
                note="Recall interval: Wilson, at the observed recall" + ("" if right is not None else " (worst case 50%: no predictions)") + ".",
            )],
            figures=[bar_chart("Test rows per class", [label(c) for c in classes], {"rows": [int(c) for c in counts]},
                               xlabel="test rows", caption=f"Labelled test rows of each class; a class needs about {params['min_class_rows']} for its own metrics.")] if k else [],
            recommendation=(
                "Hold out more rows (stratified by class), or estimate with cross-validation; quote per-class metrics only "
                "for classes with enough rows."
            ),
            sample=sample,
        )

    @staticmethod
    def _rows_needed(p: float, half_width: float) -> int:
        from statsmodels.stats.proportion import samplesize_confint_proportion

        # The normal approximation needs some variance to work with: at 0% or 100% plan for 1 in 100.
        p = float(np.clip(p, 0.01, 0.99))
        return int(np.ceil(samplesize_confint_proportion(p, half_width, alpha=ALPHA)))

    def _regression(self, ctx, params, y, pred, rows, why_no_pred, sample):
        from scipy import stats
        from statsmodels.stats.power import TTestPower

        n = len(y)
        metrics: dict[str, Metric] = {"rows": Metric(n, description="labelled test rows")}
        if n >= 10 and pred is not None:
            # The rows and resamples of ST001's R² interval (its sample and seed), so that the same
            # metric on the same data reads the same interval in both checks; with both checks'
            # defaults (200 resamples, percentile, 95%, 20,000 rows) the two intervals are identical.
            idx, boot = ctx.sample_index("test", params["max_rows"], check_id=MetricIntervals.id)
            keep = np.isin(rows, idx)
            yy, pp = y[keep], np.asarray(pred, dtype=float)[keep]
            est, low, high = bootstrap_ci(metric_function("r2", task="regression"), yy, pp, n_resamples=params["n_resamples"],
                                          confidence=CONFIDENCE, method="percentile",
                                          random_state=ctx.seed_for(MetricIntervals.id))
            width = None if low is None else high - low
            basis = f"the 95% bootstrap interval of R² ({est:.3f})"
            sample = {**boot, "rows_used": len(yy)}
        elif n >= 2:
            lo, hi = stats.chi2.ppf([0.975, 0.025], n - 1)
            width = float(np.sqrt((n - 1) / hi) - np.sqrt((n - 1) / lo))
            basis = ("the 95% interval of the RMSE relative to the RMSE, for normal residuals"
                     + ("" if pred is not None else f" ({why_no_pred})"))
        else:
            width, basis = None, "no interval (fewer than 2 rows)"
        metrics["ci_width"] = Metric(width, description=f"full width of {basis}")
        if n >= 2:
            metrics["min_detectable_effect_size"] = Metric(
                float(TTestPower().solve_power(effect_size=None, nobs=n, alpha=ALPHA, power=params["power"], alternative="two-sided")),
                description=f"Cohen's d of per-row error differences a paired t-test detects (alpha 0.05, power {params['power']:g})",
            )
        summary = (
            f"{wording.count(n, 'labelled test row')}: {basis} is {width:.3f} wide."
            if width is not None else f"{wording.count(n, 'labelled test row')}: too few to put an interval on a metric."
        )
        if "min_detectable_effect_size" in metrics:
            summary += f" A paired comparison of two models detects an effect of d = {metrics['min_detectable_effect_size'].value:.3f}."
        return Findings(
            summary=summary,
            metrics=metrics,
            recommendation="Hold out more rows, or estimate with cross-validation.",
            sample=sample,
        )

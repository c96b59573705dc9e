"""ST002 better-than-baseline: better than a trivial baseline."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import evaluation_problem, model_outputs, primary_metric
from auditor.toolkit.figures import bar_chart, label
from auditor.toolkit.stats import bootstrap_ci, encode_labels
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


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
        "test": Param(default="auto", kind="str",
                      help="judged test for classification (auto: roc_auc for a binary model with probabilities, else balanced_accuracy)",
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
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.3", "nist_ai_rmf:MANAGE 1.1",
        "iso_42001:A.6.2.4",
    )
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

        if fn.batched is not None:  # many resamples at once (auditor.toolkit.stats.batched_metric)
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
                "p_value": Metric(p, description="one-sided p-value: squared errors no smaller than the mean baseline's (paired permutation test)",
                                  p_value=True),
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

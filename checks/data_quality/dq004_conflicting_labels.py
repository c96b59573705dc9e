"""DQ004: identical inputs with different labels, told apart from irreducible noise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.adapters import ModelCallError
from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.stats import encode_labels
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import cell as _text

from ._common import _columns, _empty_train

np = lazy_module("numpy")
pd = lazy_module("pandas")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


def _discordant_pairs(counts: np.ndarray) -> np.ndarray:
    """Pairs of rows with different labels in each group, from label counts of shape (..., classes)."""
    n = counts.sum(axis=-1)
    return (n * n - (counts * counts).sum(axis=-1)) / 2


def _draw_counts(sizes: np.ndarray, proba: np.ndarray, times: int, rng: np.random.Generator) -> np.ndarray:
    """``times`` multinomial label counts per group, shape (times, groups, classes).

    Drawn class by class as conditional binomials (the multinomial's chain rule), which
    NumPy vectorises over groups far faster than ``Generator.multinomial`` with one row of
    probabilities per group.
    """
    left = np.broadcast_to(sizes, (times, len(sizes))).astype(np.int64)
    mass = np.ones(len(sizes))
    out = np.zeros((times, len(sizes), proba.shape[1]), dtype=np.int64)
    for c in range(proba.shape[1] - 1):
        share = np.divide(proba[:, c], mass, out=np.zeros(len(sizes)), where=mass > 0).clip(0.0, 1.0)
        out[:, :, c] = rng.binomial(left, share)
        left = left - out[:, :, c]
        mass = mass - proba[:, c]
    out[:, :, -1] = left
    return out


# Besag & Clifford's sequential Monte Carlo test stops once this many simulated label sets
# disagree at least as much as the observed one: a p-value clearly above any alpha is then
# known after a few dozen draws instead of all of them.
NOISE_TEST_EXCEEDANCES = 20


def _noise_test(counts: np.ndarray, proba: np.ndarray, *, n_simulations: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """Do identical inputs disagree more than the model's own probabilities make them? (observed, expected, p)

    ``counts`` holds the label counts of every group of identical inputs (one row per group,
    mixed or not), ``proba`` the model's class probabilities for each group's input. Under
    irreducible noise a group's labels are independent draws from those probabilities; the
    statistic is the number of within-group pairs with different labels, and the one-sided
    p-value is a parametric-bootstrap (Monte Carlo) one over at most ``n_simulations`` sets
    of labels drawn from the probabilities, with Besag & Clifford's (1991) sequential stop:
    h/L when the h-th set that disagrees at least as much comes at draw L
    (h = NOISE_TEST_EXCEEDANCES), else (1 + sets at least as far) / (1 + n_simulations).
    """
    sizes = counts.sum(axis=1)
    observed = float(_discordant_pairs(counts).sum())
    expected = float((sizes * (sizes - 1) / 2 * (1.0 - (proba * proba).sum(axis=1))).sum())
    # Small blocks first, so that a clear "noise" stops early; never more than about a million counts at once.
    cap = max(1, 1_000_000 // max(1, counts.size))
    at_least, done, block = 0, 0, 2 * NOISE_TEST_EXCEEDANCES
    while done < n_simulations:
        size = min(block, cap, n_simulations - done)
        drawn = _draw_counts(sizes, proba, size, rng)
        hits = np.cumsum(_discordant_pairs(drawn).sum(axis=1) >= observed - 1e-9) + at_least
        if hits[-1] >= NOISE_TEST_EXCEEDANCES:
            draws = done + 1 + int(np.argmax(hits >= NOISE_TEST_EXCEEDANCES))
            return observed, expected, NOISE_TEST_EXCEEDANCES / draws
        at_least, done, block = int(hits[-1]), done + size, 2 * block
    return observed, expected, (1 + at_least) / (1 + n_simulations)


class ConflictingLabels(Check):
    """Identical inputs with different labels, told apart from irreducible noise

    What it checks:
        Rows of the training data whose model inputs are identical but whose targets
        differ (for regression: differ exactly). ``conflict_rate``, the judged metric, is
        the share of labelled training rows that belong to such a conflicting group and
        that irreducible noise does not explain; it warns above 0.01 and fails above 0.05.
        Rows without a target are ignored; a training set without the target column is
        skipped.

        Noise or label errors: when the outcome is random given the inputs (a coin flip
        on a few binary features), identical inputs must often carry different labels,
        and no relabelling would help. For a classifier with probabilities, every group of
        identical inputs (mixed or not, so that the choice of groups does not depend on
        the labels) is compared with the model's own class probabilities for that input:
        under noise its labels are independent draws from them. The statistic is the
        number of within-group pairs of rows with different labels; its one-sided p-value
        is a parametric-bootstrap one, the share of up to ``n_simulations`` (999) seeded
        sets of labels drawn from the model's probabilities that disagree at least as
        much (stopped once 20 of them have, Besag & Clifford's sequential test). When the
        p-value is at least ``alpha`` (0.01), the conflicts are as many as noise makes:
        they are reported as ``noise_conflict_rate`` (not judged) and ``conflict_rate`` is
        0. Otherwise, and whenever there is no reference (a regression task, a model
        without probabilities, no model, labels the model does not know), every
        conflicting row counts in ``conflict_rate``. Copies of rows with the label flipped
        against an otherwise predictable relation disagree far more than the model's
        probabilities allow, and still fail. The reference is the model's probabilities:
        a model that memorised the conflicting rows explains more of them than a
        held-out model would.

    Why it matters:
        No model can fit both labels of the same input: conflicts set a floor under the
        training error, often reveal labelling mistakes or a missing feature, and
        mislead any evaluation that counts them. Conflicts that only reflect a random
        outcome are no defect: relabelling them would destroy the calibration of the
        probabilities.

    How to fix:
        Review the conflicting groups (evidence lists the largest). Correct wrong labels,
        add the feature that tells the cases apart, or, when the outcome is genuinely
        random, keep the rows and accept the error floor (or aggregate them to the
        majority label or mean).

    References:
        P1.4 and P1.9 of the practices; Frénay & Verleysen, "Classification in the
        presence of label noise: a survey", IEEE TNNLS 25(5), 2014; Northcutt et al.,
        "Confident learning", JAIR 70, 2021; Davison & Hinkley, Bootstrap Methods and
        their Application, Cambridge University Press, 1997, section 4.2; Besag &
        Clifford, "Sequential Monte Carlo p-values", Biometrika 78(2), 1991.
    """

    id = "DQ004"
    name = "conflicting-labels"
    area = "data_quality"
    severity = "high"
    needs = frozenset({"train"})
    params = {
        "alpha": Param(
            default=0.01, kind="float", low=0.0001, high=0.5,
            help="significance level below which conflicts are more than the model's probabilities explain",
        ),
        "n_simulations": Param(
            default=999, kind="int", low=99, high=100_000,
            help="label sets drawn from the model's probabilities for the noise test",
        ),
    }
    thresholds = {
        "conflict_rate": Threshold(
            direction="above", warn=0.01, fail=0.05, low=0, high=1,
            help="share of labelled train rows in a group of identical inputs with different labels, beyond noise",
        )
    }
    practices = ("P1.4", "P1.9")
    clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")
    references = (
        "Frénay & Verleysen, Classification in the presence of label noise: a survey, IEEE TNNLS 25(5), 2014",
        "Northcutt, Jiang & Chuang, Confident learning: estimating uncertainty in dataset labels, JAIR 70, 2021",
        "Davison & Hinkley, Bootstrap Methods and their Application, Cambridge University Press, 1997",
        "Besag & Clifford, Sequential Monte Carlo p-values, Biometrika 78(2), 1991",
    )

    def _reference(self, ctx: AuditContext, labelled: np.ndarray) -> tuple[np.ndarray, np.ndarray] | str:
        """The model's class probabilities and the label codes of the labelled train rows, or why there are none."""
        if not ctx.is_classification:
            return "a regression target has no class probabilities to compare with"
        try:
            proba = ctx.probabilities("train")
        except ModelCallError as exc:
            return f"the model's probabilities are not available ({exc})"
        if proba is None or not ctx.classes:
            return "the model gives no class probabilities"
        codes = encode_labels(ctx.y("train").to_numpy()[labelled], list(ctx.classes))
        return np.asarray(proba, dtype=float)[labelled], codes

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        if (skipped := _empty_train(ctx)) is not None:
            return skipped
        y = ctx.y("train")
        cols = _columns(ctx, "train", target=False)
        if y is None:
            return Findings(summary=f"Skipped: the training data has no target column {ctx.target!r}.", status="skipped")
        if not cols:
            return Findings(summary="Skipped: none of the model's input columns is in the training data.", status="skipped")
        frame = ctx.frame("train")
        labelled = y.notna().to_numpy()
        X = frame.loc[labelled, cols]
        labels = y[labelled]
        n = len(X)
        if n == 0:
            return Findings(summary="Skipped: no training row has a target value.", status="skipped")
        repeated = X.duplicated(keep=False).to_numpy()
        groups = pd.Series(dtype="int64")
        conflicting = np.zeros(n, dtype=bool)
        group_id = np.zeros(0, dtype=np.int64)
        if repeated.any():
            sub = X[repeated]
            group_id = sub.groupby(cols, dropna=False, sort=False).ngroup().to_numpy()
            sub_labels = pd.Series(labels.to_numpy()[repeated])
            n_labels = sub_labels.groupby(group_id).transform("nunique").to_numpy()
            conflicting[np.flatnonzero(repeated)[n_labels > 1]] = True
            groups = pd.Series(group_id[n_labels > 1])
        rate = float(conflicting.sum()) / n
        n_groups = int(groups.nunique()) if len(groups) else 0

        # Noise or label errors: compare every group of identical inputs with the model's probabilities.
        noise: dict[str, float] | None = None
        no_reference = ""
        if n_groups:
            reference = self._reference(ctx, labelled)
            if isinstance(reference, str):
                no_reference = reference
            else:
                proba, codes = reference
                codes = codes[repeated]
                if (codes < 0).any():
                    no_reference = "some labels are not among the model's classes"
                else:
                    n_classes = proba.shape[1]
                    counts = np.zeros((int(group_id.max()) + 1, n_classes), dtype=np.int64)
                    np.add.at(counts, (group_id, codes), 1)
                    # identical inputs get identical probabilities; the mean absorbs rounding
                    group_proba = np.zeros((len(counts), n_classes))
                    np.add.at(group_proba, group_id, proba[repeated])
                    group_proba /= counts.sum(axis=1, keepdims=True)
                    group_proba = np.clip(group_proba, 0.0, None)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        group_proba /= group_proba.sum(axis=1, keepdims=True)
                    if not np.isfinite(group_proba).all():
                        no_reference = "the model's probabilities are not all finite numbers"
                    else:
                        observed, expected, p_value = _noise_test(
                            counts, group_proba, n_simulations=int(params["n_simulations"]), rng=ctx.rng(self.id),
                        )
                        noise = {"observed": observed, "expected": expected, "p_value": p_value}
        explained = noise is not None and noise["p_value"] >= float(params["alpha"])
        judged_rate = 0.0 if explained else rate

        rows = []
        if n_groups:
            sizes = groups.value_counts().head(5)
            positions = np.flatnonzero(conflicting)
            shown = cols[:4]
            for gid, size in sizes.items():
                members = positions[groups.to_numpy() == gid]
                first = X.iloc[members[0]]
                label_counts = labels.iloc[members].value_counts()
                rows.append([
                    int(size),
                    "; ".join(f"{_text(k)}: {int(v)}" for k, v in label_counts.items()),
                    *[_text(first[c]) for c in shown],
                ])
            evidence = [
                Evidence(
                    title="Largest groups of identical inputs with different labels (train)",
                    columns=["rows", "labels", *shown],
                    rows=rows,
                    note="Only the first input columns are shown; every input column is identical within a group.",
                )
            ]
            if noise is not None:
                evidence.append(Evidence(
                    title="Conflicts against the model's own probabilities (noise test)",
                    columns=["groups of identical inputs", "pairs with different labels", "expected under noise",
                             "p-value", "alpha", "verdict"],
                    rows=[[
                        int(group_id.max()) + 1, int(noise["observed"]), round(noise["expected"], 2),
                        round(noise["p_value"], 6), float(params["alpha"]),
                        "irreducible noise" if explained else "more than noise: label errors or a missing feature",
                    ]],
                    note=(
                        f"Labels drawn {int(params['n_simulations'])} times from the model's class probabilities for each "
                        "group's input; the p-value is the share of draws that disagree at least as much."
                    ),
                ))
        else:
            evidence = []
        summary = (
            f"Compared labels of train rows with identical values in {wording.count(len(cols), 'input column')}: "
            f"{int(conflicting.sum())} of {n} labelled rows ({wording.share(rate)}) fall in {wording.count(n_groups, 'conflicting group')}."
        )
        if noise is not None:
            summary += (
                f" They hold {int(noise['observed'])} pairs of rows with different labels where the model's own probabilities "
                f"expect {noise['expected']:.1f} (p = {noise['p_value']:.3g}): "
                + ("as many as irreducible noise makes, so they are not counted as label errors." if explained
                   else "more than noise explains.")
            )
        elif no_reference:
            summary += f" They cannot be told from irreducible noise ({no_reference}), so all are counted."
        if not n_groups:
            recommendation = "Nothing to review."
        elif explained:
            recommendation = (
                "The outcome looks random given these inputs: keep the rows and accept the error floor, or add a "
                "feature that separates the cases."
            )
        else:
            recommendation = "Review the conflicting groups: correct wrong labels or add the feature that separates the cases."
        metrics = {
            "conflict_rate": Metric(judged_rate, description="share of labelled train rows in a conflicting group, beyond irreducible noise"),
            "noise_conflict_rate": Metric(
                rate if explained else 0.0,
                description="share of labelled train rows in conflicting groups that the model's probabilities explain as noise",
            ),
            "conflicting_groups": Metric(n_groups, description="groups of identical inputs with more than one label"),
        }
        if noise is not None:
            metrics["noise_test_p_value"] = Metric(
                noise["p_value"], description="Monte Carlo p-value: identical inputs disagree more than the model's probabilities make them",
            )
        return Findings(summary=summary, metrics=metrics, evidence=evidence, recommendation=recommendation)

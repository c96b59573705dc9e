"""DR002: reference and current rows that a classifier can tell apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import bar_chart
from auditor.util import wording
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    ALIBI_MISSING,
    BACKENDS,
    MAX_ROWS,
    REFERENCE_ROLES,
    _alibi_cd,
    _as_float,
    _as_text,
    _kind,
    _roles_problem,
    _sig,
    _skip,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
stats = lazy_module("scipy.stats")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# DR002 names a feature in its summary when its importance is at least this share of the top one's.
NAMED_IMPORTANCE = 0.1
# HistGradientBoosting's categorical features must have fewer than max_bins (255) levels.
MAX_DOMAIN_LEVELS = 250
# Robust z-scores for the MMD embedding are clipped so that one wild value cannot
# dominate the kernel's bandwidth.
CLIP = 1e3
IQR_TO_SD = 1.349


# -- DR002 -----------------------------------------------------------------------------
def _domain_matrix(ref: pd.DataFrame, cur: pd.DataFrame, cols: list[str], max_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference and current rows as float matrices for a tree model, and the categorical mask.

    Numeric and datetime columns as float (missing NaN, which histogram gradient boosting
    routes natively); other columns as codes of their most frequent levels over both
    samples (missing a level), rarer levels sharing one code.
    """
    xr, xc, categorical = [], [], []
    for col in cols:
        if _kind(ref[col], cur[col]) == "numeric":
            xr.append(_as_float(ref[col]))
            xc.append(_as_float(cur[col]))
            categorical.append(False)
            continue
        tr, tc = _as_text(ref[col]), _as_text(cur[col])
        levels = pd.Index(pd.Series(np.concatenate([tr, tc])).value_counts().index[: min(max_levels, MAX_DOMAIN_LEVELS)])
        for x, out in ((tr, xr), (tc, xc)):
            codes = levels.get_indexer(x).astype("float64")
            codes[codes < 0] = len(levels)
            out.append(codes)
        categorical.append(True)
    return np.column_stack(xr), np.column_stack(xc), np.asarray(categorical, dtype=bool)


def _embedding(ref: pd.DataFrame, cur: pd.DataFrame, cols: list[str], max_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows as points for the MMD kernel, scaled on the reference.

    Numeric: (x − median) / (IQR / 1.349), falling back to the standard deviation and
    then 1, clipped at ±1000, missing values at 0 with a missing-indicator column when
    any value is missing. Categorical: one-hot of the ``max_levels`` most frequent
    reference levels scaled by 1/√2, so that a category mismatch is one unit apart like
    one standard deviation.
    """
    br, bc = [], []
    for col in cols:
        if _kind(ref[col], cur[col]) == "numeric":
            r, c = _as_float(ref[col]), _as_float(cur[col])
            finite = r[np.isfinite(r)]
            center = float(np.median(finite)) if len(finite) else 0.0
            spread = float(np.subtract(*np.percentile(finite, [75, 25]))) / IQR_TO_SD if len(finite) else 0.0
            if not spread > 0:
                spread = float(np.std(finite)) if len(finite) else 0.0
            if not spread > 0:
                spread = 1.0
            for x, out in ((r, br), (c, bc)):
                out.append(np.nan_to_num(np.clip((x - center) / spread, -CLIP, CLIP), nan=0.0).reshape(-1, 1))
            if np.isnan(r).any() or np.isnan(c).any():
                br.append(np.isnan(r).astype("float64").reshape(-1, 1))
                bc.append(np.isnan(c).astype("float64").reshape(-1, 1))
            continue
        tr, tc = _as_text(ref[col]), _as_text(cur[col])
        levels = pd.Index(pd.Series(tr).value_counts().index[:max_levels])
        for x, out in ((tr, br), (tc, bc)):
            codes = levels.get_indexer(x)
            onehot = np.zeros((len(x), len(levels)))
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0 / np.sqrt(2.0)
            out.append(onehot)
    return np.hstack(br), np.hstack(bc)


def median_bandwidth(z: np.ndarray) -> float:
    """The median Euclidean distance between distinct rows of ``z`` (1 when all rows are equal)."""
    from sklearn.metrics.pairwise import euclidean_distances

    dist = euclidean_distances(z)
    upper = dist[np.triu_indices(len(z), k=1)]
    upper = upper[upper > 0]
    return float(np.median(upper)) if len(upper) else 1.0


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, *, n_permutations: int, random_state: int) -> tuple[float, float, float]:
    """Unbiased MMD² of two samples with an RBF kernel (median heuristic) and its permutation p-value.

    The bandwidth σ is the median Euclidean distance between distinct pooled points
    (Gretton et al. 2012), the kernel exp(−‖a − b‖² / (2σ²)) (``sklearn.metrics.pairwise.
    rbf_kernel``). The p-value is (1 + #{permuted MMD² ≥ observed}) / (1 + permutations),
    with all permutations evaluated at once from the kernel matrix. Returns
    ``(mmd2, p_value, sigma)``.
    """
    from sklearn.metrics.pairwise import rbf_kernel

    z = np.vstack([x, y])
    n, total = len(x), len(x) + len(y)
    sigma = median_bandwidth(z)
    kernel = rbf_kernel(z, gamma=1.0 / (2.0 * sigma**2))
    np.fill_diagonal(kernel, 0.0)
    rng = np.random.default_rng(random_state)
    labels = np.zeros((total, n_permutations + 1))
    labels[:n, 0] = 1.0
    for j in range(1, n_permutations + 1):
        labels[rng.permutation(total)[:n], j] = 1.0
    m = total - n
    grand = kernel.sum()
    k_a = kernel @ labels
    s_xx = np.einsum("ij,ij->j", labels, k_a)
    s_x_all = k_a.sum(axis=0)
    s_xy = s_x_all - s_xx
    s_yy = grand - 2.0 * s_x_all + s_xx
    mmd2 = s_xx / (n * (n - 1)) + s_yy / (m * (m - 1)) - 2.0 * s_xy / (n * m)
    p = (1.0 + np.sum(mmd2[1:] >= mmd2[0])) / (1.0 + n_permutations)
    return float(mmd2[0]), float(p), sigma


def _hanley_mcneil_variance(auc: float, n_pos: int, n_neg: int) -> float:
    """Variance of a ROC AUC estimate (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc**2 / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return max(float(var), 0.0)


def cross_validated_auc(scores: list[np.ndarray], labels: list[np.ndarray], *, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of the per-fold ROC AUCs, a conservative interval and a one-sided p-value that it exceeds 0.5.

    Each fold's held-out scores come from one model that never saw the fold's labels, so
    within a fold the one-sided Mann-Whitney test (AUC = U / (n·m)) is exact in level.
    The folds are not independent: their models share training rows, and on identical
    samples their z-scores correlate positively (about 0.2 in simulation), so treating
    them as independent (Stouffer) rejects too often, and so does one Mann-Whitney test
    of all out-of-fold scores pooled. The p-value is therefore that of the mean z-score,
    which is at most standard normal under the null whatever the correlation; the
    interval's half-width is the mean of the folds' Hanley-McNeil standard errors, an
    upper bound on the mean's. Returns ``(auc, low, high, p_value)``.
    """
    from sklearn.metrics import roc_auc_score

    aucs, errors, zs = [], [], []
    for s, y in zip(scores, labels):
        pos, neg = s[y == 1], s[y == 0]
        aucs.append(float(roc_auc_score(y, s)))
        errors.append(float(np.sqrt(_hanley_mcneil_variance(aucs[-1], len(pos), len(neg)))))
        p = float(stats.mannwhitneyu(pos, neg, alternative="greater").pvalue)
        zs.append(float(stats.norm.isf(min(max(p, 1e-300), 1.0 - 1e-15))))
    auc = float(np.mean(aucs))
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * float(np.mean(errors))
    p_value = float(stats.norm.sf(np.mean(zs)))
    return auc, max(0.0, auc - half), min(1.0, auc + half), p_value


class MultivariateDrift(Check):
    """Reference and current rows that a classifier can tell apart

    What it checks:
        Drift in the joint distribution of the inputs, which per-column tests miss when
        only the relations between columns change. (a) A domain classifier: on a
        balanced seeded sample of at most ``max_rows`` reference rows (``reference``:
        train by default) and as many current rows, a small
        ``HistGradientBoostingClassifier`` (``max_iter`` trees of at most 15 leaves;
        categorical columns as native categories) learns to tell current rows from
        reference rows, scored by stratified ``folds``-fold cross-validation. The metric
        ``domain_auc`` is the mean of the held-out folds' ROC AUCs, with a 95% interval
        whose half-width uses the mean of the folds' Hanley & McNeil standard errors (an
        upper bound, since the folds are correlated); 0.5 means the samples are
        indistinguishable. It warns above 0.6 and fails above 0.7 (a random current row
        then outscores a random reference row seven times in ten: "acceptable
        discrimination" on Hosmer & Lemeshow's scale); an interval containing 0.7 reads
        inconclusive. Its p-value is that of the mean of the folds' one-sided
        Mann-Whitney z-scores (AUC = U / (n·m); Mason & Graham 2002), valid whatever the
        folds' correlation; it is reported and fed to the audit-wide correction, not
        judged, since on large samples a negligible AUC of 0.51 is significant. (One
        Mann-Whitney test of all out-of-fold scores pooled, or Stouffer's combination of
        the folds, rejected identical samples at the 5% level in about 14% of simulated
        runs: the folds' models share training rows.) The inputs the
        classifier leans on are measured by ``sklearn.inspection.permutation_importance``
        (drop in ROC AUC, ``n_repeats`` shuffles) on the first held-out fold, and named
        in the summary when the AUC's p-value is below ``alpha``. (b) A kernel two-sample test:
        on at most ``mmd_rows`` rows per side, the unbiased squared maximum mean
        discrepancy with an RBF kernel (median heuristic bandwidth) on robustly scaled
        inputs (one-hot categories), with a permutation p-value over
        ``n_permutations`` relabellings; both reported, the p-value as a p-value. With
        fewer than ``min_rows`` current rows the AUC is not judged (inconclusive).
        ``backend: alibi`` runs the MMD test through alibi-detect's ``MMDDrift``
        (PyTorch backend) instead.

    Why it matters:
        A model can face new combinations of familiar values (young customers with high
        incomes, a sensor pair that used to move together) while every column on its
        own looks unchanged. If a classifier can tell production rows from training rows,
        the model is being used somewhere its training data did not cover, and the
        features it leans on say where.

    How to fix:
        Start with the features the domain classifier leans on: compare their joint
        distributions, and find the pipeline change or population change behind them.
        Retrain on data that covers the current population, or reweight the training
        rows by the domain classifier's odds (importance weighting) and re-evaluate.

    References:
        P6.3, P4.7 and P1.1 of the practices; Rabanser, Günnemann & Lipton, NeurIPS 2019
        (domain classifiers and MMD for dataset shift); Gretton et al., "A kernel
        two-sample test", JMLR 13, 2012; Hanley & McNeil, Radiology 143(1), 1982; Mason &
        Graham, "Areas beneath the ROC and ROC curves: statistical significance and
        interpretation", QJRMS 128, 2002; Hosmer & Lemeshow, Applied Logistic
        Regression, 2000; scikit-learn ``HistGradientBoostingClassifier``,
        ``permutation_importance``, ``rbf_kernel``.
    """

    id = "DR002"
    name = "multivariate-drift"
    area = "drift"
    severity = "medium"
    needs = frozenset({"current"})
    params = {
        "reference": Param(default="train", kind="str", choices=REFERENCE_ROLES, help="dataset the current sample is compared with"),
        "max_rows": Param(default=20_000, kind="int", low=50, high=10_000_000, help="rows per side for the domain classifier (balanced, seeded)"),
        "alpha": Param(default=0.05, kind="float", low=1e-6, high=0.5,
                       help="significance level of the AUC below which the features the classifier leans on are named"),
        "folds": Param(default=5, kind="int", low=2, high=20, help="stratified cross-validation folds of the domain classifier"),
        "max_iter": Param(default=100, kind="int", low=10, high=1000, help="boosting iterations of the domain classifier"),
        "n_repeats": Param(default=5, kind="int", low=1, high=100, help="shuffles per feature in the permutation importance"),
        "mmd_rows": Param(default=1000, kind="int", low=20, high=10_000, help="rows per side for the MMD test"),
        "n_permutations": Param(default=500, kind="int", low=50, high=100_000, help="relabellings in the MMD permutation test"),
        "max_levels": Param(default=50, kind="int", low=2, high=10_000, help="most frequent levels encoded per categorical column"),
        "min_rows": Param(default=30, kind="int", low=10, high=1_000_000, help="current rows below which the AUC is not judged (inconclusive)"),
        "backend": Param(default="scipy", kind="str", choices=BACKENDS, help="'alibi' runs the MMD test through alibi-detect (pip install auditor[alibi])"),
    }
    thresholds = {
        "domain_auc": Threshold(
            direction="above", warn=0.6, fail=0.7, low=0.5, high=1,
            help="cross-validated ROC AUC of a classifier telling current rows from reference rows",
        )
    }
    practices = ("P6.3", "P4.7", "P1.1")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.4", "nist_ai_rmf:MANAGE 4.1",
        "iso_42001:A.6.2.6",
    )
    references = (
        "Rabanser, Günnemann & Lipton, Failing loudly: an empirical study of methods for detecting dataset shift, NeurIPS 2019",
        "Gretton, Borgwardt, Rasch, Schölkopf & Smola, A kernel two-sample test, JMLR 13, 2012",
        "Hanley & McNeil, The meaning and use of the area under a ROC curve, Radiology 143(1), 1982",
        "Mason & Graham, Areas beneath the relative operating characteristics (ROC) and relative operating levels (ROL) curves: "
            "statistical significance and interpretation, QJRMS 128, 2002",
        "https://scikit-learn.org/stable/modules/permutation_importance.html",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance
        from sklearn.model_selection import StratifiedKFold

        reference = params["reference"]
        if (problem := _roles_problem(ctx, reference)) is not None:
            return _skip(problem)
        ref_frame, cur_frame = ctx.frame(reference), ctx.frame("current")
        cols = [c for c in ctx.features if c in ref_frame.columns and c in cur_frame.columns]
        if not cols:
            return _skip(f"the {reference} and current data share no model input column.")
        alibi = _alibi_cd() if params["backend"] == "alibi" else None
        seed = ctx.seed_for(self.id)
        per_side = min(int(params["max_rows"]), len(ref_frame), len(cur_frame))
        ref_idx, ref_rec = ctx.sample_index(reference, per_side, check_id=self.id)
        cur_idx, cur_rec = ctx.sample_index("current", per_side, check_id=self.id)
        sample = combine_samples({reference: ref_rec, "current": cur_rec}, seed)
        folds = int(params["folds"])
        if per_side < max(folds, 2):
            return Findings(
                summary=f"Could not train a domain classifier: {wording.count(per_side, 'row')} per side, at least {max(folds, 2)} are needed.",
                metrics={"domain_auc": Metric(None, description="cross-validated ROC AUC of current vs reference rows")},
                sample=sample,
            )
        ref_rows, cur_rows = ref_frame.iloc[ref_idx], cur_frame.iloc[cur_idx]
        x_ref, x_cur, categorical = _domain_matrix(ref_rows, cur_rows, cols, int(params["max_levels"]))
        X = np.vstack([x_ref, x_cur])
        y = np.r_[np.zeros(len(x_ref), dtype=int), np.ones(len(x_cur), dtype=int)]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed % (2**31))
        fold_scores, fold_labels = [], []
        importance_fold = None

        def classifier():
            return HistGradientBoostingClassifier(
                max_iter=int(params["max_iter"]), learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
                early_stopping=False, categorical_features=categorical if categorical.any() else None,
                random_state=seed % (2**31),
            )

        for k, (fit_rows, held_out) in enumerate(splitter.split(X, y)):
            model = classifier().fit(X[fit_rows], y[fit_rows])
            fold_scores.append(model.predict_proba(X[held_out])[:, 1])
            fold_labels.append(y[held_out])
            if k == 0:
                importance_fold = (model, held_out)
        auc, low, high, auc_p = cross_validated_auc(fold_scores, fold_labels)
        model, held_out = importance_fold
        imp = permutation_importance(
            model, X[held_out], y[held_out], scoring="roc_auc", n_repeats=int(params["n_repeats"]),
            random_state=seed % (2**31), n_jobs=1,
        )
        order = np.argsort(-imp.importances_mean, kind="stable")
        leaning = [i for i in order if imp.importances_mean[i] > 0][:MAX_ROWS]

        mmd_rows = min(int(params["mmd_rows"]), per_side)
        rng = ctx.rng(self.id)
        pick_ref = np.sort(rng.permutation(len(ref_rows))[:mmd_rows])
        pick_cur = np.sort(rng.permutation(len(cur_rows))[:mmd_rows])
        z_ref, z_cur = _embedding(ref_rows.iloc[pick_ref], cur_rows.iloc[pick_cur], cols, int(params["max_levels"]))
        if alibi is not None:
            sigma = median_bandwidth(np.vstack([z_ref, z_cur]))
            mmd2, mmd_p = _alibi_mmd(alibi, z_ref, z_cur, sigma=sigma, n_permutations=int(params["n_permutations"]), seed=seed)
        elif mmd_rows >= 2:
            mmd2, mmd_p, sigma = mmd_permutation_test(z_ref, z_cur, n_permutations=int(params["n_permutations"]), random_state=seed)
        else:
            mmd2 = mmd_p = sigma = None

        enough = len(cur_frame) >= int(params["min_rows"])
        evidence = [
            Evidence(
                title="Domain classifier and kernel two-sample test",
                columns=["test", "rows per side", "statistic", "value", "95% interval", "p"],
                rows=[
                    ["domain classifier (cross-validated)", per_side, "ROC AUC", _sig(auc), f"{low:.3f}-{high:.3f}", _sig(auc_p, 3)],
                    ["MMD, RBF kernel" + (" (alibi-detect)" if alibi is not None else ""), mmd_rows, "MMD²", _sig(mmd2), None, _sig(mmd_p, 3)],
                ],
                note=(
                    f"{folds}-fold stratified cross-validation, HistGradientBoostingClassifier with {int(params['max_iter'])} "
                    f"iterations, seed {seed}; AUC: mean over the held-out folds, p from the mean of their one-sided "
                    f"Mann-Whitney z-scores; MMD p from "
                    f"{int(params['n_permutations'])} permutations"
                    + (f", bandwidth σ = {sigma:.3g} (median heuristic)." if sigma is not None else ".")
                ),
            ),
            Evidence(
                title="Features the domain classifier leans on (permutation importance)",
                columns=["feature", "drop in ROC AUC", "sd over shuffles"],
                rows=[[_text(cols[i]), _sig(imp.importances_mean[i]), _sig(imp.importances_std[i])] for i in leaning],
                note=f"On the first held-out fold ({len(held_out):,} rows), {int(params['n_repeats'])} shuffles per feature; "
                     "features whose shuffling costs nothing are left out.",
            ),
        ]
        figures = []
        if leaning:
            shown = leaning[:10]
            figures.append(bar_chart(
                "What tells current rows from reference rows",
                [cols[i] for i in shown], {"drop in ROC AUC": [float(imp.importances_mean[i]) for i in shown]},
                "drop in the domain classifier's ROC AUC when the feature is shuffled",
                "Permutation importance on a held-out fold; longer bars: features whose distribution or relations moved most.",
            ))
        # Importances of a classifier that cannot tell the samples apart are noise: name
        # features only when the AUC is significant, and only those carrying a real share of
        # the top feature's importance.
        strong = [i for i in leaning[:3] if imp.importances_mean[i] >= NAMED_IMPORTANCE * imp.importances_mean[leaning[0]]]
        named = ", ".join(_text(cols[i]) for i in strong) if auc_p < float(params["alpha"]) else ""
        summary = (
            f"A classifier telling {wording.count(per_side, 'current row')} from as many {reference} rows reaches a "
            f"cross-validated ROC AUC of {auc:.3f} [{low:.3f}, {high:.3f}] (Mann-Whitney p = {auc_p:.2g}; 0.5 means "
            "indistinguishable)"
            + (f", leaning most on {named}" if named else "")
            + (f"; the kernel test gives MMD² = {mmd2:.3g} (permutation p = {mmd_p:.2g}) on {mmd_rows:,} rows per side." if mmd2 is not None else ".")
            + ("" if enough else f" Only {wording.count(len(cur_frame), 'current row')}: too few to judge (at least {int(params['min_rows'])}).")
        )
        return Findings(
            summary=summary,
            metrics={
                "domain_auc": Metric(auc if enough else None, low if enough else None, high if enough else None,
                                     description="cross-validated ROC AUC of a classifier telling current rows from reference rows "
                                                 "(95% Hanley-McNeil interval)"),
                "domain_auc_p_value": Metric(auc_p, description="one-sided test that the AUC exceeds 0.5 (mean of the folds' Mann-Whitney z-scores)",
                                             p_value=True),
                "mmd2": Metric(mmd2, description="unbiased squared MMD, RBF kernel with the median-heuristic bandwidth"),
                "mmd_p_value": Metric(mmd_p, description="permutation p-value of the MMD test", p_value=True),
            },
            evidence=evidence,
            figures=figures,
            recommendation=(
                f"Start with the features the classifier leans on ({named}): compare their joint distributions between "
                f"{reference} and current data and find the pipeline or population change behind them; retrain on data "
                "that covers the current population, or reweight training rows by the classifier's odds."
                if auc > 0.6 and named
                else "Nothing to change; the current rows are hard to tell from the reference rows."
            ),
            sample=sample,
        )


def _alibi_mmd(cd, x_ref: np.ndarray, x_cur: np.ndarray, *, sigma: float, n_permutations: int, seed: int) -> tuple[float, float]:
    """MMD² and permutation p-value from alibi-detect's MMDDrift (PyTorch backend, CPU).

    The Gaussian kernel's bandwidth is passed in, the same σ as the SciPy backend's, so
    that both report the same unbiased MMD² (alibi-detect's own median heuristic uses
    another convention); only the permutations differ.
    """
    try:
        import torch
    except ImportError as exc:
        raise RuntimeError(f"{ALIBI_MISSING}, and its MMD test needs PyTorch (`pip install torch`)") from exc
    torch.manual_seed(seed % (2**31))
    detector = cd.MMDDrift(
        x_ref.astype("float32"), backend="pytorch", p_val=0.05, sigma=np.array([sigma], dtype="float32"),
        configure_kernel_from_x_ref=False, n_permutations=n_permutations, device="cpu",
    )
    data = detector.predict(x_cur.astype("float32"), return_p_val=True, return_distance=True)["data"]
    return float(data["distance"]), float(data["p_val"])

"""FR005 proxy-features: inputs that stand in for a sensitive attribute."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.slicing import MISSING_LEVEL
from auditor.util.columns import is_numeric as _is_numeric
from auditor.util.lazy import lazy_module
from auditor.util.wording import shorten as _text

from ._common import (
    _SENSITIVE_PARAMS,
    MAX_ROWS,
    _ci_text,
    _missing_sensitive,
    _percentile_interval,
    _skip,
    group_codes,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")


def _proxy_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of a binary attribute, macro one-vs-rest ROC AUC of one with more groups."""
    from sklearn.metrics import roc_auc_score

    if scores.ndim == 1 or scores.shape[1] == 2:
        return float(roc_auc_score(y, scores if scores.ndim == 1 else scores[:, 1]))
    return float(roc_auc_score(y, scores, multi_class="ovr", average="macro", labels=np.arange(scores.shape[1])))


def _auc_interval(y: np.ndarray, scores: np.ndarray, *, n_resamples: int, confidence: float,
                  rng: np.random.Generator) -> tuple[float | None, float | None]:
    """Bootstrap interval of :func:`_proxy_auc` over rows.

    A single-input tree gives few distinct outputs, so the rows are summarised as distinct
    (label, output) cells; a resample is a multinomial draw of the cells' counts and its
    AUC is scikit-learn's, weighted by those counts (the same number as on the rows).
    """
    import sklearn

    out = scores.reshape(len(y), -1)
    table = np.column_stack([y, out])
    cells, inverse = np.unique(table, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), minlength=len(cells))
    cy, cs = cells[:, 0].astype(np.int64), cells[:, 1:]
    binary = cs.shape[1] <= 2
    k = cs.shape[1]
    values = []
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        values = _auc_draws(cy, cs, counts, binary=binary, k=k, n=len(y), n_resamples=n_resamples, rng=rng)
    return _percentile_interval(np.array(values, dtype="float64"), confidence)


def _auc_draws(cy, cs, counts, *, binary, k, n, n_resamples, rng) -> list[float]:
    from sklearn.metrics import roc_auc_score

    from auditor.toolkit.stats import weighted_auc_batched

    draws = rng.multinomial(n, counts / counts.sum(), size=n_resamples)
    if binary:  # every resample at once
        return list(weighted_auc_batched(cy == 1, cs[:, -1], draws.astype(float)))
    values = []
    for draw in draws:  # more than two groups: macro one-vs-rest, resample by resample
        keep = draw > 0
        try:
            values.append(roc_auc_score(cy[keep], cs[keep], sample_weight=draw[keep], multi_class="ovr",
                                        average="macro", labels=np.arange(k)))
        except ValueError:  # a resample without some group
            values.append(np.nan)
    return values


class ProxyFeatures(Check):
    """Inputs that stand in for a sensitive attribute

    What it checks:
        For each sensitive feature and each model input that is not itself sensitive, on a
        seeded sample of at most ``max_rows`` training rows: how well the input alone
        predicts the sensitive attribute. A shallow decision tree (depth ``max_depth``, at
        least ``min_samples_leaf`` rows per leaf) is fitted on that one input, a
        categorical input entering through scikit-learn's TargetEncoder fitted inside the
        folds, and scored out of fold (``cv`` stratified folds) by ROC AUC: for a
        two-group attribute the AUC of one group, for more groups the macro one-vs-rest
        AUC. Groups with fewer than ``min_group_rows`` sampled rows are left out. The
        mutual information between input and attribute (scikit-learn's
        ``mutual_info_classif``, in nats) is reported beside it. The judged metric
        ``max_proxy_auc`` is the highest AUC over inputs and attributes, with a bootstrap
        interval of that input's out-of-fold AUC: warn above 0.7, fail above 0.8. An AUC
        of 0.5 is no information; 0.7 is the usual bound of an "acceptable" discriminator
        and 0.8 of an "excellent" one (Hosmer & Lemeshow), that is an input that would
        recover the attribute well enough to discriminate on it.

    Why it matters:
        Leaving a sensitive attribute out of the inputs does not keep it out of the model:
        an input that predicts it lets the model reconstruct it ("fairness through
        unawareness" fails). Relationship status recovers sex; postcode recovers
        ethnicity. Knowing the proxies tells a reviewer where disparities can come from
        and what removing the attribute did not remove.

    How to fix:
        Ask whether each proxy is needed for the task and legitimate in itself; if not,
        drop or coarsen it. Where it must stay, measure disparities (FR002) with the
        attribute known, and mitigate them directly rather than hoping unawareness works.

    References:
        P8.1 and P1.9 of the practices; Barocas, Hardt & Narayanan, Fairness and Machine
        Learning (fairmlbook.org, 2023), chapter on classification; Datta et al. (2017),
        Proxy non-discrimination in data-driven systems, CCS; Hosmer & Lemeshow (2000),
        Applied Logistic Regression, 2nd ed.; scikit-learn ``mutual_info_classif``,
        ``TargetEncoder``, ``cross_val_predict``.
    """

    id = "FR005"
    name = "proxy-features"
    area = "fairness"
    severity = "high"
    needs = frozenset({"train", "sensitive"})
    params = {
        "min_group_rows": Param(default=30, kind="int", low=5, high=1_000_000,
                                help="sampled rows a group needs to be predicted; smaller groups are left out"),
        "max_levels": _SENSITIVE_PARAMS["max_levels"],
        "numeric_bins": _SENSITIVE_PARAMS["numeric_bins"],
        "max_rows": Param(default=5000, kind="int", low=100, high=1_000_000, help="training rows sampled"),
        "cv": Param(default=3, kind="int", low=2, high=10, help="cross-validation folds"),
        "max_depth": Param(default=4, kind="int", low=1, high=20, help="depth of each single-input tree"),
        "min_samples_leaf": Param(default=20, kind="int", low=1, high=10000, help="rows per leaf of each tree"),
        "n_resamples": Param(default=100, kind="int", low=50, high=10000,
                             help="bootstrap resamples for the top AUC's interval (scikit-learn's AUC costs milliseconds a call)"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the interval"),
    }
    thresholds = {
        "max_proxy_auc": Threshold(direction="above", warn=0.7, fail=0.8, low=0.5, high=1,
                                   help="highest cross-validated AUC of one input predicting a sensitive attribute"),
    }
    practices = ("P8.1", "P1.9")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.11", "iso_42001:A.5.4")
    references = (
        "Barocas, Hardt & Narayanan, Fairness and Machine Learning, fairmlbook.org (2023)",
        "Datta et al. (2017), Proxy non-discrimination in data-driven systems, CCS",
        "https://scikit-learn.org/stable/modules/generated/sklearn.feature_selection.mutual_info_classif.html",
    )

    def run(self, ctx, params):
        from sklearn.feature_selection import mutual_info_classif
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import TargetEncoder
        from sklearn.tree import DecisionTreeClassifier

        missing = _missing_sensitive(ctx, "train")
        if missing:
            return _skip(f"the training data lacks the sensitive column(s) {', '.join(repr(c) for c in missing)}.")
        train = ctx.frame("train")
        inputs = [c for c in ctx.features if c not in ctx.sensitive and c in train.columns]
        if not inputs:
            return _skip("the model has no inputs other than the sensitive features, so none can stand in for them.")
        seed, conf = ctx.seed_for(self.id), params["confidence"]
        idx, sample = ctx.sample_index("train", params["max_rows"], check_id=self.id)
        frame = train.iloc[idx].reset_index(drop=True)
        columns: dict[str, tuple[np.ndarray, bool]] = {}
        for col in inputs:
            s = frame[col]
            if _is_numeric(s):
                x = s.to_numpy(dtype="float64", na_value=np.nan)
                columns[col] = (np.where(np.isfinite(x), x, np.nan), True)
            else:
                text = s.astype(str).to_numpy(dtype=object)
                text[s.isna().to_numpy()] = MISSING_LEVEL
                columns[col] = (text, False)

        results, notes = [], []
        best: tuple[float, str, str, np.ndarray, np.ndarray] | None = None
        for attr in ctx.sensitive:
            codes, groups = group_codes(frame[attr], max_levels=params["max_levels"], numeric_bins=params["numeric_bins"])
            sizes = np.bincount(codes, minlength=len(groups))
            kept = np.flatnonzero(sizes >= max(params["min_group_rows"], params["cv"]))
            if len(kept) < len(groups):
                notes.append(f"{_text(attr)}: left out "
                             f"{', '.join(_text(groups[g]) for g in np.flatnonzero(sizes < max(params['min_group_rows'], params['cv']))[:5])}")
            if len(kept) < 2:
                notes.append(f"{_text(attr)} has fewer than two groups with enough sampled rows; not assessed")
                continue
            rows = np.isin(codes, kept)
            target = np.searchsorted(kept, codes[rows])
            folds = StratifiedKFold(n_splits=params["cv"], shuffle=True, random_state=seed)
            mi_matrix = np.column_stack([
                np.nan_to_num(x[rows], nan=float(np.nanmedian(x[rows])) if np.isfinite(x[rows]).any() else 0.0) if numeric
                else pd.factorize(pd.Series(x[rows], dtype=object))[0]
                for x, numeric in columns.values()
            ]).astype("float64")
            discrete = np.array([not numeric for _, numeric in columns.values()])
            mi = mutual_info_classif(mi_matrix, target, discrete_features=discrete, random_state=seed)
            for (col, (x, numeric)), info in zip(columns.items(), mi):
                tree = DecisionTreeClassifier(max_depth=params["max_depth"], min_samples_leaf=params["min_samples_leaf"], random_state=seed)
                model = tree if numeric else make_pipeline(TargetEncoder(cv=KFold(5, shuffle=True, random_state=seed)), tree)
                X = x[rows].reshape(-1, 1)
                if numeric and not np.isfinite(X).any():
                    continue
                oof = cross_val_predict(model, X, target, cv=folds, method="predict_proba")
                auc = _proxy_auc(target, oof)
                results.append([_text(attr), _text(col), auc, float(info), len(kept)])
                if best is None or auc > best[0]:
                    best = (auc, str(attr), str(col), target, oof)
        sample["rows_used"] = len(frame)
        if best is None:
            return Findings(summary="Could not assess proxies: " + "; ".join(notes) + ".", sample=sample,
                            metrics={"max_proxy_auc": Metric(None, description="highest single-input AUC for a sensitive attribute")})
        auc, attr, col, target, oof = best
        low, high = _auc_interval(target, oof, n_resamples=params["n_resamples"], confidence=conf, rng=ctx.rng(self.id))
        results.sort(key=lambda r: (-r[2], r[0], r[1]))
        strong = [r for r in results if r[2] > 0.7]
        metrics = {
            "max_proxy_auc": Metric(auc, low, high, description=f"cross-validated AUC of {col} predicting {attr} ({conf:.0%} bootstrap interval)"),
            "max_mutual_information": Metric(max(r[3] for r in results),
                                             description="highest mutual information between an input and a sensitive attribute (nats)"),
            "inputs_assessed": Metric(len(inputs), description="model inputs other than the sensitive features"),
        }
        summary = (f"The strongest proxy is {_text(col)}, which predicts {_text(attr)} with a cross-validated AUC of "
                   f"{_ci_text(auc, low, high)} from {len(frame):,} training rows")
        others = [r for r in results[1:4] if r[2] > 0.6]
        if others:
            summary += "; next: " + ", ".join(f"{r[1]} for {r[0]} ({r[2]:.3f})" for r in others)
        summary += "."
        if notes:
            summary += " " + "; ".join(notes) + "."
        note = (f"Out-of-fold AUC of a depth-{params['max_depth']} tree on the input alone ({params['cv']} folds; "
                f"categorical inputs target-encoded inside the folds); mutual information in nats. 0.5 is no information.")
        if len(results) > MAX_ROWS:
            note += f" Showing {MAX_ROWS} of {len(results)} pairs."
        return Findings(
            summary=summary,
            metrics=metrics,
            evidence=[Evidence(title="How well each input predicts each sensitive attribute",
                               columns=["sensitive attribute", "input", "AUC", "mutual information", "groups"],
                               rows=results[:MAX_ROWS], note=note)],
            recommendation=(
                f"Review the inputs that predict a sensitive attribute ({', '.join(r[1] for r in strong[:5])}): keep one only "
                "if it is needed and legitimate in itself, and measure disparities (FR002) with the attribute known rather "
                "than relying on its absence from the inputs."
                if strong else "No input recovers a sensitive attribute well; keep measuring disparities directly."
            ),
            sample=sample,
        )

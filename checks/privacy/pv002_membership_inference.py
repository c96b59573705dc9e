"""PV002: membership inference, the loss-threshold attack on the training rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.evaluation import model_outputs
from auditor.toolkit.figures import new_figure, to_svg
from auditor.toolkit.stats import bootstrap_ci, metric_function
from auditor.util import wording
from auditor.util.lazy import lazy_attribute, lazy_module

from ._common import NOT_APPLICABLE

np = lazy_module("numpy")
roc_auc_score = lazy_attribute("sklearn.metrics", "roc_auc_score")
roc_curve = lazy_attribute("sklearn.metrics", "roc_curve")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext


CLIP = 1e-15


def membership_advantage(member: np.ndarray, score: np.ndarray) -> float:
    """max over thresholds of TPR - FPR of the attack (Yeom et al. 2018), from ``roc_curve``."""
    fpr, tpr, _ = roc_curve(member, score)
    return float(np.max(tpr - fpr))


def _membership_advantage_batched(member: np.ndarray, score: np.ndarray) -> np.ndarray:
    """:func:`membership_advantage` of every row of (resamples, rows) arrays at once (the
    bootstrap's vectorised form; equal to ``roc_curve``'s on each row, tested).

    Rows sorted by falling score, TPR - FPR is read where a threshold can fall: after the
    last of each run of tied scores, and before the first row (the (0, 0) point). NaN
    where a resample lacks members or non-members (``roc_curve`` has no rates then).
    """
    order = np.argsort(-score, axis=-1, kind="stable")
    s = np.take_along_axis(score, order, axis=-1)
    m = np.take_along_axis(member, order, axis=-1).astype(bool)
    positives = m.sum(axis=-1, keepdims=True)
    negatives = m.shape[-1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.cumsum(m, axis=-1) / positives - np.cumsum(~m, axis=-1) / negatives
    boundary = np.ones_like(m)
    boundary[..., :-1] = s[..., :-1] != s[..., 1:]
    best = np.max(np.where(boundary, gap, -np.inf), axis=-1)
    best = np.maximum(best, 0.0)  # the threshold above every score: TPR = FPR = 0
    return np.where((positives[..., 0] > 0) & (negatives[..., 0] > 0), best, np.nan)


membership_advantage.batched = _membership_advantage_batched


def per_row_loss(ctx: AuditContext, out) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Each row's loss on its true label, the model's confidence (max probability) and the loss's name.

    Classification with probabilities: cross-entropy (-log of the true class's
    probability, clipped at 1e-15); without: 0/1 loss. Regression: squared error.
    Rows whose label is not a known class are NaN.
    """
    if not ctx.is_classification:
        return (out.y - out.pred) ** 2, None, "squared error"
    proba = ctx.probabilities(out.role)
    known = out.y >= 0
    if proba is None:
        loss = (out.y != out.pred).astype(float)
        loss[~known] = np.nan
        return loss, None, "0/1 loss"
    rows = proba[out.rows]
    p_true = np.full(len(out), np.nan)
    p_true[known] = rows[np.flatnonzero(known), out.y[known]]
    return -np.log(np.clip(p_true, CLIP, 1.0)), rows.max(axis=1), "cross-entropy"


def _roc_figure(member: np.ndarray, score: np.ndarray, auc: float):
    fpr, tpr, _ = roc_curve(member, score)
    fig = new_figure(4.6, 4.2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="chance")
    ax.plot(fpr, tpr, color="#3b5b92", linewidth=2, label=f"loss attack (AUC {auc:.3f})")
    ax.set_xlabel("false positive rate (test rows called members)")
    ax.set_ylabel("true positive rate (training rows called members)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return to_svg(fig, title="Membership inference: ROC curve of the loss-threshold attack",
                  caption="An attack no better than chance follows the dashed diagonal.")


class MembershipInference(Check):
    """Membership inference: can an attacker tell training rows from unseen rows?

    What it checks:
        The loss-threshold attack of Yeom et al. (2018): on a balanced, seeded sample of
        at most ``max_rows`` labelled training rows and as many labelled test rows, each
        row's loss on its true label (classification: cross-entropy of the predicted
        probabilities, or 0/1 loss when the model gives none; regression: squared error)
        is the attacker's evidence, and a row with a lower loss is guessed to be a
        training row. ``attack_auc`` is the attack's ROC AUC (scikit-learn
        ``roc_auc_score``, training rows = 1, score = minus the loss) with a bootstrap
        interval over the pooled rows: warn above 0.6, fail above 0.7; inconclusive when
        the interval contains 0.7. An AUC of 0.5 means the attacker learns nothing; 0.6
        means a training row has the lower loss of a random (training, test) pair 60% of
        the time. The levels are conventions, not a standard: set them in the policy to
        the risk the data carry. For a classifier that fits every training row with
        certainty, the AUC is 0.5 + (test error) / 2 and the advantage is the test error:
        it fails once that error passes 0.4, typically on noisy labels.

        Reported, not judged: ``membership_advantage``, the largest TPR - FPR over
        thresholds (Yeom et al.'s advantage, an upper bound on what one threshold
        achieves on these rows, so slightly optimistic), with a bootstrap interval; and,
        for classifiers with probabilities, ``confidence_attack_auc``, the AUC of the
        label-free attack that uses the model's top probability.

        The attack only measures what it should when the training data given is the data
        the model was fitted on; a model fitted elsewhere reads about 0.5.

    Why it matters:
        If the model's behaviour on a record reveals whether that record was in its
        training data, anyone who can query the model learns who is in the data set (a
        patient in a hospital's data, a customer in a defaulters' list): a privacy
        breach that needs no access to the data itself. Membership leakage grows with
        overfitting and is the first step of stronger attacks (attribute inference,
        training-data extraction).

    How to fix:
        Reduce memorisation: regularise (L2 / weight decay, dropout, shallower trees,
        larger leaves, fewer boosting rounds), stop early, and train on more data.
        Where the data are sensitive, train with differential privacy (DP-SGD with
        Opacus, diffprivlib for scikit-learn models), which bounds the advantage of any
        membership attack; return labels or rounded probabilities instead of full
        scores from the serving API.

    References:
        P8.2 and P3.3 of the practices; Yeom, Giacomelli, Fredrikson & Jha (2018),
        Privacy risk in machine learning: analyzing the connection to overfitting, IEEE
        CSF; Shokri, Stronati, Song & Shmatikov (2017), Membership inference attacks
        against machine learning models, IEEE S&P; Carlini et al. (2022), Membership
        inference attacks from first principles, IEEE S&P.
    """

    id = "PV002"
    name = "membership-inference"
    area = "privacy"
    severity = "high"
    needs = frozenset({"train", "test", "predictions", "train_predictions"})
    params = {
        "max_rows": Param(default=5000, kind="int", low=20, high=10_000_000, help="training rows and test rows used at most, each (a seeded sample above)"),
        "min_rows": Param(default=50, kind="int", low=10, high=1_000_000, help="fewest labelled rows per side for an estimate"),
        "n_resamples": Param(default=200, kind="int", low=50, high=10000, help="bootstrap resamples for the intervals"),
        "confidence": Param(default=0.95, kind="float", low=0.5, high=0.999, help="confidence level of the intervals"),
    }
    thresholds = {
        "attack_auc": Threshold(
            direction="above", warn=0.6, fail=0.7, low=0.5, high=1,
            help="ROC AUC of the loss-threshold attack telling training rows from test rows",
        ),
    }
    practices = ("P8.2", "P3.3")
    clauses = (
        "eu_ai_act:Art. 9", "eu_ai_act:Art. 15",
        "nist_ai_rmf:MEASURE 2.7", "nist_ai_rmf:MEASURE 2.10",
        "iso_42001:A.5.4",
    )
    references = (
        "Yeom, Giacomelli, Fredrikson & Jha (2018), Privacy risk in machine learning: analyzing the connection to overfitting, IEEE CSF",
        "Shokri, Stronati, Song & Shmatikov (2017), Membership inference attacks against machine learning models, IEEE S&P",
        "Carlini, Chien, Nasr, Song, Terzis & Tramèr (2022), Membership inference attacks from first principles, IEEE S&P",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        seed = ctx.seed_for(self.id)
        rng = np.random.default_rng(seed)
        labelled = {}
        for role in ("train", "test"):
            y = ctx.y(role)
            labelled[role] = np.array([], dtype=np.int64) if y is None else np.flatnonzero(y.notna().to_numpy())
        n_each = min(len(labelled["train"]), len(labelled["test"]), int(params["max_rows"]))
        records = {
            role: {"role": role, "rows_used": int(n_each), "rows_available": len(ctx.frame(role)), "seed": seed}
            for role in ("train", "test")
        }
        sample = combine_samples(records, seed)
        if n_each < int(params["min_rows"]):
            return Findings(
                status="inconclusive", sample=sample,
                summary=(
                    f"Inconclusive: {wording.count(n_each, 'labelled row')} per side (training and test); at least "
                    f"{params['min_rows']} are needed to measure an attack."
                ),
            )
        outs = {
            role: model_outputs(ctx, role, np.sort(rng.choice(labelled[role], size=n_each, replace=False)))
            for role in ("train", "test")
        }
        loss_tr, conf_tr, loss_name = per_row_loss(ctx, outs["train"])
        loss_te, conf_te, _ = per_row_loss(ctx, outs["test"])
        loss = np.concatenate([loss_tr, loss_te])
        member = np.concatenate([np.ones(len(loss_tr), dtype=np.int64), np.zeros(len(loss_te), dtype=np.int64)])
        keep = np.isfinite(loss)
        loss, member = loss[keep], member[keep]
        if member.min() == member.max():
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: no training or no test row has a label the model knows.")
        score = -loss
        level, n_res = float(params["confidence"]), int(params["n_resamples"])
        auc_fn = metric_function("roc_auc", task="binary", positive_label=1)  # with a batched form for the resamples
        auc, low, high = bootstrap_ci(auc_fn, member, score, n_resamples=n_res, confidence=level, random_state=seed)
        adv, adv_low, adv_high = bootstrap_ci(membership_advantage, member, score, n_resamples=n_res, confidence=level,
                                              random_state=seed)
        metrics = {
            "attack_auc": Metric(auc, low, high, description=f"ROC AUC of the loss-threshold attack ({loss_name}), training rows vs test rows"),
            "membership_advantage": Metric(adv, adv_low, adv_high, description="largest TPR - FPR of the attack over thresholds (Yeom et al. 2018)"),
        }
        rows = [["loss threshold", loss_name, round(auc, 4), _round(low), _round(high), round(adv, 4)]]
        if conf_tr is not None:
            conf = np.concatenate([conf_tr, conf_te])[keep]
            c_auc = float(roc_auc_score(member, conf))
            metrics["confidence_attack_auc"] = Metric(c_auc, description="ROC AUC of the attack that scores rows by the model's top probability")
            rows.append(["confidence", "top probability", round(c_auc, 4), NOT_APPLICABLE, NOT_APPLICABLE,
                         round(membership_advantage(member, conf), 4)])
        mean_tr, mean_te = float(np.nanmean(loss_tr)), float(np.nanmean(loss_te))
        metrics["train_mean_loss"] = Metric(mean_tr, description=f"mean {loss_name} on the sampled training rows")
        metrics["test_mean_loss"] = Metric(mean_te, description=f"mean {loss_name} on the sampled test rows")
        interval = f" ({level:.0%} CI {low:.3f} to {high:.3f})" if low is not None else ""
        return Findings(
            summary=(
                f"A loss-threshold attack ({loss_name}) tells the model's training rows from its test rows with ROC AUC {auc:.3f}"
                f"{interval} on {n_each:,} rows of each; the membership advantage is {adv:.3f} (0.5 and 0 mean no leakage)."
            ),
            metrics=metrics,
            evidence=[
                Evidence(
                    title="Membership inference attacks",
                    columns=["attack", "score", "ROC AUC", "CI low", "CI high", "advantage (max TPR - FPR)"],
                    rows=rows,
                    note=f"{n_each:,} training and {n_each:,} test rows, seed {seed}; percentile bootstrap, {n_res} resamples.",
                ),
                Evidence(
                    title=f"Per-row {loss_name}",
                    columns=["rows", "mean", "median", "share with zero loss"],
                    rows=[[name, round(float(np.nanmean(x)), 6), round(float(np.nanmedian(x)), 6),
                           round(float(np.nanmean(x <= 1e-12)), 6)]
                          for name, x in (("training", loss_tr), ("test", loss_te))],
                ),
            ],
            figures=[_roc_figure(member, score, auc)],
            recommendation=(
                "If the attack does better than chance, reduce memorisation (regularisation, early stopping, more data) "
                "and, for sensitive data, train with differential privacy; expose labels or rounded scores rather than "
                "full probabilities."
            ),
            sample=sample,
        )


def _round(value: float | None) -> float | str:
    return NOT_APPLICABLE if value is None else round(value, 4)

"""EX005 local-explanation-stability: how much a row's attributions move under tiny input changes."""

from __future__ import annotations

import numpy as np

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.util import wording

from ._common import (
    BACKGROUND,
    FAMILY,
    ROWS,
    _skip,
)
from ._shap import (
    attributions,
)


class LocalStability(Check):
    """Local stability of single-row explanations

    What it checks:
        For ``local_rows`` test rows, how much the row's SHAP attributions change when its
        numeric inputs move a little: each row gets ``perturbations`` copies with Gaussian
        noise of ``scale`` robust standard deviations (the training rows' interquartile
        range / 1.349) on every numeric feature (immutable features, and features whose
        middle half is a single value such as a spike at zero, untouched; declared bounds
        respected). The local Lipschitz
        estimate of a row is the largest ``||attribution change|| / ||input change||`` over
        its copies, with the input change in standard deviations and the attribution
        change relative to the mean attribution norm of the sampled rows; the row and its
        copies are explained with the same explainer seed, so the explainer's own
        randomness does not count. Judged: ``unstable_row_share``, the share of rows whose
        estimate exceeds ``max_lipschitz``: warn above 0.10, fail above 0.25. The least
        stable rows are listed.

    Why it matters:
        A single-row explanation is what a customer, a case worker or an auditor sees ("you
        were declined because of X"). If a change far below measurement error rewrites
        that explanation, it explains the model's jitter, not the decision, and two nearly
        identical people get different reasons.

    How to fix:
        Smooth the model (stronger regularisation, monotonic or smoothness constraints,
        fewer and larger leaves, ensembling); explain with a larger background and more
        permutations; and do not show single-row explanations for rows listed here.

    References:
        Alvarez-Melis & Jaakkola (2018), On the robustness of interpretability methods,
        ICML workshop on human interpretability, arXiv:1806.08049.
        Ghorbani, Abid & Zou (2019), Interpretation of neural networks is fragile, AAAI.
    """

    id = "EX005"
    name = "local-explanation-stability"
    area = "explainability"
    shares_work = FAMILY  # the importances and SHAP values are computed once, in one process
    severity = "low"
    needs = frozenset({"test", "model"})
    params = {
        "local_rows": Param(default=20, kind="int", low=5, high=10_000, help="test rows whose explanations are perturbed"),
        "perturbations": Param(default=4, kind="int", low=1, high=100, help="perturbed copies per row"),
        "scale": Param(default=0.05, kind="float", low=0.001, high=1.0, help="noise, in robust standard deviations (IQR / 1.349) of each numeric feature"),
        "max_lipschitz": Param(default=5.0, kind="float", low=0.1, high=1000.0,
                               help="relative local Lipschitz estimate above which a row's explanation counts as unstable"),
        "rows": ROWS, "background": BACKGROUND,
    }
    thresholds = {
        "unstable_row_share": Threshold(direction="above", warn=0.10, fail=0.25, low=0, high=1,
                                        help="share of rows whose attributions change much more than their inputs"),
    }
    practices = ("P5.2", "P5.4")
    clauses = ("eu_ai_act:Art. 13", "eu_ai_act:Art. 14", "nist_ai_rmf:MEASURE 2.9", "iso_42001:A.6.2.4")
    references = (
        "Alvarez-Melis & Jaakkola (2018), On the robustness of interpretability methods, arXiv:1806.08049",
        "Ghorbani, Abid & Zou (2019), Interpretation of neural networks is fragile, AAAI",
    )

    def run(self, ctx, params):
        from auditor.util.columns import is_numeric

        test = ctx.X("test")
        if len(test) == 0:
            return _skip("the test data has no rows")
        domains = ctx.feature_domains or {}
        from scipy.stats import iqr

        spread_source = ctx.X("train") if ctx.has("train") else test
        candidates = [c for c in ctx.features if is_numeric(test[c]) and not (domains.get(c) or {}).get("immutable")]
        # The spread is the IQR scaled to a normal's sd: a column whose middle half is one value (a spike
        # at zero, such as capital gains) has none, and noise on it would leave the data's support.
        spreads = {c: float(iqr(spread_source[c].to_numpy(dtype=float, na_value=np.nan), scale="normal", nan_policy="omit"))
                   for c in candidates}
        numeric = [c for c in candidates if np.isfinite(spreads[c]) and spreads[c] > 0]
        spiky = [c for c in candidates if c not in numeric]
        if not numeric:
            return _skip("no mutable numeric input with a spread to perturb"
                         + (f" ({', '.join(spiky[:5])} have a zero interquartile range)" if spiky else ""))
        idx, sample = ctx.sample_index("test", params["local_rows"], check_id=self.id)
        rows = test.iloc[idx].reset_index(drop=True)
        sd = np.array([spreads[c] for c in numeric])
        rng = ctx.rng(self.id)
        j = params["perturbations"]
        copies = rows.loc[rows.index.repeat(j)].reset_index(drop=True)
        noise = rng.normal(0.0, params["scale"], size=(len(copies), len(numeric)))
        for k, col in enumerate(numeric):
            values = copies[col].to_numpy(dtype=float, na_value=np.nan) + noise[:, k] * sd[k]
            dom = domains.get(col) or {}
            values = np.clip(values, dom.get("min", -np.inf), dom.get("max", np.inf))
            copies[col] = values  # floats even for an integer column: a tiny step must survive
        explainer = attributions(ctx, background=params["background"])
        seeds = ctx.seed_for(self.id) + np.arange(len(rows))
        phi = explainer.explain(rows, seeds).reshape(len(rows), -1)
        phi_copies = explainer.explain(copies, np.repeat(seeds, j)).reshape(len(rows), j, -1)
        scale = float(np.mean(np.linalg.norm(phi, axis=1)))
        if not scale > 0:
            return Findings(status="inconclusive", sample=sample,
                            summary="Inconclusive: every sampled row's attributions are zero, so their change cannot be scaled.")
        base = rows[numeric].to_numpy(dtype=float, na_value=np.nan)
        moved = copies[numeric].to_numpy(dtype=float, na_value=np.nan).reshape(len(rows), j, -1)
        step = np.linalg.norm(np.nan_to_num((moved - base[:, None, :]) / sd), axis=2)
        change = np.linalg.norm(phi_copies - phi[:, None, :], axis=2) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(step > 0, change / step, 0.0)
        lipschitz = ratio.max(axis=1)
        unstable = lipschitz > params["max_lipschitz"]
        share = float(unstable.mean())
        metrics = {
            "unstable_row_share": Metric(share, description=f"share of rows with a local Lipschitz estimate above {params['max_lipschitz']}"),
            "median_lipschitz": Metric(float(np.median(lipschitz)), description="median relative local Lipschitz estimate"),
            "max_lipschitz": Metric(float(lipschitz.max()), description="largest relative local Lipschitz estimate"),
        }
        worst = np.argsort(-lipschitz, kind="stable")[:10]
        features = list(ctx.features)
        flat_names = [f for f in features for _ in range(phi.shape[1] // len(features))]
        table = []
        for w in worst:
            delta = np.abs(phi_copies[w] - phi[w]).max(axis=0)
            table.append([int(idx[w]), float(lipschitz[w]), float(change[w].max()), flat_names[int(np.argmax(delta))],
                          "yes" if unstable[w] else ""])
        summary = (f"Of {len(rows)} test rows, {wording.count(int(unstable.sum()), 'row')} "
                   f"({wording.share(share)}) {'has' if int(unstable.sum()) == 1 else 'have'} explanations that change "
                   f"more than {params['max_lipschitz']} times as much "
                   f"as their inputs (noise of {params['scale']} robust standard deviations, {j} copies per row); the median "
                   f"local Lipschitz estimate is {np.median(lipschitz):.2f}, the largest {lipschitz.max():.2f}.")
        if spiky:
            summary += (f" Not perturbed (a zero interquartile range: noise would leave the data's support): "
                        f"{', '.join(wording.shorten(c) for c in spiky[:8])}.")
        return Findings(
            summary=summary, metrics=metrics, sample=sample,
            evidence=[Evidence(
                title="Least stable explanations",
                columns=["test row", "local Lipschitz", "largest relative attribution change", "feature that moved most", "unstable"],
                rows=table,
                note=(f"Attributions: {explainer.description}. Input change in robust standard deviations "
                      f"(IQR / 1.349) of the {'training' if ctx.has('train') else 'test'} data; attribution change relative to the mean attribution "
                      f"norm ({scale:.4g} {explainer.units})."),
            )],
            recommendation=("Single-row explanations are stable under small input changes." if not unstable.any() else
                            "Do not show single-row explanations for the rows listed; smooth the model (regularisation, "
                            "monotonic constraints, larger leaves) and check again."),
        )

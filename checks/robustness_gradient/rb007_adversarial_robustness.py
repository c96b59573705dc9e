"""RB007 adversarial-robustness: accuracy under gradient-based adversarial perturbation (FGSM, PGD)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import MAX_EVIDENCE_ROWS, Evidence, Findings, Metric
from auditor.util import wording

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from auditor.contract.context import AuditContext

MIN_ROWS = 30
MAX_ROWS = MAX_EVIDENCE_ROWS


# -- the attacks (PyTorch autograd) ------------------------------------------------------
def _loss_gradient(loss_fn: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    import torch

    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(z).sum()
        (grad,) = torch.autograd.grad(loss, z)
    return grad


def _project(z_adv: torch.Tensor, z: torch.Tensor, radius: torch.Tensor, low: torch.Tensor,
             high: torch.Tensor) -> torch.Tensor:
    """Back into the box: at most ``radius`` from ``z`` per input, and inside ``[low, high]``."""
    import torch

    delta = torch.maximum(torch.minimum(z_adv - z, radius), -radius)
    return torch.maximum(torch.minimum(z + delta, high), low).detach()


def fgsm(loss_fn, z: torch.Tensor, radius: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Fast gradient sign method: one step of ``radius`` along the sign of the loss gradient.

    ``loss_fn`` maps a batch of inputs to per-row losses (the labels bound inside it);
    ``radius``, ``low`` and ``high`` broadcast against ``z`` (a zero radius freezes an input).
    """
    grad = _loss_gradient(loss_fn, z)
    return _project(z + radius * grad.sign(), z, radius, low, high)


def pgd(loss_fn, z: torch.Tensor, radius: torch.Tensor, low: torch.Tensor, high: torch.Tensor, *,
        steps: int, step_fraction: float = 2.5) -> torch.Tensor:
    """Projected gradient descent (Madry et al.): ``steps`` signed-gradient steps of
    ``step_fraction * radius / steps`` each, projected back into the box after each; starts
    at the clean input (no random start, so the result is deterministic). Keeps, per row,
    the iterate with the highest loss."""
    import torch

    step = step_fraction * radius / steps
    z_adv = z.detach().clone()
    best, best_loss = z_adv.clone(), loss_fn(z_adv).detach()
    for _ in range(steps):
        grad = _loss_gradient(loss_fn, z_adv)
        z_adv = _project(z_adv + step * grad.sign(), z, radius, low, high)
        with torch.no_grad():
            loss = loss_fn(z_adv)
        better = loss > best_loss
        best[better] = z_adv[better]
        best_loss = torch.where(better, loss, best_loss)
    return best


# -- the check ---------------------------------------------------------------------------
def _positive_numbers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)


def _wilson(flags: np.ndarray, description: str) -> Metric:
    from scipy import stats

    n = len(flags)
    ci = stats.binomtest(int(np.sum(flags)), n).proportion_ci(confidence_level=0.95, method="wilson")
    return Metric(float(np.mean(flags)), float(ci.low), float(ci.high), description=description)


class AdversarialRobustness(Check):
    """Accuracy under gradient-based adversarial perturbation (FGSM, PGD)

    What it checks:
        For a differentiable model (a PyTorch network), searches each sampled test row's
        neighbourhood for the perturbation that most increases the network's loss on the
        row's true label: FGSM (one signed-gradient step) and PGD (``pgd_steps``
        projected steps), at several budgets ``epsilons`` (default 0.01, 0.05, 0.1, 0.25,
        0.5). A budget is measured in standardised units: every mutable numeric feature
        may move by at most epsilon x its standard deviation in the training data, all
        at once. Immutable features and values outside a declared ``[min, max]`` stay as
        they are, and perturbed values stay inside the declared bounds. Per budget:
        accuracy on clean rows, under FGSM and under PGD, drawn as a degradation curve.
        Judged: the share of sampled labelled rows the model classifies correctly but
        gets wrong under either attack at ``judge_epsilon`` (0.1 standard deviation),
        with a Wilson interval: warn above 0.10, fail above 0.25. A smooth model loses
        only rows within that distance of its decision boundary (a logistic model on
        typical data: about 5%); a network whose decision hinges on fine-scale variation
        of one feature loses most of them. Non-differentiable models are skipped.

    Why it matters:
        Random noise (RB001) rarely finds a model's weakest direction; an adversary, or
        an unlucky systematic measurement error, does. A network that changes its answer
        when a few features move by a tenth of their natural spread in the worst
        direction has learnt a decision surface far sharper than its data supports, and
        its accuracy is fragile to small, structured shifts.

    How to fix:
        Regularise (weight decay, dropout, smaller networks, early stopping), standardise
        inputs so no feature needs huge weights, train with adversarial or noise
        augmentation (adversarial training with PGD), penalise input gradients, and
        question features whose fine-scale variation the decision depends on.

    References:
        Goodfellow, Shlens & Szegedy (2015), Explaining and harnessing adversarial
        examples, ICLR (FGSM).
        Madry et al. (2018), Towards deep learning models resistant to adversarial
        attacks, ICLR (PGD).
    """

    id = "RB007"
    name = "adversarial-robustness"
    area = "robustness"
    severity = "medium"
    needs = frozenset({"test", "model", "gradients"})
    tasks = frozenset({"binary", "multiclass"})
    params = {
        "max_rows": Param(default=1000, kind="int", low=1, help="test rows attacked at most (a seeded sample above)"),
        "epsilons": Param(default=[0.01, 0.05, 0.1, 0.25, 0.5], kind="list",
                          help="attack budgets, as multiples of each feature's standard deviation"),
        "judge_epsilon": Param(default=0.1, kind="float", low=1e-6, high=10.0,
                               help="the budget whose accuracy loss is judged (added to the epsilons if absent)"),
        "pgd_steps": Param(default=10, kind="int", low=1, high=1000, help="projected gradient steps of PGD"),
    }
    thresholds = {
        "adversarial_accuracy_drop": Threshold(
            direction="above", warn=0.10, fail=0.25, low=0, high=1,
            help="share of rows correct on clean input but wrong under FGSM or PGD at judge_epsilon x std"),
    }
    practices = ("P3.3", "P7.2", "P4.3")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.7", "iso_42001:A.6.2.4")
    references = (
        "Goodfellow, Shlens & Szegedy (2015), Explaining and harnessing adversarial examples, ICLR",
        "Madry et al. (2018), Towards deep learning models resistant to adversarial attacks, ICLR",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        import pandas as pd
        import torch
        import torch.nn.functional as F

        from auditor.toolkit.stats import encode_labels
        from auditor.util.columns import is_numeric

        if not _positive_numbers(params["epsilons"]):
            raise ValueError(f"params.epsilons of RB007 must be a non-empty list of positive numbers; got {params['epsilons']!r}.")
        judge = float(params["judge_epsilon"])
        epsilons = sorted({float(v) for v in params["epsilons"]} | {judge})
        idx, record = ctx.sample_index("test", params["max_rows"], check_id=self.id)
        X = ctx.X("test").iloc[idx].reset_index(drop=True)
        y = ctx.y("test")
        if y is None:
            return Findings(summary="Skipped: the test data has no target column to attack against.", status="skipped", sample=record)
        classes = list(ctx.classes or [])
        codes = encode_labels(y.to_numpy()[idx], classes)
        keep = codes >= 0
        X, codes = X[keep].reset_index(drop=True), codes[keep]
        if len(X) < MIN_ROWS:
            return Findings(summary=f"Inconclusive: only {wording.count(len(X), 'labelled test row')} sampled; "
                                    f"at least {MIN_ROWS} are needed.", status="inconclusive", sample=record)

        # Which raw features may move, by how much, and where they enter the network.
        ref_role = "train" if ctx.has("train") and len(ctx.frame("train")) > 0 else "test"
        ref = ctx.frame(ref_role)
        numeric = [c for c in ctx.features if is_numeric(X[c])]
        immutable = [c for c in numeric if (ctx.feature_domains.get(c) or {}).get("immutable")]
        stds: dict[str, float] = {}
        for c in numeric:
            if c in immutable or c not in ref.columns:
                continue
            values = pd.to_numeric(ref[c], errors="coerce").to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            stds[c] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        constant = [c for c, s in stds.items() if not s > 0]
        candidates = [c for c, s in stds.items() if s > 0]
        view = ctx.model.gradient_view()
        mapped, unmapped = view.input_map(X, candidates, stds) if candidates else ({}, {})
        if not mapped:
            reasons = [f"{len(immutable)} immutable" if immutable else "", f"{len(constant)} constant" if constant else "",
                       f"{len(unmapped)} not reaching the network through a per-column scaling" if unmapped else ""]
            why = ", ".join(r for r in reasons if r)
            return Findings(summary="Skipped: no mutable numeric feature can be attacked"
                                    + (f" ({why})." if why else " (the model has no numeric input)."),
                            status="skipped", sample=record)

        Z = view.encode(X)
        device, dtype = view.device, view.dtype
        z0 = torch.as_tensor(Z, dtype=dtype, device=device)
        unit = torch.zeros_like(z0)  # network-space radius per unit of epsilon
        low = torch.full_like(z0, -torch.inf)
        high = torch.full_like(z0, torch.inf)
        for c, (j, slope) in mapped.items():
            x = X[c].to_numpy(dtype=float)
            d = ctx.feature_domains.get(c) or {}
            lo_x, hi_x = d.get("min", -np.inf), d.get("max", np.inf)
            inside = (x >= lo_x) & (x <= hi_x)
            unit[:, j] = torch.as_tensor(np.where(inside, stds[c] * abs(slope), 0.0), dtype=dtype, device=device)
            # z = z0 + slope * (x' - x): the declared bounds on x' in network units
            a = Z[:, j] + slope * (lo_x - x)
            b = Z[:, j] + slope * (hi_x - x)
            low[:, j] = torch.as_tensor(np.where(inside, np.minimum(a, b), -np.inf), dtype=dtype, device=device)
            high[:, j] = torch.as_tensor(np.where(inside, np.maximum(a, b), np.inf), dtype=dtype, device=device)
        target = torch.as_tensor(codes, dtype=torch.long, device=device)
        batch = max(1, int(getattr(getattr(view, "adapter", None), "batch_size", 4096)))

        def predicted(z: torch.Tensor) -> np.ndarray:
            with torch.no_grad():
                return view.log_proba(z).argmax(dim=1).cpu().numpy()

        clean_correct = np.concatenate([predicted(z0[s:s + batch]) for s in range(0, len(z0), batch)]) == codes
        rows, curves, judged = [], {"clean": [], "FGSM": [], "PGD": []}, None
        for eps in epsilons:
            fgsm_ok, pgd_ok = np.empty(len(z0), bool), np.empty(len(z0), bool)
            for s in range(0, len(z0), batch):
                zb, tb = z0[s:s + batch], target[s:s + batch]

                def loss_fn(z, tb=tb):
                    return F.nll_loss(view.log_proba(z), tb, reduction="none")

                r, lo, hi = eps * unit[s:s + batch], low[s:s + batch], high[s:s + batch]
                fgsm_ok[s:s + batch] = predicted(fgsm(loss_fn, zb, r, lo, hi)) == codes[s:s + batch]
                pgd_ok[s:s + batch] = predicted(pgd(loss_fn, zb, r, lo, hi, steps=params["pgd_steps"])) == codes[s:s + batch]
            # An attacker may always leave a row alone: a row counts as robust when it is
            # correct on clean input and under the attack.
            fgsm_acc = float(np.mean(clean_correct & fgsm_ok))
            pgd_acc = float(np.mean(clean_correct & pgd_ok))
            broken = clean_correct & ~(fgsm_ok & pgd_ok)
            curves["clean"].append(float(clean_correct.mean()))
            curves["FGSM"].append(fgsm_acc)
            curves["PGD"].append(pgd_acc)
            rows.append([eps, float(clean_correct.mean()), fgsm_acc, pgd_acc, float(broken.mean())])
            if eps == judge:
                judged = _wilson(broken, f"share of rows correct on clean input but wrong under FGSM or PGD at "
                                         f"{judge:g} x each feature's standard deviation")
        from auditor.toolkit.figures import degradation_curve

        attacked = sorted(mapped)
        figure = degradation_curve(
            "Adversarial degradation", epsilons, curves,
            xlabel="budget epsilon (x each feature's standard deviation)", ylabel="accuracy",
            caption=f"Accuracy on {len(X):,} sampled test rows as the attack budget grows ({len(attacked)} features "
                    f"attacked; PGD with {params['pgd_steps']} steps); dotted: the judged budget ({judge:g}).",
            marker_at=judge,
        )
        not_attacked = [[c, "declared immutable"] for c in immutable] + [[c, f"constant in {ref_role}"] for c in constant] \
            + [[c, why] for c, why in unmapped.items()]
        evidence = [
            Evidence(title="Accuracy under attack", columns=["epsilon (x std)", "clean accuracy", "FGSM accuracy",
                                                             "PGD accuracy", "share broken"],
                     rows=rows,
                     note=f"{len(X):,} sampled labelled test rows; {wording.count(len(attacked), 'feature')} attacked at once "
                          "(an L-infinity box); share broken: correct on clean input, wrong under FGSM or PGD."),
            Evidence(title="Features attacked", columns=["feature", f"std ({ref_role})", "network input", "dz/dx",
                                                         "declared min", "declared max"],
                     rows=[[c, stds[c], mapped[c][0], mapped[c][1], (ctx.feature_domains.get(c) or {}).get("min"),
                            (ctx.feature_domains.get(c) or {}).get("max")] for c in attacked[:MAX_ROWS]],
                     note=(f"Showing {MAX_ROWS} of {len(attacked)}. " if len(attacked) > MAX_ROWS else "")
                          + "Budgets are epsilon x std in raw units, converted to the network's input space through each "
                            "column's dz/dx (found by probing the preprocessing). Categorical inputs are not attacked."),
        ]
        if not_attacked:
            evidence.append(Evidence(title="Numeric features not attacked", columns=["feature", "why"],
                                     rows=not_attacked[:MAX_ROWS],
                                     note=f"Showing {MAX_ROWS} of {len(not_attacked)}." if len(not_attacked) > MAX_ROWS else ""))
        j = epsilons.index(judge)
        summary = (
            f"At {judge:g} x each feature's standard deviation on {wording.count(len(attacked), 'numeric feature')}, "
            f"{wording.share(judged.value)} of sampled rows are broken by FGSM or PGD: accuracy goes from "
            f"{curves['clean'][j]:.3f} to {curves['PGD'][j]:.3f} (PGD) and {curves['FGSM'][j]:.3f} (FGSM); "
            f"at {epsilons[-1]:g} x std PGD leaves {curves['PGD'][-1]:.3f}."
        )
        return Findings(
            summary=summary,
            metrics={
                "adversarial_accuracy_drop": judged,
                "clean_accuracy": Metric(curves["clean"][j], description="accuracy of the sampled labelled rows"),
                "pgd_accuracy": Metric(curves["PGD"][j], description=f"accuracy under PGD at {judge:g} x std"),
                "fgsm_accuracy": Metric(curves["FGSM"][j], description=f"accuracy under FGSM at {judge:g} x std"),
                "pgd_accuracy_largest_budget": Metric(curves["PGD"][-1], description=f"accuracy under PGD at {epsilons[-1]:g} x std"),
            },
            evidence=evidence,
            figures=[figure],
            recommendation=(
                "If a small worst-case perturbation breaks many predictions, regularise the network (weight decay, "
                "dropout, early stopping), standardise its inputs, train with adversarial (PGD) or noise augmentation, "
                "and check which features its decisions hinge on."
            ),
            sample=record,
        )

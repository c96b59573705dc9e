"""EX003 explanation-method-agreement
(checks/explainability/ex003_explanation_method_agreement.py): agreement between permutation
importance and SHAP."""

from __future__ import annotations

import numpy as np

from auditor.checks import explainability as ex
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame, run_check
from tests.planted import _ctx


class NoiseReliant:
    """A fitted classifier whose log-odds also move with 'noise' (uniform 0-10, unrelated to the label):
    SHAP sees the output move with it, permutation importance sees no loss of ROC AUC when it is shuffled."""

    def __init__(self, model, *, weight: float = 1.0):
        self.model, self.weight, self.classes_ = model, weight, model.classes_

    def predict_proba(self, X):
        p = np.clip(self.model.predict_proba(X)[:, 1], 1e-9, 1 - 1e-9)
        logit = np.log(p / (1 - p)) + self.weight * (X["noise"].to_numpy(dtype=float) - 5.0)
        q = 1 / (1 + np.exp(-logit))
        return np.column_stack([1 - q, q])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def _ex_noise_reliant() -> AuditContext:
    ctx = _ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22))
    ctx.model = SklearnAdapter(NoiseReliant(fit_pipeline(make_binary_frame(3000, seed=11))))
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_ex_noise_reliant, {"fail"})


def test_shap_and_permutation_disagree_on_a_feature_the_output_follows():
    findings, status = run_check(ex.MethodAgreement, _ex_noise_reliant())
    assert status == "fail"
    assert "largest disagreement is noise" in findings.summary
    assert findings.metrics["max_share_gap"].value > 0.4

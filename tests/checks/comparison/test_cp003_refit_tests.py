"""CP003 refit-tests (checks/comparison/cp003_refit_tests.py): refit tests: 5x2cv paired t and the
corrected resampled t.

Its statistics are checked against published examples in test_comparison_stats.py and
`auditor compare` end to end in test_compare.py; this file holds its planted defect.
"""

from __future__ import annotations

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame
from tests.planted import FEATURES, _ctx


def _worse_setup() -> AuditContext:
    """A candidate whose learning setup is worse (it ignores the inputs): refits expose it."""
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    good = ctx.model
    train = ctx.frame("train")
    dummy = Pipeline([("clf", DummyClassifier(strategy="prior"))]).fit(train[FEATURES], train["y"])
    ctx.model, ctx.model_name, ctx.others = SklearnAdapter(dummy), "candidate", {"baseline": good}
    return ctx


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_worse_setup, {"fail"})

"""What the explainability checks EX001-EX006 share (checks/explainability/_common.py and
_shap.py: attributions, the SHAP codec, permutation importance), and the tests that run all six:
clean controls are not flagged, regression and multiclass models are explained."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.checks import explainability as ex
from tests.checks.explainability.conftest import _ex_near_copies, ex_copies_frame
from tests.conftest import run_check
from tests.planted import clean_context


def test_memo_computes_once_per_key(clean):
    calls = []
    first = clean.memo(("test", 1), lambda: calls.append(1) or 42)
    again = clean.memo(("test", 1), lambda: calls.append(1) or 43)
    assert (first, again, len(calls)) == (42, 42, 1)
    assert clean.memo(("test", 2), lambda: 7) == 7


@pytest.mark.parametrize("cls", ex.CHECKS, ids=lambda c: c.id)
def test_clean_model_is_not_flagged(cls, clean):
    findings, status = run_check(cls, clean)
    assert status == "pass", (findings.summary, {k: m.value for k, m in findings.metrics.items()})


def test_categorical_columns_round_trip_through_the_shap_codec(clean):
    X = clean.X("test").head(50)
    codec = ex._Codec(clean, [X])
    back = codec.decode(codec.encode(X))
    assert back["colour"].tolist() == X["colour"].tolist()
    np.testing.assert_allclose(back["x1"].to_numpy(), X["x1"].to_numpy())


def test_tree_model_uses_tree_explainer_and_pipeline_does_not(clean):
    from sklearn.ensemble import RandomForestClassifier

    from auditor.contract.adapters import SklearnAdapter

    assert ex.attributions(clean, background=30).method == "permutation"  # a transforming pipeline
    ctx = _ex_near_copies()
    train = ex_copies_frame(1000, 3)
    cols = ["x1", "x1_copy", "x1_copy2", "x2", "noise"]
    ctx.model = SklearnAdapter(RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(train[cols], train["y"]))
    ctx.features = cols
    explainer = ex.attributions(ctx, background=30)
    assert explainer.method == "tree"
    values = explainer.explain(ctx.X("test").head(20), np.arange(20))
    assert values.shape == (20, 5, 1)


def test_shap_leaves_numpy_global_random_state_alone(clean):
    np.random.seed(123)
    expected = np.random.get_state()[1].copy()
    ex.Attributions(clean, background=10).explain(clean.X("test").head(3), np.arange(3))
    assert (np.random.get_state()[1] == expected).all()


def _small(cls):
    """Small samples so the family runs in a second on the task-coverage tests."""
    return {k: v for k, v in {"rows": 300, "shap_rows": 20, "runs": 3, "repeats": 2, "local_rows": 5}.items() if k in cls.params}


EXPLAINED_STATUSES = {"regression": {'EX001': 'warn', 'EX002': 'pass', 'EX003': 'pass', 'EX004': 'pass', 'EX005': 'warn', 'EX006': 'pass'},
                      "multiclass": {'EX001': 'fail', 'EX002': 'inconclusive', 'EX003': 'pass', 'EX004': 'pass', 'EX005': 'pass', 'EX006': 'pass'}}
# EX001 fails the multiclass model by design: its labels are a function of x1 alone, so one input carries
# over 90% of the importance; EX002 cannot rank the two inputs left on 3 runs of 300 rows.


def test_regression_and_multiclass_models_are_explained():
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LogisticRegression

    from auditor.contract.adapters import SklearnAdapter
    from auditor.contract.context import AuditContext
    from tests.conftest import make_binary_frame

    rng = np.random.default_rng(0)
    frames = [make_binary_frame(600, seed=s) for s in (1, 2)]
    for f in frames:
        f["target"] = 2 * f["x1"] - f["x2"] + rng.normal(0, 0.3, len(f))
        f["label"] = np.where(f["x1"] > 0.5, "high", np.where(f["x1"] < -0.5, "low", "mid"))
    cols = ["x1", "x2", "noise"]
    reg = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(frames[0][cols], frames[0]["target"])
    clf = LogisticRegression(max_iter=500).fit(frames[0][cols], frames[0]["label"])
    cases = {
        "regression": AuditContext(datasets={"train": frames[0], "test": frames[1]}, target="target", task="regression",
                                   features=cols, model=SklearnAdapter(reg)),
        "multiclass": AuditContext(datasets={"train": frames[0], "test": frames[1]}, target="label", task="multiclass",
                                   features=cols, model=SklearnAdapter(clf), classes=list(clf.classes_)),
    }
    for task, ctx in cases.items():
        findings, status = run_check(ex.GlobalImportance, ctx, **_small(ex.GlobalImportance))
        assert findings.evidence[0].rows[0][1] == "x1", task  # the strongest input leads in both tasks
        assert findings.metrics["top_feature_share"].value > 0.5, task
        statuses = {}
        for cls in ex.CHECKS:
            findings, status = run_check(cls, ctx, **_small(cls))
            statuses[cls.id] = status
            assert findings.sample is None or findings.sample["rows_used"] <= 1200
        assert statuses == EXPLAINED_STATUSES[task], (task, statuses)
    assert ex.attributions(cases["regression"], background=30).method == "tree"
    assert ex.attributions(cases["multiclass"], background=30).method == "permutation"


def test_stacked_permutation_importance_agrees_with_scikit_learn():
    """The family's permutation importance (shuffled copies stacked into one model call) measures
    what sklearn.inspection.permutation_importance measures: with many shuffles the two agree."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score

    ctx = clean_context()
    X, y, _ = ex._sample(ctx, "test", 1000)
    ours = ex.permutation(ctx, "test", rows=1000, repeats=30)
    model = ctx.model.estimator
    positive = list(model.classes_).index(1)
    theirs = permutation_importance(model, X, y, n_repeats=30, random_state=0,
                                    scoring=lambda est, A, b: roc_auc_score(b, est.predict_proba(A)[:, positive]))
    assert ours["baseline"] == pytest.approx(roc_auc_score(y, model.predict_proba(X)[:, positive]))
    se = np.sqrt(ours["std"] ** 2 + theirs.importances_std ** 2) / np.sqrt(30)
    assert np.all(np.abs(ours["mean"] - theirs.importances_mean) <= 4 * se + 1e-3)
    assert np.argmax(ours["mean"]) == np.argmax(theirs.importances_mean)


def test_shap_is_imported_without_compiling_its_kernels_and_numba_is_left_as_found():
    """In a fresh process: shap's masking kernel is plain Python (no numba dispatcher), and numba's
    switch is back as it was, so numba code decorated afterwards is still compiled."""
    import subprocess
    import sys

    code = (
        "from auditor.checks import explainability as ex\n"
        "from numba.core import config\n"
        "import numba\n"
        "shap = ex._shap()\n"
        "from shap.utils import _masked_model\n"
        "print(hasattr(_masked_model._build_fixed_single_output, 'py_func'), config.DISABLE_JIT)\n"
        "later = numba.njit(lambda a: a + 1)\n"
        "print(hasattr(later, 'py_func'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "0", "True"]

"""RB002 categorical-perturbation (checks/robustness/rb002_categorical_perturbation.py):
sensitivity of predictions to a swapped categorical value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.checks import robustness as rb
from auditor.contract.context import AuditContext
from tests.checks.robustness.conftest import FEATURES, NUMERIC, make_ctx
from tests.conftest import fit_pipeline, make_binary_frame
from tests.conftest import run_check as run
from tests.planted import _ctx

# -- RB002 ---------------------------------------------------------------------------
LEVELS = np.array([f"c{i}" for i in range(40)])


def chaotic_colour_ctx() -> AuditContext:
    """Half of 40 colours had their training labels inverted: the model learnt large, arbitrary
    per-colour effects that the test data (no inversion) does not share."""
    inverted = LEVELS[np.random.default_rng(3).permutation(40)[:20]]

    def frame(n: int, seed: int, *, invert: bool) -> pd.DataFrame:
        f = make_binary_frame(n, seed=seed)
        f["colour"] = np.random.default_rng(seed + 100).choice(LEVELS, size=n)
        if invert:
            hit = f["colour"].isin(inverted)
            f.loc[hit, "y"] = 1 - f.loc[hit, "y"]
        return f

    train = frame(3000, 1, invert=True)
    return make_ctx(fit_pipeline(train), train, frame(2000, 2, invert=False), fit=False)


def _rb_chaotic_colour() -> AuditContext:
    """Half of 40 colours had their training labels inverted: swapping a colour flips about half the predictions."""
    levels = np.array([f"c{i}" for i in range(40)])
    inverted = levels[np.random.default_rng(3).permutation(40)[:20]]

    def frame(n: int, seed: int, *, invert: bool) -> pd.DataFrame:
        f = make_binary_frame(n, seed=seed)
        f["colour"] = np.random.default_rng(seed + 100).choice(levels, size=n)
        if invert:
            hit = f["colour"].isin(inverted)
            f.loc[hit, "y"] = 1 - f.loc[hit, "y"]
        return f

    train = frame(3000, 1, invert=True)
    return _ctx(train, frame(2000, 2, invert=False), model_on=train)


# The planted defect tests/test_contract.py runs through the engine (beside the shared clean control).
PLANTED = (_rb_chaotic_colour, {"fail"})


def test_categorical_chaotic_reliance_fails():
    findings, status = run(rb.CategoricalPerturbation, chaotic_colour_ctx())
    m = findings.metrics["max_categorical_flip_rate"]
    # A swap moves a row to a colour of the other group 20 times in 39, and the prediction follows
    # unless x1 and x2 outweigh the learnt colour effect.
    assert 0.38 < m.value < 0.52 and m.ci_low > 0.30 and status == "fail"
    assert findings.evidence[0].rows[0][:3] == ["colour", 40, 2000]
    assert "'colour'" in findings.summary


def test_categorical_clean_model_passes_with_a_small_real_effect(clean):
    findings, status = run(rb.CategoricalPerturbation, clean)
    # 'red' adds 0.5 to the logit: only rows near the boundary flip.
    assert 0.01 < findings.metrics["max_categorical_flip_rate"].value < 0.15 and status == "pass"


def test_categorical_swaps_draw_other_train_categories():
    rng = np.random.default_rng(0)
    values = np.array(["a", "b", "c", None, "zz"] * 200, dtype=object)
    out, changed = rb._swap_categories(values, np.array(["a", "b", "c"], dtype=object), np.array([8, 1, 1]), rng)
    assert (out[changed] != values[changed]).all() and set(out[changed]) <= {"a", "b", "c"}
    assert not changed[3::5].any() and out[3] is None  # missing values are kept
    from_b = out[1::5]
    assert 0.8 < np.mean(from_b == "a") < 0.95  # drawn by frequency, the row's own value excluded


def test_categorical_without_categorical_features_passes_with_zero():
    from sklearn.linear_model import LogisticRegression

    train, test = make_binary_frame(600, seed=1), make_binary_frame(300, seed=2)
    findings, status = run(rb.CategoricalPerturbation, make_ctx(LogisticRegression(), train, test, features=NUMERIC))
    assert status == "pass" and findings.metrics["max_categorical_flip_rate"].value == 0
    assert findings.summary == ("The model has no mutable categorical feature with two or more levels, so nothing was "
                                "swapped: the flip rate is 0.")


def test_categorical_one_level_and_immutable_features_are_not_swapped():
    train, test = make_binary_frame(1000, seed=1), make_binary_frame(500, seed=2)
    for f in (train, test):
        f["plant"] = "north"
        f["shift"] = np.where(f["x2"] > 0, "day", "night")
    ctx = make_ctx(fit_pipeline(train), train, test, features=[*FEATURES, "plant", "shift"], fit=False)
    ctx.feature_domains = {"shift": {"immutable": True}}
    findings, _ = run(rb.CategoricalPerturbation, ctx)
    assert [r[0] for r in findings.evidence[0].rows] == ["colour"]
    assert "Not swapped: declared immutable: shift; one level only: plant." in findings.summary

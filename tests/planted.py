"""One planted-defect case per built-in check, used by the registry contract test.

Each entry builds an AuditContext whose data (or model) carries a defect of a known
size, and names the statuses the check must give on it. The clean control shared by
every check is :func:`clean_context`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame

FEATURES = ["x1", "x2", "colour", "noise"]


def _ctx(train: pd.DataFrame, test: pd.DataFrame, *, model_on: pd.DataFrame | None = None) -> AuditContext:
    model = SklearnAdapter(fit_pipeline(model_on if model_on is not None else make_binary_frame(3000, seed=11)))
    return AuditContext(
        datasets={"train": train.reset_index(drop=True), "test": test.reset_index(drop=True)},
        target="y", task="binary", features=FEATURES, model=model, positive_label=1, classes=[0, 1], seed=0,
    )


def clean_history() -> pd.DataFrame:
    epochs = np.arange(30)
    return pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + epochs), "val_loss": 1.1 / (1 + epochs)})


def clean_context() -> AuditContext:
    """Clean data and a well-specified model: every built-in check must pass on it.

    It declares a group column (disjoint entities), a time column (a chronological
    split), a training history that improves to the end, a labelled current sample, a
    baseline to compare with, monotonic features and a sensitive attribute, so no check
    is skipped.
    """
    train, test = make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)
    train["entity"] = [f"e{i}" for i in range(len(train))]
    test["entity"] = [f"e{i + len(train)}" for i in range(len(test))]
    start = pd.Timestamp("2024-01-01")
    train["when"] = start + pd.to_timedelta(np.arange(len(train)), unit="h")
    test["when"] = start + pd.to_timedelta(np.arange(len(test)) + len(train) + 24, unit="h")
    ctx = _ctx(train, test)
    # A production sample from the same distribution, labelled, after the test period.
    current = make_binary_frame(3000, seed=23)
    current["entity"] = [f"e{i + len(train) + len(test)}" for i in range(len(current))]
    current["when"] = start + pd.to_timedelta(np.arange(len(current)) + len(train) + len(test) + 48, unit="h")
    ctx.datasets["current"] = current
    ctx.group_column, ctx.time_column, ctx.history = "entity", "when", clean_history()
    # Compared with itself (twice): every comparison check must find no difference.
    ctx.others = {"baseline": ctx.model, "same-again": ctx.model}
    # The logistic model is increasing in x1 and decreasing in x2 (RB005 checks the declaration).
    ctx.feature_domains = {"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}}
    # The same logistic pipeline, also differentiable (RB007) where torch is installed.
    ctx.model = ctx.others["baseline"] = ctx.others["same-again"] = _DifferentiableLogistic(ctx.model.estimator)
    # A complete model card and no waivers: the governance checks (GV) must pass.
    ctx.policy = {"model_card": dict(CLEAN_MODEL_CARD)}
    ctx.today = AUDIT_DATE
    # A sensitive attribute independent of everything: every fairness check must pass.
    return _with_group(ctx)


def _missing() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train.loc[train.sample(frac=0.4, random_state=0).index, "colour"] = "?"
    return _ctx(train, make_binary_frame(2000, seed=2))


def _duplicates() -> AuditContext:
    train = make_binary_frame(1800, seed=1)
    return _ctx(pd.concat([train, train.iloc[:200]]), make_binary_frame(2000, seed=2))


def _constant() -> AuditContext:
    train = make_binary_frame(2000, seed=1).assign(noise=1.0)
    return _ctx(train, make_binary_frame(2000, seed=2).assign(noise=1.0))


def _conflicts() -> AuditContext:
    train = make_binary_frame(1800, seed=1)
    flipped = train.iloc[:200].assign(y=lambda d: 1 - d["y"])
    return _ctx(pd.concat([train, flipped]), make_binary_frame(2000, seed=2))


def _mixed() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train["colour"] = train["colour"].astype(object)
    train.loc[:299, "colour"] = [str(i) for i in range(300)]
    return _ctx(train, make_binary_frame(2000, seed=2))


def _outliers() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train.loc[:599, "x2"] = 1e4
    return _ctx(train, make_binary_frame(2000, seed=2))


def _imbalance() -> AuditContext:
    train = make_binary_frame(4000, seed=1)
    keep = pd.concat([train[train.y == 0], train[train.y == 1].iloc[:40]])
    return _ctx(keep, make_binary_frame(2000, seed=2))


def _schema() -> AuditContext:
    test = make_binary_frame(2000, seed=2)
    test["x2"] = test["x2"].map(lambda v: f"{v:.2f} units")
    return _ctx(make_binary_frame(2000, seed=1), test)


def _unseen() -> AuditContext:
    test = make_binary_frame(2000, seed=2)
    test.loc[:199, "colour"] = "purple"
    return _ctx(make_binary_frame(2000, seed=1), test)


def _cardinality() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    test = make_binary_frame(2000, seed=2)
    train["colour"] = [f"c{i % 500}" for i in range(len(train))]
    test["colour"] = [f"c{i % 500}" for i in range(len(test))]
    return _ctx(train, test)


def _redundant() -> AuditContext:
    train = make_binary_frame(2000, seed=1)
    train["noise"] = train["x1"] * 3 + 1
    return _ctx(train, make_binary_frame(2000, seed=2))


def _tiny_test() -> AuditContext:
    return _ctx(make_binary_frame(2000, seed=1), make_binary_frame(40, seed=2))


def _noisy_tree() -> AuditContext:
    """An unpruned tree on 20% flipped labels: it memorises the noise."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(4000, seed=5)
    flip = np.random.default_rng(5).uniform(size=len(frame)) < 0.2
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    train, test = frame.iloc[:2500], frame.iloc[2500:]
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder="passthrough")
    tree = Pipeline([("prep", prep), ("tree", DecisionTreeClassifier(random_state=0))]).fit(train[FEATURES], train["y"])
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(tree)
    return ctx


def _shifted_test_labels() -> AuditContext:
    test = make_binary_frame(3000, seed=22)
    flip = np.random.default_rng(0).uniform(size=len(test)) < 0.35
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return _ctx(make_binary_frame(3000, seed=21), test)


def _overtrained_history() -> AuditContext:
    ctx = _ctx(make_binary_frame(500, seed=1), make_binary_frame(500, seed=2))
    epochs = np.arange(40)
    val = 1 / (1 + 0.25 * np.minimum(epochs, 20)) + 0.01 * np.clip(epochs - 20, 0, None)
    ctx.history = pd.DataFrame({"epoch": epochs, "train_loss": 1 / (1 + 0.3 * epochs), "val_loss": val})
    return ctx


def _lk_overlap() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    return _ctx(train, pd.concat([train.iloc[:200], test.iloc[200:]]))  # 10% of test rows copied from train


def _lk_near_duplicates() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    copies = train.iloc[:200].copy()  # 10% of test rows: train rows with tiny noise, so not exact copies
    copies[["x1", "x2", "noise"]] += np.random.default_rng(0).normal(0, 1e-3, size=(200, 3))
    return _ctx(train, pd.concat([copies, test.iloc[200:]]))


def _lk_target_leak() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    rng = np.random.default_rng(0)
    for frame in (train, test):  # 'noise' becomes the label plus a little noise
        frame["noise"] = frame["y"] + rng.normal(0, 0.1, len(frame))
    return _ctx(train, test)


def _lk_id_like() -> AuditContext:
    frame = make_binary_frame(4000, seed=1).sort_values("y", kind="stable").reset_index(drop=True)
    frame["noise"] = np.arange(len(frame))  # the row number of a file sorted by the target
    is_test = np.random.default_rng(0).random(len(frame)) < 0.3
    return _ctx(frame[~is_test], frame[is_test])


def _lk_groups() -> AuditContext:
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    train["entity"] = [f"e{i // 4}" for i in range(len(train))]
    test["entity"] = [f"e{i // 4 + 1000}" for i in range(len(test))]
    test.loc[:399, "entity"] = train["entity"].iloc[:400].to_numpy()  # 100 of 500 test groups (20% of rows)
    ctx = _ctx(train, test)
    ctx.group_column = "entity"
    return ctx


def _lk_time() -> AuditContext:
    frame = make_binary_frame(4000, seed=1)
    frame["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)), unit="h")
    is_test = np.random.default_rng(0).random(len(frame)) < 0.25  # a random, not chronological, split
    ctx = _ctx(frame[~is_test], frame[is_test])
    ctx.time_column = "when"
    return ctx


def _lk_labels() -> AuditContext:
    train, test = make_binary_frame(5000, seed=1), make_binary_frame(5000, seed=2)
    train = pd.concat([train[train.y == 0].iloc[:1600], train[train.y == 1].iloc[:400]])  # 80/20
    test = pd.concat([test[test.y == 0].iloc[:1000], test[test.y == 1].iloc[:1000]])  # 50/50
    return _ctx(train, test)


def _worse_candidate(*, models: int = 2) -> AuditContext:
    """A candidate fitted on shuffled labels, compared with a good baseline."""
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    good = ctx.model
    shuffled = make_binary_frame(3000, seed=11)
    shuffled["y"] = np.random.default_rng(0).permutation(shuffled["y"].to_numpy())
    ctx.model = SklearnAdapter(fit_pipeline(shuffled))
    ctx.model_name = "candidate"
    ctx.others = {"baseline": good}
    if models == 3:
        ctx.others["also-bad"] = ctx.model
    return ctx


def _random_predictions() -> AuditContext:
    """A classifier whose predictions are random (DummyClassifier 'uniform'): no better than chance."""
    from sklearn.dummy import DummyClassifier

    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(DummyClassifier(strategy="uniform", random_state=0).fit(train[FEATURES], train["y"]))
    return ctx


class _Sharpened:
    """A fitted classifier whose probabilities are pushed towards 0 and 1 (p**3, renormalised); same labels."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        p = self.model.predict_proba(X) ** 3
        return p / p.sum(axis=1, keepdims=True)


def _overconfident() -> AuditContext:
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    ctx.model = SklearnAdapter(_Sharpened(fit_pipeline(make_binary_frame(3000, seed=11))))
    return ctx


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


def _pv_personal_data() -> AuditContext:
    """Direct identifiers in the training data: e-mail addresses in 10% of rows, a Luhn-valid card number in 5%."""
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    train["contact"] = pd.Series([f"user{i}@example.com" if i < 200 else None for i in range(len(train))], dtype=object)
    train["card"] = pd.Series(["4111 1111 1111 1111" if i < 100 else "none" for i in range(len(train))], dtype=object)
    return _ctx(train, test)


def _with_current(current: pd.DataFrame) -> AuditContext:
    ctx = _ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22))
    ctx.datasets["current"] = current.reset_index(drop=True)
    return ctx


def _dr_feature_shift() -> AuditContext:
    """A labelled current sample whose x1 and x2 moved by one standard deviation (2 of 4 inputs drifted)."""
    current = make_binary_frame(3000, seed=23)
    current[["x1", "x2"]] += 1.0
    return _with_current(current)


def _dr_correlation() -> AuditContext:
    """x2 = 0.95·x1 + noise in the current sample: every marginal unchanged, the joint distribution not."""
    current = make_binary_frame(3000, seed=23)
    current["x2"] = 0.95 * current["x1"] + np.sqrt(1 - 0.95**2) * current["x2"]
    return _with_current(current)


def _dr_prediction_shift() -> AuditContext:
    """The model's strongest input moves by one standard deviation: its scores move with it."""
    current = make_binary_frame(3000, seed=23)
    current["x1"] += 1.0
    return _with_current(current)


def _dr_performance_drop() -> AuditContext:
    """A labelled current sample with 20% of its labels flipped: balanced accuracy falls by about 0.1."""
    current = make_binary_frame(3000, seed=23)
    flip = np.random.default_rng(0).uniform(size=len(current)) < 0.2
    current.loc[flip, "y"] = 1 - current.loc[flip, "y"]
    return _with_current(current)


# -- robustness (RB001-RB005) ----------------------------------------------------------
def _rb_noisy_labels(n: int, seed: int, rate: float = 0.2) -> pd.DataFrame:
    frame = make_binary_frame(n, seed=seed)
    flip = np.random.default_rng(seed).uniform(size=n) < rate
    frame.loc[flip, "y"] = 1 - frame.loc[flip, "y"]
    return frame


def _rb_one_nn() -> AuditContext:
    """A 1-nearest-neighbour model on 20% flipped labels: noise of 0.05 spread flips about 19% of its predictions."""
    from sklearn.compose import ColumnTransformer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train, test = _rb_noisy_labels(10000, 5), _rb_noisy_labels(2000, 6)
    prep = ColumnTransformer([("num", StandardScaler(), ["x1", "x2", "noise"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(Pipeline([("prep", prep), ("knn", KNeighborsClassifier(n_neighbors=1))]).fit(train[FEATURES], train["y"]))
    return ctx


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


def _rb_no_imputation() -> AuditContext:
    """5% of the training rows lack x1; the model (no imputer) was fitted on the complete rows: a missing x1 makes it raise."""
    train = make_binary_frame(2000, seed=1)
    train.loc[train.sample(frac=0.05, random_state=0).index, "x1"] = np.nan
    return _ctx(train, make_binary_frame(2000, seed=2), model_on=train.dropna())


class _LinearProbability:
    """A linear probability model, P(y=1) = 0.5 + 0.1 x1, unclipped: above 1 beyond the training range."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = 0.5 + 0.1 * X["x1"].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _rb_linear_probability() -> AuditContext:
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    ctx.model = SklearnAdapter(_LinearProbability())
    return ctx


def _rb_unconstrained_boosting() -> AuditContext:
    """Gradient boosting without monotonic_cst while the policy declares x1 increasing and x2 decreasing."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train, test = make_binary_frame(3000, seed=21), make_binary_frame(2000, seed=22)
    prep = ColumnTransformer([("cat", OrdinalEncoder(), ["colour"])], remainder="passthrough")
    clf = HistGradientBoostingClassifier(max_depth=3, min_samples_leaf=40, l2_regularization=1.0, random_state=0)
    ctx = _ctx(train, test)
    ctx.model = SklearnAdapter(Pipeline([("prep", prep), ("clf", clf)]).fit(train[FEATURES], train["y"]))
    ctx.feature_domains = {"x1": {"monotonic": "increasing"}, "x2": {"monotonic": "decreasing"}}
    return ctx


# -- fairness (FR001-FR007) ---------------------------------------------------------------
def _with_group(ctx: AuditContext, *, seed: int = 7) -> AuditContext:
    """Adds a sensitive column 'group' (A or B, independent of everything) to every dataset."""
    rng = np.random.default_rng(seed)
    for frame in ctx.datasets.values():
        frame["group"] = rng.choice(["A", "B"], size=len(frame))
    ctx.sensitive = ["group"]
    return ctx


class _GroupAware:
    """A fitted classifier that also receives the sensitive column 'group': for rows of group B it
    multiplies the positive-class probability by ``factor`` (predictions follow: fewer positives)
    and raises the probabilities to ``power`` (renormalised: over-confident, labels unchanged)."""

    def __init__(self, model, *, factor: float = 1.0, power: float = 1.0):
        self.model, self.factor, self.power, self.classes_ = model, factor, power, model.classes_

    def predict_proba(self, X):
        proba = self.model.predict_proba(X[FEATURES]).copy()
        hit = (X["group"] == "B").to_numpy()
        proba[hit, 1] *= self.factor
        proba[hit] = proba[hit] ** self.power
        proba[hit] /= proba[hit].sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _group_aware(**kwargs) -> AuditContext:
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    ctx.model = SklearnAdapter(_GroupAware(fit_pipeline(make_binary_frame(3000, seed=11)), **kwargs))
    ctx.features = FEATURES + ["group"]
    return ctx


def _fr_group_label_noise() -> AuditContext:
    """35% of group B's test labels flipped: the model's error rate in B roughly doubles."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    test = ctx.datasets["test"]
    flip = (test["group"] == "B").to_numpy() & (np.random.default_rng(3).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return ctx


def _fr_small_group() -> AuditContext:
    """A sensitive attribute with two groups, one of 12 test rows."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    for frame in ctx.datasets.values():
        frame["group"] = "A"
    ctx.datasets["test"].loc[:11, "group"] = "B"
    return ctx


def _fr_proxy() -> AuditContext:
    """'group' is 'noise' above 5, with 10% of rows swapped: the input 'noise' recovers it."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    rng = np.random.default_rng(5)
    for frame in ctx.datasets.values():
        above = (frame["noise"] > 5).to_numpy() ^ (rng.uniform(size=len(frame)) < 0.1)
        frame["group"] = np.where(above, "B", "A")
    return ctx


def _fr_sensitive_input() -> AuditContext:
    """The model input 'colour' is declared sensitive."""
    ctx = _with_group(_ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22)))
    ctx.sensitive = ["colour"]
    return ctx


def _rb_weak_region() -> AuditContext:
    """35% of the test labels flipped where colour is red: the model errs there far beyond its own confidence."""
    ctx = _ctx(make_binary_frame(3000, seed=21), make_binary_frame(3000, seed=22))
    test = ctx.datasets["test"]
    flip = (test["colour"] == "red").to_numpy() & (np.random.default_rng(4).uniform(size=len(test)) < 0.35)
    test.loc[flip, "y"] = 1 - test.loc[flip, "y"]
    return ctx


PLANTED: dict[str, tuple[Callable[[], AuditContext], set[str]]] = {
    "DQ001": (_missing, {"fail"}),
    "DQ002": (_duplicates, {"fail"}),
    "DQ003": (_constant, {"fail"}),
    "DQ004": (_conflicts, {"fail"}),
    "DQ005": (_mixed, {"fail"}),
    "DQ006": (_outliers, {"fail"}),
    "DQ007": (_imbalance, {"fail"}),
    "DQ008": (_schema, {"fail"}),
    "DQ009": (_unseen, {"fail"}),
    "DQ010": (_cardinality, {"warn"}),
    "DQ011": (_redundant, {"fail"}),
    "ST001": (_tiny_test, {"fail", "inconclusive"}),
    "ST002": (_random_predictions, {"fail"}),
    "ST003": (_tiny_test, {"inconclusive"}),
    "CA001": (_overconfident, {"fail"}),
    "LK001": (_lk_overlap, {"fail"}),
    "LK002": (_lk_near_duplicates, {"fail"}),
    "LK003": (_lk_target_leak, {"fail"}),
    "LK004": (_lk_id_like, {"fail"}),
    "LK005": (_lk_groups, {"fail"}),
    "LK006": (_lk_time, {"fail"}),
    "LK007": (_lk_labels, {"fail"}),
    "CP001": (_worse_candidate, {"fail"}),
    "CP002": (_worse_candidate, {"fail"}),
    "CP003": (_worse_setup, {"fail"}),
    "CP004": (lambda: _worse_candidate(models=3), {"fail"}),
    "PV001": (_pv_personal_data, {"fail"}),
    "PV002": (_noisy_tree, {"fail"}),  # unpruned tree on 20% flipped labels: attack AUC 0.722, CI 0.709-0.736
    "DR001": (_dr_feature_shift, {"fail"}),
    "DR002": (_dr_correlation, {"fail"}),
    "DR003": (_dr_prediction_shift, {"fail"}),
    "DR004": (_dr_performance_drop, {"fail"}),
    "RB001": (_rb_one_nn, {"fail"}),
    "RB002": (_rb_chaotic_colour, {"fail"}),
    "RB003": (_rb_no_imputation, {"fail"}),
    "RB004": (_rb_linear_probability, {"fail"}),
    "RB005": (_rb_unconstrained_boosting, {"fail"}),
    "RB006": (_rb_weak_region, {"fail"}),
    "FR001": (_fr_group_label_noise, {"fail"}),
    "FR002": (lambda: _group_aware(factor=0.2), {"fail"}),
    "FR003": (_fr_small_group, {"warn"}),
    "FR004": (lambda: _group_aware(power=4.0), {"fail"}),
    "FR005": (_fr_proxy, {"fail"}),
    "FR006": (_fr_sensitive_input, {"warn"}),
    "FR007": (_fr_group_label_noise, {"fail"}),
    "OF001": (_noisy_tree, {"fail"}),
    "OF002": (_shifted_test_labels, {"fail"}),
    "OF003": (_noisy_tree, {"fail"}),
    "OF004": (_noisy_tree, {"fail"}),
    "OF005": (_overtrained_history, {"fail"}),
    # explainability (EX001-EX006); the factories are defined below the mapping
    "EX001": (lambda: _ex_leaky(), {"fail"}),
    "EX002": (lambda: _ex_near_copies(), {"fail"}),
    "EX003": (lambda: _ex_noise_reliant(), {"fail"}),
    "EX004": (lambda: _ex_near_copies(), {"fail"}),
    "EX005": (_noisy_tree, {"fail"}),  # an unpruned tree: a 0.05 sd step crosses splits and rewrites attributions
    "EX006": (_noisy_tree, {"fail"}),  # it memorised 20% flipped labels: training importance does not carry over
    # governance (GV001-GV002); the factories are defined below the mapping
    "GV001": (lambda: _gv_incomplete_card(), {"fail"}),
    "GV002": (lambda: _gv_expired_waiver(), {"fail"}),
}


# -- explainability (EX001-EX006) ---------------------------------------------------------
def _ex_leaky() -> AuditContext:
    """'noise' is the label plus a little noise, in train and test, and the model was fitted on it:
    one input carries nearly all of the model's performance."""
    train, test = make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2)
    rng = np.random.default_rng(0)
    for frame in (train, test):
        frame["noise"] = frame["y"] + rng.normal(0, 0.1, len(frame))
    return _ctx(train, test, model_on=train)


def ex_copies_frame(n: int, seed: int) -> pd.DataFrame:
    """The clean task plus two near-copies of its strongest feature x1 (noise of 0.01 sd)."""
    frame = make_binary_frame(n, seed=seed)
    rng = np.random.default_rng(seed + 50)
    frame["x1_copy"] = frame["x1"] + rng.normal(0, 0.01, n)
    frame["x1_copy2"] = frame["x1"] + rng.normal(0, 0.01, n)
    return frame


def _ex_near_copies() -> AuditContext:
    """A strongly L2-penalised logistic pipeline fitted on x1 and two near-copies of it: the penalty splits
    x1's weight evenly between the three, so their importances tie and their order is a coin flip on every
    resample."""
    train, test = ex_copies_frame(3000, 1), ex_copies_frame(3000, 2)
    ctx = _ctx(train, test)
    model = fit_pipeline(train)
    model.set_params(clf__C=0.01).fit(train.drop(columns=["y"]), train["y"])
    ctx.model = SklearnAdapter(model)
    ctx.features = FEATURES + ["x1_copy", "x1_copy2"]
    return ctx


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


# -- gradient-based robustness (RB007) ------------------------------------------------------
class _DifferentiableLogistic(SklearnAdapter):
    """The clean control's logistic pipeline, also handed to autograd: its fitted
    preprocessing (scaler and one-hot) followed by its coefficients as a torch linear layer,
    so RB007 attacks exactly the model every other check calls."""

    @property
    def differentiable(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("torch") is not None

    def gradient_view(self):
        import torch

        from auditor.contract.adapters_torch import TorchAdapter

        prep, clf = self.estimator.named_steps["prep"], self.estimator.named_steps["clf"]
        layer = torch.nn.Linear(clf.coef_.shape[1], 1).double()
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(clf.coef_))
            layer.bias.copy_(torch.as_tensor(clf.intercept_))
        return TorchAdapter.from_module(layer, columns=list(self.feature_names), classes=list(clf.classes_),
                                        preprocessing=prep).gradient_view()


def _rb_tiny_scale_network() -> AuditContext:
    """A network trained on a label that is the sign of a tiny-scale feature whose informative
    variation is 20 times finer than its standard deviation: PGD at 0.1 std breaks about 88% of rows."""
    import pytest

    pytest.importorskip("torch")
    from tests.torch_models import tiny_scale_context

    return tiny_scale_context()


PLANTED["RB007"] = (_rb_tiny_scale_network, {"fail"})
# Checks whose planted case and clean control need an optional package (skipped without it).
REQUIRES: dict[str, str] = {"RB007": "torch"}


# -- governance (GV001-GV002) ---------------------------------------------------------------
AUDIT_DATE = dt.date(2026, 11, 27)
CLEAN_MODEL_CARD = {
    "name": "synthetic-logit",
    "version": "1.0",
    "intended_use": "Test fixture: a logistic regression on synthetic data, used to test the audit itself.",
    "out_of_scope_uses": ["Any decision about a person or an organisation."],
    "training_data": "3,000 synthetic rows drawn from a known logistic model (seed 21).",
    "evaluation_data": "3,000 synthetic rows from the same model (seed 22).",
    "limitations": ["The data is synthetic; nothing here transfers to real data."],
    "ethical_considerations": ["The sensitive column 'group' is random and independent of the outcome."],
}


def _gv_incomplete_card() -> AuditContext:
    """A model card with only its intended use: five of six required fields are missing."""
    ctx = _ctx(make_binary_frame(300, seed=1), make_binary_frame(300, seed=2))
    ctx.policy = {"model_card": {"name": "m", "intended_use": "Scoring test fixtures."}}
    return ctx


def _gv_expired_waiver() -> AuditContext:
    """One waiver that expired a year before the audit and one that is still in force."""
    ctx = _ctx(make_binary_frame(300, seed=1), make_binary_frame(300, seed=2))
    ctx.today = AUDIT_DATE
    ctx.policy = {"waivers": [
        {"check": "DQ002", "reason": "repeated records", "owner": "a@example.org", "expires": "2025-11-27"},
        {"check": "DQ011", "reason": "kept as published", "owner": "b@example.org", "expires": "2027-03-31"},
    ]}
    return ctx

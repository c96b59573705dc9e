"""The column-wise view of a pipeline (auditor.toolkit.encoded) and the explainability family's use of it:
the view is given only when it holds, and the results with it equal the results without it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from auditor.checks import explainability as ex
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from auditor.toolkit import encoded
from tests.conftest import make_binary_frame

NUMS, CATS = ["x1", "x2", "noise"], ["colour"]


def _frames():
    train, test = make_binary_frame(1500, seed=31), make_binary_frame(1500, seed=32)
    train.loc[::7, "x2"] = np.nan
    test.loc[::5, "x2"] = np.nan
    return train, test


def _context(model) -> AuditContext:
    train, test = _frames()
    model.fit(train.drop(columns=["y"]), train["y"])
    return AuditContext(datasets={"train": train, "test": test}, target="y", task="binary",
                        features=["x1", "x2", "colour", "noise"], model=SklearnAdapter(model), positive_label=1,
                        classes=[0, 1], seed=0)


def _ordinal_hgb():
    prep = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATS)],
                             remainder="passthrough")
    return Pipeline([("prep", prep), ("clf", HistGradientBoostingClassifier(max_iter=30, random_state=0))])


def _onehot_nested():
    nums = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    prep = ColumnTransformer([("num", nums, NUMS), ("cat", OneHotEncoder(handle_unknown="ignore"), CATS)])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=500))])


def test_ordinal_pipeline_maps_each_input_to_one_encoded_column():
    ctx = _context(_ordinal_hgb())
    view = encoded.encoded_view(ctx)
    assert view is not None and view.one_to_one and view.width == 4
    assert view.groups == {"colour": [0], "x1": [1], "x2": [2], "noise": [3]}


def test_one_hot_and_nested_steps_map_inputs_to_their_columns():
    ctx = _context(_onehot_nested())
    view = encoded.encoded_view(ctx)
    levels = len(ctx.model.estimator[0].named_transformers_["cat"].categories_[0])
    assert view is not None and not view.one_to_one
    assert view.groups["x1"] == [0] and view.groups["noise"] == [2]
    assert view.groups["colour"] == list(range(3, 3 + levels))
    assert "summed over the encoded columns" in view.describe()


def test_dropped_columns_feed_nothing():
    prep = ColumnTransformer([("num", StandardScaler(), ["x1", "noise"])], remainder="drop")
    model = Pipeline([("prep", prep), ("clf", LogisticRegression())])
    train, _ = _frames()
    train = train.fillna(0)
    model.fit(train.drop(columns=["y"]), train["y"])
    view = encoded.split_pipeline(model, ["x1", "x2", "colour", "noise"])
    assert view.groups == {"x1": [0], "x2": [], "colour": [], "noise": [1]}


@pytest.mark.parametrize("step", [
    PCA(n_components=2),  # mixes columns
    FunctionTransformer(np.tanh),  # a user function: unknown whether it acts column by column
], ids=["PCA", "custom function"])
def test_transformers_not_known_to_act_column_by_column_give_no_view(step):
    prep = ColumnTransformer([("num", make_pipeline(SimpleImputer(), step), NUMS)], remainder="drop")
    ctx = _context(Pipeline([("prep", prep), ("clf", LogisticRegression())]))
    assert encoded.encoded_view(ctx) is None


def test_bare_estimator_gives_no_view():
    train, _ = _frames()
    model = HistGradientBoostingClassifier(max_iter=5).fit(train[NUMS], train["y"])
    assert encoded.split_pipeline(model, NUMS) is None


def test_a_wrong_column_map_is_caught_on_the_probe(monkeypatch):
    ctx = _context(_ordinal_hgb())
    view = encoded.split_pipeline(ctx.model.estimator, list(ctx.features))
    assert encoded._verified(ctx, view)
    view.groups["x1"], view.groups["x2"] = view.groups["x2"], view.groups["x1"]
    assert not encoded._verified(ctx, view)


@pytest.mark.parametrize("make", [_ordinal_hgb, _onehot_nested], ids=["ordinal+trees", "one-hot+logistic"])
def test_importance_and_stability_are_the_same_with_and_without_the_view(make, monkeypatch):
    with_view = _context(make())
    assert encoded.encoded_view(with_view) is not None
    imp = ex.permutation(with_view, "test", rows=600, repeats=3)
    runs = ex.stability_runs(with_view, rows=600, repeats=2, runs=4)

    without = _context(make())
    monkeypatch.setattr(encoded, "encoded_view", lambda ctx: None)
    imp_raw = ex.permutation(without, "test", rows=600, repeats=3)
    runs_raw = ex.stability_runs(without, rows=600, repeats=2, runs=4)
    np.testing.assert_allclose(imp["mean"], imp_raw["mean"], atol=1e-12)
    np.testing.assert_allclose(runs, runs_raw, atol=1e-12)
    assert np.isfinite(runs).all()


def test_kept_rows_give_the_outputs_of_the_whole_sample():
    ctx = _context(_ordinal_hgb())
    X = ctx.X("test").head(200).reset_index(drop=True)
    keep = [np.array([0, 5, 199]), np.arange(0, 200, 3)]
    whole = dict(ex._permuted_outputs(ctx, X, shuffles=2, seed=4))
    part = dict(ex._permuted_outputs(ctx, X, shuffles=2, seed=4, keep=keep))
    for j in whole:
        for s, rows in enumerate(keep):
            np.testing.assert_array_equal(part[j][s, rows], whole[j][s, rows])
            assert np.isnan(np.delete(part[j][s], rows)).all()


def test_tree_shap_through_the_encoding_is_additive_in_the_input_columns():
    ctx = _context(_ordinal_hgb())
    explainer = ex.attributions(ctx, background=30)
    assert explainer.method == "tree" and "column-wise encoding" in explainer.description
    X = ctx.X("test").head(50).reset_index(drop=True)
    values = explainer.explain(X, np.arange(50))
    assert values.shape == (50, 4, 1)
    margin = ctx.model.estimator.decision_function(X)
    base = float(np.ravel(explainer.tree.expected_value)[0])
    np.testing.assert_allclose(values[:, :, 0].sum(axis=1) + base, margin, atol=1e-6)


def test_tree_shap_sums_one_hot_columns_back_to_their_input():
    from sklearn.ensemble import RandomForestClassifier

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATS)],
                             remainder=SimpleImputer())
    ctx = _context(Pipeline([("prep", prep), ("clf", RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0))]))
    explainer = ex.attributions(ctx, background=30)
    assert explainer.method == "tree"
    X = ctx.X("test").head(40).reset_index(drop=True)
    values = explainer.explain(X, np.arange(40))
    proba = ctx.model.predict_proba(X)[:, 1]
    base = float(np.ravel(explainer.tree.expected_value)[-1])
    np.testing.assert_allclose(values[:, :, 0].sum(axis=1) + base, proba, atol=1e-6)


def test_a_sparse_encoding_gives_no_view():
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CATS)], remainder="drop",
                             sparse_threshold=1.0)
    ctx = _context(Pipeline([("prep", prep), ("clf", LogisticRegression())]))
    assert encoded.encoded_view(ctx) is None


def test_frames_with_pandas_output_give_no_view():
    prep = ColumnTransformer([("cat", OrdinalEncoder(), CATS)], remainder="passthrough").set_output(transform="pandas")
    ctx = _context(Pipeline([("prep", prep), ("clf", HistGradientBoostingClassifier(max_iter=5))]))
    assert encoded.encoded_view(ctx) is None
    assert ex.permutation(ctx, "test", rows=200, repeats=1)["mean"].shape == (4,)



def test_native_categorical_splits_are_not_explained_by_tree_shap():
    """shap's TreeExplainer misreads histogram gradient boosting's categorical bitsets (and its
    own additivity check shares the mistake), so such a model takes the model-agnostic path."""
    prep = ColumnTransformer([("cat", OrdinalEncoder(), CATS)], remainder="passthrough")
    model = Pipeline([("prep", prep), ("clf", HistGradientBoostingClassifier(max_iter=30, categorical_features=[0],
                                                                          random_state=0))])
    ctx = _context(model)
    assert encoded.encoded_view(ctx) is not None  # the encoding itself is column-wise
    explainer = ex.attributions(ctx, background=20)
    assert explainer.method == "permutation"
    assert "splits natively on categorical features" in explainer.description


def test_tree_attributions_that_do_not_add_up_are_declined():
    from sklearn.ensemble import RandomForestClassifier

    shap = ex._shap()
    train, _ = _frames()
    X = train[NUMS].fillna(0)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, train["y"])
    explainer = shap.TreeExplainer(forest)
    probe = X.head(8)
    assert ex._tree_problem(explainer, forest, probe) is None
    honest = explainer.shap_values

    def skewed(data, **kwargs):
        return np.asarray(honest(data, **kwargs)) + 0.01

    explainer.shap_values = skewed
    assert "did not add up" in ex._tree_problem(explainer, forest, probe)


def test_tree_units_name_the_output_tree_shap_explains():
    assert ex.attributions(_context(_ordinal_hgb()), background=20).units == "log-odds"

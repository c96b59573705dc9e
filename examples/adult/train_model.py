"""Train the example model that auditor's documentation and tests audit.

Usage::

    python examples/adult/train_model.py [--out examples/adult/model.skops]

The data is read with a plain ``pd.read_csv``, exactly as ``auditor`` reads it,
so the ``?`` placeholders in ``workclass``, ``occupation`` and
``native-country`` are ordinary categories here, not missing values. The model
uses all 14 feature columns, ``sex`` and ``race`` included, so the fairness
checks have something real to measure; this is a deliberately unremarkable
model, not a recommendation.

Trust: after saving, the script lists with ``skops.io.get_untrusted_types``
what the file would need trusted explicitly. Every part of the pipeline
(Pipeline, ColumnTransformer, OneHotEncoder, StandardScaler, the boosting
loss/link/binning internals) is on skops' default trusted list except the
fitted trees: skops 0.16 trusts no tree storage by default
(``sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor`` for
HistGradientBoosting, ``sklearn.tree._tree.Tree`` for the other tree models),
because their node indices are used without bounds checks. So the default
HistGradientBoosting model needs that one type trusted (``--trust-type
sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor`` in auditor,
which trusts that type alone, unlike ``--trust-model``). ``--classifier logistic`` trains a LogisticRegression pipeline
instead, which loads with the default trusted types alone.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
TARGET = "income"
CLASSIFIERS = ("hgb", "logistic")
POSITIVE_LABEL = ">50K"


def split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Return (categorical, numeric) feature column names, in file order."""
    features = frame.drop(columns=[TARGET])
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    categorical = [c for c in features.columns if c not in numeric]
    return categorical, numeric


def build_pipeline(
    *, categorical: list[str], numeric: list[str], classifier: str, seed: int
) -> Pipeline:
    # Explicit column lists (not make_column_selector) and the "passthrough"
    # string keep the preprocessing on skops' default trusted list.
    # Dense one-hot output: HistGradientBoosting does not accept sparse input.
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if classifier == "hgb":
        # Trees need no scaling, so numeric columns pass through unchanged.
        numeric_step = "passthrough"
        estimator = HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=200,
            max_leaf_nodes=31,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )
    elif classifier == "logistic":
        numeric_step = StandardScaler()
        estimator = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    else:
        raise ValueError(f"unknown classifier {classifier!r}; expected one of {CLASSIFIERS}")
    preprocess = ColumnTransformer(
        transformers=[
            ("categorical", encoder, categorical),
            ("numeric", numeric_step, numeric),
        ],
        remainder="drop",
    )
    return Pipeline(steps=[("preprocess", preprocess), ("classifier", estimator)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the auditor example model on UCI Adult.")
    parser.add_argument("--train", type=Path, default=HERE / "adult_train.csv.gz")
    parser.add_argument("--test", type=Path, default=HERE / "adult_test.csv.gz")
    parser.add_argument("--out", type=Path, default=HERE / "model.skops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        default="hgb",
        help="hgb: HistGradientBoostingClassifier (default; its trees need trusting "
        "when loaded); logistic: LogisticRegression (loads with skops' default trusted types)",
    )
    args = parser.parse_args(argv)

    random.seed(args.seed)
    np.random.seed(args.seed)

    train = pd.read_csv(args.train)
    test = pd.read_csv(args.test)
    categorical, numeric = split_columns(train)
    features = categorical + numeric
    print(f"train: {train.shape[0]} rows, test: {test.shape[0]} rows")
    print(f"categorical features ({len(categorical)}): {', '.join(categorical)}")
    print(f"numeric features ({len(numeric)}): {', '.join(numeric)}")

    model = build_pipeline(
        categorical=categorical, numeric=numeric, classifier=args.classifier, seed=args.seed
    )
    # Fit on the frame in its file order so feature_names_in_ matches the CSV.
    x_train = train.drop(columns=[TARGET])
    x_test = test.drop(columns=[TARGET])
    if sorted(x_train.columns) != sorted(features) or list(x_test.columns) != list(x_train.columns):
        raise SystemExit("train and test files do not have the expected feature columns")

    started = time.perf_counter()
    model.fit(x_train, train[TARGET])
    fit_seconds = time.perf_counter() - started

    if list(model.classes_) != ["<=50K", POSITIVE_LABEL]:
        raise SystemExit(f"unexpected classes {list(model.classes_)}")
    train_acc = accuracy_score(train[TARGET], model.predict(x_train))
    test_acc = accuracy_score(test[TARGET], model.predict(x_test))
    print(f"fit time: {fit_seconds:.1f} s")
    print(f"classes: {list(model.classes_)} (positive label {POSITIVE_LABEL!r})")
    print(f"train accuracy: {train_acc:.4f}")
    print(f"test accuracy:  {test_acc:.4f}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, args.out)
    print(f"saved {args.out} ({args.out.stat().st_size} bytes)")

    untrusted = sio.get_untrusted_types(file=args.out)
    if untrusted:
        print("untrusted types (must be trusted explicitly to load, e.g. auditor --trust-type TYPE):")
        for name in untrusted:
            print(f"  {name}")
    else:
        print("untrusted types: none (loads with skops' default trusted types)")
    # We wrote this file ourselves a moment ago, so trusting exactly the
    # reported types for this round-trip check is sound.
    reloaded = sio.load(args.out, trusted=untrusted or None)
    same = np.array_equal(reloaded.predict_proba(x_test), model.predict_proba(x_test))
    print(f"reloaded model reproduces predict_proba on test: {same}")
    return 0 if same else 1

if __name__ == "__main__":
    sys.exit(main())

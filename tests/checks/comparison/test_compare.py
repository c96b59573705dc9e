"""`auditor compare`: paired comparison of models on the same rows, with a non-inferiority gate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import fit_pipeline, make_binary_frame
from tests.test_cli import run_cli


@pytest.fixture()
def models(tmp_path):
    import skops.io as sio

    train, test = make_binary_frame(1500, seed=31), make_binary_frame(1500, seed=32)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    sio.dump(fit_pipeline(train), tmp_path / "good.skops")
    sio.dump(fit_pipeline(make_binary_frame(1500, seed=33)), tmp_path / "also_good.skops")
    shuffled = train.assign(y=np.random.default_rng(0).permutation(train["y"].to_numpy()))
    sio.dump(fit_pipeline(shuffled), tmp_path / "bad.skops")
    return tmp_path


def compare(capsys, d, baseline, *candidates, extra=()):
    args = ["compare", "-q", "--baseline", str(d / baseline), "--test", str(d / "test.csv"), "--target", "y",
            "--out", str(d / "cmp"), *extra]
    for c in candidates:
        args += ["--candidate", str(d / c)]
    code, out, err = run_cli(capsys, *args)
    report = json.loads((d / "cmp" / "report.json").read_text()) if (d / "cmp" / "report.json").exists() else None
    return code, out, err, report


@pytest.mark.slow  # a whole audit through the CLI
def test_model_compared_with_itself_is_non_inferior(capsys, models):
    code, out, err, report = compare(capsys, models, "good.skops", "good.skops")
    assert code == 0, out + err
    cp1 = next(c for c in report["checks"] if c["id"] == "CP001")
    assert cp1["status"] == "pass"
    assert cp1["metrics"]["improvement"]["value"] == 0
    assert report["title"] == "Comparison of 'good-2' with the baseline 'good'"
    assert {c["id"] for c in report["checks"]} == {"CP001", "CP002"}


@pytest.mark.slow  # a whole audit through the CLI
def test_clearly_worse_candidate_fails_with_exit_1(capsys, models):
    code, out, err, report = compare(capsys, models, "good.skops", "bad.skops")
    assert code == 1
    assert "CP001 non-inferiority failed at severity high" in out
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {"CP001": "fail", "CP002": "fail"}
    cp2 = next(c for c in report["checks"] if c["id"] == "CP002")
    # Every paired test agrees, and the p-values were corrected across the audit.
    assert all(m["adjusted"] < 0.05 for m in cp2["metrics"].values())
    assert report["multiple_testing"]["method"] == "holm"


@pytest.mark.slow  # a whole audit through the CLI
def test_equally_good_candidate_within_a_wide_margin_passes(capsys, models):
    code, out, err, report = compare(capsys, models, "good.skops", "also_good.skops", extra=["--margin", "0.05"])
    assert code == 0, out + err


@pytest.mark.slow  # a whole audit through the CLI
def test_three_models_are_ranked(capsys, models):
    code, out, err, report = compare(capsys, models, "good.skops", "also_good.skops", "bad.skops")
    ids = {c["id"] for c in report["checks"]}
    assert "CP004" in ids
    ranking = next(c for c in report["checks"] if c["id"] == "CP004")
    assert ranking["metrics"]["worse_than_baseline"]["value"] == 1
    assert code == 1


@pytest.mark.slow  # a whole audit through the CLI
def test_refit_tests(capsys, models):
    code, out, err, report = compare(
        capsys, models, "good.skops", "good.skops", extra=["--refit", "--train", str(models / "train.csv")]
    )
    cp3 = next(c for c in report["checks"] if c["id"] == "CP003")
    assert cp3["status"] == "pass", cp3["summary"]
    assert code == 0


def test_refit_needs_train_and_classes_must_agree(capsys, models, tmp_path):
    code, _, err, _ = compare(capsys, models, "good.skops", "bad.skops", extra=["--refit"])
    assert code == 2 and "--refit needs --train" in err
    import skops.io as sio

    frame = make_binary_frame(300, seed=3).assign(y=lambda d: d["y"].map({0: "no", 1: "yes"}))
    sio.dump(fit_pipeline(frame), tmp_path / "other_labels.skops")
    code, _, err, _ = compare(capsys, models, str(tmp_path / "other_labels.skops"), "good.skops")
    assert code == 2 and "model 'other_labels' predicts classes ['no', 'yes'], the compared model ['0', '1']" in err


def test_a_metric_that_does_not_fit_the_task_is_bad_input(capsys, models):
    code, _, err, _ = compare(capsys, models, "good.skops", "good.skops", extra=["--metric", "rmse"])
    assert code == 2 and "--metric rmse does not apply to a binary task" in err

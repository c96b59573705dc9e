"""Orientation property over every binary check, on breast cancer through the real CLI.

One data set and one model, audited under three namings of the classes:

(a) labels 0/1, 1 (benign) positive by default;
(b) the same labels renamed to strings so that the positive class sorts first
    (1 -> "a_benign", 0 -> "b_malignant", ``--positive-label a_benign``): a pure renaming;
(c) labels 0/1 with the other class declared positive (``--positive-label 0``).

So that every binary check runs rather than skips, the audits also get a sensitive column
(``site``, not a model input), a drifted current sample and one declared monotonic feature;
only LK005, LK006, OF005 and RB007 (group column, time column, training history, a PyTorch
model) are left without their inputs.

Renaming (b) changes nothing about the task, so every verdict must stay. Declaring the other
class positive (c) must leave every orientation-free verdict alone. Orientation dependent,
from the check IDs and metric names in the reports:

- RB005 monotonic-constraints: the declared direction is that of the positive-class
  probability, so the same declaration is violated once the other class is positive.
- FR001 group-metrics: ``max_false_positive_rate_gap`` and ``max_false_negative_rate_gap``
  swap roles (a false positive for one class is a false negative for the other); the check's
  status stays because both gaps have the same thresholds.
- ST001 ``f1``, FR002 ``theil_index`` and DR003 ``positive_rate_change`` are defined relative to
  the positive class; they are reported, not judged.

Everything else is orientation free: ROC AUC, accuracy, balanced accuracy, log loss, Brier and
ECE (uniform bins mirror under p -> 1 - p), drift distances of the score, data quality,
leakage, privacy attacks, explanations (scored by ROC AUC), and FR002 while no favourable
outcome is declared (it judges both orientations).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

NAMINGS = ("a", "b", "c")
RENAMED = {1: "a_benign", 0: "b_malignant"}
POSITIVE = {"a": None, "b": "a_benign", "c": "0"}

# Checks whose status depends on which class is positive (see the module docstring).
ORIENTATION_DEPENDENT_CHECKS = {"RB005"}
# Metrics whose values are defined relative to the positive class.
ORIENTATION_DEPENDENT_METRICS = {
    ("FR001", "max_false_positive_rate_gap"), ("FR001", "max_false_negative_rate_gap"),
    ("ST001", "f1"), ("FR002", "theil_index"), ("DR003", "positive_rate_change"),
}
# AUCs of other classifiers than the model, which need not beat chance: a membership-inference
# attack on a model that does not leak reads 0.5 give or take noise (here 0.506, interval 0.444
# to 0.566), and an AUC below 0.5 there is no defect.
ATTACK_AUCS = {("PV002", "attack_auc"), ("PV002", "confidence_attack_auc")}
# The model's ROC AUC under names without "auc" (their descriptions say ROC AUC).
MODEL_AUCS_NAMED_OTHERWISE = {("EX001", "baseline_score"), ("EX006", "train_score"), ("EX006", "test_score"),
                              ("LK003", "model_test_score"), ("LK003", "max_single_feature_score")}
INPUTS_NOT_GIVEN = {"LK005", "LK006", "OF005", "RB007"}


def _frames():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    rng = np.random.default_rng(0)
    # A site whose mix leans on tumour size, so group rates differ; it is not a model input.
    big = frame["mean radius"] > frame["mean radius"].median()
    frame["site"] = np.where(rng.uniform(size=len(frame)) < np.where(big, 0.7, 0.3), "north", "south")
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["y"])
    # Drift planted in the current sample: the rougher half of the test rows.
    current = test[test["worst texture"] > test["worst texture"].median()]
    return train, test, current


def _fit(train, features):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[features], train["y"])


def _audit(folder: Path, naming: str, policy: Path) -> tuple[int, dict]:
    args = [sys.executable, "-m", "auditor", "run", "--model", str(folder / "model.skops"),
            "--train", str(folder / "train.csv"), "--test", str(folder / "test.csv"),
            "--current", str(folder / "current.csv"), "--target", "y", "--sensitive", "site",
            "--policy", str(policy), "--seed", "0", "--format", "json", "--out", str(folder / f"out_{naming}"), "-q"]
    if POSITIVE[naming] is not None:
        args += ["--positive-label", POSITIVE[naming]]
    proc = subprocess.run(args, check=False, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode, json.loads((folder / f"out_{naming}" / "report.json").read_text())


@pytest.fixture(scope="module")
def namings(tmp_path_factory):
    """naming -> {"code", "report", "checks" (id -> check), "model", "test"}; three audits, once."""
    import skops.io as sio

    root = tmp_path_factory.mktemp("orientation")
    policy = root / "audit.yaml"
    # Benign is positive in (a) and (b): its probability falls as the tumour grows.
    policy.write_text("features:\n  worst radius:\n    monotonic: decreasing\n")
    train, test, current = _frames()
    features = [c for c in train.columns if c not in ("y", "site")]
    out = {}
    for folder_name, mapping in (("numeric", None), ("strings", RENAMED)):
        folder = root / folder_name
        folder.mkdir()
        tr, te, cu = (d if mapping is None else d.assign(y=d["y"].map(mapping)) for d in (train, test, current))
        model = _fit(tr, features)
        tr.to_csv(folder / "train.csv", index=False)
        te.to_csv(folder / "test.csv", index=False)
        cu.to_csv(folder / "current.csv", index=False)
        sio.dump(model, folder / "model.skops")
        for naming in ("a", "c") if mapping is None else ("b",):
            code, report = _audit(folder, naming, policy)
            out[naming] = {"code": code, "report": report, "checks": {c["id"]: c for c in report["checks"]},
                           "model": model, "test": te, "features": features}
    return out


def _metric_statuses(check: dict, *, skip: set = frozenset()) -> dict:
    return {m: v["status"] for m, v in (check.get("metrics") or {}).items() if (check["id"], m) not in skip}


def test_each_naming_is_read_as_intended(namings):
    tasks = {n: namings[n]["report"]["task"] for n in NAMINGS}
    assert all(t["type"] == "binary" for t in tasks.values())
    assert (tasks["a"]["classes"], tasks["a"]["positive_label"]) == ([0, 1], 1)
    assert (tasks["b"]["classes"], tasks["b"]["positive_label"]) == (["a_benign", "b_malignant"], "a_benign")
    assert (tasks["c"]["classes"], tasks["c"]["positive_label"]) == ([0, 1], 0)


def test_every_binary_check_runs_in_every_naming(namings):
    for n in NAMINGS:
        checks = namings[n]["checks"]
        assert set(checks) == set(namings["a"]["checks"])
        assert {cid for cid, c in checks.items() if c["status"] == "skipped"} == INPUTS_NOT_GIVEN
        assert not [cid for cid, c in checks.items() if c["status"] == "error"]


def test_renaming_the_classes_changes_no_verdict(namings):
    a, b = namings["a"], namings["b"]
    assert a["code"] == b["code"]
    assert {cid: c["status"] for cid, c in a["checks"].items()} == {cid: c["status"] for cid, c in b["checks"].items()}
    for cid in a["checks"]:
        assert _metric_statuses(a["checks"][cid]) == _metric_statuses(b["checks"][cid]), cid


def test_declaring_the_other_class_positive_keeps_the_orientation_free_verdicts(namings):
    a, c = namings["a"], namings["c"]
    assert a["code"] == c["code"]
    free = set(a["checks"]) - ORIENTATION_DEPENDENT_CHECKS
    assert {cid: a["checks"][cid]["status"] for cid in free} == {cid: c["checks"][cid]["status"] for cid in free}
    for cid in free:
        assert (_metric_statuses(a["checks"][cid], skip=ORIENTATION_DEPENDENT_METRICS)
                == _metric_statuses(c["checks"][cid], skip=ORIENTATION_DEPENDENT_METRICS)), cid


def test_threshold_free_scores_read_the_same_in_every_naming(namings):
    for n in ("b", "c"):
        for metric in ("accuracy", "balanced_accuracy", "roc_auc", "log_loss"):
            assert (namings[n]["checks"]["ST001"]["metrics"][metric]["value"]
                    == pytest.approx(namings["a"]["checks"]["ST001"]["metrics"][metric]["value"], abs=1e-12)), (n, metric)
        for cid, metric in ATTACK_AUCS | {("DR002", "domain_auc"), ("FR005", "max_proxy_auc"),
                                          ("LK003", "max_single_feature_score")}:
            assert (namings[n]["checks"][cid]["metrics"][metric]["value"]
                    == pytest.approx(namings["a"]["checks"][cid]["metrics"][metric]["value"], abs=1e-12)), (n, cid, metric)
        # PSI of p and of 1 - p: the same bins mirrored, equal up to rows on a bin edge.
        assert (namings[n]["checks"]["DR003"]["metrics"]["prediction_shift"]["value"]
                == pytest.approx(namings["a"]["checks"]["DR003"]["metrics"]["prediction_shift"]["value"], abs=0.01))


def test_no_auc_of_the_model_is_at_or_below_chance(namings):
    for n in NAMINGS:
        seen = []
        for cid, check in namings[n]["checks"].items():
            for name, metric in (check.get("metrics") or {}).items():
                is_auc = ("auc" in name or "roc" in name) and not name.endswith(("_p", "_p_value"))
                if (is_auc and (cid, name) not in ATTACK_AUCS) or (cid, name) in MODEL_AUCS_NAMED_OTHERWISE:
                    seen.append((cid, name))
                    assert metric["value"] > 0.5, (n, cid, name, metric["value"])
        assert ("ST001", "roc_auc") in seen and len(seen) >= 8
        assert namings[n]["checks"]["ST002"]["metrics"]["roc_auc_p"]["value"] < 1e-10


def test_f1_follows_the_declared_positive_class(namings):
    from sklearn.metrics import f1_score

    f1 = {n: namings[n]["checks"]["ST001"]["metrics"]["f1"]["value"] for n in NAMINGS}
    a = namings["a"]
    predicted = a["model"].predict(a["test"][a["features"]])
    assert f1["a"] == pytest.approx(f1_score(a["test"]["y"], predicted, pos_label=1))
    assert f1["b"] == pytest.approx(f1["a"])
    assert f1["c"] == pytest.approx(f1_score(a["test"]["y"], predicted, pos_label=0))
    assert f1["c"] < f1["a"] - 0.01  # malignant, the smaller class, is the harder one to find


def test_false_positive_and_false_negative_gaps_swap_with_the_positive_class(namings):
    a, c = (namings[n]["checks"]["FR001"]["metrics"] for n in ("a", "c"))
    assert c["max_false_positive_rate_gap"]["value"] == pytest.approx(a["max_false_negative_rate_gap"]["value"])
    assert c["max_false_negative_rate_gap"]["value"] == pytest.approx(a["max_false_positive_rate_gap"]["value"])
    assert a["max_false_positive_rate_gap"]["value"] != pytest.approx(a["max_false_negative_rate_gap"]["value"])


def test_positive_rate_change_flips_sign_with_the_positive_class(namings):
    a, c = (namings[n]["checks"]["DR003"]["metrics"]["positive_rate_change"]["value"] for n in ("a", "c"))
    assert a < -0.1  # the rougher current rows are predicted benign less often
    assert c == pytest.approx(-a)


def test_monotonic_declaration_is_about_the_positive_class(namings):
    # "Decreasing in worst radius" holds for P(benign) and is violated by P(malignant).
    rates = {n: namings[n]["checks"]["RB005"]["metrics"]["monotonicity_violation_rate"]["value"] for n in NAMINGS}
    assert rates["a"] == rates["b"] == 0.0
    assert namings["c"]["checks"]["RB005"]["status"] == "fail"
    assert rates["c"] > 0.3

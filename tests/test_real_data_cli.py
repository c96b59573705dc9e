"""Real-data regression suite: the real CLI on scikit-learn's bundled sets (offline).

Each case states the verdicts a careful reviewer gives. The clean models are plain pipelines
(StandardScaler + LogisticRegression, StandardScaler + Ridge for diabetes) on a 70/30 split,
random_state 0, stratified for classification; every audit runs once per module with the
policy's defaults, so the verdicts recorded here are the ones a user gets.

Every non-pass verdict below was read by hand; the numbers in the comments are the ones seen
when this file was written (seed 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MODEL_AREAS = ("overfitting", "leakage", "robustness", "calibration", "significance")
TASKS = {"breast_cancer": "binary", "wine": "multiclass", "digits": "multiclass", "diabetes": "regression"}

# Fails in the model areas that a statistician would defend, per data set.
DEFENDED_MODEL_AREA_FAILS = {
    "breast_cancer": set(),
    "wine": set(),
    "digits": set(),
    # 133 test rows put R² = 0.392 in a 95% interval of 0.248 to 0.527: 0.279 wide against a
    # fail level of 0.20 (about 260 rows would be needed, more than the 442-row data set's
    # 30% holds). The test set cannot say whether the model explains a quarter or half of
    # the variance. ST001 and ST003 read the same interval (by design), so both fail.
    "diabetes": {"ST001", "ST003"},
}

# Every non-pass, non-skipped verdict of each clean audit that a reviewer defends, with why.
DEFENDED_VERDICTS = {
    "breast_cancer": {
        "CA001": "inconclusive",  # 171 test rows, below the 300 the calibration error needs
        "DQ006": "warn",          # heavy right tails: 13.8% of 'area error' beyond the robust z level
        "DQ011": "fail",          # 'mean radius' and 'mean area' are one measurement (|Spearman| 1.000)
        "EX002": "fail",          # top-5 importance ranks agree at tau 0.23, overlap 0.32 over resamples
        "EX003": "fail",          # permutation importance and SHAP top-5 overlap 0.25 (near-copies)
        "EX004": "fail",          # 77.9% of SHAP importance in correlated groups (fail above 25%)
        "GV001": "fail",          # no model card in the policy: legitimately undocumented
        "LK003": "warn",          # 'worst radius' alone reaches test ROC AUC 0.957 (warn 0.95): a
                                  # real clinical signal, but one a reviewer should look at
        "OF004": "inconclusive",  # error 3/398 train vs 7/171 test: ratio 0.18, interval 0.013 to 1
        "ST003": "warn",          # rarest class (0, malignant) has 64 test rows, below 100
    },
    "wine": {
        "CA001": "inconclusive",  # 54 test rows
        "DQ006": "warn",          # 'malic_acid' is right-skewed: 6.45% beyond the robust z level
        "EX002": "fail",          # on 54 rows the top-5 ranks agree at tau 0.47, overlap 0.55
        "EX003": "warn",          # permutation and SHAP top-5 overlap 0.43
        "EX004": "warn",          # {total_phenols, flavanoids} carry 14.7% of SHAP importance
        "GV001": "fail",
        "LK002": "inconclusive",  # near-duplicate excess +2.1% (interval -2.8% to +11%, p 0.35)
        "OF004": "inconclusive",  # no error on train (124) nor test (54): nothing to compare
        "RB006": "inconclusive",  # 54 rows, too few for 50-row slices
        "ST003": "inconclusive",  # every class has fewer than 30 test rows (15 to 21)
    },
    "digits": {
        "DQ003": "fail",          # 4 pixels are constant in train (pixel_0_0, pixel_3_0, pixel_4_0, pixel_4_7)
        "DQ011": "warn",          # pixel_0_2 and pixel_7_2 correlate at |Spearman| 0.939
        "EX002": "fail",          # top-5 of 64 pixels agree at tau 0.23, overlap 0.52 over resamples
        "GV001": "fail",
        "OF004": "inconclusive",  # error 2/1257 train vs 15/540 test: ratio 0.057, interval 0.0028
                                  # to 0.45, wholly below the warn level 0.5: at least warn, undecided
        "ST003": "warn",          # rarest class (8) has 52 test rows, below 100
    },
    "diabetes": {
        "EX002": "warn",          # top-5 rank agreement tau 0.76 (warn below 0.8)
        "EX004": "warn",          # {s1, s2} carry 20.6% of SHAP importance
        "GV001": "fail",
        "OF001": "inconclusive",  # R² 0.554 train vs 0.392 test, gap 0.162 (interval 0.027 to 0.331)
        "OF002": "inconclusive",  # test R² 0.392 vs CV mean 0.504: difference 0.112 (interval 0 to 0.30)
        "ST001": "fail",          # see DEFENDED_MODEL_AREA_FAILS
        "ST003": "fail",
    },
}

# Non-pass verdicts left unasserted because a reviewer would not defend them (see the report
# of the session that wrote this file): digits DQ006 warns that 22.2% of 'pixel_4_6' are
# outliers, but they are the values 7 to 14 of a fixed 0-16 intensity scale (the most common
# non-zero value, 8, among them); the robust z-score of a zero-inflated bounded column calls
# the upper half of the scale outlying.
UNASSERTED = {"digits": {"DQ006"}}


def _load(name: str):
    from sklearn import datasets

    if name == "diabetes":
        return datasets.load_diabetes(as_frame=True, scaled=False).frame
    return getattr(datasets, f"load_{name}")(as_frame=True).frame


def _write_case(folder: Path, name: str, *, planted_leak: bool = False) -> dict[str, str]:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _load(name).rename(columns={"target": "y"})
    if planted_leak:
        frame = frame.assign(leak=frame["y"] * 3)
    classification = TASKS[name] != "regression"
    train, test = train_test_split(frame, test_size=0.3, random_state=0,
                                   stratify=frame["y"] if classification else None)
    features = [c for c in frame.columns if c != "y"]
    estimator = LogisticRegression(max_iter=2000) if classification else Ridge(alpha=1.0)
    model = make_pipeline(StandardScaler(), estimator).fit(train[features], train["y"])
    folder.mkdir(parents=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    sio.dump(model, folder / "model.skops")
    return {"model": str(folder / "model.skops"), "train": str(folder / "train.csv"), "test": str(folder / "test.csv")}


def _audit(folder: Path, files: dict[str, str]) -> tuple[int, dict, str]:
    out = folder / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "--model", files["model"], "--train", files["train"],
         "--test", files["test"], "--target", "y", "--format", "json", "--out", str(out), "-q"],
        check=False, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode, json.loads((out / "report.json").read_text()), proc.stdout


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    """Each audit runs once, on first use: name -> (exit code, report, stdout)."""
    root = tmp_path_factory.mktemp("real_data")
    cache: dict[str, tuple[int, dict, str]] = {}

    def get(name: str, *, planted_leak: bool = False):
        key = name + ("+leak" if planted_leak else "")
        if key not in cache:
            folder = root / key
            cache[key] = _audit(folder, _write_case(folder, name, planted_leak=planted_leak))
        return cache[key]

    return get


def _statuses(report: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


@pytest.mark.parametrize("name", list(TASKS))
def test_clean_model_passes_the_gate_with_the_task_inferred(audits, name):
    code, report, _ = audits(name)
    assert code == 0
    assert report["gate"]["passed"] is True and report["gate"]["blocking"] == []
    assert report["task"]["inferred"] is True
    assert report["task"]["type"] == TASKS[name]
    assert not [c["id"] for c in report["checks"] if c["status"] == "error"]


@pytest.mark.parametrize("name", list(TASKS))
def test_no_unjustified_fail_in_the_model_areas(audits, name):
    _, report, _ = audits(name)
    fails = {c["id"] for c in report["checks"] if c["area"] in MODEL_AREAS and c["status"] == "fail"}
    assert fails == DEFENDED_MODEL_AREA_FAILS[name]


@pytest.mark.parametrize("name", list(TASKS))
def test_non_pass_verdicts_are_the_defended_ones(audits, name):
    _, report, _ = audits(name)
    statuses = _statuses(report)
    assert {cid: statuses[cid] for cid in DEFENDED_VERDICTS[name]} == DEFENDED_VERDICTS[name]
    # Anything else not passing is a new verdict that needs a reviewer's reading.
    unread = {cid: s for cid, s in statuses.items()
              if s not in ("pass", "skipped") and cid not in DEFENDED_VERDICTS[name].keys() | UNASSERTED.get(name, set())}
    assert unread == {}


def test_diabetes_significance_fails_read_one_wide_r2_interval(audits):
    _, report, _ = audits("diabetes")
    checks = {c["id"]: c for c in report["checks"]}
    r2 = checks["ST001"]["metrics"]["r2"]
    width = checks["ST001"]["metrics"]["max_ci_width"]["value"]
    assert width == pytest.approx(r2["ci_high"] - r2["ci_low"])
    assert width == pytest.approx(checks["ST003"]["metrics"]["ci_width"]["value"])
    assert 0.2 < width < 0.35
    assert checks["ST001"]["severity"] == checks["ST003"]["severity"] == "medium"  # never blocks at fail_on high


def test_breast_cancer_auc_and_single_feature_strength(audits):
    _, report, _ = audits("breast_cancer")
    checks = {c["id"]: c for c in report["checks"]}
    assert report["task"]["classes"] == [0, 1] and report["task"]["positive_label"] == 1
    assert checks["ST001"]["metrics"]["roc_auc"]["value"] > 0.95
    assert checks["LK003"]["status"] in ("warn", "pass")
    # The strongest single feature is a genuine predictor, short of the model and of the fail level.
    lk3 = checks["LK003"]["metrics"]
    assert lk3["max_single_feature_score"]["value"] < lk3["max_single_feature_score"]["threshold"]["fail"]
    assert lk3["max_single_feature_score"]["value"] < lk3["model_test_score"]["value"]


def test_planted_target_copy_fails_lk003_and_the_gate(audits):
    code, report, out = audits("breast_cancer", planted_leak=True)
    assert code == 1
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["LK003"]["status"] == "fail"
    assert "'leak' (1.000)" in checks["LK003"]["summary"]
    assert checks["LK003"]["metrics"]["max_single_feature_score"]["value"] == pytest.approx(1.0)
    assert report["gate"]["blocking"] == ["LK003"]
    assert "LK003 target-leakage failed at severity critical" in out

"""A realistic report dict for renderer tests and previews.

It covers every status, a waived fail, an expired waiver, an error with its traceback,
a skipped check, metrics with and without confidence intervals, evidence tables with
hostile strings in column names and values, a long and a wide table, real SVG figures
drawn with matplotlib, a plugin check in an area the core does not know, and a
summary with Markdown-breaking characters.

Run as a script to write every format into a folder:
``python tests/sample_report.py /tmp/render_preview``.
"""

from __future__ import annotations

import io
from typing import Any

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'

TRAIN_SHA = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e"
TEST_SHA = "1a3c5b7d9f1e9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e"
MODEL_SHA = "c0ffee00d15ea5e5c0ffee00d15ea5e5c0ffee00d15ea5e5c0ffee00d15ea5e5"
POLICY_SHA = "5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e9f2c4e6a8b0d1f3e5a7c9b1d3f"

TRACEBACK = """Traceback (most recent call last):
  File "/work/main/auditor/runner.py", line 88, in run_one
    findings = check.run(ctx, params)
  File "/work/main/checks/robustness.py", line 142, in run
    perturbed = self._perturb(frame, columns, scale=params["noise_scale"])
  File "/work/main/checks/robustness.py", line 61, in _perturb
    raise ValueError(f"cannot add Gaussian noise to non-numeric column {col!r}")
ValueError: cannot add Gaussian noise to non-numeric column 'native-country'
"""


def _svg_bar_chart(title: str, labels: list[str], values: list[float], *, xlabel: str,
                   reference: float | None = None) -> str:
    """A small horizontal bar chart as deterministic SVG text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "auditor", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6.0, 0.45 * len(labels) + 1.0))
        ax.barh(labels, values, color="#4a6fa5")
        if reference is not None:
            ax.axvline(reference, color="#b42318", linestyle="--", linewidth=1)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.invert_yaxis()
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
    return buf.getvalue()


def _metric(value, *, description="", ci=None, threshold=None, status=None) -> dict[str, Any]:
    return {
        "value": value,
        "ci_low": ci[0] if ci else None,
        "ci_high": ci[1] if ci else None,
        "description": description,
        "threshold": threshold,
        "status": status,
    }


def _above(warn, fail) -> dict[str, Any]:
    return {"direction": "above", "warn": warn, "fail": fail}


def _below(warn, fail) -> dict[str, Any]:
    return {"direction": "below", "warn": warn, "fail": fail}


def _check(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "", "name": "", "area": "", "title": "", "status": "pass", "severity": "medium",
        "summary": "", "recommendation": "", "metrics": {}, "evidence": [], "figures": [],
        "references": [], "practices": [], "params": {}, "sample": None, "waiver": None,
        "error": None, "duration_s": 0.01, "source": "auditor 0.1.0",
    }
    base.update(fields)
    return base


def _checks(with_figures: bool) -> list[dict[str, Any]]:
    parity_svg = _svg_bar_chart(
        "Selection rate by sex", ["Female", "Male"], [0.078, 0.236],
        xlabel="share predicted >50K", reference=0.186,
    ) if with_figures else None
    importance_svg = _svg_bar_chart(
        "Permutation importance (test)",
        ["capital-gain", "relationship", "education-num", "age", "marital-status",
         "occupation", "hours-per-week", "capital-loss"],
        [0.102, 0.061, 0.048, 0.033, 0.021, 0.017, 0.012, 0.008],
        xlabel="drop in ROC AUC when shuffled",
    ) if with_figures else None

    native_rows = [[f"country-{i:02d}", "test", 0.0008 * (40 - i), i * 3] for i in range(40)]

    return [
        _check(
            id="DQ001", name="missing-values", area="data_quality",
            title="Missing and disguised-missing values", status="warn", severity="medium",
            summary="3 columns have missing values; the worst, workclass, misses 5.66% of test rows.",
            recommendation="Impute workclass, occupation and native-country deliberately "
                           "(mode or a model-based imputer) or add an explicit 'unknown' category.",
            metrics={
                "max_missing_rate": _metric(0.0566, description="largest share of missing values in any column",
                                            threshold=_above(0.05, 0.3), status="warn"),
                "columns_with_missing": _metric(3, description="columns with at least one missing value"),
            },
            evidence=[{
                "title": "Columns with missing values",
                "columns": ["column", "dataset", "rate", "placeholders"],
                "rows": [["workclass", "test", 0.0566, "?"], ["occupation", "test", 0.0567, "?"],
                         ["native-country", "train", 0.0179, "?"]],
                "note": "Placeholders counted as missing: '?', 'NA', empty string.",
            }],
            references=["Little & Rubin, Statistical Analysis with Missing Data, 3rd ed. (2019)"],
            practices=["P1.2", "P1.9"], params={"placeholders": ["?", "NA", ""]},
            duration_s=0.041,
        ),
        _check(
            id="DQ002", name="duplicate-rows", area="data_quality",
            title="Duplicate records within and across splits", status="pass", severity="medium",
            summary="0.07% of training rows are exact duplicates, below the 1% warning level.",
            recommendation="No action needed.",
            metrics={"duplicate_rate": _metric(0.00074, description="share of training rows that repeat an earlier row",
                                               threshold=_above(0.01, 0.05), status="pass")},
            practices=["P1.4"], duration_s=0.12,
        ),
        _check(
            id="DQ003", name="hostile-names", area="data_quality",
            title=f"Schema consistency {HOSTILE_SCRIPT}", status="warn", severity="low",
            summary=f"Column {HOSTILE_SCRIPT} and value {HOSTILE_ATTR} look | odd `here`\nacross splits.",
            recommendation=f"Rename column {HOSTILE_SCRIPT}.",
            metrics={
                HOSTILE_SCRIPT: _metric(0.2, description=HOSTILE_ATTR, threshold=_above(0.1, 0.5), status="warn"),
            },
            evidence=[{
                "title": f"Suspicious columns {HOSTILE_ATTR}",
                "columns": ["column", HOSTILE_SCRIPT, "note"],
                "rows": [[HOSTILE_SCRIPT, HOSTILE_ATTR, "a | pipe"],
                         ["x" * 90, "javascript:alert(1)", None]],
                "note": HOSTILE_SCRIPT,
            }],
            references=[HOSTILE_ATTR], practices=["P1.5"],
        ),
        _check(
            id="DQ004", name="conflicting-labels", area="data_quality",
            title="Identical features with different labels", status="fail", severity="high",
            summary="412 groups of identical feature rows carry both labels (2.53% of training rows).",
            recommendation="Review the labelling process for these rows; drop or relabel the conflicts "
                           "before retraining.",
            metrics={"conflict_rate": _metric(0.0253, ci=(0.0236, 0.0271),
                                              description="share of training rows in a conflicting group",
                                              threshold=_above(0.005, 0.02), status="fail")},
            evidence=[{
                "title": "Largest conflicting groups",
                "columns": ["age", "workclass", "education", "occupation", "hours-per-week",
                            "rows", "share >50K"],
                "rows": [[39, "Private", "HS-grad", "Craft-repair", 40, 23, 0.26],
                         [36, "Private", "HS-grad", "Machine-op-inspct", 40, 17, 0.18],
                         [28, "Private", "Some-college", "Adm-clerical", 40, 14, 0.21]],
                "note": "",
            }],
            practices=["P1.9", "P1.4"], duration_s=0.33,
        ),
        _check(
            id="DQ005", name="rare-categories", area="data_quality",
            title="Rare categories in categorical features", status="pass", severity="low",
            summary="native-country has 40 categories; the rare ones are listed for review.",
            recommendation="Consider grouping categories with fewer than 30 rows.",
            metrics={"rare_category_share": _metric(0.011, description="share of rows in rare categories",
                                                    threshold=_above(0.05, 0.2), status="pass")},
            evidence=[{"title": "Categories of native-country", "columns": ["category", "dataset", "rate", "rows"],
                       "rows": native_rows, "note": "A long table: it may break across pages between rows."}],
            practices=["P1.9"],
        ),
        _check(
            id="LK002", name="train-test-overlap", area="leakage",
            title="Rows shared between training and test sets", status="fail", severity="high",
            summary="1.9% of test rows also appear in the training set.",
            recommendation="Deduplicate across splits before evaluating.",
            metrics={"overlap_rate": _metric(0.019, description="share of test rows found in training data",
                                             threshold=_above(0.001, 0.01), status="fail")},
            waiver={"reason": "Census records legitimately repeat; accepted for the 2026 model review.",
                    "owner": "Jane Doe", "expires": "2027-01-31", "active": True, "expired": False},
            practices=["P4.2", "P1.7"], duration_s=0.08,
        ),
        _check(
            id="OF001", name="train-test-gap", area="overfitting",
            title="Generalisation gap between training and test scores", status="warn", severity="medium",
            summary="ROC AUC drops by 0.031 from training to test.",
            recommendation="Regularise more strongly or stop earlier.",
            metrics={"auc_gap": _metric(0.031, ci=(0.022, 0.040), description="train ROC AUC minus test ROC AUC",
                                        threshold=_above(0.02, 0.05), status="warn")},
            waiver={"reason": "Known gap, tracked in MRM-112.", "owner": "Sam Lee", "expires": "2026-06-30",
                    "active": False, "expired": True},
            practices=["P3.3", "P3.2"], duration_s=0.52,
        ),
        _check(
            id="SG001", name="baseline-comparison", area="significance",
            title="Improvement over a majority-class baseline", status="inconclusive", severity="medium",
            summary="Balanced accuracy beats the baseline by 0.012; the 95% interval [-0.004, 0.028] "
                    "contains the required margin.",
            recommendation="Evaluate on more data to decide.",
            metrics={
                "balanced_accuracy_gain": _metric(0.012, ci=(-0.004, 0.028),
                                                  description="balanced accuracy minus the baseline's",
                                                  threshold=_below(0.02, 0.0), status="inconclusive"),
                "p_value": _metric(0.0000412, description="paired bootstrap p-value (Holm-corrected)"),
            },
            sample={"role": "test", "rows_used": 20000, "rows_available": 100000, "seed": 123},
            practices=["P4.6", "P4.3"], duration_s=1.43,
        ),
        _check(
            id="RB001", name="noise-stability", area="robustness",
            title="Stability of predictions under small input noise", status="error", severity="medium",
            summary="The check raised ValueError: cannot add Gaussian noise to non-numeric column 'native-country'.",
            recommendation="",
            error={"type": "ValueError",
                   "message": "cannot add Gaussian noise to non-numeric column 'native-country'",
                   "traceback": TRACEBACK},
            practices=["P4.3"], duration_s=0.02,
        ),
        _check(
            id="DR001", name="feature-drift", area="drift",
            title="Distribution shift between training and production data", status="skipped", severity="medium",
            summary="skipped: no current (production) sample was given (--current)",
            practices=["P6.3", "P4.7"], duration_s=0.0,
        ),
        _check(
            id="FR001", name="demographic-parity", area="fairness",
            title="Selection rate gap between groups", status="fail", severity="high",
            summary="The selection rate for Female (7.8%) is 15.8 points below Male (23.6%).",
            recommendation="Investigate the features that proxy for sex; consider a fairness-constrained "
                           "threshold (fairlearn ThresholdOptimizer) and re-audit.",
            metrics={
                "selection_rate_difference": _metric(0.158, ci=(0.149, 0.167),
                                                     description="largest gap in selection rate between groups",
                                                     threshold=_above(0.05, 0.1), status="fail"),
                "disparate_impact_ratio": _metric(0.33, ci=(0.30, 0.36),
                                                  description="lowest group selection rate / highest",
                                                  threshold=_below(0.8, 0.6), status="fail"),
            },
            evidence=[{"title": "Selection rate by group (sex)",
                       "columns": ["group", "rows", "selection rate", "ci_low", "ci_high"],
                       "rows": [["Female", 5421, 0.078, 0.071, 0.085], ["Male", 10860, 0.236, 0.228, 0.244]],
                       "note": ""}],
            figures=[{"title": "Selection rate by sex", "svg": parity_svg,
                      "caption": "Dashed line: overall selection rate (18.6%)."}] if parity_svg else [],
            references=["Barocas, Hardt & Narayanan, Fairness and Machine Learning (2023), ch. 3",
                        "fairlearn.metrics.demographic_parity_difference"],
            practices=["P8.1"], params={"sensitive": "sex", "n_bootstrap": 500},
            sample={"role": "test", "rows_used": 16281, "rows_available": 16281, "seed": 0},
            duration_s=0.91,
        ),
        _check(
            id="EX001", name="permutation-importance", area="explainability",
            title="Features that drive the model's predictions", status="pass", severity="info",
            summary="capital-gain, relationship and education-num carry most of the signal; "
                    "no sensitive feature is among the top three.",
            recommendation="Cross-check with SHAP values before drawing conclusions.",
            metrics={"top_feature_importance": _metric(0.102, ci=(0.094, 0.110),
                                                       description="drop in ROC AUC for the most important feature")},
            figures=[{"title": "Permutation importance", "svg": importance_svg,
                      "caption": "Mean drop in ROC AUC over 10 shuffles of each feature."}] if importance_svg else [],
            practices=["P5.3", "P5.4"],
            sample={"role": "test", "rows_used": 5000, "rows_available": 16281, "seed": 0},
            duration_s=2.75,
        ),
        _check(
            id="GV001", name="model-card-present", area="governance",
            title="Model documentation is present", status="pass", severity="low",
            summary="A model card was found next to the model file.",
            practices=["P8.3", "P8.4"], duration_s=0.0,
        ),
        _check(
            id="ACME001", name="latency-budget", area="acme_operations",
            title="Prediction latency within budget", status="pass", severity="low",
            summary="p99 latency is 3.1 ms per row, under the 10 ms budget.",
            metrics={"p99_latency_ms": _metric(3.1, description="99th percentile latency per row",
                                               threshold=_above(5, 10), status="pass")},
            source="acme-audit-checks 1.2.0", practices=["P6.1"],
        ),
    ]


def summarise(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's ``summary``: counts by status and by area."""
    by_status = {s: 0 for s in ("pass", "warn", "fail", "inconclusive", "error", "skipped")}
    by_area: dict[str, dict[str, int]] = {}
    for c in checks:
        by_status[c["status"]] += 1
        area = by_area.setdefault(c["area"], {})
        area[c["status"]] = area.get(c["status"], 0) + 1
    return {"by_status": by_status, "by_area": by_area}


def build_sample_report(*, with_figures: bool = True) -> dict[str, Any]:
    """A complete report dict as the engine writes it to report.json."""
    checks = _checks(with_figures)
    return {
        "schema_version": "1.0",
        "auditor_version": "0.1.0",
        "created_at": "2026-11-27T03:40:00+00:00",
        "title": "Audit of model.skops",
        "inputs": {
            "model": {"path": "examples/adult/model.skops", "sha256": MODEL_SHA, "kind": "sklearn",
                      "class": "sklearn.pipeline.Pipeline",
                      "steps": ["prep: ColumnTransformer", "clf: HistGradientBoostingClassifier"],
                      "n_features": 14},
            "datasets": {
                "train": {"path": "examples/adult/adult_train.csv.gz", "sha256": TRAIN_SHA,
                          "rows": 32561, "columns": 15},
                "test": {"path": "examples/adult/adult_test.csv.gz", "sha256": TEST_SHA,
                         "rows": 16281, "columns": 15},
            },
            "policy": {"path": "audit.yaml", "sha256": POLICY_SHA},
        },
        "task": {"type": "binary", "inferred": True, "target": "income", "positive_label": ">50K",
                 "classes": ["<=50K", ">50K"],
                 "features": ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
                              "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
                              "hours-per-week", "native-country"],
                 "sensitive": ["sex", "race"], "id_column": None, "group_column": None, "time_column": None},
        "environment": {"python": "3.11.7", "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
                        "packages": {"numpy": "2.4.6", "pandas": "3.1.1", "scikit-learn": "1.8.0",
                                     "scipy": "1.17.0", "skops": "0.12.0"}},
        "plugins": [
            {"distribution": "auditor", "version": "0.1.0", "entry_point": "data_quality",
             "checks": ["DQ001", "DQ002", "DQ003", "DQ004", "DQ005"]},
            {"distribution": "acme-audit-checks", "version": "1.2.0", "entry_point": "acme",
             "checks": ["ACME001"]},
        ],
        "policy": {"fail_on": "high", "allow_errors": False, "select": ["ALL"], "ignore": [],
                   "checks": {"DQ001": {"thresholds": {"max_missing_rate": {"warn": 0.05, "fail": 0.3}}}},
                   "waivers": [{"check": "LK002", "reason": "Census records legitimately repeat; accepted "
                                "for the 2026 model review.", "owner": "Jane Doe", "expires": "2027-01-31"},
                               {"check": "OF001", "reason": "Known gap, tracked in MRM-112.",
                                "owner": "Sam Lee", "expires": "2026-06-30"}]},
        "policy_sha256": POLICY_SHA,
        "seed": 0,
        "notes": ["task inferred as binary: the target has 2 distinct values",
                  "positive label '>50K' chosen as the minority class",
                  "waiver for OF001 expired on 2026-06-30 and was not applied"],
        "summary": summarise(checks),
        "gate": {"passed": False, "exit_code": 1, "fail_on": "high", "allow_errors": False,
                 "reasons": ["DQ004 conflicting-labels failed at severity high (fail_on: high)",
                             "FR001 demographic-parity failed at severity high (fail_on: high)",
                             "RB001 noise-stability errored (allow_errors: false)"]},
        "duration_s": 6.48,
        "checks": checks,
    }


def passing_report() -> dict[str, Any]:
    """A small report whose gate passes: every check passes."""
    report = build_sample_report(with_figures=False)
    report["checks"] = [c for c in report["checks"] if c["status"] == "pass"]
    report["gate"] = {"passed": True, "exit_code": 0, "fail_on": "high", "allow_errors": False, "reasons": []}
    report["summary"] = summarise(report["checks"])
    return report


if __name__ == "__main__":  # pragma: no cover - a preview helper
    import sys

    from auditor.render import FORMATS, write_reports

    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/render_preview"
    for fmt, path in write_reports(build_sample_report(), out, FORMATS).items():
        print(fmt, path)

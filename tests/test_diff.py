"""Audit diff (auditor.reportdata.diff, ``auditor diff``) and the baseline gate (``auditor run --baseline-report``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from auditor.contract.results import CheckResult
from auditor.engine.gate import evaluate_gate
from auditor.render.diff import diff_html, diff_markdown, diff_text
from auditor.reportdata.diff import diff_reports
from tests.sample_report import build_sample_report
from tests.test_cli import run_cli


def _metric(value, ci=None):
    low, high = ci if ci else (None, None)
    return {"value": value, "ci_low": low, "ci_high": high, "description": "", "threshold": None, "status": None,
            "p_value": False, "adjusted": None}


def _check(cid, status, metrics=None, severity="high"):
    return {"id": cid, "name": f"name-{cid.lower()}", "title": f"Title {cid}", "area": "overfitting",
            "status": status, "severity": severity, "summary": f"summary of {cid}", "metrics": metrics or {}}


def _report(checks, *, passed=True):
    return {"schema_version": "1.0", "created_at": "2026-01-01T00:00:00+00:00", "title": "t",
            "inputs": {"model": {"path": "m.skops", "sha256": "ab"}},
            "gate": {"passed": passed, "exit_code": 0 if passed else 1}, "checks": checks}


OLD = _report([
    _check("OF001", "pass", {"gap": _metric(0.03, (0.02, 0.04))}),
    _check("DQ001", "fail", {"missing": _metric(0.2)}),
    _check("RB001", "warn", {"flip": _metric(0.05, (0.04, 0.06))}),
    _check("ST001", "pass", {"auc": _metric(0.90, (0.88, 0.92)), "n": _metric(100)}),
    _check("XX001", "pass"),
])
NEW = _report([
    _check("OF001", "fail", {"gap": _metric(0.25, (0.24, 0.26))}),            # new failure, metric beyond its interval
    _check("DQ001", "pass", {"missing": _metric(0.0)}),                       # resolved, plain change (no interval)
    _check("RB001", "pass", {"flip": _metric(0.055, (0.045, 0.065))}),        # status change, metric within noise
    _check("ST001", "pass", {"auc": _metric(0.91, (0.89, 0.93)), "n": _metric(100)}),  # nothing changed
    _check("NW001", "error"),                                                 # added and failing
], passed=False)


def test_diff_sorts_every_kind_of_change():
    d = diff_reports(OLD, NEW, old_label="old", new_label="new")
    assert [c["id"] for c in d["new_failures"]] == ["OF001", "NW001"]
    assert d["new_failures"][0]["old_status"] == "pass" and d["new_failures"][0]["new_status"] == "fail"
    assert d["new_failures"][1]["old_status"] is None
    assert [c["id"] for c in d["resolved"]] == ["DQ001"]
    assert [(c["id"], c["old_status"], c["new_status"]) for c in d["status_changes"]] == [("RB001", "warn", "pass")]
    assert [c["id"] for c in d["added"]] == ["NW001"] and [c["id"] for c in d["removed"]] == ["XX001"]
    assert [(m["id"], m["metric"], m["direction"]) for m in d["metric_changes"]] == [("OF001", "gap", "up")]
    assert [(m["id"], m["metric"]) for m in d["metric_changes_without_interval"]] == [("DQ001", "missing")]
    assert d["gate_changed"] is True
    json.dumps(d)  # plain data: it goes into report.json as baseline_diff


def test_metric_change_needs_each_value_outside_the_other_interval():
    def changed(old, new):
        d = diff_reports(_report([_check("A001", "pass", {"m": old})]), _report([_check("A001", "pass", {"m": new})]))
        return bool(d["metric_changes"]), bool(d["metric_changes_without_interval"])

    assert changed(_metric(0.50, (0.45, 0.55)), _metric(0.60, (0.56, 0.64))) == (True, False)
    # The new value is outside the old interval but the old value lies inside the (wide) new one.
    assert changed(_metric(0.50, (0.45, 0.55)), _metric(0.60, (0.40, 0.80))) == (False, False)
    assert changed(_metric(0.50, (0.45, 0.55)), _metric(0.52, (0.47, 0.57))) == (False, False)
    # One side without an interval: a plain change, listed apart; an equal value is no change.
    assert changed(_metric(0.50, (0.45, 0.55)), _metric(0.60)) == (False, True)
    assert changed(_metric(3), _metric(3)) == (False, False)
    assert changed(_metric(3), _metric(None)) == (False, True)


def test_identical_reports_have_no_diff():
    report = build_sample_report(with_figures=False)
    d = diff_reports(report, copy.deepcopy(report))
    assert all(v == 0 for v in d["counts"].values())
    assert "New failures (0)" in diff_text(d)


def test_views_show_the_changes_and_escape_hostile_text():
    hostile = copy.deepcopy(NEW)
    hostile["checks"][0]["summary"] = "<script>alert(1)</script> | x"
    d = diff_reports(OLD, hostile, old_label="old/report.json", new_label="new/report.json")
    text = diff_text(d)
    assert "New failures (2):" in text and "OF001 name-of001 [high]: pass -> fail" in text
    assert "OF001 gap: 0.03 [0.02, 0.04] -> 0.25 [0.24, 0.26]" in text
    assert "DQ001 missing: 0.2 -> 0 (no interval)" in text
    md = diff_markdown(d)
    assert "### New failures (2)" in md and "<script>" not in md and "\\|" in md
    assert "<summary>Metric changes without an interval (1): not judged against noise</summary>" in md
    html = diff_html(d)
    assert html.startswith("<!DOCTYPE html>") and "<script>" not in html and "&lt;script&gt;" in html
    assert '<section class="diff"' in html and "http://" not in html and "https://" not in html
    assert "<link" not in html and "src=" not in html


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_diff_cli_formats_and_output_file(capsys, tmp_path):
    old, new = _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", NEW)
    code, out, _ = run_cli(capsys, "diff", old, new)
    assert code == 0 and "New failures (2):" in out and f"auditor diff: {old} -> {new}" in out
    code, out, _ = run_cli(capsys, "diff", old, new, "--format", "markdown")
    assert code == 0 and out.startswith("## Audit diff:")
    target = tmp_path / "diff.html"
    code, out, _ = run_cli(capsys, "diff", old, new, "--format", "html", "--output", str(target))
    assert code == 0 and target.read_text().startswith("<!DOCTYPE html>")
    code, _, err = run_cli(capsys, "diff", old, new, "--output", old)
    assert code == 2 and "is one of the reports being compared" in err
    assert json.loads(Path(old).read_text()) == OLD


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "old report file not found"),
        ("{not json", "is not a valid report.json"),
        ("[1, 2]", "the top level is not an object"),
        (json.dumps({"schema_version": "1.0"}), "it lacks checks, gate, inputs, created_at"),
    ],
)
def test_diff_cli_bad_input_exits_2_with_one_line(capsys, tmp_path, content, message):
    old = str(tmp_path / "missing.json") if content is None else _write(tmp_path, "old.json", content)
    new = _write(tmp_path, "new.json", NEW)
    code, out, err = run_cli(capsys, "diff", old, new)
    assert code == 2 and message in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


# -- the baseline gate --------------------------------------------------------------

def _result(cid, status, severity="high"):
    return CheckResult(id=cid, name="n", area="data_quality", status=status, severity=severity, summary="",
                       error={"message": "boom"} if status == "error" else None)


def test_gate_baselines_known_failures_and_blocks_new_ones():
    from auditor.engine.policy import load_policy
    from auditor.engine.registry import load_registry

    policy = load_policy(None, [], load_registry())
    results = [_result("DQ004", "fail"), _result("OF001", "fail"), _result("LK001", "error")]
    plain = evaluate_gate(results, policy)
    assert plain["blocking"] == ["DQ004", "OF001", "LK001"] and "baselined" not in plain

    gate = evaluate_gate(results, policy, baseline={"DQ004": "fail", "OF001": "pass", "LK001": "error"})
    assert gate["blocking"] == ["OF001"] and gate["exit_code"] == 1
    assert gate["baselined_ids"] == ["DQ004", "LK001"]
    assert gate["baselined"][0] == "DQ004 n failed at severity high but already failed in the baseline audit: not blocking"
    # An error where the baseline failed is not the same finding: it still blocks.
    assert evaluate_gate([_result("LK001", "error")], policy, baseline={"LK001": "fail"})["exit_code"] == 1
    assert evaluate_gate([_result("DQ004", "fail")], policy, baseline={"DQ004": "fail"})["exit_code"] == 0


@pytest.mark.slow
def test_run_with_baseline_report_gates_only_on_new_findings(capsys, clean_audit_files, tmp_path):
    train = pd.read_csv(clean_audit_files["train"])
    flipped = train.sample(frac=0.1, random_state=0).assign(y=lambda d: 1 - d["y"])
    pd.concat([train, flipped]).to_csv(clean_audit_files["train"], index=False)
    base = ["run", "--quiet", "--model", clean_audit_files["model"], "--train", clean_audit_files["train"],
            "--test", clean_audit_files["test"], "--target", "y", "--set", "select=[DQ004, OF001]", "--format", "json,md,sarif"]
    code, out, _ = run_cli(capsys, *base, "--out", str(tmp_path / "first"))
    assert code == 1 and "DQ004 conflicting-labels failed" in out
    approved = tmp_path / "first" / "report.json"

    code, out, _ = run_cli(capsys, *base, "--out", str(tmp_path / "second"), "--baseline-report", str(approved))
    assert code == 0, out
    assert "baselined: DQ004 conflicting-labels failed at severity high but already failed in the baseline audit" in out
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    assert report["gate"]["baselined_ids"] == ["DQ004"] and report["gate"]["blocking"] == []
    assert next(c for c in report["checks"] if c["id"] == "DQ004")["baselined"] is True
    assert report["baseline_diff"]["counts"]["new_failures"] == 0
    assert report["baseline_diff"]["baseline_report"]["path"] == str(approved)
    summary = (tmp_path / "second" / "summary.md").read_text()
    assert "### Baselined: failed in the baseline audit too, not blocking" in summary
    assert "### Audit diff:" in summary
    sarif = json.loads((tmp_path / "second" / "report.sarif").read_text())
    dq004 = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "DQ004")
    assert dq004["level"] == "warning" and dq004["baselineState"] == "unchanged"  # SARIF follows the gate

    # A baseline in which DQ004 passed: its failure is new, and blocks.
    passed_before = json.loads(approved.read_text())
    next(c for c in passed_before["checks"] if c["id"] == "DQ004")["status"] = "pass"
    (tmp_path / "passed.json").write_text(json.dumps(passed_before))
    code, out, _ = run_cli(capsys, *base, "--out", str(tmp_path / "third"), "--baseline-report", str(tmp_path / "passed.json"))
    assert code == 1 and "gate: DQ004 conflicting-labels failed" in out
    report = json.loads((tmp_path / "third" / "report.json").read_text())
    assert [c["id"] for c in report["baseline_diff"]["new_failures"]] == ["DQ004"]


def test_run_with_bad_baseline_report_exits_2_before_the_audit(capsys, clean_audit_files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = run_cli(capsys, "run", "--quiet", "--model", clean_audit_files["model"], "--train", clean_audit_files["train"],
                             "--test", clean_audit_files["test"], "--target", "y", "--out", str(tmp_path / "o"),
                             "--baseline-report", str(bad))
    assert code == 2 and "--baseline-report" in err and "is not a valid report.json" in err
    assert not (tmp_path / "o").exists()


def test_diff_section_partial_needs_only_the_diff_dict():
    """The main report can include the partial with nothing but the JSON-ready diff (as stored in report.json)."""
    from importlib import resources

    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = resources.files("auditor.templates").joinpath("_diff_section.html.j2").read_text(encoding="utf-8")
    stored = json.loads(json.dumps(diff_reports(OLD, NEW, old_label="approved", new_label="now")))
    html = env.from_string(source).render(diff=stored)
    assert "<h2>Changes since approved</h2>" in html and "<h3>New failures (2)</h3>" in html
    assert "0.03 [0.02, 0.04]" in html

"""Engine: thresholds, policy, planning, runner isolation, gate and registry."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.check import Threshold
from auditor.contract.context import AuditContext
from auditor.contract.results import CheckResult, Metric
from auditor.engine.gate import attach_waivers, evaluate_gate
from auditor.engine.planning import plan_checks
from auditor.engine.policy import apply_overrides, validate_policy
from auditor.engine.registry import Registered, Registry
from auditor.engine.runner import run_checks
from auditor.engine.thresholds import judge, judge_metric
from auditor.util.errors import PolicyError, RegistryError
from tests.conftest import fit_pipeline, make_binary_frame
from tests.engine_checks import ALL, Raises, ShareAbove, UsesPredictions


def make_registry(classes=ALL) -> Registry:
    reg = Registry()
    for cls in classes:
        reg.add(Registered(cls=cls, distribution="auditor", version="0", entry_point="tests"))
    return reg


@pytest.fixture()
def ctx():
    frame = make_binary_frame(400, seed=3)
    train, test = frame.iloc[:300], frame.iloc[300:].reset_index(drop=True)
    model = SklearnAdapter(fit_pipeline(train))
    return AuditContext(
        datasets={"train": train, "test": test},
        target="y",
        task="binary",
        features=["x1", "x2", "colour", "noise"],
        model=model,
        positive_label=1,
        classes=[0, 1],
    )


# -- thresholds -----------------------------------------------------------------
@pytest.mark.parametrize(
    "value,expected", [(0.1, "pass"), (0.4, "pass"), (0.41, "warn"), (0.6, "warn"), (0.61, "fail")]
)
def test_above_threshold_levels_are_strict(value, expected):
    assert judge_metric(Metric(value), Threshold(direction="above", warn=0.4, fail=0.6)) == expected


@pytest.mark.parametrize("value,expected", [(0.9, "pass"), (0.19, "warn"), (0.04, "fail")])
def test_below_threshold_levels(value, expected):
    assert judge_metric(Metric(value), Threshold(direction="below", warn=0.2, fail=0.05)) == expected


def test_interval_straddling_fail_level_is_inconclusive():
    th = Threshold(direction="above", warn=0.05, fail=0.1)
    assert judge_metric(Metric(0.12, ci_low=0.08, ci_high=0.16), th) == "inconclusive"
    assert judge_metric(Metric(0.12, ci_low=0.11, ci_high=0.16), th) == "fail"
    assert judge_metric(Metric(0.03, ci_low=0.01, ci_high=0.05), th) == "pass"
    assert judge_metric(Metric(None), th) == "inconclusive"


def test_judge_takes_worst_metric_and_records_threshold():
    metrics = {"a": Metric(0.5), "b": Metric(0.9), "untested": Metric(99)}
    status = judge(metrics, {"a": {"direction": "above", "warn": 0.4, "fail": 0.6}, "b": {"direction": "above", "warn": 0.1, "fail": 0.8}})
    assert status == "fail"
    assert metrics["a"].status == "warn" and metrics["b"].status == "fail"
    assert metrics["a"].threshold == {"direction": "above", "warn": 0.4, "fail": 0.6}
    assert metrics["untested"].status is None


# -- policy ----------------------------------------------------------------------
def test_unknown_top_level_key_suggests_nearest():
    with pytest.raises(PolicyError, match=r"unknown key 'fail_onn'; did you mean 'fail_on'\?"):
        validate_policy({"fail_onn": "high"}, make_registry())


def test_unknown_check_id_suggests_nearest():
    with pytest.raises(PolicyError, match=r"checks.TST01 is not a known check ID; did you mean 'TST001'\?"):
        validate_policy({"checks": {"TST01": {}}}, make_registry())


def test_threshold_out_of_range_message():
    raw = {"checks": {"TST001": {"thresholds": {"share": {"fail": 1.5}}}}}
    with pytest.raises(PolicyError) as err:
        validate_policy(raw, make_registry(), source="audit.yaml")
    assert str(err.value) == (
        "audit.yaml: checks.TST001.thresholds.share.fail must be a number in [0, 1] or null; got 1.5."
    )


def test_threshold_of_wrong_type_and_unknown_metric():
    with pytest.raises(PolicyError, match="must be a number"):
        validate_policy({"checks": {"TST001": {"thresholds": {"share": {"warn": "high"}}}}}, make_registry())
    with pytest.raises(PolicyError, match=r"unknown metric 'shares'; did you mean 'share'\?"):
        validate_policy({"checks": {"TST001": {"thresholds": {"shares": {"warn": 0.1}}}}}, make_registry())


def test_param_bounds_and_severity_validated():
    with pytest.raises(PolicyError, match=r"params.cut must be a number in \[-10, 10\]; got 50"):
        validate_policy({"checks": {"TST001": {"params": {"cut": 50}}}}, make_registry())
    with pytest.raises(PolicyError, match="severity must be one of"):
        validate_policy({"checks": {"TST001": {"severity": "huge"}}}, make_registry())


def test_waiver_requires_all_fields():
    with pytest.raises(PolicyError, match=r"waivers\[0\].owner is required"):
        validate_policy({"waivers": [{"check": "TST001", "reason": "x", "expires": "2030-01-01"}]}, make_registry())
    with pytest.raises(PolicyError, match="expires must be a date"):
        validate_policy(
            {"waivers": [{"check": "TST001", "reason": "x", "owner": "o", "expires": "soon"}]}, make_registry()
        )


def test_select_prefix_must_match_a_check():
    with pytest.raises(PolicyError, match="no check ID starts with 'ZZ'"):
        validate_policy({"select": ["ZZ"]}, make_registry())


def test_overrides_take_precedence_over_file():
    reg = make_registry()
    raw = {"fail_on": "high", "checks": {"TST001": {"thresholds": {"share": {"fail": 0.7}}}}}
    merged = apply_overrides(raw, ["TST001.thresholds.share.fail=0.9", "fail_on=low"], reg)
    policy = validate_policy(merged, reg)
    assert policy.fail_on == "low"
    assert policy.checks["TST001"].thresholds["share"]["fail"] == 0.9
    assert raw["checks"]["TST001"]["thresholds"]["share"]["fail"] == 0.7  # the input is not modified


def test_malformed_override():
    with pytest.raises(PolicyError, match="--set must look like KEY=VALUE"):
        apply_overrides({}, ["fail_on"], make_registry())


# -- planning and running ---------------------------------------------------------
def test_plan_select_ignore_and_effective_settings():
    reg = make_registry()
    policy = validate_policy(
        {"select": ["TST00"], "ignore": ["TST002"], "checks": {"TST001": {"severity": "low", "params": {"cut": 1.0}}}},
        reg,
    )
    planned = {p.cls.id: p for p in plan_checks(reg, policy)}
    assert set(planned) == {"TST001", "TST003", "TST004"}
    assert planned["TST001"].severity == "low"
    assert planned["TST001"].params == {"cut": 1.0}
    assert planned["TST001"].thresholds["share"] == {"direction": "above", "warn": 0.4, "fail": 0.6}


def test_runner_isolates_errors_and_skips_missing_needs(ctx):
    reg = make_registry()
    results = {r.id: r for r in run_checks(ctx, plan_checks(reg, validate_policy({}, reg)))}
    assert results["TST002"].status == "error"
    assert results["TST002"].error["type"] == "ValueError"
    assert "planted bug" in results["TST002"].error["traceback"]
    assert results["TST003"].status == "skipped"
    assert "no current (production) sample" in results["TST003"].summary
    assert results["TST004"].status == "pass"
    assert results["TST001"].metrics["share"]["value"] == pytest.approx((ctx.frame("train")["x1"] > 0).mean())


def test_model_that_raises_gives_error_results_not_a_crash(ctx):
    class Broken:
        feature_names_in_ = ["x1"]

        def predict(self, X):
            raise RuntimeError("model exploded")

    ctx.model = SklearnAdapter(Broken())
    reg = make_registry([ShareAbove, UsesPredictions])
    results = {r.id: r for r in run_checks(ctx, plan_checks(reg, validate_policy({}, reg)))}
    assert results["TST004"].status == "error"
    assert "the model raised on predict for the test data: RuntimeError: model exploded" in results["TST004"].summary
    assert results["TST001"].status in ("pass", "warn", "fail")


def test_predictions_are_computed_once_per_dataset(ctx):
    calls = []
    original = ctx.model.predict

    def counting(X):
        calls.append(len(X))
        return original(X)

    ctx.model.predict = counting
    ctx.predictions("test")
    ctx.predictions("test")
    ctx.predictions("train")
    assert calls == [100, 300]


def test_same_seed_same_sample(ctx):
    a, rec = ctx.sample_index("train", 50, check_id="TST001")
    b, _ = ctx.sample_index("train", 50, check_id="TST001")
    c, _ = ctx.sample_index("train", 50, check_id="TST004")
    assert (a == b).all() and not (a == c).all()
    assert rec["rows_used"] == 50 and rec["rows_available"] == 300


# -- gate ---------------------------------------------------------------------------
def _result(cid, status, severity):
    return CheckResult(id=cid, name="n", area="data_quality", status=status, severity=severity, summary="")


def test_gate_fails_on_severity_at_or_above_fail_on():
    reg = make_registry()
    policy = validate_policy({"fail_on": "medium"}, reg)
    gate = evaluate_gate([_result("TST001", "fail", "medium"), _result("TST003", "fail", "low")], policy)
    assert gate["exit_code"] == 1 and len(gate["reasons"]) == 1 and gate["reasons"][0].startswith("TST001")
    assert evaluate_gate([_result("TST003", "fail", "low"), _result("TST004", "warn", "critical")], policy)["exit_code"] == 0


def test_errors_gate_unless_allowed():
    reg = make_registry()
    err = _result("TST002", "error", "low")
    err.error = {"message": "boom"}
    assert evaluate_gate([err], validate_policy({}, reg))["exit_code"] == 1
    assert evaluate_gate([err], validate_policy({"allow_errors": True}, reg))["exit_code"] == 0


def test_active_waiver_waives_and_expired_does_not():
    reg = make_registry()
    policy = validate_policy(
        {"waivers": [{"check": "TST001", "reason": "known", "owner": "ana", "expires": "2027-01-31"}]}, reg
    )
    for today, expected_exit in ((dt.date(2027, 1, 31), 0), (dt.date(2027, 2, 1), 1)):
        result = _result("TST001", "fail", "high")
        attach_waivers([result], policy, today=today)
        assert result.status == "fail"  # the real status is kept
        assert evaluate_gate([result], policy)["exit_code"] == expected_exit
    assert result.waiver["expired"] is True


# -- registry -----------------------------------------------------------------------
def test_duplicate_id_names_both_places():
    class Twin(ShareAbove):
        name = "share-above-twin"

    reg = make_registry([ShareAbove])
    with pytest.raises(RegistryError, match=r"check ID TST001 is defined twice: .*ShareAbove .* and .*Twin"):
        reg.add(Registered(cls=Twin, distribution="acme", version="1", entry_point="acme"))


def test_plugin_may_not_take_two_letter_prefix():
    class Squatter(Raises):
        id = "DQ999"
        name = "squatter"

    with pytest.raises(RegistryError, match="two-letter prefixes are reserved"):
        Registry().add(Registered(cls=Squatter, distribution="acme", version="1", entry_point="acme"))


def test_bad_definition_is_refused():
    class NoDoc(Raises):
        """No sections."""

        id = "TST009"
        name = "Not Kebab"

    with pytest.raises(RegistryError) as err:
        make_registry([NoDoc])
    assert "name must be kebab-case" in str(err.value) and "docstring lacks sections" in str(err.value)


def test_context_frames_are_not_modified_by_reading(ctx):
    before = ctx.frame("train").copy()
    features = ctx.X("train")
    features["x1"] = 0  # copy-on-write: the context keeps its data
    pd.testing.assert_frame_equal(ctx.frame("train"), before)


# -- multiple testing ---------------------------------------------------------------
@pytest.mark.parametrize("method,expected_status", [("none", "pass"), ("holm", "fail"), ("fdr_bh", "pass")])
def test_p_values_are_corrected_across_the_audit_and_judged_adjusted(ctx, method, expected_status):
    from statsmodels.stats.multitest import multipletests

    from tests.engine_checks import TwoPValues

    reg = make_registry([TwoPValues])
    policy = validate_policy({"correction": method}, reg)
    record: dict = {}
    (result,) = run_checks(ctx, plan_checks(reg, policy), correction=policy.correction, record=record)
    raw = [result.metrics["p_first"]["value"], result.metrics["p_second"]["value"]]
    assert raw == [0.03, 0.04]  # the raw values are kept
    reference = raw if method == "none" else list(multipletests(raw, method=method)[1])
    assert [result.metrics["p_first"]["adjusted"], result.metrics["p_second"]["adjusted"]] == pytest.approx(reference)
    assert result.status == expected_status
    assert record == {"method": method, "tests": 2, "families": ["TST005"]}


def test_unknown_correction_is_refused():
    with pytest.raises(PolicyError, match=r"correction must be one of \['holm', 'fdr_bh', 'bonferroni', 'none'\]"):
        validate_policy({"correction": "sidak"}, make_registry())


def test_feature_domains_are_validated():
    reg = make_registry()
    policy = validate_policy({"features": {"age": {"immutable": True}, "income": {"min": 0, "monotonic": "increasing"}}}, reg)
    assert policy.features == {"age": {"immutable": True}, "income": {"min": 0.0, "monotonic": "increasing"}}
    with pytest.raises(PolicyError, match=r"features.income: unknown key 'monotone'; did you mean 'monotonic'\?"):
        validate_policy({"features": {"income": {"monotone": "increasing"}}}, reg)
    with pytest.raises(PolicyError, match=r"features.income.monotonic must be one of \['increasing', 'decreasing'\]"):
        validate_policy({"features": {"income": {"monotonic": "up"}}}, reg)
    with pytest.raises(PolicyError, match=r"min \(5.0\) must not be above max \(1.0\)"):
        validate_policy({"features": {"income": {"min": 5, "max": 1}}}, reg)

"""The starter policy written by ``auditor init``, generated from the registry."""

from __future__ import annotations

import datetime as dt

from auditor.contract.results import SEVERITIES
from auditor.engine.registry import Registry


def _yaml_value(value: object) -> str:
    import yaml

    # one line whatever its length: a wrapped flow list would end outside the comment it sits in
    return yaml.safe_dump(value, default_flow_style=True, width=float("inf")).strip().removesuffix("...").strip()


def starter_policy(registry: Registry) -> str:
    expiry = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    lines = [
        "# auditor policy: which checks run, how their results are judged, what is waived.",
        "# Precedence: check defaults < this file < `auditor run --set KEY=VALUE`.",
        "# Every key is validated before any check runs; `auditor checks explain ID` documents each check.",
        "version: 1",
        "",
        "# The gate fails (exit 1) when an unwaived check at or above this severity fails.",
        f"# One of: {', '.join(SEVERITIES)}.",
        "fail_on: high",
        "",
        "# An undecided result (its interval contains the fail level) whose whole interval lies",
        "# beyond the warn level is at least a warning for certain: at or above this severity (and",
        "# fail_on) it blocks the gate too. `never` only lists such results as undecided.",
        "undecided_fail_on: high",
        "",
        "# Binary tasks: the class that benefits the person (a loan granted, 'will not reoffend').",
        "# The fairness checks' selection rates and disparate impact count this outcome; without",
        "# it they are judged in both orientations and the report says so. --favourable-label wins.",
        "# favourable_label: approved",
        "",
        "# A check that raises is an `error` result; by default errors fail the gate too.",
        "allow_errors: false",
        "",
        "# Seed for every sampled or randomised computation (the command line's --seed wins).",
        "seed: 0",
        "",
        "# Every p-value in the audit is corrected together before it is judged:",
        "# holm (family-wise error), fdr_bh (false discovery rate), bonferroni or none.",
        "correction: holm",
        "",
        "# Seconds any one check may run before it is stopped and reported as an error (the audit",
        "# goes on); leave out for no limit. A check's own time_limit_s (under checks:) overrides it.",
        "# time_limit_s: 600",
        "",
        "# Run only these checks (IDs or prefixes such as DQ); leave out to run every default check.",
        "# select: [DQ]",
        "# Never run these checks (IDs or prefixes).",
        "ignore: []",
        "",
        "# Per-check settings. Uncomment and edit; the values shown are the defaults.",
        "checks:",
    ]
    any_check = False
    for cid in registry.ids():
        cls = registry.get(cid).cls
        any_check = True
        lines.append(f"  # {cid} {cls.name}: {cls.title()}" + (" (opt-in: set enabled: true)" if cls.opt_in else ""))
        lines.append(f"  # {cid}:")
        lines.append(f"  #   severity: {cls.severity}")
        if cls.params:
            lines.append("  #   params:")
            for name, p in cls.params.items():
                lines.append(f"  #     {name}: {_yaml_value(p.default)}  # {p.help}")
        if cls.thresholds:
            lines.append("  #   thresholds:")
            for name, th in cls.thresholds.items():
                op = ">" if th.direction == "above" else "<"
                lines.append(
                    f"  #     {name}: {{warn: {_yaml_value(th.warn)}, fail: {_yaml_value(th.fail)}}}  # judged when the metric is {op} the level"
                )
    if not any_check:
        lines.append("  # (no checks are registered)")
    lines += [
        "  {}" if not any_check else "",
        "# Accepted risks. A waived result keeps its real status and is shown as waived;",
        "# an expired waiver no longer waives. Every field is required.",
        "waivers: []",
        "#  - check: DQ002",
        "#    reason: duplicates are legitimate repeated census records",
        "#    owner: jane.doe@example.org",
        f"#    expires: {expiry}",
        "",
        "# The model card: what the model is for and where it must not be used. The audit adds what it",
        "# measures (files and hashes, metrics with intervals, findings); a missing field is finding GV001.",
        "# Fields that hold several items take a list. Uncomment and write what is true of your model.",
        "# model_card:",
        "#   name: credit-default-scorer",
        "#   version: \"2.1\"",
        "#   owners: [risk-models@example.org]",
        "#   description: Gradient-boosted trees that score the chance of default within 12 months.",
        "#   intended_use: Ranking applications for manual review by an underwriter.",
        "#   out_of_scope_uses:",
        "#     - Automatic rejection of an application without human review.",
        "#   training_data: Applications from 2019-2023 with 12 months of repayment history.",
        "#   evaluation_data: Applications from 2024, held out by time.",
        "#   limitations:",
        "#     - Not validated for applicants without a credit history.",
        "#   ethical_considerations:",
        "#     - Selection rates by age group and sex are monitored (checks FR001-FR007).",
        "",
    ]
    text = "\n".join(lines)
    # `checks:` with only comments under it would parse as null, which the validator accepts.
    return text

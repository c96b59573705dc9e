"""The audit as a function: inputs and policy in, report and exit code out.

This is what ``auditor run`` calls; it is also the public Python API::

    from auditor.app.audit import run_audit
    from auditor.contract.inputs import RunOptions
    report = run_audit(RunOptions(train="train.csv", test="test.csv", target="y", model="m.skops"))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.contract.data import sha256_file
from auditor.contract.inputs import RunOptions, build_context
from auditor.engine.gate import attach_waivers, evaluate_gate
from auditor.engine.planning import plan_checks
from auditor.engine.policy import load_policy
from auditor.engine.registry import Registry, load_registry
from auditor.engine.runner import collector_paused, resolve_jobs, run_checks
from auditor.reportdata.report import build_report, coverage
from auditor.util.errors import AuditInputError


def run_audit(
    opts: RunOptions,
    *,
    policy_path: str | Path | dict[str, Any] | None = None,
    overrides: list[str] | None = None,
    registry: Registry | None = None,
    progress: Callable[..., None] | None = None,
    today: dt.date | None = None,
    title: str | None = None,
    describe_scope: bool = True,
    validate: Callable[[Any], None] | None = None,
    jobs: int | str = 1,
    baseline_report: dict[str, Any] | None = None,
    baseline_path: str | Path | None = None,
) -> dict[str, Any]:
    """Run a whole audit and return report.json's content (``report["gate"]["exit_code"]``).

    ``jobs`` > 1 runs the checks in that many processes; the results are the same.
    ``"auto"`` lets :func:`auditor.engine.runner.resolve_jobs` choose from the data and the model.
    With ``baseline_report`` (an approved audit's report.json) the gate blocks only on
    findings new since then, and the report carries ``baseline_diff``.
    """
    started = time.perf_counter()
    registry = registry or load_registry()
    policy = load_policy(policy_path, overrides or [], registry)
    if opts.seed is None:  # defaults < policy file < command line
        opts = dataclasses.replace(opts, seed=policy.seed if policy.seed is not None else 0)
    if opts.favourable_label is None and policy.favourable_label is not None:
        opts = dataclasses.replace(opts, favourable_label=policy.favourable_label)
    planned = plan_checks(registry, policy)
    if not planned:
        raise AuditInputError(
            "the policy selects no check (see its select, ignore and enabled settings); an audit of nothing cannot pass"
        )
    loading = time.perf_counter()
    with collector_paused():  # imports and inputs: many objects, almost no cycles
        ctx, meta = build_context(opts, policy=policy.to_dict())
    timings: dict[str, float] = {"load_s": round(time.perf_counter() - loading, 3)}
    unknown = sorted(set(policy.features) - set(ctx.features))
    if unknown:
        raise AuditInputError(
            f"policy features: {', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not among the model's inputs"
        )
    ctx.feature_domains = dict(policy.features)
    ctx.today = today or dt.date.today()
    if validate is not None:  # the caller's own input checks, before any check runs
        validate(ctx)
    in_memory_policy = isinstance(policy_path, dict)
    meta["inputs"]["policy"] = {
        "path": str(policy_path) if policy_path and not in_memory_policy else None,
        "sha256": sha256_file(policy_path) if policy_path and not in_memory_policy else None,
        **({"source": "in memory (dict)"} if in_memory_policy else {}),
    }
    testing: dict[str, Any] = {}
    if ctx.stats.distributed:
        if jobs not in (1, "1", "auto"):
            raise AuditInputError("--jobs runs checks in processes on this machine; under --engine spark the cluster "
                                  "does the parallel work: leave --jobs at 1")
        jobs = 1
    jobs = resolve_jobs(jobs, ctx)
    results = run_checks(ctx, planned, progress=progress, correction=policy.correction, record=testing, jobs=jobs,
                         timings=timings)
    attach_waivers(results, policy, today=ctx.today)
    baseline = None
    if baseline_report is not None:
        baseline = {str(c["id"]): str(c["status"]) for c in baseline_report.get("checks") or []}
    gate = evaluate_gate(results, policy, baseline=baseline)
    notes = list(ctx.notes)
    errored = [r.id for r in results if r.status == "error"]
    if errored:
        notes.append(f"{len(errored)} check(s) could not run and are reported as errors: {', '.join(errored)}.")
    notes += unused_input_notes(results, {p.cls.id: p.cls for p in planned}, ctx)
    scope = coverage(results, {registry.get(i).cls.area for i in registry.ids()},
                     registered_clauses={cls.id: cls.clauses for cls in registry.classes()})
    # A comparison is scoped by its command, not by the areas; the crosswalk still counts
    # the checks it did not run (not_selected_checks stays).
    if not describe_scope:
        scope = {**scope, "not_selected": [], "not_installed": []}
    if scope["not_installed"]:
        notes.append(
            "Not assessed, no installed check covers: "
            + ", ".join(a.replace("_", " ") for a in scope["not_installed"]) + "."
        )
    report = build_report(
        results=results,
        gate=gate,
        inputs=meta["inputs"],
        task=meta["task"],
        policy=policy.to_dict(),
        policy_sha256=policy.sha256,
        plugins=registry.plugins,
        seed=opts.seed,
        notes=notes,
        titles={p.cls.id: p.cls.title() for p in planned},
        docs={p.cls.id: about(p.cls) for p in planned},
        coverage=scope,
        multiple_testing=testing,
        duration_s=time.perf_counter() - started,
    )
    if title:
        report["title"] = title
    report["engine"] = ctx.engine.describe() if ctx.engine is not None else {"name": "pandas"}
    # Where the time went: reading the inputs, the one prediction pass per dataset, the checks.
    report["timings"] = {"jobs": jobs, **timings}  # run_checks records the processes it really started
    from auditor.reportdata.model_card import build_model_card

    report["model_card"] = build_model_card(report)
    if baseline_report is not None:
        from auditor.reportdata.diff import diff_reports

        for check in report["checks"]:
            if check["id"] in gate["baselined_ids"]:
                check["baselined"] = True
        label = str(baseline_path) if baseline_path else "baseline"
        report["baseline_diff"] = {
            **diff_reports(baseline_report, report, old_label=label, new_label="this audit"),
            "baseline_report": {"path": label if baseline_path else None,
                                "sha256": sha256_file(baseline_path) if baseline_path else None},
        }
    return report


COMPARE_CHECKS = {"non_inferiority": "CP001", "paired": "CP002", "refit": "CP003", "ranking": "CP004"}


def run_compare(
    opts: RunOptions,
    *,
    metric: str = "auto",
    margin: float | str | None = None,
    confidence: float = 0.95,
    refit: bool = False,
    policy_path: str | Path | dict[str, Any] | None = None,
    overrides: list[str] | None = None,
    progress: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Compare ``opts.model`` (a candidate) with ``opts.comparators`` (the baseline first) on the same rows.

    The comparison is an audit whose checks are the CP family: the same report, the same
    renderers, the same gate. The command-line settings sit between the policy file and
    the user's own ``--set`` overrides.
    """
    margin_kind, margin_value = parse_margin(margin)
    selected = [COMPARE_CHECKS["non_inferiority"], COMPARE_CHECKS["paired"]]
    if refit:
        selected.append(COMPARE_CHECKS["refit"])
    if len(opts.comparators) >= 2:
        selected.append(COMPARE_CHECKS["ranking"])
    ours = [f"select=[{', '.join(selected)}]",
            f"CP001.thresholds.improvement_lower_bound.fail={-abs(margin_value)}",
            f"CP001.params.margin_kind={margin_kind}"]
    for cid in selected:
        ours.append(f"{cid}.params.metric={metric}")
        if cid != "CP004":
            ours.append(f"{cid}.params.confidence={confidence}")
    baseline = opts.comparators[0][0]
    others = [n for n, _ in opts.comparators[1:]]
    title = f"Comparison of {opts.model_name!r} with the baseline {baseline!r}" + (
        f" (and {', '.join(map(repr, others))})" if others else ""
    )
    def metric_applies(ctx) -> None:
        from auditor.toolkit.comparison import UNBOUNDED, chosen_metric

        try:
            chosen = chosen_metric(ctx, metric)
        except ValueError as exc:
            raise AuditInputError(str(exc)) from None
        if margin is None and chosen in UNBOUNDED:
            raise AuditInputError(
                f"--margin is required when comparing on {chosen}: it is in the target's units, so no default margin "
                f"means anything; give the loss you accept in those units (e.g. --margin 2.5) or relative to the "
                f"baseline's score (e.g. --margin 5%)")

    return run_audit(opts, policy_path=policy_path, overrides=ours + list(overrides or []), progress=progress,
                     title=title, describe_scope=False, validate=metric_applies)


#: The non-inferiority margin when none is given, for metrics on a 0-1 scale.
DEFAULT_MARGIN = 0.01


def parse_margin(margin: float | str | None) -> tuple[str, float]:
    """``0.01`` -> ("absolute", 0.01); ``"5%"`` -> ("relative", 0.05); None -> the default, absolute."""
    if margin is None:
        return "absolute", DEFAULT_MARGIN
    text = str(margin).strip()
    relative = text.endswith("%")
    try:
        value = float(text[:-1] if relative else text)
    except ValueError:
        raise AuditInputError(f"--margin must be a number (in the metric's units) or a percentage of the baseline's "
                              f"score such as 5%; got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise AuditInputError(f"--margin must be a finite number of at least 0; got {text!r}")
    return ("relative", value / 100) if relative else ("absolute", value)


OPTIONAL_INPUTS = {
    "sensitive": "Sensitive features were declared (--sensitive)",
    "group": "A group column was declared (--group-column)",
    "time": "A time column was declared (--time-column)",
    "history": "A training history was given (--history)",
}


def unused_input_notes(results, classes, ctx) -> list[str]:
    """Say when the user gave an input that no check that ran reads: it was not assessed."""
    ran = [classes[r.id] for r in results if r.status not in ("skipped",) and r.id in classes]
    declared = {
        "sensitive": bool(ctx.sensitive), "group": bool(ctx.group_column),
        "time": bool(ctx.time_column), "history": ctx.history is not None,
    }
    return [
        f"{text}, but no check that ran uses it: it was not assessed."
        for need, text in OPTIONAL_INPUTS.items()
        if declared[need] and not any(need in cls.needs for cls in ran)
    ]


def about(cls) -> dict[str, str]:
    """The check's documentation sections a report reader needs next to a finding."""
    sections = cls.doc_sections()

    def prose(text: str) -> str:  # docstring lines re-flowed into paragraphs
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
        return "\n\n".join(p for p in paragraphs if p).replace("``", "")

    return {
        "what": prose(sections.get("What it checks", "")),
        "why": prose(sections.get("Why it matters", "")),
        "how_to_fix": prose(sections.get("How to fix", "")),
    }

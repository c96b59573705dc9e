"""The ``auditor`` command line.

Heavy libraries are imported inside the commands that need them so that
``auditor --help`` and ``auditor checks list`` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from auditor.render import FORMATS  # a tuple of names: the renderers themselves load when drawing
from auditor.toolkit.comparison import METRIC_CHOICES  # names only: nothing heavy loads
from auditor.util.errors import AuditInputError
from auditor.util.version import __version__

EXIT_OK, EXIT_GATE, EXIT_INPUT = 0, 1, 2


class _Jobs(click.ParamType):
    """``--jobs``: a number of processes (1 or more) or ``auto``."""

    name = "jobs"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        if isinstance(value, int) or str(value).strip().lower() == "auto":
            return value if isinstance(value, int) else "auto"
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is neither a whole number nor 'auto'", param, ctx)
        if number < 1:
            self.fail(f"{number} is not 1 or more", param, ctx)
        return number


JOBS = _Jobs()


def _parse_formats(value: str) -> list[str]:
    from auditor.app.api import parse_formats

    return parse_formats(value)


def _progress(quiet: bool) -> str | bool:
    """The API's ``progress``: one line per check on a terminal (never in CI or a pipe), or none."""
    return False if quiet else "auto"


def _writable_out(out: str) -> Path:
    from auditor.app.api import writable_folder

    return writable_folder(out)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Audit a trained model and its data; write HTML, PDF, JSON, JUnit, SARIF and Markdown reports.

    Exit codes: 0 every gate passed; 1 a gate failed (an unwaived check at or above the
    policy's fail_on severity failed, or a check errored); 2 the audit could not run
    (bad input or policy).
    """


@cli.command("run", short_help="Run the audit and write the reports (exit code = the gate's verdict).")
@click.option("--model", "model", metavar="FILE|URI",
              help="Model file: .skops (.joblib/.pkl with --trust-model), XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm, "
                   ".onnx, a PyTorch model spec NAME.torch.yaml, or an MLflow model folder or runs:/ models:/ URI.")
@click.option("--train", metavar="FILE",
              help="Training data (CSV, CSV.GZ or Parquet; under --engine spark also a Delta path or a catalog table); required unless --predictions is given "
                   "(checks that need it are then skipped with that reason).")
@click.option("--test", required=True, metavar="FILE", help="Test data the model was evaluated on.")
@click.option("--current", metavar="FILE", help="Optional production sample (recent inputs, labels optional), compared with the training data.")
@click.option("--validation", metavar="FILE", help="Optional validation data.")
@click.option("--target", required=True, metavar="COL", help="Target column name.")
@click.option("--task", type=click.Choice(["binary", "multiclass", "regression"]),
              help="Task type; inferred from the target when omitted (the report says so).")
@click.option("--positive-label", metavar="LABEL", help="Positive class for binary tasks (default: 1/true/yes, else the minority class).")
@click.option("--favourable-label", "--favorable-label", "favourable_label", metavar="LABEL",
              help="Binary tasks: the outcome that benefits the person (e.g. approved); fairness selection rates count it "
                   "(default: the policy's favourable_label, else both orientations are judged).")
@click.option("--sensitive", multiple=True, metavar="COL", help="Sensitive feature column (repeatable).")
@click.option("--id-column", metavar="COL", help="Row identifier column (excluded from features).")
@click.option("--group-column", metavar="COL", help="Entity column (patient, customer) for group-overlap checks.")
@click.option("--time-column", metavar="COL", help="Timestamp column for temporal checks.")
@click.option("--history", metavar="FILE",
              help="Per-epoch training history (CSV/Parquet with train and validation loss, e.g. Keras' CSVLogger output) "
                   "for the early-stopping analysis.")
@click.option("--predictions", metavar="COL", help="Predictions-only mode: column of the test (and current) data holding the model's predictions.")
@click.option("--scores", metavar="COL", help="With --predictions: column with the positive-class probability or a ranking score (binary).")
@click.option("--score-kind", type=click.Choice(["auto", "probability", "rank", "reversed-rank"]), default="auto",
              show_default=True,
              help="What --scores holds: auto reads values all in [0, 1] as probabilities and others as a ranking score "
                   "(higher: more likely the positive label; reversed-rank: less likely). Checks that need probabilities "
                   "skip a ranking score.")
@click.option("--model-classes", metavar="LABEL,LABEL,...",
              help="The class labels in the order of the model's outputs, for model files that store only their codes "
                   "0..k-1 (XGBoost, LightGBM text models, ONNX networks), e.g. '<=50K,>50K'.")
@click.option("--trust-model", is_flag=True,
              help="Allow loading pickle/joblib files and skops files with untrusted types. Unpickling runs code: only for files you trust.")
@click.option("--trust-type", "trusted_types", multiple=True, metavar="TYPE",
              help="Trust one type of a skops file that skops does not trust by default (repeatable); safer than --trust-model.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where PyTorch models run: auto uses a CUDA GPU when one is available. Other models ignore it.")
@click.option("--engine", type=click.Choice(["pandas", "spark"]), default="pandas", show_default=True,
              help="Where the rows are read and aggregated: pandas (in memory) or spark (the data-bound statistics run on a Spark "
                   "cluster over every row; --train/--test may then be Parquet, Delta or CSV paths or catalog table names; the checks "
                   "that read rows get a seeded sample of --sample-rows rows). Needs the spark extra and Java 17.")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
              help="With --engine spark: a setting of the SparkSession the audit starts, e.g. spark.driver.memory=2g (repeatable; "
                   "spark.master comes from here, spark-submit or $SPARK_MASTER, else local[*]).")
@click.option("--sample-rows", type=click.IntRange(min=1000), metavar="N",
              help="With --engine spark: rows of each dataset drawn on the cluster for the checks that read rows (default 100,000).")
@click.option("--policy", "-p", "policy", metavar="FILE", help="Policy file (audit.yaml). See 'auditor init'.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a policy value, e.g. DQ001.thresholds.max_missing_rate.fail=0.4 or fail_on=medium (repeatable).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the policy's, else 0).")
@click.option("--format", "formats", default="all", show_default=True, metavar="LIST", help=f"Comma-separated formats: {','.join(FORMATS)} or all.")
@click.option("--out", default="reports", show_default=True, metavar="DIR", help="Output folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.option("--jobs", "-j", default="auto", show_default=True, type=JOBS, metavar="N|auto",
              help="Run the checks in N processes (results are the same as with 1). auto: one per core (at most 4) on data of up to 50,000 rows "
                   "with a scikit-learn model or stored predictions, else 1; always 1 under --engine spark.")
@click.option("--packet", metavar="DIR",
              help="Also write a review packet: the reports, report.json, the policy and manifest.json (SHA-256 of every file and input). "
                   "See 'auditor verify'.")
@click.option("--zip", "zip_packet", is_flag=True, help="With --packet: also write DIR.zip.")
@click.option("--signing-key", metavar="KEY.pem",
              help="With --packet: sign manifest.json with this Ed25519 private key "
                   "(its passphrase, if any, from $AUDITOR_KEY_PASSPHRASE). See 'auditor keygen'.")
@click.option("--force", "force_packet", is_flag=True, help="With --packet: write into a non-empty folder that is not a packet (nothing in it is deleted).")
@click.option("--baseline-report", metavar="REPORT.json",
              help="An approved earlier audit's report.json: only findings new since then block the gate; the diff is stored as baseline_diff.")
@click.option("--mlflow-run", metavar="RUN_ID",
              help="Also log the audit to this existing MLflow run (tracking URI from $MLFLOW_TRACKING_URI): the gate as tags, "
                   "the metrics with their intervals, the reports as artifacts.")
def run_cmd(**kw: Any) -> None:
    """Run the audit and write the reports; the exit code is the gate's verdict.

    Exit codes: 0 every gate passed; 1 a gate failed; 2 the audit could not run.
    """
    from auditor.app import api
    from auditor.engine.runner import long_lived

    formats = api.parse_formats(kw["formats"])
    packet_key = None
    if kw["packet"] is None and (kw["zip_packet"] or kw["signing_key"] or kw["force_packet"]):
        raise AuditInputError("--zip, --signing-key and --force need --packet DIR")
    if kw["packet"] is not None:  # refuse a bad packet folder or key before the audit runs, not after
        from auditor.app.packet import (
            check_packet_target,
            load_private_key,
            passphrase_from_env,
        )

        check_packet_target(kw["packet"], force=kw["force_packet"])
        if kw["signing_key"]:
            packet_key = load_private_key(kw["signing_key"], passphrase=passphrase_from_env())
    # Inputs that can be refused without reading data are refused before the output folder is made.
    api.check_train_given(kw["train"], kw["predictions"])
    spark_conf = api.spark_settings(list(kw["spark_conf"]))
    if kw["engine"] != "spark" and (spark_conf or kw["sample_rows"]):
        raise AuditInputError("--spark-conf and --sample-rows go with --engine spark")
    if kw["engine"] == "spark":
        from auditor.contract.compute_spark import pyspark_problem

        if (problem := pyspark_problem()) is not None:
            raise AuditInputError(problem)
    if kw["baseline_report"]:
        from auditor.reportdata.read import load_report

        load_report(kw["baseline_report"], role="--baseline-report")
    if kw["mlflow_run"]:
        from auditor.app.mlflow_log import check_run

        check_run(kw["mlflow_run"])
    out_dir = _writable_out(kw["out"])
    result = api.audit(
        model=kw["model"], train=kw["train"], test=kw["test"], target=kw["target"], current=kw["current"],
        validation=kw["validation"], sensitive=list(kw["sensitive"]), task=kw["task"],
        positive_label=kw["positive_label"], favourable_label=kw["favourable_label"], id_column=kw["id_column"],
        group_column=kw["group_column"], time_column=kw["time_column"], predictions=kw["predictions"],
        scores=kw["scores"], score_kind=kw["score_kind"], history=kw["history"], model_classes=kw["model_classes"],
        policy=kw["policy"], overrides=list(kw["overrides"]), seed=kw["seed"], device=kw["device"],
        trust_model=kw["trust_model"], trusted_types=list(kw["trusted_types"]), jobs=kw["jobs"],
        progress=_progress(kw["quiet"]), baseline_report=kw["baseline_report"],
        engine=kw["engine"], spark_conf=spark_conf, sample_rows=kw["sample_rows"],
    )
    report = result.to_dict()
    with long_lived():  # the loaded libraries and data are not scanned again while the reports render
        written = result.save(out_dir, formats=formats)
    _print_verdict(report, written)
    if kw["mlflow_run"]:  # the files just written (--format), not every format
        from auditor.app.mlflow_log import log_audit

        logged = log_audit(report, written, run_id=kw["mlflow_run"])
        click.echo(f"  mlflow run {kw['mlflow_run']}: " + ", ".join(f"{n} {k}" for k, n in logged.items() if isinstance(n, int)))
    if kw["packet"] is not None:
        from auditor.app.packet import passphrase_from_env, write_packet, write_zip

        packet = write_packet(kw["packet"], report, written, policy_path=kw["policy"],
                              signing_key=kw["signing_key"] if packet_key is not None else None,
                              passphrase=passphrase_from_env(), force=kw["force_packet"])
        click.echo(f"  packet {packet['folder']} ({len(packet['files'])} files{', manifest signed' if packet['signed'] else ''})")
        if kw["zip_packet"]:
            click.echo(f"  zip   {write_zip(kw['packet'], force=kw['force_packet'])}")
        else:
            stale = Path(str(Path(kw["packet"])) + ".zip")
            if stale.is_file():
                click.echo(f"  note: {stale} is from an earlier run and does not hold this packet; pass --zip to replace it, "
                           "or remove it", err=True)
    sys.exit(report["gate"]["exit_code"])


def _print_verdict(report: dict[str, Any], written: dict[str, Path]) -> None:
    gate = report["gate"]
    counts = report["summary"]["by_status"]
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    verdict = "PASSED" if gate["passed"] else "FAILED"
    from auditor.util.wording import count

    click.echo(f"auditor: {count(len(report['checks']), 'check')}: {shown}")
    for reason in gate["reasons"]:
        click.echo(f"  gate: {reason}")
    for line in gate.get("waived", []):
        click.echo(f"  waived: {line}")
    for line in gate.get("baselined", []):
        click.echo(f"  baselined: {line}")
    click.echo(f"auditor: gate {verdict} (exit {gate['exit_code']}, fail_on: {gate['fail_on']})")
    for fmt, path in written.items():
        click.echo(f"  {fmt:<5} {path}")


@cli.command("compare", short_help="Compare candidate models with a baseline on the same rows (non-inferiority gate).")
@click.option("--baseline", required=True, metavar="FILE", help="The model in production (or the reference).")
@click.option("--candidate", "candidates", required=True, multiple=True, metavar="FILE",
              help="A candidate model (repeatable: three or more models add a Friedman/Nemenyi ranking).")
@click.option("--test", required=True, metavar="FILE", help="Rows both models are scored on (CSV, CSV.GZ or Parquet).")
@click.option("--train", metavar="FILE", help="Training data, for --refit.")
@click.option("--target", required=True, metavar="COL", help="Target column name.")
@click.option("--task", type=click.Choice(["binary", "multiclass", "regression"]), help="Task type; inferred when omitted.")
@click.option("--positive-label", metavar="LABEL", help="Positive class for binary tasks.")
@click.option("--metric", default="auto", show_default=True,
              type=click.Choice(METRIC_CHOICES),
              help="Metric compared (auto: ROC AUC with probabilities, else accuracy; RMSE for regression).")
@click.option("--margin", metavar="NUMBER|PERCENT",
              help="Non-inferiority margin: the loss in --metric the candidate may have at most, in the metric's units "
                   "(default 0.01 for metrics on a 0-1 scale; required for rmse and mae) or as a share of the baseline's score (5%).")
@click.option("--confidence", default=0.95, show_default=True, type=click.FloatRange(0.5, 0.999),
              help="Two-sided confidence of the intervals (0.95: a one-sided test at 2.5%).")
@click.option("--refit", is_flag=True, help="Also refit both models: 5x2cv paired t and corrected resampled t tests (needs --train).")
@click.option("--model-classes", metavar="LABEL,LABEL,...",
              help="The class labels in the order of the models' outputs, for model files that store only codes 0..k-1.")
@click.option("--trust-model", is_flag=True, help="Allow pickle/joblib model files. Unpickling runs code: only for files you trust.")
@click.option("--trust-type", "trusted_types", multiple=True, metavar="TYPE", help="Trust one type of a skops file (repeatable).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where PyTorch models run: auto uses a CUDA GPU when one is available. Other models ignore it.")
@click.option("--policy", "-p", "policy", metavar="FILE", help="Policy file (waivers, severities, fail_on, correction).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a policy value (repeatable).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the policy's, else 0).")
@click.option("--format", "formats", default="all", show_default=True, metavar="LIST", help=f"Comma-separated formats: {','.join(FORMATS)} or all.")
@click.option("--out", default="reports/compare", show_default=True, metavar="DIR", help="Output folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
def compare_cmd(**kw: Any) -> None:
    """Compare candidate models with a baseline on the same test rows.

    Paired tests (McNemar, DeLong, paired bootstrap and permutation; with --refit the
    5x2cv and corrected resampled t tests) and a non-inferiority gate: exit 0 when every
    candidate is shown not worse than the baseline by more than --margin at the chosen
    confidence and no paired test finds it significantly worse; 1 otherwise; 2 when the
    comparison could not run.
    """
    from auditor.app import api

    formats = api.parse_formats(kw["formats"])
    out_dir = _writable_out(kw["out"])
    result = api.compare(
        baseline=kw["baseline"], candidates=list(kw["candidates"]), test=kw["test"], target=kw["target"],
        train=kw["train"], task=kw["task"], positive_label=kw["positive_label"], metric=kw["metric"],
        margin=kw["margin"], confidence=kw["confidence"], refit=kw["refit"], policy=kw["policy"],
        overrides=list(kw["overrides"]), seed=kw["seed"], device=kw["device"], trust_model=kw["trust_model"],
        trusted_types=list(kw["trusted_types"]), model_classes=kw["model_classes"], progress=_progress(kw["quiet"]),
    )
    report = result.to_dict()
    written = result.save(out_dir, formats=formats)
    _print_verdict(report, written)
    sys.exit(report["gate"]["exit_code"])


@cli.group("checks")
def checks_group() -> None:
    """List the registered checks or explain one."""


@checks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--area", metavar="AREA", help="Only checks of this area.")
def checks_list(as_json: bool, area: str | None) -> None:
    """Every registered check: ID, name, area, severity, source."""
    from auditor.engine.registry import load_registry

    registry = load_registry()
    if area is not None:
        from auditor.contract.check import AREAS

        known = sorted({registry.get(i).cls.area for i in registry.ids()} | set(AREAS))
        if area not in known:
            raise AuditInputError(f"--area {area!r} is not an area; areas are: {', '.join(known)}")
    rows = []
    for cid in registry.ids():
        reg = registry.get(cid)
        cls = reg.cls
        if area and cls.area != area:
            continue
        rows.append(
            {
                "id": cid,
                "name": cls.name,
                "area": cls.area,
                "severity": cls.severity,
                "title": cls.title(),
                "needs": sorted(cls.needs),
                "tasks": sorted(cls.tasks),
                "practices": list(cls.practices),
                "opt_in": cls.opt_in,
                "source": f"{reg.distribution} {reg.version}",
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no checks" + (f" in area {area!r}" if area else ""))
        return
    wid = max(4, *(len(r["id"]) for r in rows)) + 2
    wname = max(6, *(len(r["name"]) for r in rows)) + 2
    warea = max(6, *(len(r["area"]) for r in rows)) + 2
    click.echo(f"{'ID':<{wid}}{'NAME':<{wname}}{'AREA':<{warea}}{'SEVERITY':<10}TITLE")
    for r in rows:
        extra = " (opt-in)" if r["opt_in"] else ""
        src = "" if r["source"].startswith("auditor ") else f" [{r['source']}]"
        click.echo(f"{r['id']:<{wid}}{r['name']:<{wname}}{r['area']:<{warea}}{r['severity']:<10}{r['title']}{extra}{src}")


@checks_group.command("explain")
@click.argument("check_id")
def checks_explain(check_id: str) -> None:
    """A check's documentation, thresholds and parameters."""
    import difflib

    from auditor.engine.registry import load_registry

    registry = load_registry()
    cid = check_id.upper()
    if cid not in registry.checks:
        by_name = {r.cls.name: i for i, r in registry.checks.items()}
        if check_id in by_name:
            cid = by_name[check_id]
        else:
            close = difflib.get_close_matches(cid, registry.ids(), n=1) or difflib.get_close_matches(check_id, list(by_name), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see 'auditor checks list'"
            raise AuditInputError(f"no check with ID {check_id!r}{hint}")
    reg = registry.get(cid)
    cls = reg.cls
    click.echo(f"{cls.id} {cls.name}: {cls.title()}")
    click.echo(f"area: {cls.area}   default severity: {cls.severity}   source: {reg.distribution} {reg.version}")
    click.echo(f"tasks: {', '.join(sorted(cls.tasks))}   needs: {', '.join(sorted(cls.needs)) or 'nothing'}")
    if cls.practices:
        from auditor.reportdata.practices import format_practice

        click.echo("enforces: " + "; ".join(format_practice(p) for p in cls.practices))
    if cls.opt_in:
        click.echo("opt-in: runs only when the policy selects it by ID")
    for heading, text in cls.doc_sections().items():
        click.echo(f"\n{heading}:")
        for line in text.splitlines():
            click.echo(f"  {line}")
    if cls.thresholds:
        click.echo(f"\nThresholds (policy: checks.{cls.id}.thresholds.METRIC.warn|fail):")
        for name, th in cls.thresholds.items():
            op = ">" if th.direction == "above" else "<"
            levels = ", ".join(f"{lvl} if {op} {val}" for lvl, val in (("warn", th.warn), ("fail", th.fail)) if val is not None)
            bounds = f" (settable in [{th.low}, {th.high}])" if th.low is not None or th.high is not None else ""
            click.echo(f"  {name}: {levels}{bounds}" + (f" - {th.help}" if th.help else ""))
    if cls.params:
        click.echo(f"\nParameters (policy: checks.{cls.id}.params.NAME):")
        for name, p in cls.params.items():
            bounds = f" in [{p.low}, {p.high}]" if p.low is not None or p.high is not None else ""
            click.echo(f"  {name} = {p.default!r} ({p.kind}{bounds}): {p.help}")


@cli.command("render")
@click.argument("report_json", metavar="REPORT.json")
@click.option("--format", "formats", default="all", show_default=True, metavar="LIST", help=f"Comma-separated formats: {','.join(FORMATS)} or all.")
@click.option("--out", metavar="DIR", help="Output folder (default: the report's folder).")
@click.option("--decisions", "decisions_from", metavar="PACKET_DIR",
              help="Show the sign-off decisions recorded in this packet (auditor sign) on the report's sign-off page.")
def render_cmd(report_json: str, formats: str, out: str | None, decisions_from: str | None) -> None:
    """Redraw reports from a report.json, without the model or the data.

    A review packet is never written into: its files are covered by its manifest.
    To file a copy of the report with the packet's sign-off decisions on it, render
    elsewhere, for example: auditor render PACKET/report.json --decisions PACKET --out signed/
    """
    from auditor.reportdata.read import load_report

    path = Path(report_json)
    report = load_report(path)
    wanted = _parse_formats(formats)
    if decisions_from is not None:
        from auditor.app.packet import MANIFEST, load_manifest, read_decisions, verify_packet
        from auditor.contract.data import sha256_file

        if not (Path(decisions_from) / MANIFEST).is_file():
            raise AuditInputError(f"{decisions_from} is not an auditor packet: it has no {MANIFEST}")
        # A sign-off is shown only where it can be trusted: the packet verifies (decision log
        # chain included) and the report drawn is the very report.json the decisions were made on.
        check = verify_packet(decisions_from)
        if not check.ok:
            raise AuditInputError(f"{decisions_from} does not verify ({check.problems[0]}; run 'auditor verify "
                                  f"{decisions_from}'): its decisions are not shown")
        manifest, _ = load_manifest(decisions_from)
        signed = next((a.get("sha256") for a in manifest.get("artefacts") or [] if a.get("path") == "report.json"), None)
        if signed != sha256_file(path):
            raise AuditInputError(f"the decisions in {decisions_from} were made on another report: {path} is not that "
                                  "packet's report.json")
        report = {**report, "decisions": read_decisions(decisions_from)}
    target = Path(out or str(path.parent))
    if (target / "manifest.json").is_file():
        raise AuditInputError(
            f"{target} is a review packet; rendering into it would change files its manifest covers. Use --out DIR elsewhere."
        )
    out_dir = _writable_out(str(target))
    if out is None or out_dir.resolve() == path.parent.resolve():
        wanted = [f for f in wanted if f != "json"]  # never rewrite the source file in place
    from auditor.app.api import write_report_files

    written = write_report_files(report, out_dir, wanted)
    for fmt, p in written.items():
        click.echo(f"  {fmt:<5} {p}")


@cli.command("init", short_help="Write a commented starter policy (audit.yaml).")
@click.option("--out", default="audit.yaml", show_default=True, metavar="FILE", help="Where to write the starter policy.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_cmd(out: str, force: bool) -> None:
    """Write a commented starter policy generated from the registry's defaults."""
    from auditor.engine.policy_template import starter_policy
    from auditor.engine.registry import load_registry
    from auditor.util.fileio import write_atomic

    path = Path(out)
    if path.is_dir():
        raise AuditInputError(f"{path} is a directory; give a file name such as {path / 'audit.yaml'}")
    if path.exists() and not force:
        raise AuditInputError(f"{path} already exists; pass --force to overwrite it")
    try:
        write_atomic(path, starter_policy(load_registry()))
    except OSError as exc:
        raise AuditInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}")


@cli.command("diff", short_help="What changed between two audits: new failures, resolved ones, metric changes.")
@click.argument("old_report", metavar="OLD/report.json")
@click.argument("new_report", metavar="NEW/report.json")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "markdown", "html"]), help="Output format.")
@click.option("--output", metavar="FILE", help="Write to FILE instead of standard output.")
def diff_cmd(old_report: str, new_report: str, fmt: str, output: str | None) -> None:
    """Compare two report.json files: new failures, resolved ones, other status changes,
    checks added or removed, and metrics that moved beyond their confidence intervals
    (metrics without an interval that changed are listed apart).

    Exit codes: 0 the diff was written (whatever it shows); 2 an input is not a readable report.json.
    """
    from auditor.render.diff import render_diff
    from auditor.reportdata.diff import diff_reports
    from auditor.reportdata.read import load_report

    old = load_report(old_report, role="old report")
    new = load_report(new_report, role="new report")
    text = render_diff(diff_reports(old, new, old_label=old_report, new_label=new_report), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    from auditor.util.fileio import write_atomic

    target = Path(output)
    if target.is_dir():
        raise AuditInputError(f"--output {target} is a folder; give a file name")
    if any(target.resolve() == Path(p).resolve() for p in (old_report, new_report)):
        raise AuditInputError(f"--output {target} is one of the reports being compared; choose another file")
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise AuditInputError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"wrote {target}")


# verify, sign and keygen live in auditor/cli/review.py; importing it registers them on ``cli``.
from auditor.cli import review  # noqa: E402, F401


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("auditor: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT)
    except AuditInputError as exc:
        click.echo(f"auditor: error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        click.echo("auditor: interrupted; no report was overwritten", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # an engine bug must still not greet the user with a traceback
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(
            f"auditor: internal error: {type(exc).__name__}: {exc} (set AUDITOR_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(EXIT_INPUT)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


def entry() -> None:
    """The ``auditor`` command: :func:`main`, then a quick exit.

    Once the reports are written, the output flushed and the exit handlers run, the
    process ends without Python's module-by-module teardown, which with the scientific
    stack loaded takes about 0.4 s of every audit and achieves nothing a finished process
    needs. Calling :func:`main` in-process (tests, other programs) exits normally.
    """
    try:
        main()
        code: Any = EXIT_OK
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):  # as Python itself does with SystemExit("message")
        print(code, file=sys.stderr)
        code = 1
    import atexit

    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed: Python gives None
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (auditor ... | head): nothing more to say
            pass
    atexit._run_exitfuncs()  # logging, temporary folders, multiprocessing: what a normal exit runs
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()

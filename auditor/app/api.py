"""The public Python API: ``auditor.audit(...)`` and ``auditor.compare(...)`` return a :class:`Report`.

The CLI is a thin layer over these two functions: ``auditor run`` and ``auditor compare``
parse their options, call them with file paths, save the report and exit with its code.
From a notebook the same functions take in-memory tables (pandas, Polars, PyArrow) and
fitted model objects (scikit-learn, XGBoost, LightGBM, CatBoost, an ONNX session, or any
``ModelAdapter``), and give the same results as the CLI for the same inputs and seed::

    import auditor
    report = auditor.audit(model=clf, train=train_df, test=test_df, target="income",
                           sensitive=["sex"], favourable_label=">50K")
    report              # in a notebook: the gate, per-area counts, the failing findings
    report.show("FR002")
    report.save("reports/", formats=["html", "json"])

Every argument is keyword-only and checked with the CLI's own messages (``AuditInputError``,
the CLI's exit code 2).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from auditor.util.errors import MSG_OUT_UNWRITABLE, AuditInputError

TASKS = ("binary", "multiclass", "regression")
SCORE_KINDS = ("auto", "probability", "rank", "reversed-rank")
DEVICES = ("auto", "cpu", "cuda")


# -- the report object ------------------------------------------------------------------

class Result(Mapping):
    """One check's result: the check's entry of report.json, read-only (``result["metrics"]``),
    with ``id``, ``status``, ``summary`` and ``metrics`` as attributes and a notebook card."""

    def __init__(self, data: dict[str, Any], report: Report):
        self._data = data
        self._report = report

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    id = property(lambda self: str(self._data.get("id")))
    status = property(lambda self: str(self._data.get("status")))
    area = property(lambda self: str(self._data.get("area")))
    summary = property(lambda self: str(self._data.get("summary") or ""))
    metrics = property(lambda self: dict(self._data.get("metrics") or {}))

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"<{self.id} {self._data.get('name')}: {self.status} - {self.summary[:120]}>"

    def text(self) -> str:
        """The result as lines of text: status, summary, metrics with their intervals and levels."""
        from auditor.util.wording import format_number, is_percent_name

        lines = [f"{self.id} {self._data.get('title') or self._data.get('name')}: {self.status}", f"  {self.summary}"]
        for name, m in self.metrics.items():
            if not isinstance(m, dict):
                continue
            pct = is_percent_name(name)
            shown = format_number(m.get("value"), percent=pct)
            if m.get("ci_low") is not None and m.get("ci_high") is not None:
                shown += f" [{format_number(m['ci_low'], percent=pct)}, {format_number(m['ci_high'], percent=pct)}]"
            lines.append(f"  {name} = {shown}" + (f" ({m['status']})" if m.get("status") else ""))
        if self._data.get("recommendation"):
            lines.append(f"  what to do: {self._data['recommendation']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from auditor.render.notebook import result_html

        return result_html(self._report._data, self.id)


class Report:
    """An audit's outcome: the gate, the results, and the report in every format.

    ``passed`` and ``exit_code`` are the gate's (the CLI exits with the same code);
    ``results`` maps check IDs to :class:`Result`, ``by_area`` areas to lists of them;
    ``to_dict()`` is report.json's content; ``save(folder)`` writes the CLI's files.
    """

    def __init__(self, data: dict[str, Any]):
        self._data = data

    @property
    def passed(self) -> bool:
        return bool(self._data["gate"]["passed"])

    @property
    def exit_code(self) -> int:
        return int(self._data["gate"]["exit_code"])

    @property
    def gate(self) -> dict[str, Any]:
        return copy.deepcopy(self._data["gate"])

    @property
    def results(self) -> dict[str, Result]:
        return {str(c["id"]): Result(c, self) for c in self._data.get("checks") or []}

    @property
    def by_area(self) -> dict[str, list[Result]]:
        out: dict[str, list[Result]] = {}
        for c in self._data.get("checks") or []:
            out.setdefault(str(c.get("area")), []).append(Result(c, self))
        return out

    @property
    def failing(self) -> list[Result]:
        """The results that block the gate, in the report's order."""
        blocking = {str(i) for i in self._data["gate"].get("blocking") or []}
        return [r for cid, r in self.results.items() if cid in blocking]

    def to_dict(self) -> dict[str, Any]:
        """report.json's content (a copy: changing it changes nothing here)."""
        return copy.deepcopy(self._data)

    def save(self, folder: str | Path, *, formats: str | Iterable[str] = "all") -> dict[str, Path]:
        """Write the reports into ``folder`` (created if missing), each file atomically, and return
        ``{format: path}``. ``formats``: ``"all"``, a comma-separated string or a list of
        html, pdf, json, junit, sarif, md."""
        return write_report_files(self._data, folder, parse_formats(formats))

    def show(self, check_id: str) -> None:
        """Show one result: in a notebook its card (metrics, figures, evidence), elsewhere its text.
        ``report.results[check_id]`` gives the result itself."""
        cid = str(check_id).upper()
        results = self.results
        if cid not in results:
            import difflib

            close = difflib.get_close_matches(cid, list(results), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; this report holds {', '.join(list(results)[:8])}..."
            raise KeyError(f"no result {check_id!r} in this report{hint}")
        result = results[cid]
        if _in_notebook():
            from IPython.display import HTML, display

            display(HTML(result._repr_html_()))
            return
        print(result.text())

    def log_to_mlflow(self, run_id: str, *, tracking_uri: str | None = None, folder: str | Path | None = None,
                      formats: str | Iterable[str] = "all") -> dict[str, Any]:
        """Log this audit to an existing MLflow run: the gate as tags, the metrics with their
        intervals, the reports in ``formats`` as artifacts (written to ``folder``, else to a
        temporary folder). The run is checked before any report is drawn."""
        import tempfile

        from auditor.app.mlflow_log import check_run, log_audit

        check_run(run_id, tracking_uri=tracking_uri)
        if folder is not None:
            return log_audit(self._data, self.save(folder, formats=formats), run_id=run_id, tracking_uri=tracking_uri)
        with tempfile.TemporaryDirectory(prefix="auditor-mlflow-") as tmp:
            return log_audit(self._data, self.save(tmp, formats=formats), run_id=run_id, tracking_uri=tracking_uri)

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in (self._data.get("summary") or {}).get("by_status", {}).items() if n)
        verdict = "passed" if self.passed else "FAILED"
        return f"<auditor Report: gate {verdict} (exit {self.exit_code}); {len(self._data.get('checks') or [])} checks: {counts}>"

    def _repr_html_(self) -> str:
        from auditor.render.notebook import summary_html

        return summary_html(self._data)


# -- writing the files ------------------------------------------------------------------

def writable_folder(folder: str | Path) -> Path:
    """``folder``, created if missing, or the one-line reason it cannot take the reports."""
    from auditor.util.fileio import ensure_writable_dir

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise AuditInputError(f"output path exists and is not a folder: {out}")
    try:
        return ensure_writable_dir(out)
    except OSError as exc:
        raise AuditInputError(MSG_OUT_UNWRITABLE.format(path=out, reason=exc.strerror or exc)) from None


def write_report_files(report: dict[str, Any], folder: str | Path, formats: list[str]) -> dict[str, Path]:
    """Every format drawn from ``report``, then written into ``folder`` atomically (the CLI's files)."""
    from auditor.render import write_reports

    out = writable_folder(folder)
    try:
        return write_reports(report, out, formats)
    except OSError as exc:
        raise AuditInputError(MSG_OUT_UNWRITABLE.format(path=out, reason=exc.strerror or exc)) from None


# -- checking the arguments ---------------------------------------------------------------

def parse_formats(value: str | Iterable[str]) -> list[str]:
    """``"all"``, ``"html,json"`` or ``["html", "json"]`` -> the formats, in the renderers' order."""
    from auditor.render import FORMATS

    if isinstance(value, str):
        items = [v.strip().lower() for v in value.split(",") if v.strip()]
    else:
        items = [str(v).strip().lower() for v in value]
    if not items:
        raise AuditInputError(f"--format: give one or more of {','.join(FORMATS)}, or all")
    if items == ["all"]:
        return list(FORMATS)
    unknown = [v for v in items if v not in FORMATS]
    if unknown:
        raise AuditInputError(f"--format: unknown format(s) {unknown}; choose from {','.join(FORMATS)} or all")
    return [f for f in FORMATS if f in items]


def _choice(option: str, value: Any, choices: tuple[Any, ...], *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if value not in choices:
        raise AuditInputError(f"{option}: {value!r} is not one of {', '.join(map(str, choices))}")
    return value


def _text(option: str, value: Any, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise AuditInputError(f"{option} must be a column name (text); got {value!r}")
    return value


def _texts(option: str, value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        _text(option, item, optional=False)
    return items


def _label(value: Any) -> str | None:
    """A class label as the CLI reads it: its text (a number or boolean is matched by its text)."""
    return None if value is None else str(value)


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AuditInputError(f"--seed must be a whole number of at least 0; got {value!r}")
    return value


def _jobs(value: Any) -> int | str:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AuditInputError(f"--jobs must be a whole number of 1 or more, or 'auto'; got {value!r}")
    return value


def _overrides(value: Any) -> list[str]:
    """``overrides=`` as the CLI's ``--set KEY=VALUE`` strings: a list of them, or a dict of key -> value."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        import json

        return [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in value.items()]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _policy(value: Any) -> str | Path | dict[str, Any] | None:
    if value is None or isinstance(value, (str, Path, dict)):
        return value
    raise AuditInputError(f"policy must be a policy file's path or a dict with its keys; got a {type(value).__name__}")


def _model_classes(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [str(v).strip() for v in items]
    if len(items) < 2 or any(not v for v in items):
        raise AuditInputError(f"--model-classes: give two or more class labels in the order of the model's outputs; got {value!r}")
    return items


# -- progress -------------------------------------------------------------------------

def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook or JupyterLab), not a terminal or CI."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class NotebookProgress:
    """The checks' progress as one line in the notebook's output, updated in place."""

    def __init__(self) -> None:
        from IPython.display import HTML, display

        self._html = HTML
        self._handle = display(HTML(self._line(0, 0, None)), display_id=True)

    @staticmethod
    def _line(i: int, total: int, result: Any) -> str:
        import html

        bar = f'<progress value="{i}" max="{max(total, 1)}" style="width: 240px; vertical-align: middle"></progress>'
        last = f" · {html.escape(result.id)} {html.escape(result.status)}" if result is not None else ""
        label = f"{i}/{total} checks" if total else "loading the inputs"
        return f'<div style="font: 12px sans-serif">auditor: {bar} {label}{last}</div>'

    def __call__(self, i: int, total: int, result: Any) -> None:
        if self._handle is not None:
            self._handle.update(self._html(self._line(i, total, result)))


def _progress(value: Any) -> Callable[..., None] | None:
    """``"auto"``: a line updated in place in a notebook, one line per check on a terminal, and
    nothing in CI or when output is not a terminal; ``False``/``None``: nothing; a callable
    ``(i, total, result)``: that."""
    if value is None or value is False:
        return None
    if callable(value):
        return value
    if value not in ("auto", True):
        raise AuditInputError(f"progress must be 'auto', True, False or a callable; got {value!r}")
    if _in_notebook():
        return NotebookProgress()
    from auditor.engine.runner import terminal_progress

    tty = sys.stderr is not None and sys.stderr.isatty()
    return terminal_progress if tty or value is True else None


# -- the two use cases ------------------------------------------------------------------

def audit(
    *,
    model: Any = None,
    train: Any = None,
    test: Any,
    target: str,
    current: Any = None,
    validation: Any = None,
    sensitive: str | Iterable[str] | None = None,
    task: str | None = None,
    positive_label: Any = None,
    favourable_label: Any = None,
    id_column: str | None = None,
    group_column: str | None = None,
    time_column: str | None = None,
    predictions: str | None = None,
    scores: str | None = None,
    score_kind: str = "auto",
    history: Any = None,
    model_classes: str | Iterable[Any] | None = None,
    policy: str | Path | dict[str, Any] | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    seed: int | None = None,
    device: str = "auto",
    trust_model: bool = False,
    trusted_types: Iterable[str] | None = None,
    jobs: int | str = 1,
    progress: Any = "auto",
    baseline_report: str | Path | dict[str, Any] | None = None,
    title: str | None = None,
    engine: str | None = None,
    spark_conf: Mapping[str, Any] | Iterable[str] | None = None,
    sample_rows: int | None = None,
) -> Report:
    """Audit a model and its data; return the :class:`Report` (``auditor run``'s, for the same inputs and seed).

    ``model``: a fitted model object or a model file; or, in predictions-only mode, ``None``
    with ``predictions`` (and ``scores``) naming columns of the test data. ``train``, ``test``,
    ``current`` and ``validation``: pandas DataFrames (Polars or PyArrow tables are
    converted) or CSV/Parquet paths. ``policy``: an ``audit.yaml`` path or a dict with its keys;
    ``overrides``: what the CLI's ``--set`` takes (``{"fail_on": "medium"}`` or
    ``["DQ001.thresholds.max_missing_rate.fail=0.4"]``). ``engine``: ``"pandas"`` or ``"spark"``
    (default: spark when a table is a ``pyspark.sql.DataFrame``, else pandas); under Spark a table
    may also be a Parquet, Delta or CSV path or a catalog table name, ``spark_conf`` sets the
    session a new audit starts, and ``sample_rows`` is the size of the sample of each dataset
    that the checks reading rows get. Every other argument is the CLI option of the same name.
    """
    from auditor.app.audit import run_audit
    from auditor.contract.adapters import feature_name_warnings_ignored
    from auditor.contract.inputs import RunOptions

    check_train_given(train, predictions)
    baseline, baseline_path = _baseline(baseline_report)
    opts = RunOptions(
        train=train, test=_required("--test", test), target=_text("--target", target, optional=False), model=model,
        current=current, validation=validation, task=_choice("--task", task, TASKS, optional=True),
        positive_label=_label(positive_label),
        favourable_label=_label(favourable_label),
        sensitive=_texts("--sensitive", sensitive), id_column=_text("--id-column", id_column),
        group_column=_text("--group-column", group_column), time_column=_text("--time-column", time_column),
        predictions=_text("--predictions", predictions), scores=_text("--scores", scores),
        score_kind=_choice("--score-kind", score_kind, SCORE_KINDS), history=history,
        trust_model=bool(trust_model), trusted_types=_texts("--trust-type", trusted_types),
        model_classes=_model_classes(model_classes), seed=_seed(seed), device=_choice("--device", device, DEVICES),
        engine=_engine(engine, train, test, current, validation), spark_conf=spark_settings(spark_conf),
        sample_rows=_sample_rows(sample_rows),
    )
    with feature_name_warnings_ignored():  # the report says how the inputs are matched
        data = run_audit(opts, policy_path=_policy(policy), overrides=_overrides(overrides), progress=_progress(progress),
                         jobs=_jobs(jobs), baseline_report=baseline, baseline_path=baseline_path, title=title)
    return Report(data)


def compare(
    *,
    baseline: Any,
    candidates: Any,
    test: Any,
    target: str,
    train: Any = None,
    names: Iterable[str] | None = None,
    task: str | None = None,
    positive_label: Any = None,
    metric: str = "auto",
    margin: float | str | None = None,
    confidence: float = 0.95,
    refit: bool = False,
    model_classes: str | Iterable[Any] | None = None,
    policy: str | Path | dict[str, Any] | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    seed: int | None = None,
    device: str = "auto",
    trust_model: bool = False,
    trusted_types: Iterable[str] | None = None,
    progress: Any = "auto",
) -> Report:
    """Compare one or more candidates with a baseline on the same test rows (``auditor compare``).

    ``baseline`` and ``candidates`` (one, or a list): model objects or files. ``names``: what
    to call the models in the report, baseline first (default: the file names, or the
    objects' class names). The gate passes when every candidate is shown not worse than the
    baseline by more than ``margin`` and no paired test finds it significantly worse.
    """
    from auditor.app.audit import run_compare
    from auditor.contract.adapters import feature_name_warnings_ignored
    from auditor.contract.inputs import RunOptions
    from auditor.toolkit.comparison import METRIC_CHOICES

    listed = list(candidates) if isinstance(candidates, (list, tuple)) else [candidates]
    if not listed:
        raise AuditInputError("give at least one candidate model")
    if refit and not train_given(train):
        raise AuditInputError("--refit needs --train: the models are refitted on the training data")
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0.5 <= confidence <= 0.999:
        raise AuditInputError(f"--confidence must be a number in [0.5, 0.999]; got {confidence!r}")
    models = [baseline, *listed]
    labels = list(names) if names is not None else model_names(models)
    if len(labels) != len(models) or len(set(labels)) != len(labels):
        raise AuditInputError(f"names: give {len(models)} different names, the baseline's first; got {labels!r}")
    opts = RunOptions(
        train=train, test=_required("--test", test), target=_text("--target", target, optional=False), model=listed[0],
        task=_choice("--task", task, TASKS, optional=True), positive_label=_label(positive_label),
        trust_model=bool(trust_model), trusted_types=_texts("--trust-type", trusted_types),
        model_classes=_model_classes(model_classes), seed=_seed(seed), model_name=labels[1],
        device=_choice("--device", device, DEVICES),
        comparators=[(labels[0], baseline), *zip(labels[2:], listed[1:])],
    )
    with feature_name_warnings_ignored():
        data = run_compare(opts, metric=_choice("--metric", metric, METRIC_CHOICES), margin=margin,
                           confidence=float(confidence), refit=bool(refit), policy_path=_policy(policy),
                           overrides=_overrides(overrides), progress=_progress(progress))
    return Report(data)


def model_names(models: list[Any]) -> list[str]:
    """Readable, unique names for compared models: file names without the suffix, or class names."""
    names: list[str] = []
    for model in models:
        if isinstance(model, (str, Path)):
            base = Path(model).name.split(".")[0] or "model"
        else:
            base = type(model).__name__ or "model"
        name, i = base, 2
        while name in names:
            name, i = f"{base}-{i}", i + 1
        names.append(name)
    return names


MSG_TRAIN_REQUIRED = ("--train is required (the model's training data), unless the audit is in "
                      "predictions-only mode (--predictions COL)")


ENGINES = ("pandas", "spark")


def _engine(engine: str | None, *tables: Any) -> str:
    """The engine asked for; by default spark when a table is a pyspark DataFrame, else pandas."""
    if engine is None:
        from auditor.contract.compute_spark import is_spark_frame

        return "spark" if any(is_spark_frame(t) for t in tables if t is not None) else "pandas"
    return _choice("--engine", engine, ENGINES)


def spark_settings(given: Mapping[str, Any] | Iterable[str] | None) -> dict[str, str]:
    """``--spark-conf key=value`` settings (or a mapping) as a dict of text."""
    if given is None:
        return {}
    if isinstance(given, Mapping):
        return {str(k): str(v) for k, v in given.items()}
    out = {}
    for item in [given] if isinstance(given, str) else given:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip() or not key.strip().startswith("spark."):
            raise AuditInputError(f"--spark-conf must be a Spark setting KEY=VALUE with KEY starting 'spark.'; got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _sample_rows(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1000:
        raise AuditInputError(f"--sample-rows must be a whole number of at least 1000; got {value!r}")
    return value


def check_train_given(train: Any, predictions: Any) -> None:
    if not train_given(train) and not predictions:
        raise AuditInputError(MSG_TRAIN_REQUIRED)


def train_given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value)


def _required(option: str, value: Any) -> Any:
    if value is None:
        raise AuditInputError(f"{option} is required")
    return value


def _baseline(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dict):
        return value, None
    from auditor.reportdata.read import load_report

    return load_report(value, role="--baseline-report"), str(value)

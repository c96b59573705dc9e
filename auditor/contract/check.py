"""The check contract: metadata as class attributes, measurement in ``run``.

A check subclasses :class:`Check`, declares what it is and what it needs, and returns
:class:`~auditor.contract.results.Findings`. The engine turns metrics into a status
(``auditor.engine.thresholds``); the check never compares a metric with a threshold itself.

``practices`` names the good-practice codes the check covers (``auditor.reportdata.practices``);
``clauses`` names the standards clauses its result is evidence for, each written
``"<framework>:<clause id>"`` with a framework key and a clause id of
``auditor/standards/*.yaml`` (``eu_ai_act``, ``nist_ai_rmf``, ``iso_42001``). The standards
crosswalk is derived from what the checks declare, so a new check, built-in or plugin,
edits no central list.

Example::

    class MissingValues(Check):
        id = "DQ001"
        name = "missing-values"
        area = "data_quality"
        severity = "medium"
        needs = frozenset({"train", "test"})
        params = {"placeholders": Param(default=["?"], kind="list", help="...")}
        thresholds = {"max_missing_rate": Threshold(direction="above", warn=0.05, fail=0.3,
                                                    low=0, high=1)}
        practices = ("P1.2", "P1.9")
        clauses = ("eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.7.4")

        def run(self, ctx, params):
            ...
            return Findings(summary=..., metrics={"max_missing_rate": Metric(0.12)})
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from auditor.contract.results import SEVERITIES, Findings

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

AREAS: tuple[str, ...] = (
    "data_quality",
    "leakage",
    "overfitting",
    "significance",
    "robustness",
    "drift",
    "fairness",
    "explainability",
    "calibration",
    "privacy",
    "governance",
)

TASKS: frozenset[str] = frozenset({"binary", "multiclass", "regression"})

# What a check can need from the context, each with the reason a check that needs it
# and lacks it is `skipped` for.
NEEDS: dict[str, str] = {
    "train": "no training data was given",
    "test": "no test data was given",
    "current": "no current (production) sample was given (--current)",
    "current_labels": "the current sample has no target column",
    "predictions": "no model predictions are available",
    "train_predictions": "predictions-only mode: the train data has no predictions column",
    "probabilities": "the model gives no probabilities (no predict_proba, no --scores, or --scores that only rank)",
    "model": "predictions-only mode: there is no model to call on new inputs",
    "refit": "the model cannot be cloned and refitted",
    "sensitive": "no sensitive feature was declared (--sensitive)",
    "group": "no group column was declared (--group-column)",
    "time": "no time column was declared (--time-column)",
    "history": "no training history was given (--history FILE with per-epoch train and validation loss)",
    "baseline": "no baseline model to compare with (auditor compare --baseline A --candidate B)",
    "three_models": "fewer than three models to rank (auditor compare with two or more --candidate)",
    "gradients": "the model is not differentiable (a PyTorch model is needed)",
}

ID_PATTERN = re.compile(r"^(?:[A-Z]{2}\d{3}|[A-Z]{3,}\d{3,})$")
BUILTIN_ID_PATTERN = re.compile(r"^[A-Z]{2}\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# "<framework>:<clause id>". Which frameworks and clauses exist is the standards layer's data
# (above this one): a clause no framework ships is simply absent from the crosswalk, and
# tests/test_crosswalk_mapping.py holds every built-in check to the shipped clauses.
CLAUSE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*:\S(?:.*\S)?$")
DOC_SECTIONS: tuple[str, ...] = ("What it checks", "Why it matters", "How to fix", "References")

ParamKind = Literal["int", "float", "bool", "str", "list"]


@dataclass(frozen=True)
class Param:
    """A tunable parameter with a default and bounds, overridable in the policy."""

    default: Any
    kind: ParamKind
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    def validate(self, value: Any, where: str) -> Any:
        """Return ``value`` coerced to this parameter's kind or raise ``ValueError``."""
        expected = {
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "str": "a string",
            "list": "a list",
        }[self.kind]
        ok = True
        if self.kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok:
                value = float(value)
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "str":
            ok = isinstance(value, str)
        elif self.kind == "list":
            ok = isinstance(value, list)
        if not ok:
            raise ValueError(f"{where} must be {expected}; got {value!r}.")
        if self.kind in ("int", "float"):
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                raise ValueError(f"{where} must be {expected} in [{self.low}, {self.high}]; got {value!r}.")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {list(self.choices)}; got {value!r}.")
        return value


@dataclass(frozen=True)
class Threshold:
    """How the engine judges one metric.

    ``direction="above"``: the metric is bad when it is strictly greater than the level
    (``warn`` then ``fail``); ``"below"``: bad when strictly smaller. Either level may be
    ``None``. ``low`` / ``high`` bound what a policy may set.
    """

    direction: Literal["above", "below"]
    warn: float | None = None
    fail: float | None = None
    low: float | None = None
    high: float | None = None
    help: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "warn": self.warn, "fail": self.fail}


class Check:
    """Base class of every check, built-in or plugin."""

    id: ClassVar[str]
    name: ClassVar[str]
    area: ClassVar[str]
    severity: ClassVar[str] = "medium"
    needs: ClassVar[frozenset[str]] = frozenset()
    tasks: ClassVar[frozenset[str]] = TASKS
    params: ClassVar[dict[str, Param]] = {}
    thresholds: ClassVar[dict[str, Threshold]] = {}
    practices: ClassVar[tuple[str, ...]] = ()
    # Standards clauses the result is evidence for, "<framework>:<clause id>" ("eu_ai_act:Art. 9").
    clauses: ClassVar[tuple[str, ...]] = ()
    references: ClassVar[tuple[str, ...]] = ()
    # Off unless a policy selects it by its exact ID (for checks that refit or are slow).
    opt_in: ClassVar[bool] = False
    # Checks that reuse one another's computations through ``AuditContext.memo`` name the
    # same group: a parallel run (``--jobs``) keeps a group in one worker process, so the
    # shared work is done once there instead of once per worker.
    shares_work: ClassVar[str | None] = None
    # What the check reads when the rows live on a cluster (``--engine spark``): "all" when
    # every number it reports comes from ``ctx.stats``, which the engine computes over every
    # row where the rows lie; "sample" when it reads ``ctx.frame``, which is then the seeded
    # sample the engine brought to the driver, and its result's ``sample`` says how large.
    engine_rows: ClassVar[Literal["all", "sample"]] = "sample"

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:  # pragma: no cover
        raise NotImplementedError

    # -- documentation ---------------------------------------------------------
    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring's fixed sections, by heading."""
        return parse_doc_sections(inspect.getdoc(cls) or "")

    @classmethod
    def title(cls) -> str:
        doc = (inspect.getdoc(cls) or "").strip().splitlines()
        return doc[0].strip() if doc else cls.name


def parse_doc_sections(doc: str) -> dict[str, str]:
    """Split a docstring into its ``Heading:`` sections (first line is the title)."""
    text = inspect.cleandoc(doc)
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines()[1:]:
        stripped = line.strip()
        heading = stripped[:-1] if stripped.endswith(":") else None
        if heading in DOC_SECTIONS:
            current = heading
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: textwrap.dedent("\n".join(v)).strip() for k, v in sections.items()}


def definition_problems(cls: type) -> list[str]:
    """What is wrong with a check class's definition (empty when it is valid)."""
    problems: list[str] = []
    cid = getattr(cls, "id", None)
    if not isinstance(cid, str) or not ID_PATTERN.match(cid):
        problems.append(f"id must look like 'DQ001' (built-in) or 'ACME001' (plugin); got {cid!r}")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.append(f"name must be kebab-case; got {name!r}")
    if getattr(cls, "area", None) not in AREAS:
        problems.append(f"area must be one of {list(AREAS)}; got {getattr(cls, 'area', None)!r}")
    if getattr(cls, "severity", None) not in SEVERITIES:
        problems.append(f"severity must be one of {list(SEVERITIES)}; got {getattr(cls, 'severity', None)!r}")
    unknown_needs = set(getattr(cls, "needs", ())) - set(NEEDS)
    if unknown_needs:
        problems.append(f"needs has unknown entries {sorted(unknown_needs)}; known: {sorted(NEEDS)}")
    unknown_tasks = set(getattr(cls, "tasks", ())) - TASKS
    if unknown_tasks:
        problems.append(f"tasks has unknown entries {sorted(unknown_tasks)}")
    clauses = getattr(cls, "clauses", ())
    if not isinstance(clauses, (tuple, list)) or not all(isinstance(c, str) for c in clauses):
        problems.append(f"clauses must be a tuple of texts such as ('eu_ai_act:Art. 9',); got {clauses!r}")
    else:
        malformed = [c for c in clauses if not CLAUSE_PATTERN.match(c)]
        if malformed:
            problems.append(f"clauses entries must look like 'eu_ai_act:Art. 9' (framework:clause); got {malformed}")
    for key, th in getattr(cls, "thresholds", {}).items():
        if not isinstance(th, Threshold):
            problems.append(f"thresholds.{key} must be a Threshold")
    for key, p in getattr(cls, "params", {}).items():
        if not isinstance(p, Param):
            problems.append(f"params.{key} must be a Param")
            continue
        try:
            p.validate(p.default, f"params.{key}.default")
        except ValueError as exc:
            problems.append(str(exc))
    missing = [s for s in DOC_SECTIONS if not parse_doc_sections(inspect.getdoc(cls) or "").get(s)]
    if missing:
        problems.append(f"docstring lacks sections {missing}")
    if not callable(getattr(cls, "run", None)) or cls.run is Check.run:
        problems.append("run() is not implemented")
    return problems

"""The package's layers, enforced over every import (function-level ones included).

From the bottom: ``util`` < ``contract`` < ``standards`` < ``toolkit`` < ``reportdata``
< ``engine`` | ``render`` < ``app`` < ``cli``. Check families sit on the toolkit. A
module imports its own layer or those below, and these edges are forbidden outright:

- anything but the CLI importing click or the CLI;
- the engine importing the renderers or a check;
- the report data importing the engine, the renderers or a check;
- the renderers importing the engine, a check, the context, the adapters or the inputs;
- a check importing the engine, the report data, the renderers, the use cases, the CLI,
  another family or a sibling check file (only its family's private modules, whose names
  start with an underscore: ``_common``, ``_shap``);
- the contract (or anything below it) importing anything above it;
- the runner importing the policy (``auditor.engine.planning`` turns a policy into a plan).

The walk reads the source (``ast``), so an import hidden in a function counts, and
the module graph must have no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"util": 0, "contract": 1, "standards": 2, "toolkit": 3, "checks": 4, "reportdata": 4,
        "engine": 5, "render": 5, "app": 6, "cli": 7}
# Kept for plugins written before the layout: ``auditor.check`` and ``auditor.results``
# re-export the contract's modules of the same name.
COMPAT = {"check": "contract", "results": "contract"}
ALIASES: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "checks":
        parts = ["auditor", *parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files() -> list[Path]:
    # checks/ and templates/ live at the top level; an installed or linked auditor/checks is the same files
    inside = [p for p in sorted((ROOT / "auditor").rglob("*.py"))
              if p.relative_to(ROOT / "auditor").parts[0] not in ("checks", "templates")]
    return inside + sorted((ROOT / "checks").rglob("*.py"))


def imports_of(name: str, source: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` (module ``name``) imports, anywhere in it; relative imports resolved."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            for alias in node.names:  # ``from auditor.toolkit import stats`` imports a module
                found.add(f"{module}.{alias.name}")
    return found


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "click":
        return "click"
    if parts[0] != "auditor":
        return None
    if len(parts) == 1:
        return "util"  # the package: its version constants only
    head = parts[1]
    if len(parts) == 2 and head in COMPAT:
        return COMPAT[head]
    if head in ("cli", "__main__"):
        return "cli"
    if head == "checks":
        return "checks"
    if head == "templates":
        return None
    return head if head in RANK else None


def family(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "checks" else None


def forbidden(src: str, dst: str) -> str | None:
    """Why the edge ``src -> dst`` breaks the layering, or None."""
    a, b = layer(src), layer(dst)
    if b == "click" or b == "cli":
        return None if a == "cli" else "only the CLI imports click or the CLI"
    if a is None or b is None or a == "cli":
        return None
    if a == "checks":
        if b in ("engine", "reportdata", "render", "app"):
            return f"a check imports the {b}"
        if b == "checks":
            fa, fb = family(src), family(dst)
            if fa != fb:
                return "a check imports another family"
            dst_file = dst.split(".")[3] if len(dst.split(".")) > 3 else None
            src_file = src.split(".")[3] if len(src.split(".")) > 3 else None
            if src_file is None:
                return None  # the family package gathers its own check files
            if dst_file is None:
                return "a check file imports its family package"
            if not dst_file.startswith("_") and dst_file != src_file:
                return "a check imports a sibling check file"
        return None
    if b == "checks":
        return f"the {a} imports a check"
    if a == "engine" and b == "render":
        return "the engine imports a renderer"
    if src == "auditor.engine.runner" and dst.startswith("auditor.engine.policy"):
        return "the runner imports the policy (planning reads it; the runner runs the plan)"
    if a == "render":
        if b == "engine":
            return "a renderer imports the engine"
        if dst.split(".")[:3] in (["auditor", "contract", "context"], ["auditor", "contract", "adapters"],
                                  ["auditor", "contract", "adapters_torch"], ["auditor", "contract", "inputs"]):
            return "a renderer imports the context, the adapters or the inputs"
    if a == "reportdata" and b in ("engine", "render"):
        return f"the report data imports the {b}"
    if RANK[b] > RANK[a]:
        return f"the {a} imports the {b}, a layer above it"
    return None


def graph() -> dict[str, set[str]]:
    """Each module's imports of modules; ``from m import name`` counts ``m.name`` where that is a module."""
    files = {module_name(p): p for p in source_files()}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        if name in ALIASES:
            continue
        found = imports_of(name, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
        edges[name] = {m for m in found if m in files or m.rpartition(".")[0] not in files}
    return edges


def violations(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{src} -> {dst}: {why}" for src, dsts in edges.items() for dst in dsts
                  if (why := forbidden(src, dst)) is not None)


def test_every_module_has_a_layer():
    unplaced = [m for m in graph() if layer(m) is None]
    assert unplaced == []


def test_no_import_breaks_the_layering():
    assert violations(graph()) == []


def test_nothing_inside_the_package_imports_its_facade():
    """``auditor/__init__.py`` hands out the Python API (``auditor.audit``) on first use, so a
    module of the package importing ``auditor`` itself would close a loop through the API;
    the version constants are imported from ``auditor.util.version``."""
    importers = sorted(src for src, dsts in graph().items() if src != "auditor"
                       and any(d == "auditor" or (d.startswith("auditor.") and d.count(".") == 1
                                                  and d.split(".")[1] in ("__version__", "SCHEMA_VERSION", "audit", "compare"))
                               for d in dsts))
    assert importers == []


def test_the_module_graph_has_no_cycle():
    edges = graph()
    known = set(edges)
    # an import of ``auditor.render.common`` also runs ``auditor.render`` (its package), which
    # Python imports first; a package's own ``__init__`` importing its modules lazily is the
    # package loading itself, not a cycle between two modules
    adjacency = {m: {d for d in ds if d in known and d != m and not m.startswith(d + ".")} for m, ds in edges.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(adjacency[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(adjacency):
        if m not in state:
            visit(m)
    assert cycles == []


@pytest.mark.parametrize(("module", "source", "why"), [
    ("auditor.engine.runner", "def f():\n    from auditor.render.html import render_html\n", "the engine imports a renderer"),
    ("auditor.reportdata.diff", "from auditor.cli import main\n", "only the CLI imports click or the CLI"),
    ("auditor.contract.context", "import click\n", "only the CLI imports click or the CLI"),
    ("auditor.render.html", "from auditor.contract.context import AuditContext\n",
     "a renderer imports the context, the adapters or the inputs"),
    ("auditor.checks.fairness.fr002_disparities", "from auditor.checks.calibration import expected_calibration_error\n",
     "a check imports another family"),
    ("auditor.checks.fairness.fr002_disparities", "from .fr001_group_metrics import GroupMetrics\n",
     "a check imports a sibling check file"),
    ("auditor.checks.fairness.fr002_disparities", "from auditor.engine.gate import evaluate_gate\n", "a check imports the engine"),
    ("auditor.contract.results", "from auditor.toolkit.stats import bootstrap_ci\n", "the contract imports the toolkit, a layer above it"),
    ("auditor.reportdata.report", "from auditor.engine.policy import Policy\n", "the report data imports the engine"),
    ("auditor.engine.runner", "from auditor.engine.policy import Policy\n", "the runner imports the policy"),
])
def test_a_forbidden_import_is_caught(module, source, why):
    edges = {module: imports_of(module, source)}
    found = violations(edges)
    assert found and any(why in v for v in found), found


def test_allowed_imports_pass():
    edges = {
        "auditor.checks.fairness.fr002_disparities": imports_of(
            "auditor.checks.fairness.fr002_disparities",
            "from ._common import Prepared\nfrom auditor.toolkit.stats import bootstrap_ci\nfrom auditor.contract.check import Check\n"),
        "auditor.checks.explainability.ex001_global_importance": imports_of(
            "auditor.checks.explainability.ex001_global_importance", "from ._shap import shap_values\n"),
        "auditor.render.html": imports_of("auditor.render.html", "from auditor.reportdata.model_card import build_model_card\n"),
        "auditor.cli": imports_of("auditor.cli", "import click\nfrom auditor.app.audit import run_audit\n"),
    }
    assert violations(edges) == []

"""Listing checks and printing help must not import the heavy libraries.

Deterministic, not timed: a fresh interpreter imports the CLI, loads the registry (every
check module through its entry point), prints ``--help`` and ``checks list``, and then
reports which heavy modules ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from auditor.util.lazy import HEAVY_MODULES

PROBE = """
import contextlib, io, json, sys
from auditor.cli import main
from auditor.engine.registry import load_registry

registry = load_registry()
for argv in (["--help"], ["checks", "list"], ["run", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[1])))
print(json.dumps({"checks": len(registry.ids()), "heavy": loaded}))
"""


def test_help_and_checks_list_import_no_heavy_library():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(HEAVY_MODULES))],
        capture_output=True, text=True, check=True,
    )
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["checks"] >= 40  # every built-in check module was really imported
    assert found["heavy"] == [], f"imported at start-up: {found['heavy']}"


def test_lazy_module_imports_on_first_use_only():
    probe = (
        "import sys; from auditor.util.lazy import lazy_module, lazy_attribute\n"
        "m = lazy_module('fractions'); f = lazy_attribute('statistics', 'median')\n"
        "sys.modules.pop('fractions', None); sys.modules.pop('statistics', None)\n"
        "before = ('fractions' in sys.modules, 'statistics' in sys.modules)\n"
        "value = (str(m.Fraction(1, 3)), f([3, 1, 2]))\n"
        "print(before, value, 'fractions' in sys.modules, 'statistics' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "(False, False) ('1/3', 2) True True"


EXIT_PROBE = """
import atexit, sys
from pathlib import Path
from auditor.cli import entry

marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text("exit handlers ran"))
sys.argv = ["auditor", *sys.argv[2:]]
entry()
print("never reached")
"""


def test_the_command_exits_quickly_with_its_code_output_and_exit_handlers(tmp_path):
    marker = tmp_path / "marker"
    ok = subprocess.run([sys.executable, "-c", EXIT_PROBE, str(marker), "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and "auditor, version" in ok.stdout and "never reached" not in ok.stdout
    assert marker.read_text() == "exit handlers ran"
    marker.unlink()
    bad = subprocess.run([sys.executable, "-c", EXIT_PROBE, str(marker), "run", "--test", "x.csv"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Missing option" in bad.stderr
    assert marker.read_text() == "exit handlers ran"


def test_the_command_runs_with_its_output_streams_closed():
    import os

    for closed in (1, 2):
        proc = subprocess.run([sys.executable, "-m", "auditor", "--version"], preexec_fn=lambda fd=closed: os.close(fd),
                              capture_output=False, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"fd {closed} closed: exit {proc.returncode}"

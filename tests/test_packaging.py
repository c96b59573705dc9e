"""Packaging: the wheel carries templates and built-in checks; a plugin package plugs in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "tests" / "plugin_pkg"


def _pip(*args: str, python: str = sys.executable) -> None:
    subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True, timeout=600)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The plugin package built and installed (a real wheel, a real entry point) into a folder."""
    work = tmp_path_factory.mktemp("plugin")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(PLUGIN))
    wheel = next((work / "dist").glob("acme_audit_checks-*.whl"))
    _pip("install", "--no-deps", "--target", str(work / "site"), str(wheel))
    return work / "site"


def _run(args: list[str], *, cwd: Path, extra_path: Path | None = None, python: str = sys.executable):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run([python, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.slow
def test_plugin_check_is_listed_runs_and_is_reported(plugin_site, clean_audit_files):
    listing = _run(["checks", "list"], cwd=clean_audit_files["dir"], extra_path=plugin_site)
    assert listing.returncode == 0, listing.stderr
    assert "ACME001" in listing.stdout and "acme-audit-checks 1.2.0" in listing.stdout
    out = clean_audit_files["dir"] / "plugged"
    proc = _run(
        ["run", "--model", clean_audit_files["model"], "--train", clean_audit_files["train"],
         "--test", clean_audit_files["test"], "--target", "y", "--out", str(out), "--format", "json,html"],
        cwd=clean_audit_files["dir"], extra_path=plugin_site,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    acme = next(c for c in report["checks"] if c["id"] == "ACME001")
    assert acme["status"] == "warn"  # 300 test rows: below the plugin's warn level of 1,000
    assert acme["metrics"]["test_rows"]["value"] == 300
    assert acme["source"] == "acme-audit-checks 1.2.0"
    assert any(p["distribution"] == "acme-audit-checks" for p in report["plugins"])
    assert "ACME001" in (out / "report.html").read_text()


@pytest.mark.slow
def test_broken_plugin_stops_the_run_naming_it(tmp_path):
    site = tmp_path / "site"
    (site / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "broken_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (site / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text("[auditor.checks]\nbroken = broken_plugin_mod\n")
    (site / "broken_plugin_mod.py").write_text("raise ImportError('missing dependency: frobnicate')\n")
    proc = _run(["checks", "list"], cwd=tmp_path, extra_path=site)
    assert proc.returncode == 2
    assert "check plugin 'broken' (broken_plugin_mod, from broken-plugin 0.1) failed to load" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_wheel_carries_templates_and_checks(tmp_path, clean_audit_files):
    """Build the wheel, install it into a fresh virtual environment, render a report from there.

    The fresh environment gets the wheel itself; its third-party dependencies are borrowed
    from this environment through a path entry (no download), which cannot expose the
    editable checkout: .pth files in that path are not processed.
    """
    dist = tmp_path / "dist"
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT))
    wheel = next(dist.glob("auditor-*.whl"))
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    fresh_site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    _pip("install", "--no-deps", "--target", str(fresh_site), str(wheel))
    (fresh_site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.run([python, "-c", "import auditor, auditor.checks, auditor.templates; print(auditor.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert where.startswith(str(fresh_site)), where
    out = tmp_path / "out"
    proc = _run(
        ["run", "--model", clean_audit_files["model"], "--train", clean_audit_files["train"],
         "--test", clean_audit_files["test"], "--target", "y", "--out", str(out), "--format", "json,html,pdf"],
        cwd=tmp_path, python=python,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert {c["id"] for c in report["checks"]} >= {"DQ001", "DQ011", "ST001", "GV001"}
    assert "DQ001" in (out / "report.html").read_text()
    assert "Risk management system" in (out / "report.html").read_text()  # the crosswalk data ships too
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")

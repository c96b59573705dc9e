"""examples/notebook.ipynb, executed as a user would run it: LightGBM on the Adult example through
auditor.audit, the inline summary, and the same audit of the saved model file through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import comparable_results

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"




@pytest.mark.slow  # two whole audits of the Adult data (about a minute)
def test_the_notebook_runs_and_the_cli_gives_the_same_results(tmp_path, capsys, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("lightgbm")
    pytest.importorskip("ipykernel")
    out = tmp_path / "notebook"
    monkeypatch.setenv("AUDITOR_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    summary = next(h for h in html if "By area" in h)
    assert 'class="auditor-nb"' in summary and "Gate failed" in summary  # the example's real disparities
    assert "FR002" in summary and "data:image/svg+xml;base64," in summary
    shown = [h for h in html if "By area" not in h and 'class="finding' in h]  # report.show("FR002")
    assert len(shown) == 1 and "FR002" in shown[0] and "<table>" in shown[0]
    notebook_report = json.loads((out / "report.json").read_text())

    from auditor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quiet", "--model", str(out / "adult_lightgbm.txt"), "--model-classes", "<=50K,>50K",
              "--train", str(ROOT / "examples/adult/adult_train.csv.gz"), "--test", str(ROOT / "examples/adult/adult_test.csv.gz"),
              "--target", "income", "--positive-label", ">50K", "--sensitive", "sex", "--sensitive", "race",
              "--policy", str(ROOT / "examples/adult/audit.yaml"), "--out", str(tmp_path / "cli"), "--format", "json"])
    capsys.readouterr()
    cli_report = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert exit_info.value.code == notebook_report["gate"]["exit_code"] == 1
    assert cli_report["gate"] == notebook_report["gate"]
    assert comparable_results(cli_report) == comparable_results(notebook_report)
    assert os.path.getsize(out / "report.html") > 100_000

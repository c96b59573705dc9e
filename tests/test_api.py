"""The Python API: auditor.audit / auditor.compare and the Report object.

The API and the CLI are one code path (the CLI calls the API); these tests hold them to
the same results for the same inputs and seed, the same messages for bad input, and the
notebook view to a self-contained fragment.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import auditor
from auditor.cli import main
from tests.conftest import comparable_results, fit_pipeline, make_binary_frame

#: A selection that touches every area and is quick on a few hundred rows.
QUICK = ["DQ001", "DQ002", "DQ004", "LK001", "LK003", "OF001", "ST001", "ST002", "CA001", "RB002", "FR001",
         "FR002", "FR003", "EX001", "GV002"]
SELECT = {"select": QUICK}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import skops.io as sio

    folder = tmp_path_factory.mktemp("api")
    frame = make_binary_frame(900, seed=1)
    train, test = frame.iloc[:600].reset_index(drop=True), frame.iloc[600:].reset_index(drop=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    model = fit_pipeline(train)
    sio.dump(model, folder / "model.skops")
    policy = folder / "audit.yaml"
    policy.write_text("select: [" + ", ".join(QUICK) + "]\n")
    return {"dir": folder, "train": pd.read_csv(folder / "train.csv"), "test": pd.read_csv(folder / "test.csv"),
            "model": model, "policy": policy}




def _cli(capsys, *argv: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    capsys.readouterr()
    return info.value.code


def test_api_and_cli_give_the_same_results(data, capsys):
    d = data["dir"]
    code = _cli(capsys, "run", "--quiet", "--model", str(d / "model.skops"), "--train", str(d / "train.csv"),
                "--test", str(d / "test.csv"), "--target", "y", "--sensitive", "colour", "--policy", str(data["policy"]),
                "--seed", "3", "--out", str(d / "cli"), "--format", "json")
    cli = json.loads((d / "cli" / "report.json").read_text())
    report = auditor.audit(model=data["model"], train=data["train"], test=data["test"], target="y",
                           sensitive=["colour"], policy=SELECT, seed=3, progress=False)
    assert report.exit_code == code == cli["gate"]["exit_code"]
    assert comparable_results(report.to_dict()) == comparable_results(cli)
    assert report.to_dict()["gate"] == cli["gate"]
    assert report.to_dict()["inputs"]["datasets"]["train"]["path"] is None
    assert report.to_dict()["inputs"]["datasets"]["train"]["source"] == "in memory (pandas.DataFrame)"


def test_polars_and_arrow_tables_give_the_same_results_as_pandas(data):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    kwargs = {"model": data["model"], "target": "y", "policy": {"select": ["DQ001", "ST001", "LK001"]}, "progress": False}
    ours = auditor.audit(train=data["train"], test=data["test"], **kwargs)
    polars = auditor.audit(train=pl.from_pandas(data["train"]), test=pl.from_pandas(data["test"]), **kwargs)
    arrow = auditor.audit(train=pa.Table.from_pandas(data["train"]), test=pa.Table.from_pandas(data["test"]), **kwargs)
    assert comparable_results(polars.to_dict()) == comparable_results(ours.to_dict()) == comparable_results(arrow.to_dict())
    assert polars.to_dict()["inputs"]["datasets"]["test"]["source"] == "in memory (polars.DataFrame)"


def test_a_policy_dict_is_the_policy_file(data):
    from_file = auditor.audit(model=data["model"], train=data["train"], test=data["test"], target="y",
                              policy=data["policy"], progress=False)
    from_dict = auditor.audit(model=data["model"], train=data["train"], test=data["test"], target="y",
                              policy=SELECT, progress=False)
    assert comparable_results(from_file.to_dict()) == comparable_results(from_dict.to_dict())
    assert from_dict.to_dict()["inputs"]["policy"]["source"] == "in memory (dict)"


def test_a_frame_with_its_own_index_audits_as_its_rows_do(data):
    """A shuffled split keeps the source frame's index labels; the audit reads the rows as a file's."""
    shuffled = data["train"].sample(frac=1.0, random_state=1)
    kwargs = {"model": data["model"], "test": data["test"], "target": "y", "progress": False,
              "policy": {"select": ["DQ001", "DQ002", "LK001", "OF001", "ST001"]}}
    ours = auditor.audit(train=shuffled, **kwargs)
    reset = auditor.audit(train=shuffled.reset_index(drop=True), **kwargs)
    assert comparable_results(ours.to_dict()) == comparable_results(reset.to_dict())
    assert list(shuffled.index) != list(range(len(shuffled)))  # the caller's frame keeps its index


def test_the_callers_frames_are_not_changed(data):
    train, test = data["train"].copy(), data["test"].copy()
    auditor.audit(model=data["model"], train=train, test=test, target="y", policy={"select": ["DQ", "LK001"]},
                  progress=False)
    pd.testing.assert_frame_equal(train, data["train"])
    pd.testing.assert_frame_equal(test, data["test"])


@pytest.mark.parametrize(("kwargs", "cli_args", "message"), [
    ({"train": None}, ["--train", ""], "--train is required"),
    ({"task": "ranking"}, ["--task", "ranking"], "ranking"),
    ({"sensitive": ["nope"]}, ["--sensitive", "nope"], "--sensitive column 'nope'"),
    ({"target": "missing"}, ["--target", "missing"], "target column 'missing'"),
])
def test_bad_arguments_get_the_clis_messages(data, capsys, kwargs, cli_args, message):
    base = {"model": data["model"], "train": data["train"], "test": data["test"], "target": "y", "progress": False}
    with pytest.raises(auditor.AuditInputError) as info:
        auditor.audit(**{**base, **kwargs})
    assert message in str(info.value)
    d = data["dir"]
    args = {"--model": str(d / "model.skops"), "--train": str(d / "train.csv"), "--test": str(d / "test.csv"),
            "--target": "y"}
    extra = []
    for i in range(0, len(cli_args), 2):
        if cli_args[i] in args:
            args[cli_args[i]] = cli_args[i + 1]
        else:
            extra += cli_args[i:i + 2]
    argv = ["run", "--quiet", "--out", str(d / "bad")] + [x for kv in args.items() for x in kv if kv[1] != ""] + extra
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    if cli_args[0] != "--task":  # click refuses an unknown choice itself, in its own words
        assert message in err


def test_arguments_are_keyword_only_and_checked(data):
    with pytest.raises(TypeError):
        auditor.audit(data["model"], data["train"], data["test"], "y")  # type: ignore[misc]
    with pytest.raises(auditor.AuditInputError, match="--seed must be a whole number"):
        auditor.audit(model=data["model"], train=data["train"], test=data["test"], target="y", seed=-1)
    with pytest.raises(auditor.AuditInputError, match="must be a file path or a pandas DataFrame"):
        auditor.audit(model=data["model"], train=[[1, 2]], test=data["test"], target="y")
    with pytest.raises(auditor.AuditInputError, match="no model adapter wraps"):
        auditor.audit(model=object(), train=data["train"], test=data["test"], target="y")
    with pytest.raises(auditor.AuditInputError, match="test data is empty"):
        auditor.audit(model=data["model"], train=data["train"], test=data["test"].iloc[:0], target="y")


@pytest.fixture(scope="module")
def failing(data):
    """An audit whose gate fails: 10% of training rows repeated with the opposite label (DQ004)."""
    train = data["train"]
    flipped = train.sample(frac=0.1, random_state=0).assign(y=lambda d: 1 - d["y"])
    return auditor.audit(model=data["model"], train=pd.concat([train, flipped], ignore_index=True),
                         test=data["test"], target="y", sensitive="colour", policy=SELECT, progress=False)


def test_the_report_object(failing, tmp_path):
    assert failing.passed is False and failing.exit_code == 1
    assert "DQ004" in [r.id for r in failing.failing]
    dq004 = failing.results["DQ004"]
    assert dq004.status == "fail" and dq004.area == "data_quality" and dq004["id"] == "DQ004"
    assert {r.id for r in failing.by_area["fairness"]} == {"FR001", "FR002", "FR003"}
    copy = failing.to_dict()
    copy["gate"]["passed"] = True
    assert failing.passed is False  # to_dict gives a copy
    written = failing.save(tmp_path / "out", formats="json,md")
    assert sorted(written) == ["json", "md"]
    assert json.loads(written["json"].read_text())["gate"]["exit_code"] == 1
    assert "gate FAILED" in repr(failing)
    with pytest.raises(KeyError, match="did you mean DQ004"):
        failing.show("DQ04")
    with pytest.raises(auditor.AuditInputError, match="unknown format"):
        failing.save(tmp_path / "x", formats=["html", "docx"])


def test_show_prints_one_result_outside_a_notebook(failing, capsys):
    assert failing.show("dq004") is None
    out = capsys.readouterr().out
    assert out.startswith("DQ004 ") and ": fail" in out.splitlines()[0]
    assert "  conflict_rate = 18.2% (fail)" in out.splitlines()


def test_the_notebook_summary_is_a_self_contained_fragment(failing):
    html = failing._repr_html_()
    assert html.startswith('<div class="auditor-nb">') and html.rstrip().endswith("</div>")
    assert "Gate failed" in html and "By area" in html and "Data quality" in html
    # the failing finding first, marked as blocking, with its metrics
    first = html.index("Findings")
    assert html.index("DQ004", first) < html.index("finding", first + 10) + 400
    assert "blocks the gate" in html
    for forbidden in ("<script", "http://", "https://", "<link", "@import"):
        assert forbidden not in html
    one = failing.results["FR002"]._repr_html_()
    assert "FR002" in one and "<script" not in one
    figures = [c for c in failing.to_dict()["checks"] if c.get("figures") and c["status"] in ("fail", "warn")]
    if figures:  # a finding's figures are inline images
        assert "data:image/svg+xml;base64," in html


def test_hostile_text_is_escaped_in_the_notebook_view(data):
    train = data["train"].rename(columns={"colour": "<img src=x onerror=alert(1)>"})
    test = data["test"].rename(columns={"colour": "<img src=x onerror=alert(1)>"})
    model = fit_pipeline(train)
    report = auditor.audit(model=model, train=train, test=test, target="y", policy={"select": ["DQ", "LK004"]},
                           progress=False)
    html = report._repr_html_() + "".join(r._repr_html_() for r in report.results.values())
    assert "<img src=x" not in html


def test_progress_callable_and_quiet(data):
    seen = []
    auditor.audit(model=data["model"], train=data["train"], test=data["test"], target="y",
                  policy={"select": ["DQ001", "DQ002"]}, progress=lambda i, total, result: seen.append((i, total, result.id)))
    assert seen == [(1, 2, "DQ001"), (2, 2, "DQ002")]
    from auditor.app.api import _progress

    assert _progress(False) is None and _progress("auto") is None  # not a terminal, not a notebook: quiet
    with pytest.raises(auditor.AuditInputError, match="progress must be"):
        _progress("loud")


def test_compare_api_matches_the_cli(data, capsys, tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = data["train"]
    X = train.drop(columns=["y"])
    weaker = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=300)).fit(X[["colour"]], train["y"])
    sio.dump(weaker, tmp_path / "weaker.skops")
    d = data["dir"]
    code = _cli(capsys, "compare", "--quiet", "--baseline", str(d / "model.skops"), "--candidate", str(tmp_path / "weaker.skops"),
                "--test", str(d / "test.csv"), "--target", "y", "--out", str(tmp_path / "cmp"), "--format", "json")
    cli = json.loads((tmp_path / "cmp" / "report.json").read_text())
    report = auditor.compare(baseline=data["model"], candidates=weaker, test=data["test"], target="y",
                             names=["model", "weaker"], progress=False)
    assert report.exit_code == code == 1  # a model on one weak input is worse than the baseline
    assert comparable_results(report.to_dict()) == comparable_results(cli)
    with pytest.raises(auditor.AuditInputError, match="give 2 different names"):
        auditor.compare(baseline=data["model"], candidates=[weaker], test=data["test"], target="y", names=["a"])


def test_import_auditor_stays_cheap():
    import subprocess
    import sys

    code = ("import sys, auditor; assert 'pandas' not in sys.modules and 'auditor.app.api' not in sys.modules; "
            "auditor.audit; assert 'auditor.app.api' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_notebook_summary_counts_waived_results_apart():
    from pathlib import Path

    from auditor.render.notebook import summary_html

    sample = json.loads((Path(__file__).resolve().parents[1] / "reports/sample/report.json").read_text())
    html = summary_html(sample)
    assert "(1 of them waived: counted, not blocking)" in html  # DQ011, waived by the example policy
    assert html.index("FR002") < html.index("DQ011")  # what blocks the gate comes first

"""The command line end to end: exit codes, bad input, files written, nothing of the user's changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from auditor.cli import main
from auditor.render import FILENAMES


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def audit_args(files, *extra: str) -> list[str]:
    return [
        "run", "--quiet",
        "--model", files["model"], "--train", files["train"], "--test", files["test"],
        "--target", "y", "--out", str(files["dir"] / "out"), *extra,
    ]


@pytest.mark.slow  # a whole audit through the CLI
def test_clean_run_exits_0_and_writes_every_format(capsys, clean_audit_files):
    code, out, err = run_cli(capsys, *audit_args(clean_audit_files))
    assert code == 0, out + err
    out_dir = clean_audit_files["dir"] / "out"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(FILENAMES.values())
    report = json.loads((out_dir / "report.json").read_text())
    assert report["gate"] == {**report["gate"], "passed": True, "exit_code": 0}
    assert "gate PASSED (exit 0" in out
    for key in ("schema_version", "auditor_version", "created_at", "inputs", "environment", "policy",
                "policy_sha256", "seed", "checks", "gate"):
        assert key in report
    assert report["inputs"]["datasets"]["train"]["sha256"] == __import__("hashlib").sha256(
        Path(clean_audit_files["train"]).read_bytes()).hexdigest()
    assert report["task"]["inferred"] is True and report["task"]["type"] == "binary"


@pytest.mark.slow  # a whole audit through the CLI
def test_planted_defect_exits_1(capsys, clean_audit_files):
    # 10% of train rows duplicated with the opposite label: conflicting labels (high severity).
    train = pd.read_csv(clean_audit_files["train"])
    flipped = train.sample(frac=0.1, random_state=0).assign(y=lambda d: 1 - d["y"])
    pd.concat([train, flipped]).to_csv(clean_audit_files["train"], index=False)
    code, out, _ = run_cli(capsys, *audit_args(clean_audit_files))
    assert code == 1
    assert "DQ004 conflicting-labels failed at severity high" in out


@pytest.mark.slow  # a whole audit through the CLI
def test_waiver_in_policy_turns_the_failure_into_a_pass(capsys, clean_audit_files, tmp_path):
    train = pd.read_csv(clean_audit_files["train"])
    flipped = train.sample(frac=0.1, random_state=0).assign(y=lambda d: 1 - d["y"])
    pd.concat([train, flipped]).to_csv(clean_audit_files["train"], index=False)
    policy = tmp_path / "audit.yaml"
    policy.write_text(
        "waivers:\n  - check: DQ004\n    reason: relabelling campaign in progress\n    owner: ana\n    expires: 2999-01-01\n"
    )
    code, out, _ = run_cli(capsys, *audit_args(clean_audit_files, "--policy", str(policy)))
    assert code == 0
    report = json.loads((clean_audit_files["dir"] / "out" / "report.json").read_text())
    dq4 = next(c for c in report["checks"] if c["id"] == "DQ004")
    assert dq4["status"] == "fail" and dq4["waiver"]["active"] is True


def test_same_seed_same_results(capsys, clean_audit_files):
    def results():
        run_cli(capsys, *audit_args(clean_audit_files, "--format", "json"))
        report = json.loads((clean_audit_files["dir"] / "out" / "report.json").read_text())
        return [{k: v for k, v in c.items() if k != "duration_s"} for c in report["checks"]]

    assert results() == results()


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda f: ["--train", str(f["dir"] / "nope.csv")], "train file not found"),
        (lambda f: ["--target", "income"], "target column 'income' is not in the train data"),
        (lambda f: ["--sensitive", "gender"], "--sensitive column 'gender' is not in the train data"),
        (lambda f: ["--set", "fail_onn=low"], "unknown key 'fail_onn'; did you mean 'fail_on'?"),
        (lambda f: ["--set", "DQ001x.severity=low"], "--set: checks.DQ001x is not a known check ID; did you mean 'DQ001'?"),
        (lambda f: ["--set", "DQ002.thresholds.max_duplicate_rate.fail=2"], "must be a number in [0, 1]"),
        (lambda f: ["--set", "DQ002.thresholds.max_duplicate_rate.fail=lots"], "must be a number in [0, 1]"),
        (lambda f: ["--format", "html,docx"], "unknown format(s) ['docx']"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, clean_audit_files, mutate, expected):
    args = audit_args(clean_audit_files)
    extra = mutate(clean_audit_files)
    for i in range(0, len(extra), 2):
        if extra[i] in args and extra[i] not in ("--sensitive", "--set"):
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i : i + 2]
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_empty_and_unreadable_files(capsys, clean_audit_files):
    empty = clean_audit_files["dir"] / "empty.csv"
    empty.write_text("")
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--test", str(empty))
    assert code == 2 and "test file is empty" in err
    header_only = clean_audit_files["dir"] / "header.csv"
    header_only.write_text("x1,x2,colour,noise,y\n")
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--test", str(header_only))
    assert code == 2 and "test file is empty (no rows)" in err
    bad_parquet = clean_audit_files["dir"] / "bad.parquet"
    bad_parquet.write_bytes(b"not parquet at all")
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--test", str(bad_parquet))
    assert code == 2 and "test file cannot be read as Parquet" in err


def test_no_common_features(capsys, clean_audit_files, tmp_path):
    other = tmp_path / "other.csv"
    pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}).to_csv(other, index=False)
    code, _, err = run_cli(
        capsys, "run", "--predictions", "a", "--train", clean_audit_files["train"], "--test", str(other),
        "--target", "y", "--out", str(tmp_path / "o"),
    )
    assert code == 2 and "train and test share no feature column" in err


@pytest.mark.slow  # a whole audit through the CLI
def test_pickle_refused_without_trust(capsys, clean_audit_files, tmp_path):
    import joblib
    import skops.io as sio

    path = tmp_path / "model.joblib"
    joblib.dump(sio.load(clean_audit_files["model"]), path)
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--model", str(path))
    assert code == 2
    assert "joblib/pickle files run arbitrary code when loaded" in err and "--trust-model" in err
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--model", str(path), "--trust-model")
    assert code == 0, err


def test_unwritable_output_folder(capsys, clean_audit_files, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("I am a file")
    code, _, err = run_cli(capsys, *audit_args(clean_audit_files), "--out", str(blocker / "sub"))
    assert code == 2 and "output folder is not writable" in err
    assert blocker.read_text() == "I am a file"


@pytest.mark.slow  # a whole audit through the CLI
def test_model_that_raises_completes_with_errors(capsys, clean_audit_files, tmp_path):
    # Loading works, predict raises: the checks that need predictions error, the others run.
    import joblib

    from tests.broken_model import RaisesOnPredict

    path = tmp_path / "broken.joblib"
    joblib.dump(RaisesOnPredict(), path)
    code, out, err = run_cli(capsys, *audit_args(clean_audit_files), "--model", str(path), "--trust-model")
    report = json.loads((clean_audit_files["dir"] / "out" / "report.json").read_text())
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert code == 1
    assert statuses["ST001"] == "error"
    st = next(c for c in report["checks"] if c["id"] == "ST001")
    assert "the model raised on predict for the test data: RuntimeError: the model's feature store is offline" in st["summary"]
    errored = sorted(c["id"] for c in report["checks"] if c["status"] == "error")
    assert errored == ["CA001", "EX001", "EX002", "EX003", "EX004", "EX005", "EX006", "OF001", "OF004", "PV002", "RB001", "RB002",
                       "RB003", "RB004", "RB006", "ST001", "ST002"]
    assert f"{len(errored)} check(s) could not run and are reported as errors: {', '.join(errored)}." in report["notes"]
    assert "ST001 test-metric-intervals could not run" in out
    assert statuses["DQ001"] in ("pass", "warn", "fail")


@pytest.mark.slow  # a whole audit through the CLI
def test_user_files_are_not_modified(capsys, clean_audit_files):
    before = {k: Path(clean_audit_files[k]).read_bytes() for k in ("train", "test", "model")}
    run_cli(capsys, *audit_args(clean_audit_files))
    assert before == {k: Path(clean_audit_files[k]).read_bytes() for k in ("train", "test", "model")}


def test_predictions_only_mode(capsys, clean_audit_files, tmp_path):
    import skops.io as sio

    model = sio.load(clean_audit_files["model"])
    test = pd.read_csv(clean_audit_files["test"])
    test["vendor_pred"] = model.predict(test.drop(columns=["y"]))
    test["vendor_score"] = model.predict_proba(test.drop(columns=["y", "vendor_pred"]))[:, 1]
    test.to_csv(tmp_path / "scored.csv", index=False)
    code, out, err = run_cli(
        capsys, "run", "-q", "--predictions", "vendor_pred", "--scores", "vendor_score",
        "--train", clean_audit_files["train"], "--test", str(tmp_path / "scored.csv"), "--target", "y",
        "--out", str(tmp_path / "o"), "--format", "json",
    )
    assert code == 0, err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["inputs"]["model"]["kind"] == "predictions"
    assert "vendor_pred" not in report["task"]["features"]


def test_checks_list_and_explain(capsys):
    code, out, _ = run_cli(capsys, "checks", "list")
    assert code == 0 and "DQ001" in out and "missing-values" in out
    code, out, _ = run_cli(capsys, "checks", "list", "--json")
    rows = json.loads(out)
    assert {r["id"] for r in rows} >= {f"DQ{i:03d}" for i in range(1, 12)}
    code, out, _ = run_cli(capsys, "checks", "explain", "DQ002")
    assert code == 0
    for section in ("What it checks:", "Why it matters:", "How to fix:", "References:", "Thresholds", "max_duplicate_rate"):
        assert section in out
    code, _, err = run_cli(capsys, "checks", "explain", "DQ0O2")
    assert code == 2 and "did you mean DQ002?" in err


def test_init_writes_a_policy_that_validates(capsys, tmp_path):
    from auditor.engine.policy import load_policy
    from auditor.engine.registry import load_registry

    target = tmp_path / "audit.yaml"
    code, out, _ = run_cli(capsys, "init", "--out", str(target))
    assert code == 0 and target.is_file()
    text = target.read_text()
    assert "DQ001" in text and "fail_on: high" in text
    policy = load_policy(target, [], load_registry())
    assert policy.fail_on == "high"
    code, _, err = run_cli(capsys, "init", "--out", str(target))
    assert code == 2 and "already exists" in err


def test_render_redraws_from_json_without_model(capsys, clean_audit_files, tmp_path):
    run_cli(capsys, *audit_args(clean_audit_files, "--format", "json"))
    report = clean_audit_files["dir"] / "out" / "report.json"
    original = report.read_bytes()
    code, out, err = run_cli(capsys, "render", str(report), "--format", "html,md")
    assert code == 0, err
    assert (report.parent / "report.html").is_file() and (report.parent / "summary.md").is_file()
    assert report.read_bytes() == original
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run_cli(capsys, "render", str(bad))
    assert code == 2 and "is not a valid report.json" in err
    future = tmp_path / "future.json"
    future.write_text(json.dumps({**json.loads(original), "schema_version": "9.0"}))
    code, _, err = run_cli(capsys, "render", str(future))
    assert code == 2 and "schema_version '9.0'; this auditor reads 1.x" in err
    gateless = {**json.loads(original)}
    del gateless["gate"]
    future.write_text(json.dumps(gateless))
    code, _, err = run_cli(capsys, "render", str(future))
    assert code == 2 and "it lacks gate" in err


def test_console_script_and_module_entry(clean_audit_files):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for cmd in ([str(Path(sys.executable).parent / "auditor")], [sys.executable, "-m", "auditor"]):
        proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0 and "auditor run" not in proc.stderr and "run" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "--train", "missing.csv", "--test", "x.csv", "--target", "y",
         "--predictions", "p", "--out", str(clean_audit_files["dir"] / "o")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "auditor: error: train file not found: missing.csv"


@pytest.mark.slow  # a whole audit through the CLI
def test_hostile_column_names_and_values_are_escaped_end_to_end(capsys, tmp_path):
    import skops.io as sio

    from tests.conftest import fit_pipeline, make_binary_frame

    evil_col = '<script>alert("col")</script>'
    evil_val = '"><img src=x onerror=alert(1)>'
    frame = make_binary_frame(600, seed=4).rename(columns={"x1": evil_col, "colour": "colour | `pipe`"})
    frame.loc[:20, "colour | `pipe`"] = evil_val
    train, test = frame.iloc[:400], frame.iloc[400:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    sio.dump(fit_pipeline(train), tmp_path / "model.skops")
    code, out, err = run_cli(
        capsys, "run", "-q", "--model", str(tmp_path / "model.skops"), "--train", str(tmp_path / "train.csv"),
        "--test", str(tmp_path / "test.csv"), "--target", "y", "--out", str(tmp_path / "out"),
    )
    assert code in (0, 1), err
    html = (tmp_path / "out" / "report.html").read_text()
    md = (tmp_path / "out" / "summary.md").read_text()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert evil_col in report["task"]["features"]
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html
    assert "<script>" not in md and "<img" not in md

"""MLflow models audited from a model folder, a runs:/ or models:/ URI, and audits logged to a run.

Every MLflow call goes to a file store in a temporary folder, named in MLFLOW_TRACKING_URI
before MLflow is first used, so no test writes an ``mlruns/`` of its own or reaches a server.
MLflow 3 keeps the file store only behind MLFLOW_ALLOW_FILE_STORE; its SQLite store needs
SQLAlchemy, which mlflow-skinny does not install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
mlflow = pytest.importorskip("mlflow", minversion="3.0")  # log_model(name=...), MLflow 3's file-store switch

from auditor.app.mlflow_log import audit_metrics, audit_tags, log_audit, metric_key  # noqa: E402
from auditor.contract.adapters import load_model  # noqa: E402
from auditor.contract.adapters_mlflow import MLflowAdapter, PyfuncAdapter  # noqa: E402
from auditor.util.errors import AuditInputError, ModelLoadError  # noqa: E402
from tests.conftest import make_binary_frame  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_REPORT = ROOT / "reports" / "sample" / "report.json"
REGISTERED = "auditor-test-model"


def double(X):
    """A FunctionTransformer's function: a type skops does not trust by default."""
    return X * 2


class ThresholdModel(mlflow.pyfunc.PythonModel):
    """A python_function model: code of its own, predictions only."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> list[int]:
        return (model_input["x1"] > 0).astype(int).tolist()


pytestmark = pytest.mark.filterwarnings("ignore:.*An input example was not provided:UserWarning")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A local file store in a temporary folder, named in the environment for the whole module."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = (root / "mlruns").as_uri()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        yield {"root": root, "uri": uri}


@pytest.fixture(scope="module")
def data(store):
    frame = make_binary_frame(450, seed=3).drop(columns="colour")
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    paths = {"train": store["root"] / "train.csv", "test": store["root"] / "test.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    return {"train": str(paths["train"]), "test": str(paths["test"]), "X": train.drop(columns="y"), "y": train["y"],
            "X_test": test.drop(columns="y")}


@pytest.fixture(scope="module")
def logged(store, data):
    """scikit-learn and python_function models logged in one run, and the fitted logistic regression."""
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    X, y = data["X"], data["y"]
    signature = infer_signature(X)
    logistic = LogisticRegression().fit(X, y)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(logistic, name="pickled", signature=signature, serialization_format="cloudpickle",
                                 pip_requirements=["scikit-learn"])
        mlflow.sklearn.log_model(logistic, name="skops", signature=signature, pip_requirements=["scikit-learn"])
        mlflow.pyfunc.log_model(name="pyfunc", python_model=ThresholdModel(), signature=signature, pip_requirements=[])
    return {"run_id": run.info.run_id, "logistic": logistic}


@pytest.fixture(scope="module")
def booster(store, data):
    """A LightGBM Booster logged as ``model`` (LightGBM's text format) and registered as version 1."""
    lightgbm = pytest.importorskip("lightgbm")
    from mlflow.models import infer_signature

    X, y = data["X"], data["y"]
    fitted = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1, random_state=0).fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.lightgbm.log_model(fitted.booster_, name="model", signature=infer_signature(X),
                                         pip_requirements=["lightgbm"])
    mlflow.register_model(f"runs:/{run.info.run_id}/model", REGISTERED)
    return {"run_id": run.info.run_id, "model_uri": info.model_uri, "original": fitted}


def local_folder(uri: str, into: Path) -> Path:
    """A model folder as ``mlflow.<flavour>.save_model`` or a download leaves it."""
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(into)))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    from auditor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def audit(capsys, data, model: str, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "run", "--quiet", "--model", model, "--train", data["train"], "--test", data["test"],
                   "--target", "y", "--out", str(out), "--format", "json", *extra)


def audited_report(code: int, err: str, out: Path) -> dict:
    """The report of an audit that ran (exit 0 or 1) with no check in error."""
    assert code in (0, 1), err
    report = json.loads((out / "report.json").read_text())
    assert [(c["id"], c["error"]) for c in report["checks"] if c["status"] == "error"] == []
    return report


# -- claims ---------------------------------------------------------------------------------


def test_claims_folders_mlmodel_files_and_uris_without_importing_mlflow(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "plain").mkdir()
    assert MLflowAdapter.claims(model) and MLflowAdapter.claims(model / "MLmodel")
    assert MLflowAdapter.claims(Path("runs:/0a1b2c/model")) and MLflowAdapter.claims(Path("models:/churn/3"))
    assert not MLflowAdapter.claims(tmp_path / "plain")
    assert not MLflowAdapter.claims(tmp_path / "absent")
    assert not MLflowAdapter.claims(tmp_path / "model.onnx")
    assert MLflowAdapter.claims(Path("bad\0path")) is False  # a path the OS refuses: no claim, no exception
    probe = ("import sys; from pathlib import Path; from auditor.contract.adapters_mlflow import MLflowAdapter; "
             "MLflowAdapter.claims(Path('runs:/x/model')); MLflowAdapter.claims(Path(sys.argv[1])); "
             "print('mlflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(model)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- native flavours ------------------------------------------------------------------------


def test_lightgbm_folder_audited_through_the_cli(capsys, tmp_path, data, booster):
    folder = local_folder(booster["model_uri"], tmp_path / "download")
    code, _, err = audit(capsys, data, str(folder), tmp_path / "out")
    report = audited_report(code, err, tmp_path / "out")
    record = report["inputs"]["model"]
    assert record["kind"] == "lightgbm"
    assert record["mlflow"]["flavour"] == "lightgbm" and record["mlflow"]["artifact"] == "model.lgb"
    assert record["mlflow"]["run_id"] == booster["run_id"]
    assert [c["name"] for c in record["mlflow"]["signature_inputs"]] == ["x1", "x2", "noise"]


def test_runs_uri_audited_through_the_cli_with_the_original_predictions(capsys, tmp_path, data, booster):
    uri = f"runs:/{booster['run_id']}/model"
    code, _, err = audit(capsys, data, uri, tmp_path / "out")
    report = audited_report(code, err, tmp_path / "out")
    assert report["inputs"]["model"]["mlflow"]["model_uri"] == uri
    model = load_model(uri)
    original = booster["original"]
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), original.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), original.predict_proba(X), rtol=1e-6)


def test_registered_model_version_loads_from_models_uri(data, booster):
    model = load_model(f"models:/{REGISTERED}/1")
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), booster["original"].predict(X))
    assert model.describe()["mlflow"]["run_id"] == booster["run_id"]


def log_and_load(fitted, flavour: str, data, **kwargs):
    """``fitted`` logged with ``mlflow.<flavour>.log_model`` in a run of its own, then loaded by URI."""
    from mlflow.models import infer_signature

    module = getattr(mlflow, flavour)
    with mlflow.start_run() as run:
        module.log_model(fitted, name="model", signature=infer_signature(data["X"]), pip_requirements=[], **kwargs)
    return load_model(f"runs:/{run.info.run_id}/model")


def test_lightgbm_scikit_learn_model_stored_with_skops_loads_without_trust(data, booster):
    fitted = booster["original"]  # an LGBMClassifier: MLflow stores the wrapper object as a skops file
    model = log_and_load(fitted, "lightgbm", data)
    record = model.describe()["mlflow"]
    assert model.kind == "lightgbm" and record["artifact"] == "model.skops" and record["trust_needed"] is False
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), fitted.predict_proba(X))


def test_xgboost_flavour(data):
    xgboost = pytest.importorskip("xgboost")
    fitted = xgboost.XGBClassifier(n_estimators=10, max_depth=3, random_state=0).fit(data["X"], data["y"])
    model = log_and_load(fitted, "xgboost", data)
    assert model.kind == "xgboost" and model.describe()["mlflow"]["artifact"] == "model.ubj"
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), fitted.predict_proba(X), rtol=1e-6)


def test_catboost_flavour(data):
    catboost = pytest.importorskip("catboost")
    fitted = catboost.CatBoostClassifier(iterations=20, depth=3, random_seed=0, verbose=0, allow_writing_files=False)
    fitted.fit(data["X"], data["y"])
    model = log_and_load(fitted, "catboost", data)
    assert model.kind == "catboost" and model.describe()["mlflow"]["artifact"] == "model.cb"
    X = data["X_test"]
    np.testing.assert_array_equal(np.asarray(model.predict(X)).ravel(), fitted.predict(X).ravel())
    np.testing.assert_allclose(model.predict_proba(X), fitted.predict_proba(X), rtol=1e-6)


def test_onnx_flavour_takes_column_names_from_the_signature(data, logged):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    fitted = logged["logistic"]
    proto = skl2onnx.to_onnx(fitted, data["X"].to_numpy(np.float32)[:1], options={"zipmap": False})
    model = log_and_load(proto, "onnx", data)
    assert model.kind == "onnx" and model.feature_names == ["x1", "x2", "noise"]
    assert model.describe()["mlflow"]["feature_names_from_signature"] is True
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_a_uri_that_names_nothing_is_a_clear_load_error(logged):
    with pytest.raises(ModelLoadError, match=r"cannot read the MLflow model runs:/[0-9a-f]+/nowhere"):
        load_model(f"runs:/{logged['run_id']}/nowhere")
    with pytest.raises(ModelLoadError, match="Run '0123abc' not found"):
        load_model("runs:/0123abc/model")


# -- flavours that run code -----------------------------------------------------------------


def test_pickled_sklearn_flavour_refused_without_trust_and_audited_with_it(capsys, tmp_path, data, logged):
    uri = f"runs:/{logged['run_id']}/pickled"
    code, _, err = audit(capsys, data, uri, tmp_path / "refused")
    assert code == 2
    assert "its sklearn flavour is stored as cloudpickle, which runs arbitrary code when loaded" in err
    assert "--trust-model" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = audit(capsys, data, uri, tmp_path / "out", "--trust-model")
    report = audited_report(code, err, tmp_path / "out")
    assert report["inputs"]["model"]["mlflow"]["trust_needed"] is True
    X = data["X_test"]
    np.testing.assert_array_equal(load_model(uri, trust=True).predict(X), logged["logistic"].predict(X))


def test_skops_sklearn_flavour_loads_without_trust(data, logged):
    model = load_model(f"runs:/{logged['run_id']}/skops")
    X = data["X_test"]
    np.testing.assert_allclose(model.predict_proba(X), logged["logistic"].predict_proba(X))
    record = model.describe()["mlflow"]
    assert (record["flavour"], record["loaded_as"], record["artifact"], record["trust_needed"]) == (
        "sklearn", "skops file", "model.skops", False)


def test_skops_types_the_mlmodel_trusts_are_not_trusted(tmp_path, data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(double), LogisticRegression()).fit(data["X"], data["y"])
    folder = tmp_path / "model"
    mlflow.sklearn.save_model(pipe, str(folder), serialization_format="skops", pip_requirements=["scikit-learn"],
                              skops_trusted_types=[f"{__name__}.double"])
    with pytest.raises(ModelLoadError, match=rf"contains types skops does not trust by default: {__name__}\.double"):
        load_model(folder)
    model = load_model(folder, trusted_types=(f"{__name__}.double",))
    np.testing.assert_array_equal(model.predict(data["X_test"]), pipe.predict(data["X_test"]))


def test_python_function_model_needs_trust_and_gives_predictions_only(data, logged):
    uri = f"runs:/{logged['run_id']}/pyfunc"
    with pytest.raises(ModelLoadError, match=r"its python_function flavour \(mlflow\.pyfunc\.model.*runs code when loaded"):
        load_model(uri)
    model = load_model(uri, trust=True, classes=[0, 1])
    assert isinstance(model, PyfuncAdapter) and model.has_proba is False and model.classes == [0, 1]
    assert model.feature_names == ["x1", "x2", "noise"]  # from the signature
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), (X["x1"] > 0).astype(int).to_numpy())
    assert model.describe()["mlflow"]["feature_names_from_signature"] is True


def test_a_loaded_python_function_model_is_wrapped(monkeypatch, data, logged):
    from auditor.contract.adapters import adapter_for

    monkeypatch.setenv("MLFLOW_ALLOW_MODEL_CODE_EXECUTION", "true")
    loaded = mlflow.pyfunc.load_model(f"runs:/{logged['run_id']}/pyfunc")
    model = adapter_for(loaded, classes=[0, 1])
    assert isinstance(model, PyfuncAdapter) and model.loader == "mlflow.pyfunc.model"
    X = data["X_test"]
    np.testing.assert_array_equal(model.predict(X), (X["x1"] > 0).astype(int).to_numpy())


def test_python_function_model_audited_through_the_cli_without_probabilities(capsys, tmp_path, data, logged):
    uri = f"runs:/{logged['run_id']}/pyfunc"
    code, _, err = audit(capsys, data, uri, tmp_path / "out", "--trust-model", "--model-classes", "0,1")
    report = audited_report(code, err, tmp_path / "out")
    assert report["inputs"]["model"]["kind"] == "mlflow-pyfunc" and report["inputs"]["model"]["has_proba"] is False
    assert next(c for c in report["checks"] if c["id"] == "CA001")["status"] == "skipped"


# -- folders and stores that cannot be read -------------------------------------------------


def test_broken_mlmodel_files(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(ModelLoadError, match="lists no flavours"):
        load_model(folder)
    (folder / "MLmodel").write_text("flavors: [unclosed\n")
    with pytest.raises(ModelLoadError, match="cannot be read as YAML"):
        load_model(folder)
    (folder / "MLmodel").write_text("flavors:\n  h2o: {data: model.h2o}\n")
    with pytest.raises(ModelLoadError, match=r"no flavour auditor can read \(flavours: h2o\)"):
        load_model(folder)
    (folder / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: ../elsewhere.skops, serialization_format: skops}\n")
    with pytest.raises(ModelLoadError, match="names a model file outside its folder: '../elsewhere.skops'"):
        load_model(folder)


def test_only_existing_local_stores_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9/")
    with pytest.raises(ModelLoadError, match="is not a local store; auditor uses only a local one.*download the model folder"):
        load_model("runs:/0123abc/model")
    absent = tmp_path / "absent"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", absent.as_uri())
    with pytest.raises(ModelLoadError, match="there is no MLflow tracking store at"):
        load_model("models:/churn/1")
    assert not absent.exists()


def test_a_file_store_mlflow_refuses_is_reported_with_its_reason(monkeypatch, tmp_path):
    fresh = tmp_path / "mlruns"  # a store MLflow has not opened in this process (it caches stores by URI)
    fresh.mkdir()
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fresh.as_uri())
    with pytest.raises(ModelLoadError, match="cannot read the MLflow model runs:/0123abc/model .*MLFLOW_ALLOW_FILE_STORE"):
        load_model("runs:/0123abc/model")
    report_file = tmp_path / "report.json"
    report_file.write_text("{}")
    with pytest.raises(AuditInputError, match="MLflow cannot open the tracking store .*MLFLOW_ALLOW_FILE_STORE"):
        log_audit({}, {"json": report_file}, run_id="0123abc")


def test_a_sqlite_store_without_sqlalchemy_says_what_to_install(monkeypatch, tmp_path):
    if importlib.util.find_spec("sqlalchemy") is not None:
        pytest.skip("SQLAlchemy is installed: MLflow reads SQLite stores")
    database = tmp_path / "mlflow.db"
    database.touch()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    with pytest.raises(ModelLoadError, match="is a SQLite store, which MLflow reads through SQLAlchemy, not installed"):
        load_model("runs:/0123abc/model")


def test_missing_mlflow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    with pytest.raises(ModelLoadError, match=r"needs MLflow, which is not installed: pip install 'auditor\[mlflow\]'"):
        load_model("runs:/0123abc/model")


# -- logging an audit to a run --------------------------------------------------------------

REPORT = {
    "auditor_version": "0.1.0",
    "schema_version": "1.0",
    "gate": {"passed": False, "exit_code": 1, "blocking": ["FR002"]},
    "summary": {"by_status": {"pass": 1, "warn": 1, "fail": 1, "error": 0}},
    "checks": [
        {"id": "CA001", "status": "pass",
         "metrics": {"ece": {"value": 0.01, "ci_low": 0.005, "ci_high": 0.02}, "bins": {"value": None}}},
        {"id": "FR002", "status": "fail",
         "metrics": {"gap[sex=female]/rate": {"value": 0.3, "ci_low": None, "ci_high": None}, "flag": {"value": True}}},
        {"id": "DQ001", "status": "warn", "metrics": {"count": {"value": 3}}},
    ],
}


def test_metric_keys_keep_to_what_mlflow_accepts():
    assert metric_key("auditor", "FR002", "gap[sex=female]/rate") == "auditor.FR002.gap_sex_female__rate"
    long = metric_key("auditor", "FR001", "x" * 400)
    assert len(long) == 250 and long != metric_key("auditor", "FR001", "x" * 401)
    assert audit_metrics(REPORT) == {"auditor.CA001.ece": 0.01, "auditor.CA001.ece.low": 0.005,
                                     "auditor.CA001.ece.high": 0.02, "auditor.FR002.gap_sex_female__rate": 0.3,
                                     "auditor.DQ001.count": 3.0}
    assert audit_tags(REPORT) == {"auditor.gate": "failed", "auditor.exit_code": "1", "auditor.version": "0.1.0",
                                  "auditor.schema_version": "1.0", "auditor.count.fail": "1", "auditor.count.warn": "1",
                                  "auditor.count.error": "0", "auditor.blocking": "FR002"}


def test_log_audit_writes_tags_metrics_and_files_to_the_run(store, tmp_path):
    from mlflow.tracking import MlflowClient

    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(REPORT))
    summary = tmp_path / "summary.md"
    summary.write_text("# audit\n")
    client = MlflowClient(tracking_uri=store["uri"])
    run_id = client.create_run(client.create_experiment("audits")).info.run_id
    logged = log_audit(REPORT, {"json": report_file, "md": summary}, run_id=run_id, tracking_uri=store["uri"])
    assert logged == {"run_id": run_id, "tracking_uri": store["uri"], "tags": 8, "metrics": 5, "artifacts": 2,
                      "artifact_path": "auditor"}
    data = client.get_run(run_id).data
    assert {k: v for k, v in data.tags.items() if k.startswith("auditor.")} == audit_tags(REPORT)
    assert data.metrics == audit_metrics(REPORT)
    assert sorted(f.path for f in client.list_artifacts(run_id, "auditor")) == ["auditor/report.json", "auditor/summary.md"]
    back = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="auditor/report.json", dst_path=str(tmp_path / "back"))
    assert json.loads(Path(back).read_text()) == REPORT


def test_log_audit_of_a_real_report(store, tmp_path):
    from mlflow.tracking import MlflowClient

    report = json.loads(SAMPLE_REPORT.read_text())
    client = MlflowClient(tracking_uri=store["uri"])
    with mlflow.start_run() as run:  # the active run's store is MLFLOW_TRACKING_URI's
        pass
    logged = log_audit(report, {"json": SAMPLE_REPORT}, run_id=run.info.run_id)
    metrics = client.get_run(run.info.run_id).data.metrics
    assert len(metrics) == logged["metrics"] == len(audit_metrics(report)) > 50
    ca001 = next(c for c in report["checks"] if c["id"] == "CA001")["metrics"]["ece"]
    assert (metrics["auditor.CA001.ece.low"], metrics["auditor.CA001.ece.high"]) == (ca001["ci_low"], ca001["ci_high"])


def test_log_audit_to_a_run_that_does_not_exist(store, tmp_path):
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(REPORT))
    with pytest.raises(AuditInputError, match=r"--mlflow-run '0123abc': no such run in the MLflow tracking store"):
        log_audit(REPORT, {"json": report_file}, run_id="0123abc", tracking_uri=store["uri"])
    absent = tmp_path / "absent"
    with pytest.raises(AuditInputError, match="there is no MLflow tracking store at"):
        log_audit(REPORT, {"json": report_file}, run_id="0123abc", tracking_uri=absent.as_uri())
    assert not absent.exists()  # no store created on the way
    with pytest.raises(AuditInputError, match="the report file 'pdf' to log does not exist"):
        log_audit(REPORT, {"pdf": tmp_path / "report.pdf"}, run_id="0123abc", tracking_uri=store["uri"])
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store["uri"])
    deleted = client.create_run("0").info.run_id
    client.delete_run(deleted)
    with pytest.raises(AuditInputError, match=f"--mlflow-run '{deleted}': the run is deleted"):
        log_audit(REPORT, {"json": report_file}, run_id=deleted, tracking_uri=store["uri"])


def test_no_mlruns_folder_left_in_the_repository():
    assert not (ROOT / "mlruns").exists() and not (ROOT / "mlflow.db").exists()
    assert not (Path.cwd() / "mlruns").exists()


def test_a_run_whose_artifacts_live_elsewhere_is_refused_before_any_fetch(store, data):
    """A local store can point a run's artifacts at s3:// or a server: auditor refuses to fetch."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    experiment = client.create_experiment("remote-artifacts", artifact_location="s3://bucket/somewhere")
    run = client.create_run(experiment)
    with pytest.raises(ModelLoadError, match="stored at s3://bucket/somewhere.*never fetches over the network"):
        load_model(f"runs:/{run.info.run_id}/model")


def test_loading_by_uri_and_logging_open_no_connection(store, data, booster, tmp_path, monkeypatch):
    """Air-gapped: with every socket connection and name lookup refused, a model is read by
    runs:/ URI, audited, and the audit logged to a run."""
    import socket

    from mlflow.tracking import MlflowClient

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network call was attempted: {args[1:] if len(args) > 1 else args}")

    run_id = MlflowClient(tracking_uri=store["uri"]).create_run(
        MlflowClient(tracking_uri=store["uri"]).create_experiment("offline")).info.run_id
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    import auditor

    report = auditor.audit(model=load_model(f"runs:/{booster['run_id']}/model"), train=pd.read_csv(data["train"]),
                           test=pd.read_csv(data["test"]), target="y", policy={"select": ["ST001", "DQ001"]},
                           progress=False)
    logged = report.log_to_mlflow(run_id, tracking_uri=store["uri"], folder=tmp_path / "out")
    assert logged["run_id"] == run_id and logged["artifacts"] >= 1


def test_cli_mlflow_run_is_checked_before_the_audit_and_logs_the_formats_written(store, data, capsys, tmp_path):
    import skops.io as sio
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    sio.dump(LogisticRegression().fit(data["X"], data["y"]), tmp_path / "m.skops")
    out = tmp_path / "out"
    code, stdout, err = audit(capsys, data, str(tmp_path / "m.skops"), out, "--mlflow-run", "feedbeef")
    assert code == 2 and "--mlflow-run 'feedbeef': no such run" in err
    assert "gate" not in stdout and not out.exists()  # refused before the audit ran or wrote anything
    client = MlflowClient(tracking_uri=store["uri"])
    run_id = client.create_run(client.create_experiment("cli-formats")).info.run_id
    code, stdout, err = run_cli(capsys, "run", "--quiet", "--model", str(tmp_path / "m.skops"), "--train", data["train"],
                                "--test", data["test"], "--target", "y", "--out", str(out), "--format", "json,md",
                                "--set", "select=[ST001, DQ001]", "--mlflow-run", run_id)
    assert code in (0, 1), err
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "summary.md"]
    assert sorted(f.path for f in client.list_artifacts(run_id, "auditor")) == ["auditor/report.json", "auditor/summary.md"]
    assert f"mlflow run {run_id}" in stdout

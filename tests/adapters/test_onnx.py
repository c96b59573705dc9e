"""ONNX models through onnxruntime: skl2onnx pipelines (one input per column, probabilities as
a ZipMap or a tensor), a PyTorch network exported with torch.onnx.export, a regressor, files
and options the adapter refuses, and whole audits through the CLI."""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("skl2onnx")

from auditor.cli import main  # noqa: E402
from auditor.contract.adapters import adapter_for, load_model  # noqa: E402
from auditor.contract.adapters_onnx import (  # noqa: E402
    MSG_ONNX_CLASS_COUNT,
    MSG_ONNX_CLASSES,
    MSG_ONNX_CLASSES_DIFFER,
    MSG_ONNX_MISSING,
    MSG_ONNX_NEEDS_CLASSES,
    OnnxAdapter,
)
from auditor.contract.check import NEEDS  # noqa: E402
from auditor.util.errors import ModelLoadError  # noqa: E402
from tests.conftest import fit_pipeline, make_binary_frame  # noqa: E402

os.environ.setdefault("OMP_NUM_THREADS", "1")
COLUMNS = ["x1", "x2", "colour", "noise"]
#: ONNX computes in float32: probabilities agree with scikit-learn's float64 to about 1e-7.
RTOL, ATOL = 1e-5, 1e-6


def per_column_types(frame: pd.DataFrame) -> list:
    """skl2onnx's one-input-per-column layout: a [None, 1] float or string tensor per column."""
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    return [(c, FloatTensorType([None, 1]) if pd.api.types.is_numeric_dtype(frame[c]) else StringTensorType([None, 1]))
            for c in frame.columns]


def to_onnx(model, frame: pd.DataFrame, *, zipmap: bool = True) -> bytes:
    from skl2onnx import convert_sklearn

    options = None if zipmap else {id(model): {"zipmap": False}}
    return convert_sklearn(model, initial_types=per_column_types(frame), options=options).SerializeToString()


@pytest.fixture(scope="module")
def binary():
    frame = make_binary_frame(500, seed=1)
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    return {"train": train, "test": test, "model": fit_pipeline(train)}


# -- scikit-learn pipelines converted with skl2onnx ----------------------------------------
@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "tensor"])
def test_a_converted_pipeline_predicts_like_scikit_learn(tmp_path, binary, zipmap):
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(binary["model"], binary["train"][COLUMNS], zipmap=zipmap))
    model = load_model(path)
    assert isinstance(model, OnnxAdapter)
    assert model.feature_names == COLUMNS and model.n_inputs == 4 and model.classes == [0, 1]
    assert model.classes_source == ("ZipMap classlabels_int64s" if zipmap else "LinearClassifier classlabels_ints")
    assert model.proba_format == ("zipmap" if zipmap else "tensor")
    assert model.has_proba and not model.can_refit and not model.differentiable
    X = binary["test"][COLUMNS]
    assert_array_equal(model.predict(X), binary["model"].predict(X))
    assert_allclose(model.predict_proba(X), binary["model"].predict_proba(X), rtol=RTOL, atol=ATOL)
    labels, proba = model.predict_with_proba(X)
    assert_array_equal(labels, binary["model"].predict(X))
    assert_allclose(proba, binary["model"].predict_proba(X), rtol=RTOL, atol=ATOL)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    record = model.describe()
    assert record["kind"] == "onnx" and record["producer"]["name"] == "skl2onnx" and record["opset"]["ai.onnx"] >= 13
    assert [i["name"] for i in record["inputs"]] == COLUMNS and record["inputs"][2]["type"] == "tensor(string)"
    assert [o["name"] for o in record["outputs"]] == ([
        "output_label", "output_probability"] if zipmap else ["label", "probabilities"])
    json.dumps(record)  # plain data, as the report needs


def test_missing_values_reach_the_graph_as_nan_and_the_empty_string(tmp_path, binary):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train = binary["train"]
    prep = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), ["x1", "x2", "noise"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    pipe = Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(train[COLUMNS], train["y"])
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(pipe, train[COLUMNS]))
    model = load_model(path)
    X = binary["test"][COLUMNS].copy()
    X.loc[:19, "x1"] = np.nan
    X.loc[10:29, "colour"] = np.nan  # never seen in training: scikit-learn's encoder gives zeros, as for ""
    assert_allclose(model.predict_proba(X), pipe.predict_proba(X), rtol=RTOL, atol=ATOL)


def test_string_labels_and_one_tensor_input_matched_by_position(tmp_path, binary):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    numeric = ["x1", "x2", "noise"]
    train, test = binary["train"], binary["test"]
    clf = LogisticRegression().fit(train[numeric].to_numpy(), np.where(train["y"] == 1, "yes", "no"))
    path = tmp_path / "model.onnx"
    path.write_bytes(convert_sklearn(clf, initial_types=[("input", FloatTensorType([None, 3]))]).SerializeToString())
    model = load_model(path)
    assert model.feature_names is None and model.n_inputs == 3 and model.classes == ["no", "yes"]
    assert model.describe()["input_layout"].startswith("positional")
    renamed = test[numeric].set_axis(["a", "b", "c"], axis=1)  # by position: the names do not matter
    assert_array_equal(model.predict(renamed), clf.predict(test[numeric].to_numpy()))
    assert_allclose(model.predict_proba(renamed), clf.predict_proba(test[numeric].to_numpy()), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="takes 3 inputs by position; got 4 columns"):
        model.predict(test[COLUMNS])


def test_a_session_and_a_model_proto_are_wrapped(binary):
    import onnx
    import onnxruntime as ort

    data = to_onnx(binary["model"], binary["train"][COLUMNS])
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    X = binary["test"][COLUMNS]
    for obj in (session, onnx.load_from_string(data)):
        assert OnnxAdapter.wraps(obj)
        model = adapter_for(obj)
        assert isinstance(model, OnnxAdapter) and model.classes == [0, 1]
        assert_allclose(model.predict_proba(X), binary["model"].predict_proba(X), rtol=RTOL, atol=ATOL)
    assert not OnnxAdapter.wraps(binary["model"]) and not OnnxAdapter.wraps(data)


def test_decision_scores_are_not_offered_as_probabilities(tmp_path, binary):
    from sklearn.linear_model import RidgeClassifier

    train, test = binary["train"], binary["test"]
    ridge = fit_pipeline(train)
    ridge.steps[-1] = ("clf", RidgeClassifier())  # no predict_proba: skl2onnx writes decision scores in the probability output
    ridge.fit(train[COLUMNS], train["y"])
    path = tmp_path / "ridge.onnx"
    path.write_bytes(to_onnx(ridge, train[COLUMNS], zipmap=False))
    model = load_model(path)
    assert not model.has_proba and "post_transform NONE" in model.no_proba_reason
    assert_array_equal(model.predict(test[COLUMNS]), ridge.predict(test[COLUMNS]))
    with pytest.raises(ValueError, match="gives no class probabilities: the output 'probabilities' is not probabilities"):
        model.predict_proba(test[COLUMNS])


# -- a regressor ------------------------------------------------------------------------------
def test_a_regressor_predicts_like_scikit_learn(tmp_path, binary):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = ["x1", "x2", "noise"]
    train, test = binary["train"], binary["test"]
    reg = make_pipeline(StandardScaler(), Ridge()).fit(train[numeric], 3 * train["x1"] - train["noise"])
    path = tmp_path / "reg.onnx"
    path.write_bytes(to_onnx(reg, train[numeric]))
    model = load_model(path)
    assert model.classes is None and not model.has_proba and model.feature_names == numeric
    assert_allclose(model.predict(test[numeric]), reg.predict(test[numeric]), rtol=RTOL, atol=1e-5)
    assert model.predict(test[numeric].iloc[:0]).shape == (0,)
    assert model.describe()["output"] == "value (regression): 'variable'"
    with pytest.raises(ValueError, match="no class probabilities: it is a regression"):
        model.predict_proba(test[numeric])


# -- a PyTorch network exported with torch.onnx.export --------------------------------------
def _network(head: str | None = None):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class Normalise(torch.nn.Module):
        """Probabilities by hand: the graph ends in Div, so only the outputs tell."""

        def forward(self, x):
            e = torch.exp(x)
            return e / e.sum(dim=1, keepdim=True)

    heads = {None: [], "softmax": [torch.nn.Softmax(dim=1)], "log_softmax": [torch.nn.LogSoftmax(dim=1)],
             "by_hand": [Normalise()]}
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2), *heads[head]).eval()


def _export(net, path, *, dynamic: bool = True) -> None:
    """The default exporter (torch.export-based, which needs onnxscript), dynamic in the batch unless asked."""
    import torch

    example = (torch.randn(4, 3),)
    kwargs = {"dynamic_shapes": ({0: "batch"},)} if dynamic else {}
    with warnings.catch_warnings():  # torch 2.13's exporter trips its own pytree deprecation (LeafSpec)
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(net, example, str(path), input_names=["input"], output_names=["out"], verbose=False, **kwargs)


def _network_proba(net, X: pd.DataFrame) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = net(torch.tensor(X.to_numpy(), dtype=torch.float32))
    return out.numpy()


@pytest.mark.parametrize("head,kind,why", [
    (None, "logits", "the graph ends in Gemm; on 256 synthetic rows its outputs do not sum to 1"),
    ("softmax", "probabilities", "the graph ends in Softmax"),
    ("log_softmax", "log-probabilities", "the graph ends in LogSoftmax"),
    ("by_hand", "probabilities", "the graph ends in Div; on 256 synthetic rows its outputs lie in [0, 1] and each row sums to 1"),
])
def test_a_pytorch_network_with_classes_gives_its_own_probabilities(tmp_path, head, kind, why):
    import torch

    net = _network(head)
    _export(net, tmp_path / "net.onnx")
    model = load_model(tmp_path / "net.onnx", classes=[0, 1])
    assert model.score_kind == kind and model.score_reason.startswith(why)
    assert why in model.describe()["output"]
    X = pd.DataFrame(np.random.default_rng(2).normal(size=(200, 3)), columns=["a", "b", "c"])
    raw = torch.tensor(_network_proba(net, X))
    expected = {"logits": torch.softmax(raw, dim=1), "log-probabilities": raw.exp()}.get(kind, raw).numpy()
    proba = model.predict_proba(X)
    assert_allclose(proba, expected, rtol=RTOL, atol=ATOL)
    assert model.feature_names is None and model.n_inputs == 3 and model.classes == [0, 1]
    assert_array_equal(model.predict(X), np.argmax(expected, axis=1))


def test_a_network_exported_with_a_fixed_batch_is_run_in_padded_batches(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 1)).eval()
    _export(net, tmp_path / "net.onnx", dynamic=False)  # the graph takes exactly 4 rows
    X = pd.DataFrame(np.random.default_rng(3).normal(size=(11, 3)))
    regression = load_model(tmp_path / "net.onnx")
    assert regression.fixed_batch == 4 and regression.classes is None
    assert_allclose(regression.predict(X), _network_proba(net, X)[:, 0], rtol=RTOL, atol=ATOL)
    binary = load_model(tmp_path / "net.onnx", classes=["neg", "pos"])  # one logit: the second class's
    assert binary.score_kind == "logits" and "sigmoid applied" in binary.score_reason
    p = 1 / (1 + np.exp(-_network_proba(net, X)[:, 0]))
    assert_allclose(binary.predict_proba(X), np.column_stack([1 - p, p]), rtol=RTOL, atol=ATOL)
    assert list(binary.predict(X)) == ["pos" if v > 0.5 else "neg" for v in p]


# -- what the adapter refuses ---------------------------------------------------------------
def test_a_corrupt_file_is_refused(tmp_path, binary):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf \x00\xff\xfe")
    with pytest.raises(ModelLoadError, match=rf"^cannot read {garbage} as an ONNX model: DecodeError"):
        load_model(garbage)
    truncated = tmp_path / "truncated.onnx"
    data = to_onnx(binary["model"], binary["train"][COLUMNS])
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=rf"^cannot read {truncated} as an ONNX model: "):
        load_model(truncated)


def test_wrong_or_missing_classes_are_refused(tmp_path, binary):
    _export(_network(), tmp_path / "net.onnx")
    with pytest.raises(ModelLoadError) as exc:
        load_model(tmp_path / "net.onnx", classes=[0, 1, 2])
    assert str(exc.value) == MSG_ONNX_CLASS_COUNT.format(output="out", width=2, n=3, classes=[0, 1, 2])
    with pytest.raises(ModelLoadError) as exc:
        load_model(tmp_path / "net.onnx")
    assert str(exc.value) == MSG_ONNX_NEEDS_CLASSES.format(output="out", width=2)
    with pytest.raises(ModelLoadError) as exc:
        load_model(tmp_path / "net.onnx", classes=["a", "a"])
    assert str(exc.value) == MSG_ONNX_CLASSES.format(classes=["a", "a"])
    path = tmp_path / "model.onnx"
    path.write_bytes(to_onnx(binary["model"], binary["train"][COLUMNS]))
    assert load_model(path, classes=["0", "1"]).classes == [0, 1]  # the labels it records, as given on the CLI
    with pytest.raises(ModelLoadError) as exc:
        load_model(path, classes=["no", "yes"])
    assert str(exc.value) == MSG_ONNX_CLASSES_DIFFER.format(given=["no", "yes"], recorded=[0, 1], source="ZipMap classlabels_int64s")


def test_columns_that_do_not_fit_an_input_raise_naming_the_column(tmp_path):
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame({"count": [1, 2, 3, 4], "size": [0.5, 1.5, 2.5, 3.0]})
    prep = ColumnTransformer([("scaled", StandardScaler(), ["count", "size"])])
    reg = make_pipeline(prep, LinearRegression()).fit(frame, [1.0, 2.0, 3.0, 4.5])
    types = [("count", Int64TensorType([None, 1])), ("size", FloatTensorType([None, 1]))]
    path = tmp_path / "reg.onnx"
    path.write_bytes(convert_sklearn(reg, initial_types=types).SerializeToString())
    model = load_model(path)
    assert_allclose(model.predict(frame), reg.predict(frame), rtol=RTOL, atol=1e-5)
    with pytest.raises(ValueError, match=r"column 'count' has 1 missing value\(s\) but the model's input 'count' is a tensor\(int64\)"):
        model.predict(frame.assign(count=[1, None, 3, 4]))
    # a fraction (a perturbed value) reaches an integer input as the nearest integer
    assert_array_equal(model.predict(frame.assign(count=[1.2, 1.6, 3, 4])), model.predict(frame.assign(count=[1, 2, 3, 4])))
    with pytest.raises(ValueError, match=r"column 'size' holds non-numeric values \('big', 1 in all\)"):
        model.predict(frame.assign(size=["1", "big", "2", "3"]))


def test_without_onnxruntime_a_load_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    with pytest.raises(ModelLoadError) as exc:
        load_model(path)
    assert str(exc.value) == MSG_ONNX_MISSING.format(path=path, library="onnxruntime")
    assert "pip install 'auditor[onnx]'" in str(exc.value)


# -- whole audits through the CLI -------------------------------------------------------------
#: The checks that refit the model or need its gradients, and the reason each must be skipped for.
UNAVAILABLE = {"refit": NEEDS["refit"], "gradients": NEEDS["gradients"]}


def _unavailable_checks() -> dict[str, list[str]]:
    from auditor.engine.registry import load_registry

    registry = load_registry()
    return {cid: [n for n in UNAVAILABLE if n in registry.get(cid).cls.needs] for cid in registry.ids()
            if set(UNAVAILABLE) & set(registry.get(cid).cls.needs)}


def _audit(capsys, model: str, folder, *extra: str) -> dict:
    out = folder / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quiet", "--model", model, "--train", str(folder / "train.csv"), "--test", str(folder / "test.csv"),
              "--target", "y", "--format", "json", "--out", str(out), *extra])
    _, err = capsys.readouterr()
    assert exit_info.value.code in (0, 1), err
    report = json.loads((out / "report.json").read_text())
    assert report["inputs"]["model"]["kind"] == "onnx"
    errors = {c["id"]: c["summary"] for c in report["checks"] if c["status"] == "error"}
    assert not errors
    return {c["id"]: c for c in report["checks"]}


def _assert_unavailable_skipped(checks: dict) -> None:
    expected = _unavailable_checks()
    assert {"OF002", "OF003", "RB007"} <= set(expected)
    for cid, needs in expected.items():
        if cid not in checks:
            continue
        assert checks[cid]["status"] == "skipped", (cid, checks[cid]["summary"])
        for need in needs:
            assert UNAVAILABLE[need] in checks[cid]["summary"]


@pytest.fixture()
def onnx_audit_files(clean_audit_files):
    import skops.io as sio

    folder = clean_audit_files["dir"]
    pipe = sio.load(clean_audit_files["model"])
    (folder / "model.onnx").write_bytes(to_onnx(pipe, pd.read_csv(clean_audit_files["train"])[COLUMNS]))
    return folder


SELECTED = "select=[OF002, OF003, RB007, ST001, CA001, EX001, RB001]"


def test_cli_audits_a_converted_pipeline(capsys, onnx_audit_files):
    checks = _audit(capsys, str(onnx_audit_files / "model.onnx"), onnx_audit_files, "--set", SELECTED)
    _assert_unavailable_skipped(checks)
    assert checks["ST001"]["status"] in ("pass", "warn") and checks["CA001"]["status"] != "skipped"


@pytest.fixture()
def network_audit_files(tmp_path_factory):
    """A small network trained on the clean binary task (numeric columns, labels 'neg'/'pos'), exported to ONNX."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tmp_path = tmp_path_factory.mktemp("network")
    frame = make_binary_frame(600, seed=1)[["x1", "x2", "noise", "y"]].assign(y=lambda d: np.where(d["y"] == 1, "pos", "neg"))
    train, test = frame.iloc[:400], frame.iloc[400:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    X = torch.tensor(train[["x1", "x2", "noise"]].to_numpy(), dtype=torch.float32)
    y = torch.tensor((train["y"] == "pos").to_numpy().astype(np.int64))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(100):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        optimiser.step()
    _export(net.eval(), tmp_path / "net.onnx")
    return tmp_path


def test_cli_audits_an_exported_network_with_model_classes(capsys, network_audit_files):
    checks = _audit(capsys, str(network_audit_files / "net.onnx"), network_audit_files, "--model-classes", "neg,pos",
                    "--positive-label", "pos", "--set", SELECTED)
    _assert_unavailable_skipped(checks)
    assert checks["ST001"]["metrics"]["roc_auc"]["value"] > 0.75  # the network learnt the task, read with its labels


@pytest.mark.slow  # two whole audits through the CLI
def test_cli_whole_audits_run_every_check_without_error(capsys, onnx_audit_files, network_audit_files):
    for folder, model, extra in ((onnx_audit_files, "model.onnx", ()),
                                 (network_audit_files, "net.onnx", ("--model-classes", "neg,pos", "--positive-label", "pos"))):
        checks = _audit(capsys, str(folder / model), folder, *extra, "--set", "OF003.enabled=true")  # OF003 is opt-in
        _assert_unavailable_skipped(checks)
        assert {"OF002", "OF003", "RB007"} <= set(checks)


def test_inputs_renamed_by_the_converter_are_matched_to_their_columns(capsys, tmp_path):
    """skl2onnx feeds a column named 'hours-per-week' as input 'hours_per_week': the audit matches
    them by that rewriting (and says so) instead of refusing the model."""
    frame = make_binary_frame(500, seed=3).rename(columns={"x1": "hours-per-week", "x2": "capital.gain"})
    train, test = frame.iloc[:300], frame.iloc[300:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    pipe = fit_pipeline(train)
    graph = to_onnx(pipe, train.drop(columns=["y"]))
    names = [i.name for i in __import__("onnx").load_from_string(graph).graph.input]
    assert "hours_per_week" in names and "capital_gain" in names  # what the converter did
    (tmp_path / "model.onnx").write_bytes(graph)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quiet", "--model", str(tmp_path / "model.onnx"), "--train", str(tmp_path / "train.csv"),
              "--test", str(tmp_path / "test.csv"), "--target", "y", "--format", "json", "--out", str(out),
              "--set", "select=[ST001, DQ001]"])
    assert exit_info.value.code in (0, 1), capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert "'hours_per_week' is column 'hours-per-week'" in " ".join(report["notes"])
    assert "hours-per-week" in report["task"]["features"]
    ours = pipe.predict_proba(test.drop(columns=["y"]))[:, 1]
    loaded = load_model(tmp_path / "model.onnx")
    loaded.align_columns(list(test.columns))
    assert_allclose(loaded.predict_proba(test.drop(columns=["y"]))[:, 1], ours, rtol=1e-5, atol=1e-6)


def test_model_classes_given_as_text_take_a_numeric_targets_own_values(capsys, tmp_path):
    """--model-classes 0,1 with a 0/1 integer target: the model's classes are the integers, so every
    check sees two classes (not '0', '1', 0 and 1)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    frame = make_binary_frame(400, seed=2)[["x1", "x2", "noise", "y"]]
    train, test = frame.iloc[:250], frame.iloc[250:]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    _export(net.eval(), tmp_path / "net.onnx")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--quiet", "--model", str(tmp_path / "net.onnx"), "--model-classes", "0,1", "--train",
              str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"), "--target", "y", "--format", "json",
              "--out", str(out), "--set", "select=[DQ007, ST001]"])
    assert exit_info.value.code in (0, 1), capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["task"]["classes"] == [0, 1]
    dq007 = next(c for c in report["checks"] if c["id"] == "DQ007")
    assert dq007["status"] != "error"
    assert dq007["summary"].startswith("Counted 2 classes in the train target")

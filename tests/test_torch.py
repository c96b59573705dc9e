"""PyTorch models: loading (TorchScript, torch.export, state dict + factory, trust), the
model spec, prediction, devices, the gradient view and the CLI. RB007, the check that attacks
the gradient view, has its tests in tests/checks/robustness_gradient/."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from auditor.cli import main  # noqa: E402
from auditor.contract.adapters import load_model  # noqa: E402
from auditor.contract.adapters_torch import MSG_NO_CUDA, TorchAdapter  # noqa: E402
from auditor.util.errors import ModelLoadError  # noqa: E402
from tests.torch_models import (  # noqa: E402
    smooth_frame,
    train_network,
)

os.environ.setdefault("OMP_NUM_THREADS", "1")
COLUMNS = ["x1", "x2", "t"]


class Marked(dict):
    """A dict subclass: pickled, it is a custom class instance weights_only refuses."""


def _spec(folder, **fields) -> str:
    base = {"columns": COLUMNS, "output": "logits", "classes": [0, 1]}
    base.update(fields)
    path = folder / "net.torch.json"
    path.write_text(json.dumps(base), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def trained():
    """A small network on the smooth task, its scaler, and train/test frames as files."""
    train, test = smooth_frame(600, seed=1), smooth_frame(300, seed=2)
    scaler, net = train_network(train, seed=0, epochs=100)
    return {"train": train, "test": test, "scaler": scaler, "net": net}


@pytest.fixture()
def files(tmp_path, trained):
    import skops.io as sio

    trained["train"].to_csv(tmp_path / "train.csv", index=False)
    trained["test"].to_csv(tmp_path / "test.csv", index=False)
    sio.dump(trained["scaler"], tmp_path / "scaler.skops")
    return tmp_path


def _expected_proba(trained, frame):
    with torch.no_grad():
        z = torch.tensor(trained["scaler"].transform(frame[COLUMNS]), dtype=torch.float32)
        return torch.softmax(trained["net"](z), dim=1).numpy()


# -- loading ------------------------------------------------------------------------------
def test_torchscript_spec_loads_and_predicts_like_the_network(files, trained):
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    model = load_model(_spec(files, file="net.pt", preprocessing="scaler.skops"), device="cpu")
    assert model.kind == "pytorch" and model.feature_names == COLUMNS and model.classes == [0, 1]
    test = trained["test"]
    np.testing.assert_allclose(model.predict_proba(test), _expected_proba(trained, test), atol=1e-6)
    assert set(model.predict(test)) <= {0, 1}
    record = model.describe()
    assert record["format"] == "torchscript" and record["network"]["sha256"] and record["preprocessing"]["class"] == "StandardScaler"


def test_export_program_loads(files, trained):
    batch = torch.export.Dim("batch", min=1)
    example = torch.zeros(4, 3)
    program = torch.export.export(trained["net"], (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(files / "net.pt2"))
    model = load_model(_spec(files, file="net.pt2", preprocessing="scaler.skops"), device="cpu")
    assert model.spec["format"] == "export"
    np.testing.assert_allclose(model.predict_proba(trained["test"]), _expected_proba(trained, trained["test"]), atol=1e-6)


def test_state_dict_with_factory_from_the_spec_folder(files, trained):
    torch.save(trained["net"].state_dict(), files / "weights.pt")
    (files / "my_nets.py").write_text(
        "from tests.torch_models import make_mlp\n\ndef build(hidden):\n    return make_mlp(3, hidden, 2)\n")
    model = load_model(_spec(files, file="weights.pt", factory="my_nets:build", factory_kwargs={"hidden": 16},
                             preprocessing="scaler.skops"), device="cpu")
    assert model.spec["format"] == "state_dict"
    np.testing.assert_allclose(model.predict_proba(trained["test"]), _expected_proba(trained, trained["test"]), atol=1e-6)


def test_state_dict_with_pickled_objects_is_refused_unless_trusted(files, trained):
    torch.save(Marked(trained["net"].state_dict()), files / "weights.pt")
    spec = _spec(files, file="weights.pt", factory="tests.torch_models:make_mlp", preprocessing="scaler.skops")
    with pytest.raises(ModelLoadError, match=r"refusing to load .*weights\.pt: the state dict holds pickled objects "
                                             r"other than tensors .*test_torch\.Marked.*--trust-model"):
        load_model(spec, device="cpu")
    model = load_model(spec, trust=True, device="cpu")  # the user vouches for the file
    np.testing.assert_allclose(model.predict_proba(trained["test"]), _expected_proba(trained, trained["test"]), atol=1e-6)


def test_cli_refuses_an_untrusted_state_dict_with_exit_2(files, trained, capsys):
    torch.save(Marked(trained["net"].state_dict()), files / "weights.pt")
    spec = _spec(files, file="weights.pt", factory="tests.torch_models:make_mlp", preprocessing="scaler.skops")
    with pytest.raises(SystemExit) as exc:
        main(["run", "--model", spec, "--train", str(files / "train.csv"), "--test", str(files / "test.csv"),
              "--target", "y", "--out", str(files / "out"), "--format", "json", "-q"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "refusing to load" in err and "--trust-model" in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_preprocessing_follows_skops_trusted_types(files, trained):
    import skops.io as sio

    from tests.torch_models import Shift

    sio.dump(Shift(0.5), files / "custom.skops")
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    spec = _spec(files, file="net.pt", preprocessing="custom.skops")
    with pytest.raises(ModelLoadError, match="contains types skops does not trust by default: tests.torch_models.Shift.*--trust-type"):
        load_model(spec, device="cpu")
    model = load_model(spec, trusted_types=("tests.torch_models.Shift",), device="cpu")
    assert isinstance(model.preprocessing, Shift) and model.preprocessing.by == 0.5


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"file": "net.pt", "colums": ["x1"]}, "unknown key 'colums'; did you mean 'columns'?"),
        ({"file": "net.pt", "classes": None}, "output 'logits' needs 'classes'"),
        ({"file": "net.pt", "output": "scores"}, "'output' must be one of"),
        ({"file": "weights.pt", "format": "state_dict"}, "format state_dict needs 'factory: package.module:function'"),
        ({"file": "missing.pt"}, "network file not found"),
        ({"file": "net.pt", "preprocessing": "scaler.joblib"}, "'preprocessing' must name a skops file"),
    ],
)
def test_bad_specs_say_what_is_wrong(files, trained, fields, message):
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    with pytest.raises(ModelLoadError, match="model spec .*" + message.replace("(", r"\(").replace("?", r"\?")):
        load_model(_spec(files, **fields), device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_a_gpu_is_exit_2(files, trained, capsys):
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    spec = _spec(files, file="net.pt", preprocessing="scaler.skops")
    assert load_model(spec, device="auto").device == "cpu"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--model", spec, "--train", str(files / "train.csv"), "--test", str(files / "test.csv"),
              "--target", "y", "--device", "cuda", "--out", str(files / "out"), "-q"])
    assert exc.value.code == 2 and MSG_NO_CUDA in capsys.readouterr().err


# -- prediction -------------------------------------------------------------------------
def test_predictions_do_not_depend_on_the_batch_size(trained):
    test = trained["test"]
    small = TorchAdapter.from_module(trained["net"], columns=COLUMNS, classes=[0, 1], preprocessing=trained["scaler"], batch_size=7)
    large = TorchAdapter.from_module(trained["net"], columns=COLUMNS, classes=[0, 1], preprocessing=trained["scaler"])
    np.testing.assert_allclose(small.predict_proba(test), large.predict_proba(test), atol=1e-6)
    np.testing.assert_array_equal(large.predict_proba(test), large.predict_proba(test))  # deterministic


def test_output_kinds_map_to_classes_and_values():
    torch.manual_seed(0)
    frame = pd.DataFrame({"a": [0.0, 1.0, -1.0], "b": [2.0, 0.5, 0.0]})
    one_logit = torch.nn.Linear(2, 1)
    model = TorchAdapter.from_module(one_logit, columns=["a", "b"], classes=["no", "yes"])
    with torch.no_grad():
        p = torch.sigmoid(one_logit(torch.tensor(frame.to_numpy(), dtype=torch.float32)))[:, 0].numpy()
    np.testing.assert_allclose(model.predict_proba(frame)[:, 1], p, atol=1e-6)
    assert list(model.predict(frame)) == ["yes" if v > 0.5 else "no" for v in p]
    probs = TorchAdapter.from_module(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Softmax(dim=1)),
                                     columns=["a", "b"], classes=[0, 1, 2], output="probabilities")
    np.testing.assert_allclose(probs.predict_proba(frame).sum(axis=1), 1.0, atol=1e-6)
    regression = TorchAdapter.from_module(torch.nn.Linear(2, 1), columns=["a", "b"], output="value")
    assert regression.classes is None and regression.predict(frame).shape == (3,)
    wrong = TorchAdapter.from_module(torch.nn.Linear(2, 4), columns=["a", "b"], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="the network gives 4 output"):
        wrong.predict(frame)


def test_missing_values_and_text_are_refused_with_a_reason(trained):
    model = TorchAdapter.from_module(trained["net"], columns=COLUMNS, classes=[0, 1], preprocessing=trained["scaler"])
    frame = trained["test"].copy()
    frame.loc[:2, "x1"] = np.nan
    with pytest.raises(ValueError, match="3 row\\(s\\) reach the network with missing or infinite values"):
        model.predict(frame)
    raw = TorchAdapter.from_module(trained["net"], columns=COLUMNS, classes=[0, 1])
    with pytest.raises(ValueError, match="column 'x1' is not numeric"):
        raw.predict(trained["test"].assign(x1="a"))


# -- gradient view ------------------------------------------------------------------------
def test_input_map_finds_the_scaling_and_refuses_other_encodings(trained):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

    frame = trained["train"].assign(colour=np.where(trained["train"]["x1"] > 0, "red", "blue"))
    prep = ColumnTransformer([("cat", OneHotEncoder(), ["colour"]), ("num", StandardScaler(), ["x1", "t"]),
                              ("bin", KBinsDiscretizer(n_bins=4, encode="ordinal", quantile_method="averaged_inverted_cdf"), ["x2"])]).fit(frame)
    net = torch.nn.Linear(5, 2)
    view = TorchAdapter.from_module(net, columns=["colour", "x1", "x2", "t"], classes=[0, 1], preprocessing=prep).gradient_view()
    mapped, excluded = view.input_map(frame, ["x1", "x2", "t"], {"x1": 1.0, "x2": 1.0, "t": 1e-3})
    scaler = prep.named_transformers_["num"]
    assert mapped["x1"][0] == 2 and mapped["x1"][1] == pytest.approx(1 / scaler.scale_[0], rel=1e-9)
    assert mapped["t"][0] == 3 and mapped["t"][1] == pytest.approx(1 / scaler.scale_[1], rel=1e-6)
    assert "x2" in excluded and "not an affine map" in excluded["x2"]


# -- the CLI, end to end ----------------------------------------------------------------------
@pytest.mark.slow
def test_cli_audits_a_network_with_its_history(files, trained):
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    spec = _spec(files, file="net.pt", preprocessing="scaler.skops")
    pd.DataFrame({"epoch": range(1, 11), "train_loss": np.linspace(0.7, 0.4, 10),
                  "val_loss": np.r_[np.linspace(0.7, 0.5, 6), [0.52, 0.55, 0.6, 0.66]]}).to_csv(files / "history.csv", index=False)
    out = files / "out"
    with pytest.raises(SystemExit) as exc:
        main(["run", "--model", spec, "--train", str(files / "train.csv"), "--test", str(files / "test.csv"),
              "--target", "y", "--history", str(files / "history.csv"), "--device", "cpu",
              "--set", "select=[RB007, OF005, OF002, ST001, RB001]", "--format", "json", "--out", str(out), "-q"])
    assert exc.value.code in (0, 1)
    report = json.loads((out / "report.json").read_text())
    status = {c["id"]: c for c in report["checks"]}
    assert status["RB007"]["status"] in ("pass", "warn", "fail") and status["RB007"]["figures"]
    assert status["OF005"]["status"] == "fail"  # validation loss rose for 4 epochs after its minimum
    assert status["OF002"]["status"] == "skipped" and "refitted" in status["OF002"]["summary"]
    assert status["ST001"]["status"] in ("pass", "warn")
    assert report["inputs"]["model"]["kind"] == "pytorch" and report["inputs"]["model"]["device"] == "cpu"


@pytest.mark.slow
def test_compare_takes_a_network_and_a_device(files, trained):
    torch.jit.save(torch.jit.script(trained["net"]), str(files / "net.pt"))
    spec = _spec(files, file="net.pt", preprocessing="scaler.skops")
    out = files / "cmp"
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--baseline", spec, "--candidate", spec, "--test", str(files / "test.csv"), "--target", "y",
              "--device", "cpu", "--format", "json", "--out", str(out), "-q"])
    assert exc.value.code == 0  # the same network is not worse than itself
    report = json.loads((out / "report.json").read_text())
    assert report["inputs"]["model"]["kind"] == "pytorch"

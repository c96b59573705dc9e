"""PyTorch models: a network, its declared inputs, and the preprocessing it expects.

A network alone does not say which columns it reads, in which order, what was done to
them before training, or what its outputs mean. So a PyTorch model is given to
``auditor`` as a small **model spec** (``NAME.torch.yaml``, ``.torch.yml`` or
``.torch.json``) that names the network file and declares all of that::

    format: torchscript          # torchscript (torch.jit.save), export (torch.export.save, .pt2)
                                 # or state_dict (torch.save(model.state_dict()) + factory)
    file: model.pt               # relative to the spec
    factory: mypkg.nets:make_mlp # state_dict only: builds the untrained module
    factory_kwargs: {hidden: 32}
    columns: [age, workclass, hours-per-week]   # the raw input columns, in order
    preprocessing: preprocess.skops             # optional: a fitted scikit-learn transformer
    output: logits               # logits | probabilities | value (regression)
    classes: ["<=50K", ">50K"]   # classification: the label of each output column
    batch_size: 4096             # rows per forward pass (bounds the memory footprint)

Loading is as careful as for scikit-learn models: a state dict is read with
``torch.load(weights_only=True)``, which refuses any pickled object that is not a tensor
or a plain container, unless ``--trust-model`` is given; the preprocessing file is a
skops file loaded with the same trusted-types rules as a skops model (``--trust-type``).
A ``factory`` is the user's own code, named explicitly in the spec: it is imported as an
ordinary module (from the spec's folder when it is not installed).

Predictions run in evaluation mode without gradients, in batches of ``batch_size`` rows,
on the GPU when one is available (``device="auto"``) or where ``device`` says.

For gradient-based checks the adapter is *differentiable*: :meth:`TorchAdapter.gradient_view`
gives the network as a function of its own input space (after preprocessing) plus the
map from each raw numeric column to the network input it becomes, found by probing the
preprocessing (see :meth:`GradientView.input_map`).

torch is imported inside functions only, so that ``auditor --help`` stays fast.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditor.contract.adapters import ModelAdapter, load_skops
from auditor.util.errors import ModelLoadError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import torch

SPEC_KEYS = ("format", "file", "factory", "factory_kwargs", "columns", "preprocessing", "output", "classes", "batch_size")
FORMATS = ("torchscript", "export", "state_dict")
OUTPUTS = ("logits", "probabilities", "value")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_BATCH = 4096
# log(0) guard when a network outputs probabilities and a gradient needs their logarithm.
TINY = 1e-12

MSG_TORCH_UNTRUSTED = (
    "refusing to load {path}: the state dict holds pickled objects other than tensors ({reason}); "
    "torch.load(weights_only=True) cannot load it safely. Save only model.state_dict() or, if you trust "
    "where this file came from, pass --trust-model"
)
MSG_NO_CUDA = "--device cuda: no CUDA device is available (torch.cuda.is_available() is false); use --device auto or cpu"


def _fail(where: Path, message: str) -> ModelLoadError:
    return ModelLoadError(f"model spec {where}: {message}")


def read_spec(path: Path) -> dict[str, Any]:
    """A model spec, validated: every key known, every value of the right kind."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"cannot be read ({exc})") from None
    try:
        if path.name.lower().endswith(".json"):
            raw = json.loads(text)
        else:
            import yaml

            raw = yaml.safe_load(text)
    except Exception as exc:
        raise _fail(path, f"is not valid {'JSON' if path.name.lower().endswith('.json') else 'YAML'}: {exc}") from None
    if not isinstance(raw, dict):
        raise _fail(path, f"must be a mapping with keys {list(SPEC_KEYS)}; got {type(raw).__name__}")
    unknown = [k for k in raw if k not in SPEC_KEYS]
    if unknown:
        raise _fail(path, f"unknown key {unknown[0]!r}" + did_you_mean(unknown[0], SPEC_KEYS))
    if not isinstance(raw.get("file"), str) or not raw["file"]:
        raise _fail(path, "'file' must name the network file (relative to the spec); got " + repr(raw.get("file")))
    spec: dict[str, Any] = {"file": (path.parent / raw["file"]).resolve()}
    fmt = raw.get("format")
    if fmt is None:
        fmt = "export" if raw["file"].lower().endswith(".pt2") else "state_dict" if raw.get("factory") else "torchscript"
    if fmt not in FORMATS:
        raise _fail(path, f"'format' must be one of {list(FORMATS)}; got {fmt!r}")
    spec["format"] = fmt
    factory = raw.get("factory")
    if fmt == "state_dict":
        if not isinstance(factory, str) or factory.count(":") != 1 or not all(factory.split(":")):
            raise _fail(path, f"format state_dict needs 'factory: package.module:function'; got {factory!r}")
    elif factory is not None:
        raise _fail(path, f"'factory' applies to format state_dict only; the format is {fmt}")
    spec["factory"] = factory
    kwargs = raw.get("factory_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise _fail(path, f"'factory_kwargs' must be a mapping; got {kwargs!r}")
    spec["factory_kwargs"] = kwargs
    columns = raw.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise _fail(path, f"'columns' must be a non-empty list of column names; got {columns!r}")
    if len(set(columns)) != len(columns):
        raise _fail(path, "'columns' names a column twice")
    spec["columns"] = list(columns)
    prep = raw.get("preprocessing")
    if prep is not None and (not isinstance(prep, str) or not prep.lower().endswith(".skops")):
        raise _fail(path, f"'preprocessing' must name a skops file of a fitted scikit-learn transformer; got {prep!r}")
    spec["preprocessing"] = (path.parent / prep).resolve() if prep else None
    output = raw.get("output")
    if output not in OUTPUTS:
        raise _fail(path, f"'output' must be one of {list(OUTPUTS)} (what the network's last layer gives); got {output!r}")
    spec["output"] = output
    classes = raw.get("classes")
    if output == "value":
        if classes is not None:
            raise _fail(path, "'classes' applies to classifiers; output 'value' is a regression")
    elif not isinstance(classes, list) or len(classes) < 2 or len({str(c) for c in classes}) != len(classes):
        raise _fail(path, f"output {output!r} needs 'classes': the label of each output column, 2 or more distinct; got {classes!r}")
    spec["classes"] = classes
    batch = raw.get("batch_size", DEFAULT_BATCH)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise _fail(path, f"'batch_size' must be a positive integer; got {batch!r}")
    spec["batch_size"] = batch
    return spec


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a CUDA device is available, else ``cpu``."""
    import torch

    if device not in DEVICES:
        raise ModelLoadError(f"--device must be one of {list(DEVICES)}; got {device!r}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(MSG_NO_CUDA)
    return device


def _import_factory(spec_path: Path, target: str):
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        # Not installed: look beside the spec (an example or a project folder), and only there.
        sys.path.insert(0, str(spec_path.parent))
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise _fail(spec_path, f"cannot import factory module {module_name!r}: {type(exc).__name__}: {exc}") from None
        finally:
            sys.path.remove(str(spec_path.parent))
    except Exception as exc:
        raise _fail(spec_path, f"cannot import factory module {module_name!r}: {type(exc).__name__}: {exc}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise _fail(spec_path, f"factory {target!r}: {module_name} has no callable {func_name!r}")
    return func


def _load_network(spec_path: Path, spec: dict[str, Any], *, trust: bool, device: str):
    import torch

    file: Path = spec["file"]
    if not file.is_file():
        raise _fail(spec_path, f"network file not found: {file}")
    fmt = spec["format"]
    if fmt == "torchscript":
        try:
            with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; its files still load
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.load(str(file), map_location=device)
        except Exception as exc:
            raise ModelLoadError(f"cannot load {file} as TorchScript (torch.jit.save): {type(exc).__name__}: {exc}") from None
    if fmt == "export":
        try:
            program = torch.export.load(str(file))
        except Exception as exc:
            raise ModelLoadError(f"cannot load {file} as a torch.export program (.pt2): {type(exc).__name__}: {exc}") from None
        return program.module().to(device)
    # state_dict: tensors only, unless the user vouches for the file.
    try:
        state = torch.load(str(file), map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as exc:
        reason = " ".join(str(exc).split())
        if "Unsupported global" in reason:
            reason = reason[reason.index("Unsupported global"):].split(" This global")[0].rstrip(".")
        raise ModelLoadError(MSG_TORCH_UNTRUSTED.format(path=file, reason=reason[:200])) from None
    except Exception as exc:
        raise ModelLoadError(f"cannot load {file} with torch.load: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ModelLoadError(f"{file} does not hold a state dict (a mapping of names to tensors); got {type(state).__name__}")
    factory = _import_factory(spec_path, spec["factory"])
    try:
        module = factory(**spec["factory_kwargs"])
    except Exception as exc:
        raise _fail(spec_path, f"factory {spec['factory']!r} raised {type(exc).__name__}: {exc}") from None
    if not isinstance(module, torch.nn.Module):
        raise _fail(spec_path, f"factory {spec['factory']!r} must return a torch.nn.Module; got {type(module).__name__}")
    try:
        module.load_state_dict(state, strict=True)
    except Exception as exc:
        raise ModelLoadError(f"the state dict {file} does not fit the module from {spec['factory']}: {' '.join(str(exc).split())[:300]}") from None
    return module.to(device)


def _float_dtype(net) -> torch.dtype:
    import torch

    try:
        for p in net.parameters():
            if p.is_floating_point():
                return p.dtype
    except Exception:  # an exported module may not list parameters: float32 is the default
        pass
    return torch.float32


def _dense(values: Any) -> np.ndarray:
    if hasattr(values, "toarray"):
        values = values.toarray()
    return np.asarray(values, dtype=np.float64)


class TorchAdapter(ModelAdapter):
    """A PyTorch network described by a model spec (``*.torch.yaml``)."""

    kind = "pytorch"
    suffixes = (".torch.yaml", ".torch.yml", ".torch.json")
    options = frozenset({"device"})

    def __init__(self, net: Any, spec: dict[str, Any], *, preprocessing: Any = None, device: str = "cpu",
                 path: Path | None = None):
        self.net = net
        self.spec = spec
        self.preprocessing = preprocessing
        self.device = device
        self.path = path
        self.feature_names = list(spec["columns"])
        self.classes = list(spec["classes"]) if spec.get("classes") is not None else None
        self.output = spec["output"]
        self.batch_size = int(spec.get("batch_size") or DEFAULT_BATCH)
        self.dtype = _float_dtype(net)
        try:
            net.eval()
        except Exception:  # exported modules are captured in a mode and may refuse eval()
            pass

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (), device: str = "auto") -> TorchAdapter:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ModelLoadError(f"{path} is a PyTorch model spec but torch is not installed: pip install 'auditor[torch]'") from None
        spec = read_spec(path)
        resolved = resolve_device(device)
        preprocessing = None
        if spec["preprocessing"] is not None:
            if not spec["preprocessing"].is_file():
                raise _fail(path, f"preprocessing file not found: {spec['preprocessing']}")
            preprocessing = load_skops(spec["preprocessing"], trust=trust, trusted_types=trusted_types)
            if not hasattr(preprocessing, "transform"):
                raise _fail(path, f"the preprocessing object has no transform method; got {type(preprocessing).__name__}")
        net = _load_network(path, spec, trust=trust, device=resolved)
        return cls(net, spec, preprocessing=preprocessing, device=resolved, path=path)

    @classmethod
    def from_module(cls, net: Any, *, columns: list[str], output: str = "logits", classes: list[Any] | None = None,
                    preprocessing: Any = None, device: str = "cpu", batch_size: int = DEFAULT_BATCH) -> TorchAdapter:
        """An adapter over a network already in memory (the Python API and tests; no spec file)."""
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {list(OUTPUTS)}; got {output!r}")
        spec = {"format": "module", "file": None, "factory": None, "columns": list(columns), "preprocessing": None,
                "output": output, "classes": classes, "batch_size": batch_size}
        return cls(net.to(device), spec, preprocessing=preprocessing, device=device)

    # -- what the engine asks ---------------------------------------------------
    @property
    def has_proba(self) -> bool:
        return self.classes is not None

    @property
    def differentiable(self) -> bool:
        return True

    def describe(self) -> dict[str, Any]:
        from auditor.contract.data import sha256_file

        def record(path: Path) -> dict[str, str]:
            try:
                shown = os.path.relpath(path)
            except ValueError:  # another drive (Windows)
                shown = str(path)
            return {"path": shown, "sha256": sha256_file(path)}

        prep = self.spec.get("preprocessing")
        return {
            "kind": self.kind,
            "format": self.spec["format"],
            "network": record(self.spec["file"]) if self.spec.get("file") else None,
            "class": type(self.net).__name__,
            "factory": self.spec.get("factory"),
            "output": self.output,
            "preprocessing": (None if self.preprocessing is None else
                              {**(record(prep) if prep else {}), "class": type(self.preprocessing).__name__}),
            "n_features": len(self.feature_names),
            "device": self.device,
            "dtype": str(self.dtype).replace("torch.", ""),
            "batch_size": self.batch_size,
        }

    # -- inputs -----------------------------------------------------------------
    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """The network's input for ``X``: the spec's columns in order, through the preprocessing."""
        absent = [c for c in self.feature_names if c not in X.columns]
        if absent:
            raise ValueError(f"the input lacks columns the network reads: {absent[:5]}")
        frame = X[self.feature_names]
        if self.preprocessing is not None:
            values = _dense(self.preprocessing.transform(frame))
        else:
            text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
            if text:
                raise ValueError(f"column {text[0]!r} is not numeric and the model spec declares no preprocessing to encode it")
            values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            rows = int(bad.any(axis=1).sum())
            raise ValueError(f"{rows} row(s) reach the network with missing or infinite values; "
                             "the network cannot take them (add imputation to the preprocessing)")
        return values

    # -- outputs ------------------------------------------------------------------
    def _forward(self, X: pd.DataFrame) -> np.ndarray:
        """Raw network outputs for raw rows, ``batch_size`` rows at a time (preprocessing
        included, so memory stays bounded however many rows come), in evaluation mode
        without gradients."""
        import torch

        parts = []
        with torch.inference_mode():
            for start in range(0, len(X), self.batch_size):
                Z = self.encode(X.iloc[start:start + self.batch_size])
                out = self.net(torch.as_tensor(np.require(Z, requirements="W"), dtype=self.dtype, device=self.device))
                parts.append(out.detach().to("cpu", torch.float64).numpy())
        if not parts:
            return np.zeros((0, len(self.classes) if self.classes else 1))
        return np.concatenate(parts, axis=0)

    def _width(self, out_shape: tuple[int, ...]) -> int:
        width = 1 if len(out_shape) == 1 else int(np.prod(out_shape[1:]))
        n_classes = len(self.classes)
        if width == n_classes or (width == 1 and n_classes == 2):
            return width
        raise ValueError(f"the network gives {width} output(s) per row; the model spec names {n_classes} classes "
                         f"(a binary network may give 1 output: the positive, second class)")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        if self.classes is None:
            raise ValueError("a regression network has no class probabilities")
        out = self._forward(X)
        width = self._width(out.shape)
        out = out.reshape(len(out), width)
        if self.output == "probabilities":
            return np.column_stack([1.0 - out[:, 0], out[:, 0]]) if width == 1 else out
        if width == 1:  # one logit: the second class's
            from scipy.special import expit

            p = expit(out[:, 0])
            return np.column_stack([1.0 - p, p])
        from scipy.special import softmax

        return softmax(out, axis=1)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.classes is None:
            out = self._forward(X)
            return out.reshape(len(out), -1)[:, 0] if out.ndim > 1 else out
        proba = self.predict_proba(X)
        return np.asarray(self.classes, dtype=object)[np.argmax(proba, axis=1)]

    def predict_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass for both: the predicted class is the most probable one."""
        if self.classes is None:
            return self.predict(X), self.predict_proba(X)  # raises: a regression network has no probabilities
        proba = self.predict_proba(X)
        return np.asarray(self.classes, dtype=object)[np.argmax(proba, axis=1)], proba

    # -- gradients ----------------------------------------------------------------
    def gradient_view(self) -> GradientView:
        return GradientView(adapter=self)


@dataclass
class GradientView:
    """The network as a differentiable function of its own input space.

    ``encode`` turns raw rows into network inputs (numpy, float64); ``log_proba`` maps a
    tensor of network inputs to class log-probabilities (classification) and ``output``
    to the raw outputs, both differentiable by autograd. ``input_map`` says which raw
    numeric columns reach the network as one input each through an affine map
    ``z = a + slope * x`` (passthrough, StandardScaler, MinMaxScaler, RobustScaler...):
    only those can be perturbed in raw units and attacked in the network's space.
    """

    adapter: TorchAdapter
    # Relative tolerance for "the slope is the same for every row" when probing the preprocessing.
    rtol: float = field(default=1e-6)

    @property
    def device(self) -> str:
        return self.adapter.device

    @property
    def dtype(self):
        return self.adapter.dtype

    @property
    def classes(self) -> list[Any] | None:
        return self.adapter.classes

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        return self.adapter.encode(X)

    def output(self, z: torch.Tensor) -> torch.Tensor:
        return self.adapter.net(z)

    def log_proba(self, z: torch.Tensor) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        out = self.adapter.net(z)
        width = self.adapter._width(tuple(out.shape))
        out = out.reshape(out.shape[0], width)
        if self.adapter.output == "probabilities":
            if width == 1:
                out = torch.cat([1.0 - out, out], dim=1)
            return torch.log(out.clamp(min=TINY))
        if width == 1:
            return torch.cat([F.logsigmoid(-out), F.logsigmoid(out)], dim=1)
        return F.log_softmax(out, dim=1)

    def input_map(self, X: pd.DataFrame, columns: list[str], steps: dict[str, float]) -> tuple[dict[str, tuple[int, float]], dict[str, str]]:
        """For each raw column: the network input it becomes and ``dz/dx`` there, found by moving
        the column by ``steps[col]`` and by twice that and comparing the encoded rows.

        Returns ``({column: (input index, slope)}, {column: why it cannot be mapped})``.
        """
        base = self.encode(X)
        mapped: dict[str, tuple[int, float]] = {}
        excluded: dict[str, str] = {}
        for col in columns:
            if col not in self.adapter.feature_names:
                excluded[col] = "not an input of the network"
                continue
            h = float(steps.get(col) or 1.0)
            diffs = []
            try:
                for k in (1.0, 2.0):
                    moved = X.copy()
                    moved[col] = X[col].astype("float64") + k * h
                    diffs.append(self.encode(moved) - base)
            except Exception as exc:
                excluded[col] = f"the preprocessing rejects a moved value ({type(exc).__name__})"
                continue
            d1, d2 = diffs
            touched = np.flatnonzero(np.abs(d1).max(axis=0) > 0)
            if len(touched) != 1:
                excluded[col] = ("has no effect on the network's input" if len(touched) == 0
                                 else f"reaches {len(touched)} network inputs (not a per-column scaling)")
                continue
            j = int(touched[0])
            slopes = d1[:, j] / h
            slope = float(np.median(slopes))
            if slope == 0 or not np.allclose(slopes, slope, rtol=self.rtol, atol=0) \
                    or not np.allclose(d2[:, j], 2 * d1[:, j], rtol=self.rtol, atol=0):
                excluded[col] = "the preprocessing is not an affine map of it (binned, clipped or nonlinear)"
                continue
            mapped[col] = (j, slope)
        return mapped, excluded

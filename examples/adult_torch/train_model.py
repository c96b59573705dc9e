"""Train the PyTorch example network that auditor's documentation audits.

Usage::

    python examples/adult_torch/train_model.py [--out-dir examples/adult_torch] [--epochs 12]

A small multilayer perceptron (inputs -> 32 -> 16 -> 2 logits) on the same UCI Adult
files as the scikit-learn example (``examples/adult``), read the same way (plain
``pd.read_csv``: ``?`` stays a category). It writes, next to this script:

* ``preprocess.skops`` -- the fitted scikit-learn transformer the network expects first
  (one-hot categories, standardised numbers), loadable with skops' default trusted types;
* ``model.pt`` -- the network as TorchScript (``torch.jit.script``), logits out;
* ``model.torch.yaml`` -- the model spec auditor reads: columns in order, the
  preprocessing, the output kind and the class labels;
* ``history.csv`` -- per-epoch ``epoch,train_loss,val_loss`` (the validation rows are
  20% of the training file, held out), for auditor's ``--history``.

Seeded (``--seed``, torch.manual_seed), single-threaded by default, a few seconds on
two cores. Then: ``auditor run --model examples/adult_torch/model.torch.yaml ...``
(see ``scripts/example_torch.sh``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import skops.io as sio  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from torch import nn  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "adult"
TARGET = "income"
CLASSES = ["<=50K", ">50K"]


class MLP(nn.Module):
    def __init__(self, n_inputs: int, hidden: int = 32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def spec_text(columns: list[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return (
        "# auditor model spec for the PyTorch example (written by train_model.py).\n"
        "format: torchscript\n"
        "file: model.pt\n"
        f"columns: [{quoted}]\n"
        "preprocessing: preprocess.skops\n"
        "output: logits\n"
        f'classes: ["{CLASSES[0]}", "{CLASSES[1]}"]\n'
        "batch_size: 4096\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the auditor PyTorch example network on UCI Adult.")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    train = pd.read_csv(DATA / "adult_train.csv.gz")
    test = pd.read_csv(DATA / "adult_test.csv.gz")
    features = [c for c in train.columns if c != TARGET]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]
    categorical = [c for c in features if c not in numeric]
    fit, val = train_test_split(train, test_size=0.2, random_state=args.seed, stratify=train[TARGET])

    prep = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
         ("numeric", StandardScaler(), numeric)],
        remainder="drop",
    ).fit(fit[features])

    def tensors(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.as_tensor(np.asarray(prep.transform(frame[features]), dtype=np.float32))
        y = torch.tensor((frame[TARGET] == CLASSES[1]).to_numpy(), dtype=torch.long)
        return x, y

    x_fit, y_fit = tensors(fit)
    x_val, y_val = tensors(val)
    model = MLP(x_fit.shape[1])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    history = []
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(x_fit), generator=generator).split(256):
            optimiser.zero_grad()
            loss_fn(model(x_fit[batch]), y_fit[batch]).backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            train_loss = float(loss_fn(model(x_fit), y_fit))
            val_loss = float(loss_fn(model(x_val), y_val))
        history.append({"epoch": epoch, "train_loss": round(train_loss, 6), "val_loss": round(val_loss, 6)})
        print(f"epoch {epoch:2d}: train loss {train_loss:.4f}, validation loss {val_loss:.4f}")
    print(f"training time: {time.perf_counter() - started:.1f} s")

    x_test, y_test = tensors(test)
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(dim=1) == y_test).float().mean())
    print(f"test accuracy: {accuracy:.4f}")

    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    sio.dump(prep, out / "preprocess.skops")
    untrusted = sio.get_untrusted_types(file=out / "preprocess.skops")
    print("preprocess.skops untrusted types: " + (", ".join(untrusted) if untrusted else "none"))
    torch.jit.save(torch.jit.script(model), str(out / "model.pt"))
    (out / "model.torch.yaml").write_text(spec_text(features), encoding="utf-8")
    pd.DataFrame(history).to_csv(out / "history.csv", index=False)

    # The written files, read back the way auditor reads them, give the same predictions.
    from auditor.contract.adapters import load_model

    adapter = load_model(out / "model.torch.yaml", device="cpu")
    with torch.no_grad():
        expected = torch.softmax(model(x_test), dim=1).numpy()
    same = np.allclose(adapter.predict_proba(test), expected, atol=1e-6)
    print(f"saved {out / 'model.pt'}, {out / 'preprocess.skops'}, {out / 'model.torch.yaml'}, {out / 'history.csv'}")
    print(f"auditor's adapter reproduces the network's probabilities on test: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

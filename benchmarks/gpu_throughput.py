"""Prediction throughput of the PyTorch example network on CPU and, when present, on a GPU.

Usage::

    python benchmarks/gpu_throughput.py [--rows 200000] [--repeats 3] [--audit]

Loads ``examples/adult_torch/model.torch.yaml`` (run ``examples/adult_torch/train_model.py``
first, or ``scripts/example_torch.sh``) through auditor's own adapter, once per device,
and times ``predict_proba`` on the Adult test rows tiled to ``--rows`` rows (preprocessing
included, as in an audit). Reports rows per second per device (best of ``--repeats``),
checks that the devices agree, and with ``--audit`` runs the whole example audit on the
GPU (``--device cuda``) into ``reports/example_torch_gpu/``. Without a CUDA device it says
so ("no CUDA device; CPU only") and measures the CPU alone. Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "adult_torch" / "model.torch.yaml"
TEST = ROOT / "examples" / "adult" / "adult_test.csv.gz"


def throughput(model, frame, repeats: int) -> tuple[float, object]:
    """Best rows/s over ``repeats`` timed passes (after one warm-up pass)."""
    proba = model.predict_proba(frame.iloc[:4096])
    best = float("inf")
    for _ in range(repeats):
        if model.device == "cuda":
            import torch

            torch.cuda.synchronize()
        started = time.perf_counter()
        proba = model.predict_proba(frame)
        best = min(best, time.perf_counter() - started)
    return len(frame) / best, proba


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="override the spec's batch_size")
    parser.add_argument("--audit", action="store_true", help="also run the whole example audit on the GPU")
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd
    import torch

    from auditor.contract.adapters import load_model

    if not SPEC.is_file() or not (SPEC.parent / "model.pt").is_file():
        print(f"gpu_throughput: {SPEC.parent / 'model.pt'} is missing; run examples/adult_torch/train_model.py first", file=sys.stderr)
        return 2
    test = pd.read_csv(TEST)
    frame = pd.concat([test] * (args.rows // len(test) + 1), ignore_index=True).iloc[: args.rows]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" not in devices:
        print("gpu_throughput: no CUDA device; CPU only")
    result: dict[str, object] = {"rows": len(frame), "torch": torch.__version__, "threads": torch.get_num_threads()}
    probas = {}
    for device in devices:
        model = load_model(SPEC, device=device)
        if args.batch_size:
            model.batch_size = args.batch_size
        rate, probas[device] = throughput(model, frame, args.repeats)
        result[f"{device}_rows_per_s"] = round(rate)
        name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
        print(f"{device:>4} ({name}): {rate:,.0f} rows/s (batch {model.batch_size}, preprocessing included)")
    if "cuda" in probas:
        diff = float(np.max(np.abs(probas["cuda"] - probas["cpu"])))
        result["max_abs_difference"] = diff
        result["speedup"] = round(result["cuda_rows_per_s"] / result["cpu_rows_per_s"], 2)
        print(f"GPU / CPU: {result['speedup']}x; largest probability difference {diff:.2e}")
        if args.audit:
            from auditor.app.audit import run_audit
            from auditor.contract.inputs import RunOptions
            from auditor.render import write_reports

            started = time.perf_counter()
            report = run_audit(
                RunOptions(train=str(ROOT / "examples/adult/adult_train.csv.gz"), test=str(TEST), target="income",
                           model=str(SPEC), positive_label=">50K", sensitive=["sex", "race"],
                           history=str(SPEC.parent / "history.csv"), device="cuda"),
                policy_path=ROOT / "examples/adult/audit.yaml",
            )
            out = ROOT / "reports" / "example_torch_gpu"
            write_reports(report, out, ["json", "html"])
            statuses = {c["id"]: c["status"] for c in report["checks"]}
            result["audit_seconds"] = round(time.perf_counter() - started, 1)
            result["audit_device"] = report["inputs"]["model"]["device"]
            result["audit_statuses"] = statuses
            print(f"audit on {result['audit_device']}: {len(statuses)} checks in {result['audit_seconds']} s, "
                  f"gate exit {report['gate']['exit_code']}; report in {out}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Audit the bundled PyTorch example: a small MLP on UCI Adult, saved as TorchScript with its
# preprocessing and model spec (examples/adult_torch/). Same command shape as scripts/example.sh.
# Writes reports/example_torch/. Runs on a CUDA GPU when one is available (--device auto).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

spec=examples/adult_torch/model.torch.yaml
if [ ! -f examples/adult_torch/model.pt ] || [ ! -f examples/adult_torch/preprocess.skops ] || [ ! -f examples/adult_torch/history.csv ]; then
    echo "example: training the example network (examples/adult_torch/)" >&2
    .venv/bin/python examples/adult_torch/train_model.py
fi

set +e
.venv/bin/auditor run \
    --model "$spec" \
    --train examples/adult/adult_train.csv.gz \
    --test examples/adult/adult_test.csv.gz \
    --target income --positive-label '>50K' \
    --sensitive sex --sensitive race \
    --history examples/adult_torch/history.csv \
    --device "${AUDITOR_DEVICE:-auto}" \
    --policy examples/adult/audit.yaml \
    --out reports/example_torch
code=$?
set -e
case $code in
    0) echo "example: the audit passed its gate; open reports/example_torch/report.html" ;;
    1) echo "example: the audit ran and its gate FAILED on the findings above (exit 1): the example data has real defects; open reports/example_torch/report.html" ;;
    *) echo "example: the audit could not run (exit $code)" >&2; exit "$code" ;;
esac

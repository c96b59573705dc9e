#!/usr/bin/env bash
# Audit the bundled example: UCI Adult census income, a gradient-boosted tree pipeline.
# Writes reports/example/ (report.html, report.pdf, report.json, junit.xml, report.sarif, summary.md)
# and the review packet reports/example/packet/ (those files, the policy, the model card, manifest.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

model=examples/adult/model.skops
if [ ! -f "$model" ]; then
    echo "example: training the example model ($model)" >&2
    .venv/bin/python examples/adult/train_model.py --out "$model"
fi

set +e
.venv/bin/auditor run \
    --model "$model" \
    --trust-type sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor \
    --train examples/adult/adult_train.csv.gz \
    --test examples/adult/adult_test.csv.gz \
    --target income --positive-label '>50K' \
    --sensitive sex --sensitive race \
    --policy examples/adult/audit.yaml \
    --out reports/example \
    --packet reports/example/packet
code=$?
set -e
if [ "$code" -le 1 ]; then
    # The review packet (reports, report.json, policy, model card, manifest.json) verifies.
    .venv/bin/auditor verify reports/example/packet
fi
case $code in
    0) echo "example: the audit passed its gate; open reports/example/report.html" ;;
    1) echo "example: the audit ran and its gate FAILED on the findings above (exit 1): the example data has real defects; open reports/example/report.html" ;;
    *) echo "example: the audit could not run (exit $code)" >&2; exit "$code" ;;
esac

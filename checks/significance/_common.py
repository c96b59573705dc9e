"""What the significance checks share: ST003 quotes ST001's R² interval, drawn from ST001's sample and seed."""

from __future__ import annotations

# ST001 (test-metric-intervals): ST003 draws the test sample and the bootstrap seed of this ID, so
# that both checks read the same R² interval on the same data. Check IDs never change.
METRIC_INTERVALS_ID = "ST001"

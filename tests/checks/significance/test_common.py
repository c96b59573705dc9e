"""What the significance checks ST001-ST003 share: valid definitions."""

from __future__ import annotations

import pytest

from auditor.checks import significance as st
from auditor.contract.check import definition_problems


@pytest.mark.parametrize("cls", [st.MetricIntervals, st.BetterThanBaseline, st.TestSetAdequacy])
def test_definitions(cls):
    assert definition_problems(cls) == []

"""What the comparison check tests share: the worse candidate planted for CP001, CP002 and CP004."""

from __future__ import annotations

import numpy as np

from auditor.contract.adapters import SklearnAdapter
from auditor.contract.context import AuditContext
from tests.conftest import fit_pipeline, make_binary_frame
from tests.planted import _ctx


def _worse_candidate(*, models: int = 2) -> AuditContext:
    """A candidate fitted on shuffled labels, compared with a good baseline."""
    ctx = _ctx(make_binary_frame(2000, seed=1), make_binary_frame(2000, seed=2))
    good = ctx.model
    shuffled = make_binary_frame(3000, seed=11)
    shuffled["y"] = np.random.default_rng(0).permutation(shuffled["y"].to_numpy())
    ctx.model = SklearnAdapter(fit_pipeline(shuffled))
    ctx.model_name = "candidate"
    ctx.others = {"baseline": good}
    if models == 3:
        ctx.others["also-bad"] = ctx.model
    return ctx

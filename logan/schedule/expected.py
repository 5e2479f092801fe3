"""Choose the expected schedule for a run: the simulated config when logan can run it exactly,
else the cosine inferred from the logs.
"""

from __future__ import annotations

from logan.model import Run
from logan.schedule.from_logs import Expected, expected_from_logs, lr_tolerance


def build_expected(run: Run) -> Expected | None:
    """The schedule checks compare against (None when the run logged no LR)."""
    lr = run.series("lr")
    if lr.empty:
        return None
    return expected_from_logs(lr, lr_tolerance(run.meta))

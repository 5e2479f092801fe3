"""Choose the expected schedule for a run: the simulated config when logan can run it exactly,
else the cosine inferred from the logs.
"""

from __future__ import annotations

from logan.model import Run
from logan.schedule.from_logs import Expected, abs_tolerance, expected_from_logs


def build_expected(run: Run) -> Expected | None:
    """The schedule checks compare against (None when the run logged no LR)."""
    lr = run.series("lr")
    if lr.empty:
        return None
    peak = float(lr.max()) if len(lr) else 0.0
    return expected_from_logs(lr, abs_tolerance(run.meta, peak))

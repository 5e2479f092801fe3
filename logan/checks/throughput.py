"""Throughput rules: iterations getting slower, or the input pipeline taking over.

mmengine logs `time` (whole iteration) and `data_time` (waiting for the batch), both averaged
over 10 iterations; the first iterations of each epoch are slow by design (workers starting), so
everything here uses medians over long stretches, never single points.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from logan.checks import Limits, Rule
from logan.model import Expected, Finding, Run, Severity

# Baseline: the median over 5%-30% of the run (skip start-up), compared with the last 25%.
BASELINE = (0.05, 0.30)
LATE_SHARE = 0.25
# A persistent slow-down of 1.5x the early median (the and common-sense threshold: noise
# and epoch-start stalls stay well below it in medians).
SLOWDOWN = 1.5
# Input-bound: data_time is more than half of the iteration time late in the run, and that share
# grew by 0.3 since the start (tiny models are always input-bound; only a change is a fault).
DATA_SHARE = 0.5
DATA_SHARE_GROWTH = 0.3
MIN_POINTS = 20
# Persistent: at least this share of the late points are above the slowed-down level. Epoch-start
# stalls (worker start-up, 10-iteration averaged) lift a median without being a slow-down.
PERSISTENT_SHARE = 0.75
# ... and the added time must matter: below ~10 ms per iteration, timings are Python overhead and
# OS scheduling jitter (a 2x change of a 3 ms step costs nothing and means nothing).
MIN_ADDED_SECONDS = 0.010


# The change point is searched on at most this many (evenly spaced) points: O(n^2) below.
CHANGE_POINT_MAX = 1500


def _change_point(t: pd.Series) -> int:
    """Step where `time` moves to its new level: the split that best fits two constant levels
    (median, absolute error on log time), robust to the short stalls at every epoch start."""
    if len(t) > CHANGE_POINT_MAX:
        t = t.iloc[np.linspace(0, len(t) - 1, CHANGE_POINT_MAX).astype(int)]
    x = np.log(t.to_numpy(dtype="float64"))
    n = len(x)
    best, best_cost = n // 2, np.inf
    for p in range(max(2, n // 20), n - max(2, n // 20)):
        a, b = x[:p], x[p:]
        cost = np.abs(a - np.median(a)).sum() + np.abs(b - np.median(b)).sum()
        if cost < best_cost:
            best, best_cost = p, cost
    return int(t.index[best])


def _segment(s, lo: float, hi: float):  # type: ignore[no-untyped-def]
    steps = s.index.to_numpy()
    a, b = steps[0], steps[-1]
    span = b - a
    return s[(steps >= a + lo * span) & (steps <= a + hi * span)]


TP001 = Rule(
    "TP001",
    "throughput-drop",
    Severity.WARNING,
    thresholds={
        "LATE_SHARE": LATE_SHARE,
        "SLOWDOWN": SLOWDOWN,
        "DATA_SHARE": DATA_SHARE,
        "DATA_SHARE_GROWTH": DATA_SHARE_GROWTH,
        "MIN_POINTS": MIN_POINTS,
        "PERSISTENT_SHARE": PERSISTENT_SHARE,
        "MIN_ADDED_SECONDS": MIN_ADDED_SECONDS,
    },
)


@TP001
def throughput_drop(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """Iterations became persistently slower, or waiting for data became most of each iteration.

    What it does: compares the median `time` per iteration over the last 25% of the run with its
    median over 5-30% of the run and reports a slow-down above 1.5x; and reports when `data_time`
    grew to more than half of `time` (and by 0.3 of it since the start): the run became
    input-bound.

    Why it matters: a run that slows down mid-way (a leaking dataloader, swapping, a throttled
    disk or GPU, a growing sequence length) costs hours and often hides a bug.

    Example: `time per iteration rose from 0.003 s to 0.045 s (15x) after step 101; data_time is
    96% of it (was 53%): input-bound`.

    How to fix: look at the data pipeline first (num_workers, persistent_workers, pin_memory, disk
    or network storage), then memory (swapping) and other jobs on the machine.
    """
    t = run.series("time")
    t = t[np.isfinite(t.to_numpy()) & (t.to_numpy() > 0)]
    if len(t) < lim["MIN_POINTS"]:
        return
    early = _segment(t, *BASELINE)
    late = _segment(t, 1 - lim["LATE_SHARE"], 1.0)
    if len(early) < 3 or len(late) < 3:
        return
    e, l_ = float(early.median()), float(late.median())
    slowdown = l_ / e if e > 0 else 0.0
    evidence: dict[str, float | int | str | None] = {
        "early_time": e,
        "late_time": l_,
        "slowdown": slowdown,
    }
    parts = []
    level = e * lim["SLOWDOWN"]
    persistent = float((late.to_numpy() > level).mean())
    evidence["late_share_above"] = persistent
    if (
        slowdown > lim["SLOWDOWN"]
        and persistent >= lim["PERSISTENT_SHARE"]
        and l_ - e >= lim["MIN_ADDED_SECONDS"]
    ):
        start_step = _change_point(t)
        evidence["slowdown_from_step"] = start_step
        parts.append(
            f"time per iteration rose from {e:.3g} s to {l_:.3g} s ({slowdown:.1f}x) from step "
            f"{start_step}"
        )
    d = run.series("data_time").reindex(t.index)
    if d.notna().sum() >= lim["MIN_POINTS"]:
        share = (d / t).dropna()
        s_early = float(_segment(share, *BASELINE).median())
        s_late = float(_segment(share, 1 - lim["LATE_SHARE"], 1.0).median())
        evidence.update(early_data_share=s_early, late_data_share=s_late)
        if s_late > lim["DATA_SHARE"] and s_late - s_early > lim["DATA_SHARE_GROWTH"]:
            parts.append(f"data_time is {s_late:.0%} of it (was {s_early:.0%}): input-bound")
    if not parts:
        return
    step = evidence.get("slowdown_from_step")
    yield TP001.finding(
        "; ".join(parts),
        step=int(step) if isinstance(step, int) else None,
        end_step=run.last_step,
        evidence=evidence,
        hint="Check the data pipeline (num_workers, persistent_workers, storage), memory "
        "(swapping) and other jobs on the machine.",
    )

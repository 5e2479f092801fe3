"""The expected LR schedule when there is only the log: warmup, post-warmup peak, and a cosine
from that peak down to the floor at the run's last step.

A cosine to zero over the whole run is the most common LLM/vision schedule and the one the seed
bug breaks; it is only a guess, so checks that use it also look at the curve's shape (a staircase
or a constant LR is never compared against a cosine).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from logan.model import Expected

# Relative change below which two consecutive logged LRs count as equal (float32 event files
# carry ~7 significant digits; JSON keeps doubles).
REL_EQUAL = 1e-6
# A decay section where the LR changes at fewer than this share of consecutive logged points is a
# staircase (StepLR, MultiStepLR, a per-epoch cosine): it is not compared against a smooth cosine.
SMOOTH_SHARE = 0.5


def lr_tolerance(meta: dict[str, Any]) -> tuple[float, float]:
    """(absolute, relative) tolerance for "two logged LRs are equal", from how the producer printed
    them: text logs print the LR with a few significant digits (`meta["precision"]`, relative),
    mmcv 1.x rounds every float to 5 decimals (`meta["precision_abs"]`). Rounding must not make a
    slowly moving LR look frozen, nor a frozen one look moving.

    When a relative precision is stated it describes the LR, and `precision_abs` then describes the
    other (`%f`-printed) values only.
    """
    if meta.get("precision"):
        # Printed values that differ at all differ by at least one unit in the last digit.
        return 0.0, float(meta["precision"]) * 0.05
    if meta.get("precision_abs"):
        return float(meta["precision_abs"]) * 0.51, 0.0
    return 0.0, 0.0


def equal_mask(values: np.ndarray, tol: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """True where a value equals the previous one within the logged precision (abs, rel)."""
    prev, cur = values[:-1], values[1:]
    # LRs near 1e308 (damaged logs) overflow to inf here, which compares as intended; no warning.
    with np.errstate(over="ignore", invalid="ignore"):
        limit = np.maximum(np.abs(prev) * max(REL_EQUAL, tol[1]), tol[0])
        return np.abs(cur - prev) <= limit


def classify_shape(
    values: np.ndarray, peak_index: int, tol: tuple[float, float] = (0.0, 0.0)
) -> str:
    """Smooth, staircase, constant or rising: how the LR moves after its peak."""
    if len(values) < 3:
        return "unknown"
    if np.all(equal_mask(values, tol)):
        return "constant"
    tail = values[peak_index:]
    if len(tail) < 3:
        return "rising"
    changes = ~equal_mask(tail, tol)
    # Only the decaying part says what kind of schedule this is: a final flat stretch is exactly
    # what LR001 looks for, so it must not turn a smooth decay into a "staircase".
    last_change = int(np.nonzero(changes)[0].max()) + 1 if changes.any() else 0
    head = changes[:last_change]
    if not len(head):
        return "constant"
    return "smooth" if head.mean() >= SMOOTH_SHARE else "staircase"


def find_peak(values: np.ndarray) -> int:
    """Index of the post-warmup peak: the first point within REL_EQUAL of the maximum."""
    top = float(np.nanmax(values))
    return int(np.nonzero(values >= top - abs(top) * REL_EQUAL)[0][0])


def cosine(steps: np.ndarray, start: int, end: int, peak: float, floor: float) -> np.ndarray:
    """Half-cosine from `peak` at `start` to `floor` at `end` (flat outside)."""
    span = max(end - start, 1)
    t = np.clip((steps - start) / span, 0.0, 1.0)
    # A peak near 1e308 (a damaged log) may overflow to inf: a value, not a warning on stderr.
    with np.errstate(over="ignore", invalid="ignore"):
        return floor + (peak - floor) * (1 + np.cos(np.pi * t)) / 2


def expected_from_logs(lr: pd.Series, tol: tuple[float, float] = (0.0, 0.0)) -> Expected | None:
    """Infer warmup, peak and the cosine the run most likely meant, from the LR alone."""
    lr = lr[np.isfinite(lr.to_numpy())]
    if len(lr) < 3:
        return None
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    pk = find_peak(values)
    peak, peak_step, last = float(values[pk]), int(steps[pk]), int(steps[-1])
    warmup_end = peak_step if pk > 0 and values[0] < peak * (1 - REL_EQUAL) else None
    floor = 0.0  # eta_min=0 is mmengine's and torch's default, and what XTuner configs use
    expected = values.copy()
    after = steps >= peak_step
    expected[after] = cosine(steps[after], peak_step, last, peak, floor)
    shape = classify_shape(values, pk, tol)
    return Expected(
        source="logs",
        steps=steps,
        values=expected,
        peak=peak,
        peak_step=peak_step,
        warmup_end=warmup_end,
        floor=floor,
        last_step=last,
        shape=shape,
    )

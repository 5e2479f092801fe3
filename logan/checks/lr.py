"""Learning-rate rules: a schedule that froze, ended early, cycled, restarted or never warmed up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from logan.checks import rule
from logan.model import Finding, Run, Severity
from logan.schedule.from_logs import Expected, equal_mask, lr_tolerance

# LR001 thresholds.
# The flat stretch must cover at least one epoch (the seed bug freezes for whole epochs); without
# an epoch length, 10% of the run, so that a few flat points at the very end never count.
PLATEAU_MIN_RUN_SHARE = 0.10
# The LR must have come down by at least this share of the peak before freezing: a warmup followed
# by a constant LR is a schedule, not a plateau.
MIN_DECAY_SHARE = 0.01
# A value within this share of the peak above the floor is "at the floor": a cosine that reached
# eta_min early is LR002's business, not a freeze mid-schedule. 10% admits eta_min_ratio up to 0.1.
FLOOR_SHARE = 0.10
# The expected schedule must still fall by at least this share of the peak over the flat stretch.
MIN_EXPECTED_DROP = 0.05

PLATEAU_HINT = (
    "The LR scheduler stopped before training ended. For mmengine/XTuner configs give the cosine "
    "scheduler `end=max_epochs` (with by_epoch=True, convert_to_iter_based=True), not only "
    "`T_max`: a missing `end` defaults to the train loop's max_epochs, which is 1 for "
    "iteration-based loops such as XTuner's TrainLoop."
)


def _fmt(x: float) -> str:
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


@rule("LR001", "lr-plateau", Severity.ERROR)
def lr_plateau(run: Run, expected: object) -> Iterator[Finding]:
    """The LR was decaying, then froze above its floor until the end of training.

    What it does: finds the final stretch where the learning rate stays constant (to the logged
    precision) for at least one epoch (or 10% of the run when the epoch length is unknown), after
    it had been decaying smoothly, at a value well above the schedule's floor, while the expected
    schedule (the run's config when logan can simulate it, else a cosine from the post-warmup peak
    to zero at the last step) keeps falling.

    Why it matters: the rest of training runs at a far higher LR than planned. This is the XTuner
    multi-epoch bug: `CosineAnnealingLR(by_epoch=True, T_max=max_epochs,
    convert_to_iter_based=True)` without `end` stops after the first epoch, because mmengine fills
    a missing `end` with the train loop's `max_epochs`, which is 1 for iteration-based loops.

    Example: `LR frozen at 1.588e-04 (79% of peak) from step 51 (epoch 1.0, an epoch boundary) to
    step 150; the expected cosine ends at 0; 67% of training affected`.

    How to fix: give the scheduler an explicit `end` (`end=max_epochs` with
    `convert_to_iter_based=True`), or make `T_max`/`end` cover the whole run.
    """
    if not isinstance(expected, Expected):
        return
    if expected.source == "logs" and expected.shape != "smooth":
        return  # a guessed cosine is never compared against a staircase or a constant LR
    lr = run.series("lr")
    lr = lr[np.isfinite(lr.to_numpy())]
    if len(lr) < 3:
        return
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    peak, floor = expected.peak, expected.floor
    eq = equal_mask(values, lr_tolerance(run.meta))
    if not eq[-1]:
        return
    changed = np.nonzero(~eq)[0]
    start = int(changed[-1]) + 1 if len(changed) else 0  # index of the first point of the flat run
    p0 = int(steps[start])
    last = int(steps[-1])
    value = float(values[start])
    first_flat = int(steps[start + 1])
    length = run.epoch_length
    min_len = length if length else PLATEAU_MIN_RUN_SHARE * last
    if last - p0 < min_len or p0 <= expected.peak_step:
        return
    if value > peak * (1 - MIN_DECAY_SHARE):
        return  # never decayed: warmup then constant
    if value <= floor + FLOOR_SHARE * (peak - floor):
        return  # sitting at the floor
    exp_start, exp_end = expected.at(p0), expected.at(last)
    if exp_start - exp_end < MIN_EXPECTED_DROP * peak or value - exp_end < MIN_EXPECTED_DROP * peak:
        return
    step = p0 + 1  # the first iteration that should have had a new LR
    affected = (last - p0) / last
    evidence: dict[str, Any] = {
        "frozen_lr": value,
        "frozen_fraction_of_peak": value / peak,
        "peak_lr": peak,
        "peak_step": expected.peak_step,
        "last_change_step": p0,
        "first_flat_logged_step": first_flat,
        "last_step": last,
        "expected_lr_at_end": exp_end,
        "expected_source": expected.source,
        "fraction_of_training_affected": affected,
    }
    epoch: float | None = None
    where = ""
    if length:
        epoch = p0 / length
        # With sparse logging the freeze happened somewhere in (p0, first_flat]: it is at a boundary
        # when an epoch ends in that window.
        boundary_epoch = (first_flat - 1) // length
        at_boundary = boundary_epoch * length >= p0
        evidence.update(epoch=epoch, epoch_length=length, at_epoch_boundary=at_boundary)
        if at_boundary:
            step = boundary_epoch * length + 1
            epoch = float(boundary_epoch)
            evidence["epoch"] = epoch
            where = f" (epoch {epoch:g}, an epoch boundary)"
        else:
            where = f" (epoch {epoch:.2f}, not an epoch boundary)"
    cause = expected.extra.get("cause")
    if cause:
        evidence["cause"] = cause
    if expected.extra.get("fix"):
        evidence["fix"] = expected.extra["fix"]
    message = (
        f"LR frozen at {_fmt(value)} ({value / peak:.0%} of peak {_fmt(peak)}) from step {step}"
        f"{where} to the end at step {last}, while the expected schedule falls to {_fmt(exp_end)}; "
        f"{affected:.0%} of training affected"
    )
    yield Finding(
        code="LR001",
        name="lr-plateau",
        severity=Severity.ERROR,
        message=message,
        step=step,
        end_step=last,
        epoch=epoch,
        evidence=evidence,
        hint=PLATEAU_HINT,
    )

"""Does the configured schedule fit the training it drives? Shared by the LR002 rule (after a run)
and `logan schedule` (before one).

Two ways a schedule misses: it ends early (the LR sits at its last value for the last 10% or more
of training with no scheduler asked to hold it) or it reaches past the end (simulated beyond the
last iteration, the LR would still be changing, and it ended far above its floor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# The LR sits at its final value for at least this share of training: "ends early".
EARLY_END_SHARE = 0.10
# Ending above the floor by more than this share of the (peak - floor) range: "reaches past".
PAST_END_SHARE = 0.10
# Relative change below which the LR counts as unchanged.
REL_EQUAL = 1e-9
# Scheduler types that hold the LR on purpose when they cover the tail.
HOLD_TYPES = ("ConstantLR", "ConstantParamScheduler", "ConstantMomentum")


# How far past the end of training a schedule is simulated to see whether it would still be
# changing; when it still is at NEAR x, look up to FAR x (at least FAR_MIN_ITERS, at most
# FAR_MAX_ITERS: ~0.2 s per 400k iterations) to name where it really ends.
NEAR = 4
FAR = 50
FAR_MIN_ITERS = 200_000
FAR_MAX_ITERS = 2_000_000


def simulate_beyond(simulate_at: Callable[[int], Any], total: int) -> Any:
    """`simulate_at(horizon)` past the end of training, far enough to see where it stops."""
    near = simulate_at(NEAR * total)
    if near is None or len(near.actual) < 2 or near.actual[-1] == near.actual[-2]:
        return near
    far = min(max(FAR * total, FAR_MIN_ITERS), FAR_MAX_ITERS)
    return (simulate_at(far) or near) if far > NEAR * total else near


@dataclass(frozen=True)
class Misfit:
    kind: str  # "ends-early" or "reaches-past-end"
    message: str
    step: int  # 1-based iteration where the misfit starts
    evidence: dict[str, Any]


def last_change(curve: np.ndarray) -> int:
    """0-based index of the last iteration whose LR differs from the one before."""
    diff = np.abs(np.diff(curve)) > REL_EQUAL * np.maximum(np.abs(curve[:-1]), 1e-300)
    idx = np.nonzero(diff)[0]
    return int(idx[-1]) + 1 if len(idx) else 0


def schedule_misfits(sim: Any, extended: Any | None) -> list[Misfit]:
    """How the simulated schedule fails to span training (empty when it fits)."""
    actual = np.asarray(sim.actual, dtype="float64")
    total = int(sim.total_iters)
    if total < 10 or not len(actual):
        return []
    peak = float(actual.max())
    out: list[Misfit] = []
    # Where the schedulers stop acting (spans are [begin, end) in iterations, clipped to training).
    # A MultiStepLR after its last milestone is still "acting": its flat tail is the recipe.
    active_end = max((span.end for span in sim.spans), default=0)
    decayed = actual[-1] < peak * (1 - 1e-6)
    flat_share = (total - active_end) / total
    if sim.cause is None and decayed and flat_share >= EARLY_END_SHARE and active_end > 0:
        tail_held = any(
            any(h in span.type for h in HOLD_TYPES) and span.end >= total for span in sim.spans
        )
        if not tail_held:
            out.append(
                Misfit(
                    "ends-early",
                    f"the configured schedule ends at iteration {active_end} of {total}: the LR "
                    f"sits at {actual[-1]:.4g} for the last {flat_share:.0%} of training",
                    active_end + 1,
                    {
                        "schedule_ends_at": active_end,
                        "total_iters": total,
                        "flat_share": flat_share,
                        "final_lr": float(actual[-1]),
                    },
                )
            )
    if extended is not None and len(extended.actual) > total:
        full = np.asarray(extended.actual, dtype="float64")
        beyond = full[total - 1 :]
        # The floor is what the decay after the peak reaches, not the warmup's starting value.
        floor = float(full[int(np.argmax(full)) :].min())
        still_moving = np.any(np.abs(np.diff(beyond)) > REL_EQUAL * max(abs(peak), 1e-300))
        above = actual[-1] - floor > PAST_END_SHARE * max(peak - floor, 1e-300)
        if still_moving and above:
            ends = last_change(full) + 1  # 1-based: the last iteration with a new LR
            if ends < len(full):
                reach = f"would keep changing until about iteration {ends}, down to {floor:.4g}"
            else:
                reach = f"would still be changing at iteration {len(full)} (simulated that far)"
            out.append(
                Misfit(
                    "reaches-past-end",
                    f"the configured schedule reaches past the end of training: at the last "
                    f"iteration {total} the LR is still changing ({actual[-1]:.4g}, "
                    f"{actual[-1] / peak:.0%} of its peak {peak:.4g}) and {reach}",
                    total,
                    {
                        "total_iters": total,
                        "final_lr": float(actual[-1]),
                        "peak": peak,
                        "floor_reached_by_simulation": floor,
                        "schedule_would_end_at": ends if ends < len(full) else None,
                    },
                )
            )
    return out

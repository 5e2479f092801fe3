"""What every LR simulator returns (`Simulation`) and the few helpers they share.

The mmengine, mmcv and Hugging Face simulators each turn a config into the LR of every iteration;
checks and reports read only these records, never a simulator's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logan.config import is_unknown

# A simulation longer than this is not a real run (and would cost seconds of CPU).
MAX_SIM_ITERS = 50_000_000


@dataclass(frozen=True)
class SchedulerSpan:
    """Where one scheduler acts, in iterations as the run used them ([begin, end), 0-based)."""

    type: str
    begin: int
    end: int
    by_epoch: bool
    index: int


@dataclass(frozen=True)
class Simulation:
    """The LR at every iteration as the framework ran it, what was meant, and why they differ.

    `cause_index` is the position in `param_scheduler` of the first scheduler the fix edits
    (None without a cause): reporters point at that scheduler's line in the config.
    """

    actual: np.ndarray
    intended: np.ndarray
    total_iters: int
    base_lr: float
    epoch_length: int | None
    spans: tuple[SchedulerSpan, ...]
    cause: str | None
    fix: str | None
    cause_index: int | None = None
    # The config edits behind `fix` (logan.config.patch.SchedulerEdit), to redo the diff against
    # another file of an inheritance chain.
    edits: tuple[Any, ...] = ()


class Unsupported(Exception):
    """The config lacks something the simulation needs (the simulator then returns None)."""


def num(value: Any, what: str) -> Any:
    """`value` when it is a real number (not a bool, not UNKNOWN); else Unsupported(what)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or is_unknown(value):
        raise Unsupported(f"{what} is not a number")
    return value

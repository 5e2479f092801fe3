"""What every reader returns, and the one place the tidy table is built from column lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from logan.model import SCALAR_COLUMNS, Skipped


@dataclass
class ReadResult:
    """Rows read from one file, what was skipped, and facts the file states about the run.

    `meta` keys a reader may set: `epoch_length`, `max_iters`, `max_epochs`, `by_epoch`,
    `precision` (relative precision of the printed LR, e.g. 1e-4 for `%.4e`), `precision_abs`
    (absolute rounding of the other values, e.g. mmcv's 1e-5), `config_text` (config in the log),
    `config` (an already-parsed config dict, e.g. HF TrainingArguments).
    """

    frame: pd.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def build_frame(
    steps: Any,
    tags: Any,
    values: Any,
    epochs: Any = None,
    wall_times: Any = None,
    session: int = 0,
) -> pd.DataFrame:
    """Build the tidy table once from parallel columns (lists or numpy arrays)."""
    n = len(steps)
    frame = pd.DataFrame(
        {
            "step": np.asarray(steps, dtype="int64"),
            "epoch": np.full(n, np.nan) if epochs is None else np.asarray(epochs, dtype="float64"),
            "tag": pd.Series(tags, dtype="object") if n else pd.Series([], dtype="object"),
            "value": np.asarray(values, dtype="float64"),
            "session": np.full(n, session, dtype="int64"),
            "wall_time": np.full(n, np.nan)
            if wall_times is None
            else np.asarray(wall_times, dtype="float64"),
        },
        columns=list(SCALAR_COLUMNS),
    )
    return frame


def empty_frame() -> pd.DataFrame:
    return build_frame([], [], [])

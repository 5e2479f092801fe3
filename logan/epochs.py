"""Epoch length and training length: from what the logs state, else from the config and the
run's iteration count, else unknown.

The epoch length (optimizer iterations per epoch) is what turns "the LR froze at step 51" into
"the LR froze at the first epoch boundary", and what mmengine multiplies `convert_to_iter_based`
schedules by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from logan.model import not_training


@dataclass
class Epochs:
    epoch_length: int | None = None
    max_epochs: int | None = None
    max_iters: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# Counts at or past this are damage (e.g. `max_steps: 10**30`): unknown, as they would not fit
# the int64 arithmetic downstream.
_COUNT_LIMIT = 2**62


def _int_or_none(value: Any) -> int | None:
    """A positive count, else None; plain comparisons, so a Python int past int64 cannot raise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and 0 < value < _COUNT_LIMIT:  # NaN compares False
        return int(round(value))
    return None


def _from_epoch_index(train: pd.DataFrame) -> int | None:
    """mmengine JSON: steps logged inside epoch e are (e-1)*L + k*interval, so the first logged
    step of consecutive epochs differ by exactly L."""
    rows = train.dropna(subset=["epoch"])
    if rows.empty:
        return None
    firsts = rows.groupby("epoch")["step"].min().sort_index()
    if len(firsts) < 2:
        return None
    epochs = firsts.index.to_numpy()
    diffs = np.diff(firsts.to_numpy()) / np.diff(epochs)
    diffs = diffs[diffs > 0]
    if not len(diffs):
        return None
    return int(round(float(np.median(diffs))))


def _from_epoch_tag(table: pd.DataFrame) -> int | None:
    """HF's `train/epoch` (fractional: epochs done at that step) or Lightning's `epoch` tag (the
    0-based current epoch) logged as a scalar of its own."""
    ep = table[table["tag"] == "epoch"]
    ep = ep[np.isfinite(ep["value"].to_numpy())]
    if ep.empty:
        return None
    values = ep["value"].to_numpy(dtype="float64")
    steps = ep["step"].to_numpy(dtype="float64")
    if np.any(np.abs(values - np.round(values)) > 1e-6):
        ok = values > 0
        if not ok.any():
            return None
        return int(round(float(np.median(steps[ok] / values[ok]))))
    frame = pd.DataFrame({"step": steps, "epoch": values})
    return _from_epoch_index(frame)


def _config_get(config: dict[str, Any] | None, *keys: str) -> Any:
    node: Any = config
    for k in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(k)
    return node


def infer_epochs(
    table: pd.DataFrame, meta: dict[str, Any], config: dict[str, Any] | None
) -> Epochs:
    """Work out epoch length, max epochs and max iterations; say where each came from."""
    train = table[~not_training(table["tag"])]
    last_step = int(train["step"].max()) if len(train) else None
    out = Epochs()
    cfg_epochs = _int_or_none(_config_get(config, "train_cfg", "max_epochs"))
    cfg_iters = _int_or_none(_config_get(config, "train_cfg", "max_iters"))
    stated_iters = _int_or_none(meta.get("max_iters"))
    length = _int_or_none(meta.get("epoch_length"))
    source = "log" if length else None
    if length is None and meta.get("epoch_column") == "current_1based":
        length = _from_epoch_index(train)
        source = "logged epochs" if length else None
    if length is None:
        length = _from_epoch_tag(train)
        source = "logged epoch scalar" if length else None
    if length is None and cfg_epochs:
        # An iteration count that spans max_epochs: the loop's own max_iters (text log `[k/N]`),
        # else the run's last step, which is exact for a run that finished.
        total = stated_iters or last_step
        if total and total % cfg_epochs == 0:
            length = total // cfg_epochs
            source = "config max_epochs and " + ("max_iters" if stated_iters else "last step")
    out.epoch_length = length
    out.max_epochs = cfg_epochs or _int_or_none(meta.get("max_epochs"))
    out.max_iters = stated_iters or cfg_iters
    if out.max_iters is None and length and out.max_epochs:
        out.max_iters = length * out.max_epochs
    span = out.max_iters or last_step
    if out.max_epochs is None and length and span:
        out.max_epochs = int(np.ceil(span / length))
    if source:
        out.meta["epoch_length_source"] = source
    return out

"""What every reader returns, and the one place the tidy table is built from column lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from logan.model import SCALAR_COLUMNS, Skipped

# Steps are 1-based training steps held in int64 and drawn as float64: a step past 2**53 loses
# its last digits (steps around 2**60 collapse to a few values), a negative one is no step at
# all. Such rows are damage; they are dropped here, for every reader, and reported.
MAX_STEP = 2**53
# The key `frame.attrs` carries rows that `build_frame` dropped, as (where, reason) pairs.
DROPPED = "logan_dropped"


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
    """Build the tidy table once from parallel columns (lists or numpy arrays).

    Rows whose step is not a step (negative, past `MAX_STEP`, not finite) or whose tag cannot be
    written (a lone surrogate, from a `\\ud800` escape in a JSON key) are dropped; what was dropped
    is listed in `frame.attrs[DROPPED]`, which `checked` turns into skips naming the file.
    """
    n = len(steps)
    step_col, keep, dropped = _valid_steps(steps)
    # Categorical from the start: the loader tests tags many times per run (training rows,
    # bookkeeping, repeats, epochs) and each test on an object column compared every row's string.
    tag_col = pd.Series(
        tags if isinstance(tags, pd.Categorical) else pd.Categorical(np.asarray(tags, dtype=object))
    )
    bad_tags = _unwritable_tags(tag_col)
    if bad_tags:
        bad = tag_col.isin(bad_tags).to_numpy()
        for tag in bad_tags:
            dropped.append(
                (
                    f"key {_shown(tag)}",
                    f"{int((tag_col == tag).sum())} value(s) under a key that is not valid "
                    "Unicode (a lone surrogate escape): skipped",
                )
            )
        keep = keep & ~bad
    frame = pd.DataFrame(
        {
            "step": step_col,
            "epoch": np.full(n, np.nan) if epochs is None else np.asarray(epochs, dtype="float64"),
            "tag": tag_col,
            "value": np.asarray(values, dtype="float64"),
            "session": np.full(n, session, dtype="int64"),
            "wall_time": np.full(n, np.nan)
            if wall_times is None
            else np.asarray(wall_times, dtype="float64"),
        },
        columns=list(SCALAR_COLUMNS),
    )
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
    if dropped:
        frame.attrs[DROPPED] = dropped
    return frame


def _shown(text: str) -> str:
    from logan.textsafe import visible

    return repr(visible(text))


def _valid_steps(steps: Any) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The step column as int64 (0 where dropped), the rows to keep, and what was dropped."""
    raw = np.asarray(steps) if len(steps) else np.empty(0, dtype="int64")
    if raw.dtype.kind in "iu":
        keep = (raw >= 0) & (raw <= MAX_STEP)
    elif raw.dtype.kind == "f":
        keep = np.isfinite(raw) & (raw >= 0) & (raw <= MAX_STEP)
    else:  # Python ints past int64 (object dtype), or anything else
        keep = np.array(
            [
                isinstance(s, (int, float, np.integer, np.floating))
                and not isinstance(s, bool)
                and 0 <= s <= MAX_STEP
                for s in raw
            ],
            dtype=bool,
        )
    if keep.all():
        return raw.astype("int64"), keep, []
    bad = raw[~keep]
    low = [s for s in bad if _is_negative(s)]
    high = len(bad) - len(low)
    dropped = []
    if low:
        dropped.append(
            (f"{len(low)} row(s)", f"negative step (e.g. {low[0]}): not a training step, skipped")
        )
    if high:
        example = next(s for s in bad if not _is_negative(s))
        dropped.append(
            (
                f"{high} row(s)",
                f"step out of range (e.g. {_number(example)}; steps above 2**53 cannot be held "
                "exactly): skipped",
            )
        )
    column = np.zeros(len(raw), dtype="int64")
    column[keep] = raw[keep].astype("int64")
    return column, keep, dropped


def _is_negative(value: Any) -> bool:
    try:
        return bool(value < 0)
    except TypeError:
        return False


def _number(value: Any) -> str:
    try:
        return f"{int(value)}" if abs(value) < 10**30 else f"{float(value):.3g}"
    except (TypeError, ValueError, OverflowError):
        return _shown(str(value))


def _unwritable_tags(tags: pd.Series) -> list[str]:
    """Tags no encoder can write (each distinct tag tested once)."""
    out = []
    for tag in tags.cat.categories:
        if isinstance(tag, str) and not tag.isascii():
            try:
                tag.encode("utf-8")
            except UnicodeEncodeError:
                out.append(tag)
    return out


def checked(result: ReadResult, path: object) -> ReadResult:
    """The reader's result with the rows `build_frame` dropped listed as skips of `path`."""
    dropped = result.frame.attrs.pop(DROPPED, None) or []
    result.skipped.extend(Skipped(str(path), where, reason) for where, reason in dropped)
    return result


def empty_frame() -> pd.DataFrame:
    return build_frame([], [], [])


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after the other, the tag column still categorical: pandas concatenates
    categoricals with different categories into strings, and every tag test after that would
    compare every row's string again."""
    if not frames:
        return empty_frame()
    table = pd.concat(frames, ignore_index=True)
    if not isinstance(table["tag"].dtype, pd.CategoricalDtype):
        table["tag"] = pd.Categorical(table["tag"].to_numpy(dtype=object))
    return table

"""Hugging Face `Trainer` logs: `trainer_state.json` and the TrainingArguments text it sends to TB.

`trainer_state.json` holds `log_history`, one dict per logging event: training entries
(`loss`, `grad_norm`, `learning_rate`, fractional `epoch`, `step` = optimizer updates so far, from
1), evaluation entries (`eval_*` keys, kept apart as `val/<name>`) and, at the end of `train()`,
one summary entry (`train_runtime`, `train_loss`, `total_flos`, ...) that is no curve and goes to
`meta["summary"]`. The LR logged at step k is the one that update k used (transformers 5 reads it
before stepping the scheduler). Entries of other kinds are not damage: `predict()` metrics
(`predict_*`, `test_*`) with a step become `val/<key>`; entries without a `step` (metrics a script
appended itself, a summary written without one) cannot be placed on the step axis and are counted
by kind in `meta["unplaced_entries"]`. Only damage is skipped (reasons start with "damaged"): text
that is not JSON, an entry that is not an object, a `step` that is null or not a number, an LR or
loss that is not a number. A truncated or damaged file still yields every complete entry.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import ReadResult, build_frame
from logan.tags import canonical_tag

# Keys that index an entry rather than being scalars of their own.
_INDEX_KEYS = frozenset({"step", "epoch"})
# Keys only the end-of-training summary entry carries.
_SUMMARY_MARKERS = frozenset(
    {"train_runtime", "train_samples_per_second", "train_steps_per_second"}
)
_SUMMARY_KEYS = _SUMMARY_MARKERS | {"train_loss", "total_flos"}
# Evaluation (`eval_`) and `predict()` (`test_`, or `predict_` as LLaMA-Factory names them).
_EVAL_PREFIXES = ("eval_", "test_", "predict_")
_PREDICT_PREFIXES = ("test_", "predict_")
# trainer_state.json's top-level facts worth passing on.
_STATE_FACTS = (
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "train_batch_size",
    "global_step",
    "epoch",
)
# A logged epoch this close to a whole number marks an epoch end (HF divides by the batch count,
# so boundaries come out exact; older versions rounded to 2 decimals, see _epoch_length).
_EPOCH_TOL = 1e-6
# Steps at or past this size are damage, not a run: they would not fit the int64 step column.
_STEP_LIMIT = 2**62
# Curves whose non-numeric value is damage worth listing (other keys may hold text on purpose).
_LISTED_TAGS = frozenset({"lr", "loss"})
# The top-level scalar facts when the whole file does not parse: `  "key": value` at indent 2.
_TOP_FACT = re.compile(
    r'^  "(\w+)": (-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|null|true|false)\s*,?\s*$', re.M
)
_LOG_HISTORY = re.compile(r'"log_history"\s*:\s*\[')

# TrainingArguments keys that decide the LR schedule, as `parse_training_args` returns them.
TRAINING_ARG_KEYS = (
    "lr_scheduler_type",
    "lr_scheduler_kwargs",
    "learning_rate",
    "warmup_steps",
    "warmup_ratio",
    "num_train_epochs",
    "max_steps",
    "gradient_accumulation_steps",
    "per_device_train_batch_size",
    "logging_steps",
)


def _num(value: Any) -> float | None:
    """The value as a float; None for non-numbers and for JSON integers past the float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _finite(value: Any) -> float | None:
    """A state fact as a finite float; NaN or infinity (e.g. `num_train_epochs: NaN`) is unknown."""
    v = _num(value)
    return v if v is not None and math.isfinite(v) else None


def _entry_kind(entry: dict[str, Any]) -> str:
    """What a `log_history` entry without a step holds: predict, eval, train or other metrics."""
    keys = [k for k in entry if k not in _INDEX_KEYS]
    if any(k.startswith(_PREDICT_PREFIXES) for k in keys):
        return "predict"
    if any(k.startswith("eval_") for k in keys):
        return "eval"
    if any(canonical_tag(k) in _LISTED_TAGS for k in keys):
        return "train"
    return "other"


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _scan_entries(text: str, start: int, path: str) -> tuple[list[tuple[int, Any]], list[Skipped]]:
    """Decode `log_history` entries one by one from `start` (just after its `[`).

    A damaged entry is skipped up to the next `{` (entries are flat dicts, so the next `{` starts
    the next entry); an entry cut off by the end of the file ends the scan.
    """
    decoder = json.JSONDecoder()
    entries: list[tuple[int, Any]] = []
    skipped: list[Skipped] = []
    pos, n = start, len(text)
    while pos < n:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n or text[pos] == "]":
            break
        line = _line_of(text, pos)
        try:
            obj, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            nxt = text.find("{", pos + 1)
            if nxt < 0:
                reason = "damaged: truncated entry at end of file"
                skipped.append(Skipped(path, f"line {line}", reason))
                break
            skipped.append(Skipped(path, f"line {line}", "damaged: log_history entry is not JSON"))
            pos = nxt
            continue
        entries.append((line, obj))
        pos = end
    return entries, skipped


def _parse_state(
    text: str, path: str
) -> tuple[dict[str, Any], list[tuple[int, Any]], list[Skipped]]:
    """The state's top-level facts and its log entries (with line numbers where known)."""
    try:
        state = json.loads(text)
    except (ValueError, RecursionError):
        state = None
    if isinstance(state, dict):
        history = state.get("log_history")
        if isinstance(history, list):
            return state, [(0, e) for e in history], []
        return state, [], [Skipped(path, "log_history", "damaged: log_history is not a list")]
    # Damaged JSON: recover the flat facts and every complete entry.
    facts: dict[str, Any] = {}
    for key, raw in _TOP_FACT.findall(text):
        try:
            facts[key] = json.loads(raw)
        except ValueError:
            continue
    m = _LOG_HISTORY.search(text)
    if m is None:
        return facts, [], [Skipped(path, "whole file", "damaged: no log_history found")]
    entries, skipped = _scan_entries(text, m.end(), path)
    if not skipped:
        skipped.append(Skipped(path, "end of file", "damaged: file is cut off after log_history"))
    return facts, entries, skipped


def _state_ratio(train: list[tuple[int, float]], state: dict[str, Any]) -> int | None:
    """max_steps / num_train_epochs when whole and within an epoch of every logged point."""
    max_steps, n_epochs = _finite(state.get("max_steps")), _finite(state.get("num_train_epochs"))
    if max_steps and n_epochs and n_epochs == int(n_epochs) and max_steps % n_epochs == 0:
        # max_steps = ceil(num_train_epochs * steps_per_epoch) when training by epochs.
        ratio = int(max_steps // n_epochs)
        if ratio >= 1 and all(abs(s / ratio - e) < 1.0 for s, e in train if e > 0):
            return ratio
    return None


def _epoch_length(train: list[tuple[int, float]], state: dict[str, Any]) -> tuple[int | None, str]:
    """Optimizer steps per epoch from (step, fractional epoch) pairs, else from the state.

    HF's epoch is `e + batches_done / batches_per_epoch`, counted in micro-batches while `step`
    counts optimizer updates; with gradient accumulation an epoch can end on a partial
    accumulation, so steps/epoch is not exact mid-epoch. At a whole epoch k it is exact: the
    epoch length is step / k. Older transformers rounded the epoch to 2 decimals, which can make
    several steps look whole (steps 2890-2915 all log epoch 1.0 in a 2904-step epoch); the
    candidates then bracket the length, and max_steps / num_train_epochs wins when it lies
    among them, else the most common candidate.
    """
    ratio = _state_ratio(train, state)
    candidates: Counter[int] = Counter()
    for step, epoch in train:
        k = round(epoch)
        if k >= 1 and abs(epoch - k) < _EPOCH_TOL and step % k == 0:
            candidates[step // k] += 1
    rounded = all(abs(e * 100 - round(e * 100)) < 1e-6 for _, e in train)
    if ratio is not None and rounded and candidates and min(candidates) <= ratio <= max(candidates):
        return ratio, "max_steps / num_train_epochs"
    if candidates:
        top = max(candidates.values())
        tied = sorted(c for c, n in candidates.items() if n == top)
        return tied[len(tied) // 2], "whole logged epochs"
    if ratio is not None:
        return ratio, "max_steps / num_train_epochs"
    ratios = sorted(s / e for s, e in train if e > 0)
    if len(ratios) >= 2:
        return max(1, round(ratios[len(ratios) // 2])), "median step/epoch"
    return None, ""


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one `trainer_state.json` into tidy rows; damaged entries are skipped and recorded."""
    path = Path(path)
    raw = path.read_bytes()
    spath = str(path)
    skipped: list[Skipped] = []
    if not raw.strip():
        return ReadResult(build_frame([], [], []), [Skipped(spath, "whole file", "empty file")], {})
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        skipped.append(
            Skipped(spath, "whole file", "damaged: bytes that are not UTF-8 were replaced")
        )
    state, entries, more = _parse_state(text, spath)
    skipped.extend(more)

    steps: list[int] = []
    tags: list[str] = []
    values: list[float] = []
    epochs: list[float] = []
    train_epochs: list[tuple[int, float]] = []
    summary: dict[str, float] = {}
    unplaced: Counter[str] = Counter()
    for i, (line, entry) in enumerate(entries):
        where = f"line {line}" if line else f"log_history[{i}]"
        if not isinstance(entry, dict):
            skipped.append(Skipped(spath, where, "damaged: entry is not a JSON object"))
            continue
        if _SUMMARY_MARKERS & entry.keys():
            for key, value in entry.items():
                v = _num(value)
                if key not in _INDEX_KEYS and v is not None:
                    summary[key] = v
            continue
        if "step" not in entry:  # `"step": null` is damage, no key at all is another kind
            unplaced[_entry_kind(entry)] += 1
            continue
        step_v = _num(entry.get("step"))
        if step_v is None or not math.isfinite(step_v):
            skipped.append(Skipped(spath, where, "damaged: entry's `step` is not a number"))
            continue
        if abs(step_v) >= _STEP_LIMIT:
            skipped.append(Skipped(spath, where, "damaged: entry's `step` is too large"))
            continue
        step = int(step_v)
        ep = _num(entry.get("epoch"))
        epoch = ep if ep is not None and math.isfinite(ep) else math.nan
        is_eval = any(k.startswith(_EVAL_PREFIXES) for k in entry)
        bad: list[str] = []
        for key, value in entry.items():
            v = _num(value)
            if key in _INDEX_KEYS:
                continue
            if v is None:
                if not is_eval and canonical_tag(key) in _LISTED_TAGS:
                    bad.append(key)
                continue
            if key.startswith("eval_"):
                tag = VAL_PREFIX + key[len("eval_") :]
            elif key.startswith(_PREDICT_PREFIXES):  # predict(): apart from the eval metrics
                tag = VAL_PREFIX + key
            elif is_eval:
                continue  # e.g. an eval entry's `total_flos`: not a training curve
            elif key in _SUMMARY_KEYS:
                summary[key] = v
                continue
            else:
                tag = canonical_tag(key)
            steps.append(step)
            tags.append(tag)
            values.append(v)
            epochs.append(epoch)
        if bad:
            reason = f"damaged: not a number in {', '.join(bad)}"
            skipped.append(Skipped(spath, where, reason))
        if not is_eval and not math.isnan(epoch):
            train_epochs.append((step, epoch))

    meta: dict[str, Any] = {}
    for key in _STATE_FACTS:
        value = _finite(state.get(key))
        if value is not None:
            meta[key] = int(value) if value == int(value) else value
    if meta.get("max_steps", 0) > 0:
        meta["max_iters"] = meta["max_steps"]
    n_epochs = _finite(state.get("num_train_epochs"))
    if n_epochs and n_epochs == int(n_epochs):
        meta["max_epochs"] = int(n_epochs)
    length, source = _epoch_length(train_epochs, state)
    if length:
        meta["epoch_length"] = length
        meta["epoch_length_source"] = source
    if summary:
        meta["summary"] = summary
    if unplaced:
        meta["unplaced_entries"] = dict(unplaced)
    frame = build_frame(steps, tags, values, epochs=epochs, session=session)
    return ReadResult(frame=frame, skipped=skipped, meta=meta)


def parse_training_args(text: str) -> dict[str, Any]:
    """TrainingArguments as HF's TensorBoard callback stores them (`args/text_summary`, JSON).

    Returns the schedule-deciding keys of TRAINING_ARG_KEYS (None when absent) with warmup made
    unambiguous: transformers 5 dropped `warmup_ratio` and reads a `warmup_steps` below 1 as a
    ratio, older versions had both and a positive `warmup_steps` won. So the result has
    `warmup_steps` (int, 0 = none) and `warmup_ratio` (float, 0.0 = none), only one of them
    non-zero. `max_steps` <= 0 (HF's "train by epochs") becomes None. Damaged JSON gives
    whatever `"key": value` pairs can still be found; never raises on content.
    """
    args: dict[str, Any] = {}
    try:
        loaded = json.loads(text)
        if isinstance(loaded, dict):
            args = loaded
    except (ValueError, RecursionError):
        for key in TRAINING_ARG_KEYS:
            m = re.search(rf'"{key}"\s*:\s*("(?:[^"\\]|\\.)*"|-?[\d.eE+-]+|null|true|false)', text)
            if m:
                try:
                    args[key] = json.loads(m.group(1))
                except ValueError:
                    continue
    out: dict[str, Any] = {key: args.get(key) for key in TRAINING_ARG_KEYS}
    steps = _num(args.get("warmup_steps")) or 0.0
    ratio = _num(args.get("warmup_ratio")) or 0.0
    if 0 < steps < 1:
        steps, ratio = 0.0, steps
    if steps >= 1:
        ratio = 0.0
    out["warmup_steps"] = int(steps)
    out["warmup_ratio"] = float(ratio)
    max_steps = _num(args.get("max_steps"))
    out["max_steps"] = int(max_steps) if max_steps is not None and max_steps > 0 else None
    if isinstance(out["lr_scheduler_type"], str):
        # Some versions serialise the enum as "SchedulerType.COSINE".
        out["lr_scheduler_type"] = out["lr_scheduler_type"].split(".")[-1].lower()
    return out

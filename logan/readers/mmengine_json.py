"""mmengine's JSON-lines scalar log (`<ts>/vis_data/<ts>.json` or `scalars.json`).

mmengine writes one JSON object per logged iteration with bare `NaN`/`Infinity` tokens (not strict
JSON), `step` = global iteration, `epoch` = the 1-based current epoch (epoch-based loops only)
and `iter` (from mmengine 0.7.4). Validation lines carry no `lr`; their `step` is the epoch
(epoch-based) or iteration at which validation ran, and they go to `val/<key>` tags.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

try:  # a fast parser for the common case; json (below) handles everything
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but never a hard one
    orjson = None  # type: ignore[assignment]

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import MAX_STEP, ReadResult, build_frame
from logan.tags import canonical_tag

# Keys that index a record rather than being scalars of their own.
_INDEX_KEYS = frozenset({"step", "iter", "epoch", "mode"})
# A record longer than this is damage, not a log line (mmengine writes a few hundred bytes per
# iteration, a few KB for a validation line with many metrics): it is skipped unparsed, so that
# a file that is one giant line costs its size in memory, not ten times that.
MAX_LINE_BYTES = 1 << 20
# A larger `step` is damage, not a training step (float64, which parses it, holds integers exactly
# only up to 2**53; from 2**63 the int64 cast would wrap): such lines are skipped and reported.
_MAX_STEP = MAX_STEP
# The largest integer float() converts without OverflowError (bigger ones read as infinite).
_MAX_FLOAT_INT = int(sys.float_info.max)


# Lines git writes around a merge conflict (a work_dir committed mid-merge): not records, not
# damage. Both sides are read; the loader counts records that repeat once.
_CONFLICT_MARKER = re.compile(rb"^(?:<{7} |={7}\s*$|>{7} )")


def _parse_lines(raw: bytes, path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[Skipped]]:
    """Parse every line; one bulk `json.loads` first (fast), line by line only when it fails.

    Python's json accepts mmengine's bare NaN/Infinity tokens, which strict parsers reject.
    """
    skipped: list[Skipped] = []
    kept: list[tuple[int, bytes]] = []
    # Split on newlines only: `str.splitlines` would also cut at \r, \x1c or U+2028, which a
    # damaged (or valid: inside a JSON string) line can hold.
    for i, line in enumerate(raw.split(b"\n")):
        if len(line) > MAX_LINE_BYTES:
            reason = f"line too long ({len(line):,} bytes): not parsed"
            skipped.append(Skipped(str(path), f"line {i + 1}", reason))
        elif line.strip() and not _CONFLICT_MARKER.match(line):
            kept.append((i + 1, line))
    if orjson is not None:
        # orjson parses the whole file ~3x faster than json, but rejects mmengine's bare
        # NaN/Infinity tokens, invalid UTF-8 and 65-bit integers: those files go on below.
        try:
            objs = orjson.loads(b"[" + b",".join(ln for _, ln in kept) + b"]")
            if all(isinstance(o, dict) for o in objs):
                return [(n, o) for (n, _), o in zip(kept, objs, strict=True)], skipped
        except orjson.JSONDecodeError:
            pass
    numbered = [(n, ln.decode("utf-8", errors="replace")) for n, ln in kept]
    try:
        objs = json.loads("[" + ",".join(ln for _, ln in numbered) + "]")
        if all(isinstance(o, dict) for o in objs):
            return [(n, o) for (n, _), o in zip(numbered, objs, strict=True)], skipped
    except (ValueError, RecursionError):
        pass
    records: list[tuple[int, dict[str, Any]]] = []
    for n, ln in numbered:
        try:
            obj = json.loads(ln)
        except (ValueError, RecursionError) as exc:
            last = n == numbered[-1][0]
            reason = "truncated last line" if last else f"not valid JSON ({type(exc).__name__})"
            skipped.append(Skipped(str(path), f"line {n}", reason))
            continue
        if not isinstance(obj, dict):
            skipped.append(Skipped(str(path), f"line {n}", "not a JSON object"))
            continue
        records.append((n, obj))
    return records, skipped


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        # JSON integers are unbounded: one past float's range is infinite, like `1e400`.
        return (
            float(value) if abs(value) <= _MAX_FLOAT_INT else (math.inf if value > 0 else -math.inf)
        )
    return None


# mmengine writes NaN and infinite losses as bare `NaN`/`Infinity` tokens, which orjson rejects.
# They are swapped for `null` (read as NaN) and a finite sentinel one byte longer than `Infinity`
# (read back as infinite), so such files still take the bulk path. Only when the file holds no
# `null` and no sentinel of its own; the lengths count the swaps and the parsed values must hold
# exactly that many NaNs and sentinels (a token inside a string would break the count).
_INF_SENTINEL = b"1.234e308"
_INF_VALUE = 1.234e308


def _bulk_records(raw: bytes) -> tuple[list[Any], tuple[int, int] | None] | None:
    """Every line parsed by one orjson call over the whole file (its newlines made commas), and
    the number of swapped NaN and infinite tokens (None if none were swapped); None when the
    file needs the line-by-line path (blank or damaged lines, a line over MAX_LINE_BYTES)."""
    if orjson is None:
        return None
    tokens = None
    text = raw
    if b"NaN" in raw or b"Infinity" in raw:
        if b"null" in raw or _INF_SENTINEL in raw:
            return None
        text = raw.replace(b": NaN", b": null")
        n_nan = len(text) - len(raw)
        if n_nan != raw.count(b"NaN"):
            return None
        swapped = text.replace(b"Infinity", _INF_SENTINEL)
        tokens = (n_nan, len(swapped) - len(text))
        text = swapped
    if len(raw) > MAX_LINE_BYTES:
        ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
        if np.diff(np.r_[-1, ends, len(raw)]).max() > MAX_LINE_BYTES:
            return None
    body = text[:-1] if text.endswith(b"\n") else text
    try:
        objs = orjson.loads(b"[" + body.replace(b"\n", b",") + b"]")
    except orjson.JSONDecodeError:
        return None
    return objs, tokens


def _fast_columns(records: list[tuple[int, dict[str, Any]]], raw: bytes) -> tuple[Any, ...] | None:
    """`_fast_dicts` of records parsed line by line."""
    return _fast_dicts([rec for _, rec in records], raw)


def _fast_dicts(
    objs: list[Any], raw: bytes, tokens: tuple[int, int] | None = None
) -> tuple[Any, ...] | None:
    """The common case in bulk: records grouped by their keys, each group one numpy array.

    Returns (steps, tags, values, epochs, has_epoch) with the same rows as the record-by-record
    path (each tag's rows in file order), or None when any record needs that path (a non-number,
    a bool, an `lr` dict, a step that is missing or out of range): correctness never depends on
    this shortcut. `tokens` (NaN, infinite) counts the bare tokens `_bulk_records` swapped.
    A file with a JSON `true`/`false` anywhere takes that path too (numpy would read a bool as a
    number); mmengine never writes one.
    """
    if b"true" in raw or b"false" in raw:
        return None
    if not all(type(o) is dict for o in objs):
        return None
    # All in C-level iteration: each record's key tuple, its group, its values.
    layouts = list(map(tuple, objs))
    index = {k: i for i, k in enumerate(dict.fromkeys(layouts))}
    ids = np.fromiter(map(index.__getitem__, layouts), dtype=np.int64, count=len(layouts))
    widths = np.fromiter(map(len, layouts), dtype=np.int64, count=len(layouts))
    flat = list(itertools.chain.from_iterable(map(dict.values, objs)))
    try:
        # With swapped tokens, null is NaN: float64 reads it so.
        values = np.array(flat) if tokens is None else np.array(flat, dtype="float64")
    except (ValueError, TypeError, OverflowError):  # strings, lists, dicts
        return None
    if values.dtype.kind not in "fi" or values.ndim != 1:
        return None
    values = values.astype("float64")
    if tokens is not None:
        sentinel = np.abs(values) == _INF_VALUE
        if int(np.isnan(values).sum()) != tokens[0] or int(sentinel.sum()) != tokens[1]:
            return None
        values[sentinel] *= np.inf
    first = np.r_[0, np.cumsum(widths)[:-1]]
    cols: list[tuple[Any, ...]] = []
    for keys, g in index.items():
        rows = np.flatnonzero(ids == g)
        group = _group_columns(keys, values[first[rows][:, None] + np.arange(len(keys))])
        if group is None:
            return None
        cols.append(group)
    return _concat(cols)


def _group_columns(keys: tuple[str, ...], arr: np.ndarray) -> tuple[Any, ...] | None:
    """One group's rows (records with the same keys, one row per record, float64) as
    (steps, tags, values, epochs), record-major; None when a step is missing or out of range."""
    key_at = {k: j for j, k in enumerate(keys)}
    step_col = key_at.get("step", key_at.get("iter"))
    if step_col is None:
        return None
    steps = arr[:, step_col]
    if not np.all(np.isfinite(steps)) or np.any(np.abs(steps) > _MAX_STEP):
        return None
    is_train = "lr" in key_at
    epochs = np.full(len(arr), np.nan)
    if is_train and "epoch" in key_at:
        epochs = arr[:, key_at["epoch"]]
    value_cols = [j for j, key in enumerate(keys) if key not in _INDEX_KEYS]
    names = [canonical_tag(keys[j]) if is_train else VAL_PREFIX + keys[j] for j in value_cols]
    width = len(value_cols)
    # Record-major within the group, as the record-by-record path emits them.
    return (
        np.repeat(steps, width),
        np.tile(np.array(names, dtype=object), len(arr)),
        arr[:, value_cols].ravel(),
        np.repeat(epochs, width),
    )


def _concat(cols: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Groups one after another (all train lines, then all validation lines, say): every tag's
    rows keep their file order, which is all that later stages rely on."""
    if not cols:
        return np.empty(0, "int64"), [], np.empty(0), np.empty(0), False
    steps = np.concatenate([c[0] for c in cols]).astype("int64")
    tags = np.concatenate([c[1] for c in cols])
    values = np.concatenate([c[2] for c in cols])
    epochs = np.concatenate([c[3] for c in cols])
    return steps, tags, values, epochs, bool(np.any(~np.isnan(epochs)))


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one mmengine JSON-lines file into tidy rows; bad lines are skipped and recorded."""
    raw = Path(path).read_bytes()
    if not raw.strip(b"\x00 \t\r\n"):
        empty = [Skipped(str(path), "whole file", "empty file")]
        return ReadResult(frame=build_frame([], [], [], session=session), skipped=empty)
    bulk = _bulk_records(raw)
    fast = None if bulk is None else _fast_dicts(bulk[0], raw, bulk[1])
    skipped: list[Skipped] = []
    if fast is None:
        records, skipped = _parse_lines(raw, Path(path))
        fast = _fast_columns(records, raw)
    if fast is not None:
        f_steps, f_tags, f_values, f_epochs, f_has_epoch = fast
        frame = build_frame(f_steps, f_tags, f_values, epochs=f_epochs, session=session)
        fast_meta = {"epoch_column": "current_1based"} if f_has_epoch else {}
        return ReadResult(frame=frame, skipped=skipped, meta=fast_meta)
    steps: list[int] = []
    tags: list[str] = []
    values: list[float] = []
    epochs: list[float] = []
    has_epoch = False
    for n, rec in records:
        step = rec.get("step", rec.get("iter"))
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
            skipped.append(Skipped(str(path), f"line {n}", "no numeric `step`"))
            continue
        if abs(step) > _MAX_STEP:
            skipped.append(Skipped(str(path), f"line {n}", f"`step` out of range ({step:.3g})"))
            continue
        step = int(step)
        is_train = "lr" in rec
        epoch = rec.get("epoch") if is_train else None
        ep = (
            float(epoch)
            if isinstance(epoch, (int, float)) and not isinstance(epoch, bool)
            else math.nan
        )
        has_epoch = has_epoch or not math.isnan(ep)
        bad_keys = []
        for key, value in rec.items():
            if key in _INDEX_KEYS:
                continue
            v = _as_float(value)
            if v is None:
                if isinstance(value, dict) and key == "lr":
                    # Several optimizers: the first is the model's LR, as frameworks log it.
                    numbers = 0
                    for i, (name, sub) in enumerate(value.items()):
                        sv = _as_float(sub)
                        if sv is not None:
                            steps.append(step)
                            tags.append("lr" if i == 0 else f"lr/{name}")
                            values.append(sv)
                            epochs.append(ep)
                            numbers += 1
                    if not numbers:
                        bad_keys.append(key)
                    continue
                bad_keys.append(key)
                continue
            name = canonical_tag(key) if is_train else VAL_PREFIX + key
            steps.append(step)
            tags.append(name)
            values.append(v)
            epochs.append(ep)
        if bad_keys and "lr" in bad_keys:
            skipped.append(Skipped(str(path), f"line {n}", "`lr` is not a number"))
    meta: dict[str, Any] = {"epoch_column": "current_1based"} if has_epoch else {}
    frame = build_frame(steps, tags, values, epochs=epochs, session=session)
    return ReadResult(frame=frame, skipped=skipped, meta=meta)

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
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
    return _grouped(list(index), ids, first, values)


def _grouped(
    layouts: list[tuple[str, ...]], group: np.ndarray, first: np.ndarray, values: np.ndarray
) -> tuple[Any, ...] | None:
    """`_concat` of the groups: record r has layout `layouts[group[r]]` and its values from
    `values[first[r]]` on. One stable sort finds every group's records (in file order), not
    one scan of all records per group (a file of ever-new keys would be quadratic)."""
    order = np.argsort(group, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=len(layouts)))]
    plans: list[_Plan] = []
    for g, keys in enumerate(layouts):
        plan = _group_plan(keys, values, first[order[bounds[g] : bounds[g + 1]]])
        if plan is None:
            return None
        plans.append(plan)
    return _concat(plans, values)


# A group: its records' first value in the flat values, steps, epochs, value columns, tags.
_Plan = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]


def _group_plan(keys: tuple[str, ...], values: np.ndarray, base: np.ndarray) -> _Plan | None:
    """One group of records with the same keys, record r's values at `values[base[r]:]` in key
    order: its steps, epochs, value columns and their tags; None when a step is missing or out
    of range."""
    key_at = {k: j for j, k in enumerate(keys)}
    step_col = key_at.get("step", key_at.get("iter"))
    if step_col is None:
        return None
    steps = values[base + step_col]
    if not np.all(np.isfinite(steps)) or np.any(np.abs(steps) > _MAX_STEP):
        return None
    is_train = "lr" in key_at
    epochs = np.full(len(steps), np.nan)
    if is_train and "epoch" in key_at:
        epochs = values[base + key_at["epoch"]]
    value_cols = [j for j, key in enumerate(keys) if key not in _INDEX_KEYS]
    names = [canonical_tag(keys[j]) if is_train else VAL_PREFIX + keys[j] for j in value_cols]
    return base, steps, epochs, np.array(value_cols, dtype=np.int64), names


def _concat(plans: list[_Plan], values: np.ndarray) -> tuple[Any, ...]:
    """(steps, tags, values, epochs, has_epoch) of the groups one after another (all train
    lines, then all validation lines, say), record-major within a group as the record-by-record
    path emits them: every tag's rows keep their file order, which is all that later stages rely
    on. Each column is written once, in place; the tags are the categorical `build_frame` would
    make of them (sorted categories), from each group's tag numbers rather than a string a row."""
    names_seen = np.asarray(list({name for *_, names in plans for name in names}), dtype=object)
    categories = pd.Categorical(names_seen).categories  # as build_frame orders and types them
    number = {name: i for i, name in enumerate(categories)}
    total = sum(len(base) * len(cols) for base, _, _, cols, _ in plans)
    out_steps = np.empty(total, dtype=np.int64)
    out_codes = np.empty(total, dtype=np.int64)
    out_values = np.empty(total, dtype=np.float64)
    out_epochs = np.empty(total, dtype=np.float64)
    at = 0
    for base, steps, epochs, cols, names in plans:
        rows = slice(at, at + len(base) * len(cols))
        out_steps[rows] = np.repeat(steps.astype(np.int64), len(cols))
        out_epochs[rows] = np.repeat(epochs, len(cols))
        out_codes[rows] = np.tile(np.array([number[name] for name in names]), len(base))
        np.take(values, (base[:, None] + cols).ravel(), out=out_values[rows])
        at = rows.stop
    has_epoch = any(np.any(~np.isnan(epochs)) for _, _, epochs, cols, _ in plans if len(cols))
    tags = pd.Categorical.from_codes(out_codes, categories=categories)
    return out_steps, tags, out_values, out_epochs, bool(has_epoch)


# The vectorised reader (issue 15): a file of mmengine records is read without a Python object
# per record or key. Every structural byte (`:`, `,`, `}`) is located with numpy; the bytes from
# each `:` to the next `,`/`}` are a value, everything else is the records' skeletons (keys and
# punctuation, one per line). The values are parsed by orjson as one JSON array, each distinct
# skeleton is checked against the grammar below once. Anything it cannot prove (an escape, a
# string value, a key holding `:` or `,`, a record over two lines...) returns None and the dict
# paths above read the file, so the result never depends on this shortcut.
_COLON, _COMMA, _CLOSE = 58, 44, 125
_ONES = np.uint64(0x0101_0101_0101_0101)
# One record's skeleton: the values cut out, keys that need no escape, JSON whitespace.
_KEY = r'[ \t\r]*"[^"\\\x00-\x1f]*"[ \t\r]*'
_SKELETON = re.compile(r"[ \t\r]*\{" + _KEY + r"(?:," + _KEY + r")*\}[ \t\r]*")
# The bare tokens mmengine writes, each swapped for a number of the same length (`0` and
# spaces) and set back by position after parsing.
_TOKENS = ((b"NaN", math.nan), (b"Infinity", math.inf), (b"-Infinity", -math.inf))
# The file is read in pieces of whole lines of at most this size: the temporary arrays stay in
# the CPU cache and in memory the allocator reuses (a fresh 37 MB array costs more in page faults
# than the arithmetic on it). No larger than MAX_LINE_BYTES, so no line too long fits in one.
_CHUNK = MAX_LINE_BYTES


def _running_parity(flags: np.ndarray) -> np.ndarray:
    """In place: each 0/1 byte becomes the parity of the flags up to and including it.

    Eight bytes at a time: multiplying a word of 0/1 bytes by 0x0101..01 leaves in byte i the
    count of flags in bytes 0..i (at most 8, so no carry between bytes), whose low bit is the
    parity within the word; the parity of all earlier words (the same computation, one level
    up) is xor-ed in. A few passes over the bytes, against one numpy step per byte for
    `bitwise_xor.accumulate`.
    """
    n = len(flags)
    if n < 4096:
        return np.bitwise_xor.accumulate(flags, out=flags)
    n8 = n - n % 8
    words = flags[:n8].view(np.uint64)
    words *= _ONES
    before = _running_parity(flags[7:n8:8] & 1)  # the top byte of a word counts its flags
    words &= _ONES
    words[1:] ^= before[:-1].astype(np.uint64) * _ONES
    if n8 < n:
        flags[n8:] = np.bitwise_xor.accumulate(flags[n8:]) ^ before[-1]
    return flags


def _split_truncated_tail(raw: bytes, path: Path) -> tuple[bytes, list[Skipped]] | None:
    """The file without a truncated last line (mmengine killed mid-write) and its skip, as the
    line-by-line path reports it; None when that last line is something else to judge."""
    cut = max(len(raw) - 4096, 0)  # strip the end, not a copy of the whole file
    end = cut + len(raw[cut:].rstrip())
    if end == cut:
        end = len(raw.rstrip())
    if raw.endswith(b"}", 0, end):
        return raw, []
    start = raw.rfind(b"\n", 0, end) + 1
    stop = raw.find(b"\n", end)
    line = raw[start : len(raw) if stop < 0 else stop]
    if len(line) > MAX_LINE_BYTES or _CONFLICT_MARKER.match(line):
        return None
    if b"true" in line or b"false" in line:  # `_fast_dicts` declines such a file
        return None
    try:
        json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        number = raw.count(b"\n", 0, start) + 1
        return raw[:start], [Skipped(str(path), f"line {number}", "truncated last line")]
    return None


def _vector_columns(raw: bytes, path: Path) -> tuple[tuple[Any, ...], list[Skipped]] | None:
    """`_fast_dicts`'s columns (and the skipped truncated last line) read without building a
    dict per record; None whenever the file is not plainly mmengine's records of numbers."""
    if orjson is None or b"\\" in raw:
        return None
    split = _split_truncated_tail(raw, path)
    if split is None:
        return None
    body, skipped = split
    index: dict[bytes, int] = {}  # each distinct skeleton, in order of appearance
    ids: list[np.ndarray] = []
    values: list[bytes | bytearray] = []
    start = 0
    while start < len(body):
        end = len(body)
        if end - start > _CHUNK:
            end = body.rfind(b"\n", start, start + _CHUNK) + 1
            if end <= start:  # a line of MAX_LINE_BYTES or more: the dict paths judge it
                return None
        piece = _chunk_values(np.frombuffer(body, np.uint8, end - start, start), index)
        if piece is None:
            return None
        values.append(piece[0])
        ids.append(piece[1])
        start = end
    if not values:
        return None
    numbers = np.frombuffer(b"".join(values), dtype=np.float64)
    columns = _skeleton_columns(list(index), np.concatenate(ids), numbers)
    return None if columns is None else (columns, skipped)


def _chunk_values(
    arr: np.ndarray, index: dict[bytes, int]
) -> tuple[bytes | bytearray, np.ndarray] | None:
    """Whole lines' values in file order (packed float64) and each line's skeleton as its number
    in `index` (which it extends); None when the lines are not plainly records of numbers."""
    marks = arr == _COLON
    colons = int(np.count_nonzero(marks))
    scratch = np.equal(arr, _COMMA)
    marks |= scratch
    marks |= np.equal(arr, _CLOSE, out=scratch)
    if not colons or np.count_nonzero(marks) != 2 * colons:
        return None
    near_end = np.flatnonzero(marks[-256:])
    last = len(arr) - min(len(arr), 256) + near_end[-1] if len(near_end) else marks.nonzero()[0][-1]
    if arr[last] != _CLOSE:  # the piece's last mark closes its last record
        return None
    # Each value with its leading mark, up to the next mark: the marks' running parity.
    inside = _running_parity(marks.view(np.uint8)).view(bool)
    ids = _skeleton_ids(arr[np.logical_not(inside, out=scratch)], index)
    inside[last] = True
    text = arr[inside]  # `:v1,:v2}...:vn}`, the separators but the last cut out
    size = len(text) - 1
    starts = np.flatnonzero(np.equal(text, _COLON, out=scratch[: len(text)]))
    # Each value starts at a mark, and as many at a colon as there are colons: every value
    # follows a key's colon, every skeleton holds only `,` and `}` (no key holds a mark).
    if len(starts) != colons:
        return None
    text[starts] = _COMMA
    text[0], text[-1] = ord("["), ord("]")
    if np.any(np.equal(text, 10, out=scratch[: len(text)])):  # a record over two lines
        return None
    # Each value starts with a number or one of mmengine's bare tokens (not a string, a list,
    # true, false or null, which orjson would read as something else than a number).
    first = starts + 1
    lead = text[first]
    if np.all(lead == 32):  # mmengine writes one space
        first += 1
        lead = text[first]
    number = lead - 48 <= 9
    for _ in range(8):  # past any other JSON whitespace
        if number.all():
            break
        space = (lead == 32) | (lead == 9) | (lead == 13)
        if not space.any():
            break
        first += space
        lead = text[first]
        number = lead - 48 <= 9
    minus = np.flatnonzero(lead == 45)
    number[minus] = text.take(first[minus] + 1, mode="clip") != ord("I")
    patched: list[tuple[np.ndarray, float]] = []
    if not number.all():
        odd = np.flatnonzero(~number)
        for token, value in _TOKENS:
            at_token = odd[lead[odd] == token[0]]
            if token[0] == 45:
                at_token = at_token[text.take(first[at_token] + 1, mode="clip") == token[1]]
            pos = first[at_token]
            for k, byte in enumerate(token):
                if not np.all(text.take(pos + k, mode="clip") == byte):
                    return None
                text[pos + k] = 48 if k == 0 else 32
            patched.append((at_token, value))
        if sum(len(i) for i, _ in patched) != len(odd):
            return None
    try:
        parsed = orjson.loads(text.data)
    except orjson.JSONDecodeError:
        return None
    if len(parsed) != colons:
        return None
    try:
        packed: bytes | bytearray = struct.pack(f"{colons}d", *parsed)  # faster than numpy's
    except (struct.error, OverflowError):  # not a number after all: never seen, never trusted
        return None
    for i in np.flatnonzero(np.abs(np.frombuffer(packed, np.float64)) >= 2.0**63):
        # An integer past int64: the dict paths keep Python's int for it.
        end = starts[i + 1] if i + 1 < len(starts) else size
        if not any(c in text[starts[i] + 1 : end].tobytes() for c in b".eE"):
            return None
    if patched:
        packed = bytearray(packed)
        values = np.frombuffer(packed, dtype=np.float64)
        for rows, value in patched:
            values[rows] = value
    return packed, ids


def _skeleton_ids(skeletons: np.ndarray, index: dict[bytes, int]) -> np.ndarray:
    """Each line's number in `index` (extended with new skeletons), from the lines' skeletons
    one after another, each followed by a newline (but the last).

    Runs of lines of the same length are compared with the line before them in one numpy
    comparison, so only a line that differs from the one before is looked up: mmengine repeats
    one skeleton for every training iteration.
    """
    ends = np.flatnonzero(skeletons == 10)
    begins = np.r_[0, ends + 1]
    lengths = np.r_[ends, len(skeletons)] - begins
    runs = np.flatnonzero(np.r_[True, lengths[1:] != lengths[:-1]])
    if len(runs) > 64 + len(lengths) // 16:  # lines of ever-changing shapes: each looked up
        lines = skeletons.tobytes().split(b"\n")
        for line in dict.fromkeys(lines):
            index.setdefault(line, len(index))
        return np.fromiter(map(index.__getitem__, lines), np.int64, len(lines))
    new = np.zeros(len(lengths), dtype=bool)
    new[runs] = True
    for a, b in zip(runs, np.r_[runs[1:], len(lengths)], strict=True):
        if b - a > 1:
            step = int(lengths[a]) + 1
            span = skeletons[begins[a] : begins[a] + (b - a) * step - 1]
            new[a + 1 + np.flatnonzero(span[step:] != span[:-step]) // step] = True
    heads = np.flatnonzero(new)
    numbers = np.array(
        [
            index.setdefault(skeletons[begins[i] : begins[i] + lengths[i]].tobytes(), len(index))
            for i in heads
        ],
        dtype=np.int64,
    )
    return numbers[np.cumsum(new) - 1]


def _skeleton_columns(
    skeletons: list[bytes], ids: np.ndarray, values: np.ndarray
) -> tuple[Any, ...] | None:
    """The columns of `_fast_dicts` from the distinct skeletons, each line's skeleton (`ids`)
    and the values in file order."""
    layouts: dict[tuple[str, ...], int] = {}
    layout_of = np.full(len(skeletons), -1, dtype=np.int64)
    widths = np.zeros(len(skeletons), dtype=np.int64)
    for i, skeleton in enumerate(skeletons):
        if not skeleton.strip():
            continue  # a blank line, skipped as the line-by-line path skips it
        try:
            line = skeleton.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not _SKELETON.fullmatch(line):
            return None
        keys = tuple(line.split('"')[1::2])
        # Duplicate keys, or a JSON true/false the dict paths take as the sign of another writer.
        if len(set(keys)) != len(keys) or "true" in line or "false" in line:
            return None
        widths[i] = len(keys)
        layout_of[i] = layouts.setdefault(keys, len(layouts))
    per_line = widths[ids]
    if int(per_line.sum()) != len(values):
        return None
    records = per_line > 0
    width = per_line[records]
    first = np.cumsum(width) - width
    return _grouped(list(layouts), layout_of[ids[records]], first, values)


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one mmengine JSON-lines file into tidy rows; bad lines are skipped and recorded."""
    raw = Path(path).read_bytes()
    if not raw[:4096].strip(b"\x00 \t\r\n") and not raw.strip(b"\x00 \t\r\n"):
        empty = [Skipped(str(path), "whole file", "empty file")]
        return ReadResult(frame=build_frame([], [], [], session=session), skipped=empty)
    skipped: list[Skipped] = []
    fast: tuple[Any, ...] | None
    vector = _vector_columns(raw, Path(path))
    if vector is not None:
        fast, skipped = vector
    else:
        bulk = _bulk_records(raw)
        fast = None if bulk is None else _fast_dicts(bulk[0], raw, bulk[1])
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

"""Readers for mmcv 1.x logs: the `<ts>.log.json` scalar log and the `<ts>.log` text log.

The JSON's first line(s) are metadata (`env_info`, the config as text, `seed`, `*_version`); then
one object per logged iteration: `{"mode": "train", "epoch": e, "iter": i, "lr": ...}` with `iter`
counted within the epoch (EpochBasedRunner) or globally (IterBasedRunner: told apart because it
never falls back when the epoch changes). Global step = `(e-1) * epoch_length + i` and `epoch` =
`(e-1) + i/epoch_length` (epochs completed). The JSON does not state the epoch length: it comes
from the caller (the text log's `Epoch [e][i/N]`, which `read` finds next to the JSON), else it is
estimated as the largest `iter` logged within an epoch plus half the logging interval (the true
length lies in `[max, max + interval)`; an `iter` that is not a multiple of the interval was logged
at the end of an epoch and is exact), with `meta["epoch_length_estimated"] = True` and the bounds in
`meta["epoch_length_bounds"]`; from epoch 1 alone nothing is estimated (step = `iter` there in any
case). A dict `lr` (one per optimizer) gives `lr` for the first optimizer and `lr/<name>` for the
others. Validation records go to `val/<key>` at the step that ends their epoch (`e *
epoch_length`; the bare epoch `e` with `meta["val_step_is_epoch"]` when no length is known, e.g. a
log with validation lines only); their `lr` is left out. mmcv rounds JSON floats to 5 decimals:
`meta["precision_abs"] = 1e-5`. The text log prints lr as `%.3e` (`meta["precision"]`, relative)
and other values with 3-4 decimals (`meta["precision_abs"]`).
"""

from __future__ import annotations

import json
import math
import re
from functools import reduce
from pathlib import Path
from typing import Any

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import ReadResult, build_frame
from logan.readers.mmengine_text import (
    LOG_PREFIX,
    MAX_STEP,
    PairScanner,
    TextLogParser,
    parse,
    read_text_lines,
)
from logan.tags import canonical_tag

# mmcv's `TextLoggerHook` rounds every float it writes to the JSON to this many decimals.
JSON_DECIMALS = 5
# Keys that index a record rather than being scalars of their own.
_INDEX_KEYS = frozenset({"mode", "epoch", "iter"})
_MMCV_VERSION = re.compile(r"^MMCV: (\S+)", re.MULTILINE)

# `Epoch [1][100/782]`, `Epoch(val) [1][157]`, `Iter [100/10000]`, `Iter(val) [157]`.
_TEXT_HEADER = re.compile(
    LOG_PREFIX + r"?(?P<kind>Epoch|Iter)(?:\((?P<mode>\w+)\))?\s*"
    r"\[\s*(?P<a>\d+)(?:\s*/\s*(?P<an>\d+))?\s*\]"
    r"(?:\s*\[\s*(?P<b>\d+)(?:\s*/\s*(?P<bn>\d+))?\s*\])?"
)
# `lr: 1.000e-01, eta: 0:09:26, time: 0.073`; one lr per optimizer: `lr_G: 2.0e-04 lr_D: 2.0e-04`.
_TEXT_PAIRS = PairScanner(r"[^\s:,]", r"[^\s,]+")
_WORKFLOW_MAX = re.compile(r"workflow: .*max: (\d+) (epochs|iters)")
_TEXT_VERSION = re.compile(r"^MMCV: (\S+)")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _scalars(record: dict[str, Any], prefix: str) -> list[tuple[str, float]]:
    """The record's numbers as (tag, value); a dict (per optimizer) gives `key`, `key/<name>`."""
    out: list[tuple[str, float]] = []
    for key, value in record.items():
        if key in _INDEX_KEYS:
            continue
        if isinstance(value, dict):
            for n, (name, sub) in enumerate(value.items()):
                v = _number(sub)
                if v is not None:
                    tag = key if n == 0 else f"{key}/{name}"
                    out.append((canonical_tag(prefix + tag) if prefix else canonical_tag(tag), v))
            continue
        v = _number(value)
        if v is not None:
            out.append((canonical_tag(prefix + key) if prefix else canonical_tag(key), v))
    return out


def _metadata(record: dict[str, Any], meta: dict[str, Any]) -> None:
    """Facts from a metadata line: config text, versions, seed, experiment name."""
    config = record.get("config")
    if isinstance(config, str) and "config_text" not in meta:
        meta["config_text"] = config
    version = record.get("mmcv_version")
    if not isinstance(version, str):
        env = record.get("env_info")
        m = _MMCV_VERSION.search(env) if isinstance(env, str) else None
        version = m.group(1) if m else None
    if version and "mmcv_version" not in meta:
        meta["mmcv_version"] = version
    versions = {
        k[: -len("_version")]: v
        for k, v in record.items()
        if k.endswith("_version") and isinstance(v, str)
    }
    if versions:
        meta.setdefault("versions", {}).update(versions)
    for key in ("seed", "exp_name"):
        if key in record and key not in meta and not isinstance(record[key], (dict, list)):
            meta[key] = record[key]


def _estimate_epoch_length(iters_by_epoch: dict[int, int], all_iters: list[int]) -> tuple[int, int]:
    """(estimate, upper bound) of the epoch length from the iterations logged within epochs."""
    largest = max(iters_by_epoch.values())
    interval = reduce(math.gcd, all_iters)
    if interval <= 1 or any(i % interval for i in iters_by_epoch.values()):
        return largest, largest  # logged at the last iteration of an epoch: exact
    return largest + interval // 2, largest + interval - 1


def read_json(path: Path, session: int = 0, epoch_length: int | None = None) -> ReadResult:
    """Read one mmcv 1.x `*.log.json`; never raises on bad content (bad lines are recorded)."""
    path = Path(path)
    lines, terminated, skipped = read_text_lines(path)
    meta: dict[str, Any] = {}
    train: list[tuple[int, int, list[tuple[str, float]]]] = []
    # Validation records keep their place among train records (iteration-based runs).
    val: list[tuple[int, int, list[tuple[str, float]]]] = []
    last = len(lines) - 1
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        where = f"line {index + 1}"
        try:
            record = json.loads(line)
        except ValueError:
            cut = index == last and not terminated
            reason = "truncated last line" if cut else "not valid JSON"
            skipped.append(Skipped(str(path), where, reason))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(str(path), where, "not a JSON object"))
            continue
        mode = record.get("mode")
        if mode is None:
            _metadata(record, meta)
            continue
        epoch, it = record.get("epoch"), record.get("iter")
        if not isinstance(epoch, int) or not isinstance(it, int) or isinstance(epoch, bool):
            skipped.append(Skipped(str(path), where, "record without integer epoch/iter"))
            continue
        if not (0 <= epoch <= MAX_STEP and 0 <= it <= MAX_STEP):
            skipped.append(Skipped(str(path), where, "epoch/iter out of range"))
            continue
        if mode == "train":
            train.append((epoch, it, _scalars(record, "")))
        else:
            record = {k: v for k, v in record.items() if k != "lr"}
            val.append((epoch, len(train), _scalars(record, VAL_PREFIX)))

    # IterBasedRunner logs the global iteration: it never falls back when the epoch changes.
    # With one epoch only, the two cannot be told apart, but the step is `iter` either way.
    seen = {e for e, _, _ in train}
    global_iters = len(seen) > 1 and all(
        b[1] > a[1] for a, b in zip(train, train[1:], strict=False)
    )
    meta["precision_abs"] = 10.0**-JSON_DECIMALS
    length: int | None = None
    if not global_iters and epoch_length:
        length = int(epoch_length)
    elif not global_iters and len(seen) > 1:
        per_epoch: dict[int, int] = {}
        for e, i, _ in train:
            per_epoch[e] = max(per_epoch.get(e, 0), i)
        length, upper = _estimate_epoch_length(per_epoch, [i for _, i, _ in train])
        meta["epoch_length_estimated"] = True
        meta["epoch_length_bounds"] = [max(per_epoch.values()), upper]
    if length:
        meta["epoch_length"] = length
    if global_iters or length:
        meta["by_epoch"] = not global_iters

    steps: list[int] = []
    epochs: list[float] = []
    tags: list[str] = []
    values: list[float] = []

    def add(step: int, epoch: float, scalars: list[tuple[str, float]]) -> None:
        if not 0 <= step <= MAX_STEP:
            skipped.append(Skipped(str(path), "file", f"a record at step {step} (out of range)"))
            return
        for tag, value in scalars:
            steps.append(step)
            epochs.append(epoch)
            tags.append(tag)
            values.append(value)

    unplaced = 0
    for e, i, scalars in train:
        if global_iters:
            add(i, math.nan, scalars)
        elif length:
            add((e - 1) * length + i, (e - 1) + i / length, scalars)
        elif e == 1:
            add(i, math.nan, scalars)
        else:
            unplaced += 1
    if unplaced:
        reason = f"{unplaced} train records after epoch 1 and no epoch length to place them"
        skipped.append(Skipped(str(path), "file", reason))
    for e, n_train, scalars in val:
        if global_iters:
            add(train[n_train - 1][1] if n_train else 0, math.nan, scalars)
        elif length:
            add(e * length, float(e), scalars)
        else:
            meta["val_step_is_epoch"] = True
            add(e, float(e), scalars)
    frame = build_frame(steps, tags, values, epochs=epochs, session=session)
    return ReadResult(frame=frame, skipped=skipped, meta=meta)


class _MmcvTextParser(TextLogParser):
    """mmcv 1.x text lines: `Epoch [e][i/N]\\tlr: 1.000e-01, eta: ..., loss: 0.7163`."""

    HEADER = _TEXT_HEADER
    PAIRS = _TEXT_PAIRS
    VALUE = r"[^\s,]+"

    def is_candidate(self, line: str) -> bool:
        return "Epoch" in line or "Iter" in line

    def other(self, line: str) -> None:
        super().other(line)
        if line.startswith("MMCV: ") and "mmcv_version" not in self.meta:
            m = _TEXT_VERSION.match(line)
            if m:
                self.meta["mmcv_version"] = m.group(1)
        elif "workflow: " in line:
            m = _WORKFLOW_MAX.search(line)
            if m:
                key = "max_epochs" if m.group(2) == "epochs" else "max_iters"
                self.meta[key] = int(m.group(1))

    def val(self, m: re.Match[str], kind: str, body: str) -> None:
        if kind == "Epoch":
            e = int(m.group("a"))
            if self.epoch_length is not None:
                step, epoch = e * self.epoch_length, float(e)
            else:
                step, epoch = e, float(e)
                self.meta["val_step_is_epoch"] = True
        else:
            step, epoch = (self.last_train_step or 0), math.nan
        self.add(step, epoch, VAL_PREFIX, body, drop=("lr",))

    def layout_tags(
        self, prefix: str, keys: tuple[str, ...], numeric: tuple[int, ...]
    ) -> tuple[str, ...]:
        """`lr_<name>` items (one per optimizer): the first is `lr`, the others `lr/<name>`."""
        per_optimizer = "lr" not in keys and any(k.startswith("lr_") for k in keys)
        tags: list[str] = []
        first = True
        for n in numeric:
            key = keys[n]
            if per_optimizer and key.startswith("lr_"):
                key = "lr" if first else f"lr/{key[3:]}"
                first = False
            tags.append(canonical_tag(prefix + key))
        return tuple(tags)


def read_text(path: Path, session: int = 0) -> ReadResult:
    """Read one mmcv 1.x text log (`<ts>.log`); never raises on bad content."""
    result = parse(_MmcvTextParser(Path(path)), session)
    result.meta.pop("mmengine_version", None)
    return result


def epoch_length_from_text(path: Path) -> int | None:
    """The `N` of the first `Epoch [e][i/N]` line of a text log, without reading all of it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if "Epoch [" in line:
                    m = _TEXT_HEADER.match(line)
                    if m and m.group("bn") and not m.group("mode"):
                        return int(m.group("bn"))
    except OSError:
        return None
    return None


def read(path: Path, session: int = 0) -> ReadResult:
    """Dispatch on the suffix; a JSON log takes its epoch length from the text log beside it."""
    path = Path(path)
    if path.name.endswith(".json"):
        text = path.with_name(path.name[: -len(".json")])
        length = epoch_length_from_text(text) if text.is_file() else None
        return read_json(path, session=session, epoch_length=length)
    return read_text(path, session=session)

"""LLaMA-Factory's `trainer_log.jsonl`: one JSON object per logging event, appended by its callback.

Each row holds `current_steps` (HF's optimizer step, from 1), `total_steps` (max_steps), the
fractional `epoch` (epochs completed, HF's convention), `elapsed_time` / `remaining_time` as
`[D day(s), ]H:MM:SS` and, when logged, `loss` and `lr` (2023 versions: `learning_rate`, with
`reward`, `predict_loss` and `eval_loss` written as null when absent). Evaluation rows carry
`eval_*` keys at the same `current_steps` as the training row before them; they become `val/<name>`
as in the HF reader. Rows with neither (progress rows of `predict`, the closing row of `train()`)
give no scalar; a file of only such rows is a predict-only output (`meta["stage"] == "predict"`).

Rows stay in file order: a file whose step counter restarts holds several sessions, and
`meta["segments"]` says where each begins. Two cases look alike and are told apart by the clock:
`elapsed_time` counts from the start of the writing process, so a new process (a restart or a
continuation appended to the file) resets it, while two processes of one launch that both write
(a multi-task `srun`, two "rank 0"s) keep clocks that agree up to their start delay. So a row
whose step does not advance is a *restart* when its `elapsed_time` falls back by more than
`_CLOCK_SKEW_S`, else a *second writer* of the same training. Of the second writer's rows only
the first row of each step is kept (the earlier one in the file); the others are counted in
`meta["second_writer_rows"]`, not summed or averaged, so each logged step is counted once with a
value some process really logged. Exact copies of the previous row are dropped the same way
(`meta["duplicate_rows"]`). Without `elapsed_time` a step that does not advance is a restart.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import ReadResult, build_frame
from logan.tags import canonical_tag

# Keys that index or time a row rather than being scalars of their own.
_INDEX_KEYS = frozenset(
    {"current_steps", "total_steps", "epoch", "percentage", "elapsed_time", "remaining_time"}
)
# Progress counters and peak memory (`RECORD_VRAM`), not curves.
_PROGRESS_KEYS = frozenset({"throughput", "total_tokens", "vram_allocated", "vram_reserved"})
# Training metrics LLaMA-Factory writes: a value here that is not a number is damage.
_TRAIN_KEYS = frozenset({"loss", "lr", "learning_rate", "reward", "accuracy", "grad_norm"})
# Metrics of evaluate() and predict(), kept apart from the training curves.
_EVAL_PREFIX, _PREDICT_PREFIX = "eval_", "predict_"
# Two writers launched together differ by their start delay (up to 19 s in the rameyjm7 log,
# whose writers ran for 22 hours); a new process restarts its clock at 0. Two minutes tells a
# lagging writer from a restart unless the earlier process ran for less than that.
_CLOCK_SKEW_S = 120.0
# Steps at or past this size are damage: they would not fit the int64 step column.
_STEP_LIMIT = 2**62
# `[D day(s), ]H:MM:SS`, as `str(datetime.timedelta)` prints it.
_ELAPSED = re.compile(r"^\s*(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*$")
_CONFLICT = (b"<<<<<<< ", b"=======", b">>>>>>> ")
# A whole epoch this close to the ratio total_steps / epoch_length counts as the epoch budget.
_EPOCH_TOL = 0.05


@dataclass(frozen=True)
class Segment:
    """One writing process's rows: frame rows `[start, stop)`, its steps and its clock."""

    start: int
    stop: int
    first_step: int
    last_step: int
    total_steps: int | None
    elapsed_s: float | None  # the last elapsed_time of the segment


def is_trainer_log(first_bytes: bytes) -> bool:
    """True when the first non-empty line is a LLaMA-Factory row (`current_steps`, `total_steps`).

    Works on a cut-off first line: only the keys at its start are needed.
    """
    for raw in first_bytes.lstrip(b"\xef\xbb\xbf").splitlines():
        line = raw.strip()
        if not line:
            continue
        return line.startswith(b"{") and b'"current_steps"' in line and b'"total_steps"' in line
    return False


def parse_elapsed(text: Any) -> float | None:
    """`"1 day, 0:08:23"` -> seconds; None for anything else."""
    if not isinstance(text, str):
        return None
    m = _ELAPSED.match(text)
    if not m:
        return None
    days, h, mnt, s = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mnt) * 60 + float(s)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _total_steps(row: dict[str, Any]) -> int | None:
    total = _num(row.get("total_steps"))
    return (
        int(total)
        if total is not None and math.isfinite(total) and 0 < total < _STEP_LIMIT
        else None
    )


def _tag(key: str) -> str | None:
    """The canonical tag of a row key; None for index and progress keys."""
    if key in _INDEX_KEYS or key in _PROGRESS_KEYS:
        return None
    if key.startswith(_EVAL_PREFIX):
        return VAL_PREFIX + key[len(_EVAL_PREFIX) :]
    if key.startswith(_PREDICT_PREFIX):
        return VAL_PREFIX + key
    return canonical_tag(key)


def _lines(raw: bytes, spath: str, skipped: list[Skipped]) -> list[tuple[int, bytes]]:
    """(line number, bytes) of the lines to parse: CR stripped, git conflicts resolved to HEAD.

    Between `=======` and `>>>>>>>` lies the other side of a merge; reading both would count
    every shared row twice, so only the HEAD side is read and the other listed as skipped.
    """
    out: list[tuple[int, bytes]] = []
    theirs_from = 0
    for n, line in enumerate(raw.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if line.startswith(_CONFLICT[0]):
            continue
        if line.startswith(_CONFLICT[1]) and line.strip() == b"=======":
            theirs_from = n
            continue
        if line.startswith(_CONFLICT[2]):
            if theirs_from:
                where = f"lines {theirs_from + 1}-{n - 1}"
                skipped.append(Skipped(spath, where, "other side of a git conflict left out"))
            theirs_from = 0
            continue
        if theirs_from or not line.strip():
            continue
        out.append((n, line))
    return out


def _parse_row(
    n: int, line: bytes, last: bool, spath: str, skipped: list[Skipped]
) -> dict[str, Any] | None:
    """One row as a dict with a usable `current_steps`; damage is recorded and gives None."""
    text = line.decode("utf-8", errors="replace")
    try:
        row = json.loads(text)
    except (ValueError, RecursionError):
        reason = "damaged: truncated last line" if last else "damaged: not a JSON row"
        skipped.append(Skipped(spath, f"line {n}", reason))
        return None
    if not isinstance(row, dict):
        skipped.append(Skipped(spath, f"line {n}", "damaged: not a JSON object"))
        return None
    step = _num(row.get("current_steps"))
    if step is None or not math.isfinite(step) or abs(step) >= _STEP_LIMIT:
        skipped.append(Skipped(spath, f"line {n}", "damaged: no numeric `current_steps`"))
        return None
    return row


@dataclass
class _Open:
    """The segment being read: where it began, the last step per row kind, its clock."""

    start: int
    first_step: int
    last_step: int
    last_by_kind: dict[str, int] = field(default_factory=dict)
    total_steps: int | None = None
    clock: float | None = None  # the largest elapsed_time so far

    def classify(self, kind: str, step: int, elapsed: float | None) -> str:
        """Whether a row "continues" this segment, is a "restart" or a second writer's "repeat"."""
        clock = self.clock
        clock_fell = elapsed is not None and clock is not None and elapsed < clock - _CLOCK_SKEW_S
        last = self.last_by_kind.get(kind)
        if last is None or step > last:
            # Steps on; a reset clock still means a new process.
            return "restart" if clock_fell else "continues"
        if elapsed is None or clock is None:
            return "restart"  # without a clock a step that does not advance is a restart
        return "restart" if clock_fell else "repeat"

    def close(self, stop: int) -> Segment:
        return Segment(
            self.start, stop, self.first_step, self.last_step, self.total_steps, self.clock
        )


@dataclass
class _Scan:
    """The reader's running state: kept scalars, segments, and what was dropped."""

    steps: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    open: _Open | None = None
    duplicate_rows: int = 0
    second_writer_rows: int = 0
    progress_rows: int = 0
    train_rows: int = 0
    eval_rows: int = 0
    progress: tuple[int, int | None] | None = (
        None  # (current_steps, total_steps) of the last such row
    )

    def close(self) -> None:
        if self.open is not None:
            self.segments.append(self.open.close(len(self.steps)))
        self.open = None


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one `trainer_log.jsonl` into tidy rows in file order; damaged lines are skipped."""
    path = Path(path)
    spath = str(path)
    raw = path.read_bytes()
    skipped: list[Skipped] = []
    if not raw.strip():
        skipped.append(Skipped(spath, "whole file", "empty file"))
        return ReadResult(build_frame([], [], [], session=session), skipped, {"stage": "empty"})
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        skipped.append(Skipped(spath, "whole file", "damaged: bytes that are not UTF-8 replaced"))
    lines = _lines(raw, spath, skipped)
    cut_last = not raw.endswith(b"\n")
    scan = _Scan()
    previous: dict[str, Any] | None = None
    for i, (n, line) in enumerate(lines):
        row = _parse_row(n, line, cut_last and i == len(lines) - 1, spath, skipped)
        if row is None:
            continue
        if row == previous:
            scan.duplicate_rows += 1
            continue
        previous = row
        scalars = _scalars(row, n, spath, skipped)
        if scalars:
            _take_row(row, scalars, scan)
        else:
            scan.progress_rows += 1
            scan.progress = (int(row["current_steps"]), _total_steps(row))
    scan.close()
    meta = _meta(scan)
    frame = build_frame(scan.steps, scan.tags, scan.values, epochs=scan.epochs, session=session)
    return ReadResult(frame=frame, skipped=skipped, meta=meta)


def _scalars(
    row: dict[str, Any], n: int, spath: str, skipped: list[Skipped]
) -> list[tuple[str, float]]:
    """(tag, value) of a row's metrics; a metric that is not a number is listed as damage."""
    scalars: list[tuple[str, float]] = []
    bad: list[str] = []
    for key, value in row.items():
        tag = _tag(key)
        if tag is None or value is None:  # 2023 rows write absent metrics as null
            continue
        v = _num(value)
        if v is None:
            if key in _TRAIN_KEYS or tag.startswith(VAL_PREFIX):
                bad.append(key)
            continue
        scalars.append((tag, v))
    if bad:
        skipped.append(Skipped(spath, f"line {n}", f"damaged: not a number in {', '.join(bad)}"))
    return scalars


def _take_row(row: dict[str, Any], scalars: list[tuple[str, float]], scan: _Scan) -> None:
    """Add one row's scalars unless it repeats a step of the current segment (second writer)."""
    kind = "train" if any(not t.startswith(VAL_PREFIX) for t, _ in scalars) else "eval"
    step = int(row["current_steps"])
    elapsed = parse_elapsed(row.get("elapsed_time"))
    if scan.open is not None:
        how = scan.open.classify(kind, step, elapsed)
        if how == "repeat":
            scan.second_writer_rows += 1
            return
        if how == "restart":
            scan.close()
    seg = scan.open
    if seg is None:
        seg = scan.open = _Open(start=len(scan.steps), first_step=step, last_step=step)
    seg.last_by_kind[kind] = step
    seg.last_step = max(step, seg.last_step)
    seg.total_steps = _total_steps(row) or seg.total_steps
    if elapsed is not None:
        seg.clock = elapsed if seg.clock is None else max(seg.clock, elapsed)
    ep = _num(row.get("epoch"))
    epoch = ep if ep is not None and math.isfinite(ep) else math.nan
    if kind == "train":
        scan.train_rows += 1
    else:
        scan.eval_rows += 1
    for tag, v in scalars:
        scan.steps.append(step)
        scan.tags.append(tag)
        scan.values.append(v)
        scan.epochs.append(epoch)


def _epoch_length(scan: _Scan) -> int | None:
    """Optimizer steps per epoch: the median step / epoch of the training rows.

    HF's epoch counts micro-batches, so with gradient accumulation the ratio is a half-step off
    exact (937.5 for 938-step epochs in rameyjm7); 2023 versions rounded the epoch to 2 decimals,
    which the median over the whole run absorbs.
    """
    ratios = sorted(
        s / e
        for s, t, e in zip(scan.steps, scan.tags, scan.epochs, strict=True)
        if t == "lr" and e > 0.05  # below, 2-decimal rounding dominates
    )
    if not ratios:
        return None
    return max(1, round(ratios[len(ratios) // 2]))


def _meta(scan: _Scan) -> dict[str, Any]:
    stage = "train" if scan.train_rows else "eval" if scan.eval_rows else "predict"
    if not (scan.train_rows or scan.eval_rows or scan.progress_rows):
        stage = "empty"
    meta: dict[str, Any] = {
        "stage": stage,
        "predict_only": stage == "predict",
        "segments": scan.segments,
        "duplicate_rows": scan.duplicate_rows,
        "second_writer_rows": scan.second_writer_rows,
        "progress_rows": scan.progress_rows,
    }
    if scan.progress is not None:
        meta["progress_steps"], meta["progress_total_steps"] = scan.progress
    totals = [s.total_steps for s in scan.segments if s.total_steps]
    if totals:
        meta["max_iters"] = totals[-1]
    length = _epoch_length(scan)
    if length:
        meta["epoch_length"] = length
        meta["epoch_length_source"] = "median step/epoch"
        if totals:
            n_epochs = totals[-1] / length
            if round(n_epochs) >= 1 and abs(n_epochs - round(n_epochs)) < _EPOCH_TOL:
                meta["max_epochs"] = round(n_epochs)
    return meta

"""Reader for mmengine's text log (`<ts>/<ts>.log`) or its console output, what users paste.

One pass, precompiled patterns. `Epoch(train) [e][i/N]` is step `(e-1)*N + i` with `epoch =
(e-1) + i/N`, the epochs completed at that step (mmengine's JSON logs the 1-based current epoch
`e` instead); `Iter(train) [k/N]` is step `k`, epoch NaN. Validation summaries (`Epoch(val)
[e][N/N]`, `Iter(val) [N/N]` without `eta`) become `val/<name>` rows at the training step where
validation ran: `e*N`, or for iteration-based runs the latest step known from a train line or a
`Saving checkpoint at K iterations` line (exact when the logging interval divides `val_interval`).
Validation progress lines and test lines are left out, as in mmengine's JSON. lr is printed as
`%.{d}e`, other floats as `%.{d}f` (d = `num_digits`, 4 by default): `meta["precision"]` is the
relative precision of the printed lr (`10**-d`; d+1 `significant_digits`), `meta["precision_abs"]`
that of the `%f` values, so a check does not take rounding for a plateau. Damaged train/val lines
(bad bytes, lines run together, an unterminated last line that does not look whole) are skipped
and recorded; other lines that do not parse are ordinary log output. `wall_time` is NaN: the
timestamps carry no time zone.
"""

from __future__ import annotations

import math
import re
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import MAX_STEP, ReadResult, build_frame
from logan.tags import canonical_tag

if TYPE_CHECKING:
    import pandas as pd

# The prefix mmengine's (and mmcv's) logging formatter writes: `2023/06/04 17:38:31 - mmengine -
# INFO - ` in the file, `06/04 17:38:31 - mmengine - INFO - ` on the console (what users paste; the
# level may carry colour codes); optional so that a log pasted without it still reads.
_TIMESTAMP = r"(?:\d{4}[/-])?\d\d[/-]\d\d \d\d:\d\d:\d\d(?:,\d+)? - "
LOG_PREFIX = rf"(?:{_TIMESTAMP}\S+ - \S+ - )"
_TIMESTAMP_LINE = re.compile(_TIMESTAMP)
_HEADER = re.compile(
    LOG_PREFIX + r"?(?P<kind>Epoch|Iter)\((?P<mode>train|val|test)\)\s*"
    r"\[\s*(?P<a>\d+)(?:\s*/\s*(?P<an>\d+))?\s*\]"
    r"(?:\s*\[\s*(?P<b>\d+)\s*/\s*(?P<bn>\d+)\s*\])?"
)
_CONFIG = re.compile(LOG_PREFIX + r"Config:\s*$")
_VERSION = re.compile(r"^\s*MMEngine: (\S+)")
_CHECKPOINT_ITERS = re.compile(r"Saving checkpoint at (\d+) iterations")
_E_FORMAT = re.compile(r"^[-+]?\d\.(\d+)e[-+]\d+$")
_F_FORMAT = re.compile(r"^[-+]?\d+\.(\d+)$")
# Not scalars, or not numbers: left out of the table.
NON_SCALAR_KEYS = frozenset({"eta"})
_FIRST = itemgetter(0)
# A line layout with more items than this gets no compiled whole-line pattern: compiling one
# costs more than linear time in its length (10,000 items took 2 s, a 1 MB line minutes), and
# real lines hold a few dozen items.
MAX_FAST_KEYS = 256


class PairScanner:
    """`key: value` items of a line, found in one left-to-right pass (linear in the line).

    The plain pattern `(KEY+(?: KEY+)*):\\s+(VALUE)` is retried from every character of a long run
    of words without a colon, each try scanning to the run's end: quadratic (a line padded with
    64,000 words took 75 s). Here a run of key words is taken whole and never backtracked into
    (possessive), with its `: value` or without; a run without one is passed over in one step.
    It finds the same items: no shorter run, and no run starting inside it, ends at a colon.
    """

    def __init__(self, key_char: str, value: str) -> None:
        self.pattern = re.compile(rf"({key_char}++(?: {key_char}++)*+)(?::\s+({value}))?")

    def findall(self, text: str) -> list[tuple[str, str]]:
        return [(key, value) for key, value in self.pattern.findall(text) if value]


# `key: value` items, two spaces apart (lr items one space apart: `base_lr: 1e-01 lr: 1e-01`);
# keys may hold single spaces (`coco/AP .5`), values never do.
_PAIRS = PairScanner(r"[^\s:]", r"\S+")


def to_float(token: str) -> float | None:
    """The number a printed token holds, or None (eta `0:01:02`, tensors, words)."""
    try:
        return float(token)
    except ValueError:
        return None


def token_shape(token: str) -> tuple[int, bool] | None:
    """(decimals, exponent?) of a printed number: the format it was printed with."""
    m = _E_FORMAT.match(token)
    if m:
        return len(m.group(1)), True
    m = _F_FORMAT.match(token)
    if m:
        return len(m.group(1)), False
    if token.lstrip("-+").isdigit():
        return 0, False
    return None


def looks_complete(pairs: list[tuple[str, str]], previous: list[tuple[str, str]] | None) -> bool:
    """Is an unterminated last line whole? Same keys and number formats as the line before."""
    if not previous or [k for k, _ in pairs] != [k for k, _ in previous]:
        return False
    return all(
        token_shape(v) == token_shape(p) for (_, v), (_, p) in zip(pairs, previous, strict=True)
    )


def read_text_lines(path: Path) -> tuple[list[str], bool, list[Skipped]]:
    """The file's lines (decoded leniently), whether it ends with a newline, and read errors."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], True, [Skipped(str(path), "file", f"cannot read: {exc.strerror or exc}")]
    if not data.strip(b"\x00 \t\r\n"):
        return [], True, [Skipped(str(path), "file", "empty file")]
    text = data.decode("utf-8", errors="replace")
    return text.split("\n"), text.endswith("\n"), []


class TextLogParser:
    """State of one pass over a text log: the rows so far and what the log said about the run.

    Rows are kept as one block per log line (step, epoch, tags, values) and expanded once at the
    end; the tags and numeric positions of a line layout are worked out once per layout. The mmcv
    1.x text reader subclasses it: same logging format, other line headers.
    """

    HEADER = _HEADER
    PAIRS = _PAIRS

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.blocks: list[tuple[int, float, tuple[str, ...], list[float]]] = []
        self.layouts: dict[tuple[Any, ...], tuple[tuple[int, ...], tuple[str, ...]]] = {}
        self.skipped: list[Skipped] = []
        self.meta: dict[str, Any] = {}
        self.epoch_length: int | None = None
        self.max_iters: int | None = None
        self.last_train_step: int | None = None
        self.checkpoint_step: int | None = None
        self.lr_token: str | None = None
        self.f_decimals: int | None = None
        self.config_lines: list[str] | None = None
        self.config_text: str | None = None
        # The previous line of each kind, to judge whether an unterminated last line is whole.
        self.previous: dict[str, str] = {}
        # Per prefix, the last layout as one pattern: lines of that layout skip `findall`.
        self.fast: dict[tuple[str, tuple[str, ...]], tuple[re.Pattern[str], tuple[str, ...]]] = {}
        self.index = 0  # the line being parsed

    def skip(self, index: int, reason: str) -> None:
        self.skipped.append(Skipped(self.path, f"line {index + 1}", reason))

    def line(self, index: int, line: str, unterminated: bool) -> None:
        """Parse one log line; lines run together in it are parsed in turn (a loop, not recursion:
        thousands of lines may have lost their newlines)."""
        rest: str | None = line
        while rest is not None:
            rest = self.one_line(index, rest, unterminated)

    def one_line(self, index: int, line: str, unterminated: bool) -> str | None:
        """Parse the line's first log entry; returns the text of a next entry run into it."""
        self.index = index
        if self.config_lines is not None:
            if not _TIMESTAMP_LINE.match(line):
                self.config_lines.append(line)
                if unterminated:
                    self.skip(index, "file ends inside the dumped config")
                return None
            self.end_config()
        if line.startswith("\x00"):
            # Zeros where a copied-while-written file had no data yet: what follows may be whole.
            self.skip(index, "NUL bytes")
            line = line.lstrip("\x00")
        if not self.is_candidate(line):
            if not unterminated:
                self.other(line)
            elif line.strip():  # it may have been a train line cut before its header
                self.skip(index, "truncated last line")
            return None
        m = self.HEADER.match(line)
        if m is None:
            if unterminated:
                self.skip(index, "truncated last line")
            elif ("\ufffd" in line or "\x00" in line) and self.HEADER.search(line):
                self.skip(index, "non-UTF-8 or NUL bytes in a log line")
            return None
        mode = m.group("mode") or "train"
        if mode not in ("train", "val"):
            return None
        body = line[m.end() :]
        if " - " in body or self.is_candidate(body):
            joined = _TIMESTAMP_LINE.search(body) or self.HEADER.search(body)
            if joined:
                # A line cut short and the next one written straight after it: keep the second.
                self.skip(index, "log line cut short (next line run into it)")
                return body[joined.start() :]
        if "\ufffd" in body or "\x00" in body:
            self.skip(index, "non-UTF-8 or NUL bytes in a log line")
            return None
        if mode == "val" and "eta: " in body:
            return None  # a validation progress line: val-loop timing, not metrics
        kind = m.group("kind")
        if unterminated:
            before = self.previous.get(kind + mode)
            previous = self.PAIRS.findall(before) if before is not None else None
            if not looks_complete(self.PAIRS.findall(body), previous):
                self.skip(index, "truncated last line")
                return None
        self.previous[kind + mode] = body
        if mode == "train":
            self.train(m, kind, body)
        else:
            self.val(m, kind, body)
        return None

    def is_candidate(self, line: str) -> bool:
        """A cheap test before the header pattern: could this be a train/val line?"""
        return "(train)" in line or "(val)" in line

    def other(self, line: str) -> None:
        """Lines that are not train/val lines: the config block, the version, checkpoints."""
        if self.config_text is None and "Config:" in line and _CONFIG.match(line):
            self.config_lines = []
        elif "MMEngine: " in line and "mmengine_version" not in self.meta:
            m = _VERSION.match(line)
            if m:
                self.meta["mmengine_version"] = m.group(1)
        elif "Saving checkpoint at" in line:
            m = _CHECKPOINT_ITERS.search(line)
            if m:
                self.checkpoint_step = int(m.group(1))

    def end_config(self) -> None:
        if self.config_lines is not None:
            self.config_text = "\n".join(self.config_lines).strip("\n") + "\n"
            self.config_lines = None

    def train(self, m: re.Match[str], kind: str, body: str) -> None:
        a, an, b, bn = m.group("a", "an", "b", "bn")
        if kind == "Epoch":
            if b is None or bn is None or int(bn) <= 0:
                return
            e, i, n = int(a), int(b), int(bn)
            step, epoch = (e - 1) * n + i, (e - 1) + i / n
            self.epoch_length = n
        else:
            if an is None:
                return
            step, epoch = int(a), math.nan
            self.max_iters = int(an)
        self.last_train_step = step
        if self.lr_token is None:
            self.note_formats(self.PAIRS.findall(body))
        self.add(step, epoch, "", body)

    def note_formats(self, pairs: list[tuple[str, str]]) -> None:
        """Remember how lr and the `%f` values are printed (the producer's precision)."""
        for key, token in pairs:
            if key.endswith("lr") or key.startswith("lr_"):
                self.lr_token = token
                break
        # A loss is printed like every other metric; mmcv prints `time` with fewer decimals.
        losses = [t for k, t in pairs if "loss" in k] or [t for k, t in pairs if k == "time"]
        shape = token_shape(losses[0]) if losses else None
        if shape is not None and not shape[1]:
            self.f_decimals = shape[0]

    def val(self, m: re.Match[str], kind: str, body: str) -> None:
        if kind == "Epoch":
            if m.group("b") is None or m.group("b") != m.group("bn"):
                return
            e = int(m.group("a"))
            if self.epoch_length is not None:
                step, epoch = e * self.epoch_length, float(e)
            else:  # no training line yet: the epoch number is all there is
                step, epoch = e, float(e)
                self.meta["val_step_is_epoch"] = True
        else:
            if m.group("an") is None or m.group("a") != m.group("an"):
                return
            known = [s for s in (self.last_train_step, self.checkpoint_step) if s is not None]
            step, epoch = (max(known) if known else 0), math.nan
        self.add(step, epoch, VAL_PREFIX, body)

    def add(
        self, step: int, epoch: float, prefix: str, body: str, drop: tuple[str, ...] = ()
    ) -> None:
        """One block of rows from a line's `key: value` items (`drop`: keys to leave out)."""
        if not 0 <= step <= MAX_STEP:
            self.skip(self.index, "step number out of range")
            return
        fast = self.fast.get((prefix, drop))
        if fast is not None:
            match = fast[0].fullmatch(body)
            if match is not None:
                try:
                    values = list(map(float, match.groups()))
                except ValueError:
                    pass
                else:
                    self.blocks.append((step, epoch, fast[1], values))
                    return
        pairs = self.PAIRS.findall(body)
        keys = tuple(map(_FIRST, pairs))
        layout = self.layouts.get((prefix, keys, drop))
        if layout is None:
            scalar = [
                n for n, (k, _) in enumerate(pairs) if k not in NON_SCALAR_KEYS and k not in drop
            ]
            numeric = tuple(n for n in scalar if to_float(pairs[n][1]) is not None)
            tags = self.layout_tags(prefix, keys, numeric)
            layout = (numeric, tags)
            if len(numeric) == len(scalar):
                self.layouts[(prefix, keys, drop)] = layout
                if len(keys) <= MAX_FAST_KEYS:
                    self.fast[(prefix, drop)] = (self.layout_pattern(keys, numeric), tags)
            else:
                # A value that is not a number: learn the layout from a later line, so that one
                # damaged value does not drop its key from every line after it.
                numbers = set(numeric)
                bad = ", ".join(keys[n] for n in scalar if n not in numbers)
                self.skip(self.index, f"not a number in {bad}")
        numeric, tags = layout
        try:
            values = [float(pairs[n][1]) for n in numeric]
        except ValueError:  # a value that is not a number this time (`nan` is): take the rest
            kept = [(t, to_float(pairs[n][1])) for n, t in zip(numeric, tags, strict=True)]
            bad = ", ".join(keys[n] for n, (_, v) in zip(numeric, kept, strict=True) if v is None)
            self.skip(self.index, f"not a number in {bad}")
            tags = tuple(t for t, v in kept if v is not None)
            values = [v for _, v in kept if v is not None]
        self.blocks.append((step, epoch, tags, values))

    VALUE = r"\S+"

    def layout_pattern(self, keys: tuple[str, ...], numeric: tuple[int, ...]) -> re.Pattern[str]:
        """A pattern matching a whole line body of this layout, capturing the numeric values."""
        items = [
            re.escape(k) + r":\s+" + (f"({self.VALUE})" if n in numeric else self.VALUE)
            for n, k in enumerate(keys)
        ]
        return re.compile(r"[\s,]*" + r"[\s,]+".join(items) + r"[\s,]*")

    def layout_tags(
        self, prefix: str, keys: tuple[str, ...], numeric: tuple[int, ...]
    ) -> tuple[str, ...]:
        return tuple(canonical_tag(prefix + keys[n]) for n in numeric)

    def result(self, session: int) -> ReadResult:
        self.end_config()
        meta = self.meta
        if self.config_text is not None:
            meta["config_text"] = self.config_text
        if self.epoch_length is not None:
            meta["epoch_length"] = self.epoch_length
        if self.max_iters is not None:
            meta["max_iters"] = self.max_iters
        if self.epoch_length is not None or self.max_iters is not None:
            meta["by_epoch"] = self.epoch_length is not None
        shape = token_shape(self.lr_token) if self.lr_token is not None else None
        if shape is not None and shape[1]:
            meta["precision"] = 10.0 ** -shape[0]
            meta["significant_digits"] = shape[0] + 1
        if self.f_decimals is not None:
            meta["precision_abs"] = 10.0**-self.f_decimals
        return ReadResult(frame=blocks_frame(self.blocks, session), skipped=self.skipped, meta=meta)


def blocks_frame(
    blocks: list[tuple[int, float, tuple[str, ...], list[float]]], session: int
) -> pd.DataFrame:
    """The tidy table from per-line blocks, expanded in numpy rather than row by row."""
    counts = np.fromiter((len(b[2]) for b in blocks), dtype=np.int64, count=len(blocks))
    steps = np.repeat(np.fromiter((b[0] for b in blocks), np.int64, len(blocks)), counts)
    epochs = np.repeat(np.fromiter((b[1] for b in blocks), np.float64, len(blocks)), counts)
    tags = list(chain.from_iterable(b[2] for b in blocks))
    values = np.fromiter(chain.from_iterable(b[3] for b in blocks), np.float64, len(tags))
    return build_frame(steps, tags, values, epochs=epochs, session=session)


def parse(parser: TextLogParser, session: int) -> ReadResult:
    """Feed every line of the parser's file through it; the unterminated last line is flagged."""
    lines, terminated, problems = read_text_lines(Path(parser.path))
    parser.skipped.extend(problems)
    if terminated and lines and lines[-1] == "":
        lines.pop()  # the empty string after the final newline
    last = len(lines) - 1
    for index, line in enumerate(lines):
        parser.line(index, line, unterminated=index == last and not terminated)
    return parser.result(session)


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one mmengine text log into tidy rows; never raises on bad content."""
    return parse(TextLogParser(Path(path)), session)

"""Which log format a file holds, told from its content, for discovery: names are not to be trusted.

People rename logs (`rtmdet_train_<ts>.log`, `train.log`), flatten work_dirs and copy files
around, so discovery asks `sniff(first_bytes)` instead of matching names. The first few KB settle
the format; whether a text log is a training session at all needs the whole file, which
`scan_text_log(path)` reads line by line without parsing values. Recognised:

- mmengine text log: `YYYY/MM/DD HH:MM:SS - <logger> - INFO - ` lines (mmengine's MMFormatter;
  the logger is `mmengine`) or, in console output pasted without that prefix, lines that start
  with `Epoch(train) [` / `Iter(train) [` and a number;
- mmcv 1.x text log: `YYYY-MM-DD HH:MM:SS,mmm - <logger> - INFO - ` lines (Python logging's
  default date format; the logger is the codebase, `mmdet`, `mmseg`, ...) or lines that start
  with `Epoch [e][i/N]` / `Iter [i/N]` and an lr;
- mmengine JSON scalars (`vis_data/<ts>.json`, `scalars.json`): one object per line with a `step`;
- mmengine test result (`<ts>/<ts>.json` of a test session): one line of numbers, no `step`;
- mmcv 1.x `*.log.json`: the first line holds `env_info` (or, in older versions, `mode`);
- LLaMA-Factory `trainer_log.jsonl` (`current_steps`, `total_steps`);
- HF `trainer_state.json` (one pretty-printed object with `global_step` and `log_history`).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path

from logan.readers.llamafactory import is_trainer_log

# How much of a file `sniff` needs: the longest first lines seen (an mmcv `env_info` line, a
# text log's environment dump) carry their tell-tale keys in the first few hundred bytes.
SNIFF_BYTES = 8192

_LEVEL = rb"(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)"
_MMENGINE_LINE = re.compile(
    rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d - [\w.\-]+ - " + _LEVEL + rb" - ", re.M
)
_MMCV_LINE = re.compile(
    rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - [\w.\-]+ - " + _LEVEL + rb" - ", re.M
)
# Progress lines of a loop: mmengine names the loop in parentheses, mmcv 1.x does not.
_MMENGINE_LOOP = re.compile(rb"\b(?:Epoch|Iter)\((?P<mode>train|val|test)\)\s*\[\s*\d")
# Console output pasted without the logger's prefix: the progress line starts the line.
_MMENGINE_CONSOLE = re.compile(rb"^[ \t]*(?:Epoch|Iter)\((?:train|val|test)\)\s*\[\s*\d", re.M)
_MMCV_CONSOLE = re.compile(rb"^[ \t]*(?:Epoch \[\d+\]\[\d+/\d+\]|Iter \[\d+/\d+\])\s+lr: ", re.M)
_MMCV_TRAIN = re.compile(rb"\b(?:Epoch \[\d+\]\[\d+/\d+\]|Iter \[\d+/\d+\])\s+lr: ")
# Keys that start an mmcv 1.x `.log.json` (metadata line) or one of its records.
_MMCV_JSON_KEYS = ("env_info", "mode")
_CONFLICT = b"<<<<<<< "
_HF_STATE = re.compile(rb'"(?:log_history|global_step|best_metric)"\s*:')


class Format(str, enum.Enum):
    """A log format discovery can hand to one reader."""

    MMENGINE_TEXT = "mmengine_text"
    MMCV_TEXT = "mmcv_text"
    MMENGINE_JSON = "mmengine_json"
    MMENGINE_RESULT = "mmengine_result"
    MMCV_JSON = "mmcv_json"
    LLAMAFACTORY = "llamafactory"
    HF_STATE = "hf_state"


def sniff(first_bytes: bytes) -> Format | None:
    """The format of a file from its first bytes (`SNIFF_BYTES` is enough); None when unknown."""
    head = first_bytes.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(_CONFLICT):  # a file committed with git conflict markers: read HEAD's side
        head = head.split(b"\n", 1)[-1].lstrip() if b"\n" in head else b""
    if not head:
        return None
    if head.startswith(b"{"):
        return _sniff_json(head)
    return _sniff_text(head)


def _sniff_text(head: bytes) -> Format | None:
    if _MMENGINE_LINE.search(head) or _MMENGINE_CONSOLE.search(head):
        return Format.MMENGINE_TEXT
    if _MMCV_LINE.search(head) or _MMCV_CONSOLE.search(head):
        return Format.MMCV_TEXT
    return None


def _first_object(head: bytes) -> dict[str, object] | None:
    """The first line as a JSON object; for a line cut by the head, its complete `"key":` pairs."""
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        obj = json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        keys = re.findall(rb'"([^"\\]{1,64})"\s*:', line)
        return {k.decode("utf-8", errors="replace"): None for k in keys} if keys else None
    return obj if isinstance(obj, dict) else None


def _sniff_json(head: bytes) -> Format | None:
    if is_trainer_log(head):
        return Format.LLAMAFACTORY
    first = _first_object(head)
    if first is None or not first:
        # A pretty-printed object: `{` alone on the first line.
        return Format.HF_STATE if _HF_STATE.search(head) else None
    if any(key in first for key in _MMCV_JSON_KEYS):
        return Format.MMCV_JSON
    if "step" in first:
        return Format.MMENGINE_JSON
    if "log_history" in first or "global_step" in first:
        return Format.HF_STATE  # trainer_state.json written without indentation
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in first.values()):
        return Format.MMENGINE_RESULT  # a line of metrics only: not some other JSON document
    return None


class TextStage(str, enum.Enum):
    """What a text log's session did, from its progress lines."""

    TRAIN = "train"  # at least one training line
    TEST = "test"  # test lines and no training line (`runner.test()`, tools/test.py)
    VAL = "val"  # validation lines only (`runner.val()`)
    NO_TRAINING = "no-training"  # ended before the first training, val or test line
    EMPTY = "empty"  # nothing a logger wrote


@dataclass(frozen=True)
class TextLogScan:
    """Counts of progress lines in one text log and where training began."""

    format: Format | None
    train_lines: int
    val_lines: int
    test_lines: int
    first_train_line: int | None  # 1-based line number

    @property
    def stage(self) -> TextStage:
        if self.train_lines:
            return TextStage.TRAIN
        if self.test_lines:
            return TextStage.TEST
        if self.val_lines:
            return TextStage.VAL
        return TextStage.NO_TRAINING if self.format is not None else TextStage.EMPTY

    @property
    def test_only(self) -> bool:
        return self.stage is TextStage.TEST

    @property
    def ended_before_training(self) -> bool:
        """The session wrote its logger's lines but never a training, val or test line."""
        return self.stage is TextStage.NO_TRAINING


def scan_text_log(path: Path) -> TextLogScan:
    """Count the train/val/test progress lines of an mmengine or mmcv text log, line by line.

    Cheap: a substring test per line, a regex only on the few candidate lines, no value parsed.
    Bytes that are not UTF-8 and CRLF line ends do not matter; a file that cannot be read at all
    raises OSError as any read does.
    """
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        fmt = sniff(head)
        if fmt not in (Format.MMENGINE_TEXT, Format.MMCV_TEXT):
            fmt = None
        f.seek(0)
        train = val = test = 0
        first_train: int | None = None
        for n, line in enumerate(f, start=1):
            mode = _line_mode(line)
            if mode is None:
                continue
            if mode == "train":
                train += 1
                if first_train is None:
                    first_train = n
            elif mode == "val":
                val += 1
            else:
                test += 1
    return TextLogScan(fmt, train, val, test, first_train)


def _line_mode(line: bytes) -> str | None:
    """The loop a progress line belongs to ("train", "val", "test"); None for other lines."""
    if b"(t" in line or b"(v" in line:
        m = _MMENGINE_LOOP.search(line)
        if m:  # mmcv 1.x writes its validation as `Epoch(val) [e][N]` too
            return m.group("mode").decode()
    if b"lr: " in line and _MMCV_TRAIN.search(line):
        return "train"
    return None

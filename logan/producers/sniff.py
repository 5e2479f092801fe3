"""Tell a log's format from its first bytes, not its name: people rename logs freely.

mmengine's logger writes `2023/06/13 13:47:00 - mmengine - INFO - ` (date with slashes, no
milliseconds); mmcv 1.x's writes `2023-02-09 22:55:26,176 - mmdet - INFO - ` (dashes and
milliseconds). Their train lines differ too: `Epoch(train) [1][50/100]` against
`Epoch [1][50/100]`. JSON-lines logs are told apart by their keys: mmengine scalars carry `step`,
mmcv's `.log.json` starts with `env_info` or carries `mode`, LLaMA-Factory's `trainer_log.jsonl`
carries `current_steps`.
"""

from __future__ import annotations

import re

_MMENGINE_LINE = re.compile(rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d - \S+ - [A-Z]+ - ", re.M)
_MMCV_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - \S+ - [A-Z]+ - ", re.M)
_MMENGINE_TRAIN = re.compile(rb"(?:Epoch|Iter)\((?:train|val|test)\) *\[")
_MMCV_TRAIN = re.compile(rb"Epoch \[\d+\]\[\d+/\d+\]|Iter \[\d+/\d+\]")
_FIRST_JSON = re.compile(rb"^\s*(\{[^\n]*)", re.S)


def text_log_kind(head: bytes) -> str | None:
    """`mmengine_log`, `mmcv_log` or None for the first bytes of a text file."""
    if _MMENGINE_LINE.search(head):
        return "mmengine_log"
    if _MMCV_LINE.search(head):
        return "mmcv_log"
    # Console output pasted without the logger prefix: the train lines still tell.
    if _MMENGINE_TRAIN.search(head):
        return "mmengine_log"
    if _MMCV_TRAIN.search(head):
        return "mmcv_log"
    return None


def json_lines_kind(head: bytes) -> str | None:
    """`mmengine_json`, `mmcv_json`, `llamafactory` or None for a JSON-lines file's start."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<<<<<<<"):  # a git conflict: the first side follows
        text = text.split(b"\n", 1)[-1].lstrip()
    if not text.startswith(b"{"):
        return None
    first = text.split(b"\n", 1)[0]
    if b'"current_steps"' in first:
        return "llamafactory"
    if b'"env_info"' in first or b'"mode"' in first:
        return "mmcv_json"
    if b'"step"' in first:
        return "mmengine_json"
    return None

"""File kinds as the producers name them, from the content sniffer in logan.readers.sniff.

People rename logs freely, so producers recognise text logs and JSON-lines logs by what they
hold; this maps the sniffer's formats onto the producers' file kinds.
"""

from __future__ import annotations

from logan.readers.sniff import Format, sniff

_TEXT = {Format.MMENGINE_TEXT: "mmengine_log", Format.MMCV_TEXT: "mmcv_log"}
_JSON_LINES = {
    Format.MMENGINE_JSON: "mmengine_json",
    Format.MMCV_JSON: "mmcv_json",
    Format.LLAMAFACTORY: "llamafactory",
}


def text_log_kind(head: bytes) -> str | None:
    """`mmengine_log`, `mmcv_log` or None for the first bytes of a text file."""
    found = sniff(head)
    return _TEXT.get(found) if found else None


def json_lines_kind(head: bytes) -> str | None:
    """`mmengine_json`, `mmcv_json`, `llamafactory` or None for a JSON-lines file's start."""
    found = sniff(head)
    return _JSON_LINES.get(found) if found else None

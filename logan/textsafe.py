"""Text from logs, paths and configs made safe to show: the one sanitiser for terminal output.

Logs and folders come from strangers. A run folder, a tag or a config line may hold ESC
sequences (clear the screen, set the window title, plant an OSC 8 link), a newline that fakes an
output line, a bidi override that reverses what follows, or a lone surrogate (a file name that is
not UTF-8, a `\\ud800` JSON escape) that no encoder can write. `visible` shows each such character
as its escape, the way `repr` does, so the user sees what the input holds and the terminal
obeys none of it.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL, the bidi embeddings/overrides/isolates, the line and paragraph
# separators (terminals and editors break lines at them), and lone surrogates (unencodable).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The same without newline and tab: for whole blocks of output whose lines logan composed.
_UNSAFE_IN_BLOCK = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    c = match.group(0)
    if c in _NAMED:
        return _NAMED[c]
    if 0xD800 <= ord(c) <= 0xDFFF:
        return "\ufffd"  # as `printable` shows a file name that is not UTF-8
    code = ord(c)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """One field (a path, a tag, a message) with every control character shown as its escape:
    the result is a single line that a terminal prints literally."""
    s = str(text)
    if s.isascii() and s.isprintable():
        return s
    return _UNSAFE.sub(_escape, s)


def visible_block(text: object) -> str:
    """Several lines logan laid out itself (a Markdown report, a table): newlines and tabs stay,
    every other control character is shown as its escape."""
    s = str(text)
    return _UNSAFE_IN_BLOCK.sub(_escape, s)


__all__ = ["visible", "visible_block"]

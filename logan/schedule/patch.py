"""Apply the unified diff a Simulation proposes (`Simulation.fix`) to the config text it came from.

Only the exact text the diff was made from is accepted: a context or removed line that does not
match raises ValueError, so a stale fix is never applied to an edited config.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified_diff(text: str, diff: str) -> str:
    """The text with `diff` (one file, as difflib.unified_diff writes it) applied."""
    old = text.splitlines(keepends=True)
    out: list[str] = []
    cursor = 0  # next unread line of `old`
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = _HUNK.match(lines[i])
        i += 1
        if not match:
            continue  # file headers
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        if start < cursor:
            raise ValueError("overlapping hunks")
        out.extend(old[cursor:start])
        cursor = start
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            tag, body = line[:1], line[1:]
            if tag in (" ", "-"):
                if cursor >= len(old) or old[cursor].rstrip("\r\n") != body.rstrip("\r\n"):
                    raise ValueError(f"diff does not match the text at line {cursor + 1}")
                if tag == " ":
                    out.append(old[cursor])
                cursor += 1
            elif tag == "+":
                out.append(body)
            elif line.startswith("\\"):
                pass  # "\ No newline at end of file"
            i += 1
    out.extend(old[cursor:])
    return "".join(out)

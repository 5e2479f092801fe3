"""Config edits as unified diffs: written from scheduler edits, applied to the text they came from.

`fix_diff` edits a config's text in place (keeping its formatting) and returns the diff a
Simulation proposes as its `fix`; `apply_unified_diff` accepts only the exact text the diff was
made from: a context or removed line that does not match raises ValueError, so a stale fix is
never applied to an edited config.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from typing import Any

from logan.config.evaluate import Symbol

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


@dataclass(frozen=True)
class SchedulerEdit:
    """One `param_scheduler` entry's edit: rename `T_max=` to `end=`, add keywords."""

    index: int  # position in the config's last top-level `param_scheduler = [...]`
    rename: bool
    inserts: tuple[tuple[str, Any], ...]


def scheduler_nodes(tree: ast.Module) -> list[ast.expr]:
    """The dict(...) / {...} nodes of the last top-level `param_scheduler = ...`, in order."""
    value = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "param_scheduler" for t in stmt.targets
        ):
            value = stmt.value
    if value is None:
        return []
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    return list(items)


def _key_nodes(node: ast.expr) -> dict[str, tuple[Any, ast.expr]]:
    """key -> (node spanning `key=value` or the key string, value node)."""
    out: dict[str, tuple[Any, ast.expr]] = {}
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg is not None:
                out[kw.arg] = (kw, kw.value)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out[key.value] = (key, value)
    return out


class _Text:
    """Config text with (line, column) -> character offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line))

    def pos(self, lineno: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; configs are ASCII in practice.
        return self.offsets[lineno - 1] + col


def _rename(src: _Text, node: ast.expr, keys: dict[str, Any]) -> tuple[int, int, str] | None:
    if "T_max" not in keys:
        return None
    key_node, _ = keys["T_max"]
    start = src.pos(key_node.lineno, key_node.col_offset)
    if isinstance(node, ast.Call):
        return (start, start + len("T_max"), "end")
    quote = src.text[start]
    return (start, start + len("T_max") + 2, f"{quote}end{quote}")


def _insert(
    src: _Text, node: ast.expr, keys: dict[str, Any], pairs: list[tuple[str, str]]
) -> list[tuple[int, int, str]] | None:
    last_key, last_value = list(keys.values())[-1]
    if last_value.end_lineno is None or last_value.end_col_offset is None:
        return None
    line = src.lines[last_key.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    key_start = src.pos(last_key.lineno, last_key.col_offset)
    own_line = src.text[src.offsets[last_key.lineno - 1] : key_start].strip() == ""
    stop = src.pos(last_value.end_lineno, last_value.end_col_offset)
    rest = src.lines[last_value.end_lineno - 1][last_value.end_col_offset :].strip()
    if isinstance(node, ast.Call) and own_line and rest in ("", ","):
        # One keyword per line (mmengine's dump style): add ours the same way.
        edits = [(stop, stop, ",")] if rest == "" else []
        line_end = src.offsets[last_value.end_lineno]
        added = "".join(f"{indent}{key}={value}," + "\n" for key, value in pairs)
        return [*edits, (line_end, line_end, added)]
    if isinstance(node, ast.Call):
        return [(stop, stop, "".join(f", {k}={v}" for k, v in pairs))]
    return [(stop, stop, "".join(f", {k!r}: {v}" for k, v in pairs))]


def fix_diff(
    text: str, name: str, edits: list[SchedulerEdit], config: dict[str, Any]
) -> str | None:
    """A unified diff of the config text with every edit applied, keeping its formatting."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    nodes = scheduler_nodes(tree)
    src = _Text(text)
    spans: list[tuple[int, int, str]] = []  # (start, stop, replacement) in character offsets
    for edit in edits:
        if edit.index >= len(nodes):
            return None
        node = nodes[edit.index]
        keys = _key_nodes(node)
        if not keys:
            return None
        if edit.rename:
            renamed = _rename(src, node, keys)
            if renamed is None:
                return None
            spans.append(renamed)
        if edit.inserts:
            pairs = [(key, _value_text(key, value, config)) for key, value in edit.inserts]
            inserted = _insert(src, node, keys, pairs)
            if inserted is None:
                return None
            spans.extend(inserted)
    new = text
    for start, stop, repl in sorted(spans, key=lambda e: (e[0], e[1]), reverse=True):
        new = new[:start] + repl + new[stop:]
    if new == text:
        return None
    # A last line without its newline would glue two diff lines together.
    text, new = (t if t.endswith("\n") else t + "\n" for t in (text, new))
    diff = difflib.unified_diff(
        text.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(diff)


def _value_text(key: str, value: Any, config: dict[str, Any]) -> str:
    """A new keyword's value as config text: the config's own `max_epochs` when it holds it."""
    max_epochs = config.get("max_epochs")
    if key == "end" and max_epochs == value and not isinstance(max_epochs, (Symbol, bool)):
        return "max_epochs"
    return repr(value)

"""Training configs read as data, never executed: shared by run assembly and schedule checks.

`evaluate` turns one Python config's text into plain values, `inherit` follows `_base_` files as
mmengine's `Config` merges them, and `patch` writes and applies the config edits logan proposes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logan.config.evaluate import (
    MAX_CONFIG_CHARS,
    UNKNOWN,
    Symbol,
    config_from_log_text,
    is_unknown,
    load_config,
)

__all__ = [
    "ConfigRead",
    "MAX_CONFIG_CHARS",
    "UNKNOWN",
    "Symbol",
    "config_from_log_text",
    "is_unknown",
    "load_config",
    "read_config",
]


@dataclass(frozen=True)
class ConfigRead:
    """A config as data, its text, or why it could not be read (a message naming the file)."""

    config: dict[str, Any] | None
    text: str | None
    error: str | None = None


def read_config(source: Path | str, name: str | None = None) -> ConfigRead:
    """A config file (or config text printed in a log, called `name`) read as data. Never raises:
    a config that cannot be read (not Python, a NUL byte, over the evaluator's bounds) comes back
    with the evaluator's message, so the caller can report it instead of dropping it silently."""
    from logan.errors import LoganError

    try:
        if isinstance(source, Path):
            if source.stat().st_size > 4 * MAX_CONFIG_CHARS:
                return ConfigRead(None, None, f"{source}: too large for a config; not read")
            text = source.read_text(encoding="utf-8", errors="replace")
            name = str(source)
        else:
            text = source
        return ConfigRead(load_config(text, name=name), text)
    except LoganError as exc:
        return ConfigRead(None, None, str(exc))
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        return ConfigRead(None, None, f"{name or 'config'}: cannot be read ({type(exc).__name__})")

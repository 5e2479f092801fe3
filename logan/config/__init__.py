"""Training configs read as data, never executed: shared by run assembly and schedule checks.

`evaluate` turns one Python config's text into plain values, `inherit` follows `_base_` files as
mmengine's `Config` merges them, and `patch` writes and applies the config edits logan proposes.
"""

from __future__ import annotations

from logan.config.evaluate import (
    MAX_CONFIG_CHARS,
    UNKNOWN,
    Symbol,
    config_from_log_text,
    is_unknown,
    load_config,
)

__all__ = [
    "MAX_CONFIG_CHARS",
    "UNKNOWN",
    "Symbol",
    "config_from_log_text",
    "is_unknown",
    "load_config",
]

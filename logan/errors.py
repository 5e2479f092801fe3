"""logan's exceptions. Each message names the input and says what to do next, in one line."""

from __future__ import annotations


class LoganError(Exception):
    """Base class: the CLI prints the message alone (no traceback) and exits 2."""


class NoRunsFound(LoganError):
    """A path held nothing logan can read."""


class UnreadableInput(LoganError):
    """A file exists but none of it could be read."""


class ConfigError(LoganError):
    """A config file could not be parsed at all (syntax error, not Python)."""


class OutputError(LoganError):
    """`--out` cannot take the reports (a file, a device, a link planted inside it)."""

"""Robustness suite: prints how many generated bad inputs were tried and how many crashed."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.robustness import corpus

    total = sum(corpus.TRIED.values())
    if not total:
        return
    families = ", ".join(f"{k} {v}" for k, v in sorted(corpus.TRIED.items()))
    terminalreporter.write_line(
        f"robustness: {total} generated bad inputs tried ({families}); "
        f"exceptions escaped: {len(corpus.TRACEBACKS)}"
    )

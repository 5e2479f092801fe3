"""logan: read training logs, know the expected LR schedule, and find what went wrong.

Public API: analyze(), load_run(), read_scalars(), Run, Finding, Severity, Analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from logan.model import Analysis, Finding, Problem, Run, RunResult, Severity, Skipped

if TYPE_CHECKING:
    from logan.api import analyze, load_run, read_scalars

__all__ = [
    "Analysis",
    "Finding",
    "Problem",
    "Run",
    "RunResult",
    "Severity",
    "Skipped",
    "__version__",
    "analyze",
    "load_run",
    "read_scalars",
]


def __getattr__(name: str) -> Any:
    # The API pulls in pandas; keep `import logan` (and so `logan --help`) light.
    if name in ("analyze", "load_run", "read_scalars"):
        from logan import api

        return getattr(api, name)
    raise AttributeError(name)

"""logan: read training logs, know the expected LR schedule, and find what went wrong.

Public API:

- ``analyze(paths, select=None, ignore=None, ...) -> Analysis``: every run under the paths,
  checked; never raises for bad input (it becomes ``Analysis.problems``).
- ``load_run(path) -> Run``: one run, its tidy scalar table in ``run.scalars``.
- ``read_scalars(path, tags=None) -> pandas.DataFrame``: the tidy table of one file or run.
- ``Run``, ``RunResult``, ``Analysis``, ``Finding``, ``Severity``, ``Problem``, ``Skipped``.

Example::

    import logan
    analysis = logan.analyze("work_dirs/", select=["LR"])
    for result in analysis.results:
        print(result.run.path, [f.code for f in result.findings])
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
_LAZY = ("analyze", "load_run", "read_scalars")


def __getattr__(name: str) -> Any:
    # The API pulls in pandas; keep `import logan` (and so `logan --help`) light.
    if name in _LAZY:
        from logan import api

        return getattr(api, name)
    raise AttributeError(f"module 'logan' has no attribute {name!r}")


def __dir__() -> list[str]:
    # What `dir(logan)`, tab completion and `help(logan)` list: the API, not typing helpers.
    return sorted(__all__)

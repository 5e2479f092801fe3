"""The one orchestrator: discover -> read -> Run -> expected schedule -> checks -> Analysis.

`analyze()` never raises for bad input: runs that cannot be read become `problems`, and everything
readable is still analysed. Runs are loaded and checked one at a time so memory does not grow with
the number of runs beyond their (small) findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from logan.checks import Rule, overridden, run_checks, selected
from logan.discover import RunSpec, discover
from logan.errors import LoganError, NoRunsFound
from logan.load import load
from logan.model import Analysis, Problem, Run, RunResult
from logan.schedule.expected import build_expected


def analyze_run(run: Run, rules: list[Rule] | None = None) -> RunResult:
    """Expected schedule and checks for one already-loaded run."""
    errors: list[str] = []
    try:
        expected = build_expected(run)
    except Exception as exc:  # noqa: BLE001 - a bug here costs the expectation, not the run
        expected = None
        errors.append(f"expected schedule failed ({type(exc).__name__}: {exc}); please report")
    findings = run_checks(run, expected, rules, errors)
    return RunResult(run=run, findings=findings, expected=expected, errors=errors)


def _analyze_spec(
    spec: RunSpec, rules: list[Rule] | None, limits: Mapping[str, float] | None = None
) -> RunResult | Problem:
    """Load and check one run; a failure becomes a Problem so the other runs go on."""
    try:
        with overridden(limits or {}):
            return analyze_run(load(spec), rules)
    except LoganError as exc:
        return Problem(spec.display, str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the others
        return Problem(
            spec.display,
            f"could not be analysed ({type(exc).__name__}: {exc}); please report this with the "
            "file attached",
        )


def analyze(
    paths: str | Path | Sequence[str | Path],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    jobs: int = 1,
    thresholds: Mapping[str, float] | None = None,
) -> Analysis:
    """Find every run under `paths`, read it, and check it.

    `select`/`ignore` take rule-code prefixes (`LR`, `LS002`). `progress(i, n, run_path)` is called
    as runs finish (the CLI draws its progress bar with it). `jobs > 1` analyses runs in a process
    pool; results keep discovery order, so the output does not depend on `jobs`. `thresholds`
    overrides rule constants, e.g. {"LS002.SPIKE_Z": 6}.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found = discover(list(paths))
    problems = [Problem(p, m) for p, m in found.problems]
    rules = selected(select, ignore)
    limits = dict(thresholds or {})
    with overridden(limits):
        pass  # validate the names up front: a typo is a usage error, not a per-run problem
    specs = found.runs
    outcomes: Iterable[RunResult | Problem]
    if jobs > 1 and len(specs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs)
        outcomes = pool.map(
            _analyze_spec, specs, [rules] * len(specs), [limits] * len(specs), chunksize=1
        )
    else:
        pool = None
        outcomes = (_analyze_spec(spec, rules, limits) for spec in specs)
    results: list[RunResult] = []
    try:
        for i, outcome in enumerate(outcomes):
            if progress:
                progress(i + 1, len(specs), specs[i].display)
            if isinstance(outcome, Problem):
                problems.append(outcome)
            else:
                results.append(outcome)
                problems.extend(Problem(outcome.run.path, e) for e in outcome.errors)
    finally:
        if pool is not None:
            pool.shutdown()
    return Analysis(results=results, problems=problems)


def load_run(path: str | Path) -> Run:
    """Read the single run at `path` (a work_dir, a timestamp folder or one log file)."""
    found = discover([path])
    if not found.runs:
        detail = found.problems[0][1] if found.problems else "no training logs found"
        raise NoRunsFound(f"{path}: {detail}")
    if len(found.runs) > 1:
        names = ", ".join(r.display for r in found.runs[:5])
        raise LoganError(f"{path}: holds {len(found.runs)} runs ({names}); give one of them")
    return load(found.runs[0])


def read_scalars(path: str | Path, tags: Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy scalar table (step, epoch, tag, value, session, wall_time) of one file or run."""
    table = load_run(path).scalars
    if tags is not None:
        table = table[table["tag"].isin(list(tags))].reset_index(drop=True)
    return table

"""The one orchestrator: discover -> read -> Run -> expected schedule -> checks -> Analysis.

`analyze()` never raises for bad input: runs that cannot be read become `problems`, and everything
readable is still analysed. Runs are loaded and checked one at a time so memory does not grow with
the number of runs beyond their (small) findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from logan.checks import Overrides, Rule, parse_overrides, run_checks, selected
from logan.discover import RunSpec, discover
from logan.errors import LoganError, NoRunsFound
from logan.load import load_all
from logan.model import Analysis, NotAnalysed, Problem, Run, RunResult
from logan.schedule.expected import build_expected


def analyze_run(
    run: Run, rules: list[Rule] | None = None, overrides: Overrides | None = None
) -> RunResult:
    """Expected schedule and checks for one already-loaded run (`overrides`: thresholds per rule
    code, as `parse_overrides` returns them)."""
    errors: list[str] = []
    try:
        expected = build_expected(run)
    except Exception as exc:  # noqa: BLE001 - a bug here costs the expectation, not the run
        expected = None
        errors.append(f"expected schedule failed ({type(exc).__name__}: {exc}); please report")
    findings = run_checks(run, expected, rules, errors, overrides)
    return RunResult(run=run, findings=findings, expected=expected, errors=errors)


# Writes one run's output as soon as it is analysed: (result, index of the run in discovery order).
Sink = Callable[[RunResult, int], None]


def slim(result: RunResult) -> RunResult:
    """The same verdict without the heavy parts: the scalar table shrinks to the row that states
    the last step, the expected schedule to its landmarks. What `check` keeps per run, so that
    memory does not grow with the number of runs."""
    run = result.run
    train = run.train_scalars()
    keep = train.loc[[train["step"].idxmax()]] if len(train) else run.scalars.iloc[:1]
    small_run = dataclasses.replace(run, scalars=keep.reset_index(drop=True))
    expected = result.expected
    if expected is not None:
        expected = dataclasses.replace(
            expected,
            steps=expected.steps[-1:],
            values=expected.values[-1:],
            # the per-iteration parts; the landmarks, match, cause and fix stay
            simulation=None,
            simulation_extended=None,
            configured_curve=None,
            intended_curve=None,
        )
    return dataclasses.replace(result, run=small_run, expected=expected)


@dataclass
class SpecOutcome:
    """What one discovered place gave: a result per attempt, problems, and sessions that hold
    no training (each with its reason)."""

    results: list[RunResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    not_analysed: list[NotAnalysed] = field(default_factory=list)


def _analyze_spec(
    spec: RunSpec,
    rules: list[Rule] | None,
    limits: Overrides | None = None,
    index: int = 0,
    sink: Sink | None = None,
    keep_scalars: bool = True,
) -> SpecOutcome:
    """Load and check every attempt of one place, hand each to `sink`, and return them (slimmed
    unless asked to keep their scalars); a failure becomes a Problem so the other runs go on."""
    outcome = SpecOutcome()
    try:
        loaded = load_all(spec)
    except LoganError as exc:
        outcome.problems.append(Problem(spec.display, str(exc)))
        return outcome
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the others
        outcome.problems.append(Problem(spec.display, _bug(exc)))
        return outcome
    outcome.not_analysed.extend(NotAnalysed(p, r) for p, r in loaded.unread)
    for run in loaded.runs:
        try:
            result = analyze_run(run, rules, limits)
            if sink is not None:
                try:
                    sink(result, index)
                except LoganError as exc:  # e.g. a link planted in --out: refused, said as it is
                    result.errors.append(str(exc))
                except Exception as exc:  # noqa: BLE001 - a report that fails costs the report
                    result.errors.append(
                        f"report could not be written ({type(exc).__name__}: {exc}); please report"
                    )
            outcome.results.append(result if keep_scalars else slim(result))
        except LoganError as exc:
            outcome.problems.append(Problem(run.path, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken run must not stop the others
            outcome.problems.append(Problem(run.path, _bug(exc)))
    return outcome


def _bug(exc: Exception) -> str:
    return (
        f"could not be analysed ({type(exc).__name__}: {exc}); please report this with the "
        "file attached"
    )


def analyze(
    paths: str | Path | Sequence[str | Path],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    jobs: int = 1,
    thresholds: Mapping[str, float] | None = None,
    sink: Callable[[list[str]], Sink] | None = None,
    keep_scalars: bool = True,
) -> Analysis:
    """Find every run under `paths`, read it, and check it.

    `select`/`ignore` take rule-code prefixes (`LR`, `LS002`). `progress(i, n, run_path)` is called
    as runs finish (the CLI draws its progress bar with it). `jobs > 1` analyses runs in a process
    pool; results keep discovery order, so the output does not depend on `jobs`. `thresholds`
    overrides rule constants, e.g. {"LS002.SPIKE_Z": 6}. `sink(run_paths)` is called once with
    the paths of the runs found and returns a per-run callback `(result, index)`, called with
    each full result as soon as it is ready (in the worker process with `jobs > 1`, so it must
    pickle); `keep_scalars=False` keeps only a slim result per run (see `slim`).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found = discover(list(paths))
    problems = [Problem(p, m) for p, m in found.problems]
    rules = selected(select, ignore)
    # Validated up front: a typo is a usage error, not a per-run problem.
    limits = parse_overrides(thresholds or {})
    specs = found.runs
    per_run = sink([s.display for s in specs]) if sink is not None else None
    outcomes: Iterable[SpecOutcome]
    if jobs > 1 and len(specs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs)
        n = len(specs)
        outcomes = pool.map(
            _analyze_spec,
            specs,
            [rules] * n,
            [limits] * n,
            range(n),
            [per_run] * n,
            [keep_scalars] * n,
            chunksize=1,
        )
    else:
        pool = None
        outcomes = (
            _analyze_spec(spec, rules, limits, i, per_run, keep_scalars)
            for i, spec in enumerate(specs)
        )
    results: list[RunResult] = []
    not_analysed = [NotAnalysed(p, m) for p, m in found.unread]
    try:
        for i, outcome in enumerate(outcomes):
            if progress:
                progress(i + 1, len(specs), specs[i].display)
            problems.extend(outcome.problems)
            not_analysed.extend(outcome.not_analysed)
            for result in outcome.results:
                results.append(result)
                problems.extend(Problem(result.run.path, e) for e in result.errors)
    finally:
        if pool is not None:
            pool.shutdown()
    return Analysis(results=results, problems=problems, not_analysed=not_analysed)


def load_run(path: str | Path) -> Run:
    """Read the single run at `path` (a work_dir, a timestamp folder or one log file). A folder
    holding several attempts (fresh starts) is refused with their names: give one of them."""
    found = discover([path])
    if not found.runs:
        detail = found.problems[0][1] if found.problems else "no training logs found"
        raise NoRunsFound(f"{path}: {detail}")
    runs = [run for spec in found.runs for run in load_all(spec).runs]
    if not runs:
        raise NoRunsFound(f"{path}: no training session found")
    if len(runs) > 1:
        names = ", ".join(r.path for r in runs[:5])
        raise LoganError(f"{path}: holds {len(runs)} runs ({names}); give one of them")
    return runs[0]


def read_scalars(path: str | Path, tags: Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy scalar table (step, epoch, tag, value, session, wall_time) of one file or run."""
    table = load_run(path).scalars
    if tags is not None:
        table = table[table["tag"].isin(list(tags))].reset_index(drop=True)
    return table

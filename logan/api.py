"""The one orchestrator: discover -> read -> Run -> expected schedule -> checks -> Analysis.

`analyze()` never raises for bad input: runs that cannot be read become `problems`, and everything
readable is still analysed. Runs are loaded and checked one at a time so memory does not grow with
the number of runs beyond their (small) findings.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from logan.cache import Cache, is_current, lookup, store
from logan.checks import Overrides, Rule, parse_overrides, run_checks, selected
from logan.discover import RunSpec, discover
from logan.errors import LoganError, NoRunsFound
from logan.load import load_all
from logan.model import Analysis, NotAnalysed, Problem, Run, RunResult, RunSummary
from logan.readers.base import empty_frame
from logan.remote import any_url, is_url
from logan.schedule.expected import build_expected
from logan.spool import SpooledResults


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

# The table of every slimmed run: one shared, empty, already categorical (no copy per run). Code
# that meets it must not take column views of it: pandas' copy-on-write bookkeeping would keep
# a reference per view, for as long as the process lives (see Run.__post_init__).
_NO_SCALARS = empty_frame().astype({"tag": "category"})


def slim(result: RunResult) -> RunResult:
    """The same verdict without the heavy parts: the scalar table gives way to a summary (last
    step, tags), the expected schedule shrinks to its landmarks. What `check` keeps per run, so
    that memory does not grow with the number of runs beyond their findings."""
    run = result.run
    # Tag names repeat across thousands of runs: one string each, shared.
    summary = RunSummary(last_step=run.last_step, tags=tuple(sys.intern(t) for t in run.tags))
    # Each session's config and the config text are for the checks and the per-run report (both
    # done by now): a slim run keeps neither.
    sessions = tuple(dataclasses.replace(s, config=None) for s in run.sessions)
    meta = {k: v for k, v in run.meta.items() if k not in ("config_text", "hf_args_text")}
    small_run = dataclasses.replace(
        run, scalars=_NO_SCALARS, summary=summary, sessions=sessions, meta=meta
    )
    expected = result.expected
    if expected is not None:
        expected = dataclasses.replace(
            expected,
            # copies: a slice would keep the whole curve alive through its base array
            steps=expected.steps[-1:].copy(),
            values=expected.values[-1:].copy(),
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
    cache: Cache | None = None,
) -> SpecOutcome:
    """`_analyze_place`, answered from `cache` (slim results only) when the place is unchanged
    and the sink's output for it is current; a clean fresh outcome is stored."""
    use = cache if not keep_scalars else None
    key, hit = _cached(spec, rules, limits, sink, use)
    if hit is not None:
        return hit
    outcome = _analyze_place(spec, rules, limits, index, sink, keep_scalars)
    if not outcome.problems and not any(r.errors for r in outcome.results):
        store(use, key, outcome, sink, [r.run.path for r in outcome.results])
    return outcome


def _cached(
    spec: RunSpec,
    rules: list[Rule] | None,
    limits: Overrides | None,
    sink: Sink | None,
    cache: Cache | None,
) -> tuple[str | None, SpecOutcome | None]:
    """(cache key, the stored outcome when it and the sink's output for it are current)."""
    codes = [r.code for r in (rules if rules is not None else selected())]
    key, hit = lookup(cache, spec, codes, limits or {})
    if isinstance(hit, SpecOutcome):
        if sink is None or is_current(sink, [r.run.path for r in hit.results], key):
            return key, hit
    return key, None


def _analyze_place(
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
    cache: Cache | None = None,
    executor: Executor | None = None,
) -> Analysis:
    """Find every run under `paths`, read it, and check it.

    `select`/`ignore` take rule-code prefixes (`LR`, `LS002`). `progress(i, n, run_path)` is called
    as runs finish (the CLI draws its progress bar with it). `jobs > 1` analyses runs in a process
    pool; results keep discovery order, so the output does not depend on `jobs`. `thresholds`
    overrides rule constants, e.g. {"LS002.SPIKE_Z": 6}. `sink(run_paths)` is called once with
    the paths of the runs found and returns a per-run callback `(result, index)`, called with
    each full result as soon as it is ready (in the worker process with `jobs > 1`, so it must
    pickle); `keep_scalars=False` keeps only a slim result per run (see `slim`), and then a
    `cache` (logan.cache.Cache) answers unchanged places from their stored outcome. `executor`
    (any concurrent.futures.Executor, e.g. a Dask client's `get_executor()`) runs the per-run
    analysis instead of `jobs`. URLs (`s3://`, `gs://`, any fsspec protocol) are fetched into a
    temporary copy first and shown as URLs (see logan.remote).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if any_url(paths):
        from logan.remote import analyze_mirrored

        return analyze_mirrored(
            analyze, paths, select=select, ignore=ignore, progress=progress, jobs=jobs,
            thresholds=thresholds, sink=sink, keep_scalars=keep_scalars, executor=executor,
        )  # fmt: skip
    found = discover(list(paths))
    problems = [Problem(p, m) for p, m in found.problems]
    rules = selected(select, ignore)
    # Validated up front: a typo is a usage error, not a per-run problem.
    limits = parse_overrides(thresholds or {})
    specs = found.runs
    per_run = sink([s.display for s in specs]) if sink is not None else None
    # Unchanged places are answered here: only the others go to the workers.
    use = cache if not keep_scalars else None
    hits = {i: _cached(spec, rules, limits, per_run, use)[1] for i, spec in enumerate(specs)}
    todo = [i for i, hit in hits.items() if hit is None]
    fresh: Iterable[SpecOutcome]
    pool: Executor | None = None
    if executor is not None and todo:
        calls = ((specs[i], rules, limits, i, per_run, keep_scalars, cache) for i in todo)
        fresh = _in_order(executor, calls, window=EXECUTOR_WINDOW)
    elif jobs > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs)
        fresh = _in_order(
            pool,
            ((specs[i], rules, limits, i, per_run, keep_scalars, cache) for i in todo),
            window=4 * jobs,
        )
    else:
        fresh = (
            _analyze_spec(specs[i], rules, limits, i, per_run, keep_scalars, cache) for i in todo
        )
    fresh_iter = iter(fresh)
    outcomes = (hits[i] or next(fresh_iter) for i in range(len(specs)))
    # Slim results (what `check` keeps) wait on disk: memory stays flat in the number of runs.
    results: list[RunResult] | SpooledResults = [] if keep_scalars else SpooledResults()
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


# Runs submitted ahead to an `executor` (a cluster of unknown size): enough to keep a few hundred
# workers busy, few enough that pending arguments stay small.
EXECUTOR_WINDOW = 512


def _in_order(
    pool: Executor, calls: Iterator[tuple[Any, ...]], window: int
) -> Iterator[SpecOutcome]:
    """`_analyze_spec` over `calls` in the pool, results in order, with at most `window` runs
    submitted ahead: `Executor.map` submits every run at once (200,000 pending futures and their
    arguments before the first result)."""
    pending: deque[Future[SpecOutcome]] = deque()
    for args in calls:
        pending.append(pool.submit(_analyze_spec, *args))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def load_run(path: str | Path) -> Run:
    """Read the single run at `path` (a work_dir, a timestamp folder or one log file). A folder
    holding several attempts (fresh starts) is refused with their names: give one of them."""
    if is_url(path):
        from logan.remote import load_mirrored

        return load_mirrored(load_run, str(path))
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
        # Only the tags asked for remain as categories (`table.tag.cat.categories`, groupby).
        table["tag"] = table["tag"].cat.remove_unused_categories()
    return table

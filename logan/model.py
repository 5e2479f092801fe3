"""The data model every stage shares: Run (what was read), Finding (what a check says), Analysis.

A Run is immutable and holds one long, tidy scalar table; wide views are derived on demand so that
readers, checks and reports agree on one shape (see SCALAR_COLUMNS).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported lazily: `logan --help` must stay fast.
    import numpy as np
    import pandas as pd

    # What every LR simulator returns (a typed, frozen record of the simulated curves).
    from logan.schedule.mmengine import Simulation

# The tidy table: one row per logged scalar. `epoch` is the epochs completed at `step` when the
# producer says so (NaN otherwise); `session` numbers the training sessions stitched into the run.
SCALAR_COLUMNS = ("step", "epoch", "tag", "value", "session", "wall_time")

# Validation scalars live in the same table under this prefix, so training curves stay clean.
VAL_PREFIX = "val/"
# Tags that are not training curves: validation metrics, and end-of-training summaries (HF).
NOT_TRAINING = (VAL_PREFIX, "summary/")


def tag_prefix_mask(tags: pd.Series, prefixes: str | tuple[str, ...]) -> np.ndarray:
    """Boolean mask of rows whose tag starts with `prefixes`. Tests each distinct tag once (a run
    has a few tags and up to millions of rows: string tests per row dominated a large tree)."""
    import numpy
    import pandas

    if isinstance(tags.dtype, pandas.CategoricalDtype):  # Run's tag column: codes are free
        codes, uniques = tags.cat.codes.to_numpy(), tags.cat.categories
    else:
        codes, uniques = pandas.factorize(tags)
    flags = numpy.array([str(u).startswith(prefixes) for u in uniques] + [False], dtype=bool)
    return flags[codes]  # code -1 (a missing tag) picks the trailing False


def not_training(tags: pd.Series) -> np.ndarray:
    """Boolean mask of validation/summary rows."""
    return tag_prefix_mask(tags, NOT_TRAINING)


class Severity(str, enum.Enum):
    """How bad a finding is; ordered so that `--fail-on` can compare."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Finding:
    """One fault a check found: a stable code, a one-line message with the numbers, and a hint."""

    code: str
    name: str
    severity: Severity
    message: str
    step: int | None = None
    end_step: int | None = None
    epoch: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    hint: str = ""


@dataclass(frozen=True)
class Skipped:
    """A piece of input that could not be read: which file, where, and why."""

    path: str
    where: str
    reason: str


@dataclass(frozen=True)
class Session:
    """One training session (an mmengine timestamp folder, an event file, ...)."""

    name: str
    source: str
    first_step: int | None = None
    last_step: int | None = None
    # True when the step count started again from the beginning (a `load_from` restart, not a
    # resume): the session is kept apart so that a check can report it.
    restarted: bool = False
    # Added to this session's logged steps so that a restarted session follows the one before it
    # on one timeline instead of overwriting it.
    step_offset: int = 0
    # How the session began, decided from its own config and first steps (see SessionKind).
    kind: str = "fresh"
    # The config this session ran with (its vis_data/config.py, or the one printed in its text
    # log), read as data; None when the session left none. Resume checks compare these.
    config: dict[str, Any] | None = None
    config_path: str | None = None


class SessionKind(str, enum.Enum):
    """How a session relates to the ones before it in the same folder.

    A *resume* restores the step counter, scheduler and optimizer from a checkpoint; a
    *load_from* continuation starts the schedule again from weights an earlier session of the
    same folder wrote (LR004's case); a *fresh* start begins a new attempt; *test* and
    *no_training* sessions train nothing and are accounted for, not analysed.
    """

    FRESH = "fresh"
    RESUME = "resume"
    LOAD_FROM = "load_from"
    TEST = "test"
    NO_TRAINING = "no_training"


@dataclass(frozen=True)
class RunSummary:
    """What the reports need of a run whose scalar table was let go (`logan.api.slim`): a
    one-row table per run cost ~7 KB, which 200,000 runs multiply into gigabytes."""

    last_step: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """Everything logan read about one training run."""

    path: str  # as shown to the user: relative to what was given on the command line
    root: Path
    producer: str  # mmengine | mmcv | tensorboard | hf | lightning
    sources: tuple[str, ...]
    scalars: pd.DataFrame
    sessions: tuple[Session, ...] = ()
    config: dict[str, Any] | None = None
    config_path: str | None = None
    epoch_length: int | None = None
    max_epochs: int | None = None
    max_iters: int | None = None
    skipped: tuple[Skipped, ...] = ()
    # Reader facts a check may need: e.g. "precision" (relative precision of the printed LR) and
    # "precision_abs" (absolute rounding, mmcv's 5 decimals),
    # "by_epoch" (epoch-based loop), "loop" (the train loop type from the config).
    meta: dict[str, Any] = field(default_factory=dict)
    # Set (with an empty `scalars`) when the table was dropped after the checks ran.
    summary: RunSummary | None = None
    # Views derived from `scalars` (each check asks for the same few series): computed once per
    # Run, which is immutable; never pickled (a worker's result or a cache entry stays small).
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __post_init__(self) -> None:
        # A categorical tag column: every check selects rows by tag, and comparing integer codes
        # is ~10x faster than comparing strings (it dominated the time of a large tree).
        import pandas

        # The dtype is read without taking a column view: a view of a table shared by many runs
        # (a slim run's empty one) would be kept in pandas' copy-on-write references forever.
        if not isinstance(self.scalars.dtypes["tag"], pandas.CategoricalDtype):
            scalars = self.scalars.assign(tag=self.scalars["tag"].astype("category"))
            object.__setattr__(self, "scalars", scalars)

    @property
    def last_step(self) -> int | None:
        if self.summary is not None:
            return self.summary.last_step
        steps = self.train_scalars()["step"]
        return int(steps.max()) if len(steps) else None

    def train_scalars(self) -> pd.DataFrame:
        """Rows of training scalars (validation and summary rows left out)."""
        mask = self._memo.get("training")
        if mask is None:
            mask = self._memo["training"] = ~not_training(self.scalars["tag"])
        return self.scalars[mask]

    def series(self, tag: str, finite: bool = False) -> pd.Series:
        """One tag as a float Series indexed by step (sorted, last value wins on duplicates);
        `finite=True` leaves out NaN and infinite values. A copy: callers may change it."""
        import numpy
        import pandas

        key = ("series", tag, finite)
        s = self._memo.get(key)
        if s is None:
            rows = self._rows_by_tag().get(tag, numpy.empty(0, dtype=numpy.int64))
            steps = self.scalars["step"].to_numpy()[rows]
            values = self.scalars["value"].to_numpy(dtype="float64")[rows]
            order = numpy.argsort(steps, kind="stable")
            steps, values = steps[order], values[order]
            last = numpy.r_[steps[1:] != steps[:-1], True] if len(steps) else order > 0
            steps, values = steps[last], values[last]
            if finite:
                keep = numpy.abs(values) < numpy.inf
                steps, values = steps[keep], values[keep]
            index = pandas.Index(steps, dtype=self.scalars["step"].dtype, name="step")
            s = self._memo[key] = pandas.Series(values, index=index, name="value")
        return s.copy()

    def _rows_by_tag(self) -> dict[str, np.ndarray]:
        """Row numbers of each tag, in table order: one sort for all the series of a run."""
        found = self._memo.get("rows_by_tag")
        if found is None:
            import numpy

            tags = self.scalars["tag"]
            codes = tags.cat.codes.to_numpy()
            order = numpy.argsort(codes, kind="stable")
            bounds = numpy.searchsorted(codes[order], numpy.arange(len(tags.cat.categories) + 1))
            found = {
                str(cat): order[bounds[i] : bounds[i + 1]]
                for i, cat in enumerate(tags.cat.categories)
                if bounds[i + 1] > bounds[i]
            }
            self._memo["rows_by_tag"] = found
        return found

    @property
    def tags(self) -> list[str]:
        """The tags this run logged, sorted (only those with rows, whatever the categories)."""
        if self.summary is not None:
            return list(self.summary.tags)
        return sorted(self.scalars["tag"].unique().tolist())

    def __repr__(self) -> str:
        # One line: the default repr would print the whole table and config.
        return (
            f"Run(path={self.path!r}, producer={self.producer!r}, rows={len(self.scalars)}, "
            f"tags={len(self.tags)}, last_step={self.last_step}, sessions={len(self.sessions)})"
        )


@dataclass(frozen=True)
class ScheduleMatch:
    """How well a simulated schedule reproduces the logged LR (reported as `schedule_match`)."""

    matches: bool
    max_rel_error: float | None
    points: int
    simulated_iters: int
    # A constant logged/simulated ratio: a scale error (lr_mult, another base LR), not a shape one.
    scale: float | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schema 1): optional keys only when set."""
        out: dict[str, Any] = {
            "max_rel_error": self.max_rel_error,
            "points": self.points,
            "simulated_iters": self.simulated_iters,
            "matches": self.matches,
        }
        if self.scale is not None:
            out["scale"] = self.scale
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Expected:
    """What the LR should have been at each logged step, and what it was built from.

    `source` is "config" when the run's config was simulated and reproduces the log (then
    `simulation` is set, with `cause`/`fix` when the config does not do what it says), "logs"
    when the schedule is a cosine inferred from the LR alone.
    """

    source: str  # "logs" (inferred cosine) or "config" (simulated scheduler)
    steps: np.ndarray
    values: np.ndarray
    peak: float
    peak_step: int
    warmup_end: int | None
    floor: float
    last_step: int
    shape: str  # "smooth", "staircase", "constant", "rising" or "unknown"
    # The config's simulation (set when source == "config"), and the same config simulated past
    # the end of training (to see where a schedule that reaches past the end would stop).
    simulation: Simulation | None = None
    simulation_extended: Simulation | None = None
    # How the config's simulation compares with the log (also set when it did not match).
    match: ScheduleMatch | None = None
    # Curves over every iteration for plots: as configured, and as intended when they differ.
    configured_curve: tuple[np.ndarray, np.ndarray] | None = None
    intended_curve: tuple[np.ndarray, np.ndarray] | None = None
    cause: str | None = None
    fix: str | None = None

    def at(self, step: int) -> float:
        """Expected LR at any step (interpolated between logged steps)."""
        import numpy

        return float(numpy.interp(step, self.steps, self.values))

    @property
    def extra(self) -> dict[str, Any]:
        """The typed fields as 0.1's `extra` dict, read-only, for code written against it."""
        out: dict[str, Any] = {}
        if self.match is not None:
            out["schedule_match"] = self.match.as_dict()
        for key in ("simulation", "simulation_extended", "configured_curve", "intended_curve"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("cause", "fix"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Problem:
    """An input that produced no run at all, reported instead of raising."""

    path: str
    message: str


@dataclass
class RunResult:
    """A run with what the checks said about it and the schedule they compared against."""

    run: Run
    findings: list[Finding]
    expected: Expected | None = None  # the schedule the checks compared against, if any
    # Checks that failed on this run (a bug in logan, not in the run): reported as problems.
    errors: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        codes = [f.code for f in self.findings]
        return f"RunResult(path={self.run.path!r}, findings={codes})"


@dataclass(frozen=True)
class NotAnalysed:
    """A session or file that looks like a training log but yields no training run, and why:
    test-only, ended before the first training line, config only, predict only, empty, damaged."""

    path: str
    reason: str


@dataclass
class Analysis:
    """The result of `logan.analyze`: one RunResult per run found, the inputs that failed, and
    the sessions and files that hold no training (each with its reason)."""

    # A list, or with `keep_scalars=False` a read-only sequence spooled to disk (logan.spool).
    results: Sequence[RunResult]
    problems: list[Problem]
    not_analysed: list[NotAnalysed] = field(default_factory=list)

    @property
    def runs(self) -> list[Run]:
        return [r.run for r in self.results]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def worst(self) -> Severity | None:
        ranked = sorted(self.findings, key=lambda f: f.severity.rank, reverse=True)
        return ranked[0].severity if ranked else None

    def __repr__(self) -> str:
        return (
            f"Analysis(runs={len(self.results)}, findings={len(self.findings)}, "
            f"problems={len(self.problems)})"
        )

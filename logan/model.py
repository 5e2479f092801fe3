"""The data model every stage shares: Run (what was read), Finding (what a check says), Analysis.

A Run is immutable and holds one long, tidy scalar table; wide views are derived on demand so that
readers, checks and reports agree on one shape (see SCALAR_COLUMNS).
"""

from __future__ import annotations

import enum
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

    def __post_init__(self) -> None:
        # A categorical tag column: every check selects rows by tag, and comparing integer codes
        # is ~10x faster than comparing strings (it dominated the time of a large tree).
        import pandas

        tags = self.scalars["tag"]
        if not isinstance(tags.dtype, pandas.CategoricalDtype):
            scalars = self.scalars.assign(tag=tags.astype("category"))
            object.__setattr__(self, "scalars", scalars)

    @property
    def last_step(self) -> int | None:
        steps = self.train_scalars()["step"]
        return int(steps.max()) if len(steps) else None

    def train_scalars(self) -> pd.DataFrame:
        """Rows of training scalars (validation and summary rows left out)."""
        return self.scalars[~not_training(self.scalars["tag"])]

    def series(self, tag: str, finite: bool = False) -> pd.Series:
        """One tag as a float Series indexed by step (sorted, last value wins on duplicates);
        `finite=True` leaves out NaN and infinite values."""
        frame = self.scalars[self.scalars["tag"] == tag]
        s = frame.set_index("step")["value"].sort_index(kind="stable")
        s = s[~s.index.duplicated(keep="last")].astype("float64")
        return s[s.abs() < float("inf")] if finite else s

    def tags(self) -> list[str]:
        return sorted(self.scalars["tag"].unique().tolist())


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

    results: list[RunResult]
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

"""Check training configs before anyone trains: `logan schedule PATHS...` as a library call.

Each config is read as data with its `_base_` files (`logan.config.inherit`), simulated as
mmengine would run it, and given LR001 where the LR as run freezes while training continues and
LR002 where the schedule does not span training. Without an epoch length (none given, none in the
config) an epoch-based loop is simulated at a stated nominal length and the verdicts are given in
epochs and shares of training; a verdict is kept only when a second, different nominal length
gives it too, so what depends on the real epoch length is never reported.
"""

from __future__ import annotations

import ast
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from logan.config import is_unknown
from logan.config.inherit import ConfigLoader, LoadedConfig
from logan.config.patch import fix_diff, scheduler_nodes
from logan.errors import ConfigError
from logan.model import Finding, Problem, Severity
from logan.schedule.base import Simulation, Unsupported
from logan.schedule.fit import (
    FAR,
    FAR_MIN_ITERS,
    NEAR,
    Misfit,
    last_change,
    schedule_misfits,
)
from logan.schedule.mmengine import scheduler_cfgs, simulate_config, simulate_with_tail
from logan.schedule.runner import loop_from_cfg, resolve
from logan.schedule.schedulers import REGISTRY, scheduler_kind

# Without a real epoch length, an epoch has NOMINAL_ITERS / max_epochs iterations (at least
# MIN_NOMINAL_EPOCH): fine enough that a 3% warmup of one epoch is 36 iterations, coarse enough
# that a 300-epoch config costs milliseconds. Verdicts must hold at a second, different length
# too: a schedule mixing iteration counts (a 500-iteration warmup) with epochs is judged only
# where the real length cannot change the verdict.
NOMINAL_ITERS = 1200
MIN_NOMINAL_EPOCH = 20
# An iteration-based run longer than COARSE_ABOVE iterations is simulated in steps of d
# iterations, d dividing every iteration count of its schedule (so the shape is exact) and
# leaving at least COARSE_TARGET steps: a 320,000-iteration PolyLR costs 4,000 steps.
COARSE_ABOVE = 20_000
COARSE_TARGET = 4_000
# LR001 before training: the LR as run must stay frozen for at least this share of training while
# the schedule as written still changes (the same share LR001 asks of a logged run).
FROZEN_MIN_SHARE = 0.10

LR001_HINT = (
    "Apply the fix shown: give the scheduler `end` (with by_epoch=True and "
    "convert_to_iter_based=True); a missing `end` defaults to the train loop's max_epochs, "
    "which is 1 for iteration-based loops such as XTuner's TrainLoop."
)
LR002_HINT = (
    "Make the last scheduler's end (and T_max or milestones) match the training length: "
    "end=max_epochs with convert_to_iter_based=True, or max_iters."
)


@dataclass(frozen=True)
class Location:
    """Where a finding's fix goes: the scheduler's line in the file that defines it (1-based)."""

    path: str
    line: int
    col: int = 1


@dataclass(frozen=True)
class ConfigCheck:
    """One training config: whether it could be simulated, why not, and what is wrong."""

    path: str
    simulated: bool
    reason: str | None
    epoch_length: int | None  # the real one, given or derived; None when nominal or unneeded
    nominal_epoch_length: int | None = None
    findings: tuple[Finding, ...] = ()
    locations: tuple[Location, ...] = ()  # one per finding
    simulation: Simulation | None = None
    extended: Simulation | None = None


@dataclass(frozen=True)
class ScheduleReport:
    """Every config checked, and the inputs that could not be read at all."""

    configs: tuple[ConfigCheck, ...]
    problems: tuple[Problem, ...] = ()
    bases_given: int = 0  # files named explicitly that are `_base_` files (checked through others)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.configs for f in c.findings]


@dataclass
class _Sizes:
    """How the epoch length is known: given, from a dataset size, or not at all."""

    epoch_length: int | None = None
    dataset_size: int | None = None
    batch_size: int | None = None

    def for_config(self, config: dict[str, Any]) -> int | None:
        if self.epoch_length:
            return self.epoch_length
        if not self.dataset_size:
            return None
        batch = self.batch_size
        loader = config.get("train_dataloader")
        if batch is None and isinstance(loader, dict):
            b = loader.get("batch_size")
            batch = b if isinstance(b, int) and not is_unknown(b) else None
        # mmengine's DefaultSampler keeps the last partial batch (drop_last=False).
        return math.ceil(self.dataset_size / batch) if batch else None


# -- finding configs ----------------------------------------------------------------------------


def discover(paths: Iterable[Path]) -> tuple[list[tuple[Path, bool]], list[Problem]]:
    """(file, named explicitly) for every `*.py` under `paths`, and the paths that are missing."""
    found: list[tuple[Path, bool]] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_file():
            found.append((path, True))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                if "_base_" in Path(root).parts:
                    continue  # bases are checked through the configs that use them
                found.extend((Path(root) / f, False) for f in sorted(files) if f.endswith(".py"))
        else:
            problems.append(Problem(str(path), "no such file or folder; check the path"))
    return found, problems


def is_training_config(values: dict[str, Any]) -> bool:
    """A config the Runner can train (directly or through its bases): a model, a train loop and an
    optimizer. A schedule-only base file (`schedules/schedule_1x.py`) is not one."""
    train = values.get("train_cfg")
    if not isinstance(train, dict) or not train or values.get("model") is None:
        return False
    return any(values.get(k) is not None for k in ("optim_wrapper", "optimizer"))


def check_paths(
    paths: Iterable[Path],
    *,
    epoch_length: int | None = None,
    dataset_size: int | None = None,
    batch_size: int | None = None,
    loader: ConfigLoader | None = None,
) -> ScheduleReport:
    """Check every training config under `paths` (files and folders) in one process."""
    loader = loader or ConfigLoader()
    sizes = _Sizes(epoch_length, dataset_size, batch_size)
    found, problems = discover(paths)
    loaded: list[tuple[Path, bool, LoadedConfig]] = []
    for path, explicit in found:
        try:
            loaded.append((path, explicit, loader.load(path)))
        except ConfigError as exc:
            if explicit or _looks_like_config(path):
                problems.append(Problem(str(path), _without_name(str(exc), path)))
    bases = {base for _, _, cfg in loaded for base in cfg.files[1:]}
    results = []
    bases_given = 0
    for path, explicit, cfg in loaded:
        training = is_training_config(cfg.values)
        # A config other configs inherit from is checked itself when it trains (mmdet's r50
        # config is the base of its r101 one); a partial base file only through its users.
        if "_base_" in path.parts or (path.resolve() in bases and not training):
            bases_given += explicit  # a pre-commit hook passes changed base files too
            continue
        if explicit or training or cfg.missing:  # a missing base is said, never hidden
            results.append(check_loaded(path, cfg, sizes))
    return ScheduleReport(tuple(results), tuple(problems), bases_given)


def _without_name(message: str, path: Path) -> str:
    """A ConfigError's message without the file name it starts with (the Problem names it)."""
    name = str(path.resolve())
    if message.startswith(name):
        return message[len(name) :].lstrip(":, ")
    return message


def _looks_like_config(path: Path) -> bool:
    """A file in a folder walk worth a problem line when unreadable (not a helper script)."""
    return path.name != "__init__.py" and "configs" in path.parts


# -- one config -----------------------------------------------------------------------------


def check_loaded(path: Path, cfg: LoadedConfig, sizes: _Sizes | None = None) -> ConfigCheck:
    """Simulate one loaded config and judge its schedule."""
    sizes = sizes or _Sizes()
    shown = str(path)
    if cfg.missing:
        return ConfigCheck(shown, False, "; ".join(cfg.missing), None)
    if not is_training_config(cfg.values):
        return ConfigCheck(
            shown, False, "not a training config (no model, train_cfg, optimizer)", None
        )
    length = sizes.for_config(cfg.values)
    values, step = _coarse(cfg.values) if length is None else (cfg.values, 1)
    try:
        sim, extended = _simulated(values, length)
        nominal = None
    except Unsupported as exc:
        if length is not None or "epoch length" not in str(exc):
            return ConfigCheck(shown, False, f"cannot simulate: {exc}", length)
        nominal = nominal_epoch_length(values)
        try:
            sim, extended = _simulated(values, nominal)
        except Unsupported as again:
            return ConfigCheck(shown, False, f"cannot simulate: {again}", None)
    train = values.get("train_cfg")
    iter_loop = isinstance(train, dict) and isinstance(train.get("max_iters"), int)
    judged = list(_judge(sim, extended, nominal, step, iter_loop))
    if nominal is not None and judged:
        judged = _confirmed(values, judged, nominal + nominal // 3 + 1)
    if not any(_kind(f)[1] == "ends-early" for f, _ in judged):
        judged.extend(_unreached_milestones(values, sim, nominal, step))
    findings, locations = [], []
    for finding, index in judged:
        where = _location(cfg, index)
        if finding.code == "LR001":
            finding = _with_fix(finding, cfg, sim, where)
        findings.append(finding)
        locations.append(where)
    return ConfigCheck(
        path=shown,
        simulated=True,
        reason=None,
        epoch_length=None if nominal else sim.epoch_length,
        nominal_epoch_length=nominal,
        findings=tuple(findings),
        locations=tuple(locations),
        simulation=sim,
        extended=extended,
    )


def _simulated(
    values: dict[str, Any], length: int | None, far: bool = True
) -> tuple[Simulation, Simulation]:
    """The simulation and the same schedule run past the end (see `fit.simulate_beyond`); `far`
    looks further only to say where a schedule that reaches past the end would stop."""
    total = loop_from_cfg(values.get("train_cfg"), length, None).max_iters
    sim, full = simulate_with_tail(values, length, horizon=NEAR * total)
    near = replace(sim, actual=full, total_iters=len(full))
    if not far or len(full) < 2 or full[-1] == full[-2]:
        return sim, near
    # At most FAR_MIN_ITERS (not fit's FAR_MAX_ITERS): a tree of configs cannot spend seconds on
    # how far past the end one schedule reaches; the verdict is already in `near`.
    horizon = min(FAR * sim.total_iters, FAR_MIN_ITERS)
    if horizon <= len(full):
        return sim, near
    return sim, simulate_config(values, length, total_iters=horizon) or near


def nominal_epoch_length(values: dict[str, Any]) -> int:
    """The iterations per epoch assumed when the real number is unknown (see NOMINAL_ITERS)."""
    train = values.get("train_cfg")
    epochs = train.get("max_epochs") if isinstance(train, dict) else None
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or epochs <= 0:
        return MIN_NOMINAL_EPOCH
    return max(MIN_NOMINAL_EPOCH, math.ceil(NOMINAL_ITERS / epochs))


def _confirmed(values: dict[str, Any], judged: list[Any], length: int) -> list[Any]:
    """Keep the verdicts a second nominal epoch length gives too."""
    try:
        other, extended = _simulated(values, length, far=False)
    except Unsupported:
        return []
    again = {_kind(f) for f, _ in _judge(other, extended, length)}
    return [(f, i) for f, i in judged if _kind(f) in again]


def _coarse(values: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A long iteration-based config with every iteration count divided by d, and d (else 1)."""
    train = values.get("train_cfg")
    cfgs = values.get("param_scheduler")
    if isinstance(cfgs, dict):
        cfgs = [cfgs]
    if not isinstance(train, dict) or not isinstance(cfgs, (list, tuple)):
        return values, 1
    total: Any = train.get("max_iters")
    if not _int(total) or total <= COARSE_ABOVE or not all(isinstance(c, dict) for c in cfgs):
        return values, 1
    counts: list[Any] = [total]
    for c in cfgs:
        if c.get("by_epoch", True) or c.get("convert_to_iter_based"):
            return values, 1
        counts.extend(c.get(k) for k in ("begin", "end") if k in c)
        for key in _iteration_keys(c):
            value = c.get(key)
            if value is not None:  # absent: derived from begin and end
                counts.extend(value if isinstance(value, (list, tuple)) else [value])
    if not all(_int(n) for n in counts):
        return values, 1
    g = math.gcd(*counts)
    d = max((k for k in range(1, total // COARSE_TARGET + 1) if g % k == 0), default=1)
    if d == 1:
        return values, 1
    scaled = []
    for c in cfgs:
        new = dict(c)
        for key in ("begin", "end", *_iteration_keys(c)):
            value = new.get(key)
            if isinstance(value, (list, tuple)):
                new[key] = [v // d for v in value]
            elif value is not None:
                new[key] = value // d
        scaled.append(new)
    return {**values, "train_cfg": {**train, "max_iters": total // d}, "param_scheduler": scaled}, d


def _iteration_keys(cfg: dict[str, Any]) -> tuple[str, ...]:
    kind = scheduler_kind(cfg.get("type"))
    if kind is None:
        return ()
    cls = REGISTRY[kind]
    return tuple(k for k in (cls.scaled_scalar, cls.scaled_list) if k)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _kind(finding: Finding) -> tuple[str, Any]:
    return finding.code, finding.evidence.get("kind")


# -- verdicts -------------------------------------------------------------------------------


def _judge(
    sim: Simulation,
    extended: Simulation | None,
    nominal: int | None,
    step: int = 1,
    iter_loop: bool = False,
) -> Iterator[tuple[Finding, int | None]]:
    """(finding, param_scheduler index it points at) for what goes wrong in the LR as run."""
    frozen = _frozen(sim)
    if frozen is not None:
        yield frozen, sim.cause_index
    last = max(sim.spans, key=lambda s: (s.end, s.index), default=None)
    for misfit in schedule_misfits(sim, extended):
        finding = _misfit_finding(misfit, sim, nominal, step, iter_loop)
        yield finding, last.index if last else None


def _frozen(sim: Simulation) -> Finding | None:
    """LR001 when the LR as run stops changing for a stretch of training the config meant to
    keep scheduling; None when the schedule as run spans training (however it differs)."""
    if not sim.cause:
        return None
    total = sim.total_iters
    start = last_change(sim.actual) + 2  # 1-based: the first iteration without a new LR
    stretch = total - start + 1
    share = stretch / total
    still = np.abs(np.diff(sim.intended[start - 2 :])) > 0 if start >= 2 else np.array([True])
    if share < FROZEN_MIN_SHARE or not bool(np.any(still)):
        return None
    value = float(sim.actual[-1])
    evidence = {
        "frozen_from_share": (start - 1) / total,
        "frozen_share": share,
        "frozen_lr": value,
        "intended_final_lr": float(sim.intended[-1]),
        "cause": sim.cause,
    }
    return Finding(
        code="LR001",
        name="lr-plateau",
        severity=Severity.ERROR,
        message=(
            f"the LR will stay at {value:.4g} for the last {share:.0%} of training instead of "
            f"following the schedule as written (down to {sim.intended[-1]:.4g}): {sim.cause}"
        ),
        step=start,
        end_step=total,
        epoch=(start - 1) / sim.epoch_length if sim.epoch_length else None,
        evidence=evidence,
        hint=LR001_HINT,
    )


def _misfit_finding(
    misfit: Misfit, sim: Simulation, nominal: int | None, step: int, iter_loop: bool
) -> Finding:
    total = sim.total_iters
    evidence = {"kind": misfit.kind, **misfit.evidence}
    if step > 1:
        message = _in_iterations(misfit, sim, step)
        for key in ("schedule_ends_at", "total_iters", "schedule_would_end_at"):
            if isinstance(evidence.get(key), int):
                evidence[key] *= step
    else:
        message = misfit.message if nominal is None else _in_epochs(misfit, sim, iter_loop)
    return Finding(
        code="LR002",
        name="schedule-length",
        severity=Severity.WARNING,
        message=message,
        step=None if nominal else (misfit.step - 1) * step + 1,
        end_step=None if nominal else total * step,
        epoch=(misfit.step - 1) / sim.epoch_length if sim.epoch_length else None,
        evidence=evidence,
        hint=LR002_HINT,
    )


def _in_iterations(misfit: Misfit, sim: Simulation, step: int) -> str:
    """A misfit of a coarse simulation told in the config's own iterations."""
    ev = misfit.evidence
    total = sim.total_iters * step
    if misfit.kind == "ends-early":
        return (
            f"the configured schedule ends at iteration {ev['schedule_ends_at'] * step} of "
            f"{total}: the LR sits at {ev['final_lr']:.4g} for the last {ev['flat_share']:.0%} "
            "of training"
        )
    ends = ev.get("schedule_would_end_at")
    reach = (
        f"would keep changing until about iteration {ends * step}"
        if ends
        else "would still be changing long after"
    )
    return (
        f"the configured schedule reaches past the end of training: at the last iteration "
        f"{total} the LR is still changing ({ev['final_lr']:.4g}, "
        f"{ev['final_lr'] / ev['peak']:.0%} of its peak {ev['peak']:.4g}) and {reach}"
    )


def _in_epochs(misfit: Misfit, sim: Simulation, iterations: bool) -> str:
    """A misfit told in epochs and shares of training (the iterations were nominal); with
    `iterations`, the training length is the config's own max_iters."""
    length = sim.epoch_length or 1
    total = sim.total_iters
    epochs = total / length
    ev = misfit.evidence
    if misfit.kind == "ends-early":
        ends = ev["schedule_ends_at"]
        return (
            f"the configured schedule ends at epoch {ends / length:g} of {epochs:g} "
            f"({ends / total:.0%} of training): the LR sits at {ev['final_lr']:.4g} for the "
            f"last {ev['flat_share']:.0%} of training"
        )
    ends = ev.get("schedule_would_end_at")
    still = (
        f"the LR is still changing ({ev['final_lr']:.4g}, {ev['final_lr'] / ev['peak']:.0%} of its "
        f"peak {ev['peak']:.4g})"
    )
    if iterations:
        # Training is counted in iterations, the schedule in epochs: how far it reaches grows
        # with the real epoch length, so only "past the end" is a verdict.
        return (
            f"the configured schedule reaches past the end of training: at the last iteration "
            f"{total} {still}; its schedulers count in epochs (by_epoch=True) while the loop "
            f"stops at max_iters, so it would run on for about {ends / total if ends else 50:.0f}x "
            f"the training length at {length} iterations per epoch (longer with more)"
        )
    reach = (
        f"would keep changing until epoch {ends / length:.3g} ({ends / total:.0%} of training)"
        if ends
        else "would still be changing long after"
    )
    return (
        f"the configured schedule reaches past the end of training: after epoch {epochs:g} "
        f"{still} and {reach}"
    )


def _unreached_milestones(
    values: dict[str, Any], sim: Simulation, nominal: int | None, step: int
) -> list[tuple[Finding, int | None]]:
    """LR002 for MultiStepLR milestones at or past the scheduler's end or the end of training:
    mmengine never applies them (the simulation cannot show a step that never happens)."""
    try:
        loop = loop_from_cfg(values.get("train_cfg"), sim.epoch_length, None)
        specs = resolve(scheduler_cfgs(values), loop)
    except Unsupported:
        return []
    out: list[tuple[Finding, int | None]] = []
    length = sim.epoch_length or 1
    for spec in specs:
        if spec.kind != "MultiStep" or (spec.by_epoch and loop.iter_based):
            continue  # an epoch scheduler an iteration loop never steps is LR001's business
        if nominal is not None and not spec.by_epoch and not spec.converted:
            continue  # iteration milestones in an epoch loop: depends on the real length
        per_epoch = spec.by_epoch
        total = sim.total_iters / length if per_epoch else sim.total_iters
        limit = min(spec.end, total)
        milestones = spec.params.get("milestones") or []
        # A milestone exactly at the end of training would act after it: a harmless leftover
        # (90-epoch configs on a [30, 60, 90] recipe), unless the scheduler itself stops first.
        missed = sorted(
            {
                m
                for m in milestones
                if spec.begin + m > total or (spec.end < total and spec.begin + m >= spec.end)
            }
        )
        if not missed:
            continue
        unit = "epoch" if per_epoch or nominal is not None else "iteration"
        scale = (1 / length if nominal is not None and not per_epoch else 1) * (
            step if not per_epoch else 1
        )
        shown = [_num(m * scale) for m in missed]
        stop = _num(limit * scale)
        message = (
            f"{spec.type_name} (param_scheduler[{spec.index}]) milestone"
            f"{'s' * (len(missed) > 1)} {shown} {'lie' if len(missed) > 1 else 'lies'} at or "
            f"past where it stops ({unit} {stop}): "
            f"mmengine never applies {'them' if len(missed) > 1 else 'it'}, so the LR ends at "
            f"{sim.actual[-1]:.4g} instead of decaying further"
        )
        finding = Finding(
            code="LR002",
            name="schedule-length",
            severity=Severity.WARNING,
            message=message,
            evidence={"kind": "milestones-past-end", "milestones_never_applied": shown},
            hint=LR002_HINT,
        )
        out.append((finding, spec.index))
    return out


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 3)


# -- where the fix goes ---------------------------------------------------------------------


def _location(cfg: LoadedConfig, index: int | None) -> Location:
    origin = cfg.origins.get("param_scheduler") or cfg.origins.get("train_cfg")
    if origin is None:
        return Location(_shown(cfg.path, cfg.path), 1)
    where = Location(_shown(origin.path, cfg.path), origin.line)
    if index is None or "param_scheduler" not in cfg.origins:
        return where
    node = _scheduler_node(origin.path, index)
    if node is None:
        return where
    return replace(where, line=node.lineno, col=node.col_offset + 1)


def _scheduler_node(path: Path, index: int) -> ast.expr | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    nodes = scheduler_nodes(tree)
    return nodes[index] if index < len(nodes) else None


def _shown(path: Path, given: Path) -> str:
    """A base file as the user would type it: relative to the working directory when inside."""
    if Path(path).resolve() == Path(given).resolve():
        return str(given)
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _with_fix(finding: Finding, cfg: LoadedConfig, sim: Simulation, where: Location) -> Finding:
    """The fix as a diff of the file that defines `param_scheduler` (the config or a base)."""
    origin = cfg.origins.get("param_scheduler")
    if origin is None or not sim.edits:
        return finding
    try:
        text = (
            cfg.text
            if origin.path == Path(cfg.path).resolve()
            else origin.path.read_text(encoding="utf-8", errors="replace")
        )
    except OSError:
        return finding
    own = cfg.origins.get("max_epochs")
    names = (
        {"max_epochs": cfg.values.get("max_epochs")}
        if own is not None and own.path == origin.path
        else {}
    )
    shown = where.path if not Path(where.path).is_absolute() else Path(where.path).name
    diff = fix_diff(text, shown, list(sim.edits), names)
    if diff is None:
        return finding
    return replace(finding, evidence={**finding.evidence, "fix": diff})


__all__ = [
    "NOMINAL_ITERS",
    "ConfigCheck",
    "Location",
    "ScheduleReport",
    "check_loaded",
    "check_paths",
    "discover",
    "is_training_config",
    "nominal_epoch_length",
]

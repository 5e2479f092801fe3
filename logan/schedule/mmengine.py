"""Exact simulation of mmengine 0.10.7's learning-rate schedulers from a config read as data.

It reproduces what the Runner does, step for step: the default `end` it fills in from the train
loop (the root of the XTuner bug: an iteration-based loop reports max_epochs = 1), the
`convert_to_iter_based` arithmetic (`int(begin * epoch_length)`), the construction-time step, the
per-iteration and per-epoch stepping order, and the chainable (recursive) update of every
scheduler, so the simulated LR matches the logged one to float precision. It then derives what the
author meant (`intended`), says in plain words why the two differ (`cause`) and proposes a
config patch (`fix`).
"""

from __future__ import annotations

import ast
import difflib
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logan.schedule.config import Symbol, is_unknown

# mmengine's "no end" marker (`INF = int(1e9)` in its param_scheduler module).
INF = int(1e9)

# Actual and intended curves differing by more than this fraction of the base LR at any
# iteration is a material difference (a tenth of a percent is far above float noise and far
# below any schedule change a person would make on purpose).
MATERIAL_REL_DIFF = 1e-3

# A simulation longer than this is not a real run (and would cost seconds of CPU).
MAX_SIM_ITERS = 50_000_000

# Scheduler kinds, by the stem of their registered names (`<stem>LR`, `<stem>ParamScheduler`).
_KINDS = (
    "Linear",
    "Constant",
    "CosineAnnealing",
    "MultiStep",
    "Step",
    "Exponential",
    "Poly",
    "OneCycle",
    "CosineRestart",
    "QuadraticWarmup",
)
# Parameters multiplied by the epoch length when `convert_to_iter_based=True`.
_SCALED_LISTS = {"MultiStep": "milestones", "CosineRestart": "periods"}
_SCALED_SCALARS = {"Step": "step_size", "CosineAnnealing": "T_max", "OneCycle": "total_steps"}


@dataclass(frozen=True)
class SchedulerSpan:
    """Where one scheduler acts, in iterations as the run used them ([begin, end), 0-based)."""

    type: str
    begin: int
    end: int
    by_epoch: bool
    index: int


@dataclass(frozen=True)
class Simulation:
    """The LR at every iteration as mmengine ran it, what was meant, and why they differ."""

    actual: np.ndarray
    intended: np.ndarray
    total_iters: int
    base_lr: float
    epoch_length: int | None
    spans: tuple[SchedulerSpan, ...]
    cause: str | None
    fix: str | None


class _Unsupported(Exception):
    """The config lacks something the simulation needs (internal; becomes None)."""


@dataclass(frozen=True)
class _Loop:
    """The train loop as the Runner sees it."""

    name: str
    iter_based: bool  # True: by-epoch schedulers are never stepped during training
    max_epochs: int  # what `runner.max_epochs` reports (1 for iteration-based loops)
    max_iters: int
    epoch_length: int | None
    configured_epochs: Any  # max_epochs written in train_cfg (XTuner TrainLoop), else None


@dataclass
class _Resolved:
    """One scheduler after the Runner filled defaults and converted epochs to iterations."""

    kind: str
    type_name: str
    index: int
    begin: Any
    end: Any
    by_epoch: bool
    params: dict[str, Any]
    end_defaulted: bool
    converted: bool
    cfg: dict[str, Any] = field(default_factory=dict)


def scheduler_kind(type_name: Any) -> str | None:
    """'mmengine.optim.CosineAnnealingLR' / 'CosineAnnealingParamScheduler' -> 'CosineAnnealing'."""
    if not isinstance(type_name, str):
        return None
    short = type_name.rsplit(".", 1)[-1]
    for suffix in ("ParamScheduler", "LR"):
        if short.endswith(suffix) and short[: -len(suffix)] in _KINDS:
            return short[: -len(suffix)]
    return None


def _is_momentum(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name.rsplit(".", 1)[-1].endswith("Momentum")


def _num(value: Any, what: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or is_unknown(value):
        raise _Unsupported(f"{what} is not a number")
    return value


# -- loops -------------------------------------------------------------------------------------


def _loop_from_cfg(train_cfg: Any, epoch_length: int | None, total_iters: int | None) -> _Loop:
    if not isinstance(train_cfg, dict) or is_unknown(train_cfg.get("type", None)):
        raise _Unsupported("train_cfg")
    ltype = train_cfg.get("type")
    short = ltype.rsplit(".", 1)[-1] if isinstance(ltype, str) else None
    if short is None:
        short = "EpochBasedTrainLoop" if train_cfg.get("by_epoch", False) else "IterBasedTrainLoop"
        if "max_epochs" in train_cfg and "max_iters" not in train_cfg:
            short = "EpochBasedTrainLoop"
    if short == "EpochBasedTrainLoop" or (
        "Epoch" in short and "max_epochs" in train_cfg and "max_iters" not in train_cfg
    ):
        max_epochs = _num(train_cfg.get("max_epochs"), "max_epochs")
        if epoch_length is None and total_iters is not None and total_iters % max_epochs == 0:
            epoch_length = total_iters // max_epochs
        if epoch_length is None:
            raise _Unsupported("epoch length")
        return _Loop(
            short, False, int(max_epochs), int(max_epochs) * epoch_length, epoch_length, None
        )
    if short == "IterBasedTrainLoop" or ("Iter" in short and "max_iters" in train_cfg):
        max_iters = _num(train_cfg.get("max_iters"), "max_iters")
        return _Loop(short, True, 1, int(max_iters), epoch_length, None)
    if short.endswith("TrainLoop"):
        # XTuner's TrainLoop: an IterBasedTrainLoop whose max_iters may come from max_epochs.
        if train_cfg.get("max_iters") is not None:
            max_iters = int(_num(train_cfg["max_iters"], "max_iters"))
            return _Loop(short, True, 1, max_iters, epoch_length, None)
        max_epochs = _num(train_cfg.get("max_epochs"), "max_epochs")
        if epoch_length is None and total_iters is not None:
            guess = total_iters / max_epochs
            if guess == int(guess):
                epoch_length = int(guess)
        if epoch_length is None:
            raise _Unsupported("epoch length")
        iters = max_epochs * epoch_length
        if iters != int(iters):
            raise _Unsupported("max_epochs * epoch_length is not an integer")
        return _Loop(short, True, 1, int(iters), epoch_length, max_epochs)
    raise _Unsupported(f"train loop {ltype}")


# -- resolving scheduler configs as the Runner does --------------------------------------------


def _resolve(cfgs: list[Any], loop: _Loop) -> list[_Resolved]:
    resolved = []
    for index, raw in enumerate(cfgs):
        if not isinstance(raw, dict) or is_unknown(raw):
            raise _Unsupported("scheduler config")
        if _is_momentum(raw.get("type")) or raw.get("param_name", "lr") != "lr":
            continue  # schedules momentum (or another parameter), never the LR
        kind = scheduler_kind(raw.get("type"))
        if kind is None:
            raise _Unsupported(f"scheduler type {raw.get('type')}")
        cfg = {k: v for k, v in raw.items() if k not in ("type", "_scope_")}
        by_epoch = cfg.pop("by_epoch", True)
        end_defaulted = "end" not in cfg
        if end_defaulted:
            cfg["end"] = loop.max_epochs if by_epoch else loop.max_iters
        begin = _num(cfg.pop("begin", 0), "begin")
        end = _num(cfg.pop("end"), "end")
        for unused in ("last_step", "verbose", "param_name"):
            cfg.pop(unused, None)
        converted = bool(cfg.pop("convert_to_iter_based", False))
        if converted:
            if not by_epoch:
                raise _Unsupported("convert_to_iter_based with by_epoch=False")
            length = loop.epoch_length
            if length is None or length <= 0:
                raise _Unsupported("epoch length")
            if kind == "QuadraticWarmup":  # mmdet's converter keeps fractions
                begin = begin * length
                end = end * length if end != INF else end
            else:
                begin = int(begin * length)
                end = int(end * length) if end != INF else end
            if kind in _SCALED_SCALARS and cfg.get(_SCALED_SCALARS[kind]) is not None:
                key = _SCALED_SCALARS[kind]
                cfg[key] = _num(cfg[key], key) * length
            if kind in _SCALED_LISTS:
                key = _SCALED_LISTS[kind]
                values = cfg.get(key)
                if not isinstance(values, (list, tuple)):
                    raise _Unsupported(key)
                cfg[key] = [_num(v, key) * length for v in values]
            by_epoch = False
        if end <= begin:
            raise _Unsupported("end <= begin")  # mmengine refuses to build it
        resolved.append(
            _Resolved(
                kind=kind,
                type_name=str(raw.get("type")).rsplit(".", 1)[-1],
                index=index,
                begin=begin,
                end=end,
                by_epoch=bool(by_epoch),
                params=cfg,
                end_defaulted=end_defaulted,
                converted=converted,
                cfg=raw,
            )
        )
    return resolved


# -- the schedulers (chainable forms: each step updates the LR it finds in the group) ----------


class _Scheduler:
    """One scheduler's state: the same bookkeeping as mmengine's _ParamScheduler."""

    eta_min: Any
    eta_ratio: Any

    def __init__(self, spec: _Resolved, group: dict[str, float]) -> None:
        self.spec = spec
        self.begin = spec.begin
        self.end = spec.end
        self.by_epoch = spec.by_epoch
        p = dict(spec.params)
        self.kind = spec.kind
        self.p = p
        self.setup(group)
        group.setdefault("initial_lr", group["lr"])
        self.base = group["initial_lr"]
        self.last_step = -1
        self.global_step = -1
        self.step(group)  # mmengine steps once when a scheduler is built

    def setup(self, group: dict[str, float]) -> None:
        p, kind = self.p, self.kind
        span = self.end - self.begin
        if kind in ("Linear", "Constant", "Poly"):
            self.total = span - 1
        if kind == "Linear":
            self.start_f = p.get("start_factor", 1.0 / 3)
            self.end_f = p.get("end_factor", 1.0)
            _check_factor(self.start_f)
            _check_factor(self.end_f)
        elif kind == "Constant":
            self.factor = p.get("factor", 1.0 / 3)
            _check_factor(self.factor)
        elif kind == "Step":
            self.step_size = _num(p.get("step_size"), "step_size")
            self.gamma = p.get("gamma", 0.1)
        elif kind == "MultiStep":
            self.milestones = Counter(p.get("milestones", []))
            self.gamma = p.get("gamma", 0.1)
        elif kind == "Exponential":
            self.gamma = _num(p.get("gamma"), "gamma")
        elif kind == "CosineAnnealing":
            eta_min, ratio = p.get("eta_min"), p.get("eta_min_ratio")
            if eta_min is None and ratio is None:
                eta_min = 0.0
            if (eta_min is None) == (ratio is None):
                raise _Unsupported("both eta_min and eta_min_ratio")
            self.eta_min, self.eta_ratio = eta_min, ratio
            self.t_max = p.get("T_max") or span
        elif kind == "Poly":
            self.eta_min = p.get("eta_min", 0)
            self.power = p.get("power", 1.0)
        elif kind == "OneCycle":
            self._setup_one_cycle(group)
        elif kind == "CosineRestart":
            eta_min, ratio = p.get("eta_min"), p.get("eta_min_ratio")
            if (eta_min is None) == (ratio is None):
                raise _Unsupported("CosineRestart needs exactly one of eta_min, eta_min_ratio")
            self.eta_min, self.eta_ratio = eta_min, ratio
            self.periods = list(p.get("periods", []))
            self.weights = list(p.get("restart_weights", (1,)))
            if len(self.periods) != len(self.weights):
                raise _Unsupported("periods and restart_weights differ in length")
            self.cumulative = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]
        elif kind == "QuadraticWarmup":
            if self.end >= INF:
                raise _Unsupported("QuadraticWarmup without end")
            self.total = span

    def _setup_one_cycle(self, group: dict[str, float]) -> None:
        p = self.p
        eta_max = p.get("eta_max", 0)
        if isinstance(eta_max, (list, tuple)):
            eta_max = eta_max[0]
        div = p.get("div_factor", 25.0)
        final_div = p.get("final_div_factor", 1e4)
        total = p.get("total_steps")
        if total is not None:
            if not isinstance(total, int) or total <= 0:
                raise _Unsupported("OneCycle total_steps")
            self.total_steps = total
        else:
            self.total_steps = self.end - self.begin
        pct = p.get("pct_start", 0.3)
        if not isinstance(pct, float) or not 0 <= pct <= 1:
            raise _Unsupported("OneCycle pct_start")
        strategy = p.get("anneal_strategy", "cos")
        if strategy not in ("cos", "linear"):
            raise _Unsupported("OneCycle anneal_strategy")
        self.linear = strategy == "linear"
        n = self.total_steps
        if p.get("three_phase", False):
            self.phases = [
                (float(pct * n) - 1, "initial_lr", "max_lr"),
                (float(2 * pct * n) - 2, "max_lr", "initial_lr"),
                (n - 1, "initial_lr", "min_lr"),
            ]
        else:
            self.phases = [
                (float(pct * n) - 1, "initial_lr", "max_lr"),
                (n - 1, "max_lr", "min_lr"),
            ]
        group["initial_lr"] = eta_max / div
        group["max_lr"] = eta_max
        group["min_lr"] = group["initial_lr"] / final_div

    def step(self, group: dict[str, float]) -> None:
        self.global_step += 1
        if self.begin <= self.global_step < self.end:
            self.last_step += 1
            group["lr"] = self.value(group)

    def _eta_min(self) -> Any:
        return self.eta_min if self.eta_ratio is None else self.base * self.eta_ratio

    def value(self, group: dict[str, float]) -> float:
        lr, n, kind = group["lr"], self.last_step, self.kind
        if kind == "Linear":
            if n == 0:
                return lr * self.start_f
            delta = self.end_f - self.start_f
            return lr * (1.0 + delta / (self.total * self.start_f + (n - 1) * delta))
        if kind == "Constant":
            if n == 0:
                return lr * self.factor
            if n == self.total:
                return lr * (1.0 / self.factor)
            return lr
        if kind == "Step":
            if n == 0 or n % self.step_size != 0:
                return lr
            return lr * self.gamma
        if kind == "MultiStep":
            if n not in self.milestones:
                return lr
            return lr * self.gamma ** self.milestones[n]
        if kind == "Exponential":
            return lr if n == 0 else lr * self.gamma
        if kind == "CosineAnnealing":
            if n == 0:
                return lr
            t, floor = self.t_max, self._eta_min()
            if (n - 1 - t) % (2 * t) == 0:
                return lr + (self.base - floor) * (1 - math.cos(math.pi / t)) / 2
            ratio = (1 + math.cos(math.pi * n / t)) / (1 + math.cos(math.pi * (n - 1) / t))
            return ratio * (lr - floor) + floor
        if kind == "Poly":
            if n == 0:
                return lr
            return (lr - self.eta_min) * (1 - 1 / (self.total - n + 1)) ** self.power + self.eta_min
        if kind == "OneCycle":
            if n > self.total_steps:
                raise _Unsupported("OneCycle stepped past total_steps")
            start = 0.0
            for i, (end_step, lo_key, hi_key) in enumerate(self.phases):
                if n <= end_step or i == len(self.phases) - 1:
                    pct = (n - start) / (end_step - start)
                    a, b = group[lo_key], group[hi_key]
                    if self.linear:
                        return (b - a) * pct + a
                    return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
                start = end_step
            return lr
        if kind == "CosineRestart":
            idx = next((i for i, c in enumerate(self.cumulative) if n < c), None)
            if idx is None:
                return lr
            restart = 0 if idx == 0 else self.cumulative[idx - 1]
            period = self.periods[idx]
            k = n - restart
            top = self.base * self.weights[idx]
            floor = self._eta_min()
            if k == 0:
                return top
            ratio = (1 + math.cos(math.pi * k / period)) / (
                1 + math.cos(math.pi * (k - 1) / period)
            )
            return ratio * (lr - floor) + floor
        if kind == "QuadraticWarmup":
            inc = self.base * (2 * n + 1) / self.total**2
            return inc if n == 0 else lr + inc
        raise _Unsupported(kind)


def _check_factor(value: Any) -> None:
    if not isinstance(value, (int, float)) or value > 1.0 or value < 0:
        raise _Unsupported("factor outside [0, 1]")


def _run(specs: list[_Resolved], loop: _Loop, base_lr: float, total: int) -> np.ndarray:
    """Step the schedulers exactly as ParamSchedulerHook does; return the LR of each iteration."""
    group: dict[str, float] = {"lr": base_lr}
    scheds = [_Scheduler(spec, group) for spec in specs]
    per_iter = [s for s in scheds if not s.by_epoch]
    per_epoch = [s for s in scheds if s.by_epoch]
    length = loop.epoch_length
    out = np.empty(total, dtype=np.float64)
    for k in range(total):
        out[k] = group["lr"]
        for s in per_iter:  # after_train_iter
            s.step(group)
        # after_train_epoch: only epoch-based loops end epochs while training.
        if per_epoch and not loop.iter_based and length and (k + 1) % length == 0:
            for s in per_epoch:
                s.step(group)
    return out


# -- what the author meant ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    """One scheduler config edit that makes mmengine run what the author meant."""

    spec: _Resolved  # the scheduler as the edited config builds it
    how: str  # "T_max": T_max read as the end; "end": no end at all; "never-stepped"
    rename: bool  # `T_max=` becomes `end=`
    inserts: tuple[tuple[str, Any], ...]  # keywords to add, with their values


def _intended_changes(specs: list[_Resolved], loop: _Loop, total: int) -> list[_Change]:
    """Epoch-based schedulers an iteration-based loop runs differently from how they read.

    Two faults, both from the loop reporting max_epochs = 1 and never ending an epoch: a missing
    `end` defaults to one epoch (the XTuner bug), and a scheduler without convert_to_iter_based
    is stepped once, when built, and never again.
    """
    changes = []
    length = loop.epoch_length
    if not loop.iter_based or not length:
        return []
    epochs = total / length
    epochs_total: Any = int(epochs) if epochs == int(epochs) else epochs
    for spec in specs:
        raw = spec.cfg
        if not raw.get("by_epoch", True):
            continue
        rename = False
        inserts: list[tuple[str, Any]] = []
        if spec.converted and spec.end_defaulted:
            t_max = raw.get("T_max")
            if spec.kind == "CosineAnnealing" and isinstance(t_max, (int, float)) and t_max > 0:
                begin = raw.get("begin", 0)
                # XTuner configs write T_max=max_epochs meaning "until epoch max_epochs".
                end = t_max if t_max > begin else begin + t_max
                new_raw = {k: v for k, v in raw.items() if k != "T_max"}
                new_raw["end"] = end
                how, rename = "T_max", True
            else:
                new_raw = {**raw, "end": epochs_total}
                how = "end"
                inserts.append(("end", epochs_total))
        elif not spec.converted:
            new_raw = {**raw, "convert_to_iter_based": True}
            inserts.append(("convert_to_iter_based", True))
            if "end" not in raw:
                new_raw["end"] = epochs_total
                inserts.append(("end", epochs_total))
            how = "never-stepped"
        else:
            continue
        try:
            fixed = _resolve([new_raw], loop)[0]
        except _Unsupported:
            continue
        fixed.index = spec.index
        changes.append(_Change(fixed, how, rename, tuple(inserts)))
    return changes


def _base_lr(config: dict[str, Any]) -> float:
    wrapper = config.get("optim_wrapper")
    optimizer = wrapper.get("optimizer") if isinstance(wrapper, dict) else None
    if not isinstance(optimizer, dict):
        optimizer = config.get("optimizer")
    if not isinstance(optimizer, dict):
        raise _Unsupported("optimizer")
    lr = _num(optimizer.get("lr"), "lr")
    scale = config.get("auto_scale_lr")
    if isinstance(scale, dict) and scale.get("enable", False) is True:
        # Runner.scale_lr: lr * (world_size * batch_size) / base_batch_size. The world size is
        # not in the config; one process is assumed.
        loader = config.get("train_dataloader")
        bs = loader.get("batch_size") if isinstance(loader, dict) else None
        lr = lr * float(_num(bs, "batch_size")) / float(_num(scale.get("base_batch_size"), "bs"))
    return float(lr)


def simulate_config(
    config: dict[str, Any],
    epoch_length: int | None,
    *,
    config_text: str | None = None,
    config_name: str = "config.py",
    total_iters: int | None = None,
) -> Simulation | None:
    """Simulate a mmengine config's LR at every iteration; None when the config cannot tell."""
    try:
        return _simulate(config, epoch_length, config_text, config_name, total_iters)
    except (_Unsupported, ArithmeticError, TypeError, ValueError, KeyError, OverflowError):
        return None


def _simulate(
    config: dict[str, Any],
    epoch_length: int | None,
    config_text: str | None,
    config_name: str,
    total_iters: int | None,
) -> Simulation | None:
    if not isinstance(config, dict):
        return None
    if epoch_length is not None and (not isinstance(epoch_length, int) or epoch_length <= 0):
        epoch_length = None
    base_lr = _base_lr(config)
    loop = _loop_from_cfg(config.get("train_cfg"), epoch_length, total_iters)
    raw = config.get("param_scheduler")
    if raw is None:
        cfgs: list[Any] = []
    elif isinstance(raw, dict) and "type" in raw:
        cfgs = [raw]
    elif isinstance(raw, (list, tuple)):
        cfgs = list(raw)
    else:
        raise _Unsupported("param_scheduler")  # per-optimizer dicts, UNKNOWN, ...
    specs = _resolve(cfgs, loop)
    total = loop.max_iters if total_iters is None else int(total_iters)
    if total <= 0 or total > MAX_SIM_ITERS:
        return None
    actual = _run(specs, loop, base_lr, total)
    changes = _intended_changes(specs, loop, total)
    cause = fix = None
    if changes:
        by_index = {c.spec.index: c.spec for c in changes}
        intended_specs = [by_index.get(s.index, s) for s in specs]
        intended = _run(intended_specs, loop, base_lr, total)
        scale = max(abs(base_lr), 1e-300)
        if float(np.max(np.abs(actual - intended))) / scale > MATERIAL_REL_DIFF:
            cause = _cause(specs, changes, loop, total, actual)
            if config_text is not None:
                fix = _fix_diff(config_text, config_name, changes, config)
    else:
        intended = actual.copy()
    spans = tuple(_span(s, loop, total) for s in specs)
    return Simulation(
        actual=actual,
        intended=intended,
        total_iters=total,
        base_lr=base_lr,
        epoch_length=loop.epoch_length,
        spans=spans,
        cause=cause,
        fix=fix,
    )


def _span(spec: _Resolved, loop: _Loop, total: int) -> SchedulerSpan:
    if spec.by_epoch and loop.iter_based:
        # Built (and stepped once) but never stepped again: only the first step can act.
        begin, end = 0, (1 if spec.begin <= 0 < spec.end else 0)
    else:
        scale = (loop.epoch_length or 1) if spec.by_epoch else 1
        begin = int(math.ceil(spec.begin)) * scale
        end = int(math.ceil(spec.end)) * scale if spec.end < INF else total
    return SchedulerSpan(
        type=spec.type_name,
        begin=min(max(begin, 0), total),
        end=min(max(end, 0), total),
        by_epoch=spec.by_epoch,
        index=spec.index,
    )


def _cause(
    specs: list[_Resolved], changes: list[_Change], loop: _Loop, total: int, actual: np.ndarray
) -> str:
    parts = []
    for change in changes:
        fixed = change.spec
        spec = next(s for s in specs if s.index == fixed.index)
        where = f"{spec.type_name} (param_scheduler[{spec.index}])"
        if change.how == "never-stepped":
            parts.append(
                f"{where} is epoch-based (by_epoch=True) without convert_to_iter_based, but the "
                f"iteration-based loop {loop.name} never ends an epoch while training, so "
                f"mmengine stepped it once when it was built and never again (the LR stays at "
                f"{actual[-1]:.4e} where it should have followed it until iteration "
                f"{min(int(fixed.end), total)} of {total})"
            )
            continue
        stop = min(int(spec.end), total)
        text = (
            f"`end` is not set on {where}; mmengine used the train loop's max_epochs = "
            f"{loop.max_epochs} (iteration-based loop {loop.name}), so the scheduler stopped at "
            f"iteration {stop} of {total}"
        )
        if change.how == "T_max":
            text += (
                f" while its T_max = {spec.cfg.get('T_max')} epochs describes a decay until "
                f"iteration {min(int(fixed.end), total)}"
            )
        parts.append(text)
    return "; ".join(parts) + "."


# -- the patch ---------------------------------------------------------------------------------


def _scheduler_nodes(tree: ast.Module) -> list[ast.expr]:
    """The dict(...) / {...} nodes of the last top-level `param_scheduler = ...`, in order."""
    value = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "param_scheduler" for t in stmt.targets
        ):
            value = stmt.value
    if value is None:
        return []
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    return list(items)


def _key_nodes(node: ast.expr) -> dict[str, tuple[Any, ast.expr]]:
    """key -> (node spanning `key=value` or the key string, value node)."""
    out: dict[str, tuple[Any, ast.expr]] = {}
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg is not None:
                out[kw.arg] = (kw, kw.value)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                out[key.value] = (key, value)
    return out


def _fix_diff(text: str, name: str, changes: list[_Change], config: dict[str, Any]) -> str | None:
    """A unified diff of the config text with every change applied, keeping its formatting."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    nodes = _scheduler_nodes(tree)
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lineno: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; configs are ASCII in practice.
        return offsets[lineno - 1] + col

    edits: list[tuple[int, int, str]] = []  # (start, stop, replacement) in character offsets
    for change in changes:
        if change.spec.index >= len(nodes):
            return None
        node = nodes[change.spec.index]
        keys = _key_nodes(node)
        if not keys:
            return None
        if change.rename:
            if "T_max" not in keys:
                return None
            key_node, _ = keys["T_max"]
            start = pos(key_node.lineno, key_node.col_offset)
            if isinstance(node, ast.Call):
                edits.append((start, start + len("T_max"), "end"))
            else:
                quote = text[start]
                edits.append((start, start + len("T_max") + 2, f"{quote}end{quote}"))
        if not change.inserts:
            continue
        pairs = [(key, _value_text(key, value, config)) for key, value in change.inserts]
        last_key, last_value = list(keys.values())[-1]
        if last_value.end_lineno is None or last_value.end_col_offset is None:
            return None
        line = lines[last_key.lineno - 1]
        indent = line[: len(line) - len(line.lstrip())]
        key_start = pos(last_key.lineno, last_key.col_offset)
        own_line = text[offsets[last_key.lineno - 1] : key_start].strip() == ""
        stop = pos(last_value.end_lineno, last_value.end_col_offset)
        rest = lines[last_value.end_lineno - 1][last_value.end_col_offset :].strip()
        if isinstance(node, ast.Call) and own_line and rest in ("", ","):
            # One keyword per line (mmengine's dump style): add ours the same way.
            if rest == "":
                edits.append((stop, stop, ","))
            line_end = offsets[last_value.end_lineno]
            added = "".join(f"{indent}{key}={value}," + "\n" for key, value in pairs)
            edits.append((line_end, line_end, added))
        elif isinstance(node, ast.Call):
            edits.append((stop, stop, "".join(f", {k}={v}" for k, v in pairs)))
        else:
            edits.append((stop, stop, "".join(f", {k!r}: {v}" for k, v in pairs)))
    new = text
    for start, stop, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        new = new[:start] + repl + new[stop:]
    if new == text:
        return None
    # A last line without its newline would glue two diff lines together.
    text, new = (t if t.endswith("\n") else t + "\n" for t in (text, new))
    diff = difflib.unified_diff(
        text.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(diff)


def _value_text(key: str, value: Any, config: dict[str, Any]) -> str:
    """A new keyword's value as config text: the config's own `max_epochs` when it holds it."""
    max_epochs = config.get("max_epochs")
    if key == "end" and max_epochs == value and not isinstance(max_epochs, (Symbol, bool)):
        return "max_epochs"
    return repr(value)

"""mmengine 0.10.7's LR schedulers, one small class per kind, in their chainable form.

Each step updates the LR it finds in the parameter group, exactly as mmengine's `_get_value`
does, so chained schedulers compose as they do in a real run. `REGISTRY` maps a kind (the stem of
`<stem>LR` / `<stem>ParamScheduler`) to its class; a kind missing here is not simulated.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from logan.schedule.base import Unsupported, num

# mmengine's "no end" marker (`INF = int(1e9)` in its param_scheduler module).
INF = int(1e9)


@dataclass
class Resolved:
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


class Scheduler:
    """One scheduler's state: the same bookkeeping as mmengine's _ParamScheduler."""

    kind: ClassVar[str]
    # Parameters `convert_to_iter_based=True` multiplies by the epoch length.
    scaled_scalar: ClassVar[str | None] = None
    scaled_list: ClassVar[str | None] = None
    # mmdet's QuadraticWarmup converter keeps fractional begin/end; mmengine's truncates.
    keeps_fractions: ClassVar[bool] = False

    def __init__(self, spec: Resolved, group: dict[str, float]) -> None:
        self.spec = spec
        self.begin = spec.begin
        self.end = spec.end
        self.by_epoch = spec.by_epoch
        self.p = dict(spec.params)
        self.setup(group)
        group.setdefault("initial_lr", group["lr"])
        self.base = group["initial_lr"]
        self.last_step = -1
        self.global_step = -1
        self.step(group)  # mmengine steps once when a scheduler is built

    def setup(self, group: dict[str, float]) -> None:
        """Read this kind's parameters (and, for OneCycle, seed the group)."""

    def value(self, group: dict[str, float]) -> float:
        """The LR after step `self.last_step`, from the LR currently in the group."""
        raise NotImplementedError

    def step(self, group: dict[str, float]) -> None:
        self.global_step += 1
        if self.begin <= self.global_step < self.end:
            self.last_step += 1
            group["lr"] = self.value(group)


REGISTRY: dict[str, type[Scheduler]] = {}


def register(cls: type[Scheduler]) -> type[Scheduler]:
    REGISTRY[cls.kind] = cls
    return cls


def scheduler_kind(type_name: Any) -> str | None:
    """'mmengine.optim.CosineAnnealingLR' / 'CosineAnnealingParamScheduler' -> 'CosineAnnealing'."""
    if not isinstance(type_name, str):
        return None
    short = type_name.rsplit(".", 1)[-1]
    for suffix in ("ParamScheduler", "LR"):
        if short.endswith(suffix) and short[: -len(suffix)] in REGISTRY:
            return short[: -len(suffix)]
    return None


def _check_factor(value: Any, name: str) -> None:
    if not isinstance(value, (int, float)) or value > 1.0 or value < 0:
        raise Unsupported(
            f"{name}={value!r}: mmengine refuses a factor outside [0, 1] (ValueError when it "
            "builds the scheduler)"
        )


def _eta_min_pair(p: dict[str, Any], default_zero: bool) -> tuple[Any, Any]:
    eta_min, ratio = p.get("eta_min"), p.get("eta_min_ratio")
    if default_zero and eta_min is None and ratio is None:
        eta_min = 0.0
    if (eta_min is None) == (ratio is None):
        raise Unsupported("exactly one of eta_min, eta_min_ratio")
    return eta_min, ratio


@register
class Linear(Scheduler):
    kind = "Linear"

    def setup(self, group: dict[str, float]) -> None:
        self.total = self.end - self.begin - 1
        self.start_f = self.p.get("start_factor", 1.0 / 3)
        self.end_f = self.p.get("end_factor", 1.0)
        _check_factor(self.start_f, "start_factor")
        _check_factor(self.end_f, "end_factor")

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n == 0:
            return lr * self.start_f
        delta = self.end_f - self.start_f
        return lr * (1.0 + delta / (self.total * self.start_f + (n - 1) * delta))


@register
class Constant(Scheduler):
    kind = "Constant"

    def setup(self, group: dict[str, float]) -> None:
        self.total = self.end - self.begin - 1
        self.factor = self.p.get("factor", 1.0 / 3)
        _check_factor(self.factor, "factor")

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n == 0:
            return lr * self.factor
        if n == self.total:
            return lr * (1.0 / self.factor)
        return lr


@register
class Step(Scheduler):
    kind = "Step"
    scaled_scalar = "step_size"

    def setup(self, group: dict[str, float]) -> None:
        self.step_size = num(self.p.get("step_size"), "step_size")
        self.gamma = self.p.get("gamma", 0.1)

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n == 0 or n % self.step_size != 0:
            return lr
        return lr * self.gamma


@register
class MultiStep(Scheduler):
    kind = "MultiStep"
    scaled_list = "milestones"

    def setup(self, group: dict[str, float]) -> None:
        self.milestones = Counter(self.p.get("milestones", []))
        self.gamma = self.p.get("gamma", 0.1)

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n not in self.milestones:
            return lr
        return lr * self.gamma ** self.milestones[n]


@register
class Exponential(Scheduler):
    kind = "Exponential"

    def setup(self, group: dict[str, float]) -> None:
        self.gamma = num(self.p.get("gamma"), "gamma")

    def value(self, group: dict[str, float]) -> float:
        return group["lr"] if self.last_step == 0 else group["lr"] * self.gamma


@register
class CosineAnnealing(Scheduler):
    kind = "CosineAnnealing"
    scaled_scalar = "T_max"

    def setup(self, group: dict[str, float]) -> None:
        self.eta_min, self.eta_ratio = _eta_min_pair(self.p, default_zero=True)
        self.t_max = self.p.get("T_max") or (self.end - self.begin)

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n == 0:
            return lr
        t = self.t_max
        floor = self.eta_min if self.eta_ratio is None else self.base * self.eta_ratio
        if (n - 1 - t) % (2 * t) == 0:
            return lr + (self.base - floor) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * n / t)) / (1 + math.cos(math.pi * (n - 1) / t))
        return ratio * (lr - floor) + floor


@register
class Poly(Scheduler):
    kind = "Poly"

    def setup(self, group: dict[str, float]) -> None:
        self.total = self.end - self.begin - 1
        self.eta_min = self.p.get("eta_min", 0)
        self.power = self.p.get("power", 1.0)

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        if n == 0:
            return lr
        return (lr - self.eta_min) * (1 - 1 / (self.total - n + 1)) ** self.power + self.eta_min


@register
class OneCycle(Scheduler):
    kind = "OneCycle"
    scaled_scalar = "total_steps"

    def setup(self, group: dict[str, float]) -> None:
        p = self.p
        eta_max = p.get("eta_max", 0)
        if isinstance(eta_max, (list, tuple)):
            eta_max = eta_max[0]
        div = p.get("div_factor", 25.0)
        final_div = p.get("final_div_factor", 1e4)
        total = p.get("total_steps")
        if total is not None:
            if not isinstance(total, int) or total <= 0:
                raise Unsupported("OneCycle total_steps")
            self.total_steps = total
        else:
            self.total_steps = self.end - self.begin
        pct = p.get("pct_start", 0.3)
        if not isinstance(pct, float) or not 0 <= pct <= 1:
            raise Unsupported("OneCycle pct_start")
        strategy = p.get("anneal_strategy", "cos")
        if strategy not in ("cos", "linear"):
            raise Unsupported("OneCycle anneal_strategy")
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

    def value(self, group: dict[str, float]) -> float:
        n = self.last_step
        if n > self.total_steps:
            raise Unsupported("OneCycle stepped past total_steps")
        start = 0.0
        for i, (end_step, lo_key, hi_key) in enumerate(self.phases):
            if n <= end_step or i == len(self.phases) - 1:
                pct = (n - start) / (end_step - start)
                a, b = group[lo_key], group[hi_key]
                if self.linear:
                    return (b - a) * pct + a
                return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
            start = end_step
        return group["lr"]


@register
class CosineRestart(Scheduler):
    kind = "CosineRestart"
    scaled_list = "periods"

    def setup(self, group: dict[str, float]) -> None:
        self.eta_min, self.eta_ratio = _eta_min_pair(self.p, default_zero=False)
        self.periods = list(self.p.get("periods", []))
        self.weights = list(self.p.get("restart_weights", (1,)))
        if len(self.periods) != len(self.weights):
            raise Unsupported("periods and restart_weights differ in length")
        self.cumulative = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]

    def value(self, group: dict[str, float]) -> float:
        lr, n = group["lr"], self.last_step
        idx = next((i for i, c in enumerate(self.cumulative) if n < c), None)
        if idx is None:
            return lr
        restart = 0 if idx == 0 else self.cumulative[idx - 1]
        period = self.periods[idx]
        k = n - restart
        top = self.base * self.weights[idx]
        floor = self.eta_min if self.eta_ratio is None else self.base * self.eta_ratio
        if k == 0:
            return top
        ratio = (1 + math.cos(math.pi * k / period)) / (1 + math.cos(math.pi * (k - 1) / period))
        return ratio * (lr - floor) + floor


@register
class QuadraticWarmup(Scheduler):
    kind = "QuadraticWarmup"
    keeps_fractions = True

    def setup(self, group: dict[str, float]) -> None:
        if self.end >= INF:
            raise Unsupported("QuadraticWarmup without end")
        self.total = self.end - self.begin

    def value(self, group: dict[str, float]) -> float:
        n = self.last_step
        inc = self.base * (2 * n + 1) / self.total**2
        return inc if n == 0 else group["lr"] + inc

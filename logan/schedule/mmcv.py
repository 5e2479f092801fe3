"""The LR at every iteration of an mmcv 1.x run, from its `lr_config` (config read as data).

mmcv 1.x computes the LR in closed form from the runner's epoch or iteration (no chaining), in
`before_train_epoch` for by-epoch policies and `before_train_iter` for per-iteration ones, with an
optional warmup that multiplies the regular LR during the first `warmup_iters` iterations.
This module reproduces those rules: policies fixed, step, exp, poly, inv, CosineAnnealing,
FlatCosineAnnealing and CosineRestart; warmups constant, linear and exp.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from logan.config import is_unknown
from logan.schedule.base import MAX_SIM_ITERS, SchedulerSpan, Simulation
from logan.schedule.base import Unsupported as _Unsupported
from logan.schedule.base import num as _num

_POLICIES = {
    "fixed": "Fixed",
    "step": "Step",
    "exp": "Exp",
    "poly": "Poly",
    "inv": "Inv",
    "cosineannealing": "CosineAnnealing",
    "flatcosineannealing": "FlatCosineAnnealing",
    "cosinerestart": "CosineRestart",
}


def _annealing_cos(start: float, end: float, factor: float, weight: float = 1.0) -> float:
    # Cosine from weight * start + (1 - weight) * end down to end as factor goes 0 -> 1.
    return end + 0.5 * weight * (start - end) * (math.cos(math.pi * factor) + 1)


class _Policy:
    """The regular (no-warmup) LR of one mmcv LrUpdaterHook policy."""

    def __init__(self, name: str, cfg: dict[str, Any], max_epochs: int, max_iters: int) -> None:
        self.name = name
        self.cfg = cfg
        self.by_epoch = bool(cfg.get("by_epoch", True))
        self.max_progress = max_epochs if self.by_epoch else max_iters
        if name in ("CosineAnnealing", "FlatCosineAnnealing", "CosineRestart"):
            if (cfg.get("min_lr") is None) == (cfg.get("min_lr_ratio") is None):
                raise _Unsupported("exactly one of min_lr, min_lr_ratio")
        if name == "Step":
            step = cfg.get("step")
            if isinstance(step, int) and not isinstance(step, bool) and step > 0:
                self.step: Any = step
            elif isinstance(step, (list, tuple)) and all(
                isinstance(s, int) and s > 0 for s in step
            ):
                self.step = list(step)
            else:
                raise _Unsupported("step")
        if name == "CosineRestart":
            periods = cfg.get("periods")
            weights = cfg.get("restart_weights", [1])
            if not isinstance(periods, (list, tuple)) or len(periods) != len(weights):
                raise _Unsupported("periods")
            self.periods = [_num(p, "periods") for p in periods]
            self.weights = [_num(w, "restart_weights") for w in weights]
            self.cumulative = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]
        if name == "FlatCosineAnnealing":
            pct = cfg.get("start_percent", 0.75)
            if not isinstance(pct, float) or not 0 <= pct <= 1:
                raise _Unsupported("start_percent")

    def _target(self, base: float) -> float:
        ratio = self.cfg.get("min_lr_ratio")
        return base * ratio if ratio is not None else self.cfg["min_lr"]

    def lr(self, base: float, progress: int) -> float:
        cfg, name = self.cfg, self.name
        if name == "Fixed":
            return base
        if name == "Step":
            if isinstance(self.step, int):
                exp = progress // self.step
            else:
                exp = next((i for i, s in enumerate(self.step) if progress < s), len(self.step))
            value = base * cfg.get("gamma", 0.1) ** exp
            min_lr = cfg.get("min_lr")
            return max(value, min_lr) if min_lr is not None else value
        if name == "Exp":
            return base * _num(cfg.get("gamma"), "gamma") ** progress
        if name == "Poly":
            min_lr = cfg.get("min_lr", 0.0)
            coeff = (1 - progress / self.max_progress) ** cfg.get("power", 1.0)
            return (base - min_lr) * coeff + min_lr
        if name == "Inv":
            gamma = _num(cfg.get("gamma"), "gamma")
            return base * (1 + gamma * progress) ** (-cfg.get("power", 1.0))
        if name == "CosineAnnealing":
            return _annealing_cos(base, self._target(base), progress / self.max_progress)
        if name == "FlatCosineAnnealing":
            start = round(self.max_progress * cfg.get("start_percent", 0.75))
            if progress - start < 0:
                return base
            return _annealing_cos(
                base, self._target(base), (progress - start) / (self.max_progress - start)
            )
        if name == "CosineRestart":
            idx = next((i for i, c in enumerate(self.cumulative) if progress < c), None)
            if idx is None:
                raise _Unsupported("CosineRestart ran past its periods")  # mmcv raises too
            restart = 0 if idx == 0 else self.cumulative[idx - 1]
            alpha = min((progress - restart) / self.periods[idx], 1)
            return _annealing_cos(base, self._target(base), alpha, self.weights[idx])
        raise _Unsupported(name)


def _warmup(kind: str, ratio: float, k: int, iters: int, regular: float) -> float:
    if kind == "constant":
        return regular * ratio
    if kind == "linear":
        return regular * (1 - (1 - k / iters) * (1 - ratio))
    return regular * ratio ** (1 - k / iters)  # "exp"


def simulate(
    config: dict[str, Any], epoch_length: int | None, *, total_iters: int | None = None
) -> Simulation | None:
    """Simulate an mmcv 1.x config's LR at every iteration; None when the config cannot tell.

    `actual[k-1]` is the LR used (and logged) at global iteration k. Note that mmcv's
    `.log.json` rounds logged floats to 5 decimals.
    """
    try:
        return _simulate(config, epoch_length, total_iters)
    except (_Unsupported, ArithmeticError, TypeError, ValueError, KeyError):
        return None


def simulate_config(
    config: dict[str, Any],
    epoch_length: int | None,
    *,
    config_text: str | None = None,
    config_name: str = "config.py",
    total_iters: int | None = None,
) -> Simulation | None:
    """Same call as `logan.schedule.mmengine.simulate_config` (mmcv has no fix to propose)."""
    return simulate(config, epoch_length, total_iters=total_iters)


def _simulate(
    config: dict[str, Any], epoch_length: int | None, total_iters: int | None
) -> Simulation | None:
    optimizer = config.get("optimizer")
    if not isinstance(optimizer, dict):
        return None
    base = float(_num(optimizer.get("lr"), "lr"))
    runner = config.get("runner")
    if isinstance(runner, dict) and isinstance(runner.get("type"), str):
        iter_based = runner["type"].rsplit(".", 1)[-1] == "IterBasedRunner"
        max_epochs = runner.get("max_epochs")
        max_iters = runner.get("max_iters")
    else:  # mmcv < 1.3 configs: `total_epochs = N`
        iter_based, max_epochs, max_iters = False, config.get("total_epochs"), None
    if iter_based:
        max_iters = int(_num(max_iters, "max_iters"))
        max_epochs = 1
        length = epoch_length
    else:
        max_epochs = int(_num(max_epochs, "max_epochs"))
        length = epoch_length
        if length is None and total_iters is not None and total_iters % max_epochs == 0:
            length = total_iters // max_epochs
        if not length or length <= 0:
            return None
        max_iters = max_epochs * length
    total = max_iters if total_iters is None else int(total_iters)
    if total <= 0 or total > MAX_SIM_ITERS:
        return None

    lr_config = config.get("lr_config")
    if lr_config is None:
        lr_config = {"policy": "fixed"}
    if not isinstance(lr_config, dict) or is_unknown(lr_config):
        return None
    cfg = dict(lr_config)
    policy = cfg.pop("policy", None)
    if not isinstance(policy, str) or policy.lower() not in _POLICIES:
        return None
    hook = _Policy(_POLICIES[policy.lower()], cfg, max_epochs, max_iters)
    warmup = cfg.get("warmup")
    if warmup not in (None, "constant", "linear", "exp"):
        return None
    ratio = float(cfg.get("warmup_ratio", 0.1))
    warmup_iters = int(_num(cfg.get("warmup_iters", 0), "warmup_iters"))
    if cfg.get("warmup_by_epoch", False):
        if not length:
            return None
        warmup_iters *= length
    if warmup is not None and (warmup_iters <= 0 or not 0 < ratio <= 1.0):
        return None

    out = np.empty(total, dtype=np.float64)
    lr = base
    regular = base
    kind = str(warmup)
    epoch_len = length or total  # an iteration runner starts one "epoch" only
    for k in range(total):
        if hook.by_epoch:
            # before_train_epoch: an epoch runner starts an epoch every `length` iterations;
            # an iteration runner calls it once.
            if k == 0 or (not iter_based and k % epoch_len == 0):
                regular = hook.lr(base, 0 if iter_based else k // epoch_len)
                lr = regular
            if warmup is not None and k <= warmup_iters:
                lr = (
                    regular if k == warmup_iters else _warmup(kind, ratio, k, warmup_iters, regular)
                )
        else:
            regular = hook.lr(base, k)
            in_warmup = warmup is not None and k < warmup_iters
            lr = _warmup(kind, ratio, k, warmup_iters, regular) if in_warmup else regular
        out[k] = lr
    spans = [SchedulerSpan(f"{hook.name}LrUpdaterHook", 0, total, hook.by_epoch, 0)]
    if warmup is not None:
        spans.insert(0, SchedulerSpan(f"warmup:{warmup}", 0, min(warmup_iters, total), False, 0))
    return Simulation(
        actual=out,
        intended=out.copy(),
        total_iters=total,
        base_lr=base,
        epoch_length=length,
        spans=tuple(spans),
        cause=None,
        fix=None,
    )

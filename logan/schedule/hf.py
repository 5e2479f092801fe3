"""The LR at every optimizer step of a Hugging Face Trainer run, from its TrainingArguments.

The Trainer wraps a `LambdaLR`: the LR of update s is `learning_rate * factor(s - 1)`, the factor
being one of the closed forms of `transformers.optimization` (linear, cosine,
cosine_with_restarts, polynomial, constant, constant_with_warmup, inverse_sqrt,
cosine_with_min_lr). The warmup length comes from `warmup_steps` (a count, or a fraction of the
run when below 1, as in transformers 5) or the older `warmup_ratio`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from logan.config import is_unknown
from logan.schedule.base import MAX_SIM_ITERS, SchedulerSpan, Simulation

# TrainingArguments defaults.
DEFAULT_LR = 5e-5
DEFAULT_SCHEDULER = "linear"

_TYPES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
)


def warmup_steps(args: Mapping[str, Any], num_training_steps: int) -> int:
    """Warmup updates as the Trainer computes them (a fraction below 1 is rounded up)."""
    steps = args.get("warmup_steps") or 0
    if steps >= 1:
        return int(steps)
    if steps > 0:
        return math.ceil(num_training_steps * steps)
    ratio = args.get("warmup_ratio") or 0
    return math.ceil(num_training_steps * ratio) if ratio > 0 else 0


def _factor(kind: str, step: int, warm: int, total: int, kw: Mapping[str, Any], lr: float) -> float:
    """The LambdaLR multiplier after `step` scheduler steps."""
    if kind == "constant":
        return 1.0
    if step < warm and kind != "constant":
        return float(step) / float(max(1, warm))
    if kind == "constant_with_warmup":
        return 1.0
    if kind == "linear":
        return max(0.0, float(total - step) / float(max(1, total - warm)))
    progress = float(step - warm) / float(max(1, total - warm))
    if kind == "cosine":
        cycles = float(kw.get("num_cycles", 0.5))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)))
    if kind == "cosine_with_min_lr":
        cycles = float(kw.get("num_cycles", 0.5))
        rate = kw.get("min_lr_rate")
        if rate is None:
            rate = kw["min_lr"] / lr
        factor = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))
        return max(0, factor * (1 - rate) + rate)
    if kind == "cosine_with_restarts":
        if progress >= 1.0:
            return 0.0
        cycles = float(kw.get("num_cycles", 1))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((cycles * progress) % 1.0))))
    if kind == "polynomial":
        lr_end = kw.get("lr_end", 1e-7)
        power = kw.get("power", 1.0)
        if step > total:
            return lr_end / lr
        remaining = 1 - (step - warm) / (total - warm)
        return ((lr - lr_end) * remaining**power + lr_end) / lr
    if kind == "inverse_sqrt":
        timescale = kw.get("timescale") or warm or 10_000
        return 1.0 / math.sqrt((step + timescale - warm) / timescale)
    raise ValueError(kind)


def simulate(
    args: Mapping[str, Any],
    num_training_steps: int,
    *,
    length: int | None = None,
    logged_after_step: bool = False,
) -> Simulation | None:
    """Simulate the Trainer's LR for `num_training_steps` updates; None when args cannot tell.

    `actual[s-1]` is the LR logged at `global_step = s`: the LR used by update s, which is what
    transformers 5 logs. Older versions logged after stepping the scheduler: pass
    `logged_after_step=True` for those (the values shift by one update). `length` simulates that
    many updates of the same schedule (default `num_training_steps`).
    """
    try:
        return _simulate(args, num_training_steps, length, logged_after_step)
    except (ArithmeticError, TypeError, ValueError, KeyError):
        return None


def simulate_config(
    config: Mapping[str, Any],
    epoch_length: int | None,
    *,
    config_text: str | None = None,
    config_name: str = "config.py",
    total_iters: int | None = None,
) -> Simulation | None:
    """Same call as `logan.schedule.mmengine.simulate_config`, for TrainingArguments as a dict.

    The schedule spans `max_steps` when the arguments give it, else `total_iters` (the run's
    update count); `total_iters` beyond `max_steps` extends the same schedule.
    """
    if not isinstance(config, Mapping):
        return None
    steps = config.get("max_steps")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        steps = total_iters
    if steps is None:
        return None
    return simulate(config, steps, length=total_iters or steps)


def _simulate(
    args: Mapping[str, Any], total: int, length: int | None, after: bool
) -> Simulation | None:
    if not isinstance(args, Mapping) or is_unknown(dict(args)):
        return None
    length = total if length is None else length
    if not isinstance(total, int) or total <= 0 or not 0 < length <= MAX_SIM_ITERS:
        return None
    lr = args.get("learning_rate", DEFAULT_LR)
    kind = args.get("lr_scheduler_type", DEFAULT_SCHEDULER) or DEFAULT_SCHEDULER
    kind = getattr(kind, "value", kind)  # a SchedulerType enum
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or kind not in _TYPES:
        return None
    kw = args.get("lr_scheduler_kwargs") or {}
    if isinstance(kw, str):  # serialised TrainingArguments may carry it as JSON text
        kw = json.loads(kw) if kw.strip() else {}
    if not isinstance(kw, Mapping):
        return None
    if kind == "polynomial" and lr <= kw.get("lr_end", 1e-7):
        return None  # transformers refuses it
    warm = warmup_steps(args, total)
    shift = 1 if after else 0
    out = np.array(
        [lr * _factor(kind, s + shift, warm, total, kw, lr) for s in range(length)],
        dtype=np.float64,
    )
    spans = [SchedulerSpan(kind, 0, min(total, length), False, 0)]
    if warm and kind != "constant":
        spans.insert(0, SchedulerSpan("warmup", 0, min(warm, length), False, 0))
    return Simulation(
        actual=out,
        intended=out.copy(),
        total_iters=length,
        base_lr=float(lr),
        epoch_length=None,
        spans=tuple(spans),
        cause=None,
        fix=None,
    )

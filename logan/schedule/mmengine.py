"""Exact simulation of mmengine 0.10.7's learning-rate schedulers from a config read as data.

It reproduces what the Runner does, step for step: the train loop and the scheduler defaults it
fills in (`runner`), the construction-time step and the per-iteration and per-epoch stepping order
of every scheduler kind (`schedulers`), so the simulated LR matches the logged one to float
precision. Where mmengine runs something other than what the config reads as, `intent` says what
was meant and why, and `logan.config.patch` writes the fix as a diff of the config.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from logan.config.patch import fix_diff
from logan.schedule.base import MAX_SIM_ITERS, SchedulerSpan, Simulation, Unsupported, num
from logan.schedule.intent import cause, intended_changes
from logan.schedule.runner import Loop, loop_from_cfg, resolve, run
from logan.schedule.schedulers import INF, Resolved

__all__ = ["MATERIAL_REL_DIFF", "SchedulerSpan", "Simulation", "simulate_config"]

# Actual and intended curves differing by more than this fraction of the base LR at any
# iteration is a material difference (a tenth of a percent is far above float noise and far
# below any schedule change a person would make on purpose).
MATERIAL_REL_DIFF = 1e-3


def base_lr(config: dict[str, Any]) -> float:
    """The optimizer's LR as the Runner sets it (after `auto_scale_lr`, one process assumed)."""
    wrapper = config.get("optim_wrapper")
    optimizer = wrapper.get("optimizer") if isinstance(wrapper, dict) else None
    if not isinstance(optimizer, dict):
        optimizer = config.get("optimizer")
    if not isinstance(optimizer, dict):
        raise Unsupported("no optimizer readable as data")
    lr = num(optimizer.get("lr"), "lr")
    scale = config.get("auto_scale_lr")
    if isinstance(scale, dict) and scale.get("enable", False) is True:
        # Runner.scale_lr: lr * (world_size * batch_size) / base_batch_size. The world size is
        # not in the config; one process is assumed.
        loader = config.get("train_dataloader")
        bs = loader.get("batch_size") if isinstance(loader, dict) else None
        lr = lr * float(num(bs, "batch_size")) / float(num(scale.get("base_batch_size"), "bs"))
    return float(lr)


def scheduler_cfgs(config: dict[str, Any]) -> list[Any]:
    """`param_scheduler` as a list (one dict, a list, or none)."""
    raw = config.get("param_scheduler")
    if raw is None:
        return []
    if isinstance(raw, dict) and "type" in raw:
        return [raw]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    # Per-optimizer dicts, UNKNOWN, ...
    raise Unsupported("param_scheduler is not a list readable as data")


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
        return simulate(config, epoch_length, config_text, config_name, total_iters)
    except Unsupported:
        return None


def simulate(
    config: dict[str, Any],
    epoch_length: int | None,
    config_text: str | None = None,
    config_name: str = "config.py",
    total_iters: int | None = None,
) -> Simulation:
    """As `simulate_config`, but Unsupported says what the config lacks instead of None."""
    return simulate_with_tail(config, epoch_length, config_text, config_name, total_iters)[0]


def simulate_with_tail(
    config: dict[str, Any],
    epoch_length: int | None,
    config_text: str | None = None,
    config_name: str = "config.py",
    total_iters: int | None = None,
    horizon: int = 0,
) -> tuple[Simulation, np.ndarray]:
    """The simulation, and the LR as run for `horizon` iterations (past the end of training) in
    the same pass: the first `total_iters` of a longer run are the same LRs."""
    try:
        return _simulate(config, epoch_length, config_text, config_name, total_iters, horizon)
    except (ArithmeticError, TypeError, ValueError, KeyError, OverflowError) as exc:
        raise Unsupported(f"the schedule cannot be computed ({type(exc).__name__})") from None


def _simulate(
    config: dict[str, Any],
    epoch_length: int | None,
    config_text: str | None,
    config_name: str,
    total_iters: int | None,
    horizon: int = 0,
) -> tuple[Simulation, np.ndarray]:
    if not isinstance(config, dict):
        raise Unsupported("not a config")
    if epoch_length is not None and (not isinstance(epoch_length, int) or epoch_length <= 0):
        epoch_length = None
    lr0 = base_lr(config)
    loop = loop_from_cfg(config.get("train_cfg"), epoch_length, total_iters)
    specs = resolve(scheduler_cfgs(config), loop)
    total = loop.max_iters if total_iters is None else int(total_iters)
    if total <= 0 or total > MAX_SIM_ITERS:
        raise Unsupported(f"{total} iterations is not a training length")
    if horizon > MAX_SIM_ITERS:
        raise Unsupported(f"{horizon} iterations is not a training length")
    full = run(specs, loop, lr0, max(total, horizon))
    actual = full[:total].copy()
    changes = intended_changes(specs, loop, total)
    why = fix = None
    first = None
    intended = actual
    if changes:
        by_index = {c.spec.index: c.spec for c in changes}
        intended = run([by_index.get(s.index, s) for s in specs], loop, lr0, total)
        scale = max(abs(lr0), 1e-300)
        if float(np.max(np.abs(actual - intended))) / scale > MATERIAL_REL_DIFF:
            why = cause(specs, changes, loop, total, actual)
            first = min(c.spec.index for c in changes)
            if config_text is not None:
                fix = fix_diff(config_text, config_name, [c.edit for c in changes], config)
    else:
        intended = actual.copy()
    sim = Simulation(
        actual=actual,
        intended=intended,
        total_iters=total,
        base_lr=lr0,
        epoch_length=loop.epoch_length,
        spans=tuple(_span(s, loop, total) for s in specs),
        cause=why,
        fix=fix,
        cause_index=first,
        edits=tuple(c.edit for c in changes) if why else (),
    )
    return sim, full


def _span(spec: Resolved, loop: Loop, total: int) -> SchedulerSpan:
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

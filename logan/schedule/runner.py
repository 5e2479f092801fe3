"""What mmengine's Runner does to a config before any scheduler steps: the train loop it builds
and the scheduler arguments it fills in (the default `end`, `convert_to_iter_based`).

The default `end` is the root of the XTuner bug: an iteration-based loop reports max_epochs = 1,
so an epoch-based scheduler without `end` stops after what the Runner calls the first epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from logan.config import is_unknown
from logan.schedule.base import Unsupported, num
from logan.schedule.schedulers import INF, REGISTRY, Resolved, scheduler_kind


@dataclass(frozen=True)
class Loop:
    """The train loop as the Runner sees it."""

    name: str
    iter_based: bool  # True: by-epoch schedulers are never stepped during training
    max_epochs: int  # what `runner.max_epochs` reports (1 for iteration-based loops)
    max_iters: int
    epoch_length: int | None
    configured_epochs: Any  # max_epochs written in train_cfg (XTuner TrainLoop), else None


def _loop_type(train_cfg: dict[str, Any]) -> str:
    ltype = train_cfg.get("type")
    if isinstance(ltype, str):
        return ltype.rsplit(".", 1)[-1]
    if train_cfg.get("by_epoch", False) or (
        "max_epochs" in train_cfg and "max_iters" not in train_cfg
    ):
        return "EpochBasedTrainLoop"
    return "IterBasedTrainLoop"


def _epochs_to_length(max_epochs: Any, epoch_length: int | None, total: int | None) -> int | None:
    """The epoch length given, or the one `total` iterations over `max_epochs` imply."""
    if epoch_length is None and total is not None:
        guess = total / max_epochs
        if guess == int(guess):
            return int(guess)
    return epoch_length


def loop_from_cfg(train_cfg: Any, epoch_length: int | None, total_iters: int | None) -> Loop:
    if not isinstance(train_cfg, dict) or is_unknown(train_cfg.get("type", None)):
        raise Unsupported("no train_cfg readable as data")
    short = _loop_type(train_cfg)
    if short == "EpochBasedTrainLoop" or (
        "Epoch" in short and "max_epochs" in train_cfg and "max_iters" not in train_cfg
    ):
        max_epochs = num(train_cfg.get("max_epochs"), "max_epochs")
        epoch_length = _epochs_to_length(max_epochs, epoch_length, total_iters)
        if epoch_length is None:
            raise Unsupported("epoch length")
        return Loop(
            short, False, int(max_epochs), int(max_epochs) * epoch_length, epoch_length, None
        )
    if short == "IterBasedTrainLoop" or ("Iter" in short and "max_iters" in train_cfg):
        max_iters = num(train_cfg.get("max_iters"), "max_iters")
        return Loop(short, True, 1, int(max_iters), epoch_length, None)
    if short.endswith("TrainLoop"):
        # XTuner's TrainLoop: an IterBasedTrainLoop whose max_iters may come from max_epochs.
        if train_cfg.get("max_iters") is not None:
            max_iters = int(num(train_cfg["max_iters"], "max_iters"))
            return Loop(short, True, 1, max_iters, epoch_length, None)
        max_epochs = num(train_cfg.get("max_epochs"), "max_epochs")
        epoch_length = _epochs_to_length(max_epochs, epoch_length, total_iters)
        if epoch_length is None:
            raise Unsupported("epoch length")
        iters = max_epochs * epoch_length
        if iters != int(iters):
            raise Unsupported("max_epochs * epoch_length is not an integer")
        return Loop(short, True, 1, int(iters), epoch_length, max_epochs)
    raise Unsupported(f"train loop {train_cfg.get('type')!s} is not simulated")


def _is_momentum(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name.rsplit(".", 1)[-1].endswith("Momentum")


def _convert(kind: str, cfg: dict[str, Any], begin: Any, end: Any, length: int) -> tuple[Any, Any]:
    """`convert_to_iter_based`: epochs to iterations, for the span and the kind's parameters."""
    cls = REGISTRY[kind]
    if cls.keeps_fractions:
        begin = begin * length
        end = end * length if end != INF else end
    else:
        begin = int(begin * length)
        end = int(end * length) if end != INF else end
    if cls.scaled_scalar and cfg.get(cls.scaled_scalar) is not None:
        cfg[cls.scaled_scalar] = num(cfg[cls.scaled_scalar], cls.scaled_scalar) * length
    if cls.scaled_list:
        values = cfg.get(cls.scaled_list)
        if not isinstance(values, (list, tuple)):
            raise Unsupported(cls.scaled_list)
        cfg[cls.scaled_list] = [num(v, cls.scaled_list) * length for v in values]
    return begin, end


def resolve_one(index: int, raw: Any, loop: Loop) -> Resolved | None:
    """One `param_scheduler` entry as the Runner builds it; None when it does not touch the LR."""
    if not isinstance(raw, dict) or is_unknown(raw):
        raise Unsupported("a param_scheduler entry is not readable as data")
    if _is_momentum(raw.get("type")) or raw.get("param_name", "lr") != "lr":
        return None  # schedules momentum (or another parameter), never the LR
    kind = scheduler_kind(raw.get("type"))
    if kind is None:
        raise Unsupported(f"scheduler type {raw.get('type')!s} is not simulated")
    cfg = {k: v for k, v in raw.items() if k not in ("type", "_scope_")}
    by_epoch = cfg.pop("by_epoch", True)
    end_defaulted = "end" not in cfg
    if end_defaulted:
        cfg["end"] = loop.max_epochs if by_epoch else loop.max_iters
    begin = num(cfg.pop("begin", 0), "begin")
    end = num(cfg.pop("end"), "end")
    for unused in ("last_step", "verbose", "param_name"):
        cfg.pop(unused, None)
    converted = bool(cfg.pop("convert_to_iter_based", False))
    if converted:
        if not by_epoch:
            raise Unsupported("convert_to_iter_based with by_epoch=False")
        if loop.epoch_length is None or loop.epoch_length <= 0:
            raise Unsupported("epoch length")
        begin, end = _convert(kind, cfg, begin, end, loop.epoch_length)
        by_epoch = False
    if end <= begin:
        raise Unsupported(f"end={end!r} <= begin={begin!r}: mmengine refuses to build it")
    return Resolved(
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


def resolve(cfgs: list[Any], loop: Loop) -> list[Resolved]:
    """Every LR scheduler of `param_scheduler`, as the Runner builds them."""
    out = []
    for index, raw in enumerate(cfgs):
        spec = resolve_one(index, raw, loop)
        if spec is not None:
            out.append(spec)
    return out


def _busy(per_iter: list[Any], total: int) -> list[tuple[int, int]]:
    """Merged [lo, hi) iterations at which some per-iteration scheduler acts (begin <= k+1 < end):
    outside them the LR cannot change except at an epoch's end."""
    spans = []
    for s in per_iter:
        lo = max(0, math.ceil(s.begin) - 1)
        hi = min(total, math.ceil(min(s.end, INF)) - 1)
        if hi > lo:
            spans.append((lo, hi))
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def run(specs: list[Resolved], loop: Loop, base_lr: float, total: int) -> np.ndarray:
    """Step the schedulers exactly as ParamSchedulerHook does; return the LR of each iteration.

    Stretches where no scheduler acts are filled at once (a 300-epoch run whose warmup and
    milestones act on a few hundred iterations costs those iterations, not all of them).
    """
    group: dict[str, float] = {"lr": base_lr}
    scheds = [REGISTRY[spec.kind](spec, group) for spec in specs]
    per_iter = [s for s in scheds if not s.by_epoch]
    per_epoch = [s for s in scheds if s.by_epoch]
    length = loop.epoch_length or 0
    # after_train_epoch: only epoch-based loops end epochs while training.
    epochs = bool(per_epoch and not loop.iter_based and length)
    busy = _busy(per_iter, total)
    out = np.empty(total, dtype=np.float64)
    k = i = 0
    while k < total:
        while i < len(busy) and busy[i][1] <= k:
            i += 1
        if i < len(busy) and busy[i][0] <= k:
            stop = busy[i][1]
            for j in range(k, stop):
                out[j] = group["lr"]
                for s in per_iter:  # after_train_iter: Scheduler.step, inlined (the hot loop)
                    s.global_step += 1
                    if s.begin <= s.global_step < s.end:
                        s.last_step += 1
                        group["lr"] = s.value(group)
                if epochs and (j + 1) % length == 0:
                    for s in per_epoch:
                        s.step(group)
        else:
            stop = busy[i][0] if i < len(busy) else total
            if epochs:
                stop = min(stop, (k // length + 1) * length)  # up to and with an epoch's end
            out[k:stop] = group["lr"]
            for s in per_iter:
                s.global_step += stop - k
            if epochs and stop % length == 0:
                for s in per_epoch:
                    s.step(group)
        k = stop
    return out

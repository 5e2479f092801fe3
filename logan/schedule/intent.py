"""What the author of a mmengine config meant, where mmengine runs something else, and why.

Two faults come from an iteration-based loop reporting max_epochs = 1 and never ending an epoch:
a missing `end` defaults to one epoch (the XTuner bug), and an epoch-based scheduler without
`convert_to_iter_based` is stepped once, when built, and never again. For each, `intended_changes`
gives the scheduler as the edited config builds it and the edit itself (`logan.config.patch`
turns the edits into a diff of the config text); `cause` says it in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logan.config.patch import SchedulerEdit
from logan.schedule.base import Unsupported
from logan.schedule.runner import Loop, resolve_one
from logan.schedule.schedulers import Resolved


@dataclass(frozen=True)
class Change:
    """One scheduler config edit that makes mmengine run what the author meant."""

    spec: Resolved  # the scheduler as the edited config builds it
    how: str  # "T_max": T_max read as the end; "end": no end at all; "never-stepped"
    edit: SchedulerEdit


def _edited(spec: Resolved, epochs_total: Any) -> tuple[dict[str, Any], str, SchedulerEdit] | None:
    """The scheduler's config as its author meant it, or None when it runs as written."""
    raw = spec.cfg
    inserts: list[tuple[str, Any]] = []
    rename = False
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
        return None
    return new_raw, how, SchedulerEdit(spec.index, rename, tuple(inserts))


def intended_changes(specs: list[Resolved], loop: Loop, total: int) -> list[Change]:
    """The edits that make an iteration-based loop run its epoch-based schedulers as they read."""
    length = loop.epoch_length
    if not loop.iter_based or not length:
        return []
    epochs = total / length
    epochs_total: Any = int(epochs) if epochs == int(epochs) else epochs
    changes = []
    for spec in specs:
        if not spec.cfg.get("by_epoch", True):
            continue
        edited = _edited(spec, epochs_total)
        if edited is None:
            continue
        new_raw, how, edit = edited
        try:
            fixed = resolve_one(spec.index, new_raw, loop)
        except Unsupported:
            continue
        if fixed is not None:
            changes.append(Change(fixed, how, edit))
    return changes


def cause(
    specs: list[Resolved], changes: list[Change], loop: Loop, total: int, actual: np.ndarray
) -> str:
    """Why the LR as run differs from the LR as meant, one clause per changed scheduler."""
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

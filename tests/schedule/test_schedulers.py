"""The scheduler registry: one small class per mmengine kind, found by its registered names."""

from __future__ import annotations

import pytest

from logan.schedule.schedulers import REGISTRY, Scheduler, scheduler_kind

KINDS = {
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
}


def test_every_kind_is_one_registered_class() -> None:
    assert set(REGISTRY) == KINDS
    for kind, cls in REGISTRY.items():
        assert issubclass(cls, Scheduler) and cls.kind == kind
        assert cls.value is not Scheduler.value  # each kind computes its own step


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("CosineAnnealingLR", "CosineAnnealing"),
        ("mmengine.optim.CosineAnnealingLR", "CosineAnnealing"),
        ("CosineAnnealingParamScheduler", "CosineAnnealing"),
        ("QuadraticWarmupLR", "QuadraticWarmup"),
        ("CosineAnnealingMomentum", None),  # momentum, not the LR
        ("PolyLRRatio", None),  # mmseg's own scheduler: not simulated
        (None, None),
    ],
)
def test_scheduler_kind(name: object, kind: str | None) -> None:
    assert scheduler_kind(name) == kind


def test_conversion_parameters_are_declared_by_the_kind() -> None:
    assert REGISTRY["CosineAnnealing"].scaled_scalar == "T_max"
    assert REGISTRY["MultiStep"].scaled_list == "milestones"
    assert REGISTRY["CosineRestart"].scaled_list == "periods"
    assert REGISTRY["QuadraticWarmup"].keeps_fractions

"""Root cause and fix: the proposed patch, applied, makes mmengine run what the author meant.

Each config below is a way of writing the seed bug (or its sibling, an epoch-based scheduler that
an iteration-based loop never steps). For each: a cause is given, the diff applies to the text,
the patched config simulates to exactly the `intended` curve of the original, and has no cause.
"""

from __future__ import annotations

import numpy as np
import pytest

from logan.config import load_config
from logan.config.patch import apply_unified_diff
from logan.schedule.mmengine import MATERIAL_REL_DIFF, simulate_config

SEED_STYLE = """\
from mmengine.optim import CosineAnnealingLR, LinearLR
from xtuner.engine.runner import TrainLoop
lr = 2e-4
max_epochs = 3
warmup_ratio = 0.03
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=lr))
param_scheduler = [
    dict(type=LinearLR, start_factor=1e-5, by_epoch=True, begin=0,
         end=warmup_ratio * max_epochs, convert_to_iter_based=True),
    dict(type=CosineAnnealingLR, eta_min=0.0, by_epoch=True,
         begin=warmup_ratio * max_epochs, T_max=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(type=TrainLoop, max_epochs=max_epochs)
"""

MULTILINE_NO_END = """\
max_epochs = 4
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, end=10),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0.2,
        convert_to_iter_based=True
    )
]
train_cfg = dict(type='xtuner.engine.runner.TrainLoop', max_epochs=max_epochs)
"""

INLINE_NO_END = """\
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
param_scheduler = dict(type='PolyLR', by_epoch=True, convert_to_iter_based=True, power=2.0)
train_cfg = dict(type='TrainLoop', max_epochs=5)"""

DICT_LITERAL = """\
optim_wrapper = {'optimizer': {'type': 'AdamW', 'lr': 1e-3}}
param_scheduler = [{'type': 'CosineAnnealingLR', 'T_max': 2, 'by_epoch': True,
                    'convert_to_iter_based': True, 'eta_min_ratio': 0.01}]
train_cfg = {'type': 'TrainLoop', 'max_epochs': 2}
"""

NEVER_STEPPED = """\
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=20),
    dict(type='CosineAnnealingLR', eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200)
"""


@pytest.mark.parametrize(
    ("text", "epoch_length", "needle"),
    [
        (SEED_STYLE, 50, "T_max = 3 epochs"),
        (MULTILINE_NO_END, 25, "stopped at iteration 25 of 100"),
        (INLINE_NO_END, 30, "stopped at iteration 30 of 150"),
        (DICT_LITERAL, 40, "T_max = 2 epochs"),
        (NEVER_STEPPED, 40, "never ends an epoch"),
    ],
    ids=["seed-style", "multiline-no-end", "inline-no-end", "dict-literal", "never-stepped"],
)
def test_fix_makes_mmengine_run_the_intended_schedule(
    text: str, epoch_length: int, needle: str
) -> None:
    sim = simulate_config(load_config(text), epoch_length, config_text=text, config_name="c.py")
    assert sim is not None and sim.cause is not None and sim.fix is not None
    assert needle in sim.cause
    diff = float(np.max(np.abs(sim.actual - sim.intended))) / sim.base_lr
    assert diff > MATERIAL_REL_DIFF
    patched = apply_unified_diff(text, sim.fix)
    assert patched != text
    after = simulate_config(load_config(patched), epoch_length, config_text=patched)
    assert after is not None
    assert after.cause is None and after.fix is None
    np.testing.assert_array_equal(after.actual, sim.intended)


def test_seed_style_fix_keeps_the_names() -> None:
    sim = simulate_config(load_config(SEED_STYLE), 50, config_text=SEED_STYLE)
    assert sim is not None and sim.fix is not None
    changed = [ln for ln in sim.fix.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert changed == [
        "-         begin=warmup_ratio * max_epochs, T_max=max_epochs, convert_to_iter_based=True)",
        "+         begin=warmup_ratio * max_epochs, end=max_epochs, convert_to_iter_based=True)",
    ]


def test_multiline_insert_follows_the_dump_style() -> None:
    sim = simulate_config(load_config(MULTILINE_NO_END), 25, config_text=MULTILINE_NO_END)
    assert sim is not None and sim.fix is not None
    lines = sim.fix.splitlines()
    assert "-        convert_to_iter_based=True" in lines
    assert "+        convert_to_iter_based=True," in lines
    assert "+        end=max_epochs," in lines


def test_without_config_text_there_is_a_cause_but_no_fix() -> None:
    sim = simulate_config(load_config(SEED_STYLE), 50)
    assert sim is not None and sim.cause is not None and sim.fix is None


def test_stale_diff_is_refused() -> None:
    sim = simulate_config(load_config(SEED_STYLE), 50, config_text=SEED_STYLE)
    assert sim is not None and sim.fix is not None
    with pytest.raises(ValueError):
        apply_unified_diff(SEED_STYLE.replace("T_max=max_epochs", "T_max=4"), sim.fix)


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"optim_wrapper": {"optimizer": {"lr": 0.1}}},  # no train_cfg
        load_config("from x import y\noptim_wrapper = dict(optimizer=dict(lr=y()))\n"),
        {
            "optim_wrapper": {"optimizer": {"lr": 0.1}},
            "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 3},
        },  # epoch length needed, not given
        {
            "optim_wrapper": {"optimizer": {"lr": 0.1}},
            "train_cfg": {"type": "IterBasedTrainLoop", "max_iters": 30},
            "param_scheduler": [{"type": "NoSuchLR"}],
        },
        {
            "optim_wrapper": {"optimizer": {"lr": 0.1}},
            "train_cfg": {"type": "IterBasedTrainLoop", "max_iters": 30},
            "param_scheduler": [{"type": "LinearLR", "begin": 10, "end": 5, "by_epoch": False}],
        },
    ],
    ids=["empty", "no-loop", "unknown-lr", "no-epoch-length", "unknown-type", "end-before-begin"],
)
def test_missing_information_gives_none(config: dict) -> None:
    assert simulate_config(config, None) is None


def test_total_iters_supplies_the_epoch_length() -> None:
    cfg = load_config(INLINE_NO_END)
    sim = simulate_config(cfg, None, total_iters=150)
    assert sim is not None and sim.epoch_length == 30 and sim.total_iters == 150


def test_mmdet_quadratic_warmup_closed_form() -> None:
    # mmdet's QuadraticWarmupLR adds base * (2n + 1) / T^2 per step: lr_n = base * (n + 1)^2 / T^2.
    cfg = {
        "optim_wrapper": {"optimizer": {"lr": 0.01}},
        "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 3},
        "param_scheduler": [
            {
                "type": "mmdet.QuadraticWarmupLR",
                "by_epoch": True,
                "begin": 0,
                "end": 1,
                "convert_to_iter_based": True,
            },
            {
                "type": "CosineAnnealingLR",
                "begin": 1,
                "end": 3,
                "by_epoch": True,
                "eta_min_ratio": 0.05,
                "convert_to_iter_based": True,
            },
        ],
    }
    sim = simulate_config(cfg, 8)
    assert sim is not None and sim.total_iters == 24
    expected = [0.01 * (n + 1) ** 2 / 64 for n in range(8)]
    np.testing.assert_allclose(sim.actual[:8], expected, rtol=1e-12)
    assert sim.actual[8] == pytest.approx(0.01)  # cosine starts from the base LR
    assert [(s.type, s.begin, s.end, s.by_epoch) for s in sim.spans] == [
        ("QuadraticWarmupLR", 0, 8, False),
        ("CosineAnnealingLR", 8, 24, False),
    ]


def test_spans_of_epoch_stepped_schedulers() -> None:
    cfg = {
        "optim_wrapper": {"optimizer": {"lr": 0.1}},
        "train_cfg": {"type": "EpochBasedTrainLoop", "max_epochs": 10},
        "param_scheduler": [
            {"type": "LinearLR", "by_epoch": False, "end": 5},
            {"type": "MultiStepLR", "milestones": [4, 8], "begin": 1},
        ],
    }
    sim = simulate_config(cfg, 7)
    assert sim is not None
    assert [(s.begin, s.end, s.by_epoch) for s in sim.spans] == [(0, 5, False), (7, 70, True)]
    assert sim.actual[7 * 5] == pytest.approx(0.01) and sim.actual[7 * 5 - 1] == 0.1

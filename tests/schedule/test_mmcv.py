"""mmcv 1.x `lr_config`: against real mmcv 1.x logs, and the rules of its LrUpdaterHook."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from logan.config import config_from_log_text, load_config
from logan.schedule.mmcv import simulate, simulate_config

PUBLIC = Path(__file__).resolve().parents[2] / ".." / "shared" / "public_logs"
# mmcv's .log.json rounds every float to 5 decimals.
ROUNDING = 5e-6 + 1e-12
_EPOCH_LINE = re.compile(r"Epoch \[\d+\]\[\s*\d+/(\d+)\]")


def _cfg(lr_config: dict | None, max_epochs: int = 4, lr: float = 0.1) -> dict:
    return {
        "optimizer": {"type": "SGD", "lr": lr},
        "lr_config": lr_config,
        "runner": {"type": "EpochBasedRunner", "max_epochs": max_epochs},
    }


@pytest.mark.parametrize("run", ["mmcv1-resnet50_cifar10", "mmcv1-resnet18_b32_flower"])
def test_matches_real_mmcv_logs(run: str) -> None:
    folder = PUBLIC / run
    if not folder.is_dir():
        pytest.skip("../shared/public_logs not present")
    text_log = next(folder.glob("*.log")).read_text(errors="replace")
    config_text = config_from_log_text(text_log)
    assert config_text is not None
    match = _EPOCH_LINE.search(text_log)
    # The flower run logged validation lines only; its by-epoch step policy without warmup does
    # not depend on the epoch length, so one iteration per epoch stands in for it.
    length = int(match.group(1)) if match else 1
    sim = simulate(load_config(config_text), length)
    assert sim is not None
    lines = next(folder.glob("*.log.json")).read_text().splitlines()[1:]
    checked = 0
    for line in lines:
        rec = json.loads(line)
        if "lr" not in rec:
            continue
        if rec["mode"] == "train":
            k = (rec["epoch"] - 1) * length + rec["iter"]
        else:  # logged after the epoch: the LR of its last iteration
            k = rec["epoch"] * length
        assert abs(sim.actual[k - 1] - rec["lr"]) <= ROUNDING, (k, rec)
        checked += 1
    assert checked >= 10


def test_step_by_epoch_with_linear_warmup() -> None:
    cfg = _cfg(
        {
            "policy": "step",
            "step": [2, 3],
            "warmup": "linear",
            "warmup_iters": 5,
            "warmup_ratio": 0.001,
        }
    )
    sim = simulate(cfg, 10)
    assert sim is not None and sim.total_iters == 40
    lr = sim.actual
    assert lr[0] == pytest.approx(0.1 * 0.001)
    assert lr[2] == pytest.approx(0.1 * (1 - (1 - 2 / 5) * (1 - 0.001)))
    assert np.all(lr[5:20] == 0.1)  # warmup ends at iteration 5; epochs 0-1 at the base LR
    assert np.allclose(lr[20:30], 0.01) and np.allclose(lr[30:], 0.001)


def test_cosine_by_iteration_reaches_min_lr_ratio() -> None:
    cfg = _cfg({"policy": "CosineAnnealing", "by_epoch": False, "min_lr_ratio": 0.01})
    sim = simulate(cfg, 25)
    assert sim is not None
    n = sim.total_iters
    expected = [0.001 + 0.5 * (0.1 - 0.001) * (math.cos(math.pi * k / n) + 1) for k in range(n)]
    np.testing.assert_allclose(sim.actual, expected, rtol=1e-12)


def test_poly_by_epoch_and_exp_warmup() -> None:
    cfg = _cfg(
        {
            "policy": "poly",
            "power": 0.9,
            "min_lr": 1e-4,
            "warmup": "exp",
            "warmup_iters": 1,
            "warmup_ratio": 0.1,
            "warmup_by_epoch": True,
        }
    )
    sim = simulate(cfg, 6)
    assert sim is not None
    lr = sim.actual
    assert lr[0] == pytest.approx(0.1 * 0.1)  # exp warmup starts at ratio * regular
    assert lr[3] == pytest.approx(0.1 * 0.1 ** (1 - 3 / 6))
    assert lr[6] == pytest.approx((0.1 - 1e-4) * (1 - 1 / 4) ** 0.9 + 1e-4)


def test_iter_runner_and_missing_pieces() -> None:
    cfg = {
        "optimizer": {"lr": 0.01},
        "lr_config": {"policy": "step", "step": 10, "gamma": 0.5, "by_epoch": False},
        "runner": {"type": "IterBasedRunner", "max_iters": 30},
    }
    sim = simulate(cfg, None)
    assert sim is not None
    assert list(sim.actual[[0, 9, 10, 20, 29]]) == [0.01, 0.01, 0.005, 0.0025, 0.0025]
    assert simulate(_cfg({"policy": "step", "step": [1]}), None) is None  # epoch length needed
    assert simulate(_cfg({"policy": "Cyclic"}), 5) is None
    assert simulate({"lr_config": {"policy": "fixed"}}, 5) is None  # no optimizer
    fixed = simulate(_cfg(None), 3)
    assert fixed is not None and np.all(fixed.actual == 0.1)


def test_simulate_config_has_the_mmengine_call() -> None:
    cfg = _cfg({"policy": "step", "step": [1]}, max_epochs=3)
    sim = simulate_config(cfg, 4, config_text="ignored", config_name="x.py", total_iters=12)
    assert sim is not None and sim.total_iters == 12 and sim.fix is None

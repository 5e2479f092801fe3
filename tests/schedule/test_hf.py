"""HF Trainer schedules: against real transformers schedulers and real Trainer logs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from logan.schedule.hf import simulate, simulate_config, warmup_steps

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"

CASES = [
    ("linear", {}, 5, 40),
    ("linear", {}, 0, 17),
    ("cosine", {}, 3, 30),
    ("cosine", {"num_cycles": 1.5}, 4, 50),
    ("cosine_with_restarts", {"num_cycles": 3}, 5, 60),
    ("polynomial", {"power": 2.0, "lr_end": 1e-5}, 6, 45),
    ("constant", {}, 0, 12),
    ("constant_with_warmup", {}, 7, 25),
    ("inverse_sqrt", {}, 10, 80),
    ("inverse_sqrt", {"timescale": 20}, 0, 30),
    ("cosine_with_min_lr", {"min_lr": 1e-5}, 2, 33),
]


@pytest.mark.parametrize(("kind", "kwargs", "warmup", "total"), CASES)
def test_matches_real_transformers_scheduler(
    kind: str, kwargs: dict, warmup: int, total: int
) -> None:
    torch = pytest.importorskip("torch")
    optimization = pytest.importorskip("transformers.optimization")
    lr = 1e-3
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = optimization.get_scheduler(
        kind,
        opt,
        num_warmup_steps=warmup,
        num_training_steps=total,
        scheduler_specific_kwargs=kwargs or None,
    )
    real = []
    for _ in range(total):
        real.append(opt.param_groups[0]["lr"])  # the LR update s uses
        opt.step()
        sched.step()
    args = {
        "learning_rate": lr,
        "lr_scheduler_type": kind,
        "warmup_steps": warmup,
        "lr_scheduler_kwargs": kwargs,
    }
    sim = simulate(args, total)
    assert sim is not None
    np.testing.assert_allclose(sim.actual, real, rtol=1e-12, atol=0)


def test_warmup_fraction_and_ratio() -> None:
    assert warmup_steps({"warmup_steps": 0.1}, 30) == 3
    assert warmup_steps({"warmup_steps": 0.1}, 31) == 4  # rounded up, as the Trainer does
    assert warmup_steps({"warmup_ratio": 0.05}, 100) == 5
    assert warmup_steps({"warmup_steps": 7, "warmup_ratio": 0.5}, 100) == 7
    assert warmup_steps({}, 100) == 0


def test_unknown_type_gives_none() -> None:
    assert simulate({"lr_scheduler_type": "no_such"}, 10) is None
    assert simulate({"learning_rate": "x"}, 10) is None
    assert simulate({}, 0) is None


def _trainer_lrs(state_path: Path) -> list[tuple[int, float]]:
    state = json.loads(state_path.read_text())
    return [(e["step"], e["learning_rate"]) for e in state["log_history"] if "learning_rate" in e]


@pytest.mark.parametrize(
    ("sample", "state", "args", "total"),
    [
        (
            "hf_cosine",
            "trainer_state.json",
            {"learning_rate": 1e-3, "lr_scheduler_type": "cosine", "warmup_steps": 0.1},
            30,
        ),
        (
            "hf_linear_gradaccum",
            "checkpoint-18/trainer_state.json",
            {"learning_rate": 1e-3, "lr_scheduler_type": "linear", "warmup_steps": 2},
            18,
        ),
    ],
)
def test_matches_real_trainer_logs(sample: str, state: str, args: dict, total: int) -> None:
    path = SAMPLES / sample / state
    if not path.is_file():
        pytest.skip(f"{path} not present")
    sim = simulate(args, total)
    assert sim is not None
    logged = _trainer_lrs(path)
    assert logged
    for step, lr in logged:
        assert math.isclose(sim.actual[step - 1], lr, rel_tol=1e-9, abs_tol=1e-15), step


def test_simulate_config_takes_the_reader_dict() -> None:
    # As logan.readers.hf normalises TrainingArguments: warmup as a ratio, max_steps None.
    args = {
        "learning_rate": 1e-3,
        "lr_scheduler_type": "cosine",
        "lr_scheduler_kwargs": "{}",
        "warmup_steps": 0,
        "warmup_ratio": 0.1,
        "max_steps": None,
    }
    sim = simulate_config(args, None, total_iters=30)
    assert sim is not None and sim.total_iters == 30
    direct = simulate({**args, "lr_scheduler_kwargs": {}}, 30)
    assert direct is not None
    np.testing.assert_array_equal(sim.actual, direct.actual)
    assert simulate_config(args, None) is None  # no length anywhere


def test_longer_horizon_extends_the_same_schedule() -> None:
    args = {"learning_rate": 1e-3, "lr_scheduler_type": "linear", "max_steps": 20}
    sim = simulate_config(args, None, total_iters=80)
    base = simulate(args, 20)
    assert sim is not None and base is not None and sim.total_iters == 80
    np.testing.assert_array_equal(sim.actual[:20], base.actual)
    assert np.all(sim.actual[20:] == 0.0)

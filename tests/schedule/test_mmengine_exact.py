"""The simulator against REAL mmengine: the Runner builds the schedulers, its hook steps them.

For each config the real `Runner.build_train_loop` / `build_param_scheduler` fill the default
`end`, convert epochs to iterations and build the real scheduler objects; the real
`ParamSchedulerHook` steps them after every iteration and after every epoch of an epoch-based
loop. The LR of param group 0 read before each iteration (what RuntimeInfoHook logs) must equal
`simulate_config(...).actual` to 1e-9 relative at every iteration.
"""

from __future__ import annotations

import copy
import logging
import warnings

import numpy as np
import pytest

from logan.schedule.mmengine import simulate_config

torch = pytest.importorskip("torch")
pytest.importorskip("mmengine")

from mmengine.hooks import ParamSchedulerHook  # noqa: E402
from mmengine.model import BaseModel  # noqa: E402
from mmengine.runner import IterBasedTrainLoop, Runner  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

BASE_LR = 0.02
RTOL = 1e-9


class _Toy(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs=None, data_samples=None, mode="tensor"):  # noqa: ANN001
        return {"loss": self.linear(torch.zeros(1, 2)).sum()}


class XTunerStyleTrainLoop(IterBasedTrainLoop):
    """XTuner's TrainLoop contract: max_epochs becomes max_iters = max_epochs * len(loader)."""

    def __init__(self, runner, dataloader, max_iters=None, max_epochs=None, **kwargs):  # noqa: ANN001
        if max_iters is None:
            max_iters = max_epochs * len(dataloader)
        super().__init__(runner, dataloader, max_iters=max_iters, **kwargs)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    logging.getLogger("mmengine").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = Runner(
            model=_Toy(),
            work_dir=str(tmp_path_factory.mktemp("mmengine_exact")),
            train_dataloader=DataLoader(list(range(10)), batch_size=1),
            optim_wrapper=dict(optimizer=dict(type="SGD", lr=BASE_LR)),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            default_hooks=dict(logger=None, checkpoint=None),
            log_level="ERROR",
        )
    r.logger.setLevel(logging.ERROR)
    return r


def real_lrs(runner: Runner, config: dict, epoch_length: int) -> np.ndarray:
    """Build everything with the real Runner and step it as a training run would."""
    train_cfg = dict(config["train_cfg"])
    if train_cfg.get("type") == "TrainLoop":
        train_cfg["type"] = XTunerStyleTrainLoop
    runner._train_dataloader = DataLoader(list(range(epoch_length)), batch_size=1)
    runner._train_loop = runner.build_train_loop(train_cfg)
    lr = config["optim_wrapper"]["optimizer"]["lr"]
    runner.optim_wrapper = runner.build_optim_wrapper(
        dict(optimizer=dict(type="SGD", lr=lr, momentum=0.9))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.param_schedulers = runner.build_param_scheduler(
            copy.deepcopy(config["param_scheduler"])
        )
        hook = ParamSchedulerHook()
        epoch_based = not isinstance(runner.train_loop, IterBasedTrainLoop)
        out = []
        for k in range(runner.train_loop.max_iters):
            out.append(runner.optim_wrapper.get_lr()["lr"][0])
            runner.optim_wrapper.step()
            hook.after_train_iter(runner, batch_idx=k)
            if epoch_based and (k + 1) % epoch_length == 0:
                hook.after_train_epoch(runner)
    return np.array(out, dtype=np.float64)


def _cfg(train_cfg: dict, scheds: list[dict] | dict, lr: float = BASE_LR) -> dict:
    return dict(
        optim_wrapper=dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=lr)),
        train_cfg=train_cfg,
        param_scheduler=scheds,
    )


EPOCHS = dict(type="EpochBasedTrainLoop", max_epochs=10)
ITERS = dict(type="IterBasedTrainLoop", max_iters=150)
XT3 = dict(type="TrainLoop", max_epochs=3)

# (id, config, epoch_length)
CASES = [
    (
        "xtuner-bug-T_max-no-end",
        _cfg(
            XT3,
            [
                dict(
                    type="LinearLR",
                    start_factor=1e-5,
                    by_epoch=True,
                    begin=0,
                    end=0.09,
                    convert_to_iter_based=True,
                ),
                dict(
                    type="CosineAnnealingLR",
                    eta_min=0.0,
                    by_epoch=True,
                    begin=0.09,
                    T_max=3,
                    convert_to_iter_based=True,
                ),
            ],
            lr=2e-4,
        ),
        50,
    ),
    (
        "xtuner-fix-end",
        _cfg(
            XT3,
            [
                dict(
                    type="LinearLR",
                    start_factor=1e-5,
                    by_epoch=True,
                    begin=0,
                    end=0.09,
                    convert_to_iter_based=True,
                ),
                dict(
                    type="CosineAnnealingLR",
                    eta_min=0.0,
                    by_epoch=True,
                    begin=0.09,
                    end=3,
                    convert_to_iter_based=True,
                ),
            ],
            lr=2e-4,
        ),
        50,
    ),
    (
        "xtuner-max_iters",
        _cfg(
            dict(type="TrainLoop", max_iters=120),
            [
                dict(type="LinearLR", start_factor=0.01, by_epoch=False, end=12),
                dict(type="CosineAnnealingLR", eta_min=1e-6, by_epoch=False, begin=12),
            ],
        ),
        40,
    ),
    ("multistep-epoch", _cfg(EPOCHS, dict(type="MultiStepLR", milestones=[3, 6], gamma=0.1)), 7),
    (
        "multistep-converted-repeated",
        _cfg(
            EPOCHS,
            dict(type="MultiStepLR", milestones=[2, 2, 5], gamma=0.5, convert_to_iter_based=True),
        ),
        7,
    ),
    ("step-epoch", _cfg(EPOCHS, dict(type="StepLR", step_size=2, gamma=0.5)), 7),
    ("step-iter", _cfg(ITERS, dict(type="StepLR", step_size=13, gamma=0.7, by_epoch=False)), 10),
    ("exp-epoch", _cfg(EPOCHS, dict(type="ExponentialLR", gamma=0.9)), 7),
    ("exp-iter", _cfg(ITERS, dict(type="ExponentialLR", gamma=0.99, by_epoch=False)), 10),
    ("cosine-epoch-default-end", _cfg(EPOCHS, dict(type="CosineAnnealingLR", eta_min=1e-5)), 7),
    (
        "cosine-converted-eta_min_ratio",
        _cfg(
            EPOCHS,
            dict(type="CosineAnnealingLR", eta_min_ratio=0.01, begin=1, convert_to_iter_based=True),
        ),
        7,
    ),
    (
        "cosine-short-T_max-wraps",
        _cfg(ITERS, dict(type="CosineAnnealingLR", T_max=30, end=200, by_epoch=False)),
        10,
    ),
    (
        "poly-iter-end-beyond-training",
        _cfg(ITERS, dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=400, by_epoch=False)),
        10,
    ),
    (
        "poly-converted",
        _cfg(EPOCHS, dict(type="PolyLR", power=2.0, eta_min=0.0, convert_to_iter_based=True)),
        7,
    ),
    (
        "onecycle-total_steps",
        _cfg(ITERS, dict(type="OneCycleLR", eta_max=0.5, total_steps=160, by_epoch=False)),
        10,
    ),
    (
        "onecycle-three-phase-linear",
        _cfg(
            ITERS,
            dict(
                type="OneCycleLR",
                eta_max=0.3,
                pct_start=0.25,
                anneal_strategy="linear",
                three_phase=True,
                by_epoch=False,
            ),
        ),
        10,
    ),
    (
        "onecycle-converted",
        _cfg(EPOCHS, dict(type="OneCycleLR", eta_max=0.1, convert_to_iter_based=True)),
        7,
    ),
    (
        "cosine-restart-iter",
        _cfg(
            ITERS,
            dict(
                type="CosineRestartLR",
                periods=[30, 50, 20],
                restart_weights=[1, 0.5, 0.25],
                eta_min=1e-4,
                by_epoch=False,
            ),
        ),
        10,
    ),
    (
        "cosine-restart-converted",
        _cfg(
            EPOCHS,
            dict(
                type="CosineRestartLR",
                periods=[2, 3],
                restart_weights=[1, 0.3],
                eta_min_ratio=0.1,
                convert_to_iter_based=True,
            ),
        ),
        7,
    ),
    (
        "constant-then-cosine",
        _cfg(
            ITERS,
            [
                dict(type="ConstantLR", factor=0.5, end=20, by_epoch=False),
                dict(type="CosineAnnealingLR", begin=20, end=100, by_epoch=False),
            ],
        ),
        10,
    ),
    (
        "constant-converted-default-end",
        _cfg(EPOCHS, dict(type="ConstantLR", factor=0.25, convert_to_iter_based=True)),
        7,
    ),
    (
        "rtmdet-style-gap",
        _cfg(
            EPOCHS,
            [
                dict(type="LinearLR", start_factor=1e-5, by_epoch=False, begin=0, end=30),
                dict(
                    type="CosineAnnealingLR",
                    eta_min=1e-4,
                    begin=5,
                    end=10,
                    T_max=5,
                    by_epoch=True,
                    convert_to_iter_based=True,
                ),
            ],
        ),
        7,
    ),
    (
        "gaps-between-iter-schedulers",
        _cfg(
            ITERS,
            [
                dict(type="LinearLR", start_factor=0.1, end=10, by_epoch=False),
                dict(type="ExponentialLR", gamma=0.95, begin=50, end=80, by_epoch=False),
            ],
        ),
        10,
    ),
    (
        "iter-warmup-plus-epoch-multistep",
        _cfg(
            EPOCHS,
            [
                dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=10),
                dict(type="MultiStepLR", milestones=[2, 4], gamma=0.1, by_epoch=True),
            ],
        ),
        7,
    ),
    (
        "iter-loop-unconverted-epoch-cosine",
        _cfg(ITERS, dict(type="CosineAnnealingLR", by_epoch=True, T_max=3)),
        10,
    ),
    (
        "iter-loop-converted-default-end",
        _cfg(
            dict(type="IterBasedTrainLoop", max_iters=60),
            dict(type="CosineAnnealingLR", by_epoch=True, convert_to_iter_based=True),
        ),
        20,
    ),
    (
        "fractional-converted-bounds",
        _cfg(
            EPOCHS,
            [
                # 0.5 * 7 = 3.5: mmengine truncates (int), it does not round
                dict(type="LinearLR", start_factor=0.2, end=0.5, convert_to_iter_based=True),
                dict(type="PolyLR", begin=0.5, power=1.5, convert_to_iter_based=True),
            ],
        ),
        7,
    ),
    (
        "overlapping-warmup-and-cosine",
        _cfg(
            ITERS,
            [
                dict(type="LinearLR", start_factor=0.05, end=20, by_epoch=False),
                dict(type="CosineAnnealingLR", eta_min=1e-5, by_epoch=False),
            ],
        ),
        10,
    ),
    (
        "full-type-paths",
        _cfg(
            ITERS,
            [
                dict(type="mmengine.optim.LinearLR", start_factor=0.1, end=15, by_epoch=False),
                dict(
                    type="CosineAnnealingParamScheduler", param_name="lr", begin=15, by_epoch=False
                ),
            ],
        ),
        10,
    ),
]


@pytest.mark.parametrize(
    ("config", "epoch_length"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_simulation_matches_real_mmengine(runner: Runner, config: dict, epoch_length: int) -> None:
    expected = real_lrs(runner, config, epoch_length)
    sim = simulate_config(copy.deepcopy(config), epoch_length)
    assert sim is not None
    assert sim.total_iters == len(expected)
    np.testing.assert_allclose(sim.actual, expected, rtol=RTOL, atol=1e-18)


def test_cases_cover_every_scheduler_type() -> None:
    kinds = set()
    for _, config, _ in CASES:
        scheds = config["param_scheduler"]
        for s in scheds if isinstance(scheds, list) else [scheds]:
            kinds.add(s["type"].rsplit(".", 1)[-1])
    expected = {
        "LinearLR",
        "ConstantLR",
        "CosineAnnealingLR",
        "MultiStepLR",
        "StepLR",
        "ExponentialLR",
        "PolyLR",
        "OneCycleLR",
        "CosineRestartLR",
    }
    assert expected <= kinds
    assert len(CASES) >= 20


# The cases where an iteration-based loop runs an epoch-based scheduler other than it reads.
BUGGY = {
    "xtuner-bug-T_max-no-end",
    "iter-loop-unconverted-epoch-cosine",
    "iter-loop-converted-default-end",
}


@pytest.mark.parametrize(("case_id", "config", "epoch_length"), CASES, ids=[c[0] for c in CASES])
def test_cause_only_where_the_loop_defeats_the_scheduler(
    case_id: str, config: dict, epoch_length: int
) -> None:
    sim = simulate_config(copy.deepcopy(config), epoch_length)
    assert sim is not None
    assert (sim.cause is not None) == (case_id in BUGGY), sim.cause


def test_intended_of_the_bug_is_what_real_mmengine_runs_for_the_fix(runner: Runner) -> None:
    by_id = {c[0]: c for c in CASES}
    _, buggy, length = by_id["xtuner-bug-T_max-no-end"]
    _, fixed, _ = by_id["xtuner-fix-end"]
    sim = simulate_config(copy.deepcopy(buggy), length)
    assert sim is not None and sim.cause is not None
    np.testing.assert_allclose(sim.intended, real_lrs(runner, fixed, length), rtol=RTOL, atol=1e-18)


# -- random scheduler chains: real mmengine either builds and runs them exactly like the
# simulator, or refuses them, and then the simulator returns None.

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_BOUND = st.one_of(st.integers(0, 12), st.sampled_from([0.25, 0.5, 1.5, 2.75]))


@st.composite
def _scheduler(draw: object) -> dict:
    kind = draw(
        st.sampled_from(
            [
                "LinearLR",
                "ConstantLR",
                "CosineAnnealingLR",
                "MultiStepLR",
                "StepLR",
                "ExponentialLR",
                "PolyLR",
                "OneCycleLR",
                "CosineRestartLR",
            ]
        )
    )
    cfg: dict = {"type": kind, "by_epoch": draw(st.booleans())}
    if cfg["by_epoch"] and draw(st.booleans()):
        cfg["convert_to_iter_based"] = True
    if draw(st.booleans()):
        cfg["begin"] = draw(_BOUND)
    if draw(st.booleans()):
        cfg["end"] = draw(_BOUND)
    if kind == "LinearLR":
        cfg["start_factor"] = draw(st.sampled_from([0.001, 0.25, 1.0]))
    elif kind == "ConstantLR":
        cfg["factor"] = draw(st.sampled_from([0.1, 0.5]))
    elif kind == "CosineAnnealingLR":
        if draw(st.booleans()):
            cfg["T_max"] = draw(st.integers(1, 8))
        cfg["eta_min"] = draw(st.sampled_from([0.0, 1e-4]))
    elif kind == "MultiStepLR":
        cfg["milestones"] = sorted(draw(st.lists(st.integers(1, 10), min_size=1, max_size=3)))
    elif kind == "StepLR":
        cfg["step_size"] = draw(st.integers(1, 6))
    elif kind == "ExponentialLR":
        cfg["gamma"] = draw(st.sampled_from([0.9, 0.99]))
    elif kind == "PolyLR":
        cfg["power"] = draw(st.sampled_from([0.9, 2.0]))
    elif kind == "OneCycleLR":
        cfg["eta_max"] = 0.05
    elif kind == "CosineRestartLR":
        cfg["periods"] = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
        cfg["restart_weights"] = [1.0] * len(cfg["periods"])
        cfg["eta_min"] = 1e-5
    return cfg


_LOOPS = st.sampled_from(
    [
        dict(type="EpochBasedTrainLoop", max_epochs=4),
        dict(type="IterBasedTrainLoop", max_iters=23),
        dict(type="TrainLoop", max_epochs=3),
    ]
)


@hypothesis.settings(max_examples=50, deadline=None, derandomize=True)
@hypothesis.given(
    loop=_LOOPS, scheds=st.lists(_scheduler(), min_size=1, max_size=3), length=st.integers(2, 7)
)
def test_random_chains_match_real_mmengine(
    runner: Runner, loop: dict, scheds: list, length: int
) -> None:
    config = _cfg(loop, scheds)
    try:
        expected = real_lrs(runner, config, length)
    except Exception:  # mmengine refused the config (end <= begin, OneCycle overrun, ...)
        expected = None
    sim = simulate_config(copy.deepcopy(config), length)
    if expected is None:
        assert sim is None
    else:
        assert sim is not None
        np.testing.assert_allclose(sim.actual, expected, rtol=RTOL, atol=1e-18)

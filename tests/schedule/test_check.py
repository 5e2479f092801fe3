"""`check_paths`: config trees checked before training, without a dataset, findings only where
the LR as run goes wrong, each pointing at the scheduler line where the fix goes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from logan.config.inherit import ConfigLoader
from logan.schedule.check import (
    COARSE_ABOVE,
    ConfigCheck,
    _coarse,
    check_loaded,
    check_paths,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_logs"
# The XTuner reference config (the seed bug): CosineAnnealingLR with T_max=3 and no `end`.
XTUNER = SAMPLES / "mmengine_plateau_textlog_only" / "mmengine_plateau_textlog_only.py"

SCHEDULE_3E = """\
max_epochs = 3
model = dict(type='ToyModel')
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=0.1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0.1, end=1, eta_min=1e-6,
         convert_to_iter_based=True),
]
"""


def _one(path: Path, **kw: int) -> ConfigCheck:
    report = check_paths([path], **kw)
    assert len(report.configs) == 1 and not report.problems
    return report.configs[0]


def test_xtuner_reference_gets_lr001_and_the_fix_without_an_epoch_length() -> None:
    check = _one(XTUNER)
    assert check.simulated and check.epoch_length is None and check.nominal_epoch_length
    (finding,) = check.findings
    assert finding.code == "LR001"
    assert "for the last 67% of training" in finding.message
    assert "`end` is not set on CosineAnnealingLR" in finding.message
    assert "-        T_max=3,\n+        end=3,\n" in finding.evidence["fix"]
    # The location is the CosineAnnealingLR entry: `dict(` on line 20, column 5.
    assert (check.locations[0].line, check.locations[0].col) == (20, 5)
    lines = XTUNER.read_text().splitlines()
    assert lines[19].strip() == "dict(" and "T_max=3" in lines[20]


def test_same_config_with_one_epoch_gets_nothing(tmp_path: Path) -> None:
    text = XTUNER.read_text().replace("max_epochs=3", "max_epochs=1")
    text = text.replace("max_epochs = 3", "max_epochs = 1")
    (tmp_path / "one_epoch.py").write_text(text)
    check = _one(tmp_path / "one_epoch.py")
    assert check.simulated and check.findings == ()


def test_with_an_epoch_length_iterations_are_real() -> None:
    check = _one(XTUNER, epoch_length=40)
    assert check.epoch_length == 40 and check.nominal_epoch_length is None
    (finding,) = check.findings
    assert finding.step == 41 and finding.end_step == 120


def test_ends_early_is_told_in_epochs_without_an_epoch_length(tmp_path: Path) -> None:
    (tmp_path / "cfg.py").write_text(SCHEDULE_3E)
    check = _one(tmp_path / "cfg.py")
    (finding,) = check.findings
    assert finding.code == "LR002" and finding.step is None
    assert finding.message.startswith(
        "the configured schedule ends at epoch 1 of 3 (33% of training): the LR sits at 1.0"
    )
    assert finding.message.endswith("for the last 67% of training")
    assert (check.locations[0].line, check.locations[0].col) == (8, 5)


def test_a_schedule_that_spans_training_gets_nothing(tmp_path: Path) -> None:
    (tmp_path / "cfg.py").write_text(SCHEDULE_3E.replace("end=1, eta_min", "end=3, eta_min"))
    check = _one(tmp_path / "cfg.py")
    assert check.simulated and check.findings == ()


def test_a_verdict_that_depends_on_the_epoch_length_is_not_given(tmp_path: Path) -> None:
    # A 2,000-iteration cosine inside a 3-epoch loop: it ends early or reaches past the end
    # depending on how many iterations an epoch has, so without one there is no verdict.
    text = SCHEDULE_3E.replace(
        "dict(type='CosineAnnealingLR', by_epoch=True, begin=0.1, end=1, eta_min=1e-6,\n"
        "         convert_to_iter_based=True),",
        "dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=2000, eta_min=1e-6),",
    )
    (tmp_path / "cfg.py").write_text(text)
    assert _one(tmp_path / "cfg.py").findings == ()
    assert {f.code for f in _one(tmp_path / "cfg.py", epoch_length=5000).findings} == {"LR002"}


def test_trees_skip_bases_and_point_at_the_base_that_holds_the_scheduler(tmp_path: Path) -> None:
    base = tmp_path / "configs" / "_base_"
    base.mkdir(parents=True)
    (base / "schedule_3e.py").write_text(SCHEDULE_3E)
    (base / "runtime.py").write_text("default_scope = 'mmdet'\n")
    (tmp_path / "configs" / "a.py").write_text("_base_ = ['./_base_/schedule_3e.py']\n")
    (tmp_path / "configs" / "b.py").write_text(
        "_base_ = ['./_base_/schedule_3e.py', './_base_/runtime.py']\n"
        "param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=3)]\n"
    )
    (tmp_path / "configs" / "helper.py").write_text("def f():\n    return 1\n")  # not a config
    report = check_paths([tmp_path / "configs"])
    assert [Path(c.path).name for c in report.configs] == ["a.py", "b.py"]
    a, b = report.configs
    assert [f.code for f in a.findings] == ["LR002"] and b.findings == ()
    assert a.locations[0].path.endswith("_base_/schedule_3e.py")
    assert a.locations[0].line == 8


def test_unreadable_configs_are_problems_named_by_file(tmp_path: Path) -> None:
    (tmp_path / "nul.py").write_bytes(b"lr = 0.1\x00\n")
    (tmp_path / "syntax.py").write_text("lr = (\n")
    report = check_paths([tmp_path / "nul.py", tmp_path / "syntax.py", tmp_path / "gone.py"])
    messages = {Path(p.path).name: p.message for p in report.problems}
    assert messages["nul.py"].startswith("line 1: a NUL byte")
    assert messages["syntax.py"].startswith("line 1: not valid Python")
    assert "None" not in "".join(messages.values())
    assert messages["gone.py"] == "no such file or folder; check the path"


def test_missing_package_base_is_not_simulated_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "cfg.py").write_text(
        "_base_ = 'mmnotapkg::x/y.py'\ntrain_cfg = dict(max_iters=9)\n"
    )
    check = _one(tmp_path / "cfg.py")
    assert not check.simulated and "needs the package 'mmnotapkg' installed" in check.reason


def test_coarse_steps_give_the_same_verdict_as_every_iteration(tmp_path: Path) -> None:
    text = (
        "model = dict(type='ToyModel')\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=160000)\n"
        "param_scheduler = [\n"
        "    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),\n"
        "    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=80000, by_epoch=False),\n"
        "]\n"
    )
    (tmp_path / "cfg.py").write_text(text)
    loaded = ConfigLoader().load(tmp_path / "cfg.py")
    scaled, step = _coarse(loaded.values)
    # gcd(160000, 1500, 80000) = 500; its largest divisor leaving 4,000 steps or more is 25.
    assert step == 25 and scaled["train_cfg"]["max_iters"] == 6400 < COARSE_ABOVE
    start = time.perf_counter()
    coarse = check_loaded(tmp_path / "cfg.py", loaded)
    assert time.perf_counter() - start < 2.0
    (finding,) = coarse.findings
    assert finding.message == (
        "the configured schedule ends at iteration 80000 of 160000: the LR sits at 0 for the "
        "last 50% of training"
    )
    # Every iteration (an epoch length given turns coarse steps off): the same finding.
    exact = check_paths([tmp_path / "cfg.py"], epoch_length=1).configs[0]
    assert [f.message for f in exact.findings] == [finding.message]
    assert exact.findings[0].step == finding.step == 80001


@pytest.mark.parametrize("package", ["mmpretrain", "xtuner"])
def test_real_trees_simulate_without_an_epoch_length(
    real_trees: dict[str, Path], package: str
) -> None:
    from tests.config.real_trees import configs_dir

    if package not in real_trees:
        pytest.skip(f"{package} wheel not downloaded")
    report = check_paths(
        [configs_dir(package, real_trees[package])], loader=ConfigLoader(real_trees)
    )
    simulated = [c for c in report.configs if c.simulated]
    assert len(report.configs) > 400
    assert len(simulated) >= 0.99 * len(report.configs)
    assert not [f for f in report.findings if f.code == "LR001"]


SCHEDULE_1X = """\
model = dict(type='ToyModel')
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
"""


def test_milestones_the_scheduler_never_reaches(tmp_path: Path) -> None:
    # mmdet's `...ms-2x_coco.py` pattern: new milestones, but the 1x base's `end=12` stays.
    (tmp_path / "_base_").mkdir()
    (tmp_path / "_base_" / "schedule_1x.py").write_text(SCHEDULE_1X)
    (tmp_path / "cfg_2x.py").write_text(
        "_base_ = './_base_/schedule_1x.py'\n"
        "_base_.param_scheduler[1].milestones = [16, 23]\n"
        "train_cfg = dict(max_epochs=24)\n"
    )
    check = _one(tmp_path / "cfg_2x.py")
    (finding,) = check.findings
    assert finding.code == "LR002" and finding.evidence["kind"] == "milestones-past-end"
    assert finding.message.startswith(
        "MultiStepLR (param_scheduler[1]) milestones [16, 23] lie at or past where it stops "
        "(epoch 12): mmengine never applies them, so the LR ends at 0.02"
    )
    assert check.locations[0].path.endswith("schedule_1x.py") and check.locations[0].line == 6


def test_milestone_at_the_end_of_training_is_a_harmless_leftover(tmp_path: Path) -> None:
    text = SCHEDULE_1X.replace(
        "end=12, by_epoch=True, milestones=[8, 11]", "by_epoch=True, milestones=[8, 12]"
    )
    (tmp_path / "cfg.py").write_text(text)
    assert _one(tmp_path / "cfg.py").findings == ()
    (tmp_path / "cfg.py").write_text(text.replace("milestones=[8, 12]", "milestones=[8, 13]"))
    assert [f.evidence["kind"] for f in _one(tmp_path / "cfg.py").findings] == [
        "milestones-past-end"
    ]

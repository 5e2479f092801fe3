"""Every public run in ../shared/public_logs is read as exactly one run with the right producer,
last step and epoch length; and every reader of one run agrees with the others."""

from __future__ import annotations

import numpy as np
import pytest

import logan
from tests.conftest import PUBLIC, SAMPLES, copy_run, need

# folder -> (producer, last logged train step, epoch length, max epochs)
EXPECTED = {
    "mmcv1-resnet50_cifar10": ("mmcv", 7738, 782, 10),
    "openmmlabcamp-homework-2-train": ("mmengine", 10891, 109, 100),
    "openmmlabcamp-homework-2-train_lr0.01_epoch10": ("mmengine", 1081, 109, 10),
    "openmmlabcamp-homework-3-train": ("mmengine", 239, 6, 40),
    "openmmlabcamp-homework-4-Watermelon": ("mmengine", 3000, None, None),  # iteration-based
    "openmmlabcamp-mmdetection_train": ("mmengine", 4200, 21, 200),
    "openmmlabcamp-mmpose_train": ("mmengine", 1800, 6, 300),
    "xtuner-diy_config": ("mmengine", 1340, 168, 8),  # 1344 iterations, last logged at 1340
    "xtuner-internvl_qlora_ft": ("mmengine", 2000, 250, 8),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_public_run_read_as_one_run(name):
    analysis = logan.analyze(need(PUBLIC / name))
    assert analysis.problems == []
    (run,) = analysis.runs
    assert (run.producer, run.last_step, run.epoch_length, run.max_epochs) == EXPECTED[name]


def test_validation_only_mmcv_log_is_accounted_for_not_a_run():
    """Validation lines only: no training run, listed with its reason instead of dropped."""
    analysis = logan.analyze(need(PUBLIC / "mmcv1-resnet18_b32_flower"))
    assert analysis.results == []
    assert [n.reason for n in analysis.not_analysed] == ["test or validation only"]


@pytest.mark.parametrize(
    "drop, rtol",
    [
        (("*.log", "events.out.tfevents.*"), 0.0),  # JSON: exact doubles
        (("*.json", "*.log"), 1e-7),  # events: float32
        (("*.json", "events.out.tfevents.*"), 5e-5),  # text log: 5 significant digits
    ],
    ids=["json", "events", "textlog"],
)
def test_each_source_alone_gives_the_same_lr(tmp_path, drop, rtol):
    full = logan.load_run(SAMPLES / "mmengine_plateau_e4").series("lr")
    alone = logan.load_run(copy_run(SAMPLES / "mmengine_plateau_e4", tmp_path / "r", drop))
    lr = alone.series("lr")
    assert list(lr.index) == list(full.index)
    np.testing.assert_allclose(lr.to_numpy(), full.to_numpy(), rtol=rtol, atol=0)
    assert alone.epoch_length == 40


def test_validation_on_the_training_step_axis_whichever_source(tmp_path):
    # mmengine's JSON logs epoch-based validation at step = epoch; the text log at e * N.
    sample = SAMPLES / "mmengine_multistep_val"
    json_only = logan.load_run(copy_run(sample, tmp_path / "j", ("*.log", "events.out.*")))
    text_only = logan.load_run(copy_run(sample, tmp_path / "t", ("*.json", "events.out.*")))
    for run in (json_only, text_only):
        val = run.series("val/toy/accuracy")
        assert list(val.index[:3]) == [20, 40, 60]  # epoch length 20


def test_mmcv_text_log_alone_is_found_and_read(tmp_path):
    src = need(PUBLIC / "mmcv1-resnet50_cifar10")
    run = copy_run(src, tmp_path / "pasted", ("*.log.json",))
    (alone,) = logan.analyze(run).runs
    (full,) = logan.analyze(src).runs
    assert alone.producer == "mmcv"
    assert (alone.last_step, alone.epoch_length) == (full.last_step, full.epoch_length)

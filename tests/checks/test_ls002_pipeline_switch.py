"""LS002 and a configured pipeline switch: RTMDet, RTMPose and mmyolo configs change the data
augmentation at `PipelineSwitchHook(switch_epoch=k)` (YOLOX at `YOLOXModeSwitchHook`), and the
loss moves to a new level right there by design (public RTMPose work_dir
vantage-in/satellite-pose-via-coordinate-classification: 0.42 -> 0.76 at epoch 101 of 700 with
`switch_epoch=100`, warned as a spike before). A real mmengine run of sample_logs is given that
level change at an epoch boundary; only a config that switches there explains it."""

from __future__ import annotations

import dataclasses

import logan
from logan.api import analyze_run
from logan.model import Run
from tests.conftest import SAMPLES

SWITCH_EPOCH = 2


def _shifted(hooks: list[dict] | None) -> Run:
    """mmengine_fixed_e4 (4 epochs of 40 iterations, loss every iteration) with its loss 1.8x
    from epoch SWITCH_EPOCH on, and `hooks` as the config's custom_hooks."""
    run = logan.load_run(SAMPLES / "mmengine_fixed_e4")
    table = run.scalars.copy()
    after = (table["tag"] == "loss").to_numpy() & (
        table["step"].to_numpy() > SWITCH_EPOCH * run.epoch_length
    )
    table.loc[after, "value"] = table.loc[after, "value"].to_numpy() * 1.8
    config = dict(run.config or {})
    if hooks is not None:
        config["custom_hooks"] = hooks
    return dataclasses.replace(run, scalars=table, config=config)


def _codes(run: Run) -> list[str]:
    return [f.code for f in analyze_run(run).findings]


def test_a_loss_jump_without_a_pipeline_switch_is_a_spike():
    assert "LS002" in _codes(_shifted(None))


def test_the_jump_where_the_pipeline_switches_is_not_a_spike():
    hook = {"type": "mmdet.PipelineSwitchHook", "switch_epoch": SWITCH_EPOCH, "switch_pipeline": []}
    assert "LS002" not in _codes(_shifted([hook]))


def test_yolox_mode_switch_counts_from_the_end():
    max_epochs = _shifted(None).config["train_cfg"]["max_epochs"]
    hook = {"type": "YOLOXModeSwitchHook", "num_last_epochs": max_epochs - SWITCH_EPOCH}
    assert "LS002" not in _codes(_shifted([hook]))


def test_a_switch_elsewhere_explains_nothing():
    hook = {"type": "mmdet.PipelineSwitchHook", "switch_epoch": SWITCH_EPOCH + 1}
    assert "LS002" in _codes(_shifted([hook]))


def test_a_spike_well_after_the_switch_is_still_a_spike():
    # 70 logged points after the switch: its history window (50 points) is all of the new level.
    run = _shifted([{"type": "mmdet.PipelineSwitchHook", "switch_epoch": SWITCH_EPOCH}])
    table = run.scalars.copy()
    loss = (table["tag"] == "loss").to_numpy()
    late = loss & (table["step"].to_numpy() == 150)
    table.loc[late, "value"] = table.loc[late, "value"].to_numpy() * 6
    findings = analyze_run(dataclasses.replace(run, scalars=table)).findings
    (spike,) = [f for f in findings if f.code == "LS002"]
    assert spike.step == 150 and [d["step"] for d in spike.evidence["spikes"]] == [150]

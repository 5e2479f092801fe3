"""Per-rule behaviour on real framework output: what each rule says when it fires, and the
neighbouring cases where it must stay silent."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import logan
from logan.checks import CODE, registry, selected
from logan.cli import app
from tests.conftest import PUBLIC, SAMPLES, copy_run, need


def _findings(path, code=None):
    analysis = logan.analyze(path)
    found = [f for f in analysis.findings if code is None or f.code == code]
    return analysis, found


def test_registry_codes_are_stable_and_unique():
    reg = registry()
    assert all(CODE.match(c) for c in reg)
    assert len({r.name for r in reg.values()}) == len(reg)


def test_select_and_ignore_take_prefixes():
    assert {r.code for r in selected(["LR"])} == {c for c in registry() if c.startswith("LR")}
    assert "LS002" not in {r.code for r in selected(None, ["LS002"])}
    assert {r.code for r in selected(["lr-plateau"])} == {"LR001"}


# LR001 ----------------------------------------------------------------------------------------


def test_lr001_from_logs_alone_without_config(tmp_path, buggy_ref):
    # No config anywhere: no dumped .py and no text log (which embeds the config).
    run = copy_run(buggy_ref, tmp_path / "bug", ("*.py", "*.log"))
    analysis, found = _findings(run, "LR001")
    assert len(found) == 1
    assert found[0].evidence["expected_source"] == "logs"
    assert "cause" not in found[0].evidence
    # Nothing states the epoch length (an iteration-based loop logs no `epoch`): step, no epoch.
    assert found[0].step == 51 and found[0].epoch is None
    assert analysis.runs[0].epoch_length is None


def test_lr001_with_config_carries_cause_and_fix(buggy_ref):
    _, (f,) = _findings(buggy_ref, "LR001")
    assert f.evidence["expected_source"] == "config"
    assert "`end` is not set" in f.evidence["cause"] and "max_epochs = 1" in f.evidence["cause"]
    assert "-        T_max=3," in f.evidence["fix"] and "+        end=3," in f.evidence["fix"]


@pytest.mark.parametrize(
    "sample", ["mmengine_multistep_val", "mmengine_constant_lr", "lightning_per_epoch_stepped"]
)
def test_lr001_silent_on_staircase_and_constant(sample):
    assert _findings(SAMPLES / sample, "LR001")[1] == []


def test_lr001_silent_on_mmcv_rounded_values():
    # mmcv rounds to 5 decimals: a slowly moving LR prints the same value many times.
    analysis, found = _findings(need(PUBLIC / "mmcv1-resnet50_cifar10"), "LR001")
    assert found == [] and analysis.runs[0].meta.get("precision_abs")


def test_lr001_silent_on_staircase_from_logs_alone(tmp_path):
    run = copy_run(SAMPLES / "mmengine_multistep_val", tmp_path / "ms", ("*.py", "*.log"))
    assert _findings(run, "LR001")[1] == []


# LR002 ----------------------------------------------------------------------------------------


def test_lr002_reaches_past_end_on_public_mmseg_run():
    _, (f,) = _findings(need(PUBLIC / "openmmlabcamp-homework-4-Watermelon"), "LR002")
    assert f.evidence["kind"] == "reaches-past-end"
    assert f.evidence["total_iters"] == 3000


def test_lr002_silent_on_multistep_recipe():
    assert _findings(need(PUBLIC / "openmmlabcamp-homework-2-train"), "LR002")[1] == []


# LR003 / LR004 / LR006 -----------------------------------------------------------------------


def test_lr003_names_the_unit_mistake():
    _, (f,) = _findings(SAMPLES / "lightning_cycles", "LR003")
    assert f.evidence["cycles"] >= 3
    assert f.evidence.get("likely_factor") == "epoch_length"


def test_lr003_silent_on_warmup_and_restart_sessions():
    assert _findings(SAMPLES / "mmengine_load_from_restart", "LR003")[1] == []
    assert _findings(SAMPLES / "hf_cosine", "LR003")[1] == []


def test_lr004_reports_the_restarted_session():
    analysis, (f,) = _findings(SAMPLES / "mmengine_load_from_restart", "LR004")
    assert f.evidence["step_count_restarted"] is True
    assert f.evidence["logged_first_step"] == 1
    run = analysis.runs[0]
    assert [s.restarted for s in run.sessions] == [False, True]


def test_lr004_silent_on_a_real_resume():
    analysis, found = _findings(SAMPLES / "mmengine_resume", "LR004")
    assert found == []
    run = analysis.runs[0]
    steps = run.series("lr").index
    assert list(steps) == list(range(1, 161))  # stitched: 1..N, no duplicates


def test_lr006_fraction_covered():
    _, (f,) = _findings(SAMPLES / "lightning_per_epoch_stepped", "LR006")
    assert f.evidence["fraction_of_schedule_covered"] < 0.05


# LS001 / LS003 / TP001 ------------------------------------------------------------------------


def test_ls001_first_bad_step_with_lr():
    _, (f,) = _findings(SAMPLES / "mmengine_nan_high_lr", "LS001")
    assert f.evidence["lr"] is not None and f.evidence["non_finite_points"] > 100


def test_ls003_silent_when_loss_only_plateaus():
    for name in ("mmengine_fixed_e4", "hf_cosine", "lightning_healthy"):
        assert _findings(SAMPLES / name, "LS003")[1] == []


def test_tp001_slowdown_and_input_bound():
    _, (f,) = _findings(SAMPLES / "mmengine_throughput_drop", "TP001")
    assert f.evidence["slowdown"] > 1.5
    # The dataset starts sleeping after iteration 100; epoch-start stalls before it do not count.
    assert 95 <= f.step <= 115


def test_tp001_silent_on_epoch_start_stalls():
    # Every iteration-based mmengine sample stalls ~0.2 s after each epoch (dataloader restart).
    assert _findings(SAMPLES / "mmengine_fixed_e4", "TP001")[1] == []


# RN001 ----------------------------------------------------------------------------------------


def test_rn001_lists_a_truncated_line_and_the_rest_is_still_analysed(tmp_path, buggy_ref):
    run = copy_run(buggy_ref, tmp_path / "cut", ("*.log", "events.out.tfevents.*", "scalars.json"))
    log = next(run.glob("*/vis_data/*.json"))
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 40])  # killed mid-write
    res = CliRunner().invoke(app, ["check", str(run), "-f", "json"])
    doc = json.loads(res.stdout)
    codes = {f["code"] for f in doc["runs"][0]["findings"]}
    assert codes == {"LR001", "RN001"}
    rn = next(f for f in doc["runs"][0]["findings"] if f["code"] == "RN001")
    assert rn["severity"] == "info" and "line 150" in rn["message"]
    assert doc["runs"][0]["last_step"] == 149


def test_rn001_silent_on_clean_input(buggy_ref):
    assert _findings(buggy_ref, "RN001")[1] == []

"""Per-rule behaviour on real framework output: what each rule says when it fires, and the
neighbouring cases where it must stay silent."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import logan
from logan.checks import CODE, registry, selected
from logan.cli import app
from tests.conftest import PUBLIC, SAMPLES, SHARED, copy_run, need


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


# LR002: a step schedule that never steps ------------------------------------------------------


def test_lr002_milestones_past_the_end_on_public_runs():
    # mmpretrain: MultiStepLR [30, 60, 90] (a 100-epoch recipe) trained for 10 epochs.
    _, (f,) = _findings(need(PUBLIC / "openmmlabcamp-homework-2-train_lr0.01_epoch10"), "LR002")
    assert f.evidence["kind"] == "milestones-past-end"
    assert f.evidence["milestones"] == [30, 60, 90] and f.evidence["training_length"] == 10
    assert "never decays" in f.message and "10/N" in f.hint
    # mmcv 1.x: lr_config step=[120, 170] with a 10-epoch runner.
    _, (f,) = _findings(need(PUBLIC / "mmcv1-resnet50_cifar10"), "LR002")
    assert f.evidence["milestones"] == [120, 170] and f.evidence["unit"] == "epochs"


def test_lr002_silent_when_the_staircase_steps():
    # Its last stage is simply flat (mmdet 1x: [8, 11] of 12 epochs): the recipe, not a fault.
    assert _findings(SAMPLES / "mmengine_multistep_val", "LR002")[1] == []


# LS001: mixed-precision overflow --------------------------------------------------------------


def test_ls001_silent_on_loss_scaler_overflows():
    # torch GradScaler: grad_norm inf at each skipped step, finite after it, loss always finite.
    analysis, found = _findings(SAMPLES / "torch_amp_overflow", "LS001")
    grad = analysis.runs[0].series("grad_norm")
    assert (~np.isfinite(grad.to_numpy())).sum() == 8  # the overflows are in the log
    assert found == []


def test_ls001_reports_overflow_on_most_steps():
    # The same real log, with the share of overflows allowed set below the one it has: the
    # scale-collapse branch reports it, with the share.
    analysis = logan.analyze(
        SAMPLES / "torch_amp_overflow", thresholds={"LS001.AMP_MAX_OVERFLOW_SHARE": 0.01}
    )
    (f,) = analysis.findings
    assert f.code == "LS001" and f.evidence["tag"] == "grad_norm"
    assert f.step == 42


def test_ls001_still_reports_a_nonfinite_loss():
    # A NaN loss is never an overflow, scaler or not (a real Lightning run, public_logs_2).
    path = need(SHARED / "public_logs_2" / "rohith-lightning-csv-nan" / "lightning_logs")
    found = [f for f in logan.analyze(path / "version_2").findings if f.code == "LS001"]
    assert found and "loss" in found[0].evidence["tag"]


# LS004 ----------------------------------------------------------------------------------------


def test_ls004_frozen_loss_on_real_lightning_run():
    _, (f,) = _findings(SAMPLES / "lightning_zero_init_frozen", "LS004")
    assert f.evidence["points"] == 59 and f.evidence["value"] == pytest.approx(3.5336079597)
    assert f.step == 2 and f.end_step == 60


@pytest.mark.parametrize(
    "sample", ["lightning_healthy", "mmengine_constant_lr", "hf_cosine", "torch_tb_cosine"]
)
def test_ls004_silent_on_learning_runs(sample):
    assert _findings(SAMPLES / sample, "LS004")[1] == []


def test_ls004_silent_on_rounded_and_integer_losses(tmp_path):
    # The frozen Lightning log with its loss rewritten the way other producers print it:
    # rounded to 2 significant digits, or a whole number: such values repeat legitimately.
    src = SAMPLES / "lightning_zero_init_frozen"
    for text in ("3.5", "4"):
        run = copy_run(src, tmp_path / text, ("events.out.tfevents.*",))
        csv = run / "lightning_logs" / "version_0" / "metrics.csv"
        csv.write_text(csv.read_text().replace("3.5336079597473145", text))
        assert _findings(run, "LS004")[1] == []
    # ... while the full-precision value fires from the CSV alone.
    run = copy_run(src, tmp_path / "full", ("events.out.tfevents.*",))
    assert [f.code for f in _findings(run, "LS004")[1]] == ["LS004"]


def test_ls004_silent_on_public_lightning_runs():
    root = need(SHARED / "public_logs_2")
    for folder in ("rohith-lightning-csv-nan", "debajyoti-lightning-tb-nan"):
        assert [f for f in logan.analyze(root / folder).findings if f.code == "LS004"] == []


# Rules as records ------------------------------------------------------------------------------


def test_rules_declare_thresholds_and_build_their_findings():
    from logan.checks import parse_overrides, thresholds

    assert thresholds("LS002")["SPIKE_Z"] == 8.0
    assert parse_overrides({"LS002.SPIKE_Z": 6}) == {"LS002": {"SPIKE_Z": 6.0}}
    with pytest.raises(logan.errors.LoganError, match="SPIKE_Z"):
        parse_overrides({"LS002.NOPE": 1})
    with pytest.raises(logan.errors.LoganError, match="whole number"):
        parse_overrides({"LS002.SPIKE_WINDOW": 2.5})
    rule = registry()["LS004"]
    f = rule.finding("msg", step=3)
    assert (f.code, f.name, f.severity, f.step) == ("LS004", "loss-frozen", rule.severity, 3)


def test_threshold_override_is_data_not_a_patched_module():
    import logan.checks.loss as loss

    before = loss.SPIKE_Z
    found = logan.analyze(SAMPLES / "mmengine_loss_spikes", thresholds={"LS002.SPIKE_Z": 1e9})
    assert [f.code for f in found.findings] == []
    assert loss.SPIKE_Z == before  # nothing was patched
    assert [f.code for f in logan.analyze(SAMPLES / "mmengine_loss_spikes").findings] == ["LS002"]


def test_overridden_block_hands_thresholds_to_checks_inside_it_only():
    from logan.api import analyze_run
    from logan.checks import overridden

    run = logan.load_run(SAMPLES / "mmengine_loss_spikes")
    with overridden({"LS002.SPIKE_Z": 1e9}):
        assert analyze_run(run).findings == []
    assert [f.code for f in analyze_run(run).findings] == ["LS002"]
    with pytest.raises(logan.errors.LoganError, match="SPIKE_Z"), overridden({"LS002.Z": 1}):
        pass


def test_expected_extra_is_a_read_only_view_of_the_typed_fields(buggy_ref):
    (result,) = logan.analyze(buggy_ref).results
    exp = result.expected
    assert exp is not None and exp.match is not None
    assert exp.extra["schedule_match"] == exp.match.as_dict()
    assert exp.extra["cause"] == exp.cause and exp.simulation is exp.extra["simulation"]

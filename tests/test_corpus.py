"""The verdict on every real run we have: each sample in sample_logs/ (made by real frameworks to
show one fault, or to be healthy), the reference runs and the public logs in ../shared.

This is where "every rule fires on a run made to show it and stays silent on healthy runs" is
asserted; tests/checks/ holds the finer per-rule tests.
"""

from __future__ import annotations

import pytest

import logan
from logan.checks import registry
from tests.conftest import PUBLIC, REFERENCE, SAMPLES, need

# sample folder -> the exact set of codes logan must report (see sample_logs/README.md).
SAMPLE_VERDICTS: dict[str, set[str]] = {
    "hf_cosine": set(),
    "hf_linear_gradaccum": set(),
    "lightning_cycles": {"LR003"},
    "lightning_healthy": set(),
    "lightning_per_epoch_stepped": {"LR006"},
    "mmengine_constant_lr": set(),
    "mmengine_cosine_tmax_epochs_per_iter": {"LR003"},
    "mmengine_divergence": {"LS003"},
    "mmengine_fixed_e4": set(),
    "mmengine_load_from_restart": {"LR004"},
    "mmengine_multistep_val": set(),
    # The loss climbs to 1e35 before it overflows: both the divergence and the NaN are real.
    "mmengine_nan_high_lr": {"LS001", "LS003"},
    "mmengine_plateau_e4": {"LR001"},
    "mmengine_plateau_textlog_only": {"LR001"},
    "mmengine_resume": set(),
    "mmengine_throughput_drop": {"TP001"},
    "torch_tb_cosine": set(),
    # fp16 with torch's GradScaler: grad_norm is inf at each of the 8 skipped steps, by design
    "torch_amp_overflow": set(),
    # a LambdaLR cosine rebuilt with a longer total at the resume: the LR jumps x1.29
    "torch_resume_rebuilt_cosine": {"LR008"},
    # a zero-initialised MLP on full batches: the loss repeats one value for 59 steps
    "lightning_zero_init_frozen": {"LS004"},
    "mmengine_loss_spikes": {"LS002"},
    "mmengine_warmup_never_ends": {"LR005"},
    "mmengine_long_warmup": {"LR005"},
    "mmengine_schedule_past_end": {"LR002"},
    "mmengine_schedule_ends_early": {"LR002"},
    # Resumed after an edit to the config: the LR follows the checkpoint's schedule, not the edit.
    "mmengine_resume_more_epochs": {"LR007"},
    "mmengine_resume_new_milestones": {"LR007"},
    "mmengine_resume_new_lr": {"LR007"},
    # Killed, then started again from scratch: a new attempt, not a restarted schedule.
    "mmengine_fresh_restart": set(),
}

# A fresh restart may be read as one run per attempt.
ATTEMPTS = {"mmengine_fresh_restart"}

# Public runs: two shortened their training without shortening the schedule (LR002); the rest
# are healthy. Why, run by run:
PUBLIC_VERDICTS: dict[str, set[str]] = {
    # (mmcv1-resnet18_b32_flower holds validation lines only: no training run, see
    # tests/readers/test_public_runs.py)
    # a 200-epoch recipe (step=[120, 170]) fine-tuned for 10 epochs: the LR never decays
    "mmcv1-resnet50_cifar10": {"LR002"},
    # MultiStepLR [30, 60, 90] over 100 epochs: the flat last stage is the recipe
    "openmmlabcamp-homework-2-train": set(),
    # ... and the same recipe trained for 10 epochs: no milestone is ever reached (issue 11)
    "openmmlabcamp-homework-2-train_lr0.01_epoch10": {"LR002"},
    "openmmlabcamp-homework-3-train": set(),
    # PolyLR(end=40000) with max_iters=3000: the LR only decayed 7% of the way to eta_min
    "openmmlabcamp-homework-4-Watermelon": {"LR002"},
    # CosineAnnealingLR(begin=150, end=300 epochs) with max_epochs=200: annealed a third
    "openmmlabcamp-mmdetection_train": {"LR002"},
    "openmmlabcamp-mmpose_train": set(),
    "xtuner-diy_config": set(),
    # LinearLR + CosineAnnealingLR with end=max_epochs: the fixed XTuner config
    "xtuner-internvl_qlora_ft": set(),
}


def _analysis(path) -> logan.Analysis:
    analysis = logan.analyze(path)
    assert not analysis.problems, analysis.problems
    return analysis


def _codes(path) -> dict[str, set[str]]:
    return {r.run.path: {f.code for f in r.findings} for r in _analysis(path).results}


@pytest.mark.parametrize("name", sorted(SAMPLE_VERDICTS))
def test_sample_verdict(name):
    path = need(SAMPLES / name)
    found = _codes(path)
    if name not in ATTEMPTS:
        assert len(found) == 1, f"{name} should be one run, got {sorted(found)}"
    print(f"{name}: {found}")
    assert all(codes == SAMPLE_VERDICTS[name] for codes in found.values()), found


def test_every_sample_folder_has_a_verdict():
    folders = {p.name for p in SAMPLES.iterdir() if p.is_dir()}
    assert folders <= set(SAMPLE_VERDICTS), folders - set(SAMPLE_VERDICTS)


def test_every_rule_fires_on_a_sample_made_to_show_it():
    shown = set().union(*SAMPLE_VERDICTS.values())
    # RN001 fires on damaged input: tests/checks/test_rules.py damages a real sample for it.
    assert set(registry()) - {"RN001"} <= shown


@pytest.mark.parametrize("name", sorted(PUBLIC_VERDICTS))
def test_public_verdict(name):
    found = _codes(need(PUBLIC / name))
    assert len(found) == 1
    (codes,) = found.values()
    print(f"{name}: {sorted(codes) or 'no findings'}")
    assert codes == PUBLIC_VERDICTS[name]


def test_reference_verdicts():
    found = _codes(need(REFERENCE))
    by_name = {k.rsplit("/", 1)[-1]: v for k, v in found.items()}
    assert by_name == {"xt_buggy_e3": {"LR001"}, "xt_fixed_e3": set()}

"""Session rules on real mmengine 0.10.7 and torch output: LR007 (the LR does not follow the
config the session ran with, with the resume cause named), LR008 (a jump at a resume), and
LR001's cause taken from the session that froze.

The loader attaches each session's own config and kind; these tests attach them by hand from
each session's `vis_data/config.py` as well, so that what a rule says is tested apart from how
the sessions were read (tests/test_corpus.py checks the same samples end to end).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import logan
from logan.api import analyze_run
from logan.model import Finding, Run

try:  # the config evaluator moves to logan/config/ (its own package)
    from logan.config import load_config
except ImportError:
    from logan.schedule.config import load_config  # type: ignore[no-redef]
from tests.conftest import SAMPLES, need


def with_sessions(path: Path, kinds: dict[int, str] | None = None) -> Run:
    """The run at `path` with each session's own config (and `kinds`) attached."""
    run = logan.load_run(need(path))
    sessions = []
    for i, session in enumerate(run.sessions):
        cfg = path / session.name / "vis_data" / "config.py"
        config = load_config(cfg) if cfg.is_file() else None
        kind = (kinds or {}).get(i, session.kind)
        sessions.append(dataclasses.replace(session, config=config, kind=kind))
    return dataclasses.replace(run, sessions=tuple(sessions))


def findings(run: Run, code: str | None = None) -> list[Finding]:
    return [f for f in analyze_run(run).findings if code is None or f.code == code]


RESUMED = {1: "resume"}


def test_lr007_resume_with_more_epochs_names_max_epochs():
    # xtuner#211: trained 1 epoch, resumed with max_epochs = 2: epoch 2 at the old cosine's end.
    run = with_sessions(SAMPLES / "mmengine_resume_more_epochs", RESUMED)
    (f,) = findings(run)
    assert f.code == "LR007" and f.step == 26 and f.end_step == 50
    assert f.evidence["logged_lr"] == pytest.approx(4.657e-06, rel=1e-3)
    assert f.evidence["expected_lr"] > 100 * f.evidence["logged_lr"]
    assert f.evidence["fraction_of_training_affected"] == pytest.approx(0.5)
    assert "train_cfg.max_epochs: 1 -> 2" in f.evidence["changed_keys"]
    assert "restores each param scheduler's state" in f.evidence["cause"]
    assert "load_from" in f.hint and "remaining iterations" in f.hint
    assert "it was resumed after" in f.message and "max_epochs: 1 -> 2" in f.message


def test_lr007_resume_with_new_milestones_names_them():
    # mmengine#1565: milestones [3, 5] -> [3, 5, 7] and 6 -> 8 epochs before resuming.
    run = with_sessions(SAMPLES / "mmengine_resume_new_milestones", RESUMED)
    (f,) = findings(run)
    assert f.code == "LR007"
    # milestone 7 acts at the start of the 8th epoch (iteration 71; logged every 2)
    assert f.step == 72
    assert f.evidence["logged_lr"] == pytest.approx(2e-4)
    assert f.evidence["expected_lr"] == pytest.approx(2e-5)
    keys = f.evidence["changed_keys"]
    assert "param_scheduler[0].milestones: [3, 5] -> [3, 5, 7]" in keys
    assert "train_cfg.max_epochs: 6 -> 8" in keys


def test_lr007_resume_with_new_lr_names_it():
    run = with_sessions(SAMPLES / "mmengine_resume_new_lr", RESUMED)
    (f,) = findings(run)
    assert f.code == "LR007" and f.step == 21
    assert f.evidence["changed_keys"] == ["optim_wrapper.optimizer.lr: 0.001 -> 0.002"]
    assert f.evidence["expected_lr"] == pytest.approx(2 * f.evidence["logged_lr"])


@pytest.mark.parametrize("sample", ["mmengine_resume", "mmengine_load_from_restart"])
def test_lr007_silent_when_each_session_follows_its_config(sample):
    # A healthy resume (same config), and a load_from restart whose own config reproduces it.
    kinds = {1: "resume"} if sample == "mmengine_resume" else {1: "load_from"}
    run = with_sessions(SAMPLES / sample, kinds)
    assert all(s.config is not None for s in run.sessions)
    assert findings(run, "LR007") == []
    assert findings(run, "LR008") == []


def test_lr007_says_once_when_a_config_never_matched(tmp_path):
    # The killed session's config swapped for the one edited later (lr doubled): then neither
    # config explains the resumed session's log, and nothing before it makes its own trusted.
    run = with_sessions(SAMPLES / "mmengine_resume_new_lr", RESUMED)
    first, second = run.sessions
    swapped = (dataclasses.replace(first, config=second.config), second)
    found = findings(dataclasses.replace(run, sessions=swapped), "LR007")
    assert [f.severity.value for f in found] == ["info"]
    assert found[0].evidence["sessions"] == [second.name]
    assert "reproduces none of the LR" in found[0].message
    # A fresh session whose config matches nothing (its batch size may differ) is not judged.
    fresh = (swapped[0], dataclasses.replace(second, kind="fresh", restarted=True))
    assert findings(dataclasses.replace(run, sessions=fresh), "LR007") == []


def test_healthy_resume_is_silent_end_to_end():
    assert logan.analyze(SAMPLES / "mmengine_resume").findings == []


def test_lr008_rebuilt_cosine_jumps_at_resume():
    # torch LambdaLR cosine rebuilt with a longer total at the resume (OneTrainer#1604 shape).
    (f,) = logan.analyze(SAMPLES / "torch_resume_rebuilt_cosine").findings
    assert f.code == "LR008" and f.step == 101
    assert f.evidence["ratio"] == pytest.approx(1.287, abs=0.01)
    assert "resumed at step 100" in f.message


def test_lr008_leaves_full_restarts_to_lr004():
    codes = {f.code for f in logan.analyze(SAMPLES / "mmengine_load_from_restart").findings}
    assert codes == {"LR004"}


def test_lr001_resume_plateau_gets_the_resume_cause_not_the_missing_end(tmp_path):
    # A plateau whose session was resumed after an edit: the cause is the resume, whatever the
    # simulator says about `end`. The more-epochs sample freezes at its floor (no LR001), so
    # LR001's cause helper is asked directly about its step 26.
    from logan.checks.lr import plateau_cause
    from logan.schedule.expected import build_expected

    run = with_sessions(SAMPLES / "mmengine_resume_more_epochs", RESUMED)
    expected = build_expected(run)
    assert expected is not None
    cause, fix = plateau_cause(run, dataclasses.replace(expected, cause="`end` is not set"), 26)
    assert cause is not None and "resumed with a config" in cause
    assert fix is not None and "load_from" in fix


def test_lr001_missing_end_cause_only_when_the_config_lacks_end(buggy_ref):
    # The XTuner bug: the session's config has no `end` -> the cause stays.
    run = with_sessions(buggy_ref)
    (f,) = findings(run, "LR001")
    assert "`end` is not set" in f.evidence["cause"]
    # The same log with a session config that does set `end` everywhere: no cause at all.
    fixed = load_config(need(SAMPLES / "mmengine_fixed_e4" / "mmengine_fixed_e4.py"))
    sessions = tuple(dataclasses.replace(s, config=fixed) for s in run.sessions)
    (f,) = findings(dataclasses.replace(run, sessions=sessions), "LR001")
    assert "cause" not in f.evidence and "fix" not in f.evidence

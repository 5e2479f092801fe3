"""The 0.1 promise on real mmengine output: the XTuner plateau is found, the fix is clean, with
whichever file the run kept."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import logan
from logan.cli import app
from tests.conftest import SAMPLES, copy_run

runner = CliRunner()


def _json(args: list[str]) -> tuple[int, dict]:
    res = runner.invoke(app, ["check", *args, "--format", "json"])
    return res.exit_code, json.loads(res.stdout)


def test_buggy_reference_has_one_lr001_at_first_epoch_boundary(buggy_ref):
    code, doc = _json([str(buggy_ref)])
    assert code == 1
    assert doc["schema"] == 1 and len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert (run["last_step"], run["epoch_length"], run["max_epochs"]) == (150, 50, 3)
    lr001 = [f for f in run["findings"] if f["code"] == "LR001"]
    assert len(lr001) == 1
    f = lr001[0]
    assert f["step"] in (50, 51) and f["epoch"] == 1.0 and f["end_step"] == 150
    assert f["severity"] == "error" and f["name"] == "lr-plateau"
    assert f["evidence"]["at_epoch_boundary"] is True
    assert f["evidence"]["frozen_fraction_of_peak"] == pytest.approx(0.794, abs=0.01)
    assert "end=max_epochs" in f["hint"]


def test_fixed_reference_has_no_error(fixed_ref):
    code, doc = _json([str(fixed_ref)])
    assert code == 0
    assert not [f for f in doc["runs"][0]["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize(
    "drop",
    [
        ("*.json", "*.log"),  # only the TensorBoard event file is left
        ("events.out.tfevents.*", "*.log"),  # only the JSON
        ("events.out.tfevents.*", "*.json"),  # only the text log
    ],
    ids=["events-only", "json-only", "textlog-only"],
)
def test_same_verdicts_from_any_single_source(tmp_path, buggy_ref, fixed_ref, drop):
    bug = copy_run(buggy_ref, tmp_path / "bug", drop)
    fix = copy_run(fixed_ref, tmp_path / "fix", drop)
    code, doc = _json([str(bug)])
    run = doc["runs"][0]
    assert code == 1
    assert [f["code"] for f in run["findings"] if f["severity"] == "error"] == ["LR001"]
    assert run["findings"][0]["step"] in (50, 51)
    assert run["last_step"] == 150 and run["epoch_length"] == 50
    code, doc = _json([str(fix)])
    assert code == 0


def test_timestamp_folder_given_directly(buggy_ref):
    session = next(p for p in buggy_ref.iterdir() if p.is_dir())
    code, doc = _json([str(session)])
    assert code == 1 and len(doc["runs"]) == 1
    assert doc["runs"][0]["findings"][0]["code"] == "LR001"


def test_out_dir_writes_reports_and_plots_for_both_runs(tmp_path, buggy_ref):
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(buggy_ref.parent), "--out", str(out)])
    assert res.exit_code == 1, res.output
    reports = sorted(out.glob("*/report.md"))
    assert len(reports) == 2
    for report in reports:
        folder = report.parent
        assert (folder / "lr.png").stat().st_size > 10_000
        assert (folder / "loss.png").exists() and (folder / "report.json").exists()
        assert "`lr.png`" in report.read_text()  # named to attach: no relative image
    bug = next(r for r in reports if "buggy" in r.parent.name).read_text()
    assert "LR001" in bug and "lr-plateau" in bug
    assert (out / "index.md").exists()


def test_library_api_matches_cli(buggy_ref):
    analysis = logan.analyze(buggy_ref)
    assert [f.code for f in analysis.findings] == ["LR001"]
    assert analysis.runs[0].producer == "mmengine"


def test_sample_plateau_and_fix():
    analysis = logan.analyze([SAMPLES / "mmengine_plateau_e4", SAMPLES / "mmengine_fixed_e4"])
    by_name = {r.run.path.rsplit("/", 1)[-1]: r for r in analysis.results}
    assert [f.code for f in by_name["mmengine_plateau_e4"].findings] == ["LR001"]
    assert by_name["mmengine_fixed_e4"].findings == []

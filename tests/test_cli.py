"""CLI behaviour: exit codes, one-line errors, formats, help for every command."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from logan.cli import app
from tests.conftest import SAMPLES

runner = CliRunner()


def test_missing_path_exits_2_with_one_line():
    res = runner.invoke(app, ["check", "/no/such/dir"])
    assert res.exit_code == 2
    assert res.stderr.strip().count("\n") == 0
    assert "/no/such/dir" in res.stderr and "check the path" in res.stderr


def test_folder_without_logs_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    res = runner.invoke(app, ["check", str(tmp_path)])
    assert res.exit_code == 2
    assert "no training runs found" in res.stderr


def test_fail_on_never_and_warning(tmp_path):
    plateau = str(SAMPLES / "mmengine_plateau_e4")
    assert runner.invoke(app, ["check", plateau]).exit_code == 1
    assert runner.invoke(app, ["check", plateau, "--fail-on", "never"]).exit_code == 0
    fixed = str(SAMPLES / "mmengine_fixed_e4")
    assert runner.invoke(app, ["check", fixed, "--fail-on", "warning"]).exit_code == 0


def test_text_output_names_run_and_finding():
    res = runner.invoke(app, ["check", str(SAMPLES / "mmengine_plateau_e4")])
    assert "mmengine_plateau_e4" in res.stdout
    assert "LR001" in res.stdout and "lr-plateau" in res.stdout


def test_json_output_is_strict_json_schema_1():
    res = runner.invoke(app, ["check", str(SAMPLES / "mmengine_nan_high_lr"), "-f", "json"])
    doc = json.loads(res.stdout)  # strict: NaN would have been written as null
    assert doc["schema"] == 1
    run = doc["runs"][0]
    for key in (
        "path",
        "producer",
        "sources",
        "sessions",
        "last_step",
        "epoch_length",
        "max_epochs",
        "findings",
    ):
        assert key in run
    assert run["path"].endswith("mmengine_nan_high_lr")


def test_every_command_has_help():
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0, name
        assert "Example" in res.stdout, f"{name} --help has no example"

"""What a CI job and a terminal user can rely on (issue 14): mistakes are usage errors, exit codes
do not lie, output fits the terminal, help speaks plainly, and exports are exact."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from logan.cli import app
from tests.conftest import SAMPLES

runner = CliRunner()
PLATEAU = str(SAMPLES / "mmengine_plateau_e4")
FIXED = str(SAMPLES / "mmengine_fixed_e4")


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_unknown_rule_code_on_the_command_line_is_a_usage_error(flag):
    res = runner.invoke(app, ["check", PLATEAU, flag, "ZZ9"])
    assert res.exit_code == 2
    assert "ZZ9" in res.stderr and "LR001" in res.stderr and "TP001" in res.stderr


def test_a_prefix_and_a_rule_name_are_known(tmp_path):
    assert runner.invoke(app, ["check", PLATEAU, "--select", "lr,LS00"]).exit_code == 1
    assert runner.invoke(app, ["check", PLATEAU, "--ignore", "lr-plateau"]).exit_code == 0


@pytest.mark.parametrize(
    "text",
    ['[tool.logan]\nselect = ["ZZ"]\n', '[tool.logan]\nignore = "LR001,QQ"\n'],
)
def test_unknown_rule_code_in_the_settings_file_is_a_usage_error(tmp_path, monkeypatch, text):
    (tmp_path / "pyproject.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["check", PLATEAU])
    assert res.exit_code == 2
    assert "pyproject.toml" in res.stderr and "known: LR001" in res.stderr


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "-1", "0", "1.5x"], ids=lambda v: f"SPIKE_Z={v}"
)
def test_threshold_flag_rejects_non_finite_and_out_of_range_values(value):
    res = runner.invoke(app, ["check", PLATEAU, "--threshold", f"LS002.SPIKE_Z={value}"])
    assert res.exit_code == 2, res.stdout
    assert res.stderr.startswith("logan: --threshold") and res.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "toml",
    [
        "[thresholds]\nLS002 = {SPIKE_Z = nan}\n",
        "[thresholds]\nLR001 = {FLOOR_SHARE = 1.5}\n",
        "[thresholds]\nLS002 = {SPIKE_WINDOW = 2.5}\n",
        "[thresholds]\nZZ001 = {X = 1}\n",
    ],
)
def test_threshold_in_logan_toml_rejects_bad_values(tmp_path, monkeypatch, toml):
    (tmp_path / "logan.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["check", PLATEAU])
    assert res.exit_code == 2 and "logan.toml" in res.stderr


def test_missing_path_beside_a_good_one_reports_the_good_one_then_exits_2():
    res = runner.invoke(app, ["check", FIXED, "/no/such/run"])
    assert "mmengine_fixed_e4" in res.stdout  # the readable run is still reported
    assert res.exit_code == 2
    assert "/no/such/run" in res.stderr


def test_an_argument_with_nothing_readable_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    res = runner.invoke(app, ["check", FIXED, str(tmp_path), "-f", "json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["runs"]  # stdout stays valid JSON


def test_report_fails_on_errors_like_check_and_says_what_it_found(tmp_path):
    res = runner.invoke(app, ["report", PLATEAU, "-o", str(tmp_path / "r")])
    assert res.exit_code == 1
    last = res.stdout.strip().splitlines()[-1]
    assert "found 1 error (LR001)" in last and "attach lr.png" in last
    res = runner.invoke(app, ["report", FIXED, "-o", str(tmp_path / "f")])
    assert res.exit_code == 0 and "found nothing wrong" in res.stdout
    res = runner.invoke(app, ["report", PLATEAU, "-o", str(tmp_path / "n"), "--fail-on", "never"])
    assert res.exit_code == 0


def test_report_follows_the_settings_file(tmp_path, monkeypatch):
    (tmp_path / "logan.toml").write_text('ignore = ["LR001"]\n')
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["report", PLATEAU, "-o", str(tmp_path / "r")])
    assert res.exit_code == 0 and "found nothing wrong" in res.stdout


def test_check_out_ends_saying_what_was_written_and_found(tmp_path):
    res = runner.invoke(app, ["check", PLATEAU, FIXED, "--out", str(tmp_path / "o")])
    lines = res.stdout.strip().splitlines()
    assert lines[-2] == "2 run(s), 1 with findings: 1 error"
    assert lines[-1].startswith(f"wrote {tmp_path / 'o' / 'index.html'}")
    res = runner.invoke(app, ["check", PLATEAU, "--out", str(tmp_path / "j"), "-f", "json"])
    json.loads(res.stdout)  # the note goes to stderr, stdout stays JSON
    assert "logan: wrote" in res.stderr and "1 run(s), 1 with findings: 1 error" in res.stderr


def _deep_copy(tmp_path, name="mmengine_plateau_e4"):
    deep = tmp_path / "a_rather_long_folder_name" / "experiments_2026" / "steering" / name
    shutil.copytree(SAMPLES / name, deep)
    return deep


def test_text_output_fits_80_columns_with_hanging_indent(tmp_path):
    deep = _deep_copy(tmp_path)
    res = runner.invoke(app, ["check", str(deep), FIXED], env={"COLUMNS": "80"})
    lines = res.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    row = next(line for line in lines if line.endswith("LR001"))
    assert row.startswith("...") and "/steering/mmengine_plateau_e4" in row  # cut on the left
    first = next(i for i, line in enumerate(lines) if line.startswith("  error   LR001"))
    assert lines[first + 1].startswith(" " * 10) and lines[first + 1][10] != " "
    # Words are never broken: the message's words all come back when the lines are joined.
    joined = " ".join(line.strip() for line in lines[first : first + 4])
    assert "while the expected schedule falls to" in joined


def test_columns_is_honoured_when_piped():
    res = runner.invoke(app, ["check", PLATEAU], env={"COLUMNS": "150"})
    assert max(map(len, res.stdout.splitlines())) > 100
    res = runner.invoke(app, ["check", PLATEAU], env={"COLUMNS": "60"})
    assert max(map(len, res.stdout.splitlines())) <= 60


# What typer/click print for Python types when no metavar is given.
TYPE_NAMES = re.compile(r"<(list|int|str|path|float|bool)\b|\{\w+\}|\[(Path|str)\]|<[a-z_|]+>")


def test_help_of_every_command_has_no_python_type_names():
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for name in [None, *names]:
        args = [name, "--help"] if name else ["--help"]
        res = runner.invoke(app, args, env={"COLUMNS": "80"})
        assert res.exit_code == 0
        assert not TYPE_NAMES.search(res.stdout), (name, TYPE_NAMES.search(res.stdout))
    check = runner.invoke(app, ["check", "--help"]).stdout
    for metavar in ("PATH...", "CODE[,CODE]", "CODE.NAME=VALUE", "text|markdown|json"):
        assert metavar in check


@pytest.mark.parametrize(
    "args", [["-f", "yaml"], ["--fail-on", "sometimes"], ["--jobs", "many"]], ids=str
)
def test_bad_option_values_get_plain_messages(args):
    res = runner.invoke(app, ["check", PLATEAU, *args])
    assert res.exit_code == 2
    assert "Value error" not in res.stderr and "Input should be" not in res.stderr
    assert repr(args[1]) in res.stderr


def test_rules_with_a_prefix_lists_the_matching_rules():
    res = runner.invoke(app, ["rules", "LR"])
    assert res.exit_code == 0
    codes = re.findall(r"^(\w{2}\d{3}) ", res.stdout, re.M)
    from logan.checks import registry

    assert codes == [c for c in registry() if c.startswith("LR")] and "LS001" not in codes
    res = runner.invoke(app, ["rules", "lr-plateau"])
    assert res.exit_code == 0 and "What it does" in res.stdout
    res = runner.invoke(app, ["rules", "ZZ"])
    assert res.exit_code == 2 and "LR001" in res.stderr


def test_epochs_shown_as_unknown_are_explained():
    res = runner.invoke(app, ["check", str(SAMPLES / "mmengine_constant_lr")])
    assert " ? " in res.stdout and "epochs ?: " in res.stdout


def test_export_json_round_trips_every_number_exactly(tmp_path):
    import logan

    table = logan.load_run(PLATEAU).scalars
    res = runner.invoke(app, ["export", PLATEAU, "--to", "json"])
    assert res.exit_code == 0
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == len(table)
    assert [r["value"] for r in rows] == table["value"].tolist()
    assert [r["tag"] for r in rows] == table["tag"].astype(str).tolist()
    # The same numbers as the CSV export, which always round-tripped.
    csv = runner.invoke(app, ["export", PLATEAU]).stdout.splitlines()[1:]
    assert [float(line.split(",")[3]) for line in csv] == [r["value"] for r in rows]


def test_every_commands_number_options_get_plain_messages():
    cfg = next((SAMPLES / "mmengine_plateau_e4").glob("*.py"))
    res = runner.invoke(app, ["schedule", str(cfg), "--epoch-length", "forty"])
    assert res.exit_code == 2
    assert "'forty' is not a whole number" in res.stderr and "Input should" not in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "'yaml' is not one of text, json"),
        (["--epoch-length", "0"], "0 is below 1"),
    ],
    ids=["choice", "range"],
)
def test_choices_and_ranges_get_plain_messages(args, message):
    cfg = next((SAMPLES / "mmengine_plateau_e4").glob("*.py"))
    res = runner.invoke(app, ["schedule", str(cfg), *args])
    assert res.exit_code == 2
    assert message in res.stderr and "Value error" not in res.stderr
    assert "Input should" not in res.stderr

"""CLI behaviour: exit codes, one-line errors, formats, help for every command."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from logan.cli import app
from tests.conftest import REPO, SAMPLES, SHARED, need

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


def test_a_run_that_never_trained_is_named_with_why_in_one_line():
    """A Lightning version folder holding only `hp_metric` (Lightning writes it when a
    TensorBoardLogger starts): exit 2, and the one line says what was found and why it is no
    training run, not that nothing was found."""
    version = need(SHARED / "public_logs_2" / "debajyoti-lightning-tb-nan" / "lightning_logs")
    res = runner.invoke(app, ["check", str(version / "version_0")])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"logan: no training run under {version / 'version_0'}: ")
    assert "events.out.tfevents." in line and "summary values only" in line
    res = runner.invoke(app, ["check", str(version / "version_0"), str(version / "version_2")])
    assert res.exit_code == 2
    assert "2 session(s) or file(s) without one: 2 no training scalars" in res.stderr


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


def test_rules_lists_every_code_and_documents_one():
    res = runner.invoke(app, ["rules"])
    assert res.exit_code == 0 and "LR001" in res.stdout and "TP001" in res.stdout
    res = runner.invoke(app, ["rules", "lr001"])
    assert res.exit_code == 0
    for part in ("What it does", "Why it matters", "Example", "How to fix"):
        assert part in res.stdout
    assert runner.invoke(app, ["rules", "XX999"]).exit_code == 2


def test_select_and_ignore_flags():
    plateau = str(SAMPLES / "mmengine_plateau_e4")
    assert runner.invoke(app, ["check", plateau, "--ignore", "LR001"]).exit_code == 0
    assert runner.invoke(app, ["check", plateau, "--select", "LS"]).exit_code == 0
    assert runner.invoke(app, ["check", plateau, "--select", "LR"]).exit_code == 1


def test_settings_file_sets_defaults_and_flags_win(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.logan]\nignore = ["LR001"]\n')
    monkeypatch.chdir(tmp_path)
    plateau = str(SAMPLES / "mmengine_plateau_e4")
    assert runner.invoke(app, ["check", plateau]).exit_code == 0
    assert runner.invoke(app, ["check", plateau, "--ignore", "TP001"]).exit_code == 1
    (tmp_path / "pyproject.toml").write_text('[tool.logan]\nselct = ["LR"]\n')
    res = runner.invoke(app, ["check", plateau])
    assert res.exit_code == 2 and "unknown [tool.logan] key" in res.stderr


def test_export_csv_is_the_tidy_table(tmp_path):
    out = tmp_path / "t.csv"
    res = runner.invoke(app, ["export", str(SAMPLES / "mmengine_plateau_e4"), "-o", str(out)])
    assert res.exit_code == 0
    header = out.read_text().splitlines()[0]
    assert header == "step,epoch,tag,value,session,wall_time"
    assert sum(1 for line in out.read_text().splitlines() if ",lr," in line) == 160


def test_schedule_previews_the_bug_before_training():
    config = SAMPLES / "mmengine_plateau_e4"
    cfg = next(p for p in config.glob("*.py"))
    res = runner.invoke(app, ["schedule", str(cfg), "--epoch-length", "40"])
    assert res.exit_code == 1
    assert f"{cfg}:20:5: LR001 the LR will stay at" in res.stdout and "+        end=" in res.stdout
    assert "epoch length 40" in res.stdout
    fixed = next((SAMPLES / "mmengine_fixed_e4").glob("*.py"))
    res = runner.invoke(app, ["schedule", str(fixed), "--epoch-length", "40"])
    assert res.exit_code == 0 and "LR001" not in res.stdout


def test_schedule_needs_no_epoch_length():
    cfg = next((SAMPLES / "mmengine_plateau_e4").glob("*.py"))
    res = runner.invoke(app, ["schedule", str(cfg)])
    assert res.exit_code == 1 and "a nominal" in res.stdout and "LR001" in res.stdout
    res = runner.invoke(app, ["schedule", str(cfg), "--fail-on", "never"])
    assert res.exit_code == 0


def test_schedule_trees_exit_codes(tmp_path):
    res = runner.invoke(app, ["schedule", str(SAMPLES / "mmengine_schedule_ends_early")])
    assert res.exit_code == 0 and "LR002" in res.stdout  # a warning, below --fail-on error
    res = runner.invoke(
        app, ["schedule", str(SAMPLES / "mmengine_schedule_ends_early"), "--fail-on", "warning"]
    )
    assert res.exit_code == 1
    (tmp_path / "helper.py").write_text("x = 1\n")
    res = runner.invoke(app, ["schedule", str(tmp_path)])
    assert res.exit_code == 2 and "no training configs" in res.stderr
    res = runner.invoke(app, ["schedule", str(SAMPLES), "--plot", str(tmp_path / "lr.png")])
    assert res.exit_code == 2 and "--plot draws one simulated config" in res.stderr
    # A pre-commit hook passes changed `_base_` files as they are: not a usage error.
    (tmp_path / "_base_").mkdir()
    (tmp_path / "_base_" / "schedule.py").write_text("param_scheduler = []\n")
    res = runner.invoke(app, ["schedule", str(tmp_path / "_base_" / "schedule.py")])
    assert res.exit_code == 0 and "checked through the configs that use them" in res.stdout


def test_schedule_unreadable_config_is_named(tmp_path):
    (tmp_path / "nul.py").write_bytes(b"lr = 1\x00\n")
    res = runner.invoke(app, ["schedule", str(tmp_path / "nul.py")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"logan: {tmp_path / 'nul.py'}: line 1: a NUL byte")


def test_report_refuses_a_link_planted_while_the_run_was_read_in_one_line(tmp_path, monkeypatch):
    """`--out` is checked before the run is read; a link that appears meanwhile is refused
    when the report is written, with the same one line (it was told as an internal error)."""
    import logan.api

    out, elsewhere = tmp_path / "r", tmp_path / "elsewhere.md"
    analyze_run = logan.api.analyze_run

    def plant(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = analyze_run(*args, **kwargs)
        (out / "report.md").symlink_to(elsewhere)
        return result

    monkeypatch.setattr(logan.api, "analyze_run", plant)
    res = runner.invoke(app, ["report", str(SAMPLES / "mmengine_plateau_e4"), "-o", str(out)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"logan: {out / 'report.md'}: is a symbolic link; logan never writes through a link "
        "inside --out: remove it or give another --out\n"
    )
    assert not elsewhere.exists()


def test_report_and_compare_write_files(tmp_path):
    res = runner.invoke(
        app, ["report", str(SAMPLES / "mmengine_plateau_e4"), "-o", str(tmp_path / "r")]
    )
    assert res.exit_code == 1  # an error finding, as `check` would say
    assert {"report.md", "report.html", "report.json", "lr.png"} <= {
        p.name for p in (tmp_path / "r").iterdir()
    }
    res = runner.invoke(
        app,
        [
            "compare",
            str(SAMPLES / "mmengine_plateau_e4"),
            str(SAMPLES / "mmengine_fixed_e4"),
            "-o",
            str(tmp_path / "c"),
        ],
    )
    assert res.exit_code == 0
    text = (tmp_path / "c" / "compare.md").read_text()
    assert "LR001" in text and r"mmengine\_fixed\_e4" in text  # Markdown-escaped
    assert (tmp_path / "c" / "lr_compare.png").exists()


def test_jobs_gives_the_same_json():
    args = ["check", str(SAMPLES), "-f", "json", "--fail-on", "never"]
    one = runner.invoke(app, args)
    two = runner.invoke(app, [*args, "--jobs", "2"])
    assert one.exit_code == two.exit_code == 0
    assert json.loads(one.stdout) == json.loads(two.stdout)


def test_thresholds_from_flag_and_settings(tmp_path, monkeypatch):
    div = str(SAMPLES / "mmengine_divergence")
    assert runner.invoke(app, ["check", div, "--select", "LS003"]).exit_code == 1
    res = runner.invoke(
        app, ["check", div, "--select", "LS003", "--threshold", "LS003.DIVERGE_RISE=1e6"]
    )
    assert res.exit_code == 0
    (tmp_path / "logan.toml").write_text("[thresholds]\nLS003 = {DIVERGE_RISE = 1e6}\n")
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["check", div, "--select", "LS003"]).exit_code == 0
    res = runner.invoke(app, ["check", div, "--threshold", "LS003.NOPE=1"])
    assert res.exit_code == 2 and "DIVERGE_RISE" in res.stderr
    # nothing leaks into the next analysis
    monkeypatch.chdir(REPO)
    assert runner.invoke(app, ["check", div, "--select", "LS003"]).exit_code == 1

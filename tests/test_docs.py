"""The README says what the code does: its rule table matches the registry, its --help block
matches the CLI, its two set-up commands are the ones CI runs."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from logan.checks import registry
from logan.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_rule_table_matches_registry():
    rows = re.findall(r"^\| ([A-Z]{2}\d{3}) \| ([\w-]+) \| (\w+) \| (.+) \|$", README, re.M)
    documented = {code: (name, sev, summary) for code, name, sev, summary in rows}
    actual = {c: (r.name, r.severity.value, r.summary) for c, r in registry().items()}
    assert documented == actual


def test_every_rule_documents_itself():
    for code, r in registry().items():
        for part in ("What it does", "Why it matters", "Example", "How to fix"):
            assert part in r.doc, f"{code} lacks '{part}'"


def test_help_block_is_what_logan_prints():
    block = README.split("<!-- help: kept honest by tests/test_docs.py -->", 1)[1]
    block = block.split("```text\n", 1)[1].split("```", 1)[0]
    res = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}, prog_name="logan")
    assert res.exit_code == 0
    assert block.strip() == res.stdout.strip()


def test_sample_output_is_what_logan_prints(monkeypatch):
    """The README's `logan check` example, run on the bundled samples, as a pipe prints it."""
    block = README.split("<!-- output: kept honest by tests/test_docs.py -->", 1)[1]
    block = block.split("```console\n", 1)[1].split("```", 1)[0]
    command, _, shown = block.partition("\n")
    args = command.removeprefix("$ logan ").split()
    monkeypatch.chdir(REPO)
    res = CliRunner().invoke(app, args, env={"COLUMNS": None}, prog_name="logan")
    assert res.exit_code == 1  # the README says the samples show faults
    assert shown.rstrip("\n") == res.stdout.rstrip("\n")


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.+?)\n```", README, re.S)
    assert len(commands) >= 2
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (REPO / ".ci" / "run").read_text()
    main = next(c for c in commands if "logan check sample_logs" in c)
    assert "pip install" in main

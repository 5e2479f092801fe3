"""Start-up (issue 15): commands that only list things do not import numpy, pandas or
matplotlib; the modules they defer still work when a check runs later in the same process."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, SAMPLES

HEAVY = ("numpy", "pandas", "matplotlib")

PROBE = """
import json, sys
from logan.cli import app
for args in {commands!r}:
    try:
        app(args)
    except SystemExit:
        pass
loaded = [m for m in {heavy!r} if m in sys.modules]
import logan
codes = sorted({{f.code for r in logan.analyze([{run!r}]).results for f in r.findings}})
print(json.dumps({{"loaded": loaded, "codes": codes}}))
"""


def _probe(*commands: list[str]) -> dict[str, list[str]]:
    code = PROBE.format(
        commands=list(commands), heavy=HEAVY, run=str(SAMPLES / "mmengine_plateau_e4")
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_version_and_rules_import_no_heavy_module_and_checks_still_run():
    got = _probe(["--version"], ["rules"], ["rules", "LS002"])
    assert got["loaded"] == []
    # The check modules were imported with numpy/pandas deferred; they still find the bug.
    assert "LR001" in got["codes"]


FAST = """
import sys
from logan.cli import main
sys.argv = ["logan", *{args!r}]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("EXIT", code, "PYDANTIC", any(m.startswith("pydantic") for m in sys.modules))
"""


def _fast(*args: str) -> tuple[str, str, str]:
    out = subprocess.run(
        [sys.executable, "-c", FAST.format(args=list(args))],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    body, _, tail = out.stdout.rpartition("EXIT ")
    return body, tail.strip(), out.stderr


def test_look_up_commands_are_answered_before_typer_parses_and_say_the_same():
    """`--version` and `rules [CODE]` skip typer's pydantic-backed parsing (issue 15: start-up)
    and print exactly what the typer command prints; other forms still go through typer."""
    from typer.testing import CliRunner

    from logan.cli import app

    runner = CliRunner()
    for args in (["--version"], ["rules"], ["rules", "LS002"], ["rules", "LR"], ["rules", "nope"]):
        body, tail, err = _fast(*args)
        via_typer = runner.invoke(app, args)
        assert tail == f"{via_typer.exit_code} PYDANTIC False", (args, tail)
        assert body == via_typer.stdout, args
        assert err == via_typer.stderr, args
    # `--help` is typer's: it goes through the parser (and pays for it).
    _, tail, _ = _fast("rules", "--help")
    assert tail == "0 PYDANTIC True"

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

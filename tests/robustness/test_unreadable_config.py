"""Issue 12 item 10: a config that is there but cannot be read is reported with its file name
(RN001 in `check`), and the run is still checked against its logs; never `config: null` in
silence."""

from __future__ import annotations

from pathlib import Path

import logan
from tests.conftest import SAMPLES, copy_run, need
from tests.robustness import corpus


def _nul_configs(run: Path) -> None:
    for p in run.rglob("*.py"):
        p.write_bytes(b"x = 1\x00\n" + p.read_bytes())


def test_a_nul_byte_in_every_config_copy_is_reported_with_the_file(tmp_path: Path) -> None:
    run = copy_run(need(SAMPLES / "mmengine_plateau_e4"), tmp_path / "r", ("*.log",))
    _nul_configs(run)
    corpus.tried("hostile/config-nul")
    (result,) = logan.analyze(run).results
    assert result.run.config is None
    (rn,) = [f for f in result.findings if f.code == "RN001"]
    assert "config.py" in rn.message and "NUL byte" in rn.message
    assert "LR001" in {f.code for f in result.findings}  # still checked, from the logs


def test_the_text_logs_config_is_used_when_the_dumps_are_damaged(tmp_path: Path) -> None:
    run = copy_run(need(SAMPLES / "mmengine_plateau_e4"), tmp_path / "r")
    _nul_configs(run)
    (result,) = logan.analyze(run).results
    assert result.run.config is not None
    assert not [f for f in result.findings if f.code == "RN001"]

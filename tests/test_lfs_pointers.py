"""Logs committed through Git LFS and cloned without `git lfs pull` are pointer files of three
lines. logan says so, naming the file and the command that fetches it, instead of calling the
log damaged or unknown. The pointers are written as git-lfs writes them, in place of real
framework output from sample_logs/."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from typer.testing import CliRunner

import logan
from logan.cli import app
from tests.conftest import SAMPLES

runner = CliRunner()


def _pointer(path: Path) -> None:
    """Replace a file by the Git LFS pointer git-lfs would commit for it."""
    data = path.read_bytes()
    oid = hashlib.sha256(data).hexdigest()
    path.write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n"
    )


def test_an_hf_state_left_as_a_pointer_is_named_with_the_fix(tmp_path):
    out = tmp_path / "hf_cosine"
    shutil.copytree(SAMPLES / "hf_cosine", out)
    shutil.rmtree(out / "runs")  # only the trainer state, as committed
    _pointer(out / "trainer_state.json")
    res = runner.invoke(app, ["check", str(out)])
    assert res.exit_code == 2
    (line,) = res.stderr.splitlines()
    assert "trainer_state.json" in line and "Git LFS pointer" in line and "git lfs pull" in line


def test_a_pointer_beside_real_logs_costs_only_itself(tmp_path):
    folder = tmp_path / "tb"
    shutil.copytree(SAMPLES / "torch_tb_cosine", folder)
    (events,) = folder.glob("events.out.tfevents.*")
    copy = folder / (events.name + ".2")
    shutil.copy(events, copy)
    _pointer(copy)
    analysis = logan.analyze(folder)
    assert len(analysis.results) == 1 and analysis.results[0].run.last_step > 0
    reasons = [s.reason for s in analysis.results[0].run.skipped] + [
        n.reason for n in analysis.not_analysed
    ]
    assert any("Git LFS pointer" in r for r in reasons), reasons


def test_a_scalars_file_left_as_a_pointer_is_not_called_unknown(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (scalars,) = (SAMPLES / "mmengine_fixed_e4").glob("*/vis_data/scalars.json")
    shutil.copy(scalars, folder / "scalars.json")
    _pointer(folder / "scalars.json")
    shutil.copytree(SAMPLES / "mmengine_fixed_e4", folder / "work_dir")
    analysis = logan.analyze(folder)
    assert [r.run.path for r in analysis.results] == [str(folder / "work_dir")]
    (unread,) = [n for n in analysis.not_analysed if n.path.endswith("repo/scalars.json")]
    assert "Git LFS pointer" in unread.reason

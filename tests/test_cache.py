"""The result cache (issue 15): an unchanged run is answered from `.logan_cache/`, a changed one
is analysed again, and a damaged, foreign or concurrently written entry never changes an answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import logan.api
from logan.cache import Cache, run_key
from logan.cli import app
from logan.discover import discover
from logan.report.serialize import analysis_dict
from tests.conftest import REPO, SAMPLES, copy_run

RUNS = ("mmengine_plateau_e4", "mmengine_loss_spikes", "lightning_healthy")


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "work_dirs"
    for name in RUNS:
        copy_run(SAMPLES / name, root / name)
    return root


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Display paths of the runs really read (not answered from the cache)."""
    seen: list[str] = []
    real = logan.api.load_all

    def counting(spec):  # type: ignore[no-untyped-def]
        seen.append(Path(spec.display).name)
        return real(spec)

    monkeypatch.setattr(logan.api, "load_all", counting)
    return seen


def _check(root: Path, cache: Cache | None, **kwargs: object) -> dict:
    analysis = logan.api.analyze([root], keep_scalars=False, cache=cache, **kwargs)  # type: ignore[arg-type]
    return analysis_dict(analysis)


def test_unchanged_runs_are_answered_from_the_cache_with_the_same_verdicts(runs, tmp_path, loads):
    cache = Cache(tmp_path / "cache")
    first = _check(runs, cache)
    assert len(loads) == len(RUNS)
    loads.clear()
    assert _check(runs, cache) == first
    assert loads == []
    assert _check(runs, None) == first  # and the same as without any cache
    assert (tmp_path / "cache" / "CACHEDIR.TAG").is_file()


def _vis_json(root: Path, name: str) -> Path:
    return next((root / name).rglob("vis_data/*.json"))


@pytest.mark.parametrize(
    "change",
    ["append to the log", "edit the config, same size", "add a file", "remove a file", "touch"],
)
def test_a_run_whose_files_changed_is_analysed_again(runs, tmp_path, loads, change):
    cache = Cache(tmp_path / "cache")
    _check(runs, cache)
    loads.clear()
    target = "mmengine_plateau_e4"
    log = _vis_json(runs, target)
    config = runs / target / f"{target}.py"
    if change == "append to the log":
        with log.open("a") as f:
            f.write(log.read_text().splitlines()[-1] + "\n")
    elif change == "edit the config, same size":
        text = config.read_text()
        config.write_text(text.replace("=", "=", 1)[::-1][::-1])  # same bytes, new mtime
        os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    elif change == "add a file":
        (log.parent / "scalars.json").write_text(log.read_text())
    elif change == "remove a file":
        next((runs / target).rglob("*.log")).unlink()
    else:
        os.utime(log, ns=(log.stat().st_atime_ns, log.stat().st_mtime_ns + 10**9))
    again = _check(runs, cache)
    assert loads == [target]
    assert again == _check(runs, None)


def test_rules_and_thresholds_are_part_of_the_key(runs, tmp_path, loads):
    cache = Cache(tmp_path / "cache")
    _check(runs, cache)
    loads.clear()
    _check(runs, cache, select=["LR"])
    assert len(loads) == len(RUNS)
    loads.clear()
    _check(runs, cache, thresholds={"LS002.SPIKE_Z": 6})
    assert len(loads) == len(RUNS)
    spec = discover([runs]).runs[0]
    assert run_key(spec, ["LR001"], {}) != run_key(spec, ["LR001"], {"LS002.SPIKE_Z": 6.0})


@pytest.mark.parametrize("damage", ["truncated", "garbage", "another run's entry", "empty"])
def test_a_damaged_entry_is_ignored_and_rewritten(runs, tmp_path, loads, damage):
    folder = tmp_path / "cache"
    cache = Cache(folder)
    first = _check(runs, cache)
    entries = sorted(folder.glob("*.bin"))
    assert len(entries) == len(RUNS)
    victim = entries[0]
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        victim.write_bytes(data[:40] + os.urandom(len(data) - 40))
    elif damage == "another run's entry":
        victim.write_bytes(entries[1].read_bytes())
    else:
        victim.write_bytes(b"")
    loads.clear()
    assert _check(runs, cache) == first
    assert len(loads) == 1
    loads.clear()
    assert _check(runs, cache) == first
    assert loads == []  # rewritten


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_is_never_read(runs, tmp_path, loads):
    folder = tmp_path / "cache"
    cache = Cache(folder)
    _check(runs, cache)
    for entry in folder.glob("*.bin"):
        entry.chmod(0o666)
    loads.clear()
    _check(runs, cache)
    assert len(loads) == len(RUNS)


def test_leftovers_of_a_killed_writer_change_nothing(runs, tmp_path, loads):
    folder = tmp_path / "cache"
    cache = Cache(folder)
    first = _check(runs, cache)
    # A process killed mid-write leaves its temporary file; the entry it would have replaced is
    # either the old one or absent, never a part (os.replace).
    (folder / ".tmp-abc.bin").write_bytes(b"LOGAN-CACHE-1\n" + b"x" * 10)
    entry = sorted(folder.glob("[0-9a-f]*.bin"))[0]
    entry.unlink()
    loads.clear()
    assert _check(runs, cache) == first
    assert len(loads) == 1


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logan", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "LOGAN_NO_CACHE": "", **env},
        cwd=str(REPO),
    )


def test_two_checks_at_once_share_the_cache_and_both_answer_right(runs, tmp_path):
    env = {"LOGAN_CACHE_DIR": str(tmp_path / "cache")}
    args = ("check", str(runs), "-q", "-f", "json", "--fail-on", "never")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "logan", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "LOGAN_NO_CACHE": "", **env},
        )
        for _ in range(2)
    ]
    outs = [p.communicate()[0] for p in procs]
    plain = _cli(*args, "--no-cache", env={})
    assert json.loads(outs[0]) == json.loads(outs[1]) == json.loads(plain.stdout)
    assert len(list((tmp_path / "cache").glob("[0-9a-f]*.bin"))) == len(RUNS)
    assert json.loads(_cli(*args, env=env).stdout) == json.loads(plain.stdout)


def test_cli_cache_folder_env_and_no_cache(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOGAN_CACHE_DIR", raising=False)
    monkeypatch.delenv("LOGAN_NO_CACHE")
    runner = CliRunner()
    args = ["check", str(runs), "-q", "--fail-on", "never"]
    assert runner.invoke(app, [*args, "--no-cache"]).exit_code == 0
    assert not (tmp_path / ".logan_cache").exists()
    assert runner.invoke(app, args).exit_code == 0
    assert len(list((tmp_path / ".logan_cache").glob("*.bin"))) == len(RUNS)
    monkeypatch.setenv("LOGAN_NO_CACHE", "1")
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "r")]).exit_code == 0
    assert not (
        tmp_path
        / "r"
        / sorted(p.name for p in (tmp_path / "r").iterdir() if p.is_dir())[0]
        / ".logan-key"
    ).exists()
    monkeypatch.delenv("LOGAN_NO_CACHE")
    monkeypatch.setenv("LOGAN_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert runner.invoke(app, args).exit_code == 0
    assert len(list((tmp_path / "elsewhere").glob("*.bin"))) == len(RUNS)


def _drawn_since(out: Path, before: dict[str, int]) -> list[str]:
    """Run folders whose report.html was written after `before` (their stamps) was taken: the
    reports are drawn in other processes, so they are told by their files."""
    return sorted(
        p.parent.name
        for p in out.glob("*/report.html")
        if before.get(p.parent.name) != p.stat().st_mtime_ns
    )


def _stamps(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/report.html")}


def test_out_reports_of_unchanged_runs_are_not_drawn_again(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOGAN_CACHE_DIR", raising=False)
    monkeypatch.delenv("LOGAN_NO_CACHE")
    out = tmp_path / "report"
    runner = CliRunner()
    args = ["check", str(runs), "-q", "--fail-on", "never", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert len(_drawn_since(out, {})) == len(RUNS)
    index = (out / "index.md").read_text()
    before = _stamps(out)
    assert runner.invoke(app, args).exit_code == 0
    assert _drawn_since(out, before) == [] and (out / "index.md").read_text() == index
    # A report folder deleted, or a run changed: that run is drawn again, the others are not.
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    spikes = next(f.name for f in folders if "loss_spikes" in (f / "report.json").read_text())
    for p in folders[0].iterdir():
        p.unlink()
    log = _vis_json(runs, "mmengine_loss_spikes")
    os.utime(log, ns=(log.stat().st_atime_ns, log.stat().st_mtime_ns + 10**9))
    before = _stamps(out)
    assert runner.invoke(app, args).exit_code == 0
    assert _drawn_since(out, before) == sorted({folders[0].name, spikes})
    assert (folders[0] / "report.html").is_file()

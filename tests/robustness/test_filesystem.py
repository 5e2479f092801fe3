"""Odd trees: unreadable folders, symlink loops, pipes and devices, 10,000 empty runs, deep trees,
many small files, and a 1 GB event file (opt-in: LOGAN_BIG_TESTS=1).

Whatever the tree holds, `logan check` ends quickly, analyses every readable run and names every
path it could not use, one line each.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.robustness import corpus, harness

HEALTHY = "mmengine_fixed_e4"
PLATEAU = "mmengine_plateau_e4"
# Generous bounds for a loaded CI machine; the point is "seconds, not minutes or never".
EMPTY_RUNS = 10_000
EMPTY_RUNS_SECONDS = 60
BIG = os.environ.get("LOGAN_BIG_TESTS") == "1"


def _copy(name: str, dst: Path) -> Path:
    shutil.copytree(corpus.SAMPLES / name, dst)
    return dst


def _codes(res) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    doc = json.loads(res.stdout)
    return {Path(r["path"]).name: {f["code"] for f in r["findings"]} for r in doc["runs"]}


def test_unreadable_folder_is_named_and_the_rest_analysed(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    _copy(PLATEAU, locked / "run")
    _copy(HEALTHY, tmp_path / HEALTHY)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK | os.X_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not bite")
        corpus.tried("fs/unreadable")
        res = harness.cli("check", tmp_path, "-q", "-f", "json")
        assert _codes(res) == {HEALTHY: set()}
        assert f"logan: {locked}: cannot read folder" in res.stderr
    finally:
        locked.chmod(0o755)


def test_symlink_loops_end(tmp_path: Path) -> None:
    run = _copy(PLATEAU, tmp_path / "run")
    (run / "loop").symlink_to(run, target_is_directory=True)
    (run / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "self.log").symlink_to(tmp_path / "self.log")
    corpus.tried("fs/symlink-loop", 5)
    start = time.monotonic()
    res = harness.cli("check", tmp_path, "-q", "-f", "json")
    assert time.monotonic() - start < 30
    assert _codes(res) == {"run": {"LR001"}}  # found once, not once per way to reach it
    assert "self.log: not a regular file" in res.stderr


def test_pipes_and_devices_are_not_read(tmp_path: Path) -> None:
    """A pipe would block forever and /dev/zero never ends: both are named, never opened."""
    run = tmp_path / "run"
    run.mkdir()
    os.mkfifo(run / "events.out.tfevents.1.host.1.0")
    (run / "events.out.tfevents.2.host.1.0").symlink_to("/dev/zero")
    ts = tmp_path / "work" / corpus.TS
    (ts / "vis_data").mkdir(parents=True)
    os.mkfifo(ts / "vis_data" / f"{corpus.TS}.json")
    shutil.copy(corpus.TEXT_LOG, ts / f"{corpus.TS}.log")
    corpus.tried("fs/special", 3)
    res = harness.cli("check", tmp_path, run / "events.out.tfevents.1.host.1.0", "-q")
    assert res.exit_code == 2  # an argument with nothing readable (the pipe) must fail a CI job
    assert "LR001" in res.stdout  # the text log beside the pipe is still read
    problems = res.stderr.strip().splitlines()
    assert len(problems) == 4, problems
    assert all("not a regular file" in p for p in problems)


def test_an_unknown_file_argument_does_not_stop_the_others(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    corpus.tried("fs/unknown-file")
    res = harness.cli("check", notes, corpus.SAMPLES / PLATEAU, "-q", "-f", "json")
    assert _codes(res) == {PLATEAU: {"LR001"}}
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"logan: {notes}: not a log file logan knows")
    assert json.loads(res.stdout)["problems"][0]["path"] == str(notes)


def test_ten_thousand_empty_runs(tmp_path: Path) -> None:
    """Killed-at-start runs (timestamp folders with empty logs) next to one real run: the real
    run is analysed and every empty one gets one line naming it, in seconds."""
    root = tmp_path / "work_dirs"
    for i in range(EMPTY_RUNS):
        ts = root / f"run{i:05d}" / corpus.TS
        ts.mkdir(parents=True)
        (ts / f"{corpus.TS}.log").touch()
    _copy(PLATEAU, root / "zz_real")
    corpus.tried("fs/empty-runs")  # one tree
    start = time.monotonic()
    res = harness.cli("check", root, "-q", "-f", "json")
    took = time.monotonic() - start
    assert took < EMPTY_RUNS_SECONDS, f"{took:.1f} s"
    assert res.exit_code == 1 and _codes(res) == {"zz_real": {"LR001"}}
    lines = res.stderr.strip().splitlines()
    assert len(lines) == EMPTY_RUNS
    assert lines[0] == (
        f"logan: {root / 'run00000'}: no scalars could be read from "
        f"{corpus.TS}/{corpus.TS}.log ({corpus.TS}.log whole file: empty file); "
        "check that these are complete training logs (empty or damaged files hold nothing)"
    )
    assert len(json.loads(res.stdout)["problems"]) == EMPTY_RUNS


def test_deep_trees(tmp_path: Path) -> None:
    """A run 25 folders down is found; past the depth limit the folder is named, not lost."""
    deep = tmp_path
    for i in range(25):
        deep = deep / f"d{i}"
    _copy(PLATEAU, deep / "run")
    deeper = deep
    for i in range(25, 300):
        deeper = deeper / f"d{i}"
    deeper.mkdir(parents=True)
    corpus.tried("fs/deep")
    res = harness.cli("check", tmp_path, "-q", "-f", "json")
    assert _codes(res) == {"run": {"LR001"}}
    (line,) = res.stderr.strip().splitlines()
    assert "folders deep: not searched" in line


def test_many_small_files(tmp_path: Path) -> None:
    """20,000 unrelated small files, and 500 tiny event files that are cut pieces of a real one."""
    junk = tmp_path / "junk"
    junk.mkdir()
    for i in range(20_000):
        (junk / f"f{i}.txt").write_bytes(b"x")
    pieces = tmp_path / "pieces"
    pieces.mkdir()
    r = corpus.rng("pieces")
    data = corpus.EVENT_FILE.read_bytes()
    for i in range(500):
        cut = data[: r.randrange(len(data))]
        (pieces / f"events.out.tfevents.{1795960000 + i}.host.1.0").write_bytes(cut)
    _copy(PLATEAU, tmp_path / "run")
    corpus.tried("fs/small-files", 500)
    start = time.monotonic()
    res = harness.cli("check", tmp_path, "-q", "-f", "json")
    assert time.monotonic() - start < 60
    codes = _codes(res)
    assert codes["run"] == {"LR001"}
    # Every piece starts again at the first step: 500 fresh starts, each its own attempt (or
    # accounted for when nothing in it could be read), never one stitched step axis.
    doc = json.loads(res.stdout)
    runs = [r for r in doc["runs"] if "/pieces/" in r["path"]]
    unread = [n for n in doc["not_analysed"] if "/pieces/" in n["path"]]
    problems = [p for p in doc["problems"] if "/pieces" in p["path"]]
    assert len(runs) + len(unread) + len(problems) >= 500 - 1
    assert all(len(r["session_list"]) == 1 for r in runs)


@pytest.mark.skipif(not BIG, reason="1 GB file: set LOGAN_BIG_TESTS=1 to run")
def test_one_gigabyte_event_file(tmp_path: Path) -> None:
    data = corpus.EVENT_FILE.read_bytes()
    spans = corpus.record_spans(data)
    body = data[spans[5][0] :]  # the scalar records, repeated
    path = tmp_path / "run" / "events.out.tfevents.1795960398.host.1.0"
    path.parent.mkdir()
    copies = (1 << 30) // len(body) + 1
    with path.open("wb") as f:
        f.write(data[: spans[5][0]])
        for _ in range(copies):
            f.write(body)
    corpus.tried("fs/1gb")
    start = time.monotonic()
    res = harness.cli("check", path.parent, "-q", "-f", "json")
    assert time.monotonic() - start < 600
    assert res.exit_code in (0, 1)


def test_folder_names_that_are_not_utf8(tmp_path: Path) -> None:
    """Names from another machine's encoding: every output is written, the bytes shown as U+FFFD."""
    top = Path(os.fsdecode(bytes(tmp_path) + b"/runs_\xff\xfe"))
    _copy("lightning_cycles", top / os.fsdecode(b"ok_\xe9t\xe9"))
    damaged = _copy("mmengine_resume", top / os.fsdecode(b"cut_\xc3"))
    for p in damaged.glob("*/vis_data/2*.json"):
        p.write_bytes(p.read_bytes()[:-50])
    corpus.place("json", b"", top / os.fsdecode(b"empty_\x80"))
    out = tmp_path / "out"
    corpus.tried("fs/not-utf8", 3)
    res = harness.cli("check", top, "-q", "-f", "json", "--out", out)
    doc = json.loads(res.stdout)
    assert len(doc["runs"]) == 2 and len(doc["problems"]) == 1
    assert all("\ufffd" in r["path"] for r in doc["runs"])
    assert "\ufffd" in doc["problems"][0]["path"]
    assert len(list(out.rglob("report.html"))) == 2
    assert "\ufffd\ufffd" in (out / "index.md").read_text(encoding="utf-8")


def test_links_to_the_root_or_a_parent_are_not_followed(tmp_path: Path) -> None:
    """A run folder from a tarball holding `rootfs -> /`: walking it would crawl the disk."""
    top = tmp_path / "given"
    run = _copy(PLATEAU, top / "run")
    (run / "rootfs").symlink_to("/", target_is_directory=True)
    (run / "outside").symlink_to(tmp_path, target_is_directory=True)
    corpus.tried("fs/link-above", 2)
    start = time.monotonic()
    res = harness.cli("check", top, "-q", "-f", "json")
    assert time.monotonic() - start < 30
    assert _codes(res) == {"run": {"LR001"}}
    lines = sorted(res.stderr.strip().splitlines())
    assert lines == [
        f"logan: {run / 'outside'}: links to a folder above the one given: not followed",
        f"logan: {run / 'rootfs'}: links to a folder above the one given: not followed",
    ]

"""One giant line (no newline): logan finishes, says which line it could not use, and keeps its
memory near the file's size. 5 MB by default; 200 MB with LOGAN_BIG_TESTS=1 (memory measured in
a child process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.robustness import corpus, harness

BIG = os.environ.get("LOGAN_BIG_TESTS") == "1"
SMALL_MB = 5
BIG_MB = 200
# Seconds for a 5 MB line on a loaded CI machine.
SMALL_SECONDS = 20


# Runs `logan ARGS` and prints the peak RSS of its own program on stderr at exit: VmHWM starts
# afresh at exec (ru_maxrss would include the pytest process the child was forked from).
_MEASURED = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('PEAK', line.split()[1], file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['logan', *sys.argv[1:]]\n"
    "from logan.cli import main\n"
    "main()\n"
)


def _logan_peak_mb(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run logan in a child process; its result and its peak memory in MB (Linux only)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("peak memory is read from /proc (Linux)")
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=corpus.REPO,
    )
    peak = [ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK ")]
    assert peak, proc.stderr[-2000:]
    return proc, int(peak[-1].split()[1]) / 1024


def _giant_record(mb: int) -> bytes:
    """A syntactically valid mmengine record made huge by one list of numbers."""
    numbers = b",".join([b"1.5"] * (mb * (1 << 20) // 4))
    return b'{"lr": 0.1, "loss": 1.0, "step": 7, "junk": [' + numbers + b"]}"


def test_giant_line_in_a_json_log_costs_only_that_line(tmp_path: Path) -> None:
    lines = corpus.JSON_LOG.read_bytes().split(b"\n")
    lines.insert(20, _giant_record(SMALL_MB))
    root = corpus.place("json", b"\n".join(lines), tmp_path / "run")
    corpus.tried("huge/json-middle")
    start = time.monotonic()
    (result,) = harness.analyze(root).results
    assert time.monotonic() - start < SMALL_SECONDS
    undamaged = sum(corpus.line_rows(ln.decode()) for ln in lines if ln and len(ln) < 10_000)
    assert len(result.run.scalars) == undamaged
    (skip,) = result.run.skipped
    assert skip.where == "line 21" and "too long" in skip.reason


@pytest.mark.parametrize("kind", ["json", "text", "events", "hf", "csv"])
def test_a_file_that_is_one_giant_line(tmp_path: Path, kind: str) -> None:
    size = SMALL_MB << 20
    if kind == "json":
        data = _giant_record(SMALL_MB)
    elif kind == "text":
        line = corpus.TEXT_LOG.read_bytes().split(b"\n")[200]  # a train line, then junk
        data = line + b"  junk: " + b"7" * size
    elif kind == "events":
        data = os.urandom(size)
    elif kind == "hf":
        data = b'{"log_history": [' + _giant_record(SMALL_MB)[:-2]  # cut before its end
    else:
        data = b"step,lr," + b"x" * size
    root = corpus.place(kind, data, tmp_path / "run")
    corpus.tried(f"huge/{kind}")
    start = time.monotonic()
    res = harness.cli("check", root, "-q")
    assert time.monotonic() - start < SMALL_SECONDS
    assert res.exit_code == 2  # nothing readable: named on one line
    (line,) = res.stderr.strip().splitlines()
    assert str(root) in line and len(line) < 2000


def test_a_giant_cell_costs_only_its_row_in_metrics_csv(tmp_path: Path) -> None:
    lines = corpus.LIGHTNING_CSV.read_bytes().split(b"\n")
    good = len(harness.read("csv", corpus.LIGHTNING_CSV).frame)
    lines[5] = lines[5] + b"9" * 200_000
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"\n".join(lines))
    corpus.tried("huge/csv-cell")
    result = harness.read("csv", path)
    assert len(result.frame) >= good - 3 and result.skipped


def test_text_log_with_lost_newlines(tmp_path: Path) -> None:
    lines = corpus.TEXT_LOG.read_bytes().split(b"\n")
    first = next(i for i, ln in enumerate(lines) if b"Iter(train)" in ln)
    joined = (lines[first + 20] + b"  ") * 2000  # 2,000 train lines on one line
    path = tmp_path / f"{corpus.TS}.log"
    path.write_bytes(b"\n".join([*lines[:first], joined, *lines[first:]]))
    corpus.tried("huge/text-joined")
    result = harness.read("text", path)
    assert len(result.frame) >= len(harness.read("text", corpus.TEXT_LOG).frame)
    assert result.skipped


@pytest.mark.skipif(not BIG, reason=f"{BIG_MB} MB file: set LOGAN_BIG_TESTS=1 to run")
def test_memory_stays_near_the_file_size_on_a_200_mb_line(tmp_path: Path) -> None:
    root = corpus.place("json", b"", tmp_path / "run")
    (path,) = root.rglob("*.json")
    with path.open("wb") as f:  # in pieces: no 200 MB object in this process
        f.write(b'{"lr": 0.1, "loss": 1.0, "step": 7, "junk": [1.5')
        for _ in range(BIG_MB):
            f.write(b",1.5" * ((1 << 20) // 4))
        f.write(b"]}")
    corpus.tried("huge/200mb")
    proc, peak_mb = _logan_peak_mb("check", str(root), "-q")
    assert proc.returncode == 2 and "too long" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The file once, plus the interpreter with numpy/pandas (about 150 MB), plus slack.
    assert peak_mb < BIG_MB + 400, f"peak {peak_mb:.0f} MB"


def test_a_huge_file_named_like_a_config_is_not_read(tmp_path: Path) -> None:
    """A 300 MB (sparse) `.py` beside the logs: logan neither reads it nor loses the run."""
    import shutil

    root = tmp_path / "run"
    shutil.copytree(corpus.SAMPLES / "mmengine_plateau_e4", root)
    with (root / "aaa_huge.py").open("wb") as f:  # sorts before the real dump
        f.truncate(300 << 20)
    corpus.tried("huge/config")
    proc, peak_mb = _logan_peak_mb("check", str(root), "-q")
    assert proc.returncode == 1 and "LR001" in proc.stdout, proc.stderr
    assert peak_mb < 300, f"peak {peak_mb:.0f} MB"

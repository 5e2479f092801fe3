"""Hostile input (issue 12): logs, folders and configs crafted to break the terminal, the reports
or the analysis of the other runs. Every payload is generated here, small, and costs only itself:
the rest is analysed and what was skipped is reported (RN001).

Covered: lone-surrogate keys (item 1), control characters on stdout and stderr (2), rich markup
and emoji codes in paths (3), quadratic regexes (4), symbolic links inside --out (6), steps past
2**53 or negative in every reader (7), numpy/matplotlib warnings (8), unusable --out (9),
`--jobs` below 1 and the progress display (12).
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from logan.textsafe import visible, visible_block
from tests.robustness import corpus, harness

TS = corpus.TS
# Terminal commands a log or a folder name can carry: clear screen, window title (OSC 0), a
# hyperlink (OSC 8), an 8-bit CSI, a bell.
ESCAPES = ("\x1b[2J", "\x1b]0;pwned\x07", "\x1b]8;;https://evil.example\x1b\\", "\x9b31m", "\x07")
# Characters no terminal output of logan may hold (tab and newline are layout).
RAW_CONTROLS = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]]


def records(n: int = 60, **extra: Any) -> list[dict[str, Any]]:
    """A healthy mmengine run: a decaying LR and a falling loss, one record per step."""
    return [
        {"lr": 0.01 * (1 - i / (2 * n)), "loss": 2.0 / (1 + i), "iter": i, "step": i, **extra}
        for i in range(1, n + 1)
    ]


def json_run(root: Path, recs: list[dict[str, Any]] | list[str]) -> Path:
    """An mmengine work_dir whose vis_data JSON holds `recs` (dicts, or raw lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in recs]
    target = root / TS / "vis_data" / f"{TS}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    return root


def assert_terminal_safe(text: str) -> None:
    bad = sorted({repr(c) for c in text if c in RAW_CONTROLS or 0xD800 <= ord(c) <= 0xDFFF})
    assert not bad, f"raw control characters reach the terminal: {bad}"


def assert_stderr_lines(stderr: str) -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert all(ln.startswith("logan: ") for ln in lines), stderr


# --- item 1: a lone surrogate in a key ----------------------------------------------------------


def _surrogate_json(root: Path) -> Path:
    recs = records()
    recs[10]["loss_\ud800"] = float("nan")  # json.dumps writes the valid escape `\ud800`
    return json_run(root, recs)


def _surrogate_hf(root: Path) -> Path:
    state = json.loads(corpus.HF_STATE.read_text())
    state["log_history"][3]["loss_\udc80x"] = 1.0
    root.mkdir(parents=True)
    (root / "trainer_state.json").write_text(json.dumps(state), encoding="ascii")
    return root


def _surrogate_csv(root: Path) -> Path:
    data = corpus.LIGHTNING_CSV.read_bytes()
    header, rest = data.split(b"\n", 1)
    root.mkdir(parents=True)
    (root / "metrics.csv").write_bytes(header + b",loss_\xff\xfe\n" + rest.replace(b"\n", b",1\n"))
    return root


@pytest.mark.parametrize("make", [_surrogate_json, _surrogate_hf, _surrogate_csv])
def test_lone_surrogate_key_costs_only_itself(tmp_path: Path, make: Any) -> None:
    bad = make(tmp_path / "bad")
    good = json_run(tmp_path / "good", records())
    corpus.tried("hostile/surrogate", 5)
    for fmt in ("text", "markdown", "json"):
        res = harness.cli("check", bad, good, "-q", "-f", fmt)
        assert res.exit_code in (0, 1)
        assert_terminal_safe(res.stdout + res.stderr)
        assert "good" in res.stdout
        if fmt == "json":
            doc = json.loads(res.stdout)
            assert len(doc["runs"]) == 2
    analysis = harness.analyze(bad)
    (result,) = analysis.results
    assert result.run.scalars["tag"].map(lambda t: t.isprintable()).all()
    if make is not _surrogate_csv:  # the CSV's bytes are replaced (U+FFFD), not skipped
        assert any("lone surrogate" in s.reason for s in result.run.skipped)
        assert any(f.code == "RN001" for f in result.findings)
    res = harness.cli("export", bad, "--to", "json")
    assert res.exit_code == 0 and res.stdout.count("\n") > 10
    res = harness.cli("export", bad)
    assert res.exit_code == 0 and res.stdout.startswith("step,")
    if make is not _surrogate_json:
        return  # the reports below (plots are slow) see the same table whatever the reader
    out = tmp_path / "out"
    res = harness.cli("check", bad, good, "-q", "--out", out)
    assert json.loads((out / "report.json").read_text())["runs"]
    assert len(list(out.glob("*/report.html"))) == 2


# --- item 2: control characters from logs, paths and configs ----------------------------------


def test_visible_shows_every_control_character() -> None:
    for c in RAW_CONTROLS + ["\n", "\t", "\u202e", "\u2028", "\ud800"]:
        shown = visible(f"a{c}b")
        assert shown.isprintable() and shown.startswith("a") and shown.endswith("b"), repr(c)
    assert visible("a\nb") == "a\\nb" and visible("\x1b[2J") == "\\x1b[2J"
    assert visible("名前 ünï \\ path") == "名前 ünï \\ path"
    assert visible_block("a\n\tb\x1b") == "a\n\tb\\x1b"


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    src = tmp_path / "runs"
    # A loss tag (named in LS001's message) with a clear-screen, a title, and a newline that
    # would fake a finding line of its own.
    tag = "loss_\x1b[2J\x1b]0;pwned\x07\nerror   LR001 FAKE: forged line"
    recs = records()
    for r in recs[30:]:
        r[tag] = float("nan")
    for k, esc in enumerate(ESCAPES):
        json_run(src / f"run{k}{esc}name", recs)
    # A run that cannot be read at all: its path goes to stderr as `logan: path: ...`.
    broken = src / "broken\x1b]0;title\x07\x1b[2J"
    (broken / TS / "vis_data").mkdir(parents=True)
    (broken / TS / "vis_data" / f"{TS}.json").write_bytes(b"\x1b[2J not json\n")
    corpus.tried("hostile/controls", len(ESCAPES) + 1)
    for fmt in ("text", "markdown"):
        res = harness.cli("check", src, "-q", "-f", fmt)
        assert res.exit_code == 1
        assert_terminal_safe(res.stdout)
        assert_terminal_safe(res.stderr)
        assert_stderr_lines(res.stderr)
        assert "broken\\x1b]0;title\\x07" in res.stderr
        # The forged line stays on the line of its tag (whose first part is on it too).
        assert not any("FAKE" in ln and "pwned" not in ln for ln in res.stdout.splitlines())
        assert "FAKE" in res.stdout  # shown, as text, on the line of its finding
    res = harness.cli("report", src / f"run0{ESCAPES[0]}name", "-o", tmp_path / "r\x1b[2J")
    assert_terminal_safe(res.stdout + res.stderr)


def test_config_lines_in_the_printed_fix_are_visible(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(corpus.SAMPLES / "mmengine_plateau_textlog_only", run)
    # The config's line that the fix changes, in the dumped config and in the log's copy.
    for path in [*run.glob("*.py"), *run.glob("*/*.log")]:
        text = path.read_text()
        assert "T_max=3," in text
        path.write_text(text.replace("T_max=3,", "T_max=3,  # \x1b]0;owned\x07\x1b[2J"))
    corpus.tried("hostile/controls")
    res = harness.cli("check", run, "-q")
    assert res.exit_code == 1 and "fix:" in res.stdout
    assert "\\x1b]0;owned\\x07" in res.stdout
    assert_terminal_safe(res.stdout + res.stderr)


# --- item 3: rich markup in paths ----------------------------------------------------------------

# (A `/` makes nested folders: the displayed path still holds `[/b]`.)
MARKUP = ("[/b]", "x[link=evil.example]y[/link]", "[bold red]z", ":thumbs_up:", "end\\")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_markup_in_paths_is_printed_as_text(tmp_path: Path, monkeypatch: Any) -> None:
    from logan import cli
    from logan.settings import Settings

    src = tmp_path / "runs"
    paths = [json_run(src / name, records(20)) for name in MARKUP]
    corpus.tried("hostile/markup", len(MARKUP))
    # The progress bar is drawn only on a terminal: give it one, and catch errors in its thread.
    crashes: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    for order in (paths, paths[::-1]):  # the label of the last run, and of one before it
        analysis = cli._analyze(order, Settings(), jobs=1, quiet=False)
        assert len(analysis.results) == len(MARKUP) and not crashes
    monkeypatch.undo()
    assert tty.getvalue()  # the bar was drawn
    res = harness.cli("check", src, "-q")
    for name in MARKUP:
        assert name in res.stdout, name


# --- item 7: steps past 2**53, or negative ---------------------------------------------------


def _steps_json(root: Path, steps: list[int]) -> Path:
    recs = records(len(steps))
    # Raw lines: the integers exactly as written, past what json.dumps of a float would keep.
    return json_run(
        root,
        [
            json.dumps(r)[:-1].replace(f'"step": {r["step"]}', f'"step": {s}') + "}"
            for r, s in zip(recs, steps, strict=True)
        ],
    )


def _steps_hf(root: Path, steps: list[int]) -> Path:
    state = json.loads(corpus.HF_STATE.read_text())
    state["log_history"] = [
        {"epoch": 0.1, "grad_norm": 1.0, "learning_rate": 0.001, "loss": 1.0 / (1 + k), "step": s}
        for k, s in enumerate(steps)
    ]
    root.mkdir(parents=True)
    (root / "trainer_state.json").write_text(json.dumps(state))
    return root


def _steps_csv(root: Path, steps: list[int]) -> Path:
    rows = ["epoch,lr-SGD,step,train_loss"]
    rows += [f"0,0.001,{s},{1.0 / (1 + k)}" for k, s in enumerate(steps)]
    root.mkdir(parents=True)
    (root / "metrics.csv").write_text("\n".join(rows) + "\n")
    return root


def _steps_events(root: Path, steps: list[int]) -> Path:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    root.mkdir(parents=True)
    writer = EventFileWriter(str(root))
    for k, s in enumerate(steps):
        values = [
            Summary.Value(tag="train/lr", simple_value=0.01),
            Summary.Value(tag="train/loss", simple_value=1.0 / (1 + k)),
        ]
        writer.add_event(Event(wall_time=1.7e9 + k, step=s, summary=Summary(value=values)))
    writer.close()
    return root


GOOD_STEPS = list(range(1, 31))
BAD_STEPS = {
    "2**63": [2**63 + k for k in range(10)],
    "2**60": [2**60 + k for k in range(10)],
    "negative": [-200 + k for k in range(10)],
}


@pytest.mark.parametrize("bad", sorted(BAD_STEPS))
@pytest.mark.parametrize("make", [_steps_json, _steps_hf, _steps_csv, _steps_events])
def test_steps_out_of_range_are_skipped_and_reported(tmp_path: Path, make: Any, bad: str) -> None:
    if make is _steps_events and bad == "2**63":
        pytest.skip("an event's step is an int64: 2**63 cannot be written")
    corpus.tried("hostile/steps")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = harness.analyze(make(tmp_path / "run", GOOD_STEPS + BAD_STEPS[bad]))
    assert not [str(w.message) for w in caught]
    (result,) = analysis.results
    steps = result.run.scalars["step"]
    assert steps.min() >= 0 and steps.max() <= 2**53, steps.describe()
    assert result.run.last_step is not None and result.run.last_step <= 31
    assert result.run.skipped, "the dropped steps are not reported"
    assert any(f.code == "RN001" for f in result.findings)


# --- item 8: no warning reaches stderr; a non-finite LR is a finding --------------------------


def test_no_numpy_or_matplotlib_warning(tmp_path: Path) -> None:
    huge = [
        {"lr": 0.01, "loss": (1e308 if i % 2 else -1e308) if i > 30 else 1.0 + 0.01 * (i % 3),
         "iter": i, "step": i}
        for i in range(1, 120)
    ]  # fmt: skip
    rising = [
        {"lr": 0.01, "loss": 10.0 ** min(4 * i, 308), "iter": i, "step": i} for i in range(1, 120)
    ]
    runs = {
        "huge": json_run(tmp_path / "huge", huge),
        "rising": json_run(tmp_path / "rising", rising),
        "esc": json_run(tmp_path / "a\x1b[31mred", records()),
        "glyphs": json_run(tmp_path / "名前 🚀 ünï", records()),
    }
    corpus.tried("hostile/warnings", len(runs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        harness.cli("check", *runs.values(), "-q", "-o", tmp_path / "out")
        harness.cli("compare", runs["esc"], runs["glyphs"], runs["huge"], "-o", tmp_path / "cmp")
    assert not [f"{w.filename}:{w.lineno}: {w.message}" for w in caught]


def test_non_finite_lr_is_a_finding(tmp_path: Path) -> None:
    recs = [
        {"lr": 1e308 if i % 2 else float("inf"), "loss": 1.0, "iter": i, "step": i}
        for i in range(1, 60)
    ]
    corpus.tried("hostile/lr")
    (result,) = harness.analyze(json_run(tmp_path / "run", recs)).results
    (f,) = [f for f in result.findings if f.code == "LS001"]
    assert f.evidence["tag"] == "lr" and f.step == 2
    (healthy,) = harness.analyze(json_run(tmp_path / "ok", records())).results
    assert not [f for f in healthy.findings if f.code == "LS001"]


# --- item 4: every regex that sees input is linear ------------------------------------------

MB = 1 << 20


def _timed(seconds: float, fn: Any, *args: Any) -> float:
    """Run `fn(*args)` in a forked child and return how long it took; a child still running after
    `seconds` (a quadratic scan takes minutes to hours here) is killed and the test fails."""
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("fork")
    start = time.monotonic()
    child = ctx.Process(target=fn, args=args)
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{getattr(fn, '__name__', fn)} still running after {seconds} s")
    assert child.exitcode == 0, child.exitcode
    return time.monotonic() - start


def _read_text_log(kind: str, path: Path) -> None:
    from logan.readers import mmcv, mmengine_text

    result = (mmengine_text.read if kind == "mmengine" else mmcv.read_text)(path)
    assert len(result.frame)


def _template(n: int) -> None:
    from logan.config import load_config

    assert load_config(f"x = '{'{' * n}'\ny = 1\n", name="bomb.py")["y"] == 1


@pytest.mark.parametrize("pad", [" w" * (MB // 2), " w:" * (MB // 3)], ids=["words", "colons"])
@pytest.mark.parametrize("kind", ["mmengine", "mmcv"])
def test_a_one_megabyte_log_line_reads_in_linear_time(tmp_path: Path, kind: str, pad: str) -> None:
    lines = corpus.TEXT_LOG.read_text().split("\n")
    hit = next(i for i, ln in enumerate(lines) if "Iter(train)" in ln)
    lines[hit] += pad  # the case: a train line padded with space-separated words
    path = tmp_path / f"{TS}.log"
    path.write_text("\n".join(lines))
    corpus.tried("hostile/regex")
    # Under a second where the machine is not shared; the quadratic scan took 75 s for 64,000
    # words, hours for a megabyte.
    assert _timed(30, _read_text_log, kind, path) < 5


def test_key_value_scan_finds_what_the_plain_pattern_found() -> None:
    """The linear scanner against the pattern it replaces, on short random lines (where the
    quadratic one is still fast): the same items, always."""
    import random
    import re

    from logan.readers import mmcv, mmengine_text

    rng = corpus.rng("pairs")
    cases = [
        (mmengine_text._PAIRS, re.compile(r"([^\s:]+(?: [^\s:]+)*):\s+(\S+)")),
        (mmcv._TEXT_PAIRS, re.compile(r"([^\s:,]+(?: [^\s:,]+)*):\s+([^\s,]+)")),
    ]
    for _ in range(3000):
        line = "".join(rng.choice("ab:, \t1.-") for _ in range(rng.randint(0, 24)))
        for scanner, plain in cases:
            assert scanner.findall(line) == plain.findall(line), line
    assert isinstance(rng, random.Random)


def test_config_template_test_is_linear() -> None:
    corpus.tried("hostile/regex")
    assert _timed(30, _template, 200_000) < 5


# --- item 6: never write through a symbolic link inside --out --------------------------------


def test_links_inside_out_are_refused(tmp_path: Path) -> None:
    run = json_run(tmp_path / "runs" / "victim", records())
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    corpus.tried("hostile/links", 4)
    # index.md planted as a link: refused before the analysis.
    out = tmp_path / "out1"
    out.mkdir()
    (out / "index.md").symlink_to(outside)
    res = harness.cli("check", run, "-q", "--out", out)
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    # The (predictable) folder of a run planted as a link to another folder.
    out = tmp_path / "out2"
    harness.cli("check", run, "-q", "--out", out)
    (name,) = [p.name for p in out.iterdir() if p.is_dir()]
    shutil.rmtree(out / name)
    (out / name).symlink_to(elsewhere, target_is_directory=True)
    res = harness.cli("check", run, "-q", "--out", out)
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    # A report file inside the run's folder planted as a link: that run's report is refused.
    shutil.rmtree(out)
    harness.cli("check", run, "-q", "--out", out)
    (out / name / "report.html").unlink()
    (out / name / "report.html").symlink_to(outside)
    res = harness.cli("check", run, "-q", "--out", out)
    assert "symbolic link" in res.stderr
    assert_stderr_lines(res.stderr)
    # `report` and `compare` check their --out the same way.
    out = tmp_path / "out3"
    out.mkdir()
    (out / "report.json").symlink_to(outside)
    res = harness.cli("report", run, "--out", out)
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    (out / "compare.md").symlink_to(outside)
    res = harness.cli("compare", run, run, "--out", out)
    assert res.exit_code == 2 and "symbolic link" in res.stderr
    assert outside.read_text() == "precious\n"
    assert not list(elsewhere.iterdir())


# --- item 9: an unusable --out is refused before the analysis --------------------------------


def _unusable(tmp_path: Path, kind: str) -> Path:
    if kind == "file":
        (tmp_path / "taken").write_text("x")
        return tmp_path / "taken"
    if kind == "/dev/null":
        return Path("/dev/null")
    if kind == "/proc/x":
        if not Path("/proc").is_dir():
            pytest.skip("no /proc here")
        return Path("/proc/x")
    if kind == "under-a-file":
        (tmp_path / "taken").write_text("x")
        return tmp_path / "taken" / "out"
    (tmp_path / "out" / "index.md").mkdir(parents=True)  # index.md that is a folder
    return tmp_path / "out"


@pytest.mark.parametrize("kind", ["file", "/dev/null", "/proc/x", "under-a-file", "index-folder"])
def test_unusable_out_fails_first_in_one_line(tmp_path: Path, kind: str, monkeypatch: Any) -> None:
    import logan.api

    run = json_run(tmp_path / "run", records())
    out = _unusable(tmp_path, kind)
    analysed: list[object] = []
    monkeypatch.setattr(logan.api, "analyze", lambda *a, **k: analysed.append(a))
    corpus.tried("hostile/out")
    res = harness.cli("check", run, "-q", "--out", out)
    assert res.exit_code == 2 and not analysed
    (line,) = res.stderr.splitlines()
    assert line.startswith("logan: ") and str(out) in line and "internal error" not in line
    if kind != "index-folder":  # `report` writes no index.md
        res = harness.cli("report", run, "--out", out)
        assert res.exit_code == 2 and len(res.stderr.splitlines()) == 1


# --- item 12: many runs ------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["0", "-1", "-8"])
def test_jobs_below_one_is_a_usage_error(tmp_path: Path, jobs: str) -> None:
    run = json_run(tmp_path / "run", records())
    res = harness.cli("check", run, "-q", "--jobs", jobs)
    assert res.exit_code == 2 and "--jobs" in res.stderr


def _tiny_runs(root: Path, n: int) -> Path:
    for k in range(n):
        json_run(root / f"r{k:04d}", records(3))
    return root


def test_many_tiny_runs_keep_little_memory_each(tmp_path: Path) -> None:
    """`check` keeps a slim result per run: no scalar table, only a summary (15 KB a run before:
    200,000 runs took gigabytes)."""
    import gc
    import tracemalloc

    from logan.api import _analyze_spec
    from logan.discover import discover

    specs = discover([_tiny_runs(tmp_path, 20)]).runs
    for spec in specs[:5]:  # imports and first-use caches
        _analyze_spec(spec, None, keep_scalars=False)
    corpus.tried("hostile/many", len(specs))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [_analyze_spec(spec, None, keep_scalars=False) for spec in specs[5:]]
        gc.collect()
        per_run = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert all(o.results for o in kept)
    # ~1.7 KB now (findings, sessions, a summary); 15 KB with a one-row table per run.
    assert per_run < 4_000, f"{per_run:.0f} bytes kept per run"


def test_progress_in_order_with_jobs(tmp_path: Path) -> None:
    import logan.api

    root = _tiny_runs(tmp_path, 7)
    corpus.tried("hostile/many", 7)
    ticks: list[tuple[int, int]] = []
    parallel = logan.api.analyze(
        root, jobs=2, progress=lambda i, n, _: ticks.append((i, n)), keep_scalars=False
    )
    assert ticks == [(i, 7) for i in range(1, 8)]
    serial = logan.api.analyze(root, keep_scalars=False)
    assert [r.run.path for r in parallel.results] == [r.run.path for r in serial.results]


def test_check_keeps_its_results_on_disk_not_in_memory(tmp_path: Path) -> None:
    """Item 12: what `check` keeps while the runs stream in does not grow with their number: the
    slim results wait in a temporary file (an offset per run in memory) and read back the same."""
    import gc
    import tracemalloc

    import logan.api
    from logan.spool import SpooledResults

    def kept(root: Path) -> tuple[int, Any]:
        logan.api.analyze(str(root), keep_scalars=False)  # first-use caches
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            analysis = logan.api.analyze(str(root), keep_scalars=False)
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before, analysis
        finally:
            tracemalloc.stop()

    small, _ = kept(_tiny_runs(tmp_path / "small", 40))
    large, analysis = kept(_tiny_runs(tmp_path / "large", 200))
    corpus.tried("hostile/many-spooled", 240)
    assert isinstance(analysis.results, SpooledResults) and len(analysis.results) == 200
    per_extra_run = (large - small) / 160
    # About 100 bytes remain per run (measured 100-140): an order of magnitude under the slim
    # results kept in memory (about 4 KB each, 15 KB before) that this replaces.
    assert per_extra_run < 500, f"{per_extra_run:.0f} bytes more per run"
    in_memory = logan.api.analyze(str(tmp_path / "large"), keep_scalars=True)
    assert [r.run.path for r in analysis.results] == [r.run.path for r in in_memory.results]
    assert [r.findings for r in analysis.results] == [r.findings for r in in_memory.results]

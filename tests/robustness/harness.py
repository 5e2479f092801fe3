"""The invariants every damaged input must keep, checked through the CLI and `logan.analyze`.

No exception escapes (a reader crash that logan caught and turned into "reader failed" or "could
not be analysed" counts too: it cost the user a whole file), no traceback text reaches the user,
the exit code is 0, 1 or 2, and a failing run says why in one line per problem naming the file.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from typer.testing import CliRunner, Result

import logan
from logan.cli import app
from logan.model import Analysis
from tests.robustness import corpus

runner = CliRunner()
# Messages logan prints only when it caught a crash of its own: each is a bug, not bad input.
CRASH_MARKERS = ("reader failed", "could not be analysed", "internal error", "Traceback")


def cli(*args: object) -> Result:
    """Run `logan ARGS` in-process and check the invariants every invocation must keep."""
    res = runner.invoke(app, [str(a) for a in args])
    exc = res.exception
    if exc is not None and not isinstance(exc, SystemExit):
        text = "".join(traceback.format_exception(exc))
        corpus.TRACEBACKS.append(text)
        raise AssertionError(f"exception escaped `logan {' '.join(map(str, args))}`:\n{text}")
    out = res.stdout + res.stderr
    for marker in CRASH_MARKERS:
        if marker in out:
            corpus.TRACEBACKS.append(out)
            raise AssertionError(f"{marker!r} in the output of logan {args}:\n{out[-3000:]}")
    assert res.exit_code in (0, 1, 2), (res.exit_code, out[-2000:])
    if res.exit_code == 2:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert lines, "exit 2 without a message"
        assert all(ln.startswith("logan: ") for ln in lines), res.stderr
    return res


def analyze(path: Path | str | list[Path]) -> Analysis:
    """`logan.analyze` with the same no-crash invariants."""
    try:
        analysis = logan.analyze(path)  # type: ignore[arg-type]
    except Exception as exc:
        corpus.TRACEBACKS.append("".join(traceback.format_exception(exc)))
        raise
    for p in analysis.problems:
        assert not any(m in p.message for m in CRASH_MARKERS), p
    for r in analysis.results:
        for s in r.run.skipped:
            assert not any(m in s.reason for m in CRASH_MARKERS), s
    return analysis


def read(kind: str, path: Path):  # type: ignore[no-untyped-def]
    """One reader on one file, as `load` calls it; a crash is recorded and re-raised."""
    from logan.load import reader_for

    name = {"events": "events", "json": "mmengine_json", "text": "mmengine_log"}.get(kind, kind)
    name = {"hf": "hf_state", "csv": "lightning_csv"}.get(name, name)
    try:
        return reader_for(name)(path, session=0)
    except Exception as exc:
        corpus.TRACEBACKS.append("".join(traceback.format_exception(exc)))
        raise

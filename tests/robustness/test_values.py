"""Extreme but well-formed values through the whole pipeline (read, check, every report format,
plots): NaN, infinities, 1e308, denormals, zeros, a negative LR, one point, repeated, negative,
huge and sparse steps. No crash, and the run is analysed rather than dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.robustness import corpus, harness

N = 60


def _records(lr, loss, step=lambda i: i) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        json.dumps({"lr": lr(i), "loss": loss(i), "time": 0.1, "step": step(i)})
        for i in range(1, N)
    ]


CASES = {
    "nan": _records(lambda i: float("nan"), lambda i: float("nan")),
    "inf": _records(lambda i: float("inf"), lambda i: float("-inf")),
    "huge-loss": _records(lambda i: 0.1, lambda i: 1e308),
    "huge-both": _records(lambda i: 1e308, lambda i: -1e308),
    "denormal": _records(lambda i: 5e-324, lambda i: 5e-324),
    "zero": _records(lambda i: 0.0, lambda i: 0.0),
    "negative-lr": _records(lambda i: -0.1 * i, lambda i: 1.0),
    "one-step-repeated": _records(lambda i: 0.1 * i, lambda i: 1.0, lambda i: 5),
    # Steps below 0 or past 2**53 are not steps (issue 12): those rows are skipped and reported,
    # the rest of the run is analysed; the largest exact steps are kept.
    "negative-steps": _records(lambda i: 0.1, lambda i: 1.0, lambda i: i - 10),
    "huge-steps": _records(lambda i: 0.1, lambda i: 1.0, lambda i: 2**53 - i),
    "sparse-steps": _records(lambda i: 0.1 / i, lambda i: 1.0, lambda i: i * 10**14),
    "one-point": _records(lambda i: 0.1, lambda i: 1.0)[:1],
    "mixed": _records(
        lambda i: [0.1, float("nan"), 1e300, -1e300, 0.0][i % 5],
        lambda i: [1.0, float("inf")][i % 2],
    ),
}
MARKS: dict[str, pytest.MarkDecorator] = {}
# Cases also written by `logan report` (it draws the same plots again: the slow part).
REPORTED = {"negative-lr", "huge-both", "one-point", "nan"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=MARKS[n]) if n in MARKS else n for n in CASES]
)
def test_extreme_values_through_every_output(tmp_path: Path, name: str) -> None:
    root = corpus.place("json", ("\n".join(CASES[name]) + "\n").encode(), tmp_path / name)
    corpus.tried("values/pipeline")
    res = harness.cli("check", root, "-q", "-f", "json", "--out", tmp_path / "out")
    doc = json.loads(res.stdout)  # strict JSON: non-finite numbers written as null
    assert [Path(r["path"]).name for r in doc["runs"]] == [name] and not doc["problems"]
    assert (tmp_path / "out" / "index.html").exists()
    if name in REPORTED:
        harness.cli("report", root, "--out", tmp_path / "report")
        assert (tmp_path / "report" / "report.md").exists()


@pytest.mark.parametrize("name", ["huge-lr", "alternating"])
def test_stderr_holds_only_logan_lines(tmp_path: Path, name: str) -> None:
    if name == "huge-lr":
        records = _records(lambda i: 1e308, lambda i: 1.0)
    else:
        records = _records(lambda i: [0.1, 1e308, -1e308][i % 3], lambda i: 1.0)
    root = corpus.place("json", ("\n".join(records) + "\n").encode(), tmp_path / name)
    corpus.tried("values/stderr")
    # A real process: pytest captures warnings that a user's terminal would show.
    proc = subprocess.run(
        [sys.executable, "-m", "logan", "check", str(root), "-q", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=corpus.REPO,
    )
    assert proc.returncode in (0, 1)
    assert [ln for ln in proc.stderr.splitlines() if not ln.startswith("logan: ")] == []

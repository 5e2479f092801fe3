"""Wrong types and out-of-range numbers in HF `trainer_state.json` and Lightning `metrics.csv`:
a bad field costs its entry or row at most, and what was skipped is listed."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.robustness import corpus, harness

STATE = json.loads(corpus.HF_STATE.read_text())
HF_ROWS = len(harness.read("hf", corpus.HF_STATE).frame)
CSV = corpus.LIGHTNING_CSV.read_bytes()
CSV_ROWS = len(harness.read("csv", corpus.LIGHTNING_CSV).frame)


def _entry(key: str, value: Any, i: int = 3) -> Callable[[dict], None]:
    return lambda s: s["log_history"][i].__setitem__(key, value)


def _top(key: str, value: Any) -> Callable[[dict], None]:
    return lambda s: s.__setitem__(key, value)


def _xfail(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


HF_CASES = {
    "lr-string": (_entry("learning_rate", "0.1"), 1, True, None),
    "lr-list": (_entry("learning_rate", [0.1]), 1, True, None),
    "lr-dict": (_entry("learning_rate", {"a": 1}), 1, True, None),
    "lr-nan": (_entry("learning_rate", float("nan")), 0, False, None),
    "lr-inf": (_entry("learning_rate", float("inf")), 0, False, None),
    "step-string": (_entry("step", "4"), 3, True, None),
    "step-null": (_entry("step", None), 3, True, None),
    "step-int-huge": (_entry("step", 10**30), 3, True, None),
    "step-float-huge": (_entry("step", 1e300), 3, True, None),
    "epoch-string": (_entry("epoch", "x"), 0, False, None),
    "epoch-huge": (_entry("epoch", 1e308), 0, False, None),
    "entry-not-object": (lambda s: s["log_history"].__setitem__(3, [1, 2]), 3, True, None),
    "max-steps-string": (_top("max_steps", "x"), 0, False, None),
    "max-steps-negative": (_top("max_steps", -5), 0, False, None),
    "max-steps-huge": (_top("max_steps", 10**30), 0, False, None),
    "epochs-zero": (_top("num_train_epochs", 0), 0, False, None),
    "epochs-nan": (_top("num_train_epochs", float("nan")), 0, False, None),
    "duplicated": (
        lambda s: s.__setitem__("log_history", s["log_history"] * 2),
        -HF_ROWS,
        False,
        None,
    ),
    "reversed": (lambda s: s.__setitem__("log_history", s["log_history"][::-1]), 0, False, None),
    # Not a training step (issue 12): the entry is skipped and listed, not drawn at step -4.
    "step-negative": (_entry("step", -4), 3, True, None),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=c[3]) if c[3] else n for n, c in HF_CASES.items()],
)
def test_hf_wrong_types_and_ranges(tmp_path: Path, name: str) -> None:
    mutate, lost, listed, _ = HF_CASES[name]
    state = copy.deepcopy(STATE)
    mutate(state)
    root = corpus.place("hf", json.dumps(state, indent=2).encode(), tmp_path / name)
    corpus.tried("types/hf")
    harness.cli("check", root, "-q", "-f", "json")
    (result,) = harness.analyze(root).results
    assert len(result.run.scalars) == HF_ROWS - lost
    assert bool(result.run.skipped) == listed, result.run.skipped


CSV_CASES = {
    "step-huge": (CSV.replace(b",0.001,0,,", b",0.001,1e30,,", 1), 1, None),
    "step-negative": (CSV.replace(b",0.001,0,,", b",0.001,-5,,", 1), 1, None),
    "epoch-huge": (CSV.replace(b"\n0,", b"\n1e300,", 1), 0, None),
    "epoch-nan": (CSV.replace(b"\n0,", b"\nnan,", 3), 0, None),
    "inf": (CSV.replace(b"0.001", b"inf"), 0, None),
    "header-twice": (CSV.split(b"\n")[0] + b"\n" + CSV, 0, None),
    "unbalanced-quote": (CSV.replace(b"0.001", b'"0.001', 1), 1, None),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=c[2]) if c[2] else n for n, c in CSV_CASES.items()],
)
def test_csv_wrong_types_and_ranges(tmp_path: Path, name: str) -> None:
    data, lost, _ = CSV_CASES[name]
    root = corpus.place("csv", data, tmp_path / name)
    corpus.tried("types/csv")
    harness.cli("check", root, "-q", "-f", "json")
    (result,) = harness.analyze(root).results
    assert len(result.run.scalars) >= CSV_ROWS - lost

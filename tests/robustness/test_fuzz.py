"""Random combinations of damage (flips, cuts, junk, repeated and deleted ranges) on every kind
of real file, through the whole analysis: nothing crashes, and whatever was skipped is reported."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness import corpus, harness

KINDS = sorted(corpus.SOURCES)
_EXAMPLE = itertools.count()
DATA = {kind: path.read_bytes() for kind, path in corpus.SOURCES.items()}

_op = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("junk"), st.floats(0, 1), st.integers(0, len(corpus.JUNK) - 1)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(1, 400)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 400)),
)


def _damage(data: bytes, ops: list[tuple[str, float, int]]) -> bytes:
    for name, where, arg in ops:
        if not data:
            break
        at = min(int(where * len(data)), len(data) - 1)
        if name == "flip":
            data = corpus.flip(data, at, arg)
        elif name == "cut":
            data = data[:at]
        elif name == "junk":
            data = corpus.splice(data, at, corpus.JUNK[arg])
        elif name == "repeat":
            data = data[: at + arg] + data[at : at + arg] + data[at + arg :]
        else:
            data = data[:at] + data[at + arg :]
    return data


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(KINDS), ops=st.lists(_op, min_size=1, max_size=4))
def test_random_damage_never_crashes(
    tmp_path: Path, kind: str, ops: list[tuple[str, float, int]]
) -> None:
    corpus.tried(f"fuzz/{kind}")
    # One folder per example: hypothesis runs every example in the same tmp_path.
    root = corpus.place(kind, _damage(DATA[kind], ops), tmp_path / f"run{next(_EXAMPLE)}")
    analysis = harness.analyze(root)
    # Every input is accounted for: a run, a problem line, or a session with no training.
    assert len(analysis.results) + len(analysis.problems) + len(analysis.not_analysed) >= 1
    for result in analysis.results:
        reported = any(f.code == "RN001" for f in result.findings)
        assert reported == bool(result.run.skipped)

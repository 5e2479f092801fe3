"""Random combinations of damage (flips, cuts, junk, repeated and deleted ranges) on every kind
of real file, through the whole analysis: nothing crashes, and whatever was skipped is reported.
Then hostile values (control characters, rich markup, lone surrogates, huge and negative
integers, long lines) in keys, values, steps and folder names: no raw control character reaches
the terminal, no step outside 0..2**53 enters the table, and what was skipped is reported."""

from __future__ import annotations

import itertools
import json
import unicodedata
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


# --- hostile values: control characters, markup, surrogates, huge integers, long lines ---------

# Characters that break terminals, rich markup or encoders, mixed with ordinary ones.
_hostile_char = st.one_of(
    st.characters(codec=None, categories=["Cc"]),  # C0/C1 controls, ESC, newline
    st.characters(categories=["Cs"]),  # lone surrogates (valid `\udXXX` escapes in JSON)
    st.sampled_from(["[", "]", "/", "\\", ":", "=", "$", "`", "|", "\u202e", "\u2028"]),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
)
_hostile_text = st.text(_hostile_char, min_size=1, max_size=12)
_markup = st.sampled_from(["[/b]", "[link=x]y[/link]", ":thumbs_up:", "[bold]", "\x1b]8;;x\x1b\\"])
_key = st.one_of(
    _hostile_text.map(lambda s: "loss_" + s),  # named in LS001's message when non-finite
    _markup.map(lambda s: "loss" + s),
    _hostile_text,
)
_huge_int = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -1, -(2**63)]),
)
_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    _huge_int,
    st.sampled_from([1e308, -1e308, 5e-324]),
)


@st.composite
def _hostile_run(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A folder name and the lines of an mmengine JSON log, most of them healthy."""
    name = draw(st.one_of(_hostile_text, _markup))
    # A file name can hold any byte but `/` and NUL; bytes that are not UTF-8 come back as the
    # surrogates U+DC80..U+DCFF, the only ones a name can hold.
    folder = "".join(
        "_"
        if c in "/\x00" or (0xD800 <= ord(c) <= 0xDFFF and not 0xDC80 <= ord(c) <= 0xDCFF)
        else c
        for c in name
    )
    lines = [
        json.dumps({"lr": 0.01, "loss": 1.0 / (1 + i), "iter": i, "step": i}) for i in range(1, 40)
    ]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        rec = json.loads(lines[at])
        what = draw(st.sampled_from(["key", "step", "value", "long"]))
        if what == "key":
            rec[draw(_key)] = draw(_value)
        elif what == "step":
            rec["step"] = draw(_huge_int)
        elif what == "value":
            rec[draw(st.sampled_from(["lr", "loss"]))] = draw(_value)
        else:  # a long line: a key/value padding of up to 200 KB
            rec["pad"] = " w" * draw(st.integers(1, 100_000))
        lines[at] = json.dumps(rec)
    return folder, lines


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(run=_hostile_run())
def test_hostile_values_cost_only_themselves(tmp_path: Path, run: tuple[str, list[str]]) -> None:
    folder, lines = run
    corpus.tried("fuzz/hostile")
    root = tmp_path / f"h{next(_EXAMPLE)}" / (folder.strip() or "_")
    target = root / corpus.TS / "vis_data" / f"{corpus.TS}.json"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    res = harness.cli("check", root, "-q")
    shown = res.stdout + res.stderr
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t"]
    assert all(ln.startswith("logan: ") for ln in res.stderr.splitlines() if ln.strip())
    analysis = harness.analyze(root)
    for result in analysis.results:
        steps = result.run.scalars["step"]
        assert steps.min() >= 0 and steps.max() <= 2**53
        reported = any(f.code == "RN001" for f in result.findings)
        assert reported == bool(result.run.skipped)

"""Damaged text logs, HF `trainer_state.json` and Lightning `metrics.csv`: no crash, and the
records the damage did not touch are all still read (compared with the same file where the
damaged record is blanked, read by the same reader)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness import corpus, harness

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples on every machine, no replay of old failures
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _rows(result) -> Counter:  # type: ignore[no-untyped-def]
    f = result.frame
    return Counter(zip(f["step"], f["tag"], f["value"].astype(str), strict=True))


def _read(kind: str, tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    name = {"text": f"{corpus.TS}.log", "hf": "trainer_state.json", "csv": "metrics.csv"}[kind]
    path = tmp_path / name
    path.write_bytes(data)
    return harness.read(kind, path)


# --- mmengine text log ------------------------------------------------------------------------

TEXT = corpus.TEXT_LOG.read_bytes()
TEXT_LINES = TEXT.split(b"\n")
FIRST_TRAIN = next(i for i, ln in enumerate(TEXT_LINES) if b"Iter(train)" in ln)
LAST_TRAIN = max(i for i, ln in enumerate(TEXT_LINES) if b"Iter(train)" in ln)


def _line_start(i: int) -> int:
    return sum(len(ln) + 1 for ln in TEXT_LINES[:i])


def test_text_truncation_at_every_byte_of_six_train_lines(tmp_path: Path) -> None:
    piece = b"\n".join(TEXT_LINES[FIRST_TRAIN : FIRST_TRAIN + 6]) + b"\n"
    newlines = [i + 1 for i, b in enumerate(piece) if b == 0x0A]
    whole = {k: _rows(_read("text", tmp_path, piece[:k])) for k in [0, *newlines]}
    bad = []
    for k, data in corpus.truncations(piece):
        corpus.tried("text/truncate")
        got = _rows(_read("text", tmp_path, data))
        before = max(n for n in [0, *newlines] if n <= k)
        after = min((n for n in newlines if n >= k), default=len(piece))
        if whole[before] - got or got - whole[after]:
            bad.append(f"cut at {k}: {sum(got.values())} rows")
    assert not bad, bad[:10]


@SETTINGS
@given(
    # From the second train line: damage to the first is test_text_damaged_first_line below.
    offset=st.integers(_line_start(FIRST_TRAIN + 1), _line_start(LAST_TRAIN + 1) - 2),
    bit=st.integers(0, 7),
)
def test_text_flip_costs_at_most_its_lines(tmp_path: Path, offset: int, bit: int) -> None:
    corpus.tried("text/flip")
    i = max(n for n in range(len(TEXT_LINES)) if _line_start(n) <= offset)
    damaged = {i, i + 1} if TEXT[offset] == 0x0A else {i}
    blank = b"\n".join(b"" if n in damaged else ln for n, ln in enumerate(TEXT_LINES))
    got = _rows(_read("text", tmp_path, corpus.flip(TEXT, offset, bit)))
    want = _rows(_read("text", tmp_path, blank))
    assert not want - got, want - got


def test_text_damaged_first_line(tmp_path: Path) -> None:
    lines = list(TEXT_LINES)
    lines[FIRST_TRAIN] = lines[FIRST_TRAIN].replace(b"e-09", b"d-09")
    corpus.tried("text/first-line")
    got = _rows(_read("text", tmp_path, b"\n".join(lines)))
    blank = b"\n".join(b"" if n == FIRST_TRAIN else ln for n, ln in enumerate(TEXT_LINES))
    want = _rows(_read("text", tmp_path, blank))
    assert not want - got, f"{sum((want - got).values())} rows lost"


def test_text_junk_and_non_finite_values(tmp_path: Path) -> None:
    r = corpus.rng("text-junk")
    full = _rows(_read("text", tmp_path, TEXT))
    for _ in range(60):
        corpus.tried("text/junk")
        i = r.randrange(FIRST_TRAIN, LAST_TRAIN + 1)
        lines = list(TEXT_LINES)
        at = r.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + r.choice(corpus.JUNK) + lines[i][at:]
        got = _rows(_read("text", tmp_path, b"\n".join(lines)))
        blank = b"\n".join(b"" if n == i else ln for n, ln in enumerate(TEXT_LINES))
        assert not _rows(_read("text", tmp_path, blank)) - got
        assert sum(got.values()) <= sum(full.values()) + 5
    for token in (b"nan", b"inf", b"-inf", b"1e400", b"NaN", b"Infinity"):
        corpus.tried("text/number")
        lines = list(TEXT_LINES)
        i = FIRST_TRAIN + 10
        head, _, _ = lines[i].rpartition(b"loss: ")
        lines[i] = head + b"loss: " + token
        result = _read("text", tmp_path, b"\n".join(lines))
        assert sum(_rows(result).values()) == sum(full.values()), token


# --- HF trainer_state.json -------------------------------------------------------------------

STATE = corpus.HF_STATE.read_bytes()


def _entry_spans(text: str) -> list[tuple[int, int]]:
    decoder = json.JSONDecoder()
    pos = text.index("[", text.index('"log_history"')) + 1
    spans = []
    while True:
        while text[pos] in " \n,":
            pos += 1
        if text[pos] == "]":
            return spans
        _, end = decoder.raw_decode(text, pos)
        spans.append((pos, end))
        pos = end


SPANS = _entry_spans(STATE.decode())
ENTRY_ROWS = [
    sum(
        1
        for k, v in json.loads(STATE[a:b]).items()
        if k not in ("step", "epoch") and isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    for a, b in SPANS
]


def test_hf_oracle() -> None:
    assert sum(ENTRY_ROWS) == len(harness.read("hf", corpus.HF_STATE).frame)


@SETTINGS
@given(k=st.integers(0, len(STATE)))
def test_hf_truncation_keeps_every_complete_entry(tmp_path: Path, k: int) -> None:
    corpus.tried("hf/truncate")
    result = _read("hf", tmp_path, STATE[:k])
    complete = sum(r for (_, end), r in zip(SPANS, ENTRY_ROWS, strict=True) if end <= k)
    assert len(result.frame) == complete
    assert bool(result.skipped) == (k < len(STATE.rstrip()))


@SETTINGS
@given(offset=st.integers(SPANS[0][0], SPANS[-1][1] - 1), bit=st.integers(0, 7))
def test_hf_flip_costs_at_most_its_entry(tmp_path: Path, offset: int, bit: int) -> None:
    corpus.tried("hf/flip")
    hit = [(a, b) for a, b in SPANS if a <= offset < b]
    blank = STATE
    for a, b in hit:
        blank = blank[:a] + b"{}".ljust(b - a) + blank[b:]
    got = _rows(_read("hf", tmp_path, corpus.flip(STATE, offset, bit)))
    want = _rows(_read("hf", tmp_path, blank))
    assert not want - got, want - got


# --- Lightning metrics.csv -------------------------------------------------------------------

CSV = corpus.LIGHTNING_CSV.read_bytes()
CSV_LINES = CSV.split(b"\n")
HEADER_END = len(CSV_LINES[0]) + 1


def test_csv_truncation_at_every_byte_of_the_first_rows(tmp_path: Path) -> None:
    bad = []
    rows_at: dict[int, int] = {0: 0}  # rows read from the file cut after each whole row
    for k, data in corpus.truncations(CSV, 700):
        corpus.tried("csv/truncate")
        result = _read("csv", tmp_path, data)
        whole = data[: max(data.rfind(b"\n"), data.rfind(b"\r")) + 1]  # CSVLogger ends rows \r\n
        if len(whole) not in rows_at:
            rows_at[len(whole)] = len(_read("csv", tmp_path, whole).frame)
        n_want = rows_at[len(whole)]
        # A header cut short reads as no rows (the run is then reported as unreadable).
        partial = bool(data[len(whole) :].strip()) and k > HEADER_END
        if len(result.frame) != n_want or (partial and not result.skipped):
            bad.append(f"cut at {k}: {len(result.frame)} rows (want {n_want})")
    assert not bad, bad[:10]


@SETTINGS
@given(offset=st.integers(HEADER_END, len(CSV) - 2), bit=st.integers(0, 7))
def test_csv_flip_costs_at_most_its_rows(tmp_path: Path, offset: int, bit: int) -> None:
    corpus.tried("csv/flip")
    i = CSV[:offset].count(b"\n")
    damaged = {i, i + 1} if CSV[offset] == 0x0A else {i}
    blank = b"\n".join(b"" if n in damaged else ln for n, ln in enumerate(CSV_LINES))
    got = _rows(_read("csv", tmp_path, corpus.flip(CSV, offset, bit)))
    want = _rows(_read("csv", tmp_path, blank))
    assert not want - got, want - got


def test_cli_on_damaged_text_hf_and_csv(tmp_path: Path) -> None:
    r = corpus.rng("cli-other")
    for kind, data in (("text", TEXT), ("hf", STATE), ("csv", CSV)):
        cases = [corpus.flip(data, r.randrange(len(data)), r.randrange(8)) for _ in range(3)]
        cases += [data[: r.randrange(len(data))] for _ in range(3)]
        cases += [b"", b"\x00" * 64, data.replace(b"1", b"\xff", 5)]
        for n, case in enumerate(cases):
            corpus.tried(f"{kind}/cli")
            root = corpus.place(kind, case, tmp_path / f"{kind}{n}")
            res = harness.cli("check", root, "-q", "--fail-on", "never")
            assert res.exit_code in (0, 2)

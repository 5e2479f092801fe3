"""Damaged mmengine JSON logs: every complete record before and after a damaged one is kept.

The reference for "undamaged" is the same file with the damaged line(s) blanked, read by the
same reader; the per-line number counts come from `json.loads` (`corpus.line_rows`).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness import corpus, harness

DATA = corpus.JSON_LOG.read_bytes()
LINES = DATA.decode().splitlines()
ROWS = [corpus.line_rows(ln) for ln in LINES]
# Every-byte truncation covers the first lines of the log (about 1.1 KB).
SLICE_LINES = 8


def _read(tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{corpus.TS}.json"
    path.write_bytes(data)
    return harness.read("json", path)


def _rows(result) -> Counter:  # type: ignore[no-untyped-def]
    f = result.frame
    return Counter(zip(f["step"], f["tag"], f["value"].astype(str), strict=True))


def test_oracle_matches_the_undamaged_file(tmp_path: Path) -> None:
    result = _read(tmp_path, DATA)
    assert len(result.frame) == sum(ROWS) and result.skipped == []


def test_truncation_at_every_byte_keeps_every_complete_line(tmp_path: Path) -> None:
    head = "\n".join(LINES[:SLICE_LINES]).encode() + b"\n"
    ends = []
    pos = 0
    for ln in LINES[:SLICE_LINES]:
        pos += len(ln.encode())
        ends.append(pos)  # the line is complete from here on, newline or not
        pos += 1
    bad = []
    for k, data in corpus.truncations(head):
        corpus.tried("json/truncate")
        result = _read(tmp_path, data)
        complete = sum(r for end, r in zip(ends, ROWS, strict=False) if end <= k)
        partial = data[data.rfind(b"\n") + 1 :].strip()
        complete_tail = any(end == k for end in ends)
        want_skip = bool(partial) and not complete_tail
        if k == 0:
            want_skip = True  # an empty file is listed as such
        if len(result.frame) != complete or bool(result.skipped) != want_skip:
            bad.append(f"cut at {k}: {len(result.frame)} rows (want {complete}), {result.skipped}")
    assert not bad, "\n".join(bad[:10])


def _damaged_lines(offset: int) -> set[int]:
    start = 0
    for i, ln in enumerate(LINES):
        end = start + len(ln.encode())
        if start <= offset < end:
            return {i}
        if offset == end:  # the newline: two records run together
            return {i, i + 1}
        start = end + 1
    raise AssertionError(offset)


def _blanked(lines: set[int]) -> bytes:
    return "\n".join("" if i in lines else ln for i, ln in enumerate(LINES)).encode() + b"\n"


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples on every machine, no replay of old failures
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(offset=st.integers(0, len(DATA) - 2), bit=st.integers(0, 7))
def test_one_flipped_bit_costs_at_most_its_lines(tmp_path: Path, offset: int, bit: int) -> None:
    corpus.tried("json/flip")
    damaged = _damaged_lines(offset)
    result = _read(tmp_path, corpus.flip(DATA, offset, bit))
    reference = _read(tmp_path, _blanked(damaged))
    got, want = _rows(result), _rows(reference)
    assert not want - got, f"lost undamaged rows: {want - got}"
    # A flipped key name can turn an index key (`iter`) into a number of its own.
    extra = len(corpus.INDEX_KEYS)
    assert len(result.frame) - len(reference.frame) <= sum(ROWS[i] + extra for i in damaged)
    text = corpus.flip(DATA, offset, bit).decode("utf-8", "replace").split("\n")
    for i in damaged:
        try:
            ok = isinstance(json.loads(text[i]), dict)
        except ValueError:
            ok = False
        if not ok:
            assert any(s.where == f"line {i + 1}" for s in result.skipped), result.skipped


@pytest.mark.parametrize("junk", corpus.JUNK, ids=[j[:4].hex() for j in corpus.JUNK])
def test_bad_bytes_cost_only_their_line(tmp_path: Path, junk: bytes) -> None:
    r = corpus.rng(f"json-junk-{junk!r}")
    for _ in range(12):
        corpus.tried("json/junk")
        i = r.randrange(len(LINES))
        line = LINES[i].encode()
        at = r.randrange(len(line) + 1)
        lines = [ln.encode() for ln in LINES]
        lines[i] = line[:at] + junk + line[at:]
        result = _read(tmp_path, b"\n".join(lines) + b"\n")
        reference = _read(tmp_path, _blanked({i}))
        assert not _rows(reference) - _rows(result)
        assert len(result.frame) <= sum(ROWS)


@pytest.mark.parametrize("token", corpus.NUMBER_TOKENS)
@pytest.mark.parametrize("key", ["lr", "loss"])
def test_non_finite_and_out_of_range_numbers_are_numbers(
    tmp_path: Path, key: str, token: str
) -> None:
    i = 7
    lines = list(LINES)
    lines[i] = corpus.set_value(lines[i], key, token)
    corpus.tried("json/number")
    result = _read(tmp_path, ("\n".join(lines) + "\n").encode())
    assert len(result.frame) == sum(ROWS) and result.skipped == []
    step = json.loads(LINES[i])["step"]
    f = result.frame
    (value,) = f.loc[(f["step"] == step) & (f["tag"] == key), "value"]
    parsed = json.loads(token)
    # A JSON integer past float's range is infinite, as `1e400` is.
    want = float("inf") if isinstance(parsed, int) and parsed > 10**308 else float(parsed)
    assert str(value) == str(want)


@pytest.mark.parametrize("token", corpus.WRONG_TYPES)
def test_lr_of_the_wrong_type_is_skipped_and_listed(tmp_path: Path, token: str) -> None:
    i = 9
    lines = list(LINES)
    lines[i] = corpus.set_value(lines[i], "lr", token)
    corpus.tried("json/type")
    result = _read(tmp_path, ("\n".join(lines) + "\n").encode())
    assert len(result.frame) == sum(ROWS) - 1
    (skip,) = result.skipped
    assert skip.where == f"line {i + 1}" and "lr" in skip.reason


@pytest.mark.parametrize(
    "drop, lost, listed",
    [
        (("loss",), 1, False),
        (("step",), 0, False),  # `iter` still gives the step
        (("step", "iter"), None, True),  # the whole record
        (("lr",), 1, False),  # read as a validation record: its numbers are kept under val/
    ],
)
def test_missing_keys(
    tmp_path: Path, drop: tuple[str, ...], lost: int | None, listed: bool
) -> None:
    i = 11
    lines = list(LINES)
    for key in drop:
        lines[i] = corpus.drop_key(lines[i], key)
    corpus.tried("json/missing")
    result = _read(tmp_path, ("\n".join(lines) + "\n").encode())
    lost = ROWS[i] if lost is None else lost
    assert len(result.frame) == sum(ROWS) - lost
    assert bool(result.skipped) == listed


def _work_dir(tmp_path: Path, lines: list[str]) -> Path:
    """The plateau sample (LR001) with its JSON log replaced by `lines`."""
    src = corpus.SAMPLES / "mmengine_plateau_e4"
    root = tmp_path / "mmengine_plateau_e4"
    shutil.copytree(src, root)
    (ts,) = [p for p in root.iterdir() if p.is_dir()]
    for p in (ts / "vis_data").glob("events.out.tfevents.*"):
        p.unlink()  # the JSON alone is the scalar source
    (ts / "vis_data" / f"{ts.name}.json").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("order", ["duplicated", "reversed", "block-repeated", "shuffled"])
def test_duplicate_and_backwards_steps_keep_the_verdict(tmp_path: Path, order: str) -> None:
    src = corpus.SAMPLES / "mmengine_plateau_e4"
    (ts,) = [p for p in src.iterdir() if p.is_dir()]
    lines = (ts / "vis_data" / f"{ts.name}.json").read_text().splitlines()
    if order == "duplicated":
        lines = [ln for ln in lines for _ in range(2)]
    elif order == "reversed":
        lines = lines[::-1]
    elif order == "block-repeated":
        lines = lines[:100] + lines[60:80] + lines[100:]
    else:
        corpus.rng("shuffle").shuffle(lines)
    corpus.tried("json/order")
    analysis = harness.analyze(_work_dir(tmp_path, lines))
    (result,) = analysis.results
    assert {f.code for f in result.findings} == {"LR001"}
    assert result.run.last_step == 160


def test_cli_on_damaged_json_logs(tmp_path: Path) -> None:
    r = corpus.rng("cli-json")
    cases = [corpus.flip(DATA, r.randrange(len(DATA)), r.randrange(8)) for _ in range(5)]
    cases += [DATA[: r.randrange(len(DATA))] for _ in range(5)]
    cases += [b"", b"\n\n", b"\x00" * 100, b"[1, 2, 3]\n", b'{"lr": 0.1}\n']
    for n, data in enumerate(cases):
        corpus.tried("json/cli")
        root = corpus.place("json", data, tmp_path / f"run{n}")
        res = harness.cli("check", root, "-q", "-f", "json", "--fail-on", "never")
        if res.exit_code == 2:
            assert f"{corpus.TS}.json" in res.stderr
            continue
        (run,) = json.loads(res.stdout)["runs"]
        assert run["skipped"] == sum(
            f["evidence"]["count"] for f in run["findings"] if f["code"] == "RN001"
        )


@pytest.mark.parametrize("token", ["1e19", "-1e19", "9" * 30, "1e400", "NaN", '"7"', "null"])
def test_a_step_out_of_range_costs_its_record_only(tmp_path: Path, token: str) -> None:
    """A step that does not fit the table (int64) must not cost the whole file."""
    i = 5
    lines = [corpus.drop_key(ln, "iter") for ln in LINES]
    lines[i] = corpus.set_value(lines[i], "step", token)
    corpus.tried("json/step")
    result = _read(tmp_path, ("\n".join(lines) + "\n").encode())
    assert len(result.frame) == sum(ROWS) - ROWS[i]
    (skip,) = result.skipped
    assert skip.where == f"line {i + 1}" and "step" in skip.reason

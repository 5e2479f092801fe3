"""The vectorised JSON path (issue 15) reads exactly what the dict paths read: the same frame,
meta and skipped lines on every real log and on generated mmengine-style files, and it is the
path mmengine's own output takes (so the reader's speed cannot silently fall back)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logan.readers import mmengine_json
from tests.conftest import SAMPLES, SHARED


def _exact(path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The reading without the vectorised path (the dict paths alone)."""
    with monkeypatch.context() as patch:
        patch.setattr(mmengine_json, "_vector_columns", lambda raw, path: None)
        return mmengine_json.read(path)


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.frame.attrs == b.frame.attrs
    assert a.meta == b.meta
    assert [(s.where, s.reason) for s in a.skipped] == [(s.where, s.reason) for s in b.skipped]


def _taken(path: Path) -> bool:
    return mmengine_json._vector_columns(path.read_bytes(), path) is not None


def _real_logs() -> list[Path]:
    roots = [SAMPLES] + [SHARED / d for d in ("public_logs", "public_logs_2", "reference_runs")]
    found = set()
    for root in roots:
        if root.is_dir():
            found |= set(root.rglob("vis_data/*.json")) | set(root.rglob("scalars.json"))
    return sorted(found)


def test_every_real_json_log_reads_the_same_both_ways(monkeypatch):
    files = _real_logs()
    assert len(files) >= 10
    for f in files:
        _same(mmengine_json.read(f), _exact(f, monkeypatch))


def test_mmengine_samples_take_the_vectorised_path():
    files = sorted(SAMPLES.rglob("vis_data/*.json"))
    assert files and any(b": NaN" in f.read_bytes() for f in files)
    assert [f for f in files if not _taken(f)] == []


def test_mmengine_own_writer_takes_the_vectorised_path(tmp_path, monkeypatch):
    vis = pytest.importorskip("mmengine.visualization")
    backend = vis.LocalVisBackend(save_dir=str(tmp_path))
    for i in range(1, 301):
        loss = [math.nan, math.inf, -math.inf][i % 3] if i % 50 == 0 else 2.5 / i
        backend.add_scalars(
            {"lr": 0.1 * 0.99**i, "loss": loss, "top-1/acc.": i * 1e-7, "epoch": 1 + i // 100},
            step=i,
        )
        if i % 100 == 0:
            backend.add_scalars({"coco/bbox_mAP": 0.123456789012345678}, step=i // 100)
    path = tmp_path / "scalars.json"
    text = path.read_bytes()
    assert b": NaN" in text and b": -Infinity" in text
    assert _taken(path)
    fast = mmengine_json.read(path)
    _same(fast, _exact(path, monkeypatch))
    loss = fast.frame[fast.frame["tag"] == "loss"]["value"].tolist()
    assert math.isnan(loss[149]) and loss[99] == math.inf and loss[49] == -math.inf
    assert fast.meta == {"epoch_column": "current_1based"}


def test_a_truncated_last_line_is_skipped_by_the_vectorised_path(tmp_path, monkeypatch):
    lines = [json.dumps({"lr": 0.1, "loss": 1.0 / i, "step": i}) for i in range(1, 5)]
    path = tmp_path / "scalars.json"
    path.write_text("\n".join(lines) + "\n" + lines[0][:17])
    assert _taken(path)
    fast = mmengine_json.read(path)
    _same(fast, _exact(path, monkeypatch))
    assert [(s.where, s.reason) for s in fast.skipped] == [("line 5", "truncated last line")]


@pytest.mark.parametrize(
    "odd",
    [
        '{"lr": 0.1, "note": "fine", "step": 9}',  # a string value
        '{"lr": 0.1, "a:b": 1.0, "step": 9}',  # a key holding a colon
        '{"lr": 0.1, "a,b": 1.0, "step": 9}',
        '{"lr": 0.1, "a}b": 1.0, "step": 9}',
        '{"lr": 0.1, "x: 1,y": 2, "step": 9}',  # a key that looks like a value and a comma
        '{"lr": 0.1, "loss": 1.0,\n "step": 9}',  # a record over two lines
        '{"lr": 0.1, "loss": 1.0, "step": 9} {"lr": 0.1, "step": 10}',  # two on one line
        '{"lr": 0.1, "loss": null, "step": 9}',
        '{"lr": 0.1, "loss": true, "step": 9}',
        '{"lr": 0.1, "loss": [1], "step": 9}',
        '{"lr": 0.1, "loss": {"a": 1}, "step": 9}',
        '{"lr": 0.1, "loss": 1e400, "step": 9}',  # inf to json, an error to orjson
        '{"lr": 0.1, "loss": 12345678901234567890123, "step": 9}',
        '{"lr": 0.1, "loss": 9223372036854775808, "step": 9}',  # past int64
        '{"lr": 0.1, "loss": 01, "step": 9}',
        '{"lr": 0.1, "loss": NaNa, "step": 9}',
        '{"lr": 0.1, "loss": Inf, "step": 9}',
        '{"lr": 0.1, "loss": -Infinit, "step": 9}',
        '{"lr": 0.1, "loss": 1, "loss": 2, "step": 9}',  # a duplicate key
        '{"lr": 0.1, "is_true": 1, "step": 9}',  # `true` in a key: the record-by-record path
        '{"lr": 0.1, "lo\\u0073s": 1, "step": 9}',  # an escape
        '{"lr": 0.1, "lo\tss": 1, "step": 9}',  # a control character in a key
        '{"lr": 0.1, "loss": 1, "step": 9, }',
        '{"lr": 0.1, "loss": 1 "step": 9}',
        '{"lr": 0.1, "loss":: 1, "step": 9}',
        '{"lr": 0.1, "loss" 1, "step": 9}',
        '{}',
        "<<<<<<< HEAD",
        '[{"lr": 0.1, "step": 9}]',
        "5",
        '{"lr": 0.1, "step": 99999999999999999999}',
        '{"lr": 0.1, "loss": 2.0}',  # no step
    ],
)
def test_what_the_vectorised_path_cannot_prove_goes_to_the_dict_paths(tmp_path, monkeypatch, odd):
    lines = [json.dumps({"lr": 0.1, "loss": 1.0 / i, "step": i}) for i in range(1, 6)]
    lines.insert(3, odd)
    path = tmp_path / "scalars.json"
    path.write_text("\n".join(lines) + "\n")
    assert not _taken(path)
    _same(mmengine_json.read(path), _exact(path, monkeypatch))


@pytest.mark.parametrize(
    "fine",
    [
        '{"lr":0.1,"loss":-0.0,"step":9}',  # compact separators
        '  {  "lr" :  0.1 ,"loss"\t:1E-7 , "step": 9 }\t\r',
        '{"lr": 0.1, "lo{ss": 1.5e+3, "step": 9}',  # a brace inside a key
        '{"lr": 0.1, "损失/λ": 2.2250738585072014e-308, "step": 9}',
        '{"lr": 0.1, "loss": 4.9e-324, "step": 9}',
        '{"lr": 0.1, "loss": 18446744073709551615.0, "step": 9}',
        '{"lr": 0.1, "loss": -Infinity, "step": 9}',
        "",
        " \t\x0b\x0c",
    ],
)
def test_plain_variations_take_the_vectorised_path(tmp_path, monkeypatch, fine):
    lines = [json.dumps({"lr": 0.1, "loss": 1.0 / i, "step": i}) for i in range(1, 6)]
    lines.insert(3, fine)
    path = tmp_path / "scalars.json"
    path.write_text("\n".join(lines) + "\n")
    assert _taken(path)
    _same(mmengine_json.read(path), _exact(path, monkeypatch))


def test_files_over_many_pieces_read_the_same(tmp_path, monkeypatch):
    """Lines cross no piece boundary: a file several pieces long, with shapes that change."""
    monkeypatch.setattr(mmengine_json, "_CHUNK", 4096)
    lines = []
    for i in range(1, 3000):
        lines.append(json.dumps({"lr": 0.1 / i, "loss": 1.0 / i, "iter": i, "step": i}))
        if i % 7 == 0:
            lines.append(json.dumps({"acc": i / 3, f"k{i % 3}": 1, "step": i // 7}))
    path = tmp_path / "scalars.json"
    path.write_text("\n".join(lines) + "\n")
    assert _taken(path)
    _same(mmengine_json.read(path), _exact(path, monkeypatch))


@pytest.mark.parametrize("damage", ['{"a": 1, 5, "b":', '{"lr": 0.1, "x: 1,y": 2}', "{"])
def test_damage_at_any_piece_boundary_goes_to_the_dict_paths(tmp_path, monkeypatch, damage):
    lines = [json.dumps({"lr": 0.1, "loss": 1.0 / i, "step": i}) for i in range(1, 9)]
    lines.insert(4, damage)
    text = "\n".join(lines) + "\n"
    path = tmp_path / "scalars.json"
    path.write_text(text)
    for chunk in range(len(text) // 3, len(text), 7):  # the damaged line last in a piece, or not
        monkeypatch.setattr(mmengine_json, "_CHUNK", chunk)
        assert not _taken(path)
        _same(mmengine_json.read(path), _exact(path, monkeypatch))


# Keys as training scripts name them (`/`, `.`, digits, unicode), or anything at all.
_PLAIN_KEYS = st.text(st.sampled_from("abcdelrstop_/.-0123456789 λ損失"), max_size=12)
_ANY_KEYS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.integers(-(2**53), 2**53),
    st.sampled_from([0, -0.0, 1e-320, 0.20400000000000001, 9.999999999383149e-05]),
)
_ODD_VALUES = st.one_of(_VALUES, st.integers(-(2**70), 2**70), st.booleans(), st.none())


@st.composite
def _mmengine_files(draw: st.DrawFn) -> tuple[bytes, bool]:
    """(file, whether the vectorised path must take it): records as mmengine's json.dumps
    writes them, with CRLF, blank lines and a truncated last line; or with anything in keys and
    values, a string value, a missing step, which the dict paths may have to read."""
    plain = draw(st.booleans())
    keys = _PLAIN_KEYS if plain else _ANY_KEYS
    values = _VALUES if plain else _ODD_VALUES
    train = draw(st.lists(keys, min_size=1, max_size=5, unique=True))
    val = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
    compact = draw(st.booleans())
    out = []
    for i in range(1, draw(st.integers(1, 25)) + 1):
        record = {k: draw(values) for k in (val if draw(st.integers(0, 4)) == 0 else train)}
        if "lr" not in record and record.keys() != set(val):
            record["lr"] = draw(values)
        if plain or draw(st.integers(0, 20)):
            record["step"] = i
        out.append(
            json.dumps(
                record,
                separators=(",", ":") if compact else None,
                ensure_ascii=not plain and draw(st.booleans()),
            )
        )
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(["", "  ", "\r"])))
    if not plain and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(out) - 1))
        out[at] = json.dumps({"lr": 0.1, "mode": "val", "step": 3})
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(out) + draw(st.sampled_from(["", newline]))
    if draw(st.integers(0, 4)) == 0:  # killed mid-write
        text += newline + out[0][: draw(st.integers(1, max(1, len(out[0]) - 1)))]
    return text.encode(), plain


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_mmengine_files())
def test_generated_mmengine_files_read_the_same_both_ways(tmp_path, monkeypatch, case):
    text, plain = case
    path = tmp_path / "scalars.json"
    path.write_bytes(text)
    if plain and text.strip():
        assert _taken(path)
    _same(mmengine_json.read(path), _exact(path, monkeypatch))

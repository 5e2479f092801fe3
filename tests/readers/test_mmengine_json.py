"""Files with mmengine's bare NaN/Infinity tokens go through orjson after a proven swap of the
tokens (issue 15): exactly the rows the standard-library path reads, and that path for anything
the swap cannot prove."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from logan.readers import mmengine_json
from tests.conftest import SAMPLES

TRAIN = '{"lr": 0.0001, "data_time": 0.002, "loss": %s, "time": 0.2, "epoch": 1, "iter": %d, "memory": 1024, "step": %d}'  # noqa: E501
VAL = '{"accuracy/top1": 51.5, "data_time": 0.01, "time": 0.05, "step": %d}'


def _lines(loss: list[str]) -> list[str]:
    out = []
    for i, v in enumerate(loss, 1):
        out.append(TRAIN % (v, i, i))
        if i % 3 == 0:
            out.append(VAL % (i // 3))
    return out


def _both(tmp_path: Path, text: bytes) -> tuple[bool, object, object]:
    """(bulk path taken, result of read, result with the vectorised and bulk paths disabled)."""
    path = tmp_path / "scalars.json"
    path.write_bytes(text)
    bulk = mmengine_json._bulk_records(text)
    taken = bulk is not None and mmengine_json._fast_dicts(bulk[0], text, bulk[1]) is not None
    fast = mmengine_json.read(path)
    original = mmengine_json._bulk_records, mmengine_json._vector_columns
    try:
        mmengine_json._bulk_records = lambda raw: None  # type: ignore[assignment]
        mmengine_json._vector_columns = lambda raw, path: None  # type: ignore[assignment]
        slow = mmengine_json.read(path)
    finally:
        mmengine_json._bulk_records, mmengine_json._vector_columns = original  # type: ignore[assignment]
    return taken, fast, slow


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.meta == b.meta
    assert [(s.where, s.reason) for s in a.skipped] == [(s.where, s.reason) for s in b.skipped]


def test_bare_nan_and_infinity_tokens_read_exactly(tmp_path):
    loss = ["2.5", "NaN", "Infinity", "-Infinity", "1e-300", "1.7976931348623157e308", "3", "-0.0"]
    text = ("\n".join(_lines(loss)) + "\n").encode()
    taken, fast, slow = _both(tmp_path, text)
    assert taken
    _same(fast, slow)
    got = fast.frame[fast.frame["tag"] == "loss"]["value"].tolist()
    assert math.isnan(got[1]) and got[2] == math.inf and got[3] == -math.inf
    assert got[5] == 1.7976931348623157e308 and math.copysign(1, got[7]) == -1
    # Every value is what json.loads reads from the file.
    for line, value in zip(text.decode().splitlines()[::4], got[::3], strict=False):
        expected = json.loads(line)["loss"]
        assert value == expected or (math.isnan(value) and math.isnan(expected))


@pytest.mark.parametrize(
    "odd",
    [
        '{"lr": 0.1, "mode": "train", "step": 9}',  # a string value
        '{"lr": {"base": 0.1, "head": 0.2}, "step": 9}',  # several optimizers
        '{"lr": 0.1, "loss": null, "step": 9}',
        '{"lr": 0.1, "loss": true, "step": 9}',
        '{"lr": 0.1, "loss": [1, 2], "step": 9}',
        '{"lr": 0.1, "loss": 1.234e308, "step": 9}',  # the file's own copy of the sentinel
        '{"lr": 0.1, "lo\x01ss": 1.0, "step": 9}',  # a control character json refuses
        '{"lr": 0.1, "loss": 1.0, "step": 9',  # truncated
        '{"lr": 0.1, "loss": 1.0, "step": 99999999999999999999999}',
        '{"lr": 0.1, "loss": NaN, "NaN": 1.0, "step": 9}',  # a key named NaN
        '{"lr": 0.1, "note": "x: NaN", "step": 9}',  # a token inside a string
        "",
        "   ",
    ],
)
def test_anything_unusual_reads_as_the_line_by_line_path_does(tmp_path, odd):
    lines = _lines(["2.5", "NaN", "1.5"])
    lines.insert(2, odd)
    taken, fast, slow = _both(tmp_path, ("\n".join(lines) + "\n").encode())
    _same(fast, slow)
    if odd.strip():
        assert not taken


@pytest.mark.parametrize(
    "fine",
    [
        '{"lr": 0.1, "lo\\"ss": 1.0, "step": 9}',  # an escaped quote in a key
        '{"lr": 0.1, "loss": 1.0, "loss": 2.0, "step": 9}',  # duplicate key: both keep the last
        '{"lr": 0.1, "loss": 1.0, "step": 9}\r',
        '{"lr":0.1,"loss":1.0,"step":9}',
    ],
)
def test_json_that_orjson_reads_as_json_does_takes_the_bulk_path(tmp_path, fine):
    lines = _lines(["2.5", "NaN", "1.5"])
    lines.insert(2, fine)
    taken, fast, slow = _both(tmp_path, ("\n".join(lines) + "\n").encode())
    _same(fast, slow)
    assert taken


def test_real_mmengine_logs_take_the_bulk_path_with_the_same_rows(tmp_path):
    files = sorted(SAMPLES.rglob("vis_data/*.json"))
    assert any(b": NaN" in f.read_bytes() for f in files)
    for f in files:
        took, fast, slow = _both(tmp_path, f.read_bytes())
        _same(fast, slow)
        assert took, f

"""The TensorBoard reader on event files written by the real writers, then deliberately damaged.

Files come from torch's SummaryWriter (old- and new-style scalars, text, hparams, histograms) and
from tensorboard's own EventFileWriter with TF2-shaped tensor protos; the bulk decoder is checked
against protobuf, against TensorBoard's EventAccumulator, and against mmengine's JSON log.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logan.readers import tensorboard as tb
from logan.readers._tfrecord import HEADER, scan_frames

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REFERENCE = SHARED / "reference_runs"


# ---------------------------------------------------------------- writers


def _event_file(logdir: Path) -> Path:
    files = sorted(logdir.rglob("events.out.tfevents.*"))
    assert len(files) == 1, files
    return files[0]


def _torch_writer(logdir: Path):
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    return tensorboard.SummaryWriter(str(logdir))


def _lr(step: int) -> float:
    return 0.1 * 0.5 * (1 + np.cos(np.pi * step / 300))


def _write_torch(logdir: Path, steps: int = 300, **kwargs) -> Path:
    w = _torch_writer(logdir)
    for s in range(steps):
        w.add_scalar("train/lr", _lr(s), s, **kwargs)
        w.add_scalar("train/loss", 2.0 / (1 + s), s, **kwargs)
    w.close()
    return _event_file(logdir)


def _tb_writer(logdir: Path):
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return EventFileWriter(str(logdir))


def _tf2_value(tag: str, value: float, dtype: str = "float32", metadata: bool = True):
    """A Summary.Value as TF2's tf.summary.scalar writes it: a 0-d tensor with tensor_content."""
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.compat.proto.types_pb2 import DT_DOUBLE, DT_FLOAT
    from tensorboard.plugins.scalar.metadata import create_summary_metadata

    tensor = TensorProto(
        dtype=DT_FLOAT if dtype == "float32" else DT_DOUBLE,
        tensor_shape=TensorShapeProto(),
        tensor_content=np.array(value, dtype=dtype).tobytes(),
    )
    value_pb = Summary.Value(tag=tag, tensor=tensor)
    if metadata:
        value_pb.metadata.CopyFrom(create_summary_metadata(None, None))
    return value_pb


def _event(step: int, *values, wall: float = 1.7e9):
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    return Event(wall_time=wall + step, step=step, summary=Summary(value=list(values)))


def _records(path: Path) -> list[tuple[int, int]]:
    """(offset, total size) of every record, walked by hand."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, length + HEADER + 4))
        pos += length + HEADER + 4
    return out


def _all_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the reader decode every record with protobuf (no bulk path)."""
    real = tb._fast_layout

    def none(buf, starts, ends, lo, hi):
        return real(buf, starts, ends, lo, lo)

    monkeypatch.setattr(tb, "_fast_layout", none)


# ---------------------------------------------------------------- layouts


def test_torch_old_style_simple_value(tmp_path: Path) -> None:
    path = _write_torch(tmp_path)
    res = tb.read(path, session=3)
    f = res.frame
    assert res.skipped == []
    assert list(f.columns) == ["step", "epoch", "tag", "value", "session", "wall_time"]
    assert len(f) == 600
    assert set(f["tag"]) == {"lr", "loss"}  # canonical names
    lr = f[f["tag"] == "lr"]
    assert lr["step"].tolist() == list(range(300))
    expect = np.array([_lr(s) for s in range(300)], dtype=np.float32).astype(np.float64)
    np.testing.assert_array_equal(lr["value"].to_numpy(), expect)
    assert f["epoch"].isna().all() and (f["session"] == 3).all()
    assert (f["wall_time"] > 1e9).all()
    assert res.meta["file_version"] == "brain.Event:2"
    assert "writer" in res.meta


@pytest.mark.parametrize("double", [False, True])
def test_torch_new_style_tensors(tmp_path: Path, double: bool) -> None:
    path = _write_torch(tmp_path, new_style=True, double_precision=double)
    f = tb.read(path).frame
    assert len(f) == 600
    loss = f[f["tag"] == "loss"]
    dtype = np.float64 if double else np.float32
    expect = np.array([2.0 / (1 + s) for s in range(300)], dtype=dtype).astype(np.float64)
    np.testing.assert_array_equal(loss["value"].to_numpy(), expect)
    assert loss["step"].tolist() == list(range(300))


def test_tf2_tensor_content_and_metadata_stripped(tmp_path: Path) -> None:
    w = _tb_writer(tmp_path)
    for s in range(50):
        w.add_event(_event(s, _tf2_value("learning_rate", 1e-3 * s)))
        w.add_event(_event(s, _tf2_value("loss64", 1.0 / (s + 1), dtype="float64")))
        # TF1 writers keep a tag's metadata on its first value only
        w.add_event(_event(s, _tf2_value("acc", s / 100, metadata=(s == 0))))
    w.close()
    f = tb.read(_event_file(tmp_path)).frame
    assert f.groupby("tag").size().to_dict() == {"acc": 50, "loss64": 50, "lr": 50}
    np.testing.assert_array_equal(
        f.loc[f["tag"] == "lr", "value"], np.array([1e-3 * s for s in range(50)], np.float32)
    )
    np.testing.assert_array_equal(f.loc[f["tag"] == "loss64", "value"], 1.0 / np.arange(1, 51))
    assert f.loc[f["tag"] == "acc", "step"].tolist() == list(range(50))


def test_tensor_without_scalars_plugin_is_not_a_scalar(tmp_path: Path) -> None:
    w = _tb_writer(tmp_path)
    for s in range(5):
        w.add_event(_event(s, _tf2_value("orphan", 1.0, metadata=False)))
        w.add_event(_event(s, _tf2_value("kept", 2.0)))
    w.close()
    f = tb.read(_event_file(tmp_path)).frame
    assert set(f["tag"]) == {"kept"}


def test_several_values_per_event_and_other_plugins(tmp_path: Path) -> None:
    from tensorboard.compat.proto.summary_pb2 import Summary

    w = _tb_writer(tmp_path)
    for s in range(10):
        w.add_event(
            _event(
                s,
                Summary.Value(tag="train/lr", simple_value=0.5),
                Summary.Value(tag="train_loss", simple_value=float(s)),
                _tf2_value("val/acc", 0.25),
            )
        )
    w.close()
    f = tb.read(_event_file(tmp_path)).frame
    assert f["tag"].tolist() == ["lr", "loss", "val/acc"] * 10
    assert f["step"].tolist() == [s for s in range(10) for _ in range(3)]


def test_text_hparams_histograms_and_epoch(tmp_path: Path) -> None:
    w = _torch_writer(tmp_path)
    args = json.dumps({"learning_rate": 5e-5, "num_train_epochs": 3})
    w.add_text("args", args)  # what HF's TensorBoardCallback writes
    for s in range(20):
        w.add_scalar("train/learning_rate", 5e-5, s)
        w.add_scalar("train/epoch", s / 10, s)  # HF: train/epoch; Lightning: epoch
        w.add_histogram("weights", np.arange(10.0) * s, s)
    w.close()
    res = tb.read(_event_file(tmp_path))
    f = res.frame
    assert res.meta["hf_args_text"] == args
    assert f.groupby("tag").size().to_dict() == {"epoch": 20, "lr": 20}
    np.testing.assert_allclose(f.loc[f["tag"] == "epoch", "value"], np.arange(20) / 10, rtol=1e-7)
    assert f["epoch"].isna().all()  # the lead joins the epoch tag

    hp_dir = tmp_path / "hp"
    w = _torch_writer(hp_dir)
    w.add_hparams({"lr": 0.01, "optim": "adamw"}, {"hparam/acc": 0.5})
    w.close()
    files = sorted(hp_dir.rglob("events.out.tfevents.*"))
    metas = [tb.read(p).meta.get("hparams") for p in files]
    assert {"lr": 0.01, "optim": "adamw"} in metas


def test_tags_filter_raw_or_canonical(tmp_path: Path) -> None:
    path = _write_torch(tmp_path, steps=20)
    assert set(tb.read(path, tags=["lr"]).frame["tag"]) == {"lr"}
    assert set(tb.read(path, tags=["train/loss"]).frame["tag"]) == {"loss"}
    assert tb.read(path, tags=[]).frame.empty


def test_bulk_decoder_matches_protobuf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [
        _write_torch(tmp_path / "old"),
        _write_torch(tmp_path / "new", new_style=True),
        _write_torch(tmp_path / "dbl", new_style=True, double_precision=True),
    ]
    w = _tb_writer(tmp_path / "tf2")
    for s in range(0, 100_000, 997):  # steps of 1 to 3 varint bytes
        w.add_event(_event(s, _tf2_value("a", s * 0.5)))
        w.add_event(_event(s, _tf2_value("b" * 60, -s, dtype="float64")))
    w.close()
    paths.append(_event_file(tmp_path / "tf2"))
    w = _torch_writer(tmp_path / "alike")  # tags equal in length and first bytes
    for s in range(500):
        for k in (1, 5):
            w.add_scalar(f"metrics/acc_top{k}", s * k, s)
            w.add_scalar(f"metrics/acc_top{k}", -s * k, s, new_style=True)
    w.close()
    paths.append(_event_file(tmp_path / "alike"))
    fast = [tb.read(p).frame for p in paths]
    monkeypatch.setattr(tb, "BLOCK", 37)  # many blocks, each decoding its own groups
    for p, f in zip(paths, fast, strict=True):
        assert tb.read(p).frame.equals(f), p
    _all_slow(monkeypatch)
    for p, f in zip(paths, fast, strict=True):
        slow = tb.read(p).frame
        assert len(slow) == len(f) > 0
        assert slow.equals(f), p


def test_same_values_as_event_accumulator(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        TENSORS,
        EventAccumulator,
    )
    from tensorboard.util import tensor_util

    w = _torch_writer(tmp_path)
    for s in range(0, 3000, 7):
        w.add_scalar("a/lr", 1 / (s + 1), s)
        w.add_scalar("b/loss", s * 1.5, s, new_style=True)
    w.close()
    path = _event_file(tmp_path)
    f = tb.read(path).frame
    acc = EventAccumulator(str(path), size_guidance={SCALARS: 0, TENSORS: 0}).Reload()
    scalars = acc.Scalars("a/lr")
    tensors = acc.Tensors("b/loss")
    assert len(scalars) == len(tensors) == 429  # all events kept
    for tag, events, values in (
        ("a/lr", scalars, [e.value for e in scalars]),
        ("b/loss", tensors, [float(tensor_util.make_ndarray(e.tensor_proto)) for e in tensors]),
    ):
        ours = f[f["tag"] == tag]
        assert ours["step"].tolist() == [e.step for e in events]
        np.testing.assert_array_equal(ours["value"].to_numpy(), values)
        np.testing.assert_array_equal(ours["wall_time"].to_numpy(), [e.wall_time for e in events])


def test_reference_runs_match_mmengine_json() -> None:
    files = sorted(REFERENCE.glob("*/*/vis_data/events.out.tfevents.*"))
    if not files:
        pytest.skip(f"no reference runs under {REFERENCE}")
    for path in files:
        res = tb.read(path)
        assert res.skipped == []
        lr = res.frame[res.frame["tag"] == "lr"]
        (log,) = [p for p in path.parent.glob("*.json") if p.name != "scalars.json"]
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        want = [(r["step"], r["lr"]) for r in rows if "lr" in r]
        assert lr["step"].tolist() == [s for s, _ in want]
        expect = np.array([v for _, v in want], dtype=np.float32).astype(np.float64)
        np.testing.assert_array_equal(lr["value"].to_numpy(), expect)


# ---------------------------------------------------------------- damage


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        tb.read(tmp_path / "nope")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "events.out.tfevents.0"
    p.write_bytes(b"")
    res = tb.read(p)
    assert res.frame.empty and res.skipped == []


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("small")
    w = _torch_writer(d)
    for s in range(12):
        w.add_scalar("lr", s / 10, s)
        w.add_scalar("loss", s / 3, s, new_style=True)
    w.close()
    return _event_file(d)


def test_truncated_at_every_byte(small_file: Path, tmp_path: Path) -> None:
    data = small_file.read_bytes()
    records = _records(small_file)
    ends = np.cumsum([size for _, size in records])
    first_scalar = 1  # record 0 is the file_version event
    cut_path = tmp_path / "cut.tfevents"
    for cut in range(len(data) + 1):
        cut_path.write_bytes(data[:cut])
        res = tb.read(cut_path)
        complete = int(np.searchsorted(ends, cut, side="right"))
        assert len(res.frame) == max(complete - first_scalar, 0), cut
        on_boundary = cut == 0 or cut in ends
        assert len(res.skipped) == (0 if on_boundary else 1), (cut, res.skipped)
        if not on_boundary:
            assert "truncated" in res.skipped[0].reason
            assert res.skipped[0].where == f"offset {int(ends[complete - 1]) if complete else 0}"


@pytest.fixture(scope="module")
def file_3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("k3")
    w = _torch_writer(d)
    for s in range(3000):
        w.add_scalar("train/lr", _lr(s), s)
    w.close()
    return _event_file(d)


def test_one_flipped_byte_anywhere_in_the_middle_record(file_3000: Path, tmp_path: Path) -> None:
    data = file_3000.read_bytes()
    records = _records(file_3000)
    assert len(records) == 3001
    offset, size = records[1500]
    good = tb.read(file_3000).frame
    for i in range(offset, offset + size):  # length, length CRC, data and data CRC
        damaged = bytearray(data)
        damaged[i] ^= 0x5A
        p = tmp_path / "flip.tfevents"
        p.write_bytes(bytes(damaged))
        res = tb.read(p)
        assert len(res.frame) == 2999, i
        assert len(res.skipped) == 1, (i, res.skipped)
        assert res.skipped[0].where == f"offset {offset}"
        assert res.skipped[0].path == str(p)
        missing = good.drop(index=1499).reset_index(drop=True)
        assert res.frame.equals(missing)


def test_bad_length_crc_resynchronises(file_3000: Path, tmp_path: Path) -> None:
    data = bytearray(file_3000.read_bytes())
    records = _records(file_3000)
    # a bad length CRC on 3 records; the middle one's length also points far away
    for k in (10, 1000, 2000):
        off, _ = records[k]
        data[off + 8] ^= 0xFF
    off, _ = records[1000]
    data[off : off + 8] = struct.pack("<Q", 7)
    p = tmp_path / "lencrc.tfevents"
    p.write_bytes(bytes(data))
    res = tb.read(p)
    assert len(res.frame) == 3000 - 3
    assert [s.where for s in res.skipped] == [f"offset {records[k][0]}" for k in (10, 1000, 2000)]
    assert all("length CRC" in s.reason for s in res.skipped)


def test_garbage_between_before_and_after_records(file_3000: Path, tmp_path: Path) -> None:
    data = file_3000.read_bytes()
    records = _records(file_3000)
    rng = np.random.default_rng(0)
    junk = rng.integers(0, 256, 500, dtype=np.uint8).tobytes()
    cut = records[1500][0]
    p = tmp_path / "junk.tfevents"
    p.write_bytes(junk + data[:cut] + junk + bytes(64) + data[cut:] + junk)
    res = tb.read(p)
    assert len(res.frame) == 3000
    assert [s.where for s in res.skipped] == [
        "offset 0",
        f"offset {cut + 500}",
        f"offset {len(data) + 500 + 564}",
    ]


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), max_size=6))
def test_random_flips_lose_only_the_damaged_records(
    small_file: Path, tmp_path: Path, flips: list[tuple[int, int]]
) -> None:
    original = small_file.read_bytes()
    data = bytearray(original)
    records = _records(small_file)
    starts = np.array([o for o, _ in records])
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    changed = np.flatnonzero(np.frombuffer(original, np.uint8) != np.frombuffer(data, np.uint8))
    hit = {int(i) for i in np.searchsorted(starts, changed, side="right") - 1}
    p = tmp_path / "fuzz.tfevents"
    p.write_bytes(bytes(data))
    res = tb.read(p)
    assert len(res.frame) == len(records) - 1 - len(hit - {0})
    assert len(res.skipped) >= (1 if hit else 0)


def test_scan_frames_counts_records(small_file: Path) -> None:
    data = small_file.read_bytes()
    frames = scan_frames(data)
    assert [int(o) for o in frames.offsets] == [o for o, _ in _records(small_file)]
    assert frames.damaged == []


def test_pure_python_crc_fallback_agrees() -> None:
    from google_crc32c import value

    from logan.readers._tfrecord import _crc_py

    for blob in (b"", b"a", b"brain.Event:2", bytes(range(256)) * 3):
        assert _crc_py(blob) == value(blob)


def test_bulk_walk_and_crcs_equal_one_by_one(file_3000: Path) -> None:
    from google_crc32c import value

    from logan.readers import _tfrecord as tr

    data = file_3000.read_bytes()
    walked, stop, segments = tr._walk(data, tr._Views(data), 0, 10**9)
    assert walked.tolist() == [o for o, _ in _records(file_3000)] and stop == len(data)
    assert sum(count for _, _, count in segments) > 2900  # most records were predicted
    lens = np.diff(np.append(walked, stop)) - 16
    crcs = tr._data_crcs(data, walked, lens, segments)
    pairs = zip(walked.tolist(), lens.tolist(), strict=True)
    assert crcs.tolist() == [value(data[o + 12 : o + 12 + n]) for o, n in pairs]

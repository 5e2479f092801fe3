"""The LLaMA-Factory reader on real `trainer_log.jsonl` files from ../shared/public_logs_2 (both
key formats, eval rows, two writers and an appended continuation, a predict-only output) and on
damaged copies made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logan.readers import llamafactory as lf
from logan.readers.base import ReadResult
from tests.conftest import SAMPLES, SHARED, need

PUBLIC2 = SHARED / "public_logs_2"
RAMEY = PUBLIC2 / "rameyjm7-llamafactory-two-writers" / "trainer_log.jsonl"
XUEH = PUBLIC2 / "xueh-llamafactory-qwen-medical" / "trainer_log.jsonl"
SUZUSHI = PUBLIC2 / "suzushi-llamafactory-lora-3epoch" / "trainer_log.jsonl"
GI7014 = PUBLIC2 / "gi7014-llamafactory-predict-only" / "trainer_log.jsonl"


def _series(result: ReadResult, tag: str) -> list[tuple[int, float]]:
    f = result.frame[result.frame["tag"] == tag]
    return list(zip(f["step"].tolist(), f["value"].tolist(), strict=True))


def test_two_writers_counted_once_and_continuation_is_its_own_segment() -> None:
    r = lf.read(need(RAMEY))
    first, second = r.meta["segments"]
    assert (first.first_step, first.last_step) == (10, 5240)
    assert (second.first_step, second.last_step) == (5010, 6560)
    loss = _series(r, "loss")
    for seg in (first, second):
        steps = r.frame["step"].iloc[seg.start : seg.stop : 2].tolist()  # loss, lr per row
        assert steps == sorted(set(steps)), "a step is counted twice within a segment"
    # 524 + 156 logged steps; the README counts 657 distinct steps (5010-5240 in both segments),
    # one of them the closing row at 6565 without loss.
    assert len(loss) == 524 + 156
    assert len({s for s, _ in loss}) == 657 - 1
    assert r.meta["progress_steps"] == 6565
    # The first writer's value (0.8548) is kept, not the second's (0.8547) nor a mean.
    assert loss[0] == (10, 0.8548)
    assert r.meta["second_writer_rows"] + r.meta["duplicate_rows"] == 1360 - 680 - 1
    assert first.elapsed_s > 22 * 3600 and second.elapsed_s < 7 * 3600
    assert r.skipped == []
    assert (r.meta["max_iters"], r.meta["epoch_length"], r.meta["max_epochs"]) == (6566, 938, 7)
    assert r.meta["stage"] == "train" and r.meta["predict_only"] is False


def test_new_format_eval_rows_share_steps_and_become_val() -> None:
    r = lf.read(need(XUEH))
    val = dict(_series(r, "val/loss"))
    assert sorted(val) == list(range(500, 7000, 500))
    assert val[4500] == pytest.approx(1.5518, abs=1e-4)
    assert val[6500] == pytest.approx(1.5776, abs=1e-4)
    lr = _series(r, "lr")
    assert len(lr) == 675 and lr[-1][0] == 6750
    assert set(r.frame["tag"]) == {"loss", "lr", "val/loss"}
    (seg,) = r.meta["segments"]
    assert (seg.first_step, seg.last_step, seg.total_steps) == (10, 6750, 6750)
    assert r.meta["second_writer_rows"] == 0 and r.meta["duplicate_rows"] == 0
    assert (r.meta["epoch_length"], r.meta["max_epochs"]) == (2250, 3)


def test_2023_format_learning_rate_and_null_keys() -> None:
    r = lf.read(need(SUZUSHI))
    assert set(r.frame["tag"]) == {"loss", "lr"}  # reward/predict_loss/eval_loss are all null
    loss, lr = _series(r, "loss"), _series(r, "lr")
    assert loss[0] == (5, 1.7484) and loss[-1] == (8710, 1.3703)
    assert lr[-1][1] == pytest.approx(2.60072200469752e-11)
    assert r.meta["progress_rows"] == 1  # the closing row with loss: null
    assert (r.meta["max_iters"], r.meta["max_epochs"]) == (8712, 3)
    assert r.skipped == []


def test_predict_only_output_has_no_training_scalars() -> None:
    r = lf.read(need(GI7014))
    assert r.frame.empty and r.skipped == []
    assert r.meta["stage"] == "predict" and r.meta["predict_only"] is True
    assert (r.meta["progress_steps"], r.meta["progress_total_steps"]) == (250, 250)
    assert "max_iters" not in r.meta


@pytest.mark.parametrize("path", [RAMEY, XUEH, SUZUSHI, GI7014])
def test_is_trainer_log_on_real_files_even_cut_short(path: Path) -> None:
    head = need(path).read_bytes()[:4096]
    assert lf.is_trainer_log(head)
    assert lf.is_trainer_log(head[:60])


def test_is_trainer_log_rejects_other_formats() -> None:
    for other in sorted(SAMPLES.rglob("*.json"))[:20] + sorted(SAMPLES.rglob("*.log"))[:5]:
        assert not lf.is_trainer_log(other.read_bytes()[:4096]), other
    assert not lf.is_trainer_log(b"")
    assert not lf.is_trainer_log(b'{"mode": "train", "epoch": 1, "iter": 10}\n')


def _row(step: int, loss: float, elapsed: str | None = "0:01:00", **extra: object) -> str:
    row: dict[str, object] = {"current_steps": step, "total_steps": 100, "loss": loss}
    row.update(lr=1e-4, epoch=step / 50)
    if elapsed is not None:
        row["elapsed_time"] = elapsed
    row.update(extra)
    return json.dumps(row)


def test_crlf_bad_bytes_junk_and_cut_last_line(tmp_path: Path) -> None:
    lines = [
        _row(10, 2.0).encode(),
        b"Traceback (most recent call last):",
        b"[1, 2]",
        b'{"total_steps": 100, "loss": 1.0}',
        _row(20, 1.5, elapsed="0:02:00").encode().replace(b":02:", b":\xff:"),  # still read
        _row(30, 1.2, loss_note="x").encode().replace(b'"loss": 1.2', b'"loss": "nan?"'),
        _row(40, 1.0).encode()[:30],
    ]
    p = tmp_path / "trainer_log.jsonl"
    p.write_bytes(b"\r\n".join(lines))
    r = lf.read(p)
    assert [s for s, _ in _series(r, "loss")] == [10, 20]
    assert [s for s, _ in _series(r, "lr")] == [10, 20, 30]
    reasons = {(s.where, s.reason) for s in r.skipped}
    assert ("line 2", "damaged: not a JSON row") in reasons
    assert ("line 3", "damaged: not a JSON object") in reasons
    assert ("line 4", "damaged: no numeric `current_steps`") in reasons
    assert ("line 6", "damaged: not a number in loss") in reasons
    assert ("line 7", "damaged: truncated last line") in reasons
    assert ("whole file", "damaged: bytes that are not UTF-8 replaced") in reasons
    assert all("damaged" in s.reason for s in r.skipped)


def test_restart_without_clock_and_with_clock(tmp_path: Path) -> None:
    p = tmp_path / "trainer_log.jsonl"
    rows = [_row(10, 2.0, None), _row(20, 1.8, None), _row(10, 2.1, None), _row(20, 1.9, None)]
    p.write_text("\n".join(rows) + "\n")
    r = lf.read(p)
    assert [(s.first_step, s.last_step) for s in r.meta["segments"]] == [(10, 20), (10, 20)]
    assert r.frame["step"].tolist()[::2] == [10, 20, 10, 20]  # file order, not sorted
    # A continuation appended by a new process: its clock restarts though its step advances.
    rows = [_row(10, 2.0, "5:00:00"), _row(20, 1.8, "5:10:00"), _row(30, 1.7, "0:00:40")]
    p.write_text("\n".join(rows) + "\n")
    r = lf.read(p)
    assert [(s.first_step, s.last_step) for s in r.meta["segments"]] == [(10, 20), (30, 30)]


def test_git_conflict_reads_head_side_once(tmp_path: Path) -> None:
    ours = [_row(10, 2.0), _row(20, 1.8)]
    p = tmp_path / "trainer_log.jsonl"
    body = ["<<<<<<< HEAD", *ours, "=======", *ours, ">>>>>>> origin/master"]
    p.write_text("\n".join(body) + "\n")
    r = lf.read(p)
    assert [s for s, _ in _series(r, "loss")] == [10, 20]
    assert [(s.where, s.reason) for s in r.skipped] == [
        ("lines 5-6", "other side of a git conflict left out")
    ]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "trainer_log.jsonl"
    p.write_bytes(b"\r\n")
    r = lf.read(p)
    assert r.frame.empty and r.meta["stage"] == "empty"


def test_parse_elapsed() -> None:
    assert lf.parse_elapsed("1 day, 0:08:23") == 86400 + 503
    assert lf.parse_elapsed("4 days, 7:19:52") == 4 * 86400 + 7 * 3600 + 19 * 60 + 52
    assert lf.parse_elapsed("0:02:38") == 158
    assert lf.parse_elapsed("soon") is None and lf.parse_elapsed(None) is None


def test_any_cut_or_flipped_byte_reads_without_raising(tmp_path: Path) -> None:
    raw = need(XUEH).read_bytes()[:20000]
    p = tmp_path / "trainer_log.jsonl"
    p.write_bytes(raw)
    whole = len(lf.read(p).frame)
    for i, cut in enumerate(range(0, len(raw), 997)):
        p.write_bytes(raw[:cut])
        r = lf.read(p)
        for seg in r.meta.get("segments", []):
            lr = r.frame.iloc[seg.start : seg.stop].query("tag == 'lr'")["step"]
            assert lr.is_monotonic_increasing and lr.is_unique, cut
        flipped = bytearray(raw)
        flipped[cut] = (flipped[cut] + 1 + i) % 256
        p.write_bytes(bytes(flipped))
        r = lf.read(p)
        # One bad byte costs at most two rows (a newline lost joins two) of two scalars each.
        assert len(r.frame) >= whole - 4, cut


def test_progress_counters_are_not_curves(tmp_path: Path) -> None:
    p = tmp_path / "trainer_log.jsonl"
    extra = {"throughput": 812.5, "total_tokens": 40960, "vram_allocated": 9.1, "accuracy": 0.5}
    p.write_text(_row(10, 2.0, **extra) + "\n")
    assert set(lf.read(p).frame["tag"]) == {"loss", "lr", "accuracy"}


def test_odd_total_steps(tmp_path: Path) -> None:
    p = tmp_path / "trainer_log.jsonl"
    rows = [
        '{"current_steps": 5, "total_steps": Infinity, "elapsed_time": "0:00:01"}',
        '{"current_steps": 10, "total_steps": "x", "loss": 1.0, "elapsed_time": "0:00:02"}',
        '{"current_steps": 20, "total_steps": 1e400, "loss": 0.9, "elapsed_time": "0:00:03"}',
    ]
    p.write_text("\n".join(rows) + "\n")
    r = lf.read(p)
    assert r.meta["progress_total_steps"] is None and "max_iters" not in r.meta
    assert [s for s, _ in _series(r, "loss")] == [10, 20]

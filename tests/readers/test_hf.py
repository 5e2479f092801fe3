"""The HF reader on the committed Trainer samples: values, eval entries, epoch length, damage.

The samples were written by transformers' real Trainer (scripts/samples_hf.py); damaged inputs
are made here by cutting or corrupting copies of them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from logan.readers import hf
from logan.readers.base import ReadResult

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
COSINE = SAMPLES / "hf_cosine" / "trainer_state.json"
GRADACCUM = SAMPLES / "hf_linear_gradaccum" / "checkpoint-18" / "trainer_state.json"


def _series(result: ReadResult, tag: str) -> dict[int, float]:
    f = result.frame[result.frame["tag"] == tag]
    return dict(zip(f["step"].tolist(), f["value"].tolist(), strict=True))


def _args_text(sample: str) -> str:
    """The `args/text_summary` text the Trainer's TensorBoard callback wrote."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    (event_file,) = (SAMPLES / sample / "runs" / "tb").glob("events.out.tfevents.*")
    for event in EventFileLoader(str(event_file)).Load():
        for value in event.summary.value:
            if value.tag == "args/text_summary":
                return value.tensor.string_val[0].decode("utf-8")
    raise AssertionError("no args/text_summary in the sample's event file")


def test_cosine_lr_matches_hf_warmup_cosine() -> None:
    r = hf.read(COSINE)
    lr = _series(r, "lr")
    assert sorted(lr) == list(range(1, 31))
    # 30 updates, warmup ceil(0.1 * 30) = 3; the LR logged at step k is the one update k used.
    for k, value in lr.items():
        s = k - 1
        factor = s / 3 if s < 3 else 0.5 * (1 + math.cos(math.pi * (s - 3) / 27))
        assert value == pytest.approx(1e-3 * factor, rel=1e-9, abs=1e-15), k
    assert len(_series(r, "loss")) == 30
    assert len(_series(r, "grad_norm")) == 30


def test_cosine_eval_entries_are_apart_and_summary_is_not_a_curve() -> None:
    r = hf.read(COSINE)
    assert sorted(_series(r, "val/loss")) == [10, 20, 30]
    tags = set(r.frame["tag"])
    assert {"val/runtime", "val/samples_per_second"} <= tags
    assert not {"train_loss", "train_runtime", "total_flos", "epoch", "step"} & tags
    # The summary's train_loss (a mean over training) must not join the loss curve.
    assert r.meta["summary"]["train_loss"] not in _series(r, "loss").values()
    assert r.meta["summary"]["train_runtime"] > 0
    assert r.skipped == []


def test_cosine_meta_and_epoch_column() -> None:
    r = hf.read(COSINE)
    assert r.meta["epoch_length"] == 10
    assert r.meta["max_iters"] == 30 and r.meta["max_steps"] == 30
    assert r.meta["max_epochs"] == 3 and r.meta["num_train_epochs"] == 3
    assert r.meta["logging_steps"] == 1
    lr_rows = r.frame[r.frame["tag"] == "lr"].set_index("step")["epoch"]
    assert lr_rows[1] == pytest.approx(0.1)
    assert lr_rows[10] == 1.0 and lr_rows[30] == 3.0


def test_gradaccum_epoch_length_counts_optimizer_steps() -> None:
    # 11 micro-batches per epoch, accumulated by 2: 6 updates, the last one on a single batch.
    r = hf.read(GRADACCUM)
    assert r.meta["epoch_length"] == 6
    assert r.meta["max_iters"] == 18
    epochs = r.frame[r.frame["tag"] == "loss"].set_index("step")["epoch"]
    assert epochs[1] == pytest.approx(2 / 11)
    assert epochs[6] == 1.0 and epochs[7] == pytest.approx(1 + 2 / 11)


def test_gradaccum_linear_lr_and_no_summary() -> None:
    r = hf.read(GRADACCUM)
    lr = _series(r, "lr")
    assert sorted(lr) == list(range(1, 19))
    # warmup 2 updates, then linear to 0 at update 18 (the last LR used is 1/16 of the peak).
    assert lr[1] == 0.0 and lr[2] == pytest.approx(5e-4) and lr[3] == pytest.approx(1e-3)
    for k in range(3, 19):
        assert lr[k] == pytest.approx(1e-3 * (18 - (k - 1)) / 16)
    assert "summary" not in r.meta  # the checkpoint was saved before the summary was logged
    assert not any(t.startswith("val/") for t in r.frame["tag"])


def test_truncated_state_keeps_complete_entries(tmp_path: Path) -> None:
    raw = COSINE.read_bytes()
    cut = raw.index(b'"step": 13') + 3  # inside the entry of step 13
    damaged = tmp_path / "trainer_state.json"
    damaged.write_bytes(raw[:cut])
    r = hf.read(damaged)
    assert sorted(_series(r, "lr")) == list(range(1, 13))
    assert sorted(_series(r, "val/loss")) == [10]
    assert any("truncated" in s.reason for s in r.skipped)
    assert r.meta["epoch_length"] == 10  # the whole epoch at step 10 survived
    assert "max_steps" not in r.meta  # written after log_history: lost with the cut


def test_non_utf8_bytes_skip_only_the_damaged_entry(tmp_path: Path) -> None:
    raw = COSINE.read_bytes()
    pos = raw.index(b'"learning_rate": 0.000698') + len(b'"learning_rate": 0.')
    damaged = tmp_path / "trainer_state.json"
    damaged.write_bytes(raw[:pos] + b"\xff\xfe" + raw[pos + 2 :])
    r = hf.read(damaged)
    lr = _series(r, "lr")
    assert 14 not in lr and len(lr) == 29
    reasons = [s.reason for s in r.skipped]
    assert any("not UTF-8" in x for x in reasons)
    assert any("damaged" in x for x in reasons)
    assert r.meta["max_steps"] == 30  # top-level facts are still recovered


def test_empty_and_garbage_files_do_not_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    r = hf.read(empty)
    assert r.frame.empty and r.skipped[0].reason == "empty file"
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\x01 not json at all")
    r = hf.read(junk)
    assert r.frame.empty and r.skipped


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        hf.read(tmp_path / "nope.json")


def test_parse_training_args_from_real_event_file() -> None:
    args = hf.parse_training_args(_args_text("hf_cosine"))
    assert args["lr_scheduler_type"] == "cosine"
    assert args["warmup_ratio"] == 0.1 and args["warmup_steps"] == 0
    assert args["num_train_epochs"] == 3 and args["max_steps"] is None
    assert args["gradient_accumulation_steps"] == 1
    assert args["learning_rate"] == 1e-3
    assert args["per_device_train_batch_size"] == 4
    args = hf.parse_training_args(_args_text("hf_linear_gradaccum"))
    assert args["lr_scheduler_type"] == "linear"
    assert args["warmup_steps"] == 2 and args["warmup_ratio"] == 0.0
    assert args["gradient_accumulation_steps"] == 2


def test_parse_training_args_older_spelling_and_damage() -> None:
    real = json.loads(_args_text("hf_cosine"))
    # transformers 4 had both keys; a positive warmup_steps wins over the ratio.
    v4 = {
        **real,
        "warmup_steps": 0,
        "warmup_ratio": 0.05,
        "lr_scheduler_type": "SchedulerType.COSINE",
    }
    args = hf.parse_training_args(json.dumps(v4))
    assert args["warmup_ratio"] == 0.05 and args["warmup_steps"] == 0
    assert args["lr_scheduler_type"] == "cosine"
    args = hf.parse_training_args(json.dumps({**v4, "warmup_steps": 7}))
    assert args["warmup_steps"] == 7 and args["warmup_ratio"] == 0.0
    text = _args_text("hf_cosine")
    cut = hf.parse_training_args(text[: text.index('"optim"')])
    assert cut["lr_scheduler_type"] == "cosine" and cut["learning_rate"] == 1e-3
    assert cut["gradient_accumulation_steps"] is None  # after the cut
    assert hf.parse_training_args("") == hf.parse_training_args("\x00")


@pytest.mark.parametrize("sample", [COSINE, GRADACCUM], ids=["cosine", "gradaccum"])
def test_any_truncation_reads_a_prefix_and_never_raises(sample: Path, tmp_path: Path) -> None:
    raw = sample.read_bytes()
    full = _series(hf.read(sample), "lr")
    damaged = tmp_path / "trainer_state.json"
    for cut in range(0, len(raw), 23):
        damaged.write_bytes(raw[:cut])
        r = hf.read(damaged)
        steps = sorted(_series(r, "lr"))
        assert steps == list(range(1, len(steps) + 1)), cut
        assert all(_series(r, "lr")[s] == full[s] for s in steps)
        assert r.skipped, cut  # a cut file is never reported as clean


# Entries of other kinds that scripts add to `log_history` (issue 11): not damage.
PREDICT_ENTRIES = [
    # Trainer.log(predict metrics): placed at the step it was called at.
    {"epoch": 3.0, "predict_loss": 3.05, "predict_runtime": 0.01, "step": 30},
    # Appended by hand after predict(): no step, so nowhere to put it on the step axis.
    {"predict_bleu-4": 2.22, "predict_rouge-l": 10.55, "predict_runtime": 12.3},
    {"test_accuracy": 0.9},
    {"epoch": 3.0, "eval_loss": 3.1},
    # A summary entry written without a step.
    {"train_runtime": 1.0, "train_loss": 3.0, "train_samples_per_second": 9.0},
]


def test_predict_and_stepless_entries_are_not_damage(tmp_path: Path) -> None:
    state = json.loads(COSINE.read_text())
    state["log_history"] += PREDICT_ENTRIES
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(state, indent=2))
    r, plain = hf.read(path), hf.read(COSINE)
    assert r.skipped == []
    assert _series(r, "val/predict_loss") == {30: 3.05}
    assert r.meta["unplaced_entries"] == {"predict": 2, "eval": 1}
    train = r.frame[~r.frame["tag"].str.startswith("val/")].reset_index(drop=True)
    expect = plain.frame[~plain.frame["tag"].str.startswith("val/")].reset_index(drop=True)
    # Same rows (the tag categories differ: the other file has predict tags too).
    assert train.astype({"tag": str}).equals(expect.astype({"tag": str}))


def test_predict_entries_give_no_rn001(tmp_path: Path) -> None:
    import logan

    state = json.loads(COSINE.read_text())
    state["log_history"] += PREDICT_ENTRIES
    (tmp_path / "trainer_state.json").write_text(json.dumps(state, indent=2))
    (result,) = logan.analyze(tmp_path).results
    assert "RN001" not in {f.code for f in result.findings}
    # A damaged entry still is RN001, and its reason says damage.
    state["log_history"][3]["step"] = "four"
    (tmp_path / "trainer_state.json").write_text(json.dumps(state, indent=2))
    (result,) = logan.analyze(tmp_path).results
    assert "RN001" in {f.code for f in result.findings}
    assert [s.reason for s in result.run.skipped] == ["damaged: entry's `step` is not a number"]


@pytest.mark.parametrize("folder", ["laziestcactus-gpt2-lora-ckpt-only", "suzushi-llamafactory"])
def test_public_trainer_states_have_nothing_skipped(folder: str) -> None:
    from tests.conftest import SHARED, need

    (root,) = need(SHARED / "public_logs_2").glob(folder + "*")
    states = sorted(root.rglob("trainer_state.json"))
    assert len(states) == (16 if folder.startswith("laziest") else 1)
    for state in states:
        r = hf.read(state)
        assert r.skipped == [] and "unplaced_entries" not in r.meta, state
        assert r.meta["max_iters"] in (7843, 1743, 872, 8712)
        last = int(r.frame["step"].max())
        assert 0 <= r.meta["global_step"] - last < r.meta["logging_steps"], state


def test_rounded_epochs_take_the_epoch_length_from_the_state() -> None:
    """2023 transformers rounded `epoch` to 2 decimals: steps 2890-2915 all log 1.0 in suzushi's
    2904-step epochs (8712 steps / 3 epochs, as its trainer_log.jsonl also says)."""
    from tests.conftest import SHARED, need

    state = need(
        SHARED / "public_logs_2" / "suzushi-llamafactory-lora-3epoch" / "trainer_state.json"
    )
    r = hf.read(state)
    assert (r.meta["epoch_length"], r.meta["max_epochs"]) == (2904, 3)

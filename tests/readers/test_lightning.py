"""The Lightning reader on the committed CSVLogger samples: LR shapes, sparse rows, epochs, damage.

The samples were written by Lightning's real CSVLogger and LearningRateMonitor
(scripts/samples_lightning.py); damaged inputs are made here from copies of them.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from logan.readers import lightning
from logan.readers.base import ReadResult

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
ETA_MIN, BASE_LR, TOTAL = 1e-6, 1e-3, 40


def _csv(sample: str) -> Path:
    return SAMPLES / sample / "lightning_logs" / "version_0" / "metrics.csv"


def _series(result: ReadResult, tag: str) -> dict[int, float]:
    f = result.frame[result.frame["tag"] == tag]
    return dict(zip(f["step"].tolist(), f["value"].tolist(), strict=True))


def _cosine(step: int, t_max: int, base: float = BASE_LR) -> float:
    return ETA_MIN + (base - ETA_MIN) * (1 + math.cos(math.pi * step / t_max)) / 2


def test_healthy_lr_follows_cosine_over_all_steps() -> None:
    r = lightning.read(_csv("lightning_healthy"))
    lr = _series(r, "lr")
    # Lightning's step 0 is update 1: logan counts updates from 1.
    assert sorted(lr) == list(range(1, TOTAL + 1))
    for step, value in lr.items():
        assert value == pytest.approx(_cosine(step - 1, TOTAL), rel=1e-9), step
    # LearningRateMonitor's pg2 (counted from 1) is the second parameter group: lr/pg1.
    pg1 = _series(r, "lr/pg1")
    assert pg1[1] == pytest.approx(1e-4)
    assert pg1[40] == pytest.approx(_cosine(39, TOTAL, base=1e-4))
    assert "lr-AdamW/pg1" not in set(r.frame["tag"])


def test_cycles_lr_goes_down_and_up_every_eight_steps() -> None:
    # T_max = 4 (the epoch count) stepped per step: a period of 8 steps, 5 cycles.
    lr = _series(lightning.read(_csv("lightning_cycles")), "lr")
    assert [s for s, v in lr.items() if v == pytest.approx(ETA_MIN)] == [5, 13, 21, 29, 37]
    assert [s for s, v in lr.items() if v == pytest.approx(BASE_LR)] == [1, 9, 17, 25, 33]
    for step, value in lr.items():
        assert value == pytest.approx(_cosine(step - 1, 4), rel=1e-9)


def test_per_epoch_stepped_lr_moves_only_at_epoch_boundaries() -> None:
    lr = _series(lightning.read(_csv("lightning_per_epoch_stepped")), "lr")
    # Updates 1-10 use the first LR, update 11 the next: like mmengine's per-epoch schedulers.
    changes = [s for s in range(2, TOTAL + 1) if lr[s] != lr[s - 1]]
    assert changes == [11, 21, 31]
    for step, value in lr.items():
        assert value == pytest.approx(_cosine((step - 1) // 10, TOTAL), rel=1e-9)
    assert min(lr.values()) / max(lr.values()) > 0.98  # barely moved in 40 steps


def test_sparse_rows_epoch_length_and_validation() -> None:
    path = _csv("lightning_cycles")
    n_rows = len(path.read_text().splitlines()) - 1
    r = lightning.read(path)
    assert n_rows == 84  # 40 LR rows + 40 loss rows + 4 validation rows, each with one metric
    assert len(r.frame) == 84
    assert set(r.frame["tag"]) == {"lr", "loss", "val/loss"}
    assert sorted(_series(r, "val/loss")) == [10, 20, 30, 40]
    assert r.meta["epoch_length"] == 10 and r.meta["step_shift"] == 1
    # Epochs completed at the end of the step, for LR rows too (their epoch cell is empty).
    lr_epochs = r.frame[r.frame["tag"] == "lr"].set_index("step")["epoch"]
    assert lr_epochs[1] == pytest.approx(0.1) and lr_epochs[10] == 1.0 and lr_epochs[40] == 4.0
    assert r.skipped == []


def test_hparams_read_as_config() -> None:
    r = lightning.read(_csv("lightning_per_epoch_stepped"))
    assert r.meta["config"] == {
        "bias_lr_factor": None,
        "eta_min": 1e-6,
        "interval": None,
        "lr": 1e-3,
        "optimizer": "SGD",
        "t_max": 40,
    }


def _keep_steps(tmp_path: Path, keep) -> Path:
    """A copy of the healthy sample with only the rows whose step passes `keep`."""
    lines = _csv("lightning_healthy").read_text().splitlines()
    i_step = lines[0].split(",").index("step")
    kept = [lines[0]] + [ln for ln in lines[1:] if keep(int(ln.split(",")[i_step]))]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(kept) + "\n")
    return path


def test_sparse_logging_still_pins_the_epoch_length(tmp_path: Path) -> None:
    # As if log_every_n_steps=3: Lightning steps 2, 5, 8, ... still pin the length to exactly 10.
    r = lightning.read(_keep_steps(tmp_path, lambda s: s % 3 == 2))
    assert r.meta["epoch_length"] == 10
    assert sorted(_series(r, "lr")) == list(range(3, TOTAL + 1, 3))


def test_too_sparse_logging_gives_a_range_not_a_guess(tmp_path: Path) -> None:
    # Lightning steps 5 (epoch 0) and 25 (epoch 2) only allow 9 <= length <= 12.
    r = lightning.read(_keep_steps(tmp_path, lambda s: s in (5, 25)))
    assert "epoch_length" not in r.meta
    assert r.meta["epoch_length_range"] == (9, 12)
    assert r.frame["epoch"].isna().all()


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    raw = _csv("lightning_healthy").read_bytes()
    path = tmp_path / "metrics.csv"
    path.write_bytes(raw[: raw.rindex(b"0.00097555") + 6])  # inside the LR row of step 4
    r = lightning.read(path)
    assert sorted(_series(r, "lr")) == [1, 2, 3, 4]
    assert sorted(_series(r, "loss")) == [1, 2, 3, 4]
    assert [s.reason for s in r.skipped] == ["truncated last line"]


def test_non_utf8_cell_skips_only_its_row(tmp_path: Path) -> None:
    raw = _csv("lightning_cycles").read_bytes()
    start = raw.index(b",0.0005005")
    path = tmp_path / "metrics.csv"
    path.write_bytes(raw[: start + 1] + b"\xff\xfe" + raw[start + 3 :])
    r = lightning.read(path)
    lr = _series(r, "lr")
    assert 3 not in lr and len(lr) == 39
    reasons = " | ".join(s.reason for s in r.skipped)
    assert "not UTF-8" in reasons and "not a number in lr-AdamW" in reasons


def test_empty_and_headerless_files_do_not_raise(tmp_path: Path) -> None:
    empty = tmp_path / "metrics.csv"
    empty.write_bytes(b"")
    r = lightning.read(empty)
    assert r.frame.empty and r.skipped[0].reason == "empty file"
    other = tmp_path / "other.csv"
    other.write_bytes(b"a,b\n1,2\n")
    r = lightning.read(other)
    assert r.frame.empty and "no `step` column" in r.skipped[0].reason


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        lightning.read(tmp_path / "metrics.csv")


def test_hparams_python_tags_are_read_as_data_not_executed(tmp_path: Path) -> None:
    folder = tmp_path / "version_0"
    shutil.copytree(_csv("lightning_cycles").parent, folder)
    marker = tmp_path / "executed"
    (folder / "hparams.yaml").write_text(
        "lr: 0.001\n"
        "ns: !!python/object:argparse.Namespace\n  x: 1\n"
        "tup: !!python/tuple\n- 1\n- 2\n"
        f"boom: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    r = lightning.read(folder / "metrics.csv")
    assert not marker.exists()
    config = r.meta["config"]
    assert config["lr"] == 0.001 and config["ns"] == {"x": 1} and config["tup"] == [1, 2]
    assert len(_series(r, "lr")) == TOTAL


def test_broken_hparams_is_a_skip_not_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "version_0"
    shutil.copytree(_csv("lightning_cycles").parent, folder)
    (folder / "hparams.yaml").write_text("lr: [0.001\n  t_max: {")
    r = lightning.read(folder / "metrics.csv")
    assert "config" not in r.meta
    assert any(s.path.endswith("hparams.yaml") for s in r.skipped)
    assert len(_series(r, "lr")) == TOTAL


def test_any_truncation_reads_a_prefix_and_never_raises(tmp_path: Path) -> None:
    raw = _csv("lightning_healthy").read_bytes()
    full = _series(lightning.read(_csv("lightning_healthy")), "lr")
    path = tmp_path / "metrics.csv"
    for cut in range(0, len(raw), 7):
        path.write_bytes(raw[:cut])
        r = lightning.read(path)
        lr = _series(r, "lr")
        assert sorted(lr) == list(range(1, len(lr) + 1)), cut
        assert all(lr[s] == full[s] for s in lr), cut


# ---- lightning_stage: fit, test, validate or empty (issue 11) --------------------------------

PUBLIC2 = SAMPLES.parents[1] / "shared" / "public_logs_2"
# version -> stage of each event file in suffix order, from the folder README.
BULLSEYE_STAGES = {
    **dict.fromkeys((2, 3, 4, 11, 16, 17, 18), ["empty"]),
    **dict.fromkeys((5, 6, 19), ["fit"]),
    **dict.fromkeys((0, 1, 7, 8, 9, 10, 12, 14, 15, 20), ["fit", "test"]),
    13: ["fit", "test", "test"],
}
DEBAJYOTI_STAGES = {0: ["empty"], 1: ["fit", "test"], 2: ["empty"], 3: ["fit", "test"]}


def _event_stages(version: Path) -> list[str]:
    from logan.readers import tensorboard

    files = sorted(version.glob("events.out.tfevents.*"), key=lambda p: int(p.suffix[1:]))
    return [lightning.lightning_stage(tensorboard.read(f)) for f in files]


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("bullseye-lightning-tb-test-events", BULLSEYE_STAGES),
        ("debajyoti-lightning-tb-nan", DEBAJYOTI_STAGES),
    ],
)
def test_lightning_stage_of_every_event_file(folder: str, expected: dict[int, list[str]]) -> None:
    if not PUBLIC2.is_dir():
        pytest.skip(f"{PUBLIC2} not present")
    root = PUBLIC2 / folder / "lightning_logs"
    got = {int(v.name.split("_")[1]): _event_stages(v) for v in root.glob("version_*")}
    assert got == expected


def test_test_file_steps_lie_past_the_fit() -> None:
    """Why the test file must not be a session: its step would extend the run by one."""
    from logan.readers import tensorboard

    version = PUBLIC2 / "debajyoti-lightning-tb-nan" / "lightning_logs" / "version_1"
    if not version.is_dir():
        pytest.skip(f"{version} not present")
    fit, test = (tensorboard.read(f) for f in sorted(version.glob("events.*")))
    assert set(test.frame["tag"]) == {
        "epoch",
        "summary/hp_metric",
        "val/test_accuracy",
        "val/test_f1_score",
        "val/test_loss",
    }
    assert fit.frame["step"].max() == 499 and test.frame["step"].max() == 540


def _keep_rows(src: Path, dst: Path, keep: str) -> Path:
    """A metrics.csv with the header and only the rows that have a cell in columns `keep*`."""
    lines = src.read_text().splitlines()
    header = lines[0].split(",")
    cols = [i for i, h in enumerate(header) if h.startswith(keep)]
    rows = [ln for ln in lines[1:] if any(ln.split(",")[i] for i in cols)]
    dst.write_text("\n".join([lines[0], *rows]) + "\n")
    return dst


def test_lightning_stage_of_csv_rows(tmp_path: Path) -> None:
    src = PUBLIC2 / "rohith-lightning-csv-nan" / "lightning_logs" / "version_4" / "metrics.csv"
    if not src.is_file():
        pytest.skip(f"{src} not present")
    full = lightning.read(src)
    assert lightning.lightning_stage(full) == "fit"
    test_rows = [t for t in full.frame["tag"] if lightning.tag_stage(t) == "test"]
    assert sorted(set(test_rows)) == [
        "val/test_Class_Accuracy",
        "val/test_No_Obj_Accuracy",
        "val/test_Obj_Accuracy",
    ]
    test_only = lightning.read(_keep_rows(src, tmp_path / "metrics.csv", "test_"))
    assert lightning.lightning_stage(test_only) == "test"
    val_only = lightning.read(_keep_rows(src, tmp_path / "metrics.csv", "val_"))
    assert len(val_only.frame) == 120
    assert lightning.lightning_stage(val_only) == "validate"
    header_only = lightning.read(_keep_rows(src, tmp_path / "metrics.csv", "nothing"))
    assert lightning.lightning_stage(header_only) == "empty"


def test_tag_stage_names() -> None:
    stage = lightning.tag_stage
    assert [stage(t) for t in ("hp_metric", "epoch")] == ["", ""]
    assert [stage(t) for t in ("test_acc", "val/test_acc", "test/loss")] == ["test"] * 3
    assert [stage(t) for t in ("val/acc", "val_loss", "valid_f1", "eval_loss")] == ["validate"] * 4
    assert [stage(t) for t in ("loss_step", "acc_epoch", "lr", "train_loss")] == ["train"] * 4
    # `latest`, `contest` and `testing_rate` are not the word "test".
    assert stage("latest_loss") == "train" and stage("contest") == "train"

"""Formats told by content on real files from ../shared/public_logs_2 (renamed, flattened, merged
by hand), and text-log sessions told apart: training, test-only, ended before training."""

from __future__ import annotations

from pathlib import Path

import pytest

from logan.readers.sniff import SNIFF_BYTES, Format, TextStage, scan_text_log, sniff
from tests.conftest import SAMPLES, SHARED, need

PUBLIC2 = SHARED / "public_logs_2"
ROGER = "rogerlv51-camp-renamed-logs"
LYC = "lyc686-mmdet2-voc-flat-log"
VITANCO = "vitanco-swinv2-isic-workdir"
DJGQ = "djgq2020-mmseg-pspnet-tutorial/tutorial"

FORMATS = {
    f"{ROGER}/lab_first_assignment/rtmdet_train_20230603_192021.log": Format.MMENGINE_TEXT,
    f"{ROGER}/lab_first_assignment/rtmpose_test_20230604_142716.log": Format.MMENGINE_TEXT,
    # A text log alone in a renamed folder, no vis_data: mmengine by its content.
    f"{ROGER}/lab_forth_assignment/train_log/20230613_134700.log": Format.MMENGINE_TEXT,
    f"{ROGER}/lab_forth_assignment/test_log/20230613_141340.json": Format.MMENGINE_RESULT,
    f"{LYC}/20230209_225526.log": Format.MMCV_TEXT,
    f"{LYC}/20230209_182059.log": Format.MMCV_TEXT,  # ends at "Set random seed"
    f"{LYC}/20230209_225526.log.json": Format.MMCV_JSON,
    f"{LYC}/20230209_205213.log.json": Format.MMCV_JSON,  # the env_info line only
    f"{VITANCO}/20230511_032022/20230511_032022.log": Format.MMENGINE_TEXT,  # CRLF
    f"{VITANCO}/20230511_032022/vis_data/scalars.json": Format.MMENGINE_JSON,
    f"{VITANCO}/test/20230511_084918/20230511_084918.json": Format.MMENGINE_RESULT,
    f"{DJGQ}/20230211_105727/vis_data/20230211_105727.json": Format.MMENGINE_JSON,
    "tranquanglam-m2f-0523-misnamed/scalars..json": Format.MMENGINE_JSON,
    # Git conflict markers before the first record.
    "piguaizjx-merge-conflict-workdir/20230608_171321/vis_data/scalars.json": Format.MMENGINE_JSON,
    "piguaizjx-merge-conflict-workdir/20230608_171321/20230608_171321.log": Format.MMENGINE_TEXT,
    "xueh-llamafactory-qwen-medical/trainer_log.jsonl": Format.LLAMAFACTORY,
    "gi7014-llamafactory-predict-only/trainer_log.jsonl": Format.LLAMAFACTORY,
    "suzushi-llamafactory-lora-3epoch/trainer_state.json": Format.HF_STATE,
    "laziestcactus-gpt2-lora-ckpt-only/results/checkpoint-872/trainer_state.json": Format.HF_STATE,
    # Not logs: configs, results and checkpoints pointers beside them.
    "xueh-llamafactory-qwen-medical/all_results.json": None,
    "xueh-llamafactory-qwen-medical/adapter_config.json": None,
    "rameyjm7-llamafactory-two-writers/my_dz_twoGPU.json": None,
    "gi7014-llamafactory-predict-only/running_log.txt": None,
    "rohith-lightning-csv-nan/lightning_logs/version_4/metrics.csv": None,
    f"{DJGQ}/last_checkpoint": None,
    f"{DJGQ}/new_cfg.py": None,
    "djgq2020-mmseg-pspnet-tutorial/new_cfg/fps_20230211_114920.json": None,
}


@pytest.mark.parametrize("rel", sorted(FORMATS))
def test_sniff_real_files(rel: str) -> None:
    path = need(PUBLIC2 / rel)
    assert sniff(path.read_bytes()[:SNIFF_BYTES]) == FORMATS[rel]


def test_sniff_short_or_odd_heads() -> None:
    assert sniff(b"") is None and sniff(b"\xef\xbb\xbf  \r\n") is None
    assert sniff(b'{"lr": 0.1, "step": 10, "loss": 2.') == Format.MMENGINE_JSON  # cut line
    assert sniff(b'{"mode": "train", "epoch": 1, "iter": 50}\n') == Format.MMCV_JSON
    assert sniff(b'{"name": "x", "value": 1}\n') is None
    assert sniff(b'{\n  "best_metric": null,\n  "epoch": 3.0,\n') == Format.HF_STATE
    # Pasted console output without timestamps.
    line = b"Epoch(train)  [1][ 50/100]  lr: 1.0000e-02  eta: 0:01:00  loss: 1.0\n"
    assert sniff(line) == Format.MMENGINE_TEXT
    line = b"Epoch [1][50/100]\tlr: 1.000e-02, eta: 0:01:00, loss: 1.0\n"
    assert sniff(line) == Format.MMCV_TEXT


def test_docs_quoting_log_lines_are_not_logs() -> None:
    readme = SAMPLES / "README.md"  # quotes `Iter(train) [k/90]` in a table
    assert sniff(readme.read_bytes()[:SNIFF_BYTES]) is None
    assert scan_text_log(readme).stage is TextStage.EMPTY
    assert sniff(b"See how `Epoch(train) [1][ 50/100]` lines look.\n") is None


def test_sniff_committed_samples() -> None:
    """Every text log and JSON scalar log in sample_logs is recognised as what its folder says."""
    for log in sorted(SAMPLES.rglob("*.log")):
        fmt = sniff(log.read_bytes()[:SNIFF_BYTES])
        assert fmt in (Format.MMENGINE_TEXT, Format.MMCV_TEXT), log
    for scalars in sorted(SAMPLES.rglob("scalars.json")):
        assert sniff(scalars.read_bytes()[:SNIFF_BYTES]) == Format.MMENGINE_JSON, scalars


def _stage(rel: str) -> TextStage:
    return scan_text_log(need(PUBLIC2 / rel)).stage


def test_vitanco_sessions_without_a_training_line() -> None:
    root = need(PUBLIC2 / VITANCO)
    stages = {p.parent.name: scan_text_log(p).stage for p in root.glob("2*/*.log")}
    none = sorted(name for name, st in stages.items() if st is TextStage.NO_TRAINING)
    assert len(none) == 11 and len(stages) == 18
    assert {st for name, st in stages.items() if name not in none} == {TextStage.TRAIN}
    assert _stage(f"{VITANCO}/test/20230511_084918/20230511_084918.log") is TextStage.TEST
    killed = scan_text_log(root / "20230511_020518" / "20230511_020518.log")
    assert (killed.train_lines, killed.val_lines, killed.test_lines) == (6, 0, 0)  # [1][600/2504]


def test_djgq2020_test_session_and_sessions_that_stopped_after_the_hook_dump() -> None:
    test = scan_text_log(need(PUBLIC2 / DJGQ / "20230211_114616" / "20230211_114616.log"))
    assert test.test_only and not test.ended_before_training and test.format is Format.MMENGINE_TEXT
    for ts in ("20230211_110629", "20230211_114011"):
        scan = scan_text_log(PUBLIC2 / DJGQ / ts / f"{ts}.log")
        assert scan.ended_before_training and not scan.test_only
    train = scan_text_log(PUBLIC2 / DJGQ / "20230211_105727" / "20230211_105727.log")
    # 800 iterations logged every 100, validation at 400 and 800.
    assert (train.stage, train.train_lines) == (TextStage.TRAIN, 8)


def test_rogerlv51_renamed_logs() -> None:
    first = f"{ROGER}/lab_first_assignment"
    assert _stage(f"{first}/rtmdet_train_20230603_192021.log") is TextStage.TRAIN
    assert _stage(f"{first}/rtmdet_test_20230603_214254.log") is TextStage.TEST
    assert _stage(f"{first}/rtmpose_train_20230603_222429.log") is TextStage.TRAIN
    assert _stage(f"{first}/rtmpose_test_20230604_142716.log") is TextStage.TEST
    rtmdet = scan_text_log(PUBLIC2 / first / "rtmdet_train_20230603_192021.log")
    assert rtmdet.train_lines == 4200  # the README's 4200 train lines
    for lab in ("second", "third", "forth"):
        root = PUBLIC2 / ROGER / f"lab_{lab}_assignment"
        (train,) = root.glob("train_log/*.log")
        (test,) = root.glob("test_log/*.log")
        assert (scan_text_log(train).stage, scan_text_log(test).stage) == (
            TextStage.TRAIN,
            TextStage.TEST,
        )


def test_lyc686_flat_mmcv_logs() -> None:
    root = need(PUBLIC2 / LYC)
    scans = {p.name: scan_text_log(p) for p in root.glob("*.log")}
    assert {s.format for s in scans.values()} == {Format.MMCV_TEXT}
    trained = sorted(name for name, s in scans.items() if s.stage is TextStage.TRAIN)
    # 3 short attempts and the full run; 5 + 13 sessions stopped before the first train line.
    assert trained == [
        "20230209_191410.log",
        "20230209_223549.log",
        "20230209_224222.log",
        "20230209_225526.log",
    ]
    assert sum(s.ended_before_training for s in scans.values()) == 18
    full = scans["20230209_225526.log"]
    assert (full.train_lines, full.val_lines) == (85, 1)  # [1][100..8500/8576], one val


def test_scan_crlf_bad_bytes_and_unknown_text(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_bytes(
        b"2023/06/13 13:47:00 - mmengine - INFO - \xff\xfe config\r\n"
        b"2023/06/13 13:47:07 - mmengine - INFO - Iter(train) [ 6/20]  lr: 1e-2\r\n"
        b"2023/06/13 13:48:07 - mmengine - INFO - Iter(val) [11/11]  mIoU: 46.0\r\n"
    )
    scan = scan_text_log(log)
    assert (scan.stage, scan.train_lines, scan.val_lines, scan.first_train_line) == (
        TextStage.TRAIN,
        1,
        1,
        2,
    )
    other = tmp_path / "notes.txt"
    other.write_bytes(b"nothing to see\n")
    assert scan_text_log(other).stage is TextStage.EMPTY
    val = tmp_path / "val.log"
    val.write_bytes(b"2023/06/13 13:48:07 - mmengine - INFO - Epoch(val) [1][11/11]  acc: 4\n")
    assert scan_text_log(val).stage is TextStage.VAL


def test_sniff_and_scan_never_raise_on_noise(tmp_path: Path) -> None:
    import random

    rng = random.Random(11)
    seeds = [
        b"{",
        b'{"step',
        b"<<<<<<< HEAD\n",
        b"2023/06/13 13:47:00 - x - INFO - ",
        b"\xef\xbb\xbf",
    ]
    for i in range(300):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        data = rng.choice(seeds) + noise
        fmt = sniff(data)
        assert fmt is None or isinstance(fmt, Format)
        if i % 30 == 0:
            p = tmp_path / f"{i}.log"
            p.write_bytes(data)
            assert isinstance(scan_text_log(p).stage, TextStage)

"""mmengine text-log reader against real logs: the JSON written by the same run is the truth.

The reference runs and public logs live in `../shared` (a sibling of the repo); tests skip when it
is absent. Damaged inputs are real logs with bytes cut, replaced or inserted in a temp dir.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logan.readers.mmengine_text import read

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PUBLIC = SHARED / "public_logs"
REFERENCE = SHARED / "reference_runs"
SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"  # real mmengine 0.10.7 runs
# A 1 MB log must read well under this (40-80 ms on a shared 2-core box, 160 ms under load 3);
# generous so that a loaded CI machine does not fail it, tight enough to catch row-by-row pandas.
MAX_SECONDS_1MB = 0.5


def text_logs(root: Path) -> list[Path]:
    return sorted(root.glob("*/*/*.log")) if root.is_dir() else []


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def json_records(path: Path) -> list[dict]:
    """mmengine's vis_data JSON, parsed plainly (Python's json takes its bare NaN tokens)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def vis_json(log: Path) -> Path:
    return log.parent / "vis_data" / (log.stem + ".json")


def printed(value: float, digits: int, exp: bool) -> float:
    """The value as mmengine prints it in the text log."""
    return float(f"{value:.{digits}e}" if exp else f"{value:.{digits}f}")


def rows_by_tag(frame, tag: str) -> dict[int, float]:
    sub = frame[frame["tag"] == tag]
    return dict(zip(sub["step"].tolist(), sub["value"].tolist(), strict=True))


ALL_LOGS = text_logs(REFERENCE) + text_logs(PUBLIC) + text_logs(SAMPLES)
WITH_JSON = [p for p in ALL_LOGS if vis_json(p).exists()]


@pytest.mark.parametrize("log", WITH_JSON, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}")
def test_text_gives_the_json_steps_and_values_to_printed_precision(log: Path) -> None:
    result = read(log)
    digits = result.meta["significant_digits"] - 1
    frame = result.frame
    train = [r for r in json_records(vis_json(log)) if "lr" in r]
    assert train, "the JSON has training records"
    lr = rows_by_tag(frame, "lr")
    assert sorted(lr) == sorted(r["step"] for r in train)
    for rec in train:
        assert lr[rec["step"]] == printed(rec["lr"], digits, exp=True), rec
    loss = rows_by_tag(frame, "loss")
    for rec in train:
        if "loss" in rec and not math.isnan(rec["loss"]):
            assert loss[rec["step"]] == printed(rec["loss"], digits, exp=False), rec
    assert not result.skipped


@pytest.mark.parametrize("log", WITH_JSON, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}")
def test_validation_summaries_match_the_json(log: Path) -> None:
    result = read(log)
    digits = result.meta["significant_digits"] - 1
    val_records = [r for r in json_records(vis_json(log)) if "lr" not in r]
    frame = result.frame
    for key in {k for r in val_records for k in r if k != "step"}:
        expected = [printed(r[key], digits, exp=False) for r in val_records if key in r]
        got = frame.loc[frame["tag"] == f"val/{key}"].sort_values("step")["value"].tolist()
        assert got == expected, key
    if not val_records:
        assert not frame["tag"].str.startswith("val/").any()


def test_validation_rows_sit_at_the_training_step_where_validation_ran() -> None:
    """Epoch-based: e * N; iteration-based: the iteration the JSON gives."""
    log = needs(PUBLIC / "openmmlabcamp-homework-2-train/20230606_164304/20230606_164304.log")
    frame = read(log).frame
    top1 = frame[frame["tag"] == "val/accuracy/top1"]
    assert top1["step"].tolist() == [e * 109 for e in range(1, 101)]
    assert top1["epoch"].tolist() == [float(e) for e in range(1, 101)]
    log = needs(PUBLIC / "openmmlabcamp-homework-4-Watermelon/20230613_000916/20230613_000916.log")
    miou = read(log).frame.query("tag == 'val/mIoU'")
    json_steps = [r["step"] for r in json_records(vis_json(log)) if "mIoU" in r]
    assert miou["step"].tolist() == json_steps == [500, 1000, 1500, 2000, 2500, 3000]


def test_validation_progress_lines_are_left_out() -> None:
    log = needs(PUBLIC / "openmmlabcamp-mmdetection_train/20230604_173810/20230604_173810.log")
    frame = read(log).frame
    val_tags = {t for t in frame["tag"].unique() if t.startswith("val/")}
    assert "val/memory" not in val_tags and "val/eta" not in val_tags
    # One row per validation summary (57 of them), none from the 11 progress lines before each.
    summaries = log.read_bytes().count(b"coco/bbox_mAP: ")
    assert summaries == 57
    assert (frame["tag"] == "val/coco/bbox_mAP").sum() == summaries
    assert (frame["tag"] == "val/time").sum() == summaries


# folder -> (by_epoch, epoch_length or max_iters, last train step, mmengine version, lr precision)
PUBLIC_FACTS = {
    "openmmlabcamp-mmdetection_train": (True, 21, 4200, "0.7.1", 1e-4),
    "openmmlabcamp-mmpose_train": (True, 6, 1800, "0.7.1", 1e-6),
    "openmmlabcamp-homework-2-train": (True, 109, 99 * 109 + 100, "0.7.1", 1e-4),
    "openmmlabcamp-homework-2-train_lr0.01_epoch10": (True, 109, 9 * 109 + 100, "0.7.1", 1e-4),
    "openmmlabcamp-homework-3-train": (True, 6, 39 * 6 + 5, "0.7.1", 1e-4),
    "openmmlabcamp-homework-4-Watermelon": (False, 3000, 3000, "0.7.1", 1e-4),
    "xtuner-internvl_qlora_ft": (False, 2000, 2000, "0.10.4", 1e-4),
    "xtuner-diy_config": (False, 1344, 1340, "0.10.4", 1e-4),
}


@pytest.mark.parametrize("folder", sorted(PUBLIC_FACTS))
def test_public_logs_state_epoch_length_or_max_iters(folder: str) -> None:
    logs = sorted(needs(PUBLIC / folder).glob("*/*.log"))
    assert len(logs) == 1
    by_epoch, length, last_step, version, precision = PUBLIC_FACTS[folder]
    result = read(logs[0])
    meta = result.meta
    assert meta["by_epoch"] is by_epoch
    assert meta["epoch_length" if by_epoch else "max_iters"] == length
    assert ("max_iters" if by_epoch else "epoch_length") not in meta
    assert meta["mmengine_version"] == version
    assert meta["precision"] == pytest.approx(precision)
    train = result.frame[~result.frame["tag"].str.startswith("val/")]
    assert train["step"].max() == last_step
    epochs = train["epoch"]
    if by_epoch:  # epochs completed at the step
        assert epochs.to_numpy() == pytest.approx(train["step"].to_numpy() / length)
    else:
        assert epochs.isna().all()


@pytest.mark.parametrize("log", ALL_LOGS, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}")
def test_config_text_is_the_dumped_config(log: Path) -> None:
    config = log.parent / "vis_data" / "config.py"
    if not config.exists():
        pytest.skip("no dumped config next to this log")
    assert read(log).meta["config_text"] == config.read_text()


def test_reference_run_flat_lr_reads_as_printed() -> None:
    """The seed bug: lr frozen at 1.5878e-04 from iteration 51 to 150."""
    log = needs(REFERENCE / "xt_buggy_e3/20261129_130141/20261129_130141.log")
    lr = rows_by_tag(read(log).frame, "lr")
    assert {lr[s] for s in range(51, 151)} == {1.5878e-04}
    assert read(log).meta["max_iters"] == 150


def test_reads_a_one_megabyte_log_fast() -> None:
    log = needs(PUBLIC / "openmmlabcamp-mmdetection_train/20230604_173810/20230604_173810.log")
    assert log.stat().st_size > 1_000_000
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        result = read(log)
        best = min(best, time.perf_counter() - start)
    assert len(result.frame) > 25_000
    assert best < MAX_SECONDS_1MB


# --- damaged input -------------------------------------------------------------------------


def reference_lines() -> list[bytes]:
    log = needs(REFERENCE / "xt_fixed_e3/20261129_130206/20261129_130206.log")
    return log.read_bytes().splitlines(keepends=True)


def train_line_numbers(lines: list[bytes]) -> list[int]:
    return [n for n, ln in enumerate(lines) if b"Iter(train)" in ln]


def write(tmp_path: Path, lines: list[bytes], name: str = "damaged.log") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def test_non_utf8_bytes_in_a_value_skip_that_line_only(tmp_path: Path) -> None:
    lines = reference_lines()
    n = train_line_numbers(lines)[60]
    lines[n] = lines[n].replace(b"loss: ", b"loss: \xff\xfe")
    result = read(write(tmp_path, lines))
    steps = sorted(rows_by_tag(result.frame, "lr"))
    assert steps == [s for s in range(1, 151) if s != 61]
    assert [(s.where, s.reason) for s in result.skipped] == [
        (f"line {n + 1}", "non-UTF-8 or NUL bytes in a log line")
    ]


def test_nul_bytes_over_a_line_are_recorded_and_the_rest_read(tmp_path: Path) -> None:
    lines = reference_lines()
    numbers = train_line_numbers(lines)
    whole, head = numbers[10], numbers[20]
    lines[whole] = b"\x00" * (len(lines[whole]) - 1) + b"\n"
    lines[head] = b"\x00" * 64 + lines[head]  # zeros, then a whole line: that line still counts
    result = read(write(tmp_path, lines))
    assert sorted(rows_by_tag(result.frame, "lr")) == [s for s in range(1, 151) if s != 11]
    assert [s.where for s in result.skipped] == [f"line {whole + 1}", f"line {head + 1}"]


def test_a_line_cut_short_with_the_next_run_into_it(tmp_path: Path) -> None:
    lines = reference_lines()
    n = train_line_numbers(lines)[30]
    lines[n] = lines[n][: lines[n].index(b"time:")]  # no newline: line 32 follows directly
    result = read(write(tmp_path, lines))
    assert sorted(rows_by_tag(result.frame, "lr")) == [s for s in range(1, 151) if s != 31]
    assert [(s.where, s.reason) for s in result.skipped] == [
        (f"line {n + 1}", "log line cut short (next line run into it)")
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\x00" * 4096], ids=["empty", "blank", "nul"])
def test_empty_files_read_as_nothing(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(content)
    result = read(path)
    assert len(result.frame) == 0
    assert [s.reason for s in result.skipped] == ["empty file"]


def test_missing_file_is_a_skip_not_an_error(tmp_path: Path) -> None:
    result = read(tmp_path / "nope.log")
    assert len(result.frame) == 0 and result.skipped[0].where == "file"


NL = b"\n"


def rows(data: bytes, tmp_path: Path, name: str) -> set[tuple[int, str, float]]:
    path = tmp_path / name
    path.write_bytes(data)
    frame = read(path).frame
    return set(zip(frame["step"], frame["tag"], frame["value"], strict=True))


def slice_lines(log: Path, first_marker: bytes, count: int) -> bytes:
    lines = log.read_bytes().splitlines(keepends=True)
    start = next(n for n, ln in enumerate(lines) if first_marker in ln)
    return b"".join(lines[start : start + count])


def test_truncation_at_every_byte_loses_at_most_the_cut_line(tmp_path: Path) -> None:
    """Train lines and a validation summary of a real log, cut at every byte offset: every line
    before the cut is read, the cut line is read whole or not at all and then recorded."""
    log = needs(PUBLIC / "openmmlabcamp-homework-3-train/20230609_172212/20230609_172212.log")
    data = slice_lines(log, b"Epoch(train)  [8][5/6]", 15)
    assert data.count(b"Epoch(train)") >= 4 and data.count(b"coco/bbox_mAP:") == 1
    ends = [0] + [n + 1 for n in range(len(data)) if data[n : n + 1] == NL]
    prefix_rows = {end: rows(data[:end], tmp_path, "prefix.log") for end in ends}
    for offset in range(len(data) + 1):
        line_start = data.rfind(NL, 0, offset) + 1
        line_end = data.find(NL, offset)
        line_end = len(data) if line_end < 0 else line_end + 1
        before, with_line = prefix_rows[line_start], prefix_rows[line_end]
        path = tmp_path / "cut.log"
        path.write_bytes(data[:offset])
        result = read(path)
        got = set(
            zip(result.frame["step"], result.frame["tag"], result.frame["value"], strict=True)
        )
        assert got in (before, with_line), offset
        where = [s.where for s in result.skipped if s.where != "file"]  # "file": empty
        if offset == line_start:  # cut at a line end: nothing damaged
            assert got == before and not where, offset
        elif got == with_line and got != before:  # the cut line looked whole and was kept
            assert not where, offset
        elif got != with_line:  # the cut line was dropped: and recorded
            assert where == [f"line {data[:line_start].count(NL) + 1}"], offset
        else:  # the cut line holds no rows (e.g. `Saving checkpoint`): at most its own record
            assert len(where) <= 1, offset


# --- a real mmengine run written here: epoch-based, two parameter groups, clipped grads --------


@pytest.fixture(scope="module")
def epoch_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train a tiny model for 3 epochs of 6 iterations with mmengine itself and return its log."""
    pytest.importorskip("mmengine")
    torch = pytest.importorskip("torch")
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = torch.nn.Linear(4, 8)
            self.head = torch.nn.Linear(8, 2)

        def forward(self, inputs, labels, mode="tensor"):
            logits = self.head(torch.relu(self.backbone(inputs)))
            if mode == "loss":
                return {"loss": torch.nn.functional.cross_entropy(logits, labels)}
            return list(zip(logits.argmax(1).tolist(), labels.tolist(), strict=True))

    class Accuracy(BaseMetric):
        def process(self, data_batch, data_samples) -> None:
            self.results.extend(int(p == t) for p, t in data_samples)

        def compute_metrics(self, results):
            return {"accuracy": 100.0 * sum(results) / len(results)}

    work_dir = tmp_path_factory.mktemp("mmengine_epoch_run")
    x = torch.randn(48, 4, generator=torch.Generator().manual_seed(0))
    data = [{"inputs": x[i], "labels": int(x[i, 0] > 0)} for i in range(48)]
    loader = dict(
        dataset=data,
        sampler=dict(type="DefaultSampler", shuffle=False),
        batch_size=8,
        collate_fn=dict(type="default_collate"),
    )
    console = io.StringIO()
    with contextlib.redirect_stdout(console):  # mmengine's console handler binds sys.stdout
        run_toy(Runner, Toy, Accuracy, loader, work_dir)
    (work_dir / "console.txt").write_text(console.getvalue())
    (log,) = work_dir.glob("*/*.log")
    return log


def run_toy(Runner, Toy, Accuracy, loader, work_dir: Path) -> None:
    """3 epochs x 6 iterations, two parameter groups (`base_lr`), clipped grads, val each epoch."""
    runner = Runner(
        model=Toy(),
        work_dir=str(work_dir),
        experiment_name=f"textlog_{work_dir.name}",
        train_dataloader=loader,
        val_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        val_cfg=dict(),
        val_evaluator=[Accuracy()],
        optim_wrapper=dict(
            optimizer=dict(type="SGD", lr=0.1, momentum=0.9),
            paramwise_cfg=dict(custom_keys={"head": dict(lr_mult=0.1)}),  # groups: base_lr
            clip_grad=dict(max_norm=10.0),  # grad_norm in the log
        ),
        param_scheduler=dict(type="CosineAnnealingLR", by_epoch=False, T_max=18, eta_min=0.0),
        default_hooks=dict(
            logger=dict(type="LoggerHook", interval=2),
            checkpoint=dict(type="CheckpointHook", interval=100),
        ),
        randomness=dict(seed=0),
        default_scope="mmengine",
    )
    runner.train()


@pytest.fixture(scope="module")
def epoch_run_console(epoch_run: Path) -> Path:
    """What the same run printed on the console (what users paste): `11/29 14:00:28 - ...`."""
    return epoch_run.parent.parent / "console.txt"


def test_real_epoch_based_run_with_base_lr_and_grad_norm(epoch_run: Path) -> None:
    result = read(epoch_run)
    frame = result.frame
    assert result.meta["epoch_length"] == 6 and result.meta["by_epoch"] is True
    assert result.meta["mmengine_version"] == "0.10.7"
    train = [r for r in json_records(vis_json(epoch_run)) if "lr" in r]
    assert [r["step"] for r in train] == [2, 4, 6, 8, 10, 12, 14, 16, 18]
    for tag in ("lr", "base_lr", "grad_norm", "loss"):
        got = rows_by_tag(frame, tag)
        exp = tag.endswith("lr")
        assert got == {r["step"]: printed(r[tag], 4, exp) for r in train}, tag
    # epochs completed at the step (the JSON logs the 1-based current epoch instead)
    epochs = frame.loc[frame["tag"] == "lr", "epoch"].tolist()
    assert epochs == pytest.approx([s / 6 for s in (2, 4, 6, 8, 10, 12, 14, 16, 18)])
    accuracy = frame[frame["tag"] == "val/accuracy"]
    assert accuracy["step"].tolist() == [6, 12, 18]
    assert accuracy["epoch"].tolist() == [1.0, 2.0, 3.0]
    val_json = [r for r in json_records(vis_json(epoch_run)) if "lr" not in r]
    assert accuracy["value"].tolist() == [printed(r["accuracy"], 4, False) for r in val_json]
    assert not result.skipped


def test_a_damaged_huge_step_number_is_skipped(tmp_path: Path) -> None:
    lines = reference_lines()
    n = train_line_numbers(lines)[40]
    lines[n] = lines[n].replace(b"[ 41/150]", b"[41999999999999999999999/150]")
    result = read(write(tmp_path, lines))
    assert sorted(rows_by_tag(result.frame, "lr")) == [s for s in range(1, 151) if s != 41]
    assert [(s.where, s.reason) for s in result.skipped] == [
        (f"line {n + 1}", "step number out of range")
    ]


MUTATIONS = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["set", "insert", "delete"]),
        st.binary(min_size=1, max_size=12),
    ),
    min_size=1,
    max_size=12,
)


def mutate(data: bytes, edits: list[tuple[float, str, bytes]]) -> bytes:
    out = bytearray(data)
    for where, op, chunk in edits:
        pos = int(where * len(out))
        if op == "set":
            out[pos : pos + len(chunk)] = chunk
        elif op == "insert":
            out[pos:pos] = chunk
        else:
            del out[pos : pos + 4 * len(chunk)]
    return bytes(out)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=MUTATIONS)
def test_random_damage_never_raises(tmp_path: Path, edits) -> None:
    log = needs(PUBLIC / "openmmlabcamp-homework-3-train/20230609_172212/20230609_172212.log")
    data = slice_lines(log, b"Epoch(train)  [8][5/6]", 15)
    path = tmp_path / "fuzzed.log"
    path.write_bytes(mutate(data, edits))
    result = read(path)
    assert result.frame["step"].dtype == "int64"
    assert (result.frame["step"] >= 0).all()


def test_console_output_reads_like_the_log_file(epoch_run: Path, epoch_run_console: Path) -> None:
    """Pasted console output (`MM/DD hh:mm:ss` timestamps) gives the same rows and facts."""
    assert "Epoch(train)" in epoch_run_console.read_text()
    console, log = read(epoch_run_console), read(epoch_run)
    assert len(log.frame) > 0
    assert console.frame.equals(log.frame)
    assert console.meta == log.meta

"""mmcv 1.x readers against two real mmcv 1.7 / mmcls 0.25 runs: the JSON and the text log of one
run must agree, a validation-only log must read, and damaged copies lose only the damaged lines.

The logs live in `../shared/public_logs` (a sibling of the repo); tests skip when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logan.readers.mmcv import epoch_length_from_text, read, read_json, read_text

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CIFAR = SHARED / "public_logs" / "mmcv1-resnet50_cifar10" / "20230205_181821.log"
FLOWER = SHARED / "public_logs" / "mmcv1-resnet18_b32_flower" / "20230205_145641.log"
CIFAR_EPOCH_LENGTH = 782  # `Epoch [1][100/782]` in the text log
# Text log: lr as %.3e, loss as %.4f; JSON: every float rounded to 5 decimals.
TEXT_LR_DIGITS = 3
TEXT_DECIMALS = 4
JSON_DECIMALS = 5


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def json_of(text_log: Path) -> Path:
    return text_log.with_name(text_log.name + ".json")


def by_tag(frame, tag: str) -> dict[int, float]:
    sub = frame[frame["tag"] == tag]
    return dict(zip(sub["step"].tolist(), sub["value"].tolist(), strict=True))


def train_rows(frame):
    return frame[~frame["tag"].str.startswith("val/")]


def test_text_log_states_epoch_length_and_run_facts() -> None:
    result = read_text(needs(CIFAR))
    meta = result.meta
    assert meta["epoch_length"] == CIFAR_EPOCH_LENGTH and meta["by_epoch"] is True
    assert meta["max_epochs"] == 10
    assert meta["mmcv_version"] == "1.7.0"
    assert meta["precision"] == pytest.approx(10.0**-TEXT_LR_DIGITS)
    assert meta["precision_abs"] == pytest.approx(10.0**-TEXT_DECIMALS)
    assert "model = dict(" in meta["config_text"]
    train = train_rows(result.frame)
    # 10 epochs logged every 100 iterations up to 700 of 782.
    assert sorted(set(train["step"])) == [
        (e - 1) * CIFAR_EPOCH_LENGTH + i for e in range(1, 11) for i in range(100, 800, 100)
    ]
    assert set(train["tag"]) == {"lr", "loss", "time", "data_time", "memory"}
    assert not result.skipped


def test_json_with_the_text_epoch_length_matches_the_text_log() -> None:
    text = read_text(needs(CIFAR))
    js = read_json(json_of(CIFAR), epoch_length=text.meta["epoch_length"])
    assert js.meta["epoch_length"] == CIFAR_EPOCH_LENGTH
    assert "epoch_length_estimated" not in js.meta
    assert js.meta["precision_abs"] == pytest.approx(10.0**-JSON_DECIMALS)
    assert js.meta["mmcv_version"] == "1.7.0" and js.meta["versions"] == {"mmcls": "0.25.0"}
    text_lr, json_lr = by_tag(text.frame, "lr"), by_tag(js.frame, "lr")
    assert sorted(text_lr) == sorted(json_lr)
    for step, value in json_lr.items():
        assert text_lr[step] == float(f"{value:.{TEXT_LR_DIGITS}e}")
    # Both round the same true value (to 4 and to 5 decimals): they differ by at most half of each.
    tolerance = 0.5 * 10.0**-TEXT_DECIMALS + 0.5 * 10.0**-JSON_DECIMALS + 1e-12
    for tag in ("loss", "val/accuracy_top-1", "val/accuracy_top-5"):
        t, j = by_tag(text.frame, tag), by_tag(js.frame, tag)
        assert sorted(t) == sorted(j), tag
        assert all(abs(t[s] - j[s]) <= tolerance for s in t), tag
    val_steps = sorted(by_tag(js.frame, "val/accuracy_top-1"))
    assert val_steps == [e * CIFAR_EPOCH_LENGTH for e in range(1, 11)]
    assert "val/lr" not in set(js.frame["tag"])


def test_read_finds_the_epoch_length_in_the_text_log_beside_the_json() -> None:
    assert epoch_length_from_text(needs(CIFAR)) == CIFAR_EPOCH_LENGTH
    result = read(json_of(CIFAR))
    assert result.meta["epoch_length"] == CIFAR_EPOCH_LENGTH
    assert "epoch_length_estimated" not in result.meta
    assert read(CIFAR).meta["epoch_length"] == CIFAR_EPOCH_LENGTH  # the text log itself


def test_json_alone_estimates_the_epoch_length_and_says_so(tmp_path: Path) -> None:
    alone = tmp_path / json_of(CIFAR).name
    alone.write_bytes(needs(json_of(CIFAR)).read_bytes())
    result = read(alone)  # no text log beside it
    meta = result.meta
    assert meta["epoch_length_estimated"] is True
    low, high = meta["epoch_length_bounds"]
    assert (low, high) == (700, 799) and low <= CIFAR_EPOCH_LENGTH <= high
    assert meta["epoch_length"] == 750  # the middle of the bounds
    steps = train_rows(result.frame).drop_duplicates("step")["step"].tolist()
    assert steps == sorted(steps) and len(set(steps)) == 70


@pytest.mark.parametrize("reader", [read_text, read], ids=["text", "json"])
def test_validation_only_log_gives_only_validation_rows(reader) -> None:
    path = needs(FLOWER) if reader is read_text else json_of(needs(FLOWER))
    result = reader(path)
    frame = result.frame
    assert len(frame) == 10
    assert set(frame["tag"]) == {"val/accuracy_top-1"}
    assert frame["epoch"].tolist() == [float(e) for e in range(1, 11)]
    assert result.meta["val_step_is_epoch"] is True
    assert "epoch_length" not in result.meta
    assert not result.skipped


def test_validation_only_json_and_text_agree() -> None:
    text = by_tag(read_text(needs(FLOWER)).frame, "val/accuracy_top-1")
    js = by_tag(read_json(json_of(FLOWER)).frame, "val/accuracy_top-1")
    assert sorted(text) == sorted(js) == list(range(1, 11))
    assert all(abs(text[s] - js[s]) <= 0.5e-4 + 0.5e-5 + 1e-12 for s in text)


# --- damaged input -------------------------------------------------------------------------


def cifar_json_lines() -> list[bytes]:
    return needs(json_of(CIFAR)).read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "damaged.log.json"
    path.write_bytes(b"".join(lines))
    return path


def lr_steps(path: Path) -> list[int]:
    return sorted(by_tag(read_json(path, epoch_length=CIFAR_EPOCH_LENGTH).frame, "lr"))


def test_broken_json_line_in_the_middle_is_skipped_and_recorded(tmp_path: Path) -> None:
    lines = cifar_json_lines()
    full = lr_steps(write(tmp_path, lines))
    lines[20] = lines[20][: len(lines[20]) // 2] + b"\n"
    lost = json.loads(cifar_json_lines()[20])
    path = write(tmp_path, lines)
    result = read_json(path, epoch_length=CIFAR_EPOCH_LENGTH)
    lost_step = (lost["epoch"] - 1) * CIFAR_EPOCH_LENGTH + lost["iter"]
    assert sorted(by_tag(result.frame, "lr")) == [s for s in full if s != lost_step]
    assert [(s.where, s.reason) for s in result.skipped] == [("line 21", "not valid JSON")]


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe", b"\x00\x00\x00\x00"],
    ids=["non-utf8", "nul"],
)
def test_bad_bytes_in_a_record_skip_that_record_only(tmp_path: Path, damage: bytes) -> None:
    lines = cifar_json_lines()
    full = lr_steps(write(tmp_path, lines))
    lines[5] = lines[5].replace(b'"loss": ', b'"loss": ' + damage)
    result = read_json(write(tmp_path, lines), epoch_length=CIFAR_EPOCH_LENGTH)
    assert len(by_tag(result.frame, "lr")) == len(full) - 1
    assert [s.where for s in result.skipped] == ["line 6"]


@pytest.mark.parametrize("content", [b"", b"\n", b"\x00" * 512], ids=["empty", "blank", "nul"])
def test_empty_files_read_as_nothing(tmp_path: Path, content: bytes) -> None:
    for name, reader in (("x.log.json", read_json), ("x.log", read_text)):
        path = tmp_path / name
        path.write_bytes(content)
        result = reader(path)
        assert len(result.frame) == 0
        assert [s.reason for s in result.skipped] == ["empty file"]


NL = b"\n"


def read_cifar_json(path: Path):
    return read_json(path, epoch_length=CIFAR_EPOCH_LENGTH)


def rows_of(result) -> set[tuple[int, str, float]]:
    frame = result.frame
    return set(zip(frame["step"], frame["tag"], frame["value"], strict=True))


def json_slice() -> bytes:
    lines = cifar_json_lines()
    return b"".join(lines[6:12])  # end of epoch 1: train records, the validation record, epoch 2


def text_slice() -> bytes:
    lines = needs(CIFAR).read_bytes().splitlines(keepends=True)
    start = next(n for n, ln in enumerate(lines) if b"Epoch [1][600/782]" in ln)
    return b"".join(lines[start : start + 6])


@pytest.mark.parametrize(
    ("make", "reader", "name"),
    [(json_slice, read_cifar_json, "cut.log.json"), (text_slice, read_text, "cut.log")],
    ids=["json", "text"],
)
def test_truncation_at_every_byte_loses_at_most_the_cut_record(
    tmp_path: Path, make, reader, name: str
) -> None:
    """Train and validation records cut at every byte: earlier records all read, the cut one
    read whole (only its newline was lost) or skipped and recorded."""
    data = make()
    assert data.count(b"val") >= 1 and data.count(b"loss") >= 3
    path = tmp_path / name
    ends = [0] + [n + 1 for n in range(len(data)) if data[n] == 0x0A]
    prefix_rows = {}
    for end in ends:
        path.write_bytes(data[:end])
        prefix_rows[end] = rows_of(reader(path))
    for offset in range(len(data) + 1):
        line_start = data.rfind(NL, 0, offset) + 1
        line_end = data.find(NL, offset)
        line_end = len(data) if line_end < 0 else line_end + 1
        path.write_bytes(data[:offset])
        result = reader(path)
        got = rows_of(result)
        where = [s.where for s in result.skipped if s.where != "file"]
        if got == prefix_rows[line_start]:
            cut = data[line_start:offset]
            line_no = data[:line_start].count(NL) + 1
            assert where == ([f"line {line_no}"] if cut.strip() else []), offset
        else:
            assert got == prefix_rows[line_end] and offset >= line_end - 1, offset
            assert not where, offset


# --- real mmcv 1.x runs written here when mmcv 1.x is importable (it is not a logan dependency:
# run with the sdist's source on PYTHONPATH to exercise these) -------------------------------


@pytest.fixture(scope="module")
def mmcv_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An epoch-based run with two optimizers (per-optimizer lr) and an iteration-based run."""
    runner_mod = pytest.importorskip("mmcv.runner")
    torch = pytest.importorskip("torch")
    from mmcv.utils import get_logger
    from torch.utils.data import DataLoader, TensorDataset

    class TwoNets(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.generator = torch.nn.Linear(4, 4)
            self.discriminator = torch.nn.Linear(4, 1)

        def train_step(self, data, optimizer, **kwargs):
            (x,) = data
            if isinstance(optimizer, dict):  # mmcv leaves stepping several optimizers to us
                loss_g = self.discriminator(self.generator(x)).mean()
                optimizer["generator"].zero_grad()
                loss_g.backward()
                optimizer["generator"].step()
                loss_d = (self.discriminator(x) ** 2).mean()
                optimizer["discriminator"].zero_grad()
                loss_d.backward()
                optimizer["discriminator"].step()
                log_vars = dict(loss_g=loss_g.item(), loss_d=loss_d.item())
                return dict(log_vars=log_vars, num_samples=len(x))
            loss = (self.discriminator(self.generator(x)) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return dict(log_vars=dict(loss=loss.item()), num_samples=len(x))

        def val_step(self, data, optimizer=None, **kwargs):
            (x,) = data
            with torch.no_grad():
                loss = (self.discriminator(x) ** 2).mean()
            return dict(log_vars=dict(loss=loss.item()), num_samples=len(x))

    def loader(n: int) -> DataLoader:
        x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x), batch_size=4, shuffle=False)

    root = tmp_path_factory.mktemp("mmcv_runs")
    out = {"epoch": root / "epoch", "iter": root / "iter"}
    model = TwoNets()
    optimizers = {
        "generator": torch.optim.SGD(model.generator.parameters(), lr=0.1),
        "discriminator": torch.optim.SGD(model.discriminator.parameters(), lr=0.01),
    }
    out["epoch"].mkdir()
    runner = runner_mod.EpochBasedRunner(
        model,
        optimizer=optimizers,
        work_dir=str(out["epoch"]),
        logger=get_logger(f"mmcv_epoch_{root.name}", log_file=str(out["epoch"] / "run.log")),
        max_epochs=3,
        meta=dict(exp_name="epoch_run", seed=0, config="lr = 0.1\n"),
    )
    runner.timestamp = "run"
    runner.register_training_hooks(
        lr_config=dict(policy="CosineAnnealing", min_lr=0.0, by_epoch=False),
        log_config=dict(interval=3, hooks=[dict(type="TextLoggerHook")]),
    )
    runner.run([loader(40), loader(12)], [("train", 1), ("val", 1)])  # 10 iterations an epoch

    model = TwoNets()
    out["iter"].mkdir()
    runner = runner_mod.IterBasedRunner(
        model,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        work_dir=str(out["iter"]),
        logger=get_logger(f"mmcv_iter_{root.name}", log_file=str(out["iter"] / "run.log")),
        max_iters=25,
        meta=dict(exp_name="iter_run", seed=0, config="lr = 0.1\n"),
    )
    runner.timestamp = "run"
    runner.register_training_hooks(
        lr_config=dict(policy="step", step=[15], by_epoch=False),
        log_config=dict(interval=5, hooks=[dict(type="TextLoggerHook", by_epoch=False)]),
    )
    runner.run([loader(40)], [("train", 25)])  # the dataloader restarts: `epoch` 1, 2, 3
    return {k: v / "run.log" for k, v in out.items()}


def test_real_two_optimizer_run_gives_lr_per_optimizer(mmcv_runs: dict[str, Path]) -> None:
    text = read_text(mmcv_runs["epoch"])
    js = read(json_of(mmcv_runs["epoch"]))
    assert text.meta["epoch_length"] == js.meta["epoch_length"] == 10
    steps = [(e - 1) * 10 + i for e in (1, 2, 3) for i in (3, 6, 9)]
    for tag in ("lr", "lr/discriminator"):
        t, j = by_tag(text.frame, tag), by_tag(js.frame, tag)
        assert sorted(t) == sorted(j) == steps, tag
        assert all(t[s] == float(f"{j[s]:.{TEXT_LR_DIGITS}e}") for s in steps), tag
    assert by_tag(js.frame, "lr")[16] == pytest.approx(0.05)  # half way through the cosine
    assert sorted(by_tag(js.frame, "val/loss")) == sorted(by_tag(text.frame, "val/loss"))
    assert sorted(by_tag(js.frame, "val/loss")) == [10, 20, 30]
    assert not text.skipped and not js.skipped


def test_real_iteration_based_run_uses_the_global_iteration(mmcv_runs: dict[str, Path]) -> None:
    text = read_text(mmcv_runs["iter"])
    js = read(json_of(mmcv_runs["iter"]))
    assert text.meta["max_iters"] == 25 and text.meta["by_epoch"] is False
    assert js.meta["by_epoch"] is False and "epoch_length" not in js.meta
    lr = by_tag(js.frame, "lr")
    assert lr == {5: 0.1, 10: 0.1, 15: 0.1, 20: 0.01, 25: 0.01}
    assert by_tag(text.frame, "lr") == lr
    assert js.frame["epoch"].isna().all()


def test_json_of_one_epoch_places_records_without_guessing_a_length(tmp_path: Path) -> None:
    """A run killed in epoch 1: steps are the iterations; nothing is claimed about the epoch."""
    lines = cifar_json_lines()
    first_epoch = [ln for ln in lines if b'"epoch": 1,' in ln or b'"mode"' not in ln]
    path = write(tmp_path, [ln for ln in first_epoch if b'"mode": "val"' not in ln])
    result = read_json(path)
    assert sorted(by_tag(result.frame, "lr")) == [100, 200, 300, 400, 500, 600, 700]
    assert "epoch_length" not in result.meta and "by_epoch" not in result.meta
    assert not result.skipped


def test_a_damaged_huge_epoch_number_is_skipped(tmp_path: Path) -> None:
    lines = cifar_json_lines()
    full = lr_steps(write(tmp_path, lines))
    lines[3] = lines[3].replace(b'"epoch": 1,', b'"epoch": 100000000000000000000000,')
    result = read_json(write(tmp_path, lines), epoch_length=CIFAR_EPOCH_LENGTH)
    assert len(by_tag(result.frame, "lr")) == len(full) - 1
    assert [(s.where, s.reason) for s in result.skipped] == [("line 4", "epoch/iter out of range")]


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
    """Overwrite, insert or delete bytes at relative positions."""
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
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=MUTATIONS, text=st.booleans())
def test_random_damage_never_raises(tmp_path: Path, edits, text: bool) -> None:
    data = text_slice() if text else b"".join(cifar_json_lines()[:14])
    path = tmp_path / ("fuzzed.log" if text else "fuzzed.log.json")
    path.write_bytes(mutate(data, edits))
    for result in (read(path), read_text(path) if text else read_json(path, epoch_length=782)):
        assert result.frame["step"].dtype == "int64"
        assert (result.frame["step"] >= 0).all()

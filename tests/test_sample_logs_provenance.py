"""Provenance of ``sample_logs/``: each mmengine sample is an untouched mmengine 0.10.7 work_dir.

These tests do not exercise logan. They pin down what ``scripts/make_sample_logs.py`` produced,
so that a regeneration (or a hand edit) that changes a sample's shape is caught: the work_dir
layout mmengine writes, the environment header naming MMEngine 0.10.7, JSON lines as mmengine's
``LocalVisBackend`` writes them (bare ``NaN``/``Infinity`` included), iteration counts as
configured, the text log and the JSON telling the same story, and each sample's fault really
being in its numbers (see ``sample_logs/README.md``).
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
NEUTRAL_ROOT = "/mnt/data/work_dirs"
TIMESTAMP = re.compile(r"^\d{8}_\d{6}$")
ITER_LINE = re.compile(r"Iter\(train\) \[\s*(\d+)/(\d+)\]\s+lr: (\S+)")
EPOCH_LINE = re.compile(r"Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/(\d+)\]\s+lr: (\S+)")
VAL_LINE = re.compile(r"Epoch\(val\) \[(\d+)\]\[\s*\d+/\d+\]\s+toy/accuracy: ")

Rows = list[dict]


@dataclass(frozen=True)
class Expected:
    """What the generator configured for one sample."""

    sessions: tuple[tuple[int, int], ...]  # (first, last) logged train iteration per session
    vis: bool = True  # LocalVisBackend + TensorboardVisBackend configured
    interval: int = 1  # LoggerHook interval
    max_epochs: int | None = None  # epoch-based loop (json carries `epoch`, val lines)
    checkpoint: str = ""  # file name in last_checkpoint; default iter_<last>.pth
    # `[k/N]` in each session's text log when the config was edited between sessions (default:
    # the last session's last iteration for every session)
    totals: tuple[int, ...] | None = None
    val: bool = True  # an epoch-based loop validates every epoch


def _plateau(rows: Rows) -> bool:
    lrs = {r["lr"] for r in rows if r["iter"] >= 40}
    return len(lrs) == 1 and rows[0]["lr"] < 1e-8 < next(iter(lrs))


def _full_cosine(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    return max(lrs) == pytest.approx(1e-4) and lrs[-1] < 1e-7 and len(set(lrs[40:])) == 120


def _staircase(rows: Rows) -> bool:
    per_epoch = {r["epoch"]: r["lr"] for r in rows}
    return [per_epoch[e] for e in (8, 9, 11, 12)] == pytest.approx([0.02, 0.002, 0.002, 0.0002])


def _nonfinite(rows: Rows) -> bool:
    losses = [r["loss"] for r in rows]
    first_bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    return first_bad is not None and 20 < first_bad < 150 and math.isnan(losses[-1])


def _climbs(rows: Rows) -> bool:
    losses = [r["loss"] for r in rows]
    low = min(losses)
    return losses.index(low) < 60 and min(losses[-50:]) > 20 * low and math.isfinite(losses[-1])


def _slower(rows: Rows) -> bool:
    # Medians: mmengine's 2 s sleep at each dataloader restart lifts 10 windows in every 40.
    early = statistics.median(r["time"] for r in rows[:100])
    late = statistics.median(r["time"] for r in rows[110:])
    return late > 5 * early


def _cycles(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    peaks = sum(1 for a, b, c in zip(lrs, lrs[1:], lrs[2:], strict=False) if b > a and b >= c)
    return peaks >= 10 and min(lrs) == 0.0


def _constant(rows: Rows) -> bool:
    return {r["lr"] for r in rows} == {1e-3}


def _healthy_cosine(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    return max(lrs) == pytest.approx(1e-3) and lrs[-1] < 1e-6


def _spikes(rows: Rows) -> bool:
    # Each wrong-unit record lifts mmengine's 10-iteration mean for exactly 10 logged points; the
    # point after the window is back near the point before it.
    losses = {r["iter"]: r["loss"] for r in rows}
    high = [i for i, v in losses.items() if v > 50]
    starts = (55, 100, 135)
    if high != [i for s in starts for i in range(s, s + 10)] or list(losses) != [*range(1, 161)]:
        return False
    recovered = all(losses[s + 10] < 3 * losses[s - 1] for s in starts)
    healthy = max(v for i, v in losses.items() if i not in high) < 10 and losses[160] < 0.05
    return recovered and healthy


def _resumed_more_epochs(rows: Rows) -> bool:
    lr = {r["iter"]: r["lr"] for r in rows}
    # epoch 2 (iterations 26-50) stays at the LR the 1-epoch cosine ended with
    return {lr[i] for i in range(25, 51)} == {lr[25]} and lr[25] < min(lr[24], 1e-5)


def _resumed_new_milestones(rows: Rows) -> bool:
    per_epoch = {r["epoch"]: r["lr"] for r in rows}
    # milestones [3, 5]: 0.02 -> 0.002 -> 0.0002; the milestone 7 added for the resume never acts
    return [per_epoch[e] for e in (3, 4, 6, 7, 8)] == pytest.approx(
        [0.02, 0.002, 0.0002, 0.0002, 0.0002]
    )


def _resumed_new_lr(rows: Rows) -> bool:
    first = {r["iter"]: r["lr"] for r in rows[:30]}
    second = {r["iter"]: r["lr"] for r in rows[30:]}
    # iterations 21-30 logged twice with the same LR: the doubled base lr never acts
    same = all(second[i] == pytest.approx(first[i]) for i in range(21, 31))
    return same and max(second.values()) < 1e-3 and min(second) == 21


def _fresh_restart(rows: Rows) -> bool:
    return [r["iter"] for r in rows] == [*range(1, 36), *range(1, 61)] and rows[35]["lr"] == 1e-8


def _warmup_never_ends(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    rising = all(b > a for a, b in zip(lrs, lrs[1:], strict=False))
    return rising and lrs[0] == pytest.approx(2e-7) and lrs[-1] < 0.11 * 2e-4


def _long_warmup(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    top = lrs.index(max(lrs))
    up = all(b > a for a, b in zip(lrs[: top + 1], lrs[1 : top + 1], strict=False))
    down = all(b < a for a, b in zip(lrs[top:], lrs[top + 1 :], strict=False))
    return rows[top]["iter"] == 200 and max(lrs) == pytest.approx(1e-3) and up and down


def _past_end(rows: Rows) -> bool:
    lrs = [r["lr"] for r in rows]
    falling = all(b < a for a, b in zip(lrs, lrs[1:], strict=False))
    return falling and 0.99 * 0.01 < lrs[-1] < 0.01


def _ends_early(rows: Rows) -> bool:
    lr = {r["iter"]: r["lr"] for r in rows}
    if list(lr) != [*range(2, 301, 2)]:
        return False
    falling = all(lr[i + 2] < lr[i] for i in range(2, 180, 2))
    flat = {v for i, v in lr.items() if i >= 180} == {lr[300]}
    return falling and flat and lr[300] == pytest.approx(1e-6, rel=0.1)


EXPECTED: dict[str, Expected] = {
    "mmengine_plateau_e4": Expected(((1, 160),)),
    "mmengine_fixed_e4": Expected(((1, 160),)),
    "mmengine_plateau_textlog_only": Expected(((1, 90),), vis=False),
    "mmengine_multistep_val": Expected(
        ((5, 240),), interval=5, max_epochs=12, checkpoint="epoch_12.pth"
    ),
    "mmengine_constant_lr": Expected(((1, 150),)),
    "mmengine_resume": Expected(((1, 130), (101, 160))),
    "mmengine_load_from_restart": Expected(((1, 110), (1, 160))),
    "mmengine_nan_high_lr": Expected(((1, 200),)),
    "mmengine_divergence": Expected(((1, 200),)),
    "mmengine_throughput_drop": Expected(((1, 200),)),
    "mmengine_cosine_tmax_epochs_per_iter": Expected(((1, 120),)),
    "mmengine_loss_spikes": Expected(((1, 160),)),
    "mmengine_warmup_never_ends": Expected(((1, 120),)),
    "mmengine_long_warmup": Expected(((5, 480),), interval=5),
    "mmengine_schedule_past_end": Expected(((2, 300),), interval=2),
    "mmengine_schedule_ends_early": Expected(((2, 300),), interval=2),
    "mmengine_resume_more_epochs": Expected(((1, 25), (26, 50)), totals=(25, 50)),
    "mmengine_resume_new_milestones": Expected(
        ((2, 60), (62, 80)), interval=2, max_epochs=8, checkpoint="epoch_8.pth", val=False
    ),
    "mmengine_resume_new_lr": Expected(((1, 30), (21, 60))),
    "mmengine_fresh_restart": Expected(((1, 35), (1, 60))),
}

# The fault each sample is there to show, checked on the train lines of all its sessions in order.
FAULTS: dict[str, Callable[[Rows], bool]] = {
    "mmengine_plateau_e4": _plateau,
    "mmengine_fixed_e4": _full_cosine,
    "mmengine_multistep_val": _staircase,
    "mmengine_constant_lr": _constant,
    "mmengine_resume": _healthy_cosine,
    "mmengine_load_from_restart": _healthy_cosine,
    "mmengine_nan_high_lr": _nonfinite,
    "mmengine_divergence": _climbs,
    "mmengine_throughput_drop": _slower,
    "mmengine_cosine_tmax_epochs_per_iter": _cycles,
    "mmengine_loss_spikes": _spikes,
    "mmengine_warmup_never_ends": _warmup_never_ends,
    "mmengine_long_warmup": _long_warmup,
    "mmengine_schedule_past_end": _past_end,
    "mmengine_schedule_ends_early": _ends_early,
    "mmengine_resume_more_epochs": _resumed_more_epochs,
    "mmengine_resume_new_milestones": _resumed_new_milestones,
    "mmengine_resume_new_lr": _resumed_new_lr,
    "mmengine_fresh_restart": _fresh_restart,
}

NAMES = sorted(EXPECTED)


def _sessions(name: str) -> list[Path]:
    return sorted(p for p in (SAMPLES / name).iterdir() if p.is_dir() and TIMESTAMP.match(p.name))


def _json_rows(session: Path) -> Rows:
    # Python's json accepts the bare NaN/Infinity tokens mmengine writes; nothing else is lenient.
    text = (session / "vis_data" / "scalars.json").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _train_rows(session: Path) -> Rows:
    return [r for r in _json_rows(session) if "lr" in r]


@pytest.fixture(autouse=True)
def _samples_present() -> None:
    if not SAMPLES.is_dir():
        pytest.skip("sample_logs/ is not in this checkout")


def test_every_mmengine_sample_is_pinned_here() -> None:
    on_disk = {p.name for p in SAMPLES.glob("mmengine_*") if p.is_dir()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_work_dir_layout(name: str) -> None:
    exp = EXPECTED[name]
    root = SAMPLES / name
    assert f"work_dir = '{name}'" in (root / f"{name}.py").read_text(encoding="utf-8")
    sessions = _sessions(name)
    assert len(sessions) == len(exp.sessions)
    for session in sessions:
        assert (session / f"{session.name}.log").is_file()
        vis = session / "vis_data"
        if exp.vis:
            for fname in (f"{session.name}.json", "scalars.json", "config.py"):
                assert (vis / fname).is_file(), fname
            assert len(list(vis.glob("events.out.tfevents.*"))) == 1
        else:
            assert not vis.exists()
    last = exp.checkpoint or f"iter_{exp.sessions[-1][1]}.pth"
    last_ckpt = (root / "last_checkpoint").read_text(encoding="utf-8")
    assert last_ckpt == f"{NEUTRAL_ROOT}/{name}/{last}"
    assert not list(root.rglob("*.pth"))


@pytest.mark.parametrize("name", NAMES)
def test_text_log_is_mmengine_0_10_7(name: str) -> None:
    for session in _sessions(name):
        text = (session / f"{session.name}.log").read_text(encoding="utf-8")
        assert re.search(r"^\s+MMEngine: 0\.10\.7$", text, re.MULTILINE)
        assert "PyTorch: " in text and " - mmengine - INFO - Config:" in text
        assert "/tmp" not in text and "logan_samples_" not in text


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n].vis])
def test_json_lines_follow_mmengine_conventions(name: str) -> None:
    exp = EXPECTED[name]
    for session, (first, last) in zip(_sessions(name), exp.sessions, strict=True):
        vis = session / "vis_data"
        assert (vis / "scalars.json").read_bytes() == (vis / f"{session.name}.json").read_bytes()
        rows = _json_rows(session)
        train = [r for r in rows if "lr" in r]
        assert [r["iter"] for r in train] == list(range(first, last + 1, exp.interval))
        assert all(r["step"] == r["iter"] for r in train)
        assert all({"loss", "time", "data_time"} <= r.keys() for r in train)
        if exp.max_epochs is None:
            assert len(train) == len(rows) and not any("epoch" in r for r in rows)
            continue
        val = [r for r in rows if "lr" not in r]
        epochs = range(train[0]["epoch"], train[-1]["epoch"] + 1)
        assert [r["step"] for r in val] == (list(epochs) if exp.val else [])
        assert all("toy/accuracy" in r for r in val)
        assert {r["epoch"] for r in train} == set(epochs)
    if exp.max_epochs is not None:
        assert _train_rows(_sessions(name)[-1])[-1]["epoch"] == exp.max_epochs


def _tb_points(events: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    points: dict[str, list[tuple[int, float]]] = {}
    for event in EventFileLoader(str(events)).Load():
        for value in event.summary.value:
            if value.tensor.float_val:  # scalars; the config is a text summary
                points.setdefault(value.tag, []).append((event.step, value.tensor.float_val[0]))
    return points


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n].vis])
def test_tensorboard_events_match_json(name: str) -> None:
    for session in _sessions(name):
        (events,) = (session / "vis_data").glob("events.out.tfevents.*")
        tb_lr = _tb_points(events)["lr"]
        train = _train_rows(session)
        assert [s for s, _ in tb_lr] == [r["step"] for r in train]
        assert [v for _, v in tb_lr] == pytest.approx([r["lr"] for r in train], rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_text_log_matches_configured_iterations_and_json(name: str) -> None:
    exp = EXPECTED[name]
    totals = exp.totals or (exp.sessions[-1][1],) * len(exp.sessions)
    for session, (first, last), total in zip(_sessions(name), exp.sessions, totals, strict=True):
        text = (session / f"{session.name}.log").read_text(encoding="utf-8")
        if exp.max_epochs is None:
            lines = [(int(i), int(n), lr) for i, n, lr in ITER_LINE.findall(text)]
            assert {n for _, n, _ in lines} == {total}
        else:
            per_epoch = [(int(e), int(i), int(n), lr) for e, i, n, lr in EPOCH_LINE.findall(text)]
            lines = [((e - 1) * n + i, n, lr) for e, i, n, lr in per_epoch]
            assert len(VAL_LINE.findall(text)) == (exp.max_epochs if exp.val else 0)
        assert [i for i, _, _ in lines] == list(range(first, last + 1, exp.interval))
        if exp.vis:
            logged = [f"{r['lr']:.4e}" for r in _train_rows(session)]
            assert [lr for _, _, lr in lines] == logged


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_in_the_numbers(name: str) -> None:
    assert FAULTS[name]([r for s in _sessions(name) for r in _train_rows(s)])


def test_textlog_only_sample_shows_the_plateau_in_text() -> None:
    (session,) = _sessions("mmengine_plateau_textlog_only")
    text = (session / f"{session.name}.log").read_text(encoding="utf-8")
    lrs = [lr for _, _, lr in ITER_LINE.findall(text)]
    assert lrs[0] == "2.0000e-09" and len(set(lrs[29:])) == 1 and lrs[29] != lrs[28]


def test_resume_overlaps_and_load_from_restarts() -> None:
    first, second = (_train_rows(s) for s in _sessions("mmengine_resume"))
    # The resumed session repeats 101-130 with the same LR the killed one used.
    assert [r["lr"] for r in first[100:]] == pytest.approx([r["lr"] for r in second[:30]])
    killed, restarted = (_train_rows(s) for s in _sessions("mmengine_load_from_restart"))
    assert restarted[0]["iter"] == 1 and restarted[0]["lr"] < killed[-1]["lr"] / 1000
    config = (SAMPLES / "mmengine_load_from_restart" / "mmengine_load_from_restart.py").read_text()
    assert "load_from = 'mmengine_load_from_restart/iter_100.pth'" in config
    assert "resume = True" in (SAMPLES / "mmengine_resume" / "mmengine_resume.py").read_text()


def test_new_faults_come_from_the_configs() -> None:
    """The cause of each fault is in the config mmengine dumped, as the README says."""

    def config(name: str) -> str:
        # mmengine re-formats the dump (sorted keys, wrapped tuples): compare without whitespace.
        text = (SAMPLES / name / f"{name}.py").read_text(encoding="utf-8")
        return re.sub(r"\s+", "", text)

    spikes = config("mmengine_loss_spikes")
    assert "wrong_unit_idx=(2,17,400,)" in spikes and "clip_grad=dict(max_norm=10.0)" in spikes
    warmup = config("mmengine_warmup_never_ends")
    assert "by_epoch=True,convert_to_iter_based=True,end=30," in warmup
    assert "warmup_steps=30" in warmup and "train_cfg=dict(max_epochs=3,type='TrainLoop')" in warmup
    long_warmup = config("mmengine_long_warmup")
    assert "end=200,start_factor=0.001,type='LinearLR'" in long_warmup
    past_end = config("mmengine_schedule_past_end")
    assert "end=40000" in past_end and "max_iters=300" in past_end
    assert "end=180,eta_min=1e-06" in config("mmengine_schedule_ends_early")
    (session,) = _sessions("mmengine_loss_spikes")
    assert all("grad_norm" in r for r in _train_rows(session))


def test_torch_tensorboard_sample() -> None:
    (events,) = (SAMPLES / "torch_tb_cosine").glob("events.out.tfevents.*")
    points = _tb_points(events)
    assert set(points) == {"train/lr", "train/loss"}
    assert [s for s, _ in points["train/lr"]] == list(range(200))
    lrs = [v for _, v in points["train/lr"]]
    assert max(lrs) == pytest.approx(1e-3) and lrs[-1] < 1e-7

"""Produce logan's mmengine sample work_dirs by really training tiny models with mmengine on CPU.

Each sample is a user's config file (kept here as source text, the way a user writes it) that
mmengine 0.10.7 loads with ``Config.fromfile`` and trains with a real ``Runner``: the logs, the
``vis_data`` JSON and the TensorBoard event files are exactly what mmengine writes. Only three
things are done afterwards, as for the shared reference runs: checkpoints are deleted, the
temporary directory in text files is rewritten to ``/mnt/data/work_dirs`` and the work_dir is
copied into ``sample_logs/``. The ``TrainLoop`` registered here behaves like XTuner's: it takes
``max_epochs`` and trains ``max_epochs * len(dataloader)`` iterations while its ``max_epochs``
property stays 1, which is what makes the XTuner LR-plateau bug happen.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, LOOPS, METRICS, MODELS
from mmengine.runner import IterBasedTrainLoop, Runner
from torch import nn
from torch.utils.data import Dataset

# Where the work_dirs "lived" in the committed logs (the reference runs use the same place).
NEUTRAL_ROOT = "/mnt/data/work_dirs"
IN_DIM = 16
N_CLASSES = 4
TEACHER_SEED = 7  # one labelling rule for every split


# --------------------------------------------------------------------------------------------
# Model, data, metric and loop: registered under the names the config files use.
# --------------------------------------------------------------------------------------------
@MODELS.register_module(force=True)
class ToyModel(BaseModel):
    """A two-layer MLP classifier: small enough to train hundreds of iterations in a second."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(IN_DIM, hidden), nn.ReLU(), nn.Linear(hidden, N_CLASSES))

    def forward(self, inputs, labels=None, mode: str = "tensor"):
        logits = self.net(inputs)
        if mode == "loss":
            return dict(loss=nn.functional.cross_entropy(logits, labels))
        if mode == "predict":
            preds = logits.argmax(dim=1)
            return [dict(pred=int(p), gt=int(g)) for p, g in zip(preds, labels, strict=True)]
        return logits


@MODELS.register_module(force=True)
class ToyRegressor(BaseModel):
    """A linear regressor with MSE loss: its SGD stability limit is sharp, so a too-high LR is
    easy to reproduce (geometric blow-up to inf/NaN, or a slow climb when gradients are clipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(IN_DIM, 1)

    def forward(self, inputs, labels=None, mode: str = "tensor"):
        out = self.linear(inputs).squeeze(1)
        if mode == "loss":
            return dict(loss=nn.functional.mse_loss(out, labels))
        return out


@DATASETS.register_module(force=True)
class ToyDS(Dataset):
    """In-memory Gaussian inputs labelled by a fixed random teacher. Inputs come from ``seed``
    and the teacher from its own fixed seed, so a train and a val split (different ``seed``)
    share the task, and every regeneration sees the same data. ``io_delay`` seconds are slept
    per sample once ``io_delay_after`` samples have been fetched (storage slowing down mid-run).
    The regression targets of the records in ``wrong_unit_idx`` are stored ``wrong_unit_scale``
    times too large (a few annotations written in another unit)."""

    def __init__(
        self,
        n: int = 320,
        task: str = "classification",
        seed: int = 1234,
        io_delay_after: int | None = None,
        io_delay: float = 0.0,
        wrong_unit_idx: Sequence[int] = (),
        wrong_unit_scale: float = 50.0,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        teacher_gen = torch.Generator().manual_seed(TEACHER_SEED)
        self.inputs = torch.randn(n, IN_DIM, generator=gen)
        if task == "classification":
            teacher = torch.randn(IN_DIM, N_CLASSES, generator=teacher_gen)
            noisy = self.inputs @ teacher + 0.5 * torch.randn(n, N_CLASSES, generator=gen)
            self.labels = noisy.argmax(dim=1)
        else:
            teacher = torch.randn(IN_DIM, generator=teacher_gen)
            self.labels = self.inputs @ teacher + 0.1 * torch.randn(n, generator=gen)
            for idx in wrong_unit_idx:
                self.labels[idx] *= wrong_unit_scale
        self.io_delay_after = io_delay_after
        self.io_delay = io_delay
        self.fetched = 0

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, idx: int) -> dict:
        self.fetched += 1
        if self.io_delay_after is not None and self.fetched > self.io_delay_after:
            time.sleep(self.io_delay)
        return dict(inputs=self.inputs[idx], labels=self.labels[idx])


@METRICS.register_module(force=True)
class ToyAccuracy(BaseMetric):
    """Top-1 accuracy over the validation set, logged as ``toy/accuracy``."""

    default_prefix = "toy"

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(int(s["pred"] == s["gt"]) for s in data_samples)

    def compute_metrics(self, results: list) -> dict:
        return dict(accuracy=100.0 * sum(results) / max(len(results), 1))


@LOOPS.register_module(name="TrainLoop", force=True)
class TrainLoop(IterBasedTrainLoop):
    """XTuner's ``TrainLoop``: accepts ``max_epochs`` (or ``max_iters``) and trains
    ``max_epochs * len(dataloader)`` iterations. ``max_epochs`` (inherited) stays 1."""

    def __init__(self, runner, dataloader, max_iters=None, max_epochs=None, **kwargs) -> None:
        if (max_iters is None) == (max_epochs is None):
            raise RuntimeError("Give exactly one of `max_iters` or `max_epochs` in `train_cfg`.")
        if isinstance(dataloader, dict):
            diff_rank_seed = runner._randomness_cfg.get("diff_rank_seed", False)
            dataloader = runner.build_dataloader(
                dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed
            )
        iters = int(max_iters) if max_iters is not None else max_epochs * len(dataloader)
        super().__init__(runner=runner, dataloader=dataloader, max_iters=iters, **kwargs)


class Preempted(RuntimeError):
    """Raised by ``PreemptAtIterHook`` to stop a session the way a killed job stops."""


@HOOKS.register_module(force=True)
class PreemptAtIterHook(Hook):
    """Kills the session right after iteration ``at_iter`` has been logged (a preempted or
    crashed job). Registered on the runner object, never in a config."""

    priority = "LOWEST"

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 >= self.at_iter:
            raise Preempted(f"simulated preemption after iteration {self.at_iter}")


# --------------------------------------------------------------------------------------------
# The users' config files. Shared pieces are plain string blocks, so each file reads like a
# config somebody wrote by hand.
# --------------------------------------------------------------------------------------------
ITER_BASED_RUNTIME = """
default_scope = None
randomness = dict(seed=0)
log_processor = dict(by_epoch=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval={log_interval}, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval={ckpt_interval}))
visualizer = dict(
    type='Visualizer',
    vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
"""


def _iter_runtime(ckpt_interval: int = 1000000, log_interval: int = 1) -> str:
    return ITER_BASED_RUNTIME.format(ckpt_interval=ckpt_interval, log_interval=log_interval)


def _dataloader(n: int = 320, batch: int = 8, **ds: object) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in ds.items())
    return f"""
train_dataloader = dict(
    batch_size={batch},
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyDS', n={n}{extra}))
"""


XTUNER_SCHEDULE_BUGGY = """
# scheduler: as in XTuner's configs before the fix
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-5, by_epoch=True, begin=0,
         end=warmup_ratio * max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_ratio * max_epochs, T_max=max_epochs, convert_to_iter_based=True),
]
"""

XTUNER_SCHEDULE_FIXED = """
# scheduler: `end=max_epochs` instead of `T_max=max_epochs`
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-5, by_epoch=True, begin=0,
         end=warmup_ratio * max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True,
         begin=warmup_ratio * max_epochs, end=max_epochs, convert_to_iter_based=True),
]
"""


def _xtuner_head(max_epochs: int, lr: float, warmup_ratio: float = 0.03) -> str:
    return f"""
max_epochs = {max_epochs}
lr = {lr}
warmup_ratio = {warmup_ratio}
model = dict(type='ToyModel')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=lr, weight_decay=0))
train_cfg = dict(type='TrainLoop', max_epochs=max_epochs)
"""


def _epoch_multistep(max_epochs: int, milestones: list[int]) -> str:
    """An epoch-based MultiStepLR recipe whose `end` follows the training length."""
    return f"""
max_epochs = {max_epochs}
model = dict(type='ToyModel')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones={milestones},
         gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs)
default_scope = None
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=2),
    checkpoint=dict(type='CheckpointHook', interval=1))
visualizer = dict(
    type='Visualizer',
    vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
""" + _dataloader(n=160, batch=16)


CONFIGS: dict[str, str] = {
    "mmengine_plateau_e4": _xtuner_head(4, 1e-4)
    + XTUNER_SCHEDULE_BUGGY
    + _dataloader()
    + _iter_runtime(),
    "mmengine_fixed_e4": _xtuner_head(4, 1e-4)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader()
    + _iter_runtime(),
    "mmengine_plateau_textlog_only": _xtuner_head(3, 2e-4)
    + XTUNER_SCHEDULE_BUGGY
    + _dataloader(n=240)
    + _iter_runtime()
    + """
# no vis backends: only the text log is written
visualizer = dict(type='Visualizer', vis_backends=[])
""",
    "mmengine_multistep_val": """
# an mmdet-style 1x schedule: 12 epochs, iteration warmup, steps at epochs 8 and 11
model = dict(type='ToyModel')
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyDS', n=320))
val_dataloader = dict(
    batch_size=32,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyDS', n=128, seed=4321))
val_evaluator = dict(type='ToyAccuracy')
train_cfg = dict(by_epoch=True, max_epochs=12, val_interval=1)
val_cfg = dict()
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
default_scope = None
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=4))
visualizer = dict(
    type='Visualizer',
    vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
""",
    "mmengine_constant_lr": """
# no param_scheduler: the LR stays at the optimizer's value for the whole run
model = dict(type='ToyModel')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(by_epoch=False, max_iters=150)
"""
    + _dataloader()
    + _iter_runtime(),
    "mmengine_resume": _xtuner_head(4, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader()
    + _iter_runtime(ckpt_interval=50),
    "mmengine_load_from_restart": _xtuner_head(4, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader()
    + _iter_runtime(ckpt_interval=50),
    "mmengine_nan_high_lr": """
# SGD with a learning rate far above what this regressor tolerates, reached after a warmup
max_epochs = 5
model = dict(type='ToyRegressor')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=1.0, momentum=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
]
train_cfg = dict(type='TrainLoop', max_epochs=max_epochs)
"""
    + _dataloader(task="regression")
    + _iter_runtime(),
    "mmengine_divergence": """
# lr copied from a recipe tuned for a much larger batch: too high for batch 8, and nothing
# (no clipping, no decay) brings it back down
max_epochs = 5
model = dict(type='ToyModel')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.25, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
]
train_cfg = dict(type='TrainLoop', max_epochs=max_epochs)
"""
    + _dataloader()
    + _iter_runtime(),
    "mmengine_throughput_drop": _xtuner_head(5, 1e-3)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(io_delay_after=800, io_delay=0.005)
    + _iter_runtime(),
    "mmengine_cosine_tmax_epochs_per_iter": _xtuner_head(3, 1e-3)
    + """
# T_max meant as 3 epochs, but by_epoch=False makes it 3 *iterations*
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=False),
]
"""
    + _dataloader()
    + _iter_runtime(),
    "mmengine_loss_spikes": """
# a healthy cosine over one pass of 1280 samples; three of the records have their target in
# another unit (x50), which nobody noticed
model = dict(type='ToyRegressor')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=0, end=160),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=160)
"""
    + _dataloader(n=1280, task="regression", wrong_unit_idx=(2, 17, 400))
    + _iter_runtime(),
    "mmengine_warmup_never_ends": _xtuner_head(3, 2e-4)
    + """
# warmup then constant; `warmup_steps` meant iterations, but this scheduler counts epochs
warmup_steps = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_steps,
         convert_to_iter_based=True),
]
"""
    + _dataloader()
    + _iter_runtime(),
    "mmengine_long_warmup": """
# warmup length copied from a recipe that trained 10k iterations, into a 480-iteration run
max_iters = 480
warmup_iters = 200
model = dict(type='ToyModel')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
"""
    + _dataloader()
    + _iter_runtime(log_interval=5),
    "mmengine_schedule_past_end": """
# an mmseg 40k schedule with training cut to 300 iterations for a quick try: the poly decay
# still spans 40000 iterations
model = dict(type='ToyModel')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300)
"""
    + _dataloader()
    + _iter_runtime(log_interval=2),
    "mmengine_schedule_ends_early": """
# the cosine's `end` was left at an earlier training length: it stops at 180 of 300 iterations
model = dict(type='ToyModel')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0))
param_scheduler = [
    dict(type='CosineAnnealingLR', begin=0, end=180, by_epoch=False, eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300)
"""
    + _dataloader()
    + _iter_runtime(log_interval=2),
    "mmengine_resume_more_epochs": _xtuner_head(1, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(n=200)
    + _iter_runtime(),
    "mmengine_resume_new_milestones": _epoch_multistep(6, [3, 5]),
    "mmengine_resume_new_lr": _xtuner_head(3, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(n=160)
    + _iter_runtime(ckpt_interval=20),
    "mmengine_fresh_restart": _xtuner_head(3, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(n=160)
    + _iter_runtime(ckpt_interval=20),
}

# The same config files as edited by their users between the first session and the resume.
EDITED: dict[str, str] = {
    # xtuner#211: trained 1 epoch, then `--resume` with max_epochs = 2.
    "mmengine_resume_more_epochs": _xtuner_head(2, 1e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(n=200)
    + _iter_runtime(),
    # mmengine#1565: a milestone and two epochs added before resuming.
    "mmengine_resume_new_milestones": _epoch_multistep(8, [3, 5, 7]),
    # a base LR doubled before resuming a killed run.
    "mmengine_resume_new_lr": _xtuner_head(3, 2e-3, warmup_ratio=0.1)
    + XTUNER_SCHEDULE_FIXED
    + _dataloader(n=160)
    + _iter_runtime(ckpt_interval=20),
}


# --------------------------------------------------------------------------------------------
# Running a config and turning its work_dir into a committed sample.
# --------------------------------------------------------------------------------------------
_last_start = [0.0]


def _new_second() -> None:
    """mmengine names sessions, loggers and visualizers by a one-second timestamp: two runners
    started in the same second would share them, so each run starts in a fresh second."""
    now = time.time()
    if int(now) == int(_last_start[0]):
        time.sleep(int(now) + 1.05 - now)
    _last_start[0] = time.time()


def _train(
    cfg_path: Path,
    *,
    stop_at: int | None = None,
    **overrides: object,
) -> None:
    """Train one session of a config; with ``stop_at`` the session dies after that iteration."""
    _new_second()
    cfg = Config.fromfile(str(cfg_path))
    for key, value in overrides.items():
        cfg[key] = value
    runner = Runner.from_cfg(cfg)
    if stop_at is not None:
        runner.register_hook(PreemptAtIterHook(stop_at), priority="LOWEST")
    try:
        runner.train()
    except Preempted:
        pass  # the "killed" session: nothing after this iteration runs
    finally:
        # Flush buffered TensorBoard events (a killed job may lose them; a sample must not).
        runner.visualizer.close()


def _scrub(work_dir: Path, tmp_root: Path) -> None:
    """Delete checkpoints and rewrite the temporary directory to the neutral location."""
    for ckpt in work_dir.rglob("*.pth"):
        ckpt.unlink()
    for path in work_dir.rglob("*"):
        if not path.is_file() or path.name.startswith("events.out.tfevents"):
            continue
        text = path.read_text(encoding="utf-8")
        new = text.replace(str(tmp_root), NEUTRAL_ROOT)
        if new != text:
            path.write_text(new, encoding="utf-8")
    for folder in sorted(work_dir.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _run_sample(name: str, out_dir: Path, sessions: Callable[[Path], None]) -> None:
    """Write the config, let ``sessions`` train in a temp dir, then copy the work_dir out."""
    tmp_root = Path(tempfile.mkdtemp(prefix="logan_samples_")).resolve()
    old_cwd = Path.cwd()
    try:
        os.chdir(tmp_root)
        cfg_path = tmp_root / "configs" / f"{name}.py"
        cfg_path.parent.mkdir()
        cfg_path.write_text(f"work_dir = {name!r}\n" + CONFIGS[name], encoding="utf-8")
        sessions(cfg_path)
        work_dir = tmp_root / name
        _scrub(work_dir, tmp_root)
        dest = out_dir / name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(work_dir, dest)
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(tmp_root, ignore_errors=True)


def _one_session(cfg_path: Path) -> None:
    _train(cfg_path)


def _resume_sessions(cfg_path: Path) -> None:
    """Checkpoints at 50 and 100; killed after 130; resumed from iter_100 (101-130 again)."""
    _train(cfg_path, stop_at=130)
    _train(cfg_path, resume=True)


def _load_from_sessions(cfg_path: Path) -> None:
    """Killed after 110; restarted with ``load_from`` (weights only): the schedule restarts."""
    _train(cfg_path, stop_at=110)
    name = cfg_path.stem
    _train(cfg_path, load_from=f"{name}/iter_100.pth")


def _edit(cfg_path: Path) -> None:
    """Rewrite the config file the way its user edited it before the next session."""
    name = cfg_path.stem
    cfg_path.write_text(f"work_dir = {name!r}\n" + EDITED[name], encoding="utf-8")


def _resume_after_edit_sessions(cfg_path: Path) -> None:
    """Train to the end, edit the config (longer training, new milestones), resume."""
    _train(cfg_path)
    _edit(cfg_path)
    _train(cfg_path, resume=True)


def _killed_resume_after_edit_sessions(cfg_path: Path) -> None:
    """Killed after 30 (checkpoint at 20), the config edited, resumed from iter_20."""
    _train(cfg_path, stop_at=30)
    _edit(cfg_path)
    _train(cfg_path, resume=True)


def _fresh_restart_sessions(cfg_path: Path) -> None:
    """Killed after 35; the same command run again without `resume`: training starts over.
    (Not killed right after an epoch: mmengine's 2 s dataloader restart would then fill the
    killed attempt's last quarter, which is a throughput drop of its own.)"""
    _train(cfg_path, stop_at=35)
    _train(cfg_path)


SESSIONS: dict[str, Callable[[Path], None]] = {
    "mmengine_resume": _resume_sessions,
    "mmengine_load_from_restart": _load_from_sessions,
    "mmengine_resume_more_epochs": _resume_after_edit_sessions,
    "mmengine_resume_new_milestones": _resume_after_edit_sessions,
    "mmengine_resume_new_lr": _killed_resume_after_edit_sessions,
    "mmengine_fresh_restart": _fresh_restart_sessions,
}

# Priority order (see sample_logs/README.md).
SAMPLE_NAMES: tuple[str, ...] = (
    "mmengine_plateau_e4",
    "mmengine_fixed_e4",
    "mmengine_plateau_textlog_only",
    "mmengine_multistep_val",
    "mmengine_constant_lr",
    "mmengine_resume",
    "mmengine_load_from_restart",
    "mmengine_nan_high_lr",
    "mmengine_divergence",
    "mmengine_throughput_drop",
    "mmengine_cosine_tmax_epochs_per_iter",
    "mmengine_loss_spikes",
    "mmengine_warmup_never_ends",
    "mmengine_long_warmup",
    "mmengine_schedule_past_end",
    "mmengine_schedule_ends_early",
    "mmengine_resume_more_epochs",
    "mmengine_resume_new_milestones",
    "mmengine_resume_new_lr",
    "mmengine_fresh_restart",
)


def main(out_dir: Path, only: Sequence[str] | None = None) -> None:
    """Regenerate every mmengine sample (or those named in ``only``) under ``out_dir``."""
    # Resuming loads optimizer state and message hubs, which torch>=2.6 refuses by default.
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    torch.set_num_threads(1)  # same float summation order on every machine
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_NAMES:
        if only and name not in only:
            continue
        _run_sample(name, out_dir, SESSIONS.get(name, _one_session))

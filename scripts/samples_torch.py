"""Produce the plain-PyTorch TensorBoard sample: a hand-written training loop, no framework.

This is the most common "other" shape of a training log: a loop that calls
``torch.utils.tensorboard.SummaryWriter.add_scalar`` once per iteration for ``train/lr`` and
``train/loss`` (global step counted from 0, the LR logged being the one used for that step), with
a healthy schedule built from torch's own schedulers: ``LinearLR`` warmup then
``CosineAnnealingLR`` to zero, chained by ``SequentialLR`` and stepped every iteration.
"""

from __future__ import annotations

import copy
import math
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
from torch.utils.tensorboard import SummaryWriter

SAMPLE_NAMES: tuple[str, ...] = (
    "torch_tb_cosine",
    "torch_amp_overflow",
    "torch_resume_rebuilt_cosine",
)
TOTAL_STEPS = 200
WARMUP_STEPS = 20
BATCH = 8
BASE_LR = 1e-3


def _torch_tb_cosine(dest: Path) -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    inputs = torch.randn(320, 16, generator=gen)
    labels = (inputs @ torch.randn(16, 4, generator=gen)).argmax(dim=1)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR, weight_decay=0.0)
    scheduler = SequentialLR(
        optimizer,
        schedulers=[
            LinearLR(optimizer, start_factor=0.01, total_iters=WARMUP_STEPS),
            CosineAnnealingLR(optimizer, T_max=TOTAL_STEPS - WARMUP_STEPS, eta_min=0.0),
        ],
        milestones=[WARMUP_STEPS],
    )
    writer = SummaryWriter(log_dir=str(dest))
    order = torch.randperm(len(inputs), generator=gen)
    for step in range(TOTAL_STEPS):
        start = (step * BATCH) % len(inputs)
        if start == 0 and step:
            order = torch.randperm(len(inputs), generator=gen)
        idx = order[start : start + BATCH]
        loss = nn.functional.cross_entropy(model(inputs[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
        writer.add_scalar("train/loss", loss.item(), step)
        optimizer.step()
        scheduler.step()
    writer.close()


def _data() -> tuple[torch.Tensor, torch.Tensor, torch.Generator]:
    gen = torch.Generator().manual_seed(1234)
    inputs = torch.randn(320, 16, generator=gen)
    labels = (inputs @ torch.randn(16, 4, generator=gen)).argmax(dim=1)
    return inputs, labels, gen


def _torch_amp_overflow(dest: Path) -> None:
    """fp16 autocast with torch's dynamic loss scaler, as documented: ``GradScaler`` doubles the
    scale after 20 clean steps (``growth_interval=20``) and, when the scaled gradients overflow,
    skips that step and halves it. ``train/grad_norm`` is logged after ``unscale_``: inf at each
    skipped step, finite again right after; the loss stays finite throughout."""
    torch.manual_seed(0)
    inputs, labels, _ = _data()
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_interval=20)
    writer = SummaryWriter(log_dir=str(dest))
    for step in range(TOTAL_STEPS):
        start = (step * BATCH) % len(inputs)
        idx = torch.arange(start, start + BATCH)
        with torch.autocast("cpu", dtype=torch.float16):
            loss = nn.functional.cross_entropy(model(inputs[idx]), labels[idx])
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
        writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
        writer.add_scalar("train/loss", loss.item(), step)
        writer.add_scalar("train/grad_norm", grad_norm.item(), step)
        writer.add_scalar("train/loss_scale", scaler.get_scale(), step)
        scaler.step(optimizer)
        scaler.update()
    writer.close()


def _cosine_lambda(total: int) -> Callable[[int], float]:
    """The LambdaLR factor of a warmup + cosine over `total` steps (what transformers'
    ``get_cosine_schedule_with_warmup`` builds): a closure, so a scheduler's state_dict cannot
    carry it."""

    def factor(step: int) -> float:
        if step < WARMUP_STEPS:
            return (step + 1) / WARMUP_STEPS
        progress = (step - WARMUP_STEPS) / max(1, total - WARMUP_STEPS)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return factor


def _torch_resume_rebuilt_cosine(dest: Path) -> None:
    """A hand-written loop with checkpoints every 50 steps, killed after step 119 of a 200-step
    cosine; resumed from the step-100 checkpoint after the user raised the total to 260 steps:
    the resumed session rebuilds its LambdaLR with the new length and loads the old scheduler's
    state (``last_epoch`` only), so at step 100 the LR jumps to the new cosine's value. Each
    session writes its own event file into the same folder."""
    torch.manual_seed(0)
    inputs, labels, _ = _data()
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    checkpoint: dict[str, object] = {}

    def session(total: int, start: int, stop: int, resume: dict[str, object] | None) -> None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=BASE_LR, weight_decay=0.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine_lambda(total))
        if resume is not None:
            model.load_state_dict(resume["model"])  # type: ignore[arg-type]
            optimizer.load_state_dict(resume["optimizer"])  # type: ignore[arg-type]
            scheduler.load_state_dict(resume["scheduler"])  # type: ignore[arg-type]
        writer = SummaryWriter(log_dir=str(dest))
        for step in range(start, stop):
            first = (step * BATCH) % len(inputs)
            idx = torch.arange(first, first + BATCH)
            loss = nn.functional.cross_entropy(model(inputs[idx]), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
            writer.add_scalar("train/loss", loss.item(), step)
            optimizer.step()
            scheduler.step()
            if (step + 1) % 50 == 0:
                checkpoint.update(
                    model=copy.deepcopy(model.state_dict()),
                    optimizer=copy.deepcopy(optimizer.state_dict()),
                    scheduler=copy.deepcopy(scheduler.state_dict()),
                )
        writer.close()

    session(TOTAL_STEPS, 0, 120, None)  # killed after step 119
    time.sleep(1.1)  # event file names carry the second they were opened
    session(260, 100, 260, dict(checkpoint))


PRODUCERS: dict[str, Callable[[Path], None]] = {
    "torch_tb_cosine": _torch_tb_cosine,
    "torch_amp_overflow": _torch_amp_overflow,
    "torch_resume_rebuilt_cosine": _torch_resume_rebuilt_cosine,
}


def main(out_dir: Path, only: Sequence[str] | None = None) -> None:
    """Regenerate the plain-torch sample(s) under ``out_dir``."""
    for name in SAMPLE_NAMES:
        if only and name not in only:
            continue
        dest = out_dir / name
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        PRODUCERS[name](dest)

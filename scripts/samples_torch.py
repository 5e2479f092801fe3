"""Produce the plain-PyTorch TensorBoard sample: a hand-written training loop, no framework.

This is the most common "other" shape of a training log: a loop that calls
``torch.utils.tensorboard.SummaryWriter.add_scalar`` once per iteration for ``train/lr`` and
``train/loss`` (global step counted from 0, the LR logged being the one used for that step), with
a healthy schedule built from torch's own schedulers: ``LinearLR`` warmup then
``CosineAnnealingLR`` to zero, chained by ``SequentialLR`` and stepped every iteration.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
from torch.utils.tensorboard import SummaryWriter

SAMPLE_NAMES: tuple[str, ...] = ("torch_tb_cosine",)
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


def main(out_dir: Path, only: Sequence[str] | None = None) -> None:
    """Regenerate the plain-torch sample(s) under ``out_dir``."""
    for name in SAMPLE_NAMES:
        if only and name not in only:
            continue
        dest = out_dir / name
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        _torch_tb_cosine(dest)

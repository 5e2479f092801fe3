"""Produce logan's Lightning samples by really training a tiny regressor with `lightning` on CPU.

Every sample logs through both a ``CSVLogger`` and a ``TensorBoardLogger`` into the same
``lightning_logs/version_0/`` folder (``metrics.csv``, ``hparams.yaml``, one event file) with a
``LearningRateMonitor(logging_interval="step")`` and ``log_every_n_steps=1``. The three samples
differ only in how a torch ``CosineAnnealingLR`` is wired to Lightning's scheduler ``interval``:
``T_max`` in epochs but stepped per step (the LR cycles), ``T_max`` in steps but stepped per epoch
(the LR barely moves), and ``T_max`` in steps stepped per step (healthy). No checkpoints are
written. Run as ``python scripts/samples_lightning.py [OUT_DIR]``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SAMPLE_NAMES = (
    "lightning_cycles",
    "lightning_per_epoch_stepped",
    "lightning_healthy",
    "lightning_zero_init_frozen",
)
SEED = 0
N_TRAIN = 80
BATCH = 8
STEPS_PER_EPOCH = N_TRAIN // BATCH  # 10
MAX_EPOCHS = 4
TOTAL_STEPS = STEPS_PER_EPOCH * MAX_EPOCHS  # 40
IN_DIM = 4
ETA_MIN = 1e-6


def _module_class() -> Any:
    """Build the LightningModule class lazily: importing this file must not import lightning."""
    import lightning as L
    import torch

    class TinyRegressor(L.LightningModule):
        """y = sum(x) with one linear layer; hyperparameters land in hparams.yaml."""

        def __init__(
            self,
            lr: float = 1e-3,
            t_max: int = TOTAL_STEPS,
            interval: str | None = "step",
            optimizer: str = "AdamW",
            bias_lr_factor: float | None = None,
            eta_min: float = ETA_MIN,
        ) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Linear(IN_DIM, 1)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

        def configure_optimizers(self) -> Any:
            hp = self.hparams
            if hp.bias_lr_factor is None:
                params: Any = self.parameters()
            else:  # two parameter groups: the monitor then logs lr-<Opt>/pg1 and /pg2
                params = [
                    {"params": [self.net.weight]},
                    {"params": [self.net.bias], "lr": hp.lr * hp.bias_lr_factor},
                ]
            if hp.optimizer == "SGD":
                opt = torch.optim.SGD(params, lr=hp.lr, momentum=0.9)
            else:
                opt = torch.optim.AdamW(params, lr=hp.lr)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=hp.t_max, eta_min=hp.eta_min
            )
            if hp.interval is None:  # Lightning's default: the scheduler is stepped once per epoch
                return {"optimizer": opt, "lr_scheduler": sched}
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": hp.interval}}

    return TinyRegressor


def _train(out_dir: Path, name: str, **hparams: Any) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    target = out_dir / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    L.seed_everything(SEED, verbose=False)
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(N_TRAIN, IN_DIM, generator=gen)
    y = x.sum(1, keepdim=True)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH)
    val = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x[:16], y[:16]), batch_size=BATCH
    )
    loggers = [
        CSVLogger(str(target), name="lightning_logs", version=0),
        TensorBoardLogger(str(target), name="lightning_logs", version=0),
    ]
    trainer = L.Trainer(
        max_epochs=MAX_EPOCHS,
        log_every_n_steps=1,
        logger=loggers,
        callbacks=[LearningRateMonitor(logging_interval="step")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        deterministic=True,
    )
    trainer.fit(_module_class()(**hparams), train, val)


def lightning_cycles(out_dir: Path) -> None:
    """T_max = max_epochs (4) but stepped every optimizer step: period 8 steps, 5 cycles."""
    _train(out_dir, "lightning_cycles", t_max=MAX_EPOCHS, interval="step")


def lightning_per_epoch_stepped(out_dir: Path) -> None:
    """T_max = total steps (40) but no interval given, so Lightning steps it once per epoch."""
    _train(
        out_dir, "lightning_per_epoch_stepped", t_max=TOTAL_STEPS, interval=None, optimizer="SGD"
    )


def lightning_healthy(out_dir: Path) -> None:
    """T_max = total steps, stepped per step; two parameter groups (bias at lr / 10)."""
    _train(out_dir, "lightning_healthy", t_max=TOTAL_STEPS, interval="step", bias_lr_factor=0.1)


def _zero_init_class() -> Any:
    """An MLP whose weights were all initialised to zero (a classic bug): the hidden units stay
    0, no gradient reaches the weights, only the output bias learns, and on full-batch training
    the loss settles on the variance of the targets and stays there to the last digit."""
    import lightning as L
    import torch

    class ZeroInitMLP(L.LightningModule):
        def __init__(self, lr: float = 0.5) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(IN_DIM, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
            )
            for param in self.net.parameters():
                torch.nn.init.zeros_(param)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    return ZeroInitMLP


def lightning_zero_init_frozen(out_dir: Path) -> None:
    """Full-batch training (80 samples, batch 80) of a zero-initialised MLP for 60 epochs."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    name = "lightning_zero_init_frozen"
    target = out_dir / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    L.seed_everything(SEED, verbose=False)
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(N_TRAIN, IN_DIM, generator=gen)
    y = x.sum(1, keepdim=True)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=N_TRAIN)
    loggers = [
        CSVLogger(str(target), name="lightning_logs", version=0),
        TensorBoardLogger(str(target), name="lightning_logs", version=0),
    ]
    trainer = L.Trainer(
        max_epochs=60,
        log_every_n_steps=1,
        logger=loggers,
        callbacks=[LearningRateMonitor(logging_interval="step")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        deterministic=True,
    )
    trainer.fit(_zero_init_class()(), train)


PRODUCERS = {
    "lightning_cycles": lightning_cycles,
    "lightning_per_epoch_stepped": lightning_per_epoch_stepped,
    "lightning_healthy": lightning_healthy,
    "lightning_zero_init_frozen": lightning_zero_init_frozen,
}


def main(out_dir: Path, only: Sequence[str] | None = None) -> None:
    """Write the Lightning samples into ``out_dir`` (all of them, or only the names given)."""
    for name, produce in PRODUCERS.items():
        if only is None or name in only:
            produce(Path(out_dir).resolve())


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "sample_logs"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)

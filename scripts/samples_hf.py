"""Produce logan's Hugging Face samples by really training a tiny GPT-2 with `transformers.Trainer`.

The model is built from a config (random weights, nothing downloaded), the data are random token
ids made in memory, and everything runs on the CPU in a few seconds. What is kept is exactly what
the Trainer writes: ``trainer_state.json`` and the TensorBoard event file of its TensorBoard
callback under ``runs/``. Weights, optimizer/scheduler states, RNG states and the pickled
``training_args.bin`` are deleted (size, and logan must never unpickle anything). The Trainer runs
with the output folder as the working directory, so no absolute path ends up in the logs.
Needs ``transformers`` and ``accelerate``. Run as ``python scripts/samples_hf.py [OUT_DIR]``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SAMPLE_NAMES = ("hf_cosine", "hf_linear_gradaccum")
SEED = 0
VOCAB = 32
SEQ_LEN = 8
# Files a Trainer checkpoint holds that logan never reads; everything else (the logs) is kept.
KEEP_IN_CHECKPOINT = {"trainer_state.json"}
# Where the TensorBoard callback writes, relative to the output folder. The default name holds
# the date and host name; a fixed one keeps regenerated samples comparable.
TB_SUBDIR = "runs/tb"


def _dataset(n: int, seed: int) -> Any:
    """Random token ids as a map-style dataset: the Trainer only needs input_ids and labels."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (n, SEQ_LEN), generator=gen)

    class TokenDataset(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": ids[i], "labels": ids[i]}

    return TokenDataset()


def _tiny_model() -> Any:
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=VOCAB,
        n_positions=SEQ_LEN * 2,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPT2LMHeadModel(config)


def _train(
    out_dir: Path, name: str, n_train: int, n_eval: int, save_state: bool, **kw: Any
) -> None:
    """Train one sample into ``out_dir/name`` (cwd = out_dir so that paths stay relative)."""
    from transformers import Trainer, TrainingArguments, set_seed

    target = out_dir / name
    if target.exists():
        shutil.rmtree(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    old_cwd = Path.cwd()
    old_env = os.environ.get("TENSORBOARD_LOGGING_DIR")
    os.chdir(out_dir)
    os.environ["TENSORBOARD_LOGGING_DIR"] = f"{name}/{TB_SUBDIR}"
    try:
        set_seed(SEED)
        args = TrainingArguments(
            output_dir=name,
            per_device_train_batch_size=4,
            per_device_eval_batch_size=4,
            learning_rate=1e-3,
            logging_steps=1,
            report_to=["tensorboard"],
            seed=SEED,
            use_cpu=True,
            disable_tqdm=True,
            dataloader_num_workers=0,
            **kw,
        )
        trainer = Trainer(
            model=_tiny_model(),
            args=args,
            train_dataset=_dataset(n_train, SEED),
            eval_dataset=_dataset(n_eval, SEED + 1) if n_eval else None,
        )
        trainer.train()
        if save_state:
            trainer.save_state()
    finally:
        os.chdir(old_cwd)
        if old_env is None:
            os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
        else:
            os.environ["TENSORBOARD_LOGGING_DIR"] = old_env
    _prune(target)


def _prune(target: Path) -> None:
    """Delete weights and states from checkpoints and the output folder; keep only logs."""
    for ckpt in target.glob("checkpoint-*"):
        for f in ckpt.iterdir():
            if f.name not in KEEP_IN_CHECKPOINT:
                shutil.rmtree(f) if f.is_dir() else f.unlink()
    for f in target.iterdir():
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".pt", ".pth"}:
            f.unlink()


def hf_cosine(out_dir: Path) -> None:
    """Healthy: cosine with 10 % warmup, 3 epochs of 10 optimizer steps, eval every epoch."""
    _train(
        out_dir,
        "hf_cosine",
        n_train=40,
        n_eval=8,
        save_state=True,
        num_train_epochs=3,
        lr_scheduler_type="cosine",
        # transformers 5 folded `warmup_ratio` into `warmup_steps`: a float < 1 is a ratio.
        warmup_steps=0.1,
        eval_strategy="epoch",
        save_strategy="no",
    )


def hf_linear_gradaccum(out_dir: Path) -> None:
    """Healthy: linear decay, 11 micro-batches per epoch accumulated by 2 -> 6 updates per epoch.

    Only the last checkpoint is kept (``save_total_limit=1``), so the log is the one inside
    ``checkpoint-18/`` and has no end-of-training summary entry: the Trainer writes that after the
    last save.
    """
    _train(
        out_dir,
        "hf_linear_gradaccum",
        n_train=44,
        n_eval=0,
        save_state=False,
        num_train_epochs=3,
        gradient_accumulation_steps=2,
        lr_scheduler_type="linear",
        warmup_steps=2,
        save_strategy="epoch",
        save_total_limit=1,
    )


PRODUCERS = {"hf_cosine": hf_cosine, "hf_linear_gradaccum": hf_linear_gradaccum}


def main(out_dir: Path, only: Sequence[str] | None = None) -> None:
    """Write the HF samples into ``out_dir`` (all of them, or only the names given)."""
    for name, produce in PRODUCERS.items():
        if only is None or name in only:
            produce(Path(out_dir).resolve())


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "sample_logs"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)

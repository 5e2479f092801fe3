"""Canonical scalar names: every producer's spelling of the learning rate and loss mapped to one.

Frameworks log the same quantity under many names (`learning_rate`, `train/lr`, `lr-AdamW`,
`lr-AdamW/pg1`); checks only ever ask for `lr`, `lr/pg<k>`, `loss`, ... so they work on any
producer.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Prefixes that only say "this is a training scalar".
_TRAIN_PREFIXES = ("train/", "train_", "training/", "train-")
_LR_NAMES = {"lr", "learning_rate", "learning-rate", "learningrate"}
# Lightning's LearningRateMonitor: `lr-<Optimizer>`, `lr-<Optimizer>/pg<k>` with k counted from 1
# (pg1 is the first group), `lr-<Optimizer>-<k>` for the k-th optimizer of the same class.
_LIGHTNING_LR = re.compile(r"^lr-[A-Za-z][\w.]*?(?:/pg(?P<pg>\d+)|-(?P<idx>\d+))?$")
# HF Trainer writes its end-of-training summary under `train/train_*` and `train/total_flos`: not
# curves (and `train/train_loss` is the mean loss, not the loss at the last step).
_HF_SUMMARY = re.compile(
    r"^train/(train_(runtime|loss|samples_per_second|steps_per_second)|total_flos)$"
)
_PG = re.compile(r"^(?:lr|learning_rate)[/_-]pg(?P<pg>\d+)$")
_VAL_PREFIXES = ("val/", "val_", "eval/", "eval_", "valid/", "validation/", "test/")
_TEST_PREFIXES = ("test_",)


@lru_cache(maxsize=4096)
def canonical_tag(tag: str) -> str:
    """Map a producer's tag to logan's canonical name; unknown tags pass through unchanged.

    `lr` is parameter group 0, as frameworks log it; other groups become `lr/pg<k>`.
    """
    t = tag.strip()
    if _HF_SUMMARY.match(t):
        return "summary/" + t[len("train/") :]
    if t == "hp_metric":  # Lightning's TensorBoardLogger placeholder, written by every version
        return "summary/hp_metric"
    if t.startswith(_TEST_PREFIXES):
        # `trainer.test()` metrics (Lightning writes them to an event file of their own): an
        # evaluation, kept apart from training curves and from validation of the same name.
        return "val/" + t
    for prefix in _VAL_PREFIXES:
        if t.startswith(prefix) and prefix != "val/":
            return "val/" + t[len(prefix) :]
    for prefix in _TRAIN_PREFIXES:
        if t.startswith(prefix):
            t = t[len(prefix) :]
            break
    low = t.lower()
    if low in _LR_NAMES:
        return "lr"
    m = _PG.match(low)
    if m:
        pg = int(m.group("pg"))
        return "lr" if pg == 0 else f"lr/pg{pg}"
    m = _LIGHTNING_LR.match(t)
    if m:
        if m.group("idx") is not None:
            return f"lr/opt{m.group('idx')}"
        pg = int(m.group("pg") or 1) - 1
        return "lr" if pg <= 0 else f"lr/pg{pg}"
    if low in ("loss", "train_loss", "total_loss"):
        return "loss"
    if low == "grad_norm":
        return "grad_norm"
    return t


def is_loss_tag(tag: str) -> bool:
    """`loss`, `loss_cls`, `decode.loss_ce`, ...: the tags LS rules look at."""
    if tag.startswith(("val/", "summary/")):
        return False
    leaf = tag.rsplit("/", 1)[-1]
    return leaf == "loss" or leaf.startswith("loss_") or ".loss" in leaf or leaf.startswith("loss")

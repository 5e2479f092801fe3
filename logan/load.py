"""Turn a RunSpec (files on disk) into a Run: pick the best source per session, read it, stitch
sessions, attach the config and work out the epoch length.

Source preference per session: the JSON scalars (exact values, every logged key), then TensorBoard
events (float32, every step), then the text log (values printed to 4-5 digits). The text log is
still read for what only it states (epoch length `[i/N]`, max_iters, the dumped config).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from logan.discover import RunSpec, SessionSpec, printable
from logan.epochs import infer_epochs
from logan.errors import UnreadableInput
from logan.model import VAL_PREFIX, Run, Session, Skipped, not_training, tag_prefix_mask
from logan.readers.base import ReadResult, checked, empty_frame

# kind of file -> (module, function). Imported on first use: a reader that is missing or broken
# must only cost the runs that need it.
READERS: dict[str, tuple[str, str]] = {
    "mmengine_json": ("logan.readers.mmengine_json", "read"),
    "mmengine_log": ("logan.readers.mmengine_text", "read"),
    "events": ("logan.readers.tensorboard", "read"),
    "mmcv_json": ("logan.readers.mmcv", "read_json"),
    "mmcv_log": ("logan.readers.mmcv", "read_text"),
    "hf_state": ("logan.readers.hf", "read"),
    "lightning_csv": ("logan.readers.lightning", "read"),
}

# Per producer: which kinds give the scalars, best first.
SCALAR_SOURCES = {
    "mmengine": ("mmengine_json", "events", "mmengine_log"),
    "mmcv": ("mmcv_json", "mmcv_log"),
    "hf": ("hf_state", "events"),
    "lightning": ("lightning_csv", "events"),
    "tensorboard": ("events",),
}
# Kinds read only for the facts they state, when another kind gave the scalars.
META_SOURCES = ("mmengine_log", "mmcv_log")
# Facts about how values were printed: they describe a source's scalars, so they are taken only
# from the source that gave the scalars.
VALUE_FORMAT_KEYS = ("precision", "precision_abs", "significant_digits")
# How many files and skip reasons the message for an unreadable run names before "and N more".
SHOWN_REASONS = 3


def reader_for(kind: str) -> Callable[..., ReadResult]:
    module, func = READERS[kind]
    return getattr(importlib.import_module(module), func)


def _read(kind: str, path: Path, session: int, **kwargs: Any) -> ReadResult:
    """Read one file; an OS-level failure becomes a skip so the rest of the run is still read."""
    try:
        return checked(reader_for(kind)(path, session=session, **kwargs), path)
    except OSError as exc:
        reason = f"cannot read file ({exc.strerror or exc}); check permissions"
    except Exception as exc:  # noqa: BLE001 - a reader bug must cost one file, not the run
        reason = f"reader failed ({type(exc).__name__}: {exc}); please report this file"
    return ReadResult(empty_frame(), [Skipped(str(path), "whole file", reason)])


def _has_train_rows(result: ReadResult) -> bool:
    tags = result.frame["tag"]
    return bool(len(tags)) and not not_training(tags).all()


def read_session(producer: str, spec: SessionSpec, index: int) -> tuple[ReadResult, list[str]]:
    """Read one session from its best source; return the result and the files used."""
    meta: dict[str, Any] = {}
    skipped: list[Skipped] = []
    side_results: dict[str, list[ReadResult]] = {}
    for kind in META_SOURCES:
        for path in spec.files.get(kind, []):
            side = _read(kind, path, index)
            side_results.setdefault(kind, []).append(side)
            meta.update(
                {k: v for k, v in side.meta.items() if v is not None and k not in VALUE_FORMAT_KEYS}
            )
    chosen: tuple[ReadResult, list[Path], list[ReadResult]] | None = None
    for kind in SCALAR_SOURCES.get(producer, ()):
        paths = spec.files.get(kind, [])
        if not paths:
            continue
        if kind in side_results:
            results = side_results[kind]
        else:
            kwargs = {}
            if kind == "mmcv_json" and meta.get("epoch_length"):
                kwargs["epoch_length"] = meta["epoch_length"]
            results = [_read(kind, p, index, **kwargs) for p in paths]
        frames = [r.frame for r in results if len(r.frame)]
        if producer == "lightning" and kind == "events":
            # Lightning's global_step counts from 0 and logs the LR of the next update; its CSV
            # reader shifts by one so step k is update k, as in mmengine and HF. Same here.
            frames = [f.assign(step=f["step"] + 1) for f in frames]
        merged = ReadResult(pd.concat(frames, ignore_index=True) if frames else empty_frame())
        if _has_train_rows(merged):
            chosen = (merged, paths, results)
            break
        if chosen is None or (len(merged.frame) and not len(chosen[0].frame)):
            chosen = (merged, paths, results)  # e.g. validation only; a later source may do better
    if chosen is None:
        return ReadResult(empty_frame(), skipped, meta), []
    result, paths, results = chosen
    for r in results:
        skipped.extend(r.skipped)
        for k, v in r.meta.items():
            if v is not None and (k in VALUE_FORMAT_KEYS or k not in meta):
                meta[k] = v
    result.skipped = skipped
    result.meta = meta
    return result, [str(p) for p in paths]


def _train_steps(frame: pd.DataFrame) -> pd.Series:
    return frame.loc[~not_training(frame["tag"]), "step"]


def stitch(parts: list[tuple[SessionSpec, ReadResult]]) -> tuple[pd.DataFrame, list[Session]]:
    """Join sessions on one timeline.

    A resume continues the step count: where sessions overlap, the later one wins (it is what the
    model actually trained with after the resume). A restart (the step count starts again from the
    first step while earlier sessions got further: `load_from` without `resume`) is kept whole,
    shifted to follow the earlier sessions, and marked so that LR004 can report it.
    """
    frames: list[pd.DataFrame] = []
    sessions: list[Session] = []
    reach = 0  # last train step on the joined timeline so far
    first_logged: int | None = None
    for index, (spec, result) in enumerate(parts):
        frame = result.frame.copy()
        frame["session"] = index
        steps = _train_steps(frame)
        source = ", ".join(str(p) for ps in spec.files.values() for p in ps[:1])
        if not len(steps):
            frames.append(frame)
            sessions.append(Session(spec.name, source))
            continue
        lo, hi = int(steps.min()), int(steps.max())
        if first_logged is None:
            first_logged = lo
        restarted = bool(frames) and lo <= first_logged and lo < reach
        offset = 0
        if restarted:
            offset = reach
            frame["step"] = frame["step"] + offset
        elif frames and lo <= reach:
            # Resume: drop what the earlier sessions logged from this session's first step on.
            is_val = not_training(frame["tag"])
            val_lo = frame.loc[is_val, "step"].min() if is_val.any() else None
            for k, old in enumerate(frames):
                old_val = not_training(old["tag"])
                drop = (~old_val & (old["step"] >= lo)) | (
                    old_val & (old["step"] >= val_lo) if val_lo is not None else False
                )
                frames[k] = old[~drop]
        frames.append(frame)
        sessions.append(Session(spec.name, source, lo + offset, hi + offset, restarted, offset))
        reach = max(reach, hi + offset)
    table = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    table = table.sort_values(["step", "session"], kind="stable").reset_index(drop=True)
    return table, sessions


def _hf_args(spec: RunSpec) -> dict[str, Any]:
    """HF keeps its TrainingArguments only in the TensorBoard events (`args/text_summary`)."""
    for session in spec.sessions:
        for path in session.files.get("events", []):
            side = _read("events", path, 0)
            if side.meta.get("hf_args_text"):
                return {"hf_args_text": side.meta["hf_args_text"]}
    return {}


def _load_config(
    spec: RunSpec, meta: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """The run's config as data, never executed: newest session's dump, work_dir's, the log's."""
    try:
        from logan.schedule.config import MAX_CONFIG_CHARS, load_config
    except ImportError:  # pragma: no cover - the schedule package is part of logan
        return None, None, None
    # The work_dir's dump carries the user's config file name (what a fix diff should name);
    # each session's vis_data/config.py is the same dump under a generic name.
    candidates: list[Path] = list(spec.config_paths)
    for s in reversed(spec.sessions):
        candidates.extend(s.files.get("config", []))
    for path in candidates:
        try:
            if path.stat().st_size > 4 * MAX_CONFIG_CHARS:
                continue  # not a config (a .py that big would only cost memory to read)
            text = path.read_text(encoding="utf-8", errors="replace")
            return load_config(text), str(path), text
        except Exception:  # noqa: BLE001 - a bad config is "no config", never a crash
            continue
    if meta.get("config"):
        return dict(meta["config"]), None, None
    logged = meta.get("config_text")
    if logged:
        try:
            return load_config(logged), None, logged
        except Exception:  # noqa: BLE001
            return None, None, None
    return None, None, None


def load(spec: RunSpec) -> Run:
    """Read every session of a run and assemble the Run."""
    parts: list[tuple[SessionSpec, ReadResult]] = []
    sources: list[str] = []
    skipped: list[Skipped] = []
    meta: dict[str, Any] = {}
    empty = _zero_length(spec)
    if empty:
        # Runs killed before their first log line are common; no reader needs to see them.
        raise UnreadableInput(_nothing_read(spec, empty))
    for index, session in enumerate(spec.sessions):
        result, used = read_session(spec.producer, session, index)
        parts.append((session, result))
        sources.extend(used)
        skipped.extend(result.skipped)
        for k, v in result.meta.items():
            meta[k] = v  # later sessions state the newer facts
    if all(result.frame.empty for _, result in parts):
        raise UnreadableInput(_nothing_read(spec, skipped))
    table, sessions = stitch(parts)
    if spec.producer == "hf" and "hf_args_text" not in meta:
        meta.update(_hf_args(spec))
    if meta.get("hf_args_text") and not meta.get("config"):
        from logan.readers.hf import parse_training_args

        meta["config"] = parse_training_args(meta["hf_args_text"])
    config, config_path, config_text = _load_config(spec, meta)
    if config_text is not None:
        meta["config_text"] = config_text
    epochs = infer_epochs(table, meta, config)
    # One convention for every producer: `epoch` = epochs completed at the end of that step.
    train = ~not_training(table["tag"])
    indexed = meta.get("epoch_column") == "current_1based"
    if epochs.epoch_length and (indexed or table.loc[train, "epoch"].isna().all()):
        table.loc[train, "epoch"] = table.loc[train, "step"].to_numpy() / epochs.epoch_length
    elif indexed:
        table.loc[train, "epoch"] = np.nan
    # mmengine's JSON logs an epoch-based run's validation at `step` = the epoch number (LoggerHook
    # with log_metric_by_epoch); the text log and every other producer use the training step.
    # Put them on the same axis: epoch e is validated after step e * epoch_length.
    val = tag_prefix_mask(table["tag"], VAL_PREFIX) if indexed else None
    if val is not None and val.any() and epochs.epoch_length:
        val_steps = table.loc[val, "step"]
        n_epochs = (
            epochs.max_epochs or int(table.loc[train, "step"].max() / epochs.epoch_length) + 1
        )
        if val_steps.max() <= n_epochs:
            table.loc[val, "epoch"] = val_steps.to_numpy(dtype="float64")
            table.loc[val, "step"] = val_steps.to_numpy() * epochs.epoch_length
            table = table.sort_values(["step", "session"], kind="stable").reset_index(drop=True)
    meta.update(epochs.meta)
    return Run(
        path=spec.display,
        root=spec.root,
        producer=spec.producer,
        sources=tuple(printable(s) for s in _relative_sources(sources, spec)),
        scalars=table,
        sessions=tuple(sessions),
        config=config,
        config_path=None if config_path is None else printable(config_path),
        epoch_length=epochs.epoch_length,
        max_epochs=epochs.max_epochs,
        max_iters=epochs.max_iters,
        # Paths as people read them: a name that is not UTF-8 must not break a report.
        skipped=tuple(Skipped(printable(k.path), k.where, printable(k.reason)) for k in skipped),
        meta=meta,
    )


def _zero_length(spec: RunSpec) -> list[Skipped]:
    """A skip per file when every file of the run is zero bytes long, else nothing."""
    files = [p for s in spec.sessions for ps in s.files.values() for p in ps]
    for p in files:
        try:
            if os.stat(p).st_size:
                return []
        except OSError:
            return []  # the reader reports it
    return [Skipped(str(p), "whole file", "empty file") for p in files]


def _nothing_read(spec: RunSpec, skipped: list[Skipped]) -> str:
    """One line naming the run's files and why none of them gave a number."""
    files = [p for s in spec.sessions for ps in s.files.values() for p in ps]
    why = "; ".join(f"{Path(s.path).name} {s.where}: {s.reason}" for s in skipped[:SHOWN_REASONS])
    more = len(skipped) - SHOWN_REASONS
    if more > 0:
        why += f" and {more} more"
    names = ", ".join(_relative_sources([str(p) for p in files[:SHOWN_REASONS]], spec))
    if len(files) > SHOWN_REASONS:
        names += f" and {len(files) - SHOWN_REASONS} more"
    return printable(
        f"no scalars could be read from {names or 'its files'}"
        + (f" ({why})" if why else "")
        + "; check that these are complete training logs (empty or damaged files hold nothing)"
    )


def _relative_sources(sources: list[str], spec: RunSpec) -> list[str]:
    out = []
    for s in sources:
        try:
            out.append(str(Path(s).relative_to(spec.root)))
        except ValueError:
            out.append(Path(s).name)
    return out

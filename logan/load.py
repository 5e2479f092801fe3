"""Turn a RunSpec (a work_dir-like place on disk) into Runs: read each session with its
producer, split files that hold several sessions, drop repeated records, classify each session
(fresh start, resume, `load_from` continuation, test-only, ended before training) and build one
Run per attempt.

An *attempt* is a fresh start and everything that continued it (resumes, `load_from` of its own
checkpoints). Attempts are never stitched onto one step axis and never compared with each other
by a rule: six trainings left in one work_dir are six runs, named by their first session.
Sessions that trained nothing are not runs; they are returned with their reason so that reports
can account for every file.

Source preference per session: the JSON scalars (exact values, every logged key), then TensorBoard
events (float32, every step), then the text log (values printed to 4-5 digits). The text log is
still read for what only it states (epoch length `[i/N]`, max_iters, the dumped config).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from logan.config import ConfigRead, read_config
from logan.discover import RunSpec, SessionSpec, printable
from logan.epochs import infer_epochs
from logan.errors import UnreadableInput
from logan.model import (
    VAL_PREFIX,
    Run,
    Session,
    SessionKind,
    Skipped,
    not_training,
    tag_prefix_mask,
)
from logan.producers import by_name
from logan.producers.interface import (
    LFS_POINTER,
    LFS_REASON,
    Producer,
    SessionFacts,
    is_lfs_pointer,
)
from logan.readers.base import ReadResult, checked, concat_frames, empty_frame

# Facts about how values were printed: they describe a source's scalars, so they are taken only
# from the source that gave the scalars.
VALUE_FORMAT_KEYS = ("precision", "precision_abs", "significant_digits")
# How many files and skip reasons the message for an unreadable run names before "and N more".
SHOWN_REASONS = 3
# Two copies of the same records agree to float32 precision (an event file beside its JSON).
SAME_VALUES_RTOL = 1e-5
# File kinds that several processes append to (split where a session starts again).
APPENDABLE_KINDS = ("mmengine_json", "llamafactory")
# More falls of the step counter than this, or a segment shorter than this, is disorder, not a
# handful of sessions appended one after another.
MAX_SEGMENTS = 16
MIN_SEGMENT_RECORDS = 2
# Scalars every writer logs beside its metrics, in training and evaluation alike.
BOOKKEEPING_TAGS = ("epoch", "step", "global_step", "iter")


def reader_for(kind: str) -> Callable[..., ReadResult]:
    """The reader function of a file kind, whichever producer declares it."""
    from logan.producers import PRODUCERS

    for producer in PRODUCERS:
        if kind in producer.readers:
            return producer.reader(kind)
    raise KeyError(kind)


def _read(producer: Producer, kind: str, path: Path, session: int, **kwargs: Any) -> ReadResult:
    """Read one file; an OS-level failure becomes a skip so the rest of the run is still read.
    A file that gave nothing and is a Git LFS pointer is said to be one (checked only then:
    good files are not opened twice)."""
    try:
        result = checked(producer.reader(kind)(path, session=session, **kwargs), path)
        if len(result.frame):
            result.frame = producer.adjust(kind, result.frame)
            return result
        failed = None
    except OSError as exc:
        failed = f"cannot read file ({exc.strerror or exc}); check permissions"
    except Exception as exc:  # noqa: BLE001 - a reader bug must cost one file, not the run
        failed = f"reader failed ({type(exc).__name__}: {exc}); please report this file"
    if _lfs_pointer(path):
        return ReadResult(empty_frame(), [Skipped(str(path), "whole file", LFS_REASON)])
    if failed is None:
        return result
    return ReadResult(empty_frame(), [Skipped(str(path), "whole file", failed)])


def _lfs_pointer(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return is_lfs_pointer(fh.read(len(LFS_POINTER)))
    except OSError:
        return False


def _has_train_rows(result: ReadResult) -> bool:
    tags = result.frame["tag"]
    return bool(len(tags)) and not not_training(tags).all()


def read_session(producer: Producer, spec: SessionSpec, index: int) -> tuple[ReadResult, list[str]]:
    """Read one session from its best source; return the result and the files used."""
    meta: dict[str, Any] = {}
    skipped: list[Skipped] = []
    side_results: dict[str, list[ReadResult]] = {}
    for kind in producer.meta_kinds:
        for path in spec.files.get(kind, []):
            side = _read(producer, kind, path, index)
            side_results.setdefault(kind, []).append(side)
            meta.update(
                {k: v for k, v in side.meta.items() if v is not None and k not in VALUE_FORMAT_KEYS}
            )
    chosen: tuple[ReadResult, list[Path], list[ReadResult]] | None = None
    for kind in producer.scalar_kinds:
        paths = spec.files.get(kind, [])
        if not paths:
            continue
        if kind in side_results:
            results = side_results[kind]
        else:
            kwargs = {}
            if kind == "mmcv_json" and meta.get("epoch_length"):
                kwargs["epoch_length"] = meta["epoch_length"]
            results = [_read(producer, kind, p, index, **kwargs) for p in paths]
        frames = [r.frame for r in results if len(r.frame)]
        merged = ReadResult(concat_frames(frames))
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


@dataclass
class Part:
    """One session as read: a session's files, or one of several sessions a file holds."""

    spec: SessionSpec
    name: str
    result: ReadResult
    used: list[str]
    facts: SessionFacts = field(default_factory=SessionFacts)
    kind: SessionKind = SessionKind.FRESH
    reason: str | None = None  # why it is not a training session
    # train_steps(), kept: repeats are looked for pairwise (a vis_data/ reused by 35 processes
    # is 35 parts), and each call filtered the part's whole table again.
    _train_steps: pd.Series | None = field(default=None, repr=False, compare=False)

    def train_steps(self) -> pd.Series:
        """Steps of rows that show training happened (bookkeeping such as `epoch` left out: a
        Lightning test-only file logs `epoch` beside its `test_*` metrics). Read-only."""
        if self._train_steps is None:
            frame = self.result.frame
            rows = ~not_training(frame["tag"]) & ~frame["tag"].isin(BOOKKEEPING_TAGS).to_numpy()
            self._train_steps = frame.loc[rows, "step"]
        return self._train_steps


@dataclass
class Loaded:
    """What a RunSpec holds: a Run per attempt, and the sessions that trained nothing."""

    runs: list[Run]
    # (path, reason) of each session or file that yields no training run.
    unread: list[tuple[str, str]] = field(default_factory=list)


def split_segments(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Rows of one appendable file split where its step counter starts again: mmengine's
    `scalars.json` in a reused folder, LLaMA-Factory's `trainer_log.jsonl` appended to by a
    continuation, a log pasted twice inside git conflict markers hold one session per segment.

    A fall of the step counter is a new session only when what follows covers steps already
    seen (a restart or a resume), and only a few times in the file; records merely out of
    order (a fall to steps not seen yet, or falls everywhere) stay one session. Each tag is
    followed in file order; its k-th fall starts segment k.
    """
    if frame.empty:
        return [frame]
    train = frame.loc[~not_training(frame["tag"])]
    if train.empty:
        return [frame]
    primary = train["tag"].value_counts().idxmax()
    steps = train.loc[train["tag"] == primary, "step"].to_numpy()
    falls = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    if not len(falls) or len(falls) > MAX_SEGMENTS:
        return [frame]
    bounds = [0, *falls.tolist(), len(steps)]
    if min(b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)) < MIN_SEGMENT_RECORDS:
        return [frame]  # records shuffled, not whole sessions one after another
    for k in range(1, len(bounds) - 1):
        before = steps[bounds[k - 1] : bounds[k]]
        after = steps[bounds[k] : bounds[k + 1]]
        if after.max() < before.min():
            return [frame]  # the later half of a file written first: order, not a restart
    back = frame["step"] < frame.groupby("tag", observed=True, sort=False)["step"].shift(1)
    segment = back.groupby(frame["tag"], observed=True, sort=False).cumsum().to_numpy()
    return [frame[segment == k] for k in range(int(segment.max()) + 1) if (segment == k).any()]


def _train_steps(frame: pd.DataFrame) -> pd.Series:
    return frame.loc[~not_training(frame["tag"]), "step"]


def stitch(parts: list[Part]) -> tuple[pd.DataFrame, list[Session]]:
    """Join one attempt's sessions on one timeline.

    A resume continues the step count: where sessions overlap, the later one wins (it is what the
    model actually trained with after the resume). A `load_from` continuation starts the step
    count again while earlier sessions got further: it is kept whole, shifted to follow the
    earlier sessions, and marked so that LR004 can report it.
    """
    frames: list[pd.DataFrame] = []
    sessions: list[Session] = []
    reach = 0  # last train step on the joined timeline so far
    for index, part in enumerate(parts):
        frame = part.result.frame.copy()
        frame["session"] = index
        steps = _train_steps(frame)
        spec = part.spec
        source = ", ".join(str(p) for ps in spec.files.values() for p in ps[:1])
        facts = part.facts
        if not len(steps):
            frames.append(frame)
            sessions.append(Session(part.name, source, kind=part.kind.value, config=facts.config))
            continue
        lo, hi = int(steps.min()), int(steps.max())
        restarted = part.kind == SessionKind.LOAD_FROM and bool(frames) and lo < reach
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
        sessions.append(
            Session(
                part.name,
                source,
                lo + offset,
                hi + offset,
                restarted,
                offset,
                kind=part.kind.value,
                config=facts.config,
                config_path=None if facts.config_path is None else printable(facts.config_path),
            )
        )
        reach = max(reach, hi + offset)
    table = concat_frames(frames)
    table = table.sort_values(["step", "session"], kind="stable").reset_index(drop=True)
    return table, sessions


def _hf_args(producer: Producer, spec: RunSpec) -> dict[str, Any]:
    """HF keeps its TrainingArguments only in the TensorBoard events (`args/text_summary`)."""
    if "events" not in producer.readers:
        return {}
    for session in spec.sessions:
        for path in session.files.get("events", []):
            side = _read(producer, "events", path, 0)
            if side.meta.get("hf_args_text"):
                return {"hf_args_text": side.meta["hf_args_text"]}
    return {}


def _read_parts(producer: Producer, spec: RunSpec) -> list[Part]:
    """Every session of the spec, read, split where a file holds several, in time order."""
    parts: list[Part] = []
    for index, session in enumerate(spec.sessions):
        result, used = read_session(producer, session, index)
        facts = producer.facts(session, result.meta)
        appendable = any(
            Path(u) in session.files.get(k, []) for k in APPENDABLE_KINDS for u in used
        )
        segments = split_segments(result.frame) if appendable else [result.frame]
        for k, frame in enumerate(segments):
            name = session.name if len(segments) == 1 else f"{session.name}#{k + 1}"
            # Skips and facts belong to the file: stated once, on its first segment.
            seg = ReadResult(frame, result.skipped if k == 0 else [], dict(result.meta))
            parts.append(Part(session, name, seg, used, facts))
    return parts


def _same_records(a: Part, b: Part) -> bool:
    """Do two parts hold the same training records (a copy, or a concatenation's segment)?"""
    fa, fb = a.result.frame, b.result.frame
    for tag in ("loss", "lr"):
        sa = fa.loc[fa["tag"] == tag].drop_duplicates("step", keep="last")
        sb = fb.loc[fb["tag"] == tag].drop_duplicates("step", keep="last")
        if len(sa) and len(sa) == len(sb):
            return bool(
                np.array_equal(sa["step"].to_numpy(), sb["step"].to_numpy())
                and np.allclose(
                    sa["value"].to_numpy(),
                    sb["value"].to_numpy(),
                    rtol=SAME_VALUES_RTOL,
                    equal_nan=True,
                )
            )
        if len(sa) or len(sb):
            return False
    return False


def _drop_repeats(parts: list[Part], root: Path) -> tuple[list[Part], list[Part]]:
    """Read each record once: where two parts hold the same training records, keep the one
    from the session with more files (its own folder, its text log), else the one inside the
    place's `root` (a scalars file written outside its work_dir is the copy), and drop the copy.
    Returns the parts kept and the copies dropped (each marked with the part it repeats)."""
    keep: list[Part] = []
    dropped: list[Part] = []
    for part in parts:
        if part.train_steps().empty:
            keep.append(part)
            continue
        twin = next((k for k in keep if not k.train_steps().empty and _same_records(k, part)), None)
        if twin is None:
            keep.append(part)
            continue
        if _weight(part, root) > _weight(twin, root):
            keep[keep.index(twin)] = part
            part, twin = twin, part
        part.reason = f"repeats records read from another file (read once): {twin.name}"
        dropped.append(part)
    return keep, dropped


def _weight(part: Part, root: Path) -> tuple[int, bool]:
    """Which of two copies to keep: more files first, then inside the place's root."""
    return len(part.spec.all_files()), _inside(part, root)


def _inside(part: Part, root: Path) -> bool:
    """All the part's files lie in the place's folder (not a scalars file written above it)."""
    return all(root in f.parents for f in part.spec.all_files())


def _why_no_training(part: Part) -> str:
    """Why a session yields no training run, from what it holds."""
    frame = part.result.frame
    meta = part.result.meta
    files = part.spec.all_files()
    if meta.get("predict_only"):
        return "predict only (no training)"
    if len(frame) and tag_prefix_mask(frame["tag"], VAL_PREFIX).any():
        return "test or validation only"
    if len(frame) and (not_training(frame["tag"]) | frame["tag"].isin(BOOKKEEPING_TAGS)).all():
        return "no training scalars (summary values only)"
    if _has_test_lines(part.spec):
        return "test or validation only"
    logs = [p for k, ps in part.spec.files.items() if k.endswith("_log") for p in ps]
    if logs:
        return "ended before the first training line"
    if files and all(_size(p) == 0 for p in files):
        return "empty"
    if part.result.skipped and all(s.where == "whole file" for s in part.result.skipped):
        return "damaged: " + part.result.skipped[0].reason
    if set(part.spec.files) <= {"config", "hparams"} or (
        part.spec.files.get("config") or part.facts.config is not None
    ):
        return "config only (ended before the first training line)"
    if not len(frame) and not part.result.skipped and meta.get("file_version"):
        return "no scalars (config or metadata only)"  # a whole event file with no scalar in it
    return "damaged: nothing could be read"


def _has_test_lines(spec: SessionSpec) -> bool:
    """A test-only session: its text log has test/val lines and no train line, or mmengine's
    test results file `<ts>/<ts>.json` sits in its folder."""
    from logan.readers.sniff import TextStage, scan_text_log

    for kind, paths in spec.files.items():
        if kind.endswith("_log"):
            for p in paths:
                try:
                    if scan_text_log(p).stage in (TextStage.TEST, TextStage.VAL):
                        return True
                except OSError:
                    continue
    if spec.folder is not None:
        results = spec.folder / f"{spec.folder.name}.json"
        return results.is_file()
    return False


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


def classify(parts: list[Part], producer: Producer, spec: RunSpec) -> list[list[Part]]:
    """Mark each part's kind and group the training ones into attempts.

    A session continues the attempt before it when its step counter continues (a resume: the
    config says `resume`, or, with no config to say, it starts past half of what the attempt
    reached), or when it starts again from a checkpoint the same work_dir wrote (`load_from`,
    LR004's case). Anything else that trains is a fresh start: a new attempt.
    """
    attempts: list[list[Part]] = []
    first_lo = reach = 0
    for part in parts:
        steps = part.train_steps()
        if steps.empty:
            part.reason = _why_no_training(part)
            part.kind = (
                SessionKind.TEST if part.reason.startswith("test") else SessionKind.NO_TRAINING
            )
            continue
        lo, hi = int(steps.min()), int(steps.max())
        facts = part.facts
        kind = SessionKind.FRESH
        if attempts:
            if lo > first_lo and (facts.resume is True or lo > reach / 2):
                kind = SessionKind.RESUME
            elif facts.load_from and producer.is_own_checkpoint(facts.load_from, spec):
                kind = SessionKind.LOAD_FROM
        elif facts.resume and lo > 1:
            kind = SessionKind.RESUME  # the sessions before it were not kept
        part.kind = kind
        if kind == SessionKind.FRESH or not attempts:
            attempts.append([part])
            first_lo, reach = lo, hi
        else:
            attempts[-1].append(part)
            reach = max(reach, hi) if kind == SessionKind.RESUME else reach + hi
    return attempts


def _attempt_config(
    attempt: list[Part],
    dumps: list[tuple[Path, ConfigRead]],
    only_attempt: bool,
    meta: dict[str, Any],
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """The config the attempt ran with: its newest session's own (naming the work_dir's dumped
    `<name>.py` when that is the same text, since a fix diff should name the user's file);
    without one, the work_dir's dump when this is the work_dir's only attempt. `dumps` are the
    work_dir's configs, read once for all its attempts."""
    for part in reversed(attempt):
        f = part.facts
        if f.config is None:
            continue
        for path, dump in dumps:
            if (
                dump.text is not None
                and f.config_text is not None
                and dump.text.strip() == f.config_text.strip()
            ):
                return dump.config, str(path), dump.text
        return f.config, f.config_path, f.config_text
    if only_attempt:
        for path, dump in dumps:
            if dump.config is not None:
                return dump.config, str(path), dump.text
    if meta.get("config"):
        return dict(meta["config"]), meta.get("config_path"), None
    logged = meta.get("config_text")
    if logged:
        read = read_config(logged)
        if read.config is not None:
            return read.config, None, read.text
    return None, None, None


def load_all(spec: RunSpec) -> Loaded:
    """Read every session of a spec and build one Run per attempt (see the module docstring)."""
    producer = by_name(spec.producer)
    empty = _zero_length(spec)
    if empty:
        # Runs killed before their first log line are common; no reader needs to see them.
        raise UnreadableInput(_nothing_read(spec, empty))
    parts, repeats = _drop_repeats(_read_parts(producer, spec), spec.root)
    attempts = classify(parts, producer, spec)
    unread = [(_part_path(p, spec), p.reason or "") for p in parts + repeats if p.reason]
    if not attempts:
        skipped = [s for p in parts for s in p.result.skipped]
        if all(p.result.frame.empty for p in parts) and not any(
            p.reason and not p.reason.startswith("damaged") for p in parts
        ):
            raise UnreadableInput(_nothing_read(spec, skipped))
        return Loaded([], unread)
    dumps = [(p, read_config(p)) for p in spec.config_paths]
    # The work_dir's dumped config is for its own attempts, not for scalars written outside it
    # (see `_inside`): it goes to the only attempt inside the place, when there is one.
    own = [a for a in attempts if any(_inside(part, spec.root) for part in a)]
    runs = [
        _build_run(
            producer, spec, attempt, k, len(attempts), parts, dumps,
            only_own=len(own) == 1 and own[0] is attempt,
        )
        for k, attempt in enumerate(attempts)
    ]  # fmt: skip
    return Loaded(runs, unread)


def _part_path(part: Part, spec: RunSpec) -> str:
    if part.spec.folder is not None:
        where = part.spec.folder
    else:
        files = part.spec.all_files()
        where = files[0] if files else spec.root
    try:
        rel = where.relative_to(spec.root)
        text = spec.display if str(rel) == "." else str(Path(spec.display) / rel)
    except ValueError:
        text = str(where)
    if part.name != part.spec.name:
        text += f" ({part.name.rsplit('#', 1)[-1]})"
    return printable(text)


def _build_run(
    producer: Producer,
    spec: RunSpec,
    attempt: list[Part],
    index: int,
    count: int,
    all_parts: list[Part],
    dumps: list[tuple[Path, ConfigRead]],
    only_own: bool,
) -> Run:
    sources: list[str] = []
    skipped: list[Skipped] = []
    meta: dict[str, Any] = {}
    for part in attempt:
        sources.extend(s for s in part.used if s not in sources)
        skipped.extend(part.result.skipped)
        meta.update(part.result.meta)  # later sessions state the newer facts
    # Damage in files that gave no session still costs the run they sit in: say so.
    if index == count - 1:
        for part in all_parts:
            if part.reason and part.reason.startswith("damaged"):
                skipped.extend(part.result.skipped)
    table, sessions = stitch(attempt)
    if producer.name == "hf" and "hf_args_text" not in meta:
        meta.update(_hf_args(producer, spec))
    if meta.get("hf_args_text") and not meta.get("config"):
        from logan.readers.hf import parse_training_args

        meta["config"] = parse_training_args(meta["hf_args_text"])
    config, config_path, config_text = _attempt_config(attempt, dumps, only_own, meta)
    if config is None:
        # A config that is there but cannot be read is said, never dropped silently (RN001).
        for part in attempt:
            if part.facts.config_error:
                where = (part.spec.files.get("config") or part.spec.all_files() or [spec.root])[0]
                reason = f"{part.facts.config_error}; the LR is checked against the logs alone"
                skipped.append(Skipped(str(where), "config", reason))
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
    path = spec.display
    if count > 1:
        path = _part_path(attempt[0], spec)
        meta["attempt"] = {"index": index + 1, "of": count, "work_dir": spec.display}
    return Run(
        path=path,
        root=spec.root if count == 1 else (attempt[0].spec.folder or spec.root),
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

"""Lightning's CSVLogger output: `metrics.csv` (sparse rows) and the `hparams.yaml` beside it.

Every `log_metrics` call is one row holding only the columns it logged, so a row has an LR, or
a training loss, or a validation metric. Lightning's `step` is its global optimizer step from 0,
and the LR that `LearningRateMonitor` logs at step s is the one update s+1 uses; logan's steps
count updates from 1 (as mmengine's `iter` and HF's `step` do), so every row is moved to s+1.
The monitor names its columns `lr-<Optimizer>`, `lr-<Optimizer>/pg<k>` (k counted from 1) or
`lr-<Optimizer>/<group name>`, with `-<n>` after the optimizer when several share a class.
`epoch` is the 0-based current epoch; it becomes logan's convention (epochs completed at the end
of the step, `step / epoch_length`) when the rows pin the epoch length down, else NaN.
`hparams.yaml` is parsed as data only (never executed); `!!python/...` tags are read as plain
data. Each line is parsed as CSV on its own (CSVLogger writes no multi-line cells), so an
unbalanced quote or an oversized cell costs only its line. `lightning_stage` tells a fit from a
test- or validate-only file (TensorBoard events or CSV rows), for discovery.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

from logan.model import VAL_PREFIX, Skipped
from logan.readers.base import ReadResult, build_frame
from logan.tags import canonical_tag

_INDEX_COLUMNS = ("step", "epoch")
# Lightning logs from step 0 the LR of update 1: shift to logan's 1-based update count.
STEP_SHIFT = 1
# Steps at or past this size are damage, not a run: they would not fit the int64 step column.
_STEP_LIMIT = 2**62
# `lr-<Opt>[-<n>][/<group>]`, the LearningRateMonitor's names; `-momentum` / `-weight_decay`
# columns (log_momentum / log_weight_decay) end in those words instead.
_LR_COLUMN = re.compile(r"^lr-(?P<opt>[^/]+?)(?:-(?P<dup>\d+))?(?:/(?P<group>.+))?$")
_MONITOR_EXTRAS = ("-momentum", "-weight_decay")
# Name parts that mark a metric as validation/test rather than training.
_VAL_WORDS = frozenset({"val", "valid", "validation", "eval", "test"})
_WORD_SPLIT = re.compile(r"[/_.\-\s]+")
# Tags every Lightning stage writes: TensorBoardLogger's `hp_metric` placeholder (-1 at step 0)
# and the `epoch` that `self.log` adds to each logged step.
_STAGE_NEUTRAL = frozenset({"hp_metric", "epoch"})
_VALIDATE_WORDS = _VAL_WORDS - {"test"}


def _lr_tags(columns: list[str]) -> dict[str, str]:
    """Canonical names for the monitor's LR columns: the first optimizer's first group is `lr`.

    Lightning counts `pg<k>` from 1, so `lr-AdamW/pg1` is logan's `lr` and `/pg2` is `lr/pg1`.
    Named groups are numbered in the order the columns appear. Further optimizers become
    `lr/opt<n>` (n from 1), their groups `lr/opt<n>/pg<k>`.
    """
    optimizers: list[tuple[str, str | None]] = []
    groups: dict[tuple[str, str | None], list[str]] = {}
    parsed: dict[str, tuple[tuple[str, str | None], str | None, str]] = {}
    for col in columns:
        base, extra = col, ""
        for suffix in _MONITOR_EXTRAS:
            if col.endswith(suffix):
                base, extra = col[: -len(suffix)], suffix[1:]
        m = _LR_COLUMN.match(base)
        if not m:
            continue
        key = (m.group("opt"), m.group("dup"))
        if key not in groups:
            optimizers.append(key)
            groups[key] = []
        group = m.group("group")
        if group is not None and group not in groups[key]:
            groups[key].append(group)
        parsed[col] = (key, group, extra)
    out: dict[str, str] = {}
    for col, (key, group, extra) in parsed.items():
        opt_index = optimizers.index(key)
        if group is None:
            g = 0
        else:
            pg = re.fullmatch(r"pg(\d+)", group)
            g = int(pg.group(1)) - 1 if pg else groups[key].index(group)
        name = "lr" if not extra else extra
        if opt_index:
            name += f"/opt{opt_index}"
        if g > 0:
            name += f"/pg{g}"
        out[col] = name
    return out


def _metric_tag(col: str, columns: set[str]) -> str:
    """Validation metrics under `val/`, training ones by canonical name (`train_loss` -> `loss`)."""
    canon = canonical_tag(col)
    if canon.startswith(VAL_PREFIX):
        return canon
    if _VAL_WORDS & set(_WORD_SPLIT.split(col.lower())):
        return VAL_PREFIX + col
    # self.log(..., on_step=True, on_epoch=True) writes `<name>_step` and `<name>_epoch`.
    if col.endswith("_step") and col[: -len("_step")] not in columns:
        return canonical_tag(col[: -len("_step")])
    return canon


def _float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _split_lines(lines: list[str], spath: str, skipped: list[Skipped]) -> list[list[str]]:
    """Each line as its own CSV row: a stray quote cannot swallow the lines after it.

    A line the csv module refuses (e.g. a cell over its field size limit) becomes an empty row,
    listed as skipped, so later line numbers stay right.
    """
    rows: list[list[str]] = []
    for n, line in enumerate(lines, start=1):
        try:
            row = next(csv.reader([line]), [])
        except csv.Error as exc:
            skipped.append(Skipped(spath, f"line {n}", f"not a CSV row ({exc})"))
            row = []
        rows.append(row)
    return rows


def _epoch_length(pairs: list[tuple[int, int]]) -> tuple[int | None, tuple[int, int] | None]:
    """The epoch length L every (step, 0-based epoch) row agrees with: e*L <= step < (e+1)*L.

    Exact when every step is logged; with sparse logging a range remains, and then no guess is
    made (the range is returned for the record).
    """
    lo, hi = 1, math.inf
    for step, epoch in pairs:
        lo = max(lo, step // (epoch + 1) + 1)
        if epoch > 0:
            hi = min(hi, step // epoch)
    if hi == math.inf or lo > hi:
        return None, None
    hi_int = int(hi)
    return (lo if lo == hi_int else None), (lo, hi_int)


def _load_hparams(path: Path, skipped: list[Skipped]) -> dict[str, Any] | None:
    """hparams.yaml as plain data; None when PyYAML is missing or the file is not a mapping."""
    try:
        import yaml
    except ImportError:
        return None

    class _DataLoader(yaml.SafeLoader):
        """SafeLoader that reads `!!python/...` and other unknown tags as the plain node data."""

    def _plain(loader: Any, _suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    _DataLoader.add_multi_constructor("", _plain)
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        data = yaml.load(text, Loader=_DataLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        skipped.append(Skipped(str(path), "whole file", f"not valid YAML ({type(exc).__name__})"))
        return None
    if data is None:
        return None
    if not isinstance(data, dict):
        skipped.append(Skipped(str(path), "whole file", "not a YAML mapping"))
        return None
    return {str(k): v for k, v in data.items()}


def read(path: Path, session: int = 0) -> ReadResult:
    """Read one CSVLogger `metrics.csv` (and its `hparams.yaml`); bad rows are skipped."""
    path = Path(path)
    spath = str(path)
    raw = path.read_bytes()
    skipped: list[Skipped] = []
    meta: dict[str, Any] = {"step_shift": STEP_SHIFT}
    hparams_path = path.with_name("hparams.yaml")
    if hparams_path.is_file():
        config = _load_hparams(hparams_path, skipped)
        if config:
            meta["config"] = config
            meta["config_path"] = str(hparams_path)
    if not raw.strip():
        skipped.append(Skipped(spath, "whole file", "empty file"))
        return ReadResult(build_frame([], [], [], session=session), skipped, meta)
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        skipped.append(Skipped(spath, "whole file", "bytes that are not UTF-8 were replaced"))
    lines = text.splitlines()
    if not text.endswith(("\n", "\r")) and len(lines) > 1:
        # A cut-off last row may still split into the right number of cells with a cut number.
        skipped.append(Skipped(spath, f"line {len(lines)}", "truncated last line"))
        lines = lines[:-1]
    rows = _split_lines(lines, spath, skipped)
    header = [h.strip() for h in rows[0]] if rows else []
    if "step" not in header:
        skipped.append(Skipped(spath, "line 1", "no `step` column: not a CSVLogger metrics.csv"))
        return ReadResult(build_frame([], [], [], session=session), skipped, meta)
    i_step = header.index("step")
    i_epoch = header.index("epoch") if "epoch" in header else None
    lr_tags = _lr_tags(header)
    names = set(header)
    col_tags = [
        None if h in _INDEX_COLUMNS else lr_tags.get(h) or _metric_tag(h, names) for h in header
    ]

    steps: list[int] = []
    tags: list[str] = []
    values: list[float] = []
    pairs: list[tuple[int, int]] = []  # (step, epoch) of rows with a training scalar
    all_pairs: list[tuple[int, int]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            skipped.append(
                Skipped(spath, f"line {n}", f"{len(row)} cells, header has {len(header)}")
            )
            continue
        step_v = _float(row[i_step])
        if step_v is None or not math.isfinite(step_v):
            skipped.append(Skipped(spath, f"line {n}", "no numeric `step`"))
            continue
        if abs(step_v) >= _STEP_LIMIT:
            skipped.append(Skipped(spath, f"line {n}", "`step` too large"))
            continue
        step = int(step_v)
        epoch_v = _float(row[i_epoch]) if i_epoch is not None and row[i_epoch] else None
        epoch = int(epoch_v) if epoch_v is not None and math.isfinite(epoch_v) else None
        bad = []
        has_train = False
        for col, cell, tag in zip(header, row, col_tags, strict=True):
            if tag is None or not cell.strip():
                continue
            v = _float(cell)
            if v is None:
                bad.append(col)
                continue
            steps.append(step + STEP_SHIFT)
            tags.append(tag)
            values.append(v)
            has_train = has_train or not tag.startswith(VAL_PREFIX)
        if bad:
            skipped.append(Skipped(spath, f"line {n}", f"not a number in {', '.join(bad)}"))
        if epoch is not None:
            all_pairs.append((step, epoch))
            if has_train:
                pairs.append((step, epoch))

    length, span = _epoch_length(all_pairs)
    if length is None and span is None:
        length, span = _epoch_length(pairs)  # e.g. an epoch-end metric logged one step late
    if length is not None:
        meta["epoch_length"] = length
        meta["epoch_length_source"] = "epoch and step columns"
    elif span is not None:
        meta["epoch_length_range"] = span
    # LR rows carry no epoch cell; with the length known every row gets one.
    epochs = [s / length for s in steps] if length else None
    frame = build_frame(steps, tags, values, epochs=epochs, session=session)
    return ReadResult(frame=frame, skipped=skipped, meta=meta)


def tag_stage(tag: str) -> str:
    """Which Lightning stage logs a tag: "test", "validate", "train", or "" for `hp_metric`/`epoch`.

    Works on raw TensorBoard tags (`test_acc`, `val/loss`, `loss_step`) and on this reader's
    tags (`val/test_acc`, `val/loss`, `loss`): `trainer.test()` metrics are named with `test` by
    convention, validation ones with `val`/`valid`/`validation`/`eval`.
    """
    if tag in _STAGE_NEUTRAL or tag.startswith("summary/"):
        return ""
    words = set(_WORD_SPLIT.split(tag.lower()))
    if "test" in words:
        return "test"
    if _VALIDATE_WORDS & words or tag.startswith(VAL_PREFIX):
        return "validate"
    return "train"


def lightning_stage(result: ReadResult) -> str:
    """What a Lightning event file or metrics.csv holds: "fit", "test", "validate" or "empty".

    Lightning writes a new event file per `Trainer` entry point of one logger, so a `trainer.test()`
    after `fit()` leaves an events file of only `test_*` tags (plus `epoch`, `hp_metric`); such a
    file is no training session and must not add steps to the run. "empty" is a version that
    logged nothing but the `hp_metric` placeholder (a fit killed before its first log, or a
    logger that was created and never used). Any training tag makes it "fit", whatever else the
    file holds (a CSV keeps all stages in one file: see `tag_stage` to tell its rows apart).
    """
    stages = {tag_stage(str(t)) for t in result.frame["tag"].unique()} - {""}
    if not stages:
        return "empty"
    if "train" in stages:
        return "fit"
    return "test" if "test" in stages else "validate"

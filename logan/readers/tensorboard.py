"""TensorBoard event files -> the tidy scalar table: every event read, every CRC checked, fast.

One pass over the file finds the CRC-valid records (see `_tfrecord`). Records in the three common
scalar layouts (`simple_value`; torch `new_style` tensors; TF2 `tensor_content` tensors) are then
decoded together in numpy: records whose bytes match outside the number itself form a group, one
member of each group is decoded by protobuf to prove what the group holds, and the numbers of all
members are gathered at once. Anything else (file_version, text, hparams, several values in one
event, unusual writers) goes through `Event.FromString`, one record at a time; images, histograms
and audio are never decoded. Damage is skipped and reported, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from logan.model import Skipped
from logan.readers._tfrecord import HEADER, Frames, scan_frames
from logan.readers.base import ReadResult, build_frame
from logan.tags import canonical_tag

__all__ = ["read", "scan_frames"]

# HF Trainer's TensorBoardCallback writes TrainingArguments as JSON text under this tag.
HF_ARGS_TAG = "args/text_summary"
# Text summaries that state facts about the run: HF's TrainingArguments, and the config that
# mmengine's TensorboardVisBackend writes (`add_config`), which is all an events-only session has.
TEXT_META = {HF_ARGS_TAG: "hf_args_text", "config/text_summary": "config_text"}
SCALARS_PLUGIN = "scalars"
# A Value's bytes around its number (tag, layout, metadata) longer than this are decoded one by
# one: such tags are rare, and every 8 bytes of signature costs one numpy pass over all records.
MAX_SIGNATURE = 128
# Records decoded per numpy pass: each pass gathers from every record, so a block whose bytes
# (about 50 per record, ~0.8 MB) stay in the L2 cache makes the later passes cheap.
BLOCK = 16384

# Layouts decoded in bulk: the bytes that follow the tag inside a Summary.Value, then the width of
# the little-endian float that follows them. Anything after the float (metadata) is part of the
# group signature, so it is checked by decoding one member of each group with protobuf.
_LAYOUTS: tuple[tuple[bytes, int], ...] = (
    (b"\x15", 4),  # simple_value: torch, tensorboardX, mmengine, HF, Lightning
    (b"\x42\x08\x08\x01\x2a\x04", 4),  # tensor{DT_FLOAT, float_val}: torch new_style
    (b"\x42\x0c\x08\x02\x32\x08", 8),  # tensor{DT_DOUBLE, double_val}: torch double_precision
    (b"\x42\x0a\x08\x01\x12\x00\x22\x04", 4),  # tensor{DT_FLOAT, shape [], tensor_content}: TF2
    (b"\x42\x0e\x08\x02\x12\x00\x22\x08", 8),  # the same in float64
)
# For a region of r bytes read as one little-endian uint64: keep only its first r bytes.
_KEEP = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplication is a bijection on uint64

# (record index, raw tag, value, step, wall_time) of one scalar decoded by protobuf.
_Row = tuple[int, str, float, int, float]

# TensorProto dtypes whose single element is a number, as numpy dtypes for tensor_content.
_CONTENT_DTYPES = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    9: "<i8",
    17: "<u2",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}
_DT_BFLOAT16 = 14
_DT_HALF = 19


def read(path: Path, session: int = 0, tags: Iterable[str] | None = None) -> ReadResult:
    """Read one event file; `tags` keeps only rows whose raw or canonical tag is listed."""
    path = Path(path)
    data = path.read_bytes()
    frames = scan_frames(data)
    wanted = None if tags is None else set(tags)
    decoded = _Decoder(data, frames, wanted).run()
    order = np.argsort(decoded.record, kind="stable") if decoded.needs_sort else None

    def col(a: np.ndarray) -> np.ndarray:
        return a if order is None else a[order]

    frame = build_frame(
        col(decoded.step),
        # Categorical from the decoder's own tag numbers: no string per row is ever made.
        pd.Categorical.from_codes(col(decoded.tag), categories=decoded.tag_names),
        col(decoded.value),
        wall_times=col(decoded.wall),
        session=session,
    )
    where = [(o, r) for o, r in frames.damaged] + decoded.failures
    skipped = [Skipped(path=str(path), where=f"offset {o}", reason=r) for o, r in sorted(where)]
    return ReadResult(frame=frame, skipped=skipped, meta=decoded.meta)


@dataclass
class _Decoded:
    record: np.ndarray
    step: np.ndarray
    tag: np.ndarray  # codes into tag_names
    value: np.ndarray
    wall: np.ndarray
    needs_sort: bool  # rows decoded one by one were appended after the bulk ones
    meta: dict[str, Any]
    failures: list[tuple[int, str]] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)


class _Bytes:
    """Vectorised little-endian reads at arbitrary offsets of one buffer (no copies)."""

    def __init__(self, data: bytes) -> None:
        self.n = n = len(data)
        self.u32 = np.ndarray((max(n - 3, 0),), dtype="<u4", buffer=data, strides=(1,))
        self.u64 = np.ndarray((max(n - 7, 0),), dtype="<u8", buffer=data, strides=(1,))
        base = max(n - 8, 0)
        self._tail_base = base
        tail = data[base:] + bytes(16)
        self._tail = np.ndarray((len(tail) - 7,), dtype="<u8", buffer=tail, strides=(1,))

    def word(self, idx: np.ndarray) -> np.ndarray:
        """uint64 at each offset; bytes past the end of the buffer read as zero."""
        if len(idx) == 0 or int(idx.max()) <= self.n - 8:
            return self.u64[idx]
        idx = np.minimum(idx, self.n)
        out = self.u64[np.minimum(idx, self.n - 8)] if self.n >= 8 else np.zeros(len(idx), "<u8")
        over = idx > self.n - 8
        out[over] = self._tail[idx[over] - self._tail_base]
        return out


class _Decoder:
    """Decode the records of one file into columns (see the module docstring for the plan)."""

    def __init__(self, data: bytes, frames: Frames, wanted: set[str] | None) -> None:
        self.data = data
        self.frames = frames
        self.wanted = wanted
        self.meta: dict[str, Any] = {}
        self.plugins: dict[str, str] = {}  # tag -> plugin, from the values that carry metadata
        self.tag_codes: dict[str, int] = {}  # canonical tag -> its number in the tag column
        self.failures: list[tuple[int, str]] = []

    def keep(self, tag: str) -> str | None:
        """The canonical tag, or None when the caller did not ask for this tag."""
        canon = canonical_tag(tag)
        if self.wanted is not None and tag not in self.wanted and canon not in self.wanted:
            return None
        return canon

    def run(self) -> _Decoded:
        starts = self.frames.offsets + HEADER
        ends = starts + self.frames.lengths
        nrec = len(starts)
        buf = _Bytes(self.data)
        slow_mask = np.ones(nrec, dtype=bool)
        blocks = []
        for lo in range(0, nrec, BLOCK):
            fast = _fast_layout(buf, starts, ends, lo, min(lo + BLOCK, nrec))
            slow_mask[fast.records] = False
            blocks.append((fast, *self._check_groups(fast, slow_mask)))
        rows: list[_Row] = []
        pending: list[_Row] = []  # tensors without metadata: scalars if their tag's plugin is
        for r in np.flatnonzero(slow_mask).tolist():
            self._slow_record(r, int(starts[r]), int(ends[r]), rows, pending)
        # TF1 writers strip a tag's metadata after its first value: resolve those now.
        rows += [row for row in pending if self.plugins.get(row[1]) == SCALARS_PLUGIN]
        parts = []
        for fast, group_tags, group_ok, unresolved in blocks:
            for g in unresolved:
                group_ok[g] = self.plugins.get(group_tags[g]) == SCALARS_PLUGIN
            parts.append(self._fast_rows(fast, group_tags, group_ok))
        kept = [(r, c, v, st, w) for r, t, v, st, w in rows if (c := self.keep(t)) is not None]
        if kept:
            parts.append(
                (
                    np.array([k[0] for k in kept], dtype=np.int64),
                    np.array([k[3] for k in kept], dtype=np.int64),
                    np.array([self._code(k[1]) for k in kept], dtype=np.int64),
                    np.array([k[2] for k in kept], dtype=np.float64),
                    np.array([k[4] for k in kept], dtype=np.float64),
                )
            )
        if parts:
            cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
        else:
            cols = [np.empty(0, dtype=t) for t in (np.int64, np.int64, np.int64, float, float)]
        record, step, tag, value, wall = cols
        return _Decoded(
            record, step, tag, value, wall, bool(kept), self.meta, self.failures,
            list(self.tag_codes),
        )  # fmt: skip

    def _code(self, tag: str) -> int:
        return self.tag_codes.setdefault(tag, len(self.tag_codes))

    def _check_groups(
        self, fast: _FastLayout, slow_mask: np.ndarray
    ) -> tuple[list[str], np.ndarray, list[int]]:
        """Decode each group's first member with protobuf to learn what the whole group holds.

        Members match their first one byte for byte except for the number, so they hold the
        same kind of value under the same tag. Returns the raw tag per group, whether the group
        is a scalar, and the groups whose scalar-ness waits on a tag's metadata seen elsewhere.
        """
        ok = np.zeros(len(fast.first), dtype=bool)
        tags: list[str] = []
        unresolved: list[int] = []
        for g, pos in enumerate(fast.first.tolist()):
            r = int(fast.records[pos])
            rows: list[_Row] = []
            pend: list[_Row] = []
            decodes = self._slow_record(
                r, int(fast.starts[r]), int(fast.ends[r]), rows, pend, quiet=True
            )
            got = rows + pend
            if decodes and len(got) == 1 and _same(got[0][2], float(fast.values[pos])):
                ok[g] = True
                tags.append(got[0][1])
                if pend:
                    unresolved.append(g)
            elif decodes and not got:
                tags.append("")  # not a scalar (another plugin): neither is any member
            else:  # unexpected: read the members one by one so nothing readable is lost
                tags.append("")
                slow_mask[fast.records[fast.group == g]] = True
        return tags, ok, unresolved

    def _fast_rows(
        self, fast: _FastLayout, group_tags: list[str], groups_ok: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        names = np.zeros(len(groups_ok), dtype=np.int64)
        keep_group = np.zeros(len(groups_ok), dtype=bool)
        for g, tag in enumerate(group_tags):
            if groups_ok[g]:
                canon = self.keep(tag)
                if canon is not None:
                    names[g] = self._code(canon)
                    keep_group[g] = True
        sel = keep_group[fast.group]
        groups = fast.group[sel]
        return (
            fast.records[sel],
            fast.step[sel],
            names[groups],
            fast.values[sel],
            fast.wall[sel],
        )

    def _slow_record(
        self,
        r: int,
        start: int,
        end: int,
        rows: list[_Row],
        pending: list[_Row],
        quiet: bool = False,
    ) -> bool:
        """Decode one record with protobuf, appending its scalar values; False if it is broken."""
        from tensorboard.compat.proto.event_pb2 import Event

        try:
            ev = Event.FromString(self.data[start:end])
        except Exception as exc:  # DecodeError mostly; whatever the bytes, never raise
            if not quiet:
                where = start - HEADER
                self.failures.append((where, f"record does not decode as an Event: {exc}"))
            return False
        what = ev.WhichOneof("what")
        if what == "file_version":
            self.meta.setdefault("file_version", ev.file_version)
        if ev.HasField("source_metadata") and ev.source_metadata.writer:
            self.meta.setdefault("writer", ev.source_metadata.writer)
        if what != "summary":
            return True
        step = int(ev.step)
        wall = float(ev.wall_time)
        for v in ev.summary.value:
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                rows.append((r, v.tag, float(v.simple_value), step, wall))
                continue
            if kind not in ("tensor", None):
                continue  # images, histograms, audio: never scalars
            plugin = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else ""
            if plugin:
                self.plugins.setdefault(v.tag, plugin)
            if plugin == "hparams":  # torch's add_hparams: metadata only, no value
                self._hparams(v.metadata.plugin_data.content)
            elif kind is None:
                continue
            elif plugin == SCALARS_PLUGIN or not plugin:
                x = _tensor_scalar(v.tensor)
                if x is not None:
                    (rows if plugin else pending).append((r, v.tag, x, step, wall))
            elif plugin == "text" and v.tag in TEXT_META:
                key = TEXT_META[v.tag]
                if v.tensor.string_val and key not in self.meta:
                    raw = v.tensor.string_val[0]
                    self.meta[key] = raw.decode("utf-8", errors="replace")
        return True

    def _hparams(self, content: bytes) -> None:
        from google.protobuf.json_format import MessageToDict
        from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

        try:
            data = HParamsPluginData.FromString(content)
        except Exception:  # DecodeError mostly: hparams are a nicety, never worth a failure
            return
        if data.WhichOneof("data") != "session_start_info":
            return
        out = self.meta.setdefault("hparams", {})
        for name, val in data.session_start_info.hparams.items():
            which = val.WhichOneof("kind")
            if which in ("struct_value", "list_value"):
                out[name] = MessageToDict(getattr(val, which))
            else:
                out[name] = None if which in (None, "null_value") else getattr(val, which)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _tensor_scalar(t: Any) -> float | None:
    """The one number in a TensorProto, or None when it is not a single number."""
    if any(d.size != 1 for d in t.tensor_shape.dim):
        return None
    dt = t.dtype
    if t.tensor_content:
        np_dtype = _CONTENT_DTYPES.get(dt)
        if dt == _DT_BFLOAT16 and len(t.tensor_content) == 2:
            bits = int.from_bytes(t.tensor_content, "little") << 16
            return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])
        if np_dtype is None or len(t.tensor_content) != np.dtype(np_dtype).itemsize:
            return None
        return float(np.frombuffer(t.tensor_content, dtype=np_dtype)[0])
    if dt == 1 and len(t.float_val) == 1:
        return float(t.float_val[0])
    if dt == 2 and len(t.double_val) == 1:
        return float(t.double_val[0])
    if dt == _DT_HALF and len(t.half_val) == 1:
        return float(np.array([t.half_val[0]], dtype=np.uint16).view(np.float16)[0])
    if dt == _DT_BFLOAT16 and len(t.half_val) == 1:
        bits = (t.half_val[0] & 0xFFFF) << 16
        return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])
    if dt in (3, 4, 5, 6, 17) and len(t.int_val) == 1:
        return float(t.int_val[0])
    if dt == 9 and len(t.int64_val) == 1:
        return float(t.int64_val[0])
    if dt == 22 and len(t.uint32_val) == 1:
        return float(t.uint32_val[0])
    if dt == 23 and len(t.uint64_val) == 1:
        return float(t.uint64_val[0])
    return None


@dataclass
class _FastLayout:
    """Records in a bulk layout: their columns, group (signature) and each group's first member."""

    starts: np.ndarray  # per record of the file
    ends: np.ndarray
    records: np.ndarray  # indices (into the file's records) of the bulk-decoded ones
    step: np.ndarray
    wall: np.ndarray
    values: np.ndarray
    group: np.ndarray
    first: np.ndarray  # position (into `records`) of each group's first member


def _fast_layout(
    buf: _Bytes, starts: np.ndarray, ends: np.ndarray, lo: int, hi: int
) -> _FastLayout:
    """Parse Event{wall_time, step, summary{value{tag, <layout>}}} in numpy for records lo:hi.

    Only the byte-exact common encoding qualifies (fields in number order, one value per event,
    one-byte message lengths, steps below 2**42); everything else is left to protobuf.
    """
    s = starts[lo:hi]
    e = ends[lo:hi]
    u64 = np.uint64
    w0 = buf.word(s)
    w1 = buf.word(s + 8)
    ok = ((w0 & u64(0xFF)) == 0x09) & (e - s >= 9 + 6 + 2)
    wall = ((w0 >> u64(8)) | (w1 << u64(56))).view(np.float64)
    # step (field 2): a varint, read from the 6 bytes after its key (in the same word)
    has_step = ((w1 >> u64(8)) & u64(0xFF)) == 0x10
    c = w1 >> u64(16)
    stops = ~c & u64(0x0000808080808080)  # bytes that end the varint
    ok &= ~has_step | (stops != 0)
    size = _lowest_stop_byte(stops)
    c &= _KEEP[np.clip(size, 0, 8)]
    step = c & u64(0x7F)
    for k in range(1, int(size[has_step].max()) if has_step.any() else 0):
        step |= (c >> u64(k)) & u64(0x7F << (7 * k))
    step = np.where(has_step, step, u64(0)).view(np.int64)
    p = s + 9 + np.where(has_step, size + 1, 0)
    # summary (field 5) holding one value (field 1) whose first field is the tag: 6 bytes
    w2 = buf.word(p)
    room = e - p
    ok &= (room >= 6) & (room <= 0x81)  # both lengths fit in one varint byte
    r = np.clip(room, 4, 0x81).astype(u64)
    expect = u64(0x0A00_0A00_2A) | ((r - u64(2)) << u64(8)) | ((r - u64(4)) << u64(24))
    ok &= (w2 & _KEEP[5]) == expect  # 2a <room-2> 0a <room-4> 0a
    tag_len = (w2 >> u64(40)) & u64(0xFF)
    ok &= tag_len < 0x80
    q = p + 6 + tag_len.astype(np.int64)
    ok &= q < e
    after_tag = buf.word(q)
    # simple_value needs one byte compared; the tensor layouts are looked for only if present
    kind = np.where((after_tag & u64(0xFF)) == 0x15, 1, 0)
    hole = q + 1
    width = np.full(len(s), 4, dtype=np.int64)
    tensors = ok & ((after_tag & u64(0xFF)) == 0x42)
    if tensors.any():
        keys = {m: after_tag & _KEEP[m] for m in {len(pattern) for pattern, _ in _LAYOUTS[1:]}}
        for k, (pattern, w) in enumerate(_LAYOUTS[1:], start=2):
            hit = tensors & (keys[len(pattern)] == u64(int.from_bytes(pattern, "little")))
            if hit.any():
                kind[hit] = k
                hole[hit] = q[hit] + len(pattern)
                width[hit] = w
    ok &= (kind > 0) & (hole + width <= e)
    tag_at = p + 5  # the tag's length byte, then the tag
    la = q - tag_at
    lb = e - hole - width
    ok &= (la <= MAX_SIGNATURE) & (lb <= MAX_SIGNATURE)
    rec = np.flatnonzero(ok)
    if len(rec) < len(s):
        tag_at, hole, width, la, lb, kind = (a[rec] for a in (tag_at, hole, width, la, lb, kind))
    # The group signature: layout, tag and the bytes after the number (metadata), exactly.
    words = []
    firsts = []
    for start, length in ((tag_at, la), (hole + width, lb)):
        longest = int(length.max()) if len(length) else 0
        for j in range(0, longest, 8):
            words.append(buf.word(start + j) & _KEEP[np.clip(length - j, 0, 8)])
            if j == 0:
                firsts.append(words[-1])
    # Group on the shape and the first word of each part (tags mostly differ there), then
    # check every word against the group's first member; the few that differ get regrouped.
    h = (kind.astype(u64) << u64(48)) ^ (la.astype(u64) << u64(24)) ^ lb.astype(u64)
    for w in firsts:
        h = (h ^ w) * _HASH_MUL
        h ^= h >> u64(29)
    group, first = _groups(h)
    exact = _matches_first(group, first, kind, la, lb, words)
    if not exact.all():
        bad = np.flatnonzero(~exact)
        sub = [w[bad] for w in words]
        h = h[bad]
        for w in sub:
            h = (h ^ w) * _HASH_MUL
            h ^= h >> u64(29)
        group2, first2 = _groups(h)
        exact[bad] = _matches_first(group2, first2, kind[bad], la[bad], lb[bad], sub)
        group[bad] = group2 + len(first)
        first = np.concatenate([first, bad[first2]])
    if not exact.all():  # a hash collision: those records are decoded one by one
        keep = np.flatnonzero(exact)
        rec, hole, width = rec[keep], hole[keep], width[keep]
        group, first = _groups(group[keep])
    values = np.empty(len(rec), dtype=np.float64)
    w4 = width == 4
    if w4.all():
        values[:] = buf.u32[hole].view(np.float32)
    else:
        values[w4] = buf.u32[hole[w4]].view(np.float32)
        values[~w4] = buf.u64[hole[~w4]].view(np.float64)
    if len(rec) < len(s):
        step, wall = step[rec], wall[rec]
    return _FastLayout(starts, ends, rec + lo, step, wall, values, group, first)


def _lowest_stop_byte(stops: np.ndarray) -> np.ndarray:
    """1 + the index of the lowest byte whose top bit is set in `stops` (its lowest set bit)."""
    lowest = stops & (~stops + np.uint64(1))
    if hasattr(np, "bitwise_count"):  # numpy >= 2: popcount of the bits below it, 8k+7
        return (np.bitwise_count(lowest - np.uint64(1)).astype(np.int64) + 1) >> 3
    lowest[lowest == 0] = 1
    return ((np.log2(lowest.astype(np.float64)) - 7) // 8 + 1).astype(np.int64)


def _matches_first(
    group: np.ndarray,
    first: np.ndarray,
    kind: np.ndarray,
    la: np.ndarray,
    lb: np.ndarray,
    words: list[np.ndarray],
) -> np.ndarray:
    """Whether each record's signature equals its group's first member's, byte for byte."""
    rep = first[group]
    exact = (kind == kind[rep]) & (la == la[rep]) & (lb == lb[rep])
    for w in words:
        exact &= w == w[rep]
    return exact


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each key (in order of first appearance) and each group's first index."""
    group, uniq = pd.factorize(keys)
    first = np.empty(len(uniq), dtype=np.int64)
    first[group[::-1]] = np.arange(len(group) - 1, -1, -1)
    return group.astype(np.int64, copy=False), first

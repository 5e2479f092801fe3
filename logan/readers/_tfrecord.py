"""TFRecord framing for event files: find every complete, CRC-valid record fast, and survive damage.

A record is `uint64 length | uint32 masked CRC32C(length) | data | uint32 masked CRC32C(data)`.
The walk from record to record predicts offsets in bulk once the lengths repeat, and verifies each
prediction against the length stored there (see `_walk`). Every record's two CRCs are then checked:
length CRCs through a per-length cache, data CRCs by google-crc32c (C) on every record, masking and
comparison in numpy. When a length CRC fails the length cannot be trusted, so the scan
resynchronises on the next offset whose length, length CRC and data CRC all validate; a bad data
CRC only drops that one record.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

import numpy as np

try:
    from google_crc32c import value as _crc32c_value

    def _crc(data: bytes) -> int:
        return int(_crc32c_value(data))

    _CRC_BATCH = _crc32c_value
except ImportError:  # pragma: no cover - google-crc32c is a declared dependency
    _crc32c_value = None

    def _crc(data: bytes) -> int:
        return _crc_py(data)

    _CRC_BATCH = _crc

HEADER = 12  # uint64 length + uint32 masked CRC of the length
FOOTER = 4  # uint32 masked CRC of the data
_MASK_DELTA = 0xA282EAD8  # TFRecord's CRC masking constant (leveldb's)
# Records walked per batch before the batch is validated: bounds the work wasted walking garbage
# after a corrupted length, and keeps the per-batch numpy arrays small.
WALK_BATCH = 1 << 16
_UNPACK_Q = struct.Struct("<Q").unpack_from
# Lengths below this are looked up in a dense table (bincount), larger ones via np.unique.
_DENSE_LENGTHS = 1 << 16
# The speculative walk (see `_walk`): records walked one by one before a repeating pattern of
# lengths is looked for (and the most when none shows), the longest pattern looked for (events
# written per logging step), and the range of predictions checked per numpy pass.
_LEARN = 16
_MAX_LEARN = 4096
_MAX_PERIOD = 32
_MIN_BLOCK = 256
_MAX_BLOCK = 1 << 14
# Repetitions of a pattern below which cutting records by struct is not worth building one.
_MIN_REPS = 4
# (index of a run's first record, the lengths it repeats, number of records in the run)
_Segment = tuple[int, tuple[int, ...], int]
# Bytes examined per numpy pass while resynchronising, so a huge damaged region needs no huge array.
RESYNC_CHUNK = 1 << 22


def _crc_py_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_PY_TABLE: list[int] = []


def _crc_py(data: bytes) -> int:
    """Bytewise CRC32C: only used when the C extension is missing (slow, but correct)."""
    if not _PY_TABLE:
        _PY_TABLE.extend(_crc_py_table())
    c = 0xFFFFFFFF
    for b in data:
        c = _PY_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    """The CRC32C of `data`, masked as TFRecord stores it."""
    c = _crc(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _mask_array(crcs: np.ndarray) -> np.ndarray:
    c = crcs.astype(np.uint32, copy=False)
    return ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(_MASK_DELTA)


@dataclass
class Frames:
    """Complete, CRC-valid records of one buffer, in file order, and what was skipped.

    `offsets[i]` is where record i's header starts (its data starts 12 bytes later) and
    `lengths[i]` its data length; `damaged` lists `(offset, reason)` for every skipped piece.
    """

    offsets: np.ndarray
    lengths: np.ndarray
    damaged: list[tuple[int, str]] = field(default_factory=list)

    @property
    def data_starts(self) -> np.ndarray:
        return self.offsets + HEADER


class _Views:
    """Unaligned little-endian views of one buffer at every byte offset (no copies)."""

    def __init__(self, data: bytes) -> None:
        n = len(data)
        self.n = n
        self.u32 = np.ndarray((max(n - 3, 0),), dtype="<u4", buffer=data, strides=(1,))
        self.u64 = np.ndarray((max(n - 7, 0),), dtype="<u8", buffer=data, strides=(1,))
        self.len_crc: dict[int, int] = {}

    def expected_len_crcs(self, data: bytes, lengths: np.ndarray) -> np.ndarray:
        """Masked CRC of each length, computed once per distinct length (lengths repeat)."""
        if not len(lengths):
            return np.empty(0, dtype=np.uint32)
        longest = int(lengths.max())
        if longest < _DENSE_LENGTHS and lengths.dtype.kind == "i":
            seen = np.flatnonzero(np.bincount(lengths))
            table = np.zeros(longest + 1, dtype=np.uint32)
            table[seen] = [self._len_crc(length) for length in seen.tolist()]
            return table[lengths]
        uniq = np.unique(lengths)
        exp = np.array([self._len_crc(length) for length in uniq.tolist()], dtype=np.uint32)
        return exp[np.searchsorted(uniq, lengths)]

    def _len_crc(self, length: int) -> int:
        c = self.len_crc.get(length)
        if c is None:
            c = masked_crc(int(length).to_bytes(8, "little"))
            self.len_crc[length] = c
        return c


def _walk(
    data: bytes, views: _Views, pos: int, limit: int
) -> tuple[np.ndarray, int, list[_Segment]]:
    """Header offsets of up to `limit` frames that fit in the buffer from `pos`, where the walk
    stopped (the first frame that does not fit, or the end), and the runs of records that repeat
    one pattern of lengths (see `_data_crcs`). No CRC is checked here.

    Loggers write the same few events over and over, so the record lengths repeat with a short
    period. Once a period shows, the next offsets are predicted in bulk and each prediction is
    verified by reading the length actually stored there: a prefix of predictions whose lengths
    all match is exactly what the one-by-one walk would have found. A mismatch (a new tag, a
    longer step number) drops back to walking one by one.
    """
    unpack = _UNPACK_Q
    n = len(data)
    last = n - (HEADER + FOOTER)
    chunks: list[np.ndarray] = []
    offsets: list[int] = []  # walked one by one, not yet moved to `chunks`
    lengths: list[int] = []
    segments: list[_Segment] = []
    count = 0
    learn = _LEARN
    block = _MIN_BLOCK
    while pos <= last and count < limit:
        length = unpack(data, pos)[0]
        nxt = pos + length + HEADER + FOOTER
        if nxt > n:  # this frame overruns the buffer: truncated, or a corrupt length
            break
        offsets.append(pos)
        lengths.append(length)
        pos = nxt
        count += 1
        if len(lengths) < learn:
            continue
        period = _period(lengths)
        if period is None:
            learn = min(learn * 2, _MAX_LEARN)  # irregular: look again later, not every time
            continue
        pattern = np.array(lengths[-period:], dtype=np.int64)
        chunks.append(np.array(offsets, dtype=np.int64))
        offsets.clear()
        while pos <= last and count < limit:
            k = min(block, limit - count)
            pred_len = pattern[np.arange(k) % period]
            ends = pos + np.cumsum(pred_len + (HEADER + FOOTER))
            k = int(np.searchsorted(ends, n, side="right"))  # frames that fit in the buffer
            if k == 0:
                break
            pred_off = np.empty(k, dtype=np.int64)
            pred_off[0] = pos
            pred_off[1:] = ends[: k - 1]
            wrong = np.flatnonzero(views.u64[pred_off] != pred_len[:k].astype(np.uint64))
            good = int(wrong[0]) if len(wrong) else k
            if good:
                chunks.append(pred_off[:good])
                segments.append((count, tuple(pattern.tolist()), good))
                pos = int(ends[good - 1])
                count += good
                pattern = np.roll(pattern, -(good % period))
            if good < k or k < block:
                break
            block = min(block * 2, _MAX_BLOCK)
        lengths.clear()
        learn = _LEARN
        block = _MIN_BLOCK
    if offsets:
        chunks.append(np.array(offsets, dtype=np.int64))
    if not chunks:
        return np.empty(0, dtype=np.int64), pos, segments
    return (chunks[0] if len(chunks) == 1 else np.concatenate(chunks)), pos, segments


def _period(lengths: list[int]) -> int | None:
    """The shortest period with which the last lengths repeat (seen at least twice), if any."""
    tail = lengths[-2 * _MAX_PERIOD :]
    for period in range(1, min(_MAX_PERIOD, len(tail) // 2) + 1):
        if tail[-period:] == tail[-2 * period : -period]:
            return period
    return None


def _data_crcs_ok(
    data: bytes,
    views: _Views,
    off: np.ndarray,
    lens: np.ndarray,
    segments: Iterable[_Segment] = (),
) -> np.ndarray:
    """Whether each record's data matches its stored CRC (every record computed, in C)."""
    computed = _data_crcs(data, off, lens, segments)
    return _mask_array(computed) == views.u32[off + HEADER + lens]


def _data_crcs(
    data: bytes, off: np.ndarray, lens: np.ndarray, segments: Iterable[_Segment]
) -> np.ndarray:
    """The CRC32C of every record's data.

    Slicing each record out in Python costs as much as its CRC, so runs of records that repeat
    one pattern of lengths are cut by `struct.iter_unpack` instead (a C loop making the bytes
    objects); the rest are sliced one by one.
    """
    n = len(off)
    crc = _CRC_BATCH
    computed = np.empty(n, dtype=np.uint32)
    todo = np.ones(n, dtype=bool)
    view = memoryview(data)
    for first, pattern, count in segments:
        reps = min(count, n - first) // len(pattern)
        if reps < _MIN_REPS:
            continue
        record = _record_struct(pattern)
        lo = int(off[first])
        k = reps * len(pattern)
        pieces = chain.from_iterable(record.iter_unpack(view[lo : lo + reps * record.size]))
        computed[first : first + k] = np.fromiter(map(crc, pieces), dtype=np.uint32, count=k)
        todo[first : first + k] = False
    rest = np.flatnonzero(todo)
    if len(rest):
        starts = off[rest] + HEADER
        ends = starts + lens[rest]
        computed[rest] = np.fromiter(
            [crc(data[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)],
            dtype=np.uint32,
            count=len(rest),
        )
    return computed


@lru_cache(maxsize=256)
def _record_struct(pattern: tuple[int, ...]) -> struct.Struct:
    """A struct that cuts the data out of consecutive records with these lengths."""
    return struct.Struct("<" + "".join(f"{HEADER}x{length}s{FOOTER}x" for length in pattern))


def _header_ok(data: bytes, views: _Views, pos: int) -> bool:
    if pos + HEADER > views.n:
        return False
    length = int(views.u64[pos])
    return int(views.u32[pos + 8]) == views.expected_len_crcs(data, np.array([length]))[0]


def _resync(data: bytes, views: _Views, start: int) -> int | None:
    """The first offset >= start holding a whole frame whose length and data CRCs validate."""
    n = views.n
    last = n - (HEADER + FOOTER)
    c0 = start
    while c0 <= last:
        c1 = min(c0 + RESYNC_CHUNK, last + 1)
        q = np.arange(c0, c1, dtype=np.int64)
        lengths = views.u64[c0:c1]
        room = (last - q).astype(np.uint64)
        fits = np.nonzero(lengths <= room)[0]
        if len(fits):
            qf = q[fits]
            lf = lengths[fits].astype(np.int64)
            good = views.u32[qf + 8] == views.expected_len_crcs(data, lf)
            for cand, length in zip(qf[good].tolist(), lf[good].tolist(), strict=True):
                end = cand + HEADER + length
                if masked_crc(data[cand + HEADER : end]) == int(views.u32[end]):
                    return cand
        c0 = c1
    return None


def scan_frames(data: bytes) -> Frames:
    """Every complete record of `data` whose two CRCs check, plus each damaged piece skipped."""
    views = _Views(data)
    n = views.n
    offs_parts: list[np.ndarray] = []
    lens_parts: list[np.ndarray] = []
    damaged: list[tuple[int, str]] = []
    pos = 0
    while pos < n:
        walked, stop, segments = _walk(data, views, pos, WALK_BATCH)
        if len(walked):
            nxt = np.empty_like(walked)
            nxt[:-1] = walked[1:]
            nxt[-1] = stop  # frames are contiguous: each length is the gap to the next one
            lens = nxt - walked - (HEADER + FOOTER)
            len_ok = views.u32[walked + 8] == views.expected_len_crcs(data, lens)
            bad_len = np.flatnonzero(~len_ok)
            n_ok = int(bad_len[0]) if len(bad_len) else len(walked)
            off, lens = walked[:n_ok], lens[:n_ok]
            if n_ok:
                data_ok = _data_crcs_ok(data, views, off, lens, segments)
                if not data_ok.all():
                    for o in off[~data_ok].tolist():
                        damaged.append((o, "data CRC mismatch: record skipped"))
                    off, lens = off[data_ok], lens[data_ok]
                offs_parts.append(off)
                lens_parts.append(lens)
            if n_ok < len(walked):  # the walk after a bad length is not to be trusted
                pos = _skip_damage(data, views, int(walked[n_ok]), damaged)
                continue
            pos = stop
            if len(walked) == WALK_BATCH:
                continue
        if pos >= n:
            break
        # What is left does not hold a whole frame at `pos`.
        if n - pos < HEADER:
            damaged.append((pos, f"truncated record header ({n - pos} of {HEADER} bytes)"))
            break
        if _header_ok(data, views, pos):
            need = HEADER + int(views.u64[pos]) + FOOTER
            damaged.append((pos, f"truncated record ({n - pos} of {need} bytes)"))
            break
        pos = _skip_damage(data, views, pos, damaged)
    offsets = np.concatenate(offs_parts) if offs_parts else np.empty(0, dtype=np.int64)
    lengths = np.concatenate(lens_parts) if lens_parts else np.empty(0, dtype=np.int64)
    return Frames(offsets, lengths, damaged)


def _skip_damage(data: bytes, views: _Views, pos: int, damaged: list[tuple[int, str]]) -> int:
    """Record a bad length CRC at `pos` and return where reading resumes (len(data) if nowhere)."""
    nxt = _resync(data, views, pos + 1)
    if nxt is None:
        damaged.append((pos, f"bad length CRC: {views.n - pos} bytes to end of file unreadable"))
        return views.n
    damaged.append((pos, f"bad length CRC: skipped {nxt - pos} bytes to offset {nxt}"))
    return nxt

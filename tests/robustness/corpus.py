"""Damaged inputs derived from the real sample logs, seeded so that every run tries the same ones.

Each generator starts from a file a real framework wrote (`sample_logs/`) and damages it the way
files get damaged in practice: cut at every byte (killed mid-write, copied half-way), bytes
flipped, CRCs that do not match, bytes that are not UTF-8, NULs, non-finite and out-of-range
numbers, missing keys, wrong types, duplicated or backwards steps, empty files. The oracles here
(record spans, rows per record) are computed independently of logan, from the file format itself.
`TRIED` counts every generated input fed to logan; the session summary prints it.
"""

from __future__ import annotations

import json
import random
import re
import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_logs"
# Small real files, one per producer (sizes 2-20 KB so that per-byte damage stays fast).
EVENT_FILE = next(
    (SAMPLES / "lightning_per_epoch_stepped/lightning_logs/version_0").glob("events.out.*.1")
)
JSON_LOG = SAMPLES / "mmengine_resume/20261129_135802/vis_data/20261129_135802.json"
TEXT_LOG = SAMPLES / "mmengine_plateau_textlog_only/20261129_135743/20261129_135743.log"
HF_STATE = SAMPLES / "hf_linear_gradaccum/checkpoint-18/trainer_state.json"
LIGHTNING_CSV = SAMPLES / "lightning_per_epoch_stepped/lightning_logs/version_0/metrics.csv"
SEED = 20261129

# Generated bad inputs fed to logan, per family; exceptions that escaped logan (must stay empty).
TRIED: Counter[str] = Counter()
TRACEBACKS: list[str] = []


def tried(family: str, n: int = 1) -> None:
    TRIED[family] += n


def rng(salt: str) -> random.Random:
    """A generator per use, so adding a test never changes another test's inputs."""
    return random.Random(f"{SEED}:{salt}")


# --- TFRecord event files -------------------------------------------------------------------

HEADER = 12  # uint64 length + masked CRC32C of the length
FOOTER = 4  # masked CRC32C of the data


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every record of an undamaged event file, from its own length fields."""
    spans = []
    pos = 0
    while pos + HEADER <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        end = pos + HEADER + length + FOOTER
        if end > len(data):
            break
        spans.append((pos, end))
        pos = end
    return spans


def record_scalars(data: bytes, span: tuple[int, int]) -> int:
    """Scalar values in one record, decoded with TensorBoard's own protobuf (not logan's code)."""
    from tensorboard.compat.proto.event_pb2 import Event

    ev = Event.FromString(data[span[0] + HEADER : span[1] - FOOTER])
    if ev.WhichOneof("what") != "summary":
        return 0
    return sum(1 for v in ev.summary.value if v.WhichOneof("value") == "simple_value")


def rows_per_record(data: bytes) -> list[int]:
    return [record_scalars(data, s) for s in record_spans(data)]


def masked_crc(data: bytes) -> int:
    import google_crc32c

    c = int(google_crc32c.value(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def set_u32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<I", value & 0xFFFFFFFF) + data[offset + 4 :]


def bad_length_crc(data: bytes, span: tuple[int, int]) -> bytes:
    """The record's length CRC made wrong: its length can no longer be trusted."""
    (old,) = struct.unpack_from("<I", data, span[0] + 8)
    return set_u32(data, span[0] + 8, old ^ 0x5A5A5A5A)


def bad_data_crc(data: bytes, span: tuple[int, int]) -> bytes:
    (old,) = struct.unpack_from("<I", data, span[1] - FOOTER)
    return set_u32(data, span[1] - FOOTER, old ^ 0x00FF00FF)


def bad_length(data: bytes, span: tuple[int, int], length: int) -> bytes:
    """A wrong length with a CRC that matches it: only the data CRC can catch this."""
    header = struct.pack("<Q", length)
    return data[: span[0]] + header + struct.pack("<I", masked_crc(header)) + data[span[0] + 12 :]


# --- generic byte damage --------------------------------------------------------------------


def truncations(data: bytes, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Every prefix of `data[:stop]`, the empty one included."""
    stop = len(data) if stop is None else stop
    for k in range(stop + 1):
        yield k, data[:k]


def flip(data: bytes, offset: int, bit: int) -> bytes:
    b = bytearray(data)
    b[offset] ^= 1 << bit
    return bytes(b)


def splice(data: bytes, offset: int, junk: bytes, replace: int = 0) -> bytes:
    return data[:offset] + junk + data[offset + replace :]


# Bytes that are not UTF-8 (or are NUL) in the shapes they take in damaged files.
JUNK = (
    b"\xff",
    b"\xfe\xff",
    b"\xc3",  # a multi-byte sequence cut short
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\x80\x80\x80",
    b"\x00",
    b"\x00" * 64,  # a block of zeros from a copy taken while the file was being written
    b"\r",
    b"\x1b[31m",
)


# --- JSON lines ------------------------------------------------------------------------------

INDEX_KEYS = ("step", "iter", "epoch", "mode")
# Non-finite and out-of-range number tokens mmengine (or a hand edit) can leave in a JSON log.
NUMBER_TOKENS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "1" + "0" * 400)
# Values of the wrong type where a number belongs.
WRONG_TYPES = ('"0.1"', "[0.1]", '{"a": "x"}', "{}", "[]", "null", "true", '"NaN"')


def json_lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def line_rows(line: str) -> int:
    """Numbers in one undamaged mmengine JSON record (what logan must turn into rows)."""
    rec = json.loads(line)
    n = 0
    for k, v in rec.items():
        if k in INDEX_KEYS:
            continue
        if isinstance(v, dict):
            n += sum(
                1 for x in v.values() if isinstance(x, (int, float)) and not isinstance(x, bool)
            )
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            n += 1
    return n


def set_value(line: str, key: str, token: str) -> str:
    """The record with `key`'s value replaced by a raw JSON token (not re-serialised)."""
    out, count = re.subn(rf'("{re.escape(key)}": )[^,}}]+', lambda m: m.group(1) + token, line)
    assert count == 1, (key, line)
    return out


def drop_key(line: str, key: str) -> str:
    rec = json.loads(line)
    rec.pop(key, None)
    return json.dumps(rec)


# --- where discovery finds each kind ---------------------------------------------------------

TS = "20260101_000000"


def place(kind: str, data: bytes, root: Path) -> Path:
    """Write `data` where logan's discovery finds it as that kind; returns the run folder."""
    root.mkdir(parents=True, exist_ok=True)
    if kind == "events":
        target = root / "events.out.tfevents.1795960398.host.1.0"
    elif kind == "json":
        target = root / TS / "vis_data" / f"{TS}.json"
    elif kind == "text":
        target = root / TS / f"{TS}.log"
    elif kind == "hf":
        target = root / "trainer_state.json"
    elif kind == "csv":
        target = root / "metrics.csv"
    else:
        raise ValueError(kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return root


SOURCES = {
    "events": EVENT_FILE,
    "json": JSON_LOG,
    "text": TEXT_LOG,
    "hf": HF_STATE,
    "csv": LIGHTNING_CSV,
}

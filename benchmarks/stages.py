"""Where logan's TensorBoard reading time goes, stage by stage, on one benchmark input.

Times each stage of `logan.readers.tensorboard.read` separately (best of `--repeat`), the way the
reader runs them: read the file, walk the frames, check the length CRCs, compute and check the data
CRCs, decode in numpy (+ protobuf for one record per group and the odd records), build the
DataFrame. Usage: `python benchmarks/stages.py [path] [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from logan.readers import _tfrecord as tr
    from logan.readers import tensorboard as tb
    from logan.readers.base import build_frame

    path = args.path or next(iter(sorted(DATA.glob("torch_old/events.out.tfevents.*"))))
    data = path.read_bytes()
    views = tr._Views(data)
    frames = tr.scan_frames(data)
    off, lens = frames.offsets, frames.lengths
    _, _, segments = tr._walk(data, views, 0, 1 << 62)
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("read the file", path.read_bytes),
        ("walk the frames (speculative)", lambda: tr._walk(data, views, 0, 1 << 62)),
        ("check length CRCs", lambda: views.u32[off + 8] == views.expected_len_crcs(data, lens)),
        ("compute + check data CRCs", lambda: tr._data_crcs_ok(data, views, off, lens, segments)),
        ("scan_frames (the three above, batched)", lambda: tr.scan_frames(data)),
        ("decode (numpy + protobuf per group)", lambda: tb._Decoder(data, frames, None).run()),
    ]
    rows = []
    decoded = None
    for name, fn in stages:
        seconds, out = best(fn, args.repeat)
        rows.append((name, seconds))
        decoded = out if name.startswith("decode") else decoded
    d = decoded
    seconds, _ = best(lambda: build_frame(d.step, d.tag, d.value, wall_times=d.wall), args.repeat)
    rows.append(("build the DataFrame", seconds))
    seconds, result = best(lambda: tb.read(path), args.repeat)
    rows.append(("read() end to end", seconds))
    n = len(result.frame)
    print(f"{path.parent.name}/{path.name}: {n:,} scalars, {len(off):,} records\n")
    print("| stage | best ms | ns per record |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1e3:.1f} | {seconds / len(off) * 1e9:.0f} |")


if __name__ == "__main__":
    main()

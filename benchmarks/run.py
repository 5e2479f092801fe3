"""Time logan's readers against tbparse, EventAccumulator, pandas and a bare frame scan.

Every tool reads the same files (written by `generate.py`) in the same run, round-robin so that
a busy machine slows them all alike; the best of `--repeat` runs counts. Before any number is
printed, every tool's values are checked to be identical to logan's (same steps and values per
tag). Usage: `python benchmarks/run.py [--repeat 3]`; the table goes to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
# The targets of issue 7: logan's events/s, its speed-up over each peer, and how much slower
# than a bare CRC-checking frame scan it may be.
TARGET_EVENTS_PER_S = 1e6
TARGET_SPEEDUP = 15.0
TARGET_VS_BARE = 1.5
TARGET_JSON_SPEEDUP = 3.0  # issue 15 (issue 7 asked 5x)

Columns = dict[str, tuple[np.ndarray, np.ndarray]]  # canonical tag -> (steps, values)


# ---------------------------------------------------------------- the tools


def bare_scan(path: Path) -> int:
    """The floor for a Python reader: walk every frame, check both CRCs, decode nothing."""
    from google_crc32c import value as crc

    data = path.read_bytes()
    header = struct.Struct("<QI").unpack_from
    footer = struct.Struct("<I").unpack_from
    pos, n, count = 0, len(data), 0
    while pos + 12 <= n:
        length, length_crc = header(data, pos)
        c = crc(data[pos : pos + 8])
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != length_crc:
            raise ValueError(f"bad length CRC at {pos}")
        end = pos + 12 + length
        c = crc(data[pos + 12 : end])
        if (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF != footer(data, end)[0]:
            raise ValueError(f"bad data CRC at {pos}")
        count += 1
        pos = end + 4
    return count


def logan_frames(path: Path) -> int:
    """logan's frame stage alone (walk + both CRCs), to show where its time goes."""
    from logan.readers._tfrecord import scan_frames

    return len(scan_frames(path.read_bytes()).offsets)


def logan_tb(path: Path) -> Columns:
    from logan.readers.tensorboard import read

    return _by_tag(read(path).frame)


def tbparse_tb(path: Path) -> Columns:
    from tbparse import SummaryReader

    reader = SummaryReader(str(path), pivot=False)
    frame = reader.scalars
    if frame.empty:  # tbparse lists new-style and TF2 scalars under `tensors`
        frame = reader.tensors
    return _by_tag(frame, canonical=True)


def accumulator_tb(path: Path) -> Columns:
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        TENSORS,
        EventAccumulator,
    )
    from tensorboard.util import tensor_util

    acc = EventAccumulator(str(path), size_guidance={SCALARS: 0, TENSORS: 0}).Reload()
    out: Columns = {}
    tags = acc.Tags()
    for tag in tags["scalars"]:
        events = acc.Scalars(tag)
        out[_canon(tag)] = (
            np.array([e.step for e in events], dtype=np.int64),
            np.array([e.value for e in events], dtype=np.float64),
        )
    for tag in tags["tensors"]:
        events = acc.Tensors(tag)
        out[_canon(tag)] = (
            np.array([e.step for e in events], dtype=np.int64),
            np.array([tensor_util.make_ndarray(e.tensor_proto) for e in events], np.float64),
        )
    return out


def logan_json(path: Path) -> Columns:
    from logan.readers.mmengine_json import read

    return _by_tag(read(path).frame)


def peer_json(path: Path) -> Columns:
    """Another checkout's JSON reader (`--peer-json FILE`), e.g. main's, timed in the same run."""
    return _by_tag(PEER["read"](path).frame)


PEER: dict[str, Any] = {}


def _load_peer(file: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("peer_mmengine_json", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    PEER["read"] = module.read


def pandas_json(path: Path) -> Columns:
    """pandas' reading of the same lines, keyed like logan (validation lines under `val/`)."""
    frame = pd.read_json(path, lines=True, precise_float=True)  # exact floats, as json
    out: Columns = {}
    train = frame["lr"].notna()  # mmengine's validation lines carry no lr
    for rows, is_train in ((frame[train], True), (frame[~train], False)):
        for key in rows.columns:
            col = rows[key]
            if key in ("step", "iter") or col.isna().all():
                continue
            # a train line holds every train key (NaN is a logged value); a missing key in a
            # validation line is NaN only because pandas fills the table
            keep = np.ones(len(col), dtype=bool) if is_train else col.notna().to_numpy()
            tag = _canon(key) if is_train else "val/" + key
            out[tag] = (rows["step"].to_numpy(np.int64)[keep], col.to_numpy(np.float64)[keep])
    return out


def _canon(tag: str) -> str:
    from logan.tags import canonical_tag

    return canonical_tag(tag)


def _by_tag(frame: pd.DataFrame, canonical: bool = False) -> Columns:
    """Steps and values per tag, in file order: the form every tool's output is compared in
    (pandas' wide table gives it by column; logan's long table by its tag codes, one stable
    sort, as `Run.series` does: a `groupby` cost 40 ms of the 36.8 MB file's ~0.25 s)."""
    tags = frame["tag"]
    if not isinstance(tags.dtype, pd.CategoricalDtype):
        tags = tags.astype("category")
    codes = tags.cat.codes.to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(tags.cat.categories) + 1))
    steps = frame["step"].to_numpy(np.int64)
    values = frame["value"].to_numpy(np.float64)
    out: Columns = {}
    for i, tag in enumerate(tags.cat.categories):
        rows = order[bounds[i] : bounds[i + 1]]
        if len(rows):
            out[_canon(tag) if canonical else tag] = (steps[rows], values[rows])
    return out


# ---------------------------------------------------------------- timing


def timed(fn: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(path)
    return time.perf_counter() - t0, out


def same(ours: Columns, theirs: Columns) -> str | None:
    """None when both hold the same steps and values per tag, else what differs."""
    if set(ours) != set(theirs):
        return f"tags differ: {sorted(set(ours) ^ set(theirs))}"
    for tag, (steps, values) in ours.items():
        s2, v2 = theirs[tag]
        if not np.array_equal(steps, s2):
            return f"{tag}: steps differ ({len(steps)} vs {len(s2)})"
        if not np.array_equal(values, v2, equal_nan=True):
            return f"{tag}: values differ"
    return None


def count(columns: Columns) -> int:
    return sum(len(steps) for steps, _ in columns.values())


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}; CPU {model}; Python {platform.python_version()}; "
        f"numpy {np.__version__}; pandas {pd.__version__}; load average {load}"
    )


def bench(
    name: str, path: Path, tools: dict[str, Callable[[Path], Any]], repeat: int
) -> list[dict[str, Any]]:
    """Run every tool `repeat` times round-robin; check values against logan's first result."""
    best = dict.fromkeys(tools, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for tool, fn in tools.items():
            seconds, out = timed(fn, path)
            print(f"  {name}: {tool} {seconds:.3f} s", file=sys.stderr, flush=True)
            best[tool] = min(best[tool], seconds)
            results.setdefault(tool, out)
    reference = results["logan"]
    events = count(reference)
    rows = []
    for tool in tools:
        out = results[tool]
        if isinstance(out, int):
            check = "records: same" if out == events + 1 or out == events else f"{out} records"
        else:
            diff = same(reference, out)
            if diff:
                raise SystemExit(f"{name}: {tool} disagrees with logan: {diff}")
            check = "values identical"
        rows.append(
            {
                "input": name,
                "tool": tool,
                "events": events,
                "seconds": best[tool],
                "rate": events / best[tool],
                "logan_speedup": best[tool] / best["logan"],
                "check": check,
            }
        )
    return rows


def warm_up() -> None:
    """Import every tool's modules first: import time is not reading time."""
    import tbparse  # noqa: F401
    from tensorboard.backend.event_processing import event_accumulator  # noqa: F401
    from tensorboard.compat.proto import event_pb2  # noqa: F401
    from tensorboard.util import tensor_util  # noqa: F401

    from logan.readers import tensorboard  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best counts")
    parser.add_argument("--json-only", action="store_true", help="only the mmengine JSON input")
    parser.add_argument(
        "--peer-json", type=Path, help="another checkout's readers/mmengine_json.py to time too"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    inputs = sorted(p for p in DATA.glob("*/events.out.tfevents.*"))
    jsons = sorted(DATA.glob("mmengine_json/*.json"))
    if args.json_only:
        inputs = []
    elif not inputs:
        raise SystemExit(f"no inputs under {DATA}: run `python benchmarks/generate.py` first")
    print(f"machine: {machine()}\n")
    if inputs:
        warm_up()
    tb_tools = {
        "logan": logan_tb,
        "tbparse": tbparse_tb,
        "EventAccumulator": accumulator_tb,
        "bare frame scan + CRC": bare_scan,
        "logan frame stage only": logan_frames,
    }
    rows = []
    for path in inputs:
        size = path.stat().st_size / 1e6
        rows += bench(f"{path.parent.name} ({size:.1f} MB)", path, tb_tools, args.repeat)
    try:
        import logan.readers.mmengine_json  # noqa: F401

        json_tools = {"logan": logan_json, "pandas.read_json(lines=True)": pandas_json}
        if args.peer_json:
            _load_peer(args.peer_json)
            json_tools[f"peer: {args.peer_json}"] = peer_json
        for path in jsons:
            size = path.stat().st_size / 1e6
            rows += bench(f"mmengine JSON ({size:.1f} MB)", path, json_tools, args.repeat)
    except ImportError:
        print("logan.readers.mmengine_json does not exist: JSON row skipped\n")
    print("| input | tool | events | best s | M events/s | logan is x faster | check |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['input']} | {r['tool']} | {r['events']:,} | {r['seconds']:.3f} | "
            f"{r['rate'] / 1e6:.2f} | {r['logan_speedup']:.2f} | {r['check']} |"
        )
    print()
    for name in dict.fromkeys(r["input"] for r in rows):
        mine = {r["tool"]: r for r in rows if r["input"] == name}
        logan = mine["logan"]
        checks = [f"{logan['rate'] / 1e6:.2f} M events/s"]
        if "tbparse" in mine:
            checks.append(
                f">= {TARGET_EVENTS_PER_S / 1e6:.0f} M/s: {logan['rate'] >= TARGET_EVENTS_PER_S}"
            )
            for peer in ("tbparse", "EventAccumulator"):
                x = mine[peer]["logan_speedup"]
                checks.append(f"{x:.1f}x {peer} (>= {TARGET_SPEEDUP:.0f}x: {x >= TARGET_SPEEDUP})")
            ratio = logan["seconds"] / mine["bare frame scan + CRC"]["seconds"]
            checks.append(f"{ratio:.2f}x the bare scan's time (<= {TARGET_VS_BARE}: "
                          f"{ratio <= TARGET_VS_BARE})")  # fmt: skip
        else:
            x = mine["pandas.read_json(lines=True)"]["logan_speedup"]
            checks.append(f"{x:.1f}x pandas (>= {TARGET_JSON_SPEEDUP:.0f}x: "
                          f"{x >= TARGET_JSON_SPEEDUP})")  # fmt: skip
        print(f"- {name}: " + "; ".join(checks))
    print(f"\nafter: load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

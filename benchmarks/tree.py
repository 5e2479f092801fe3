"""`logan check` over a tree of many runs: wall time, peak memory, and whether memory grows with
the number of runs (it must not: runs are analysed and released one by one).

    python benchmarks/tree.py generate --runs 1000      # ~1.2 GB under benchmarks/data/tree
    python benchmarks/tree.py run --jobs 2              # 100 / 1,000 / all runs, cold and cached
    python benchmarks/tree.py profile --runs 200        # time per stage, one process

The two template logs are written by the real writers (mmengine's LocalVisBackend, torch's
SummaryWriter); each run is a copy of one of them in its own mmengine work_dir / TensorBoard
folder, so the tree costs seconds to lay out rather than an hour of writing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "tree"
# One template of each kind, about 1.2 MB each (the tree is ~1.2 GB for 1,000 runs).
JSON_ITERS = 6000
TB_STEPS = 10000


def _json_template(path: Path) -> None:
    """mmengine's own JSON-lines writer, as the Runner's LoggerHook calls it."""
    from mmengine.visualization.vis_backend import LocalVisBackend

    with tempfile.TemporaryDirectory() as tmp:
        backend = LocalVisBackend(save_dir=tmp)
        name = "20240101_000000.json"
        for it in range(1, JSON_ITERS + 1):
            lr = 1e-4 * 0.5 * (1 + math.cos(math.pi * it / JSON_ITERS))
            backend.add_scalars(
                {
                    "lr": lr,
                    "data_time": 0.01,
                    "loss": 2.0 / math.sqrt(it),
                    "time": 0.3,
                    "grad_norm": 1.0 + 0.1 * math.sin(it),
                    "iter": it,
                    "memory": 20000,
                },
                step=it,
                file_path=name,
            )
        shutil.copy(Path(tmp) / name, path)


def _tb_template(folder: Path) -> Path:
    """torch's SummaryWriter, as HF, Lightning and plain torch loops use it."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(folder))
    for step in range(1, TB_STEPS + 1):
        writer.add_scalar("train/learning_rate", 1e-4 * (1 - step / TB_STEPS), step)
        writer.add_scalar("train/loss", 2.0 / math.sqrt(step), step)
        writer.add_scalar("train/grad_norm", 1.0, step)
    writer.close()
    return next(folder.glob("events.out.tfevents.*"))


def generate(runs: int) -> None:
    if DATA.exists():
        shutil.rmtree(DATA)
    templates = DATA.parent / "tree_templates"
    templates.mkdir(parents=True, exist_ok=True)
    json_t = templates / "mmengine.json"
    if not json_t.exists():
        _json_template(json_t)
    tb_dir = templates / "tb"
    events = next(tb_dir.glob("events.out.tfevents.*"), None) if tb_dir.exists() else None
    if events is None:
        events = _tb_template(tb_dir)
    for i in range(runs):
        if i % 2 == 0:
            session = DATA / f"work_dirs/run_{i:05d}/20240101_000000"
            (session / "vis_data").mkdir(parents=True)
            shutil.copy(json_t, session / "vis_data/20240101_000000.json")
        else:
            folder = DATA / f"tb_runs/run_{i:05d}"
            folder.mkdir(parents=True)
            shutil.copy(events, folder / events.name)
    size = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"{runs} runs, {size / 1e9:.2f} GB in {DATA}")


def _check(paths: list[Path], jobs: int, cache: Path | None = None) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB) of logan and its workers, and the JSON output. `cache`: the
    cache folder to use (None: --no-cache)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = dict(os.environ)
    env.pop("LOGAN_NO_CACHE", None)
    # As installed by pip: modules compiled once (this sandbox sets PYTHONDONTWRITEBYTECODE).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(HERE / "data" / "pycache")
    flags = ["--no-cache"] if cache is None else []
    if cache is not None:
        env["LOGAN_CACHE_DIR"] = str(cache)
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "logan",
            "check",
            *map(str, paths),
            "-q",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--jobs",
            str(jobs),
            *flags,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, json.loads(out.stdout)


def _table_mb(path: Path) -> float:
    """Memory of one run's tidy table, as logan builds it."""
    import logan

    return logan.load_run(path).scalars.memory_usage(deep=True).sum() / 1e6


def _subset(work: list[Path], tb: list[Path], n: int) -> list[Path]:
    return work[: n // 2] + tb[: n - n // 2]


def run(jobs: int, repeat: int = 2) -> None:
    work = sorted((DATA / "work_dirs").iterdir())
    tb = sorted((DATA / "tb_runs").iterdir())
    total = len(work) + len(tb)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"load average before: {os.getloadavg()}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(HERE / "data" / "pycache")
    warm = "import logan.cli, logan.api, logan.checks, logan.readers.tensorboard"
    subprocess.run([sys.executable, "-c", warm], env=env, check=True)  # compiled once, as pip does
    times: dict[int, list[float]] = {}
    sizes = [n for n in sorted({100, 1000, total}) if n <= total]
    # Round-robin, best of `repeat`: this VM's speed drifts and the OS may drop the tree from its
    # page cache between runs; each size gets the same chances.
    for _ in range(repeat):
        for n in sizes:
            paths = _subset(work, tb, n) if n < total else [DATA]
            wall, peak, doc = _check(paths, jobs)
            times.setdefault(n, []).append(wall)
            runs = len(doc["runs"])
            print(
                f"{n} runs, cold (--no-cache): {runs} analysed, {len(doc['problems'])} problems, "
                f"{wall:.1f} s ({runs / wall:.0f} runs/s), peak RSS {peak:.0f} MB (largest "
                "process so far)"
            )
    for n in sizes:
        print(f"{n} runs, cold: best {min(times[n]):.1f} s of {[round(t, 1) for t in times[n]]}")
    times = {n: [min(t)] for n, t in times.items()}
    if 1000 in times and total in times and total != 1000:
        print(f"{total} runs / 1000 runs: {times[total][0] / times[1000][0]:.2f}x the time")
    with tempfile.TemporaryDirectory() as cache:
        paths = _subset(work, tb, min(1000, total))
        cold, _, first = _check(paths, jobs, Path(cache))
        warm, _, second = _check(paths, jobs, Path(cache))
        same = "same JSON" if first == second else "DIFFERENT JSON"
        print(
            f"{len(paths)} runs with a cache: empty cache {cold:.1f} s, second check {warm:.2f} s "
            f"({same})"
        )
    print(f"load average after: {os.getloadavg()}")
    tables = [_table_mb(work[0]), _table_mb(tb[0])]
    print(f"tidy table per run: {tables[0]:.1f} MB (mmengine JSON), {tables[1]:.1f} MB (events)")


def profile(runs: int) -> None:
    """Where one process's time goes per stage, on `runs` runs of the tree (in-process, no
    --jobs): discovery, reading, the expected schedule, the checks, the slim result."""
    import logan.api as api
    import logan.discover as discover_mod

    work = sorted((DATA / "work_dirs").iterdir())
    tb = sorted((DATA / "tb_runs").iterdir())
    paths = _subset(work, tb, runs)
    spent: dict[str, float] = {}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    api.discover = timed("discover", discover_mod.discover)
    api.load_all = timed("read (load_all)", api.load_all)
    api.build_expected = timed("expected schedule", api.build_expected)
    api.run_checks = timed("checks", api.run_checks)
    api.slim = timed("slim result", api.slim)
    start = time.perf_counter()
    analysis = api.analyze([str(p) for p in paths], keep_scalars=False)
    wall = time.perf_counter() - start
    print(f"{len(analysis.results)} runs in {wall:.2f} s (one process); load {os.getloadavg()}")
    print("| stage | s | ms per run | share |")
    print("|---|---:|---:|---:|")
    for name, t in spent.items():
        print(f"| {name} | {t:.2f} | {1000 * t / runs:.1f} | {t / wall:.0%} |")
    rest = wall - sum(spent.values())
    print(f"| other (orchestration) | {rest:.2f} | {1000 * rest / runs:.1f} | {rest / wall:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--runs", type=int, default=1000)
    r = sub.add_parser("run")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--repeat", type=int, default=2)
    p = sub.add_parser("profile")
    p.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if args.cmd == "generate":
        generate(args.runs)
    elif args.cmd == "profile":
        profile(args.runs)
    else:
        run(args.jobs, args.repeat)


if __name__ == "__main__":
    main()

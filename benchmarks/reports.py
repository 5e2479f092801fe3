"""Where a user waits outside the readers: `check --out` against `check`, `logan report` on a long
run, start-up, and a second `check` served from the cache.

    python benchmarks/reports.py --repeat 3

Every command runs as a subprocess (what a user types), round-robin `--repeat` times, best time
kept, so that load from other processes slows the peers measured together alike. The 30,000-step
run is written by mmengine's own LocalVisBackend (the JSON the Runner logs through).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
LONG = DATA / "long_run"
LONG_STEPS = 30_000
SHARED = Path(os.environ.get("LOGAN_SHARED", "/work/shared"))
REPO = HERE.parent


def long_run() -> Path:
    """A 30,000-iteration mmengine work_dir (cosine LR, noisy loss with a few spikes)."""
    session = LONG / "20240101_000000"
    target = session / "vis_data" / "20240101_000000.json"
    if target.exists():
        return LONG
    from mmengine.visualization.vis_backend import LocalVisBackend

    (session / "vis_data").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        backend = LocalVisBackend(save_dir=tmp)
        name = "20240101_000000.json"
        for it in range(1, LONG_STEPS + 1):
            warm = min(1.0, it / 1000)
            lr = 1e-3 * warm * 0.5 * (1 + math.cos(math.pi * it / LONG_STEPS))
            spike = 8.0 if it % 7919 == 0 else 1.0
            loss = spike * (2.0 / math.sqrt(it) + 0.05 * (1 + math.sin(it * 0.37)))
            backend.add_scalars(
                {
                    "lr": lr,
                    "data_time": 0.01 + 0.002 * math.sin(it),
                    "loss": loss,
                    "time": 0.3 + 0.01 * math.cos(it * 0.11),
                    "grad_norm": 1.0 + 0.1 * math.sin(it),
                    "iter": it,
                    "memory": 20000,
                },
                step=it,
                file_path=name,
            )
        shutil.copy(Path(tmp) / name, target)
    return LONG


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "logan", *args]


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds of one command, run from `cwd`: `python -m logan` imports logan from the current
    folder before PYTHONPATH, so each checkout's commands run from that checkout."""
    start = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, env=env, cwd=cwd)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {done.stderr[-500:]}")
    wall = time.perf_counter() - start
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("ELAPSED "):  # a case that times its own part (after its imports)
            return float(line.split()[1])
    return wall


# `logan report` with its imports done first, timed inside the process: what the report itself
# costs, apart from the interpreter and the libraries' import time.
IN_PROCESS_REPORT = """
import sys, time
import logan.api, logan.cli, logan.report.files, logan.report.plots
sys.argv = ["logan", "report", {run!r}, "-o", {out!r}]
start = time.perf_counter()
try:
    logan.cli.main()
except SystemExit:
    pass
print("ELAPSED", time.perf_counter() - start)
"""


def cases(reals: list[str], out: Path, run: Path, cache: bool) -> dict[str, list[str]]:
    """The commands timed; without `cache` (a peer that has none) the cache cases are left out."""
    common = ["-q", "-f", "json", "--fail-on", "never"]
    # Every checkout timed here has the cache: without --no-cache the peer's `check` would be
    # answered from the cache filled by the other side's runs.
    off = ["--no-cache"]
    found = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "logan --version": _cmd("--version"),
        "logan rules": _cmd("rules"),
        "check REAL": _cmd("check", *reals, *common, *off),
        "check REAL --out": _cmd("check", *reals, *common, *off, "--out", str(out / "c")),
        "report 30k-step run": _cmd("report", str(run), "-o", str(out / "r")),
        "report 30k-step run, in-process after its imports": [
            sys.executable,
            "-c",
            IN_PROCESS_REPORT.format(run=str(run), out=str(out / "r2")),
        ],
        "import floor: python + pandas + matplotlib (Agg)": [
            sys.executable,
            "-c",
            "import pandas, matplotlib.figure, matplotlib.backends.backend_agg",
        ],
    }
    if cache:
        found["check REAL, second run (cache)"] = _cmd("check", *reals, *common)
        found["check REAL --out, second run (cache)"] = _cmd(
            "check", *reals, *common, "--out", str(out / "cached")
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer", type=Path, help="another checkout (e.g. /work/main) to time too")
    args = parser.parse_args()
    run = long_run()
    real = [p for p in (SHARED / "public_logs", SHARED / "public_logs_2") if p.exists()]
    real += [REPO / "sample_logs"]
    reals = [str(p) for p in real]
    out = Path(tempfile.mkdtemp(prefix="logan-bench-"))
    cache = Path(tempfile.mkdtemp(prefix="logan-cache-"))
    base = {k: v for k, v in os.environ.items() if k != "LOGAN_NO_CACHE"}
    # As installed by pip: modules compiled once, not at every start (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, so an editable checkout would compile logan in every process).
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    sides = {"this": (REPO, True)}
    if args.peer:
        sides["peer"] = (args.peer.resolve(), False)
    plan = []
    for side, (repo, has_cache) in sides.items():
        env = dict(base, PYTHONPATH=str(repo), LOGAN_CACHE_DIR=str(cache))
        for name, cmd in cases(reals, out / side, run, has_cache).items():
            plan.append((side, name, cmd, env, repo))
    for repo, _ in sides.values():  # compile each checkout's modules once
        env = dict(base, PYTHONPATH=str(repo))
        warm = "import logan.cli, logan.api, logan.report.files, logan.checks"
        subprocess.run([sys.executable, "-c", warm], env=env, cwd=repo, check=True)
    # The cached cases need one pass that fills the cache (and draws the reports) first.
    for _side, name, cmd, env, repo in plan:
        if "cache" in name:
            subprocess.run(cmd, capture_output=True, env=env, cwd=repo)
    best: dict[tuple[str, str], float] = {}
    load = [os.getloadavg()]
    for _ in range(args.repeat):  # round-robin: load from others slows every case alike
        for side, name, cmd, env, repo in plan:
            t = timed(cmd, env, repo)
            best[side, name] = min(best.get((side, name), math.inf), t)
    load.append(os.getloadavg())
    print(f"{os.cpu_count()} cores; load average before {load[0]}, after {load[1]}")
    print(f"real runs: {reals}; best of {args.repeat}, round-robin")
    print("| command | " + " | ".join(f"{s} s" for s in sides) + " |")
    print("|---|" + "---:|" * len(sides))
    for name in dict.fromkeys(n for _, n, _, _, _ in plan):
        cells = [f"{best[s, name]:.3f}" if (s, name) in best else "" for s in sides]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for side in sides:
        plain = best[side, "check REAL"]
        ratio = best[side, "check REAL --out"] / plain
        print(f"{side}: check --out / check = {ratio:.2f}x")
        if (side, "check REAL, second run (cache)") in best:
            warm = best[side, "check REAL, second run (cache)"] / plain
            print(f"{side}: second check (cache) / check = {warm:.2f}x")
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()

"""`logan schedule` on the config trees of five wheels: coverage, findings and speed.

Downloads (once per machine, see tests/config/real_trees.py) the mmpretrain, mmdet,
mmsegmentation, mmpose and xtuner wheels, checks every training config in one process without an
epoch length, and prints a Markdown report: configs per wheel, the share simulated, why the rest
were not, every LR001 and LR002, the time for 1,000 configs and the CLI start-up time. With
`--against-mmengine` it also compares every merged config with `mmengine.Config.fromfile`.

    PYTHONPATH=. python benchmarks/schedule_trees.py [--against-mmengine] > /tmp/bench.md
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from logan.config.inherit import ConfigLoader  # noqa: E402
from logan.schedule.check import check_paths  # noqa: E402
from tests.config.real_trees import config_trees, configs_dir  # noqa: E402

# Timed runs of the CLI on one small config, for the start-up time (median).
STARTUP_RUNS = 5
SPEED_SAMPLE = 1000


def _short(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.parent))
    except ValueError:
        return path


def coverage(trees: dict[str, Path]) -> list[Path]:
    """Per-wheel table and findings; returns every training config checked."""
    print(
        "| wheel | training configs | simulated without epoch length | not simulated "
        "| LR001 | LR002 | time |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    details: list[str] = []
    checked: list[Path] = []
    for package, root in trees.items():
        folder = configs_dir(package, root)
        start = time.perf_counter()
        report = check_paths([folder], loader=ConfigLoader(trees))
        elapsed = time.perf_counter() - start
        configs = report.configs
        simulated = [c for c in configs if c.simulated]
        codes = Counter(f.code for f in report.findings)
        share = len(simulated) / len(configs) if configs else 0.0
        print(
            f"| {package} | {len(configs)} | {len(simulated)} ({share:.1%}) | "
            f"{len(configs) - len(simulated)} | {codes['LR001']} | {codes['LR002']} | "
            f"{elapsed:.1f} s |"
        )
        checked.extend(Path(c.path) for c in configs)
        reasons = Counter(c.reason for c in configs if not c.simulated)
        for reason, n in reasons.most_common():
            details.append(f"- {package}: not simulated ({n}): {reason}")
        for c in configs:
            for f, where in zip(c.findings, c.locations, strict=True):
                details.append(
                    f"- {package}: `{_short(c.path, folder)}` {f.code} at "
                    f"`{_short(where.path, folder)}:{where.line}`: {f.message}"
                )
    print()
    print("\n".join(details))
    return checked


def speed(files: list[Path], trees: dict[str, Path]) -> None:
    sample = files[:: max(1, len(files) // SPEED_SAMPLE)][:SPEED_SAMPLE]
    start = time.perf_counter()
    report = check_paths(sample, loader=ConfigLoader(trees))
    elapsed = time.perf_counter() - start
    print(
        f"\n{len(report.configs)} configs (every {max(1, len(files) // SPEED_SAMPLE)}th of all "
        f"wheels) in one process: {elapsed:.1f} s, {1000 * elapsed / len(report.configs):.1f} ms "
        "per config"
    )
    one = (
        REPO / "sample_logs" / "mmengine_plateau_textlog_only" / "mmengine_plateau_textlog_only.py"
    )
    times = []
    for _ in range(STARTUP_RUNS):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "logan", "schedule", str(one)],
            capture_output=True,
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        times.append(time.perf_counter() - t)
    print(
        f"`logan schedule ONE_CONFIG` (start-up included): median {statistics.median(times):.2f} s"
    )


def against_mmengine(files: list[Path], trees: dict[str, Path]) -> None:
    """Every merged config compared with mmengine's own (where mmengine can load it)."""
    from tests.config.test_inherit import _fields, _mmengine

    cfg_module = __import__("mmengine.config.config", fromlist=["x"])
    cfg_module.is_installed = lambda name: name in trees  # the unpacked wheels as installed
    cfg_module.get_installed_path = lambda name: str(trees[name])
    loader = ConfigLoader(trees)
    same = differ = failed = 0
    for path in files:
        try:
            theirs = _mmengine(path)
        except Exception:  # noqa: BLE001 - mmengine itself cannot load some
            failed += 1
            continue
        if _fields(loader.load(path).values) == _fields(theirs):
            same += 1
        else:
            differ += 1
            print(f"- differs: {path}")
    print(
        f"\nAgainst mmengine.Config.fromfile: {same} equal, {differ} different, "
        f"{failed} that mmengine could not load"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against-mmengine", action="store_true")
    args = parser.parse_args()
    trees = config_trees()
    if not trees:
        sys.exit("the wheels could not be downloaded")
    files = coverage(trees)
    speed(files, trees)
    if args.against_mmengine:
        against_mmengine(files, trees)


if __name__ == "__main__":
    main()

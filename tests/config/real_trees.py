"""The config trees shipped in the OpenMMLab and XTuner wheels, downloaded once per machine.

`pip download --no-deps --only-binary=:all:` fetches each wheel into a cache folder
(`$LOGAN_TEST_CONFIGS`, default `~/.cache/logan-test-configs`) and only its `*.py` and `*.yml`
files are unpacked; nothing is ever imported from them, and nothing is committed. Used by the tests
(skipping cleanly when the download fails) and by `benchmarks/schedule_trees.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

# PyPI distribution -> (import package, the config folder inside the wheel).
WHEELS = {
    "mmpretrain": ("mmpretrain", "mmpretrain/.mim/configs"),
    "mmdet": ("mmdet", "mmdet/.mim/configs"),
    "mmsegmentation": ("mmseg", "mmseg/.mim/configs"),
    "mmpose": ("mmpose", "mmpose/.mim/configs"),
    "xtuner": ("xtuner", "xtuner/configs"),
}
# One wheel is a few MB; a slow mirror still answers well within this. After one failed download
# the others are not tried: a machine without the registry skips in seconds, not minutes.
DOWNLOAD_TIMEOUT_S = 120


def cache_dir() -> Path:
    return Path(os.environ.get("LOGAN_TEST_CONFIGS", Path.home() / ".cache" / "logan-test-configs"))


def _wheel(dist: str, wheels: Path) -> Path | None:
    found = sorted(wheels.glob(f"{dist}-*.whl"))
    if found:
        return found[-1]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    try:
        subprocess.run(
            [*cmd, "-q", dist, "-d", str(wheels)],
            check=True,
            capture_output=True,
            timeout=DOWNLOAD_TIMEOUT_S,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    found = sorted(wheels.glob(f"{dist}-*.whl"))
    return found[-1] if found else None


def config_trees() -> dict[str, Path]:
    """Import package -> its unpacked package folder (configs under it); missing wheels left out."""
    root = cache_dir()
    wheels = root / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for dist, (package, _) in WHEELS.items():
        wheel = _wheel(dist, wheels)
        if wheel is None:
            break
        tree = root / "trees" / wheel.stem
        done = tree / ".unpacked-py-yml"
        if not done.exists():
            with zipfile.ZipFile(wheel) as zf:
                # Configs, and the model indexes mmengine reads for `mmdet::` bases.
                members = [n for n in zf.namelist() if n.endswith((".py", ".yml"))]
                zf.extractall(tree, members)
            done.touch()
        out[package] = tree / package
    return out


def configs_dir(package: str, package_dir: Path) -> Path:
    """The folder of training configs inside an unpacked package."""
    rel = next(folder for pkg, folder in WHEELS.values() if pkg == package)
    return package_dir.parent / rel

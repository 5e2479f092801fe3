"""Shared test fixtures: where the repo's real sample runs and the read-only ../shared data live."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The result cache stays off in tests (a test that patches a check must see its patch, not a
# stored verdict); tests/test_cache.py turns it on where it is under test.
os.environ["LOGAN_NO_CACHE"] = "1"

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_logs"
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference_runs"
PUBLIC = SHARED / "public_logs"


def need(path: Path) -> Path:
    """Skip the test cleanly when shared data is not on this machine."""
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def buggy_ref() -> Path:
    return need(REFERENCE / "xt_buggy_e3")


@pytest.fixture
def fixed_ref() -> Path:
    return need(REFERENCE / "xt_fixed_e3")


def copy_run(src: Path, dst: Path, drop: tuple[str, ...] = ()) -> Path:
    """Copy a run into tmp and delete files whose name matches any pattern in `drop`."""
    shutil.copytree(src, dst)
    for pattern in drop:
        for p in dst.rglob(pattern):
            p.unlink()
    return dst

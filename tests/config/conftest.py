"""Fixtures for the config tests: the real config trees of five wheels (downloaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.real_trees import config_trees


@pytest.fixture(scope="session")
def real_trees() -> dict[str, Path]:
    """Import package -> unpacked package folder; skips when nothing could be downloaded."""
    trees = config_trees()
    if not trees:
        pytest.skip("the mmpretrain/mmdet/mmseg/mmpose/xtuner wheels could not be downloaded")
    return trees

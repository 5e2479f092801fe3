"""Fixtures for the schedule tests: the real config trees (shared with tests/config)."""

from __future__ import annotations

from tests.config.conftest import real_trees

__all__ = ["real_trees"]

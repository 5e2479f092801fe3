"""Fixtures for report tests: real sample runs analysed once per session (the reports only read
them), and a helper that replaces machine-specific paths so goldens compare exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import logan
from logan.model import RunResult
from tests.conftest import REPO, SAMPLES

# Samples whose reports the tests draw: the seed bug, its fix, an overflow, a slowdown, a resume.
REPORT_SAMPLES = (
    "mmengine_plateau_e4",
    "mmengine_fixed_e4",
    "mmengine_nan_high_lr",
    "mmengine_divergence",
    "mmengine_throughput_drop",
    "mmengine_resume",
    "mmengine_cosine_tmax_epochs_per_iter",
    "mmengine_multistep_val",
    "mmengine_loss_spikes",
)


@pytest.fixture(scope="session")
def results() -> dict[str, RunResult]:
    """name -> RunResult for REPORT_SAMPLES."""
    # Relative paths, as a user in the repo would type them: run paths in the reports are then
    # the same on every machine (an escaped absolute path could not be normalised reliably).
    here = Path.cwd()
    os.chdir(REPO)
    try:
        analysis = logan.analyze([f"{SAMPLES.name}/{name}" for name in REPORT_SAMPLES])
    finally:
        os.chdir(here)
    return {Path(r.run.path).name: r for r in analysis.results}


def normalise(text: str) -> str:
    """Machine paths and the version out of a report, so that a golden is the same everywhere."""
    return (
        text.replace(str(SAMPLES), "sample_logs")
        .replace(str(REPO), "<repo>")
        .replace(f"logan {logan.__version__}", "logan <version>")
        .replace(f'"logan_version": "{logan.__version__}"', '"logan_version": "<version>"')
    )

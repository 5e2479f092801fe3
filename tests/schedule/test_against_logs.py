"""The simulator against real logs: the seed bug's reference runs and public users' runs.

Every logged `lr` (vis_data json) must equal the simulated LR of that iteration to 1e-6 relative.
The epoch length of public runs (their datasets are not here) is read from the text log's
`Epoch(train) [e][i/N]` lines, and an iteration-based run's length from `Iter(train) [i/N]`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from logan.config import load_config
from logan.schedule.mmengine import simulate_config

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
REF = SHARED / "reference_runs"
PUBLIC = SHARED / "public_logs"
# Logged values are float32-free Python floats; anything above this is a simulation error.
REL_TOL = 1e-6

_EPOCH_LINE = re.compile(r"Epoch\(train\)\s*\[\d+\]\[\s*\d+/(\d+)\]")
_ITER_LINE = re.compile(r"Iter\(train\)\s*\[\s*\d+/(\d+)\]")


def _logged_lr(json_path: Path) -> list[tuple[int, float]]:
    """(iteration, lr) of every training line; mmengine writes bare NaN/Infinity tokens."""
    out = []
    for line in json_path.read_text().splitlines():
        if '"lr"' not in line:
            continue
        rec = json.loads(line.replace("-Infinity", "null").replace("Infinity", "null"))
        step = rec.get("iter", rec.get("step"))
        if isinstance(rec.get("lr"), float | int) and step is not None:
            out.append((int(step), float(rec["lr"])))
    return out


def _max_rel_error(actual: np.ndarray, logged: list[tuple[int, float]]) -> float:
    worst = 0.0
    for k, lr in logged:
        assert 1 <= k <= len(actual), k
        denom = abs(lr) if lr else 1.0
        worst = max(worst, abs(actual[k - 1] - lr) / denom)
    return worst


def _reference(name: str) -> tuple[Path, Path]:
    run = REF / name
    if not run.is_dir():
        pytest.skip("../shared/reference_runs not present")
    return run / f"{name}.py", next(run.glob("*/vis_data/2*.json"))


@pytest.mark.parametrize("name", ["xt_buggy_e3", "xt_fixed_e3"])
def test_reference_runs_match_logged_lr(name: str) -> None:
    config_path, json_path = _reference(name)
    sim = simulate_config(
        load_config(config_path), 50, config_text=config_path.read_text(), config_name=name
    )
    assert sim is not None and sim.total_iters == 150
    logged = _logged_lr(json_path)
    assert len(logged) == 150
    assert _max_rel_error(sim.actual, logged) <= REL_TOL


def test_buggy_run_has_cause_and_fix() -> None:
    config_path, _ = _reference("xt_buggy_e3")
    text = config_path.read_text()
    sim = simulate_config(load_config(text), 50, config_text=text, config_name="xt_buggy_e3.py")
    assert sim is not None
    # The seed bug: flat from iteration 51 at the value the article quotes.
    assert np.all(sim.actual[50:] == sim.actual[50])
    assert f"{sim.actual[50]:.4e}" == "1.5878e-04"
    assert sim.cause is not None
    assert "`end` is not set on CosineAnnealingLR" in sim.cause
    assert "max_epochs = 1" in sim.cause and "TrainLoop" in sim.cause
    assert "iteration 50 of 150" in sim.cause
    assert sim.fix is not None
    diff_lines = sim.fix.splitlines()
    assert "-        T_max=3," in diff_lines
    assert "+        end=3," in diff_lines
    assert sum(1 for line in diff_lines if line.startswith(("-", "+"))) == 4  # headers + 1 change
    # What the author meant is exactly what the fixed run logged.
    _, fixed_json = _reference("xt_fixed_e3")
    assert _max_rel_error(sim.intended, _logged_lr(fixed_json)) <= REL_TOL
    spans = {s.type: s for s in sim.spans}
    assert (spans["LinearLR"].begin, spans["LinearLR"].end) == (0, 4)
    assert (spans["CosineAnnealingLR"].begin, spans["CosineAnnealingLR"].end) == (4, 50)


def test_fixed_run_has_no_cause() -> None:
    config_path, _ = _reference("xt_fixed_e3")
    text = config_path.read_text()
    sim = simulate_config(load_config(text), 50, config_text=text)
    assert sim is not None and sim.cause is None and sim.fix is None
    np.testing.assert_array_equal(sim.actual, sim.intended)


def _public_runs() -> list[Path]:
    if not PUBLIC.is_dir():
        return []
    return sorted(p.parent.parent for p in PUBLIC.glob("*/*/vis_data/config.py"))


@pytest.mark.parametrize("ts_dir", _public_runs(), ids=lambda p: p.parent.name)
def test_public_runs_match_logged_lr(ts_dir: Path, record_property: pytest.RecordProperty) -> None:
    config_path = ts_dir / "vis_data" / "config.py"
    log_text = next(ts_dir.glob("*.log")).read_text(errors="replace")
    epoch = _EPOCH_LINE.search(log_text)
    iters = _ITER_LINE.search(log_text)
    sim = simulate_config(
        load_config(config_path),
        int(epoch.group(1)) if epoch else None,
        total_iters=int(iters.group(1)) if iters else None,
    )
    assert sim is not None
    logged = _logged_lr(next((ts_dir / "vis_data").glob("2*.json")))
    assert logged
    err = _max_rel_error(sim.actual, logged)
    record_property("max_rel_error", err)
    print(f"{ts_dir.parent.name}: {len(logged)} logged lr, max relative error {err:.3e}")
    assert math.isfinite(err) and err <= REL_TOL
    assert sim.cause is None  # none of these runs has the seed bug


def test_public_logs_present_or_skipped() -> None:
    if not PUBLIC.is_dir():
        pytest.skip("../shared/public_logs not present")
    assert len(_public_runs()) >= 8

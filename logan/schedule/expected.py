"""Choose the expected schedule for a run: the simulated config when it reproduces the logged LR,
else the cosine inferred from the logs. Also simulates one session's own config, for the rules
that compare each session of a resumed run with the config it ran with.

A config that simulates to something other than what was logged (a different base LR, a param
group with `lr_mult`, a config edited after the run) is not trusted as "expected"; how far apart
they are is still reported as `schedule_match`.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from logan.model import Expected, Run, ScheduleMatch, Session
from logan.schedule.fit import simulate_beyond
from logan.schedule.from_logs import (
    classify_shape,
    expected_from_logs,
    find_peak,
    lr_tolerance,
)

if TYPE_CHECKING:
    from logan.schedule.mmengine import Simulation

# Producer -> module with `simulate_config(config, epoch_length, *, config_text, config_name,
# total_iters) -> Simulation | None`.
SIMULATORS = {
    "mmengine": "logan.schedule.mmengine",
    "mmcv": "logan.schedule.mmcv",
    "hf": "logan.schedule.hf",
}
# Simulated and logged LR agree when every logged point is within this relative error (beyond the
# producer's own printing precision): float32 event files carry ~1e-7, JSON doubles ~1e-16.
MATCH_REL = 1e-4
# A constant ratio between logged and simulated LR (within this) is a scale, not a shape, error:
# typically `paramwise_cfg`/`lr_mult` on parameter group 0.
SCALE_REL = 1e-3


def simulate_config(
    producer: str,
    config: dict[str, Any] | None,
    epoch_length: int | None,
    total: int | None,
    config_text: str | None = None,
    config_name: str = "config.py",
) -> Simulation | None:
    """`config` simulated by `producer`'s scheduler model over `total` iterations, or None."""
    if not config or producer not in SIMULATORS:
        return None
    try:
        module = importlib.import_module(SIMULATORS[producer])
    except ModuleNotFoundError:
        return None
    try:
        sim = module.simulate_config(
            config, epoch_length, config_text=config_text, config_name=config_name,
            total_iters=total,
        )  # fmt: skip
    except Exception:  # noqa: BLE001 - a simulator gap means "no config expectation", not a crash
        return None
    return sim


def simulate(run: Run, horizon: int | None = None) -> Simulation | None:
    """The run's config simulated by its producer's scheduler model, or None.

    `horizon` simulates that many iterations instead of the run's length."""
    text = run.meta.get("config_text")
    name = Path(run.config_path).name if run.config_path else "config.py"
    total = horizon or run.max_iters or run.last_step
    return simulate_config(run.producer, run.config, run.epoch_length, total, text, name)


def simulate_session(run: Run, session: Session, total: int) -> Simulation | None:
    """One session's own config simulated from iteration 1 over `total` iterations: the
    schedule that session would have followed had it started from scratch with its config."""
    return simulate_config(run.producer, session.config, run.epoch_length, total)


def extended(run: Run, total: int) -> Simulation | None:
    """The config simulated past the end of training, far enough to see where it stops."""
    return simulate_beyond(lambda horizon: simulate(run, horizon), total)


def at_steps(curve: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Curve value at 1-based logged steps (clipped to the simulated range)."""
    idx = np.clip(steps - 1, 0, len(curve) - 1)
    return curve[idx]


def close_to_log(simulated: np.ndarray, logged: np.ndarray, tol: tuple[float, float]) -> np.ndarray:
    """Per point: the simulated LR equals the logged one within MATCH_REL and the logging
    precision `tol` (absolute, relative)."""
    allowed = np.maximum(np.maximum(MATCH_REL, tol[1] * 2) * np.abs(logged), tol[0])
    with np.errstate(over="ignore", invalid="ignore"):
        return np.abs(simulated - logged) <= allowed


def schedule_match(sim: Simulation, lr: pd.Series, tol: tuple[float, float]) -> ScheduleMatch:
    """How well the simulated LR reproduces the logged one, with the known offsets named."""
    steps = lr.index.to_numpy(dtype="int64")
    logged = lr.to_numpy(dtype="float64")
    in_range = steps <= sim.total_iters
    steps, logged = steps[in_range], logged[in_range]
    simulated = at_steps(sim.actual, steps)
    denom = np.maximum(np.abs(logged), 1e-300)
    rel = np.abs(simulated - logged) / denom
    matches = bool(len(rel)) and bool(np.all(close_to_log(simulated, logged, tol)))
    scale = note = None
    if not matches and len(rel):
        ok = np.abs(simulated) > 0
        ratio = logged[ok] / simulated[ok]
        if len(ratio) and np.ptp(ratio) <= SCALE_REL * abs(float(np.median(ratio))):
            scale = float(np.median(ratio))
            note = (
                f"logged LR is a constant {scale:.4g}x the simulated one: parameter group 0 "
                "has an lr_mult (paramwise_cfg) or the base LR differs from the config"
            )
    if tol[0] or tol[1]:
        note = note or "logged values are rounded; error includes the rounding"
    return ScheduleMatch(
        matches=matches,
        max_rel_error=float(rel.max()) if len(rel) else None,
        points=int(len(rel)),
        simulated_iters=int(sim.total_iters),
        scale=scale,
        note=note,
    )


def _from_config(
    sim: Simulation, lr: pd.Series, tol: tuple[float, float], match: ScheduleMatch
) -> Expected:
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    intended = at_steps(sim.intended, steps)
    pk = find_peak(values)
    peak_intended = float(np.max(sim.intended))
    warmup_end = int(steps[pk]) if pk > 0 and values[0] < values[pk] else None
    full = np.arange(1, sim.total_iters + 1)
    return Expected(
        source="config",
        steps=steps,
        values=intended,
        peak=max(peak_intended, float(values[pk])),
        peak_step=int(steps[pk]),
        warmup_end=warmup_end,
        floor=float(np.min(sim.intended)),
        last_step=int(steps[-1]),
        shape=classify_shape(values, pk, tol),
        simulation=sim,
        match=match,
        configured_curve=(full, sim.actual),
        intended_curve=(full, sim.intended) if sim.cause else None,
        cause=sim.cause,
        fix=sim.fix,
    )


def build_expected(run: Run) -> Expected | None:
    """The schedule checks compare against (None when the run logged no LR)."""
    lr = run.series("lr", finite=True)
    if len(lr) < 3:
        return None
    tol = lr_tolerance(run.meta)
    sim = simulate(run)
    match = schedule_match(sim, lr, tol) if sim is not None else None
    if sim is not None and match is not None and match.matches:
        expected = _from_config(sim, lr, tol, match)
        return dataclasses.replace(expected, simulation_extended=extended(run, sim.total_iters))
    guess = expected_from_logs(lr, tol)
    if guess is not None and sim is not None:
        curve = (np.arange(1, sim.total_iters + 1), sim.actual)
        guess = dataclasses.replace(guess, match=match, configured_curve=curve)
    return guess

"""Learning-rate rules: a schedule that froze, ended early, cycled, restarted or never warmed up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from logan.checks import Limits, Rule, fmt
from logan.model import Expected, Finding, Run, Severity
from logan.schedule.from_logs import equal_mask, lr_tolerance

# LR001 thresholds.
# The flat stretch must cover at least one epoch (the seed bug freezes for whole epochs); without
# an epoch length, 10% of the run, so that a few flat points at the very end never count.
PLATEAU_MIN_RUN_SHARE = 0.10
# The LR must have come down by at least this share of the peak before freezing: a warmup followed
# by a constant LR is a schedule, not a plateau.
MIN_DECAY_SHARE = 0.01
# A value within this share of the peak above the floor is "at the floor": a cosine that reached
# eta_min early is LR002's business, not a freeze mid-schedule. 10% admits eta_min_ratio up to 0.1.
FLOOR_SHARE = 0.10
# The expected schedule must still fall by at least this share of the peak over the flat stretch.
MIN_EXPECTED_DROP = 0.05

PLATEAU_HINT = (
    "The LR scheduler stopped before training ended. For mmengine/XTuner configs give the cosine "
    "scheduler `end=max_epochs` (with by_epoch=True, convert_to_iter_based=True), not only "
    "`T_max`: a missing `end` defaults to the train loop's max_epochs, which is 1 for "
    "iteration-based loops such as XTuner's TrainLoop."
)


LR001 = Rule(
    "LR001",
    "lr-plateau",
    Severity.ERROR,
    thresholds={
        "PLATEAU_MIN_RUN_SHARE": PLATEAU_MIN_RUN_SHARE,
        "MIN_DECAY_SHARE": MIN_DECAY_SHARE,
        "FLOOR_SHARE": FLOOR_SHARE,
        "MIN_EXPECTED_DROP": MIN_EXPECTED_DROP,
    },
)


@LR001
def lr_plateau(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The LR was decaying, then froze above its floor until the end of training.

    What it does: finds the final stretch where the learning rate stays constant (to the logged
    precision) for at least one epoch (or 10% of the run when the epoch length is unknown), after
    it had been decaying smoothly, at a value well above the schedule's floor, while the expected
    schedule (the run's config when logan can simulate it, else a cosine from the post-warmup peak
    to zero at the last step) keeps falling.

    Why it matters: the rest of training runs at a far higher LR than planned. This is the XTuner
    multi-epoch bug: `CosineAnnealingLR(by_epoch=True, T_max=max_epochs,
    convert_to_iter_based=True)` without `end` stops after the first epoch, because mmengine fills
    a missing `end` with the train loop's `max_epochs`, which is 1 for iteration-based loops.

    Example: `LR frozen at 1.588e-04 (79% of peak) from step 51 (the first step after epoch 1) to
    step 150; the expected cosine ends at 0; 67% of training affected`.

    How to fix: give the scheduler an explicit `end` (`end=max_epochs` with
    `convert_to_iter_based=True`), or make `T_max`/`end` cover the whole run. The cause named in
    the finding comes from the config the frozen session ran with: the missing `end` only when
    that config has none; a resume after a schedule edit when the session was one (see LR007).
    """
    if expected is None:
        return
    if expected.source == "logs" and expected.shape != "smooth":
        return  # a guessed cosine is never compared against a staircase or a constant LR
    lr = run.series("lr", finite=True)
    if len(lr) < 3:
        return
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    peak, floor = expected.peak, expected.floor
    eq = equal_mask(values, lr_tolerance(run.meta))
    if not eq[-1]:
        return
    changed = np.nonzero(~eq)[0]
    start = int(changed[-1]) + 1 if len(changed) else 0  # index of the first point of the flat run
    p0 = int(steps[start])
    last = int(steps[-1])
    value = float(values[start])
    first_flat = int(steps[start + 1])
    length = run.epoch_length
    min_len = length if length else lim["PLATEAU_MIN_RUN_SHARE"] * last
    if last - p0 < min_len or p0 <= expected.peak_step:
        return
    if value > peak * (1 - lim["MIN_DECAY_SHARE"]):
        return  # never decayed: warmup then constant
    if value <= floor + lim["FLOOR_SHARE"] * (peak - floor):
        return  # sitting at the floor
    if _configured_floor(expected, value, lr_tolerance(run.meta)):
        return  # the config's own schedule settles at this LR (e.g. eta_min equal to the base LR)
    exp_start, exp_end = expected.at(p0), expected.at(last)
    if (
        exp_start - exp_end < lim["MIN_EXPECTED_DROP"] * peak
        or value - exp_end < lim["MIN_EXPECTED_DROP"] * peak
    ):
        return
    step = p0 + 1  # the first iteration that should have had a new LR
    affected = (last - p0) / last
    evidence: dict[str, Any] = {
        "frozen_lr": value,
        "frozen_fraction_of_peak": value / peak,
        "peak_lr": peak,
        "peak_step": expected.peak_step,
        "last_change_step": p0,
        "first_flat_logged_step": first_flat,
        "last_step": last,
        "expected_lr_at_end": exp_end,
        "expected_source": expected.source,
        "fraction_of_training_affected": affected,
    }
    epoch: float | None = None
    where = ""
    if length:
        epoch = p0 / length
        # With sparse logging the freeze happened somewhere in (p0, first_flat]: it is at a boundary
        # when an epoch ends in that window.
        boundary_epoch = (first_flat - 1) // length
        at_boundary = boundary_epoch * length >= p0
        evidence.update(epoch=epoch, epoch_length=length, at_epoch_boundary=at_boundary)
        if at_boundary:
            step = boundary_epoch * length + 1
            epoch = float(boundary_epoch)
            evidence["epoch"] = epoch
            where = f" (the first step after epoch {epoch:g})"
        else:
            where = f" (epoch {epoch:.2f}, not at an epoch boundary)"
    cause, fix = plateau_cause(run, expected, step)
    if cause:
        evidence["cause"] = cause
    if fix:
        evidence["fix"] = fix
    message = (
        f"LR frozen at {fmt(value)} ({value / peak:.0%} of peak {fmt(peak)}) from step {step}"
        f"{where} to the end at step {last}, while the expected schedule falls to {fmt(exp_end)}; "
        f"{affected:.0%} of training affected"
    )
    yield LR001.finding(
        message,
        step=step,
        end_step=last,
        epoch=epoch,
        evidence=evidence,
        hint=PLATEAU_HINT,
    )


def _session_at(run: Run, step: int) -> int | None:
    """Index of the session that trained `step` (on the run's timeline), if sessions are known."""
    found = None
    for i, session in enumerate(run.sessions):
        if session.first_step is not None and session.first_step <= step:
            found = i
    return found


def _lacks_end(config: dict[str, Any]) -> bool:
    """Some LR scheduler in the config has no `end` (mmengine then uses the loop's length)."""
    raw = config.get("param_scheduler")
    cfgs = [raw] if isinstance(raw, dict) else list(raw) if isinstance(raw, (list, tuple)) else []
    return any(isinstance(c, dict) and "end" not in c for c in cfgs)


def plateau_cause(run: Run, expected: Expected, step: int) -> tuple[str | None, str | None]:
    """Why the LR froze at `step`, from evidence only: a resume after a schedule edit when the
    session that froze was one; the simulator's cause (a missing `end`) only when the config
    that session ran with really lacks an `end`. No cause beats a wrong one."""
    cause, fix = expected.cause, expected.fix
    index = _session_at(run, step)
    config = run.sessions[index].config if index is not None else None
    if index is None or config is None:
        return cause, fix
    from logan.checks.resume import RESUME_HINT, departure, resume_cause

    dep = departure(run, index)
    if dep is not None and dep.changes:
        return resume_cause(dep), RESUME_HINT
    if cause and "`end` is not set" in cause and not _lacks_end(config):
        return None, None
    return cause, fix


def _configured_floor(expected: Expected, value: float, tol: tuple[float, float]) -> bool:
    """Does the run's config, simulated, end its schedule at `value`? When the simulation did not
    reproduce the log closely enough to be the expected schedule, the logs' guess is used, but a
    plateau at the very LR the config settles at is what the config asked for, not a freeze."""
    curve = expected.configured_curve
    if expected.source != "logs" or curve is None or not len(curve[1]):
        return False
    end = float(curve[1][-1])
    absolute, rel = tol
    # float32 events and exact JSON alike: agree to a part in a million at least.
    return abs(end - value) <= max(absolute, max(rel, 1e-6) * max(abs(end), abs(value)))


# LR003 thresholds.
# A rise after a minimum counts only if it climbs back by this share of the peak: smaller wiggles
# are rounding or float32 noise.
CYCLE_RISE_SHARE = 0.25
# A restart jumps up within this many logged points; a stepped-past-T_max cosine climbs back
# gradually over many. Jumps are configured restarts (CosineRestartLR, SGDR) or LR004's business.
JUMP_POINTS = 1


def _next_false(flags: np.ndarray) -> np.ndarray:
    """For each k, the smallest j >= k with flags[j] False (len(flags) when there is none)."""
    m = len(flags)
    where = np.where(flags, m, np.arange(m))
    return np.minimum.accumulate(where[::-1])[::-1]


def _valleys(
    values: np.ndarray, peak: float, tol: tuple[float, float], rise: float = CYCLE_RISE_SHARE
) -> list[tuple[int, int]]:
    """(index of minimum, index where the LR is back up by `rise` of the peak) pairs.

    A walk down to each local minimum (a step counts as down within the LR's tolerance) and up
    its non-decreasing climb; the walks jump from run end to run end (precomputed per point), so
    the cost is per valley, not per logged point (a long LR walked point by point in Python was
    a tenth of a large tree's check time).
    """
    # LRs near 1e308 overflow to inf here as they did in Python floats, without numpy's warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return _valley_walk(np.asarray(values, dtype="float64"), peak, tol, rise)


def _valley_walk(
    values: np.ndarray, peak: float, tol: tuple[float, float], rise: float
) -> list[tuple[int, int]]:
    n = len(values)
    if n < 2:
        return []
    down_end = _next_false(values[1:] <= values[:-1] * (1 + max(1e-12, tol[1])) + tol[0])
    up_end = _next_false(values[1:] >= values[:-1])
    need = rise * peak
    out = []
    i = 0
    while i < n - 1:
        low = int(down_end[i])  # walk down to a local minimum
        top = int(up_end[low]) if low < n - 1 else low  # the end of the climb from it
        climbed = np.flatnonzero(values[low + 1 : top + 1] - values[low] >= need)
        if len(climbed):
            up = low + 1 + int(climbed[0])
            out.append((low, up))
            up = int(up_end[up]) if up < n - 1 else up  # continue from the top of this rise
        else:
            if need <= 0:  # no climb needed: the minimum itself counts (as the walk did)
                out.append((low, top))
            up = top
        i = max(up, low + 1)
    return out


LR003 = Rule(
    "LR003",
    "lr-cycles",
    Severity.WARNING,
    thresholds={
        "CYCLE_RISE_SHARE": CYCLE_RISE_SHARE,
    },
)


@LR003
def lr_cycles(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """A decaying LR climbs back up, smoothly, although no restart was configured.

    What it does: after the LR has decayed to a minimum, looks for a gradual climb back up by at
    least 25% of the peak (over several logged points, not a one-step jump). Counts the cycles and
    relates their period to the epoch length, which tells whether `T_max` was given in epochs
    while the scheduler was stepped every iteration (or per micro-batch with gradient
    accumulation, or per GPU).

    Why it matters: torch's and mmengine's cosine keep following the cosine past `T_max`, so a
    `T_max` in the wrong unit makes the LR oscillate between peak and floor many times instead of
    decaying once.

    Example: `LR reaches its minimum 1e-06 at step 12 and climbs back to the peak: 5 cycles of
    24 steps (T_max = 12 steps, 1.2 epochs)`.

    How to fix: give `T_max` in the unit the scheduler is stepped in (iterations for a per-step
    scheduler, e.g. `T_max=max_epochs * steps_per_epoch`), or step it per epoch. A configured
    warm restart (CosineRestartLR, CosineAnnealingWarmRestarts) jumps back up and is not reported.
    """
    if _configured_restarts(expected):
        return
    lr = run.series("lr", finite=True)
    if len(lr) < 6:
        return
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    peak = float(values.max())
    if peak <= 0:
        return
    tol = lr_tolerance(run.meta)
    valleys = [
        (lo, up)
        for lo, up in _valleys(values, peak, tol, lim["CYCLE_RISE_SHARE"])
        if up - lo > JUMP_POINTS
    ]
    # The rise must follow a real decay: the minimum is well below the peak.
    valleys = [(lo, up) for lo, up in valleys if values[lo] <= peak * (1 - lim["CYCLE_RISE_SHARE"])]
    # ... reached by decaying (not the warmup's start), and not where a session starts (LR004).
    session_starts = {s.first_step for s in run.sessions[1:]}
    valleys = [
        (lo, up)
        for lo, up in valleys
        if lo > 0
        and values[:lo].max() - values[lo] >= lim["CYCLE_RISE_SHARE"] * peak
        and int(steps[lo]) not in session_starts
    ]
    if not valleys:
        return
    lows = [int(steps[lo]) for lo, _ in valleys]
    first = valleys[0][0]
    period = float(np.median(np.diff(lows))) if len(lows) > 1 else None
    half = (lows[0] - int(steps[0])) if period is None else period / 2
    evidence: dict[str, Any] = {
        "minimum_step": lows[0],
        "minimum_lr": float(values[first]),
        "peak_lr": peak,
        "cycles": len(valleys),
        "minima_steps": lows[:20],
        "period_steps": period,
        "t_max_steps": half,
    }
    factor = ""
    if run.epoch_length and half:
        in_epochs = half / run.epoch_length
        evidence["t_max_epochs"] = in_epochs
        factor = f" (T_max = {half:g} steps = {in_epochs:.3g} epochs"
        n_epochs = (run.max_epochs or 0) or round((run.last_step or 0) / run.epoch_length)
        factor += ")"
        if n_epochs and abs(half - n_epochs) / n_epochs < 0.2:
            evidence["likely_factor"] = "epoch_length"
            factor += (
                f"; T_max equals the number of epochs ({n_epochs}), so it was given in epochs "
                f"while the scheduler is stepped every iteration: {run.epoch_length}x too short"
            )
    message = (
        f"LR reaches a minimum of {fmt(float(values[first]))} at step {lows[0]} and climbs back "
        f"up: {len(valleys)} cycle(s)" + (f" of {period:g} steps" if period else "") + factor
    )
    yield LR003.finding(
        message,
        step=lows[0],
        end_step=int(steps[-1]),
        epoch=lows[0] / run.epoch_length if run.epoch_length else None,
        evidence=evidence,
        hint="Give T_max in the unit the scheduler is stepped in (iterations for a per-step "
        "scheduler: T_max = epochs x steps per epoch), or step the scheduler per epoch.",
    )


# Scheduler types whose rises are by design.
RESTART_TYPES = ("CosineRestart", "CosineAnnealingWarmRestarts", "Cyclic", "OneCycle")


def _configured_restarts(expected: Expected | None) -> bool:
    """True when the run's simulated config contains a scheduler that restarts or cycles."""
    sim = expected.simulation if expected is not None else None
    spans = sim.spans if sim is not None else ()
    return any(any(t in span.type for t in RESTART_TYPES) for span in spans)


# LR004 thresholds.
# At a session boundary the LR "jumps back" when it rises to at least this multiple of the last
# LR of the previous session (a continuing schedule never rises at a resume).
RESTART_JUMP = 1.5


LR004 = Rule(
    "LR004",
    "lr-restart",
    Severity.ERROR,
    thresholds={
        "RESTART_JUMP": RESTART_JUMP,
    },
)


@LR004
def lr_restart(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """A later session started the schedule again instead of resuming it.

    What it does: looks at every session boundary (mmengine timestamp folders, several event files
    in one folder). A session whose step count starts again from the beginning while earlier
    sessions got further, or whose first LR jumps back up (to the warmup start or the peak) from
    where the previous session stopped, is a restart.

    Why it matters: `load_from=ckpt` (without `resume=True`) loads the weights but not the
    optimizer, scheduler or iteration count: warmup and the whole schedule run again, the run
    trains longer than planned and its curves no longer line up with the config.

    Example: `session 20240101_120000 restarts at step 1 (LR 1e-08, warmup again) after the
    previous session reached step 110 with LR 5e-04`.

    How to fix: continue with `resume=True` (mmengine; `--resume` in the tools scripts), or HF's
    `resume_from_checkpoint`, Lightning's `ckpt_path=`: they restore the scheduler and the step.
    """
    lr = run.series("lr")
    if lr.empty or len(run.sessions) < 2:
        return
    table = run.train_scalars()
    lr_rows = table[table["tag"] == "lr"]
    for prev, cur in zip(run.sessions, run.sessions[1:], strict=False):
        if cur.first_step is None or prev.last_step is None:
            continue
        prev_rows = lr_rows[(lr_rows["session"] < run.sessions.index(cur))]
        cur_rows = lr_rows[lr_rows["session"] == run.sessions.index(cur)].sort_values("step")
        prev_rows = (
            prev_rows[prev_rows["step"] < cur_rows["step"].min()] if len(cur_rows) else prev_rows
        )
        if prev_rows.empty or cur_rows.empty:
            continue
        before = float(prev_rows.sort_values("step")["value"].iloc[-1])
        after = float(cur_rows["value"].iloc[0])
        jumped = before > 0 and after >= lim["RESTART_JUMP"] * before
        if not (cur.restarted or jumped):
            continue
        logged_first = cur.first_step - cur.step_offset
        what = (
            f"restarts at step {logged_first}"
            if cur.restarted
            else f"continues at step {cur.first_step}"
        )
        message = (
            f"session {cur.name} {what} with LR {fmt(after)} after the previous session reached "
            f"step {prev.last_step - prev.step_offset} with LR {fmt(before)}: the schedule "
            "started again"
        )
        yield LR004.finding(
            message,
            step=cur.first_step,
            end_step=cur.last_step,
            epoch=None,
            evidence={
                "session": cur.name,
                "previous_session": prev.name,
                "step_count_restarted": cur.restarted,
                "logged_first_step": logged_first,
                "previous_last_step": prev.last_step - prev.step_offset,
                "lr_before": before,
                "lr_after": after,
                "timeline_offset": cur.step_offset,
            },
            hint="Continue an interrupted run with `resume=True` (mmengine), "
            "`resume_from_checkpoint` (HF) or `ckpt_path=` (Lightning), not `load_from`: only a "
            "resume restores the scheduler and the iteration count.",
        )


# LR005 thresholds.
# A warmup still rising over the last share of the run never ended.
WARMUP_UNFINISHED_SHARE = 0.10
# Warmups longer than this share of the run leave little training at the peak LR; common recipes
# use 1-10% (XTuner 3%, HF 0-10%, mmdet ~500 iters).
WARMUP_MAX_SHARE = 0.30
# A run that stopped before this share of its planned steps was cut short (killed, crashed):
# whether its warmup "ended" says nothing about the warmup.
WARMUP_CUT_SHORT = 0.90
# Schedulers that are warmups when they rise from a start factor below 1.
WARMUP_TYPES = ("LinearLR", "QuadraticWarmupLR")


LR005 = Rule(
    "LR005",
    "warmup",
    Severity.WARNING,
    thresholds={
        "WARMUP_UNFINISHED_SHARE": WARMUP_UNFINISHED_SHARE,
        "WARMUP_MAX_SHARE": WARMUP_MAX_SHARE,
        "WARMUP_CUT_SHORT": WARMUP_CUT_SHORT,
    },
)


@LR005
def warmup(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """Warmup that never ends, takes most of the run, or trains whole steps at LR 0.

    What it does: reports (warning) an LR still rising over the last 10% of the run — warmup never
    reached its peak; (warning) a warmup longer than 30% of the run; (info) more than one logged
    step at LR exactly 0 at the start (a warmup from 0 stepped per epoch wastes a whole epoch).
    A single first step at LR 0 is HF's warmup by design and is not reported. Shares are of the
    planned training (max_iters, or max_epochs x epoch length) when it is known. A run that
    stopped before 90% of its plan (killed, crashed) is judged by its configured warmup only:
    its LR still rising at the end is the run's end, not the warmup's fault.

    Why it matters: a warmup sized in the wrong unit (epochs for iterations, or `warmup_ratio` of
    the wrong total) silently replaces the schedule the run was meant to have.

    Example: `LR still rising at the last step 500 (4.1e-05, the warmup never ended)`.

    How to fix: size the warmup in the unit its scheduler is stepped in (`warmup_steps` or
    `end=` in iterations), and check `warmup_ratio` against the real number of optimizer steps.
    """
    lr = run.series("lr", finite=True)
    if len(lr) < 5:
        return
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    first, last = int(steps[0]), int(steps[-1])
    span = max(last - first, 1)
    peak = float(values.max())
    tol = lr_tolerance(run.meta)
    # Comparisons, not differences: an LR near +-1e308 must not overflow.
    rising = ~equal_mask(values, tol) & (values[1:] > values[:-1])
    falling = ~equal_mask(values, tol) & (values[1:] < values[:-1])
    if peak <= 0:
        return
    planned = _planned_length(run)
    configured = _configured_warmup_share(run)
    if (planned and last < lim["WARMUP_CUT_SHORT"] * planned) or (not planned and configured):
        # The run stopped (killed, crashed) before its planned end, or its length is known only
        # from the config: an unfinished warmup is then the run's end, not the warmup's fault.
        # Judge the configured warmup against the planned training instead.
        if configured and configured[0] > lim["WARMUP_MAX_SHARE"]:
            share, end, total, unit = configured
            yield LR005.finding(
                f"the configured warmup takes {share:.0%} of the planned training (until "
                f"{unit} {end:g} of {total:g}); the run stopped at step {last}",
                step=first,
                end_step=last,
                evidence={"share_of_run": share, "warmup_end": end, "planned": total},
                hint="Check the warmup length and its unit (epochs vs iterations).",
            )
        return
    if planned:
        span = max(planned - first, 1)
    # Still rising at the end, and never decayed: the warmup never ended.
    tail_from = last - lim["WARMUP_UNFINISHED_SHARE"] * span
    tail = steps[1:] >= tail_from
    if (
        rising[tail].any()
        and not falling.any()
        and values[-1] >= peak * (1 - 1e-9)
        and values[0] < peak
    ):
        yield LR005.finding(
            f"LR still rising at the last step {last} ({fmt(values[-1])}): the warmup never ended",
            step=first,
            end_step=last,
            evidence={"first_lr": float(values[0]), "last_lr": float(values[-1])},
            hint="The warmup is longer than the run: size it in optimizer steps of this run.",
        )
        return
    pk = int(np.argmax(values >= peak * (1 - 1e-6)))
    if pk > 0 and values[0] < peak * 0.5 and falling.any():
        share = (int(steps[pk]) - first) / span
        if share > lim["WARMUP_MAX_SHARE"]:
            yield LR005.finding(
                f"warmup takes {share:.0%} of the run (until step {int(steps[pk])} of {last})",
                step=first,
                end_step=int(steps[pk]),
                evidence={"warmup_end_step": int(steps[pk]), "share_of_run": share},
                hint="Check the warmup length and its unit (epochs vs iterations).",
            )
    zeros = np.nonzero(values == 0.0)[0]
    lead = 0
    while lead < len(values) and values[lead] == 0.0:
        lead += 1
    if lead > 1:
        yield LR005.finding(
            f"the first {lead} logged steps (to step {int(steps[lead - 1])}) train with LR 0",
            step=first,
            end_step=int(steps[lead - 1]),
            evidence={"zero_lr_points": int(lead), "zero_lr_total": int(len(zeros))},
            hint="Start the warmup above 0 (e.g. start_factor=1e-3) or step it per iteration.",
            severity=Severity.INFO,
        )


def _planned_length(run: Run) -> int | None:
    """Optimizer steps the run was configured for (max_iters, or max_epochs x epoch length)."""
    if run.max_iters:
        return int(run.max_iters)
    if run.max_epochs and run.epoch_length:
        return int(run.max_epochs * run.epoch_length)
    return None


def _configured_warmup_share(run: Run) -> tuple[float, float, float, str] | None:
    """(share, end, planned, unit) of the config's warmup: a LinearLR or QuadraticWarmupLR rising
    from a start factor below 1, its `end` against the training length in the same unit
    (epochs for a scheduler by epoch, iterations otherwise). None when the config does not say."""
    schedulers = (run.config or {}).get("param_scheduler")
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    if not isinstance(schedulers, list):
        return None
    for sched in schedulers:
        if not isinstance(sched, dict) or sched.get("type") not in WARMUP_TYPES:
            continue
        end = sched.get("end")
        factor = sched.get("start_factor", 1.0 / 3)
        if not _number(end) or end is None or end <= 0 or (_number(factor) and factor >= 1):
            return None
        if sched.get("by_epoch", True):
            total, unit = run.max_epochs, "epoch"
        else:
            total, unit = _planned_length(run), "step"
        if not total:
            return None
        return min(float(end), float(total)) / float(total), float(end), float(total), unit
    return None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# LR006 thresholds.
# The run covered less than this share of its LR range: a per-iteration schedule stepped per
# epoch advances by 1/epoch_length of its schedule per epoch.
FROZEN_UNITS_MAX_COVERED = 0.10
# At least this many epoch-boundary steps, so that the pattern is established.
FROZEN_UNITS_MIN_CHANGES = 2


LR006 = Rule(
    "LR006",
    "lr-frozen-by-units",
    Severity.WARNING,
    thresholds={
        "FROZEN_UNITS_MAX_COVERED": FROZEN_UNITS_MAX_COVERED,
        "FROZEN_UNITS_MIN_CHANGES": FROZEN_UNITS_MIN_CHANGES,
    },
)


@LR006
def lr_frozen_by_units(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The LR moves only at epoch boundaries, by tiny steps: a per-step schedule stepped per epoch.

    What it does: finds an LR that changes only at epoch boundaries, by small amounts, and that by
    the end of the run has covered less than 10% of its range (it is still near the peak after
    several epochs). Evidence: the share of the schedule covered and how many epochs the schedule
    would need at this pace.

    Why it matters: Lightning steps a scheduler once per epoch unless `"interval": "step"` is set,
    so a schedule sized in optimizer steps (`T_max=total_steps`) advances by 1/steps_per_epoch of
    its length per epoch and the LR barely moves for the whole run.

    Example: `LR changed only at 3 epoch boundaries and covered 1.4% of its range by step 39
    (0.001 -> 0.000986); at this pace the schedule needs ~280 epochs`.

    How to fix: return `{"scheduler": sched, "interval": "step"}` from
    `configure_optimizers`, or size the schedule in epochs.
    """
    length = run.epoch_length
    lr = run.series("lr", finite=True)
    # With one step per epoch every change lies on a boundary: the pattern proves nothing.
    if not length or length < 2 or len(lr) < 4:
        return
    steps = lr.index.to_numpy(dtype="int64")
    values = lr.to_numpy(dtype="float64")
    pk = int(np.argmax(values))
    peak = float(values[pk])
    if peak <= 0:
        return
    moving = ~equal_mask(values, lr_tolerance(run.meta))
    change_at = steps[1:][moving]
    prev_at = steps[:-1][moving]
    if len(change_at) < lim["FROZEN_UNITS_MIN_CHANGES"]:
        return
    # Every change lies on an epoch boundary: an epoch ends between the two logged points.
    start0 = int(steps[0]) if int(steps[0]) == 0 else 1
    on_boundary = ((change_at - start0) // length) > ((prev_at - start0) // length)
    if not on_boundary.all():
        return
    if np.any((values[1:] > values[:-1])[moving]):
        return  # rises: not a decay stepped in the wrong unit
    covered = (peak - float(values[-1])) / peak
    if covered >= lim["FROZEN_UNITS_MAX_COVERED"] or covered <= 0:
        return
    epochs_seen = (int(steps[-1]) - start0 + 1) / length
    pace = covered / max(len(change_at), 1)
    need = (1 / pace) if pace > 0 else None
    message = (
        f"LR changed only at {len(change_at)} epoch boundaries and covered {covered:.1%} of its "
        f"range in {epochs_seen:.3g} epochs ({fmt(peak)} -> {fmt(float(values[-1]))})"
        + (f"; at this pace the schedule needs ~{need:.0f} epochs" if need else "")
    )
    yield LR006.finding(
        message,
        step=int(change_at[0]),
        end_step=int(steps[-1]),
        epoch=None,
        evidence={
            "fraction_of_schedule_covered": covered,
            "changes_at_epoch_boundaries": int(len(change_at)),
            "epochs": epochs_seen,
            "epochs_needed_at_this_pace": need,
            "epoch_length": length,
        },
        hint="Step a per-iteration schedule every optimizer step (Lightning: return "
        '{"scheduler": s, "interval": "step"}), or size it in epochs.',
    )


LR002 = Rule("LR002", "schedule-length", Severity.WARNING)


@LR002
def schedule_length(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The schedule does not span training: it ends early, reaches past the end, or never steps.

    What it does: simulates the run's config (only when the simulation reproduces the logged LR)
    and reports a schedule whose last scheduler stops at least 10% of training before the end with
    nothing asked to hold the LR (a `ConstantLR` over the tail is a request, not a fault), or a
    schedule that would still be changing after the last iteration and left the LR more than 10%
    of its range above its floor (`end` or `T_max` beyond the run). From the config alone, it
    also reports a step schedule (MultiStepLR, StepLR, mmcv `step=[...]`) whose milestones all
    lie at or past the end of training while the logged LR never decayed: a 100-epoch recipe
    trained for 10 epochs. A MultiStepLR whose last stage is simply flat is the recipe, not a
    fault.

    Why it matters: a decay sized for a different training length either wastes the end of
    training at the final LR or never anneals, which usually costs accuracy.

    Example: `the configured schedule reaches past the end of training: it would keep changing
    until iteration 4000, but training stops at 2000 with the LR at 5e-05 (50% of the way...)`;
    `MultiStepLR milestones [30, 60, 90] (epochs) all lie at or past the end of training (10
    epochs): the LR never decays and stays at 0.01`.

    How to fix: make the last scheduler's `end` (and `T_max`, milestones) match the training
    length: `end=max_epochs` with `convert_to_iter_based=True`, or `max_iters` for
    iteration-based loops; scale milestones written for a longer recipe to this training.
    """
    never = steps_never_taken(run)
    if never is not None:
        yield LR002.finding(
            never["message"],
            step=None,
            end_step=run.last_step,
            evidence={k: v for k, v in never.items() if k != "message"},
            hint=never["hint"],
        )
        return
    if expected is None or expected.source != "config" or expected.simulation is None:
        return
    from logan.schedule.fit import schedule_misfits

    sim = expected.simulation
    for misfit in schedule_misfits(sim, expected.simulation_extended):
        yield LR002.finding(
            misfit.message,
            step=misfit.step,
            end_step=int(sim.total_iters),
            epoch=(misfit.step - 1) / run.epoch_length if run.epoch_length else None,
            evidence={"kind": misfit.kind, **misfit.evidence},
            hint="Make the last scheduler's end (and T_max or milestones) match the training "
            "length: end=max_epochs with convert_to_iter_based=True, or max_iters.",
        )


# Step schedulers: mmengine MultiStepLR/StepLR (and their ParamScheduler forms), mmcv `step`.
_STEP_TYPES = ("MultiStepLR", "StepLR", "MultiStepParamScheduler", "StepParamScheduler")


def _num(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _training_length(config: dict[str, Any], by_epoch: bool, run: Run) -> float | None:
    """How long training was in the scheduler's unit (epochs or iterations), from the config."""
    train_cfg = config.get("train_cfg")
    runner = config.get("runner")
    cfg = train_cfg if isinstance(train_cfg, dict) else runner if isinstance(runner, dict) else {}
    epochs = _num(cfg.get("max_epochs", config.get("total_epochs")))
    iters = _num(cfg.get("max_iters"))
    if by_epoch:
        return epochs
    if iters is not None:
        return iters
    return epochs * run.epoch_length if epochs is not None and run.epoch_length else None


def _step_schedulers(config: dict[str, Any]) -> Iterator[tuple[str, list[float], bool, Any]]:
    """(type, absolute milestones, by_epoch, end) of each step scheduler of the LR."""
    raw = config.get("param_scheduler")
    cfgs = [raw] if isinstance(raw, dict) else list(raw) if isinstance(raw, (list, tuple)) else []
    for cfg in cfgs:
        if not isinstance(cfg, dict) or cfg.get("param_name", "lr") != "lr":
            continue
        kind = str(cfg.get("type", "")).rsplit(".", 1)[-1]
        if kind not in _STEP_TYPES:
            continue
        begin = _num(cfg.get("begin", 0)) or 0.0
        steps = cfg.get("milestones") if "MultiStep" in kind else [cfg.get("step_size")]
        if not isinstance(steps, (list, tuple)) or not steps:
            continue
        values = [_num(v) for v in steps]
        if any(v is None for v in values):
            continue
        # mmengine counts milestones from the scheduler's `begin`.
        yield (
            kind,
            [begin + float(v) for v in values if v is not None],
            bool(cfg.get("by_epoch", True)),
            cfg.get("end"),
        )
    lr_config = config.get("lr_config")
    if isinstance(lr_config, dict) and str(lr_config.get("policy", "")).lower() == "step":
        step = lr_config.get("step")
        steps = list(step) if isinstance(step, (list, tuple)) else [step]
        nums = [_num(v) for v in steps]
        if nums and all(v is not None for v in nums):
            by_epoch = bool(lr_config.get("by_epoch", True))
            yield "step policy", [float(v) for v in nums if v is not None], by_epoch, None


def steps_never_taken(run: Run) -> dict[str, Any] | None:
    """A step schedule whose milestones all lie at or past the end of training (the LR never
    decays), from the config the run's last session trained with; None when it does step."""
    config = next((s.config for s in reversed(run.sessions) if s.config), None) or run.config
    if not isinstance(config, dict):
        return None
    lr = run.series("lr", finite=True)
    if len(lr) < 3:
        return None
    values = lr.to_numpy(dtype="float64")
    peak = int(np.argmax(values))
    if values[-1] < values[peak] * (1 - 1e-3):
        return None  # the logged LR did decay: whatever the config says, it stepped
    for kind, milestones, by_epoch, end in _step_schedulers(config):
        length = _training_length(config, by_epoch, run)
        if length is None or length <= 0:
            continue
        stop = min(length, _num(end) or length)
        if min(milestones) < stop:
            continue
        unit = "epochs" if by_epoch else "iterations"
        shown = [int(m) if m == int(m) else m for m in milestones]
        total = int(length) if length == int(length) else length
        return {
            "message": f"{kind} milestones {shown} ({unit}) all lie at or past the end of "
            f"training ({total} {unit if total != 1 else unit[:-1]}): the LR never decays and "
            f"stays at {fmt(values[-1])}",
            "hint": f"Scale the milestones to the training length: a recipe written for N {unit} "
            f"and trained for {total} needs each milestone multiplied by {total}/N (and `end` "
            "set to the training length).",
            "kind": "milestones-past-end",
            "milestones": shown,
            "unit": unit,
            "training_length": total,
            "lr": float(values[-1]),
        }
    return None

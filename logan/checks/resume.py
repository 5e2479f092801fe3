"""Session rules: a session whose LR does not follow the config it ran with (and why, when it
was resumed after an edit), and an LR that jumps where a session resumes.

mmengine's `resume=True` restores every param scheduler's state (`begin`, `end`, `T_max`,
milestones, base LRs) and the optimizer's (its LR) from the checkpoint: whatever the edited config
says about the schedule never reaches the resumed training. Each session's own config (the one in
its `vis_data/config.py` or text log) is simulated from iteration 1 and compared with what that
session logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from logan.checks import Limits, Rule, fmt
from logan.model import Expected, Finding, Run, Session, Severity
from logan.schedule.expected import at_steps, close_to_log, simulate_session
from logan.schedule.from_logs import lr_tolerance

if TYPE_CHECKING:
    from logan.schedule.mmengine import Simulation

# Config keys that shape the LR schedule: a change to one of them before a resume is what the
# checkpoint's scheduler and optimizer state silently override.
SCHEDULE_ROOTS = (
    "train_cfg",
    "param_scheduler",
    "lr_config",
    "runner",
    "optim_wrapper",
    "optimizer",
)
# Inside optim_wrapper/optimizer only the LR itself shapes the schedule.
OPTIMIZER_KEYS = ("lr",)

# How many changed keys a message names (the evidence lists them all).
SHOWN_KEYS = 4

# LR007 thresholds.
# The simulated config must reproduce at least this many logged points before the LR departs
# from it (in the session itself or in the sessions before it), else it is not trusted.
MIN_MATCHED_POINTS = 3

LR007 = Rule(
    "LR007",
    "lr-not-config",
    Severity.WARNING,
    thresholds={"MIN_MATCHED_POINTS": MIN_MATCHED_POINTS},
)

RESUME_HINT = (
    "A resume restores the param schedulers and the optimizer (its LR) from the checkpoint, so "
    "schedule edits made before it have no effect. To train on with a new schedule, start a new "
    "session from the checkpoint with `load_from=<checkpoint>` (without `resume`) and a "
    "param_scheduler written for the remaining iterations; or resume with the original "
    "schedule (same max_epochs, milestones, end and lr)."
)


@dataclass(frozen=True)
class Departure:
    """Where a session's logged LR leaves the schedule its own config describes."""

    session: Session
    index: int
    step: int  # on the run's timeline
    logged: float
    expected: float
    points: int  # logged points of the session from the departure on
    changes: tuple[str, ...]  # schedule keys changed since the previous session's config
    follows_previous: bool  # the LR follows the previous session's config instead


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: list(value) if isinstance(value, tuple) else value}


def _schedule_view(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config that shape the LR schedule, flattened to dotted keys."""
    flat: dict[str, Any] = {}
    for root in SCHEDULE_ROOTS:
        if root not in config:
            continue
        value = config[root]
        if root in ("optim_wrapper", "optimizer"):
            opt = value.get("optimizer", value) if isinstance(value, dict) else None
            if isinstance(opt, dict):
                where = f"{root}.optimizer" if opt is not value else root
                flat.update({f"{where}.{k}": opt[k] for k in OPTIMIZER_KEYS if k in opt})
            continue
        flat.update(_flatten(value, root))
    return flat


def schedule_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[str, ...]:
    """`key: old -> new` for every schedule-shaping key that differs between two configs."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ()
    a, b = _schedule_view(old), _schedule_view(new)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, "(unset)") != b.get(key, "(unset)"):
            out.append(f"{key}: {a.get(key, '(unset)')!r} -> {b.get(key, '(unset)')!r}")
    return tuple(out)


def is_resumed(run: Run, index: int) -> bool:
    """The session at `index` continued an earlier one's step counter (a resume)."""
    session = run.sessions[index]
    if index == 0 or session.restarted or session.kind not in ("resume", "fresh"):
        return False
    if session.kind == "resume":
        return True
    # Sessions read before they were classified: a continued step counter is a resume.
    prev = run.sessions[index - 1]
    return (
        session.first_step is not None
        and prev.first_step is not None
        and (session.first_step > prev.first_step)
    )


def _session_lr(run: Run, index: int) -> pd.Series:
    """The LR a session logged, indexed by its own iteration (timeline step - offset)."""
    table = run.scalars
    rows = table[(table["tag"] == "lr") & (table["session"] == index)]
    s = rows.set_index("step")["value"].astype("float64").sort_index(kind="stable")
    s = s[~s.index.duplicated(keep="last")]
    s = s[np.isfinite(s.to_numpy())]
    s.index = s.index - run.sessions[index].step_offset
    return s


def _earlier_lr(run: Run, index: int, before: int) -> pd.Series:
    """The LR the sessions of the same attempt before `index` logged below iteration `before`."""
    parts = []
    for i in range(index - 1, -1, -1):
        s = _session_lr(run, i)
        parts.append(s[s.index < before])
        before = int(s.index.min()) if len(s) else before
        if not is_resumed(run, i):
            break
    if not parts:
        return pd.Series(dtype="float64")
    joined = pd.concat(parts[::-1]).sort_index(kind="stable")
    return joined[~joined.index.duplicated(keep="last")]


def _matches(sim: Simulation, lr: pd.Series, tol: tuple[float, float]) -> np.ndarray:
    steps = lr.index.to_numpy(dtype="int64")
    return close_to_log(at_steps(sim.actual, steps), lr.to_numpy(dtype="float64"), tol)


def departure(run: Run, index: int, min_matched: int = MIN_MATCHED_POINTS) -> Departure | None:
    """Where session `index`'s logged LR leaves its own config's schedule, when the simulation
    is trusted (it reproduces the log before that point, or the previous session's config
    explains the logged LR); None when it follows its config or cannot be judged."""
    session = run.sessions[index]
    if session.config is None:
        return None  # nothing to compare with (and the LR is not worth slicing out)
    lr = _session_lr(run, index)
    if len(lr) < 2:
        return None
    tol = lr_tolerance(run.meta)
    total = int(lr.index.max())
    sim = simulate_session(run, session, total)
    if sim is None:
        return None  # the simulator does not cover this config: no expectation
    ok = _matches(sim, lr, tol)
    if ok.all():
        return None
    bad = int(np.argmin(ok))
    resumed = is_resumed(run, index)
    prev = run.sessions[index - 1] if index > 0 else None
    follows_previous = False
    changes: tuple[str, ...] = ()
    if resumed and prev is not None and prev.config is not None:
        old = simulate_session(run, prev, total)
        tail = lr.iloc[bad:]
        follows_previous = old is not None and bool(_matches(old, tail, tol).all())
        changes = schedule_changes(prev.config, session.config)
    trusted = bad >= min_matched
    if not trusted and resumed:
        earlier = _earlier_lr(run, index, int(lr.index.min()))
        trusted = len(earlier) >= min_matched and bool(_matches(sim, earlier, tol).all())
    if not (trusted or (follows_previous and changes)):
        return None
    step = int(lr.index[bad])
    return Departure(
        session=session,
        index=index,
        step=step + session.step_offset,
        logged=float(lr.iloc[bad]),
        expected=float(at_steps(sim.actual, np.array([step]))[0]),
        points=int(len(lr) - bad),
        changes=changes if follows_previous else (),
        follows_previous=follows_previous,
    )


def resume_cause(dep: Departure) -> str:
    """The resume cause in words: which keys changed, and why they had no effect."""
    keys = "; ".join(dep.changes)
    return (
        f"session {dep.session.name} was resumed with a config whose schedule differs from the "
        f"previous session's ({keys}), but mmengine restores each param scheduler's state "
        "(begin, end, T_max, milestones, base LRs) and the optimizer's LR from the checkpoint, "
        "so the change had no effect: the LR follows the previous session's schedule"
    )


def _never_matched(run: Run, index: int) -> str | None:
    """A session whose own config's simulation matches none of its log: said once, as info."""
    session = run.sessions[index]
    # Only resumed sessions, the ones this check is about: a fresh session's batch size (so its
    # epoch length) may differ from the run's, which the session record does not carry.
    if session.config is None or not is_resumed(run, index):
        return None
    lr = _session_lr(run, index)
    if len(lr) < MIN_MATCHED_POINTS:
        return None
    sim = simulate_session(run, session, int(lr.index.max()))
    if sim is None or _matches(sim, lr, lr_tolerance(run.meta)).any():
        return None
    return session.name


@LR007
def lr_not_config(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """A session's LR does not follow the config that session ran with (a resume after an edit).

    What it does: simulates each session's own config (its `vis_data/config.py` or the config
    in its text log) from iteration 1 and compares it with the LR that session logged. Where
    they part by more than the logging precision, and the simulation is trusted (it reproduces
    the log before that point, in the session or in the sessions it resumed), it reports the
    step, the logged and expected LR and how much of training is affected. When the session was
    resumed after its config was edited and the LR follows the previous session's config, it
    names the keys that changed. A resumed session whose config matches none of its log is
    said once per run, as info.

    Why it matters: `resume=True` restores the schedulers and the optimizer from the checkpoint,
    so a longer `max_epochs`, new milestones or a new `lr` in the edited config never take effect
    (InternLM/xtuner#211, open-mmlab/mmengine#1565): the LR stays at the end of the old schedule
    while you believe it follows the new one.

    Example: `session 20240102_000000 does not follow its config from step 26: LR 4.657e-06
    where its config gives 5.868e-04 (50% of training); it was resumed after
    train_cfg.max_epochs: 1 -> 2 ...`.

    How to fix: start a new session from the checkpoint with `load_from` and a schedule written
    for the remaining iterations, or resume with the original schedule.
    """
    last = run.last_step or 0
    unmatched: list[str] = []
    for index in range(len(run.sessions)):
        dep = departure(run, index, int(lim["MIN_MATCHED_POINTS"]))
        if dep is None:
            name = _never_matched(run, index)
            if name is not None:
                unmatched.append(name)
            continue
        affected = (last - dep.step + 1) / last if last else None
        evidence: dict[str, Any] = {
            "session": dep.session.name,
            "session_kind": dep.session.kind,
            "departure_step": dep.step,
            "logged_lr": dep.logged,
            "expected_lr": dep.expected,
            "points_affected": dep.points,
            "fraction_of_training_affected": affected,
        }
        share = f" ({affected:.0%} of training)" if affected is not None else ""
        message = (
            f"session {dep.session.name} does not follow its config from step {dep.step}: LR "
            f"{fmt(dep.logged)} where its config gives {fmt(dep.expected)}{share}"
        )
        hint = (
            "Check what changes the LR outside the param_scheduler (hooks, a custom loop) or "
            "whether this is the config the session ran with."
        )
        if dep.changes:
            evidence["changed_keys"] = list(dep.changes)
            evidence["cause"] = resume_cause(dep)
            shown = "; ".join(dep.changes[:SHOWN_KEYS])
            more = len(dep.changes) - SHOWN_KEYS
            shown += f" and {more} more" if more > 0 else ""
            message += f"; it was resumed after {shown}, which a resume does not apply"
            hint = RESUME_HINT
        yield LR007.finding(
            message,
            step=dep.step,
            end_step=last or None,
            epoch=(dep.step - 1) / run.epoch_length if run.epoch_length else None,
            evidence=evidence,
            hint=hint,
        )

    if unmatched:
        yield LR007.finding(
            f"the config of session(s) {', '.join(unmatched)} reproduces none of the LR they "
            "logged: it is not the config they trained with, or logan cannot simulate it "
            "exactly; their LR was not checked against it",
            severity=Severity.INFO,
            evidence={"sessions": unmatched},
            hint="Keep each session's own config (vis_data/config.py) beside its logs.",
        )


# LR008 thresholds.
# A resumed session's first LR further than this share from the continuation of the previous
# session's schedule is a jump: a warmup's start_factor applied again (x1e-3..1e-5), a schedule
# rebuilt with another length (tens of percent), a poly restarted from another point.
JUMP_REL = 0.10
# ... measured where the continuation is known: the LR before it was smooth enough for a linear
# extrapolation over at most this many logged intervals.
EXTRAPOLATE_MAX_GAP = 2
# A scheduler rebuilt at a resume shows at the resumed session's first step or, when the
# optimizer's restored LR is logged first, at the step after: the first points are examined.
FIRST_POINTS = 3
# LR004 reports a rise to this multiple of the previous LR as a restart: not repeated here.
RESTART_JUMP = 1.5

LR008 = Rule(
    "LR008",
    "lr-resume-jump",
    Severity.WARNING,
    thresholds={"JUMP_REL": JUMP_REL},
)


def _first_jump(
    full: pd.Series, steps: Any, tol: tuple[float, float], lim: Limits
) -> tuple[int, float, float, float] | None:
    """(step, logged, continuation, LR before) at the first of `steps` where the LR leaves the
    continuation of the points before it by more than JUMP_REL."""
    for step in (int(s) for s in steps):
        if step not in full.index:
            continue
        before = full[full.index < step]
        cont = _continuation(before, step)
        after = float(full.loc[step])
        if cont is None or cont <= 0:
            continue
        if close_to_log(np.array([cont]), np.array([after]), tol)[0]:
            continue
        if abs(after - cont) > lim["JUMP_REL"] * abs(cont):
            return step, after, cont, float(before.iloc[-1])
    return None


def _restart_reported(run: Run, index: int, full: pd.Series) -> bool:
    """LR004 reports this session boundary: the step count restarted, or the first LR rose to
    RESTART_JUMP times the last LR before it."""
    session = run.sessions[index]
    cur = _session_lr(run, index)
    if session.restarted or cur.empty:
        return session.restarted
    first = int(cur.index[0]) + session.step_offset
    before = full[full.index < first]
    return len(before) > 0 and 0 < float(before.iloc[-1]) * RESTART_JUMP <= float(cur.iloc[0])


def _continuation(prev: pd.Series, at: int) -> float | None:
    """The LR at iteration `at` extrapolated linearly from the last three points of `prev`
    before it, when they change smoothly in one direction; else None."""
    before = prev[prev.index < at]
    if len(before) < 3:
        return None
    s = before.index.to_numpy(dtype="float64")[-3:]
    v = before.to_numpy(dtype="float64")[-3:]
    d1, d2 = (v[1] - v[0]) / (s[1] - s[0]), (v[2] - v[1]) / (s[2] - s[1])
    if d1 == 0 or d2 == 0 or np.sign(d1) != np.sign(d2):
        return None  # flat or turning: a staircase may step exactly here
    gap = at - s[-1]
    if gap > EXTRAPOLATE_MAX_GAP * (s[2] - s[1]):
        return None
    return float(v[-1] + d2 * gap)


@LR008
def lr_resume_jump(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The LR jumps where a session resumes, instead of continuing the schedule.

    What it does: for every resumed session (the step count continues), compares each of its
    first three logged LRs with the continuation of the three points logged before it (a linear
    extrapolation, made only where the LR was changing smoothly: a staircase may step exactly
    there) and reports a difference of more than 10%. A first LR risen to 1.5x or more is
    LR004's restart and is left to it.

    Why it matters: a resume should be invisible in the LR. A jump means the schedule was not
    restored: a warmup's `start_factor` applied once more (open-mmlab/mmengine#1542), a schedule
    rebuilt with another length (a LambdaLR cosine made with a new total), a poly that restarts
    from another point (open-mmlab/mmsegmentation#1800).

    Example: `session 2 resumes at step 121 with LR 7.1e-04 where the previous session's
    schedule continues at 5.4e-04 (x1.31)`.

    How to fix: restore the scheduler's full state with the checkpoint (mmengine `resume=True`,
    HF `resume_from_checkpoint`, Lightning `ckpt_path=`), and do not change the schedule's length
    between the two sessions.
    """
    full = run.series("lr", finite=True)
    tol = lr_tolerance(run.meta)
    for index in range(1, len(run.sessions)):
        if not is_resumed(run, index):
            continue
        cur = _session_lr(run, index)
        hit = _first_jump(
            full, cur.index[:FIRST_POINTS] + run.sessions[index].step_offset, tol, lim
        )
        if hit is None:
            continue
        step, after, cont, _ = hit
        if _restart_reported(run, index, full):
            continue  # LR004's restart
        session = run.sessions[index]
        start = int(cur.index[0]) + session.step_offset
        yield LR008.finding(
            f"session {session.name} resumed at step {start}; at step {step} the LR is "
            f"{fmt(after)} where the previous session's schedule continues at {fmt(cont)} "
            f"(x{after / cont:.3g})",
            step=step,
            end_step=session.last_step,
            epoch=(step - 1) / run.epoch_length if run.epoch_length else None,
            evidence={
                "session": session.name,
                "previous_session": run.sessions[index - 1].name,
                "lr_after": after,
                "continuation": cont,
                "ratio": after / cont,
            },
            hint="Restore the scheduler's full state with the checkpoint (mmengine resume=True, "
            "HF resume_from_checkpoint, Lightning ckpt_path=) and keep the schedule's length "
            "unchanged between sessions.",
        )

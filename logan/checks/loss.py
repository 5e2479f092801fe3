"""Loss rules: non-finite values, spikes, divergence.

mmengine logs each loss as the mean over the last 10 iterations (its LogProcessor window), so a
single bad batch shows as a bump spread over up to 10 logged points, and one NaN poisons the mean:
the first non-finite logged step lies within a window after the real first bad iteration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from logan.checks import fmt, rule
from logan.model import Finding, Run, Severity
from logan.tags import is_loss_tag

# mmengine's LogProcessor smooths losses over this many iterations by default.
MMENGINE_WINDOW = 10


def _loss_tags(run: Run) -> list[str]:
    tags = [t for t in run.tags() if is_loss_tag(t)]
    return sorted(tags, key=lambda t: (t != "loss", t))


def _value_at(run: Run, tag: str, step: int) -> float | None:
    s = run.series(tag)
    if s.empty:
        return None
    s = s[s.index <= step]
    return float(s.iloc[-1]) if len(s) else None


@rule("LS001", "loss-nonfinite", Severity.ERROR)
def loss_nonfinite(run: Run, expected: object) -> Iterator[Finding]:
    """The loss (or the gradient norm, or the LR) became NaN or infinite.

    What it does: finds the first logged step where `loss`, any `loss_*`/`*.loss*` tag,
    `grad_norm` or `lr` is NaN or +-inf, and reports the LR and grad_norm there and how many
    later points are non-finite too.

    Why it matters: once a loss is NaN the weights usually are too and the rest of the run is
    wasted. HF Trainer replaces non-finite losses in its logs by default
    (`logging_nan_inf_filter`), so there a non-finite `grad_norm` is the only trace left.

    Example: `loss is inf from step 57 (first of 144 non-finite points; lr 1.0, grad_norm inf)`.

    How to fix: lower the LR or lengthen the warmup, clip gradients (`clip_grad=dict(max_norm=1)`),
    use bf16 or a loss scaler instead of plain fp16, and look for bad samples near that step.
    """
    # A non-finite LR is a fault of its own (the weights follow it), even when every LR check,
    # which reads finite points only, sees a plausible schedule.
    candidates = _loss_tags(run) + [t for t in ("grad_norm", "lr") if t in run.tags()]
    first: tuple[int, str, float, int] | None = None
    for tag in candidates:
        s = run.series(tag)
        bad = s[~np.isfinite(s.to_numpy())]
        if len(bad) and (first is None or int(bad.index[0]) < first[0]):
            first = (int(bad.index[0]), tag, float(bad.iloc[0]), int(len(bad)))
    if first is None:
        return
    step, tag, value, count = first
    lr = _value_at(run, "lr", step)
    grad = _value_at(run, "grad_norm", step)
    prior = run.series(tag)
    prior = prior[(prior.index < step) & np.isfinite(prior.to_numpy())]
    evidence: dict[str, Any] = {
        "tag": tag,
        "first_bad_step": step,
        "value": str(value),
        "non_finite_points": count,
        "lr": lr,
        "grad_norm": grad,
        "last_finite_step": int(prior.index[-1]) if len(prior) else None,
        "last_finite_value": float(prior.iloc[-1]) if len(prior) else None,
    }
    if run.producer == "mmengine":
        evidence["note"] = (
            f"mmengine averages losses over {MMENGINE_WINDOW} iterations: the first bad iteration "
            f"is at most {MMENGINE_WINDOW - 1} iterations before step {step}"
        )
    extra = [
        f"lr {fmt(lr)}" if lr is not None and tag != "lr" else None,
        f"grad_norm {fmt(grad)}" if grad is not None and tag != "grad_norm" else None,
    ]
    context = "; ".join(x for x in extra if x)
    yield Finding(
        code="LS001",
        name="loss-nonfinite",
        severity=Severity.ERROR,
        message=f"{tag} is {value} from step {step} ({count} non-finite point(s)"
        + (f"; {context}" if context else "")
        + ")",
        step=step,
        end_step=run.last_step,
        epoch=step / run.epoch_length if run.epoch_length else None,
        evidence=evidence,
        hint="Lower the LR or lengthen the warmup, clip gradients, prefer bf16 or a loss scaler "
        "over plain fp16, and inspect the batches just before this step.",
    )


# LS002 thresholds.
# Rolling window for the robust baseline: long enough that a single bad batch (or mmengine's
# 10-iteration mean of it) cannot move the median.
SPIKE_WINDOW = 50
SPIKE_MIN_HISTORY = 20
# Robust z-score (x - median) / (1.4826 * MAD). 8 sigma: healthy losses, including mmengine's
# averaged ones and the noisy per-batch HF/Lightning losses, stay below ~5 (measured on every
# sample and public log); a real spike is far beyond.
SPIKE_Z = 8.0
# ... and the jump must also be material relative to the loss itself (MAD of a nearly constant loss
# is tiny, so z alone would flag a 1% bump).
SPIKE_MIN_REL = 0.25
# A spike has recovered when the loss is back within this z of the baseline.
RECOVERED_Z = 3.0
MAX_REPORTED_SPIKES = 5


# Rows of sliding windows processed at once (bounds memory at CHUNK x SPIKE_WINDOW floats).
CHUNK = 20_000
# z-scores are computed on losses clipped to +-Z_CLIP: a loss of 1e150 is as far off as one of
# 1e308 for any threshold, and below it medians (a mean of two values), differences and ratios
# stay finite (at 1e308 they overflowed: wrong medians, and numpy warnings on stderr).
Z_CLIP = 1e150


def _robust_z(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-score of each point against the median/MAD of the (up to) `window` points before it;
    NaN until SPIKE_MIN_HISTORY points exist. Vectorised over sliding windows, in chunks."""
    values = np.clip(values, -Z_CLIP, Z_CLIP)
    n = len(values)
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    # Short histories at the start (fewer than `window` points before them).
    for i in range(SPIKE_MIN_HISTORY, min(window, n)):
        w = values[:i]
        med[i] = np.median(w)
        mad[i] = np.median(np.abs(w - med[i]))
    if n > window:
        # Window k covers values[k : k + window], the history of point k + window.
        windows = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
        for start in range(0, len(windows), CHUNK):
            block = windows[start : start + CHUNK]
            m = np.median(block, axis=1)
            med[start + window : start + window + len(block)] = m
            mad[start + window : start + window + len(block)] = np.median(
                np.abs(block - m[:, None]), axis=1
            )
    scale = 1.4826 * mad
    scale = np.where(scale > 0, scale, np.nan)
    return (values - med) / scale, med, scale


@rule("LS002", "loss-spike", Severity.WARNING)
def loss_spike(run: Run, expected: object) -> Iterator[Finding]:
    """Sudden loss spikes, with whether and how fast the loss recovered.

    What it does: compares each loss point with the median and MAD of the 50 points before it
    (a robust rolling z-score) and reports points above z = 8 that are also at least 25% above the
    median; for each spike, its size, whether the loss came back within 3 MADs and after how many
    steps, and whether `grad_norm` spiked just before it.

    Why it matters: spikes that recover cost little; spikes that do not are the start of
    divergence. Spikes preceded by gradient-norm spikes point at the optimizer (LR too high, no
    clipping); spikes without point at the data.

    Example: `3 loss spikes; largest at step 820: 4.1 vs median 1.2 (z=41), recovered after 30
    steps; grad_norm spiked just before`.

    How to fix: clip gradients, lower the peak LR or lengthen the warmup, and look at the batches
    at the spike steps.
    """
    loss = run.series("loss", finite=True)
    if len(loss) < SPIKE_MIN_HISTORY + 5:
        return
    steps = loss.index.to_numpy(dtype="int64")
    values = loss.to_numpy(dtype="float64")
    clipped = np.clip(values, -Z_CLIP, Z_CLIP)  # for arithmetic; reports show `values`
    z, med, scale = _robust_z(clipped, SPIKE_WINDOW)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = (clipped - med) / np.abs(med)
    hits = np.nonzero((z > SPIKE_Z) & (rel > SPIKE_MIN_REL))[0]
    if not len(hits):
        return
    # Consecutive hits are one spike (mmengine's averaging spreads one bad batch over 10 points).
    spikes: list[int] = []
    for hit in hits.tolist():
        if not spikes or hit - spikes[-1] > MMENGINE_WINDOW:
            spikes.append(hit)
    grad = run.series("grad_norm")
    gz = None
    if len(grad) > SPIKE_MIN_HISTORY + 5:
        g = grad[np.isfinite(grad.to_numpy())]
        gz_values, _, _ = _robust_z(g.to_numpy(dtype="float64"), SPIKE_WINDOW)
        gz = pd.Series(gz_values, index=g.index)
    details: list[dict[str, Any]] = []
    for i in spikes:
        base, sc = med[i], scale[i]
        rec: int | None = None
        for j in range(i + 1, len(values)):
            if (clipped[j] - base) / sc <= RECOVERED_Z:
                rec = int(steps[j] - steps[i])
                break
        # Only a grad_norm spike strictly before the loss spike says "optimizer first": mmengine
        # averages both over the same window, so a bad batch lifts both at the same logged step.
        grad_before = grad_with = None
        if gz is not None:
            lo = steps[max(0, i - MMENGINE_WINDOW)]
            grad_before = bool((gz[(gz.index < steps[i]) & (gz.index >= lo)] > SPIKE_Z).any())
            grad_with = bool((gz[gz.index == steps[i]] > SPIKE_Z).any())
        details.append(
            {
                "step": int(steps[i]),
                "loss": float(values[i]),
                "median_before": float(base),
                "z": float(z[i]),
                "recovered_after_steps": rec,
                "grad_norm_spike_before": grad_before,
                "grad_norm_spike_same_step": grad_with,
            }
        )
    # A spike that never recovers after the loss starts diverging is LS003's finding, not a spike.
    diverged = divergence(run)
    if diverged is not None:
        details = [
            d
            for d in details
            if d["recovered_after_steps"] is not None or d["step"] < diverged["min_step"]
        ]
    if not details:
        return
    # "Largest" for a reader is the biggest jump relative to the loss around it.
    worst = max(details, key=lambda d: d["loss"] / max(abs(d["median_before"]), 1e-12))
    z_text = f"z={worst['z']:.0f}" if worst["z"] < 1e4 else "z>10000"
    rec_text = (
        f"recovered after {worst['recovered_after_steps']} steps"
        if worst["recovered_after_steps"] is not None
        else "did not recover"
    )
    grad_text = (
        "; grad_norm spiked just before (look at the LR and clipping)"
        if worst["grad_norm_spike_before"]
        else "; grad_norm spiked at the same step"
        if worst["grad_norm_spike_same_step"]
        else ""
    )
    yield Finding(
        code="LS002",
        name="loss-spike",
        severity=Severity.WARNING,
        message=f"{len(details)} loss spike(s); largest at step {worst['step']}: "
        f"{fmt(worst['loss'])} vs median {fmt(worst['median_before'])} ({z_text}), "
        f"{rec_text}{grad_text}",
        step=details[0]["step"],
        end_step=details[-1]["step"],
        epoch=details[0]["step"] / run.epoch_length if run.epoch_length else None,
        evidence={
            "spikes": details[:MAX_REPORTED_SPIKES],
            "count": len(details),
            "threshold_z": SPIKE_Z,
            "window": SPIKE_WINDOW,
        },
        hint="Clip gradients, lower the peak LR or lengthen the warmup, and inspect the batches "
        "at the spike steps.",
    )


# LS003 thresholds.
# Smoothing window as a share of the logged points (at least 5 points).
DIVERGE_SMOOTH_SHARE = 0.05
# "Well above its running minimum": the final smoothed loss exceeds the minimum by at least this
# share of the distance the loss had come down from its start (or of the minimum itself when the
# loss never came down much).
DIVERGE_RISE = 0.5
# The last share of the run that must stay above that level (no recovery by the end).
DIVERGE_TAIL = 0.2


def divergence(run: Run) -> dict[str, Any] | None:
    """The divergence LS003 reports (also used by LS002 to leave its spikes to LS003)."""
    loss = run.series("loss", finite=True)
    n = len(loss)
    if n < 20:
        return None
    window = max(5, int(n * DIVERGE_SMOOTH_SHARE) | 1)
    smooth = loss.rolling(window, center=True, min_periods=1).median()
    steps = smooth.index.to_numpy(dtype="int64")
    values = smooth.to_numpy(dtype="float64")
    imin = int(np.argmin(values))
    lo, start, end = float(values[imin]), float(values[0]), float(values[-1])
    level = lo + DIVERGE_RISE * max(start - lo, abs(lo))
    tail = steps >= steps[-1] - DIVERGE_TAIL * (steps[-1] - steps[0])
    if imin >= np.argmax(tail) or not np.all(values[tail] > level):
        return None
    if end <= values[(imin + len(values)) // 2]:
        return None
    return {
        "min_loss": lo,
        "min_step": int(steps[imin]),
        "final_loss": end,
        "last_step": int(steps[-1]),
        "start_loss": start,
        "threshold": level,
        "smoothing_window": window,
    }


@rule("LS003", "loss-divergence", Severity.ERROR)
def loss_divergence(run: Run, expected: object) -> Iterator[Finding]:
    """The loss trends up, well above its best, and does not come back by the end of the run.

    What it does: smooths the finite loss with a rolling median (5% of the points), finds its
    minimum, and reports when every point of the last 20% of the run is above
    `min + 0.5 * max(start - min, |min|)` and the curve ends higher than it was halfway between.

    Why it matters: a training loss that climbs for the rest of the run means the optimizer is
    unstable (LR too high, warmup too short, mixed-precision overflow); every later checkpoint is
    worse than the best one.

    Example: `loss rose from its minimum 0.54 at step 35 to 289 at step 200 and did not recover`.

    How to fix: lower the LR (or its peak after warmup), clip gradients, and resume from the
    checkpoint before the minimum's step.
    """
    d = divergence(run)
    if d is None:
        return
    lo, end, at, last = d["min_loss"], d["final_loss"], d["min_step"], d["last_step"]
    yield Finding(
        code="LS003",
        name="loss-divergence",
        severity=Severity.ERROR,
        message=f"loss rose from its minimum {fmt(lo)} at step {at} to {fmt(end)} at step "
        f"{last} and did not recover",
        step=at,
        end_step=last,
        epoch=at / run.epoch_length if run.epoch_length else None,
        evidence=d,
        hint="Lower the (peak) LR, clip gradients, and resume from a checkpoint before the "
        "minimum's step.",
    )

"""Loss rules: non-finite values, spikes, divergence, a loss that stopped moving.

mmengine logs each loss as the mean over the last 10 iterations (its LogProcessor window), so a
single bad batch shows as a bump spread over up to 10 logged points, and one NaN poisons the mean:
the first non-finite logged step lies within a window after the real first bad iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from logan.checks import Limits, Rule, fmt
from logan.model import Expected, Finding, Run, Severity
from logan.tags import is_loss_tag

# mmengine's LogProcessor smooths losses over this many iterations by default.
MMENGINE_WINDOW = 10


def _tags(run: Run) -> list[str]:
    """The tags the run logged (`Run.tags` is becoming a property: read the table directly)."""
    return sorted(str(t) for t in run.scalars["tag"].unique())


def _loss_tags(run: Run) -> list[str]:
    tags = [t for t in _tags(run) if is_loss_tag(t)]
    return sorted(tags, key=lambda t: (t != "loss", t))


def _value_at(run: Run, tag: str, step: int) -> float | None:
    s = run.series(tag)
    if s.empty:
        return None
    s = s[s.index <= step]
    return float(s.iloc[-1]) if len(s) else None


# LS001 thresholds.
# Under fp16 with dynamic loss scaling (mmengine AmpOptimWrapper, torch GradScaler, HF fp16) an
# overflow makes the scaler skip that step and halve the scale: the gradient norm is inf/NaN at
# that step and finite again after it, and the loss never stops being finite. Such overflows are
# the scaler working; on more than this share of the logged grad_norm points the scale is
# collapsing and the run is not training.
AMP_MAX_OVERFLOW_SHARE = 0.5

LS001 = Rule(
    "LS001",
    "loss-nonfinite",
    Severity.ERROR,
    thresholds={"AMP_MAX_OVERFLOW_SHARE": AMP_MAX_OVERFLOW_SHARE},
)


def _first_nonfinite(run: Run, tags: list[str]) -> tuple[int, str, float, int] | None:
    """(step, tag, value, count) of the earliest non-finite point among `tags`."""
    first: tuple[int, str, float, int] | None = None
    for tag in tags:
        s = run.series(tag)
        bad = s[~np.isfinite(s.to_numpy())]
        if len(bad) and (first is None or int(bad.index[0]) < first[0]):
            first = (int(bad.index[0]), tag, float(bad.iloc[0]), int(len(bad)))
    return first


def _amp_wrapper(run: Run) -> str | None:
    """The dynamic loss scaler the config asks for, named as the config names it, or None."""
    for config in [s.config for s in run.sessions] + [run.config]:
        if not isinstance(config, dict):
            continue
        wrapper = config.get("optim_wrapper")
        wtype = wrapper.get("type") if isinstance(wrapper, dict) else None
        if isinstance(wtype, str) and "Amp" in wtype:
            return wtype
        for key in ("fp16", "half"):  # HF TrainingArguments
            if config.get(key) is True:
                return f"{key}=True"
        fp16 = config.get("fp16")  # mmcv: fp16 = dict(loss_scale='dynamic')
        if isinstance(fp16, dict) and fp16.get("loss_scale") == "dynamic":
            return "fp16 dynamic loss scale"
    return None


def amp_overflows(run: Run, limit: float) -> dict[str, Any] | None:
    """Evidence that every non-finite grad_norm is a loss-scaler overflow (a skipped step), or
    None. Needs: every loss finite throughout, grad_norm finite again after each overflow
    (a step applied with inf gradients would leave the weights, and every later norm, NaN), and
    overflows on at most `limit` of the logged grad_norm points."""
    grad = run.series("grad_norm")
    finite = np.isfinite(grad.to_numpy())
    if finite.all() or not finite[-1]:
        return None
    if any((~np.isfinite(run.series(t).to_numpy())).any() for t in _loss_tags(run)):
        return None
    share = float((~finite).mean())
    if share > limit:
        return None
    bad_steps = grad.index[~finite]
    return {
        "overflow_points": int((~finite).sum()),
        "grad_norm_points": int(len(grad)),
        "overflow_share": share,
        "first_overflow_step": int(bad_steps[0]),
        "loss_scaler": _amp_wrapper(run),
    }


@LS001
def loss_nonfinite(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The loss (or the gradient norm, or the LR) became NaN or infinite.

    What it does: finds the first logged step where `loss`, any `loss_*`/`*.loss*` tag,
    `grad_norm` or `lr` is NaN or +-inf, and reports the LR and grad_norm there and how many
    later points are non-finite too. A non-finite `grad_norm` alone is a mixed-precision
    overflow, not a fault, when the loss stays finite, the norm is finite again after each one and
    they are at most half of the logged points: under fp16 with dynamic loss scaling (mmengine
    `AmpOptimWrapper`, torch `GradScaler`, HF `fp16=True`) the scaler then skips that step and
    lowers the scale, as designed. Overflow on most steps is reported: the scale is collapsing.

    Why it matters: once a loss is NaN the weights usually are too and the rest of the run is
    wasted. HF Trainer replaces non-finite losses in its logs by default
    (`logging_nan_inf_filter`), so there a non-finite `grad_norm` that never recovers is the only
    trace left.

    Example: `loss is inf from step 57 (first of 144 non-finite point(s); lr 1.0, grad_norm inf)`.

    How to fix: lower the LR or lengthen the warmup, clip gradients (`clip_grad=dict(max_norm=1)`),
    use bf16 or a loss scaler instead of plain fp16, and look for bad samples near that step.
    """
    # A non-finite LR is a fault of its own (the weights follow it), even when every LR check,
    # which reads finite points only, sees a plausible schedule.
    logged = _tags(run)
    first = _first_nonfinite(run, _loss_tags(run) + [t for t in ("grad_norm", "lr") if t in logged])
    if first is None:
        return
    if first[1] == "grad_norm" and amp_overflows(run, lim["AMP_MAX_OVERFLOW_SHARE"]):
        return  # the loss scaler skipped those steps, as designed
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
    scaler = _amp_wrapper(run)
    if tag == "grad_norm" and scaler:
        share = count / max(len(run.series("grad_norm")), 1)
        evidence["loss_scaler"] = scaler
        evidence["overflow_share"] = share
    extra = [
        f"lr {fmt(lr)}" if lr is not None and tag != "lr" else None,
        f"grad_norm {fmt(grad)}" if grad is not None and tag != "grad_norm" else None,
    ]
    context = "; ".join(x for x in extra if x)
    yield LS001.finding(
        f"{tag} is {value} from step {step} ({count} non-finite point(s)"
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


# Losses near 1e308 overflow the differences and give inf/inf: those z-scores are NaN (no spike),
# and numpy's warnings about them must not reach the user's stderr.
def _robust_z(
    values: np.ndarray,
    window: int,
    min_history: int = SPIKE_MIN_HISTORY,
    needed: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-score of each point against the median/MAD of the (up to) `window` points before it;
    NaN until `min_history` points exist. Vectorised over sliding windows, in chunks.

    `needed(median)`, when given, says from the medians which points can matter (e.g. only
    those well above their median can be spikes): the MAD, a second sliding median as costly as
    the first, is computed for those points only, and the others' z and scale are NaN."""
    # Not a decorator: `logan rules` imports this module without numpy (see logan._lazy).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _robust_z_unguarded(values, window, min_history, needed)


def _prefix_medians(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """np.median of rows[k, :counts[k]] for every k (the rest of each row is ignored): one sort
    of a small matrix instead of a median call per row."""
    width = rows.shape[1]
    padded = np.where(np.arange(width) < counts[:, None], rows, np.inf)
    ordered = np.sort(padded, axis=1)
    k = np.arange(len(counts))
    # np.median: the middle value, or the mean of the two middle values, as (a + b) / 2
    return (ordered[k, counts // 2] + ordered[k, (counts - 1) // 2]) / 2


def _robust_z_unguarded(
    values: np.ndarray,
    window: int,
    min_history: int,
    needed: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.clip(values, -Z_CLIP, Z_CLIP)
    n = len(values)
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    # Short histories at the start (fewer than `window` points before them): point i's history
    # is values[:i].
    first = np.arange(min_history, min(window, n))
    if len(first):
        head = np.broadcast_to(values[: first[-1]], (len(first), first[-1]))
        med[first] = _prefix_medians(head, first)
    if n > window:
        # Window k covers values[k : k + window], the history of point k + window.
        windows = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
        for start in range(0, len(windows), CHUNK):
            block = windows[start : start + CHUNK]
            med[start + window : start + window + len(block)] = np.median(block, axis=1)
    want = np.isfinite(med) if needed is None else (np.isfinite(med) & needed(med))
    rows = np.flatnonzero(want)
    short = rows[rows < window]
    if len(short):
        head = np.abs(values[: short[-1]] - med[short][:, None])
        mad[short] = _prefix_medians(head, short)
    long = rows[rows >= window]
    for start in range(0, len(long), CHUNK):
        at = long[start : start + CHUNK]
        block = windows[at - window]
        mad[at] = np.median(np.abs(block - med[at][:, None]), axis=1)
    scale = 1.4826 * mad
    scale = np.where(scale > 0, scale, np.nan)
    return (values - med) / scale, med, scale


def _pipeline_switches(run: Run) -> list[int]:
    """The last step before the run's config switches its training pipeline: mmdet's
    `PipelineSwitchHook` from epoch `switch_epoch` on (0-based, so after that many epochs),
    `YOLOXModeSwitchHook` for the last `num_last_epochs` (15 by default) of `max_epochs`."""
    length = run.epoch_length
    if not length:
        return []
    configs = {id(c): c for c in [run.config, *(s.config for s in run.sessions)] if c}
    found: set[int] = set()
    for config in configs.values():
        hooks = config.get("custom_hooks")
        train = config.get("train_cfg")
        max_epochs = train.get("max_epochs") if isinstance(train, dict) else None
        for hook in hooks if isinstance(hooks, list) else []:
            kind = str(hook.get("type", "")) if isinstance(hook, dict) else ""
            epoch: Any = None
            if kind.endswith("PipelineSwitchHook"):
                epoch = hook.get("switch_epoch")
            elif kind.endswith("YOLOXModeSwitchHook") and isinstance(max_epochs, int):
                last = hook.get("num_last_epochs", 15)
                epoch = max_epochs - last if isinstance(last, int) else None
            if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch > 0:
                found.add(epoch * length)
    return sorted(found)


LS002 = Rule(
    "LS002",
    "loss-spike",
    Severity.WARNING,
    thresholds={
        "SPIKE_WINDOW": SPIKE_WINDOW,
        "SPIKE_MIN_HISTORY": SPIKE_MIN_HISTORY,
        "SPIKE_Z": SPIKE_Z,
        "SPIKE_MIN_REL": SPIKE_MIN_REL,
        "RECOVERED_Z": RECOVERED_Z,
        "MAX_REPORTED_SPIKES": MAX_REPORTED_SPIKES,
    },
)


@LS002
def loss_spike(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
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

    Not a spike: a jump right after the config switches the training pipeline (mmdet's
    `PipelineSwitchHook(switch_epoch=k)` in RTMDet, RTMPose and mmyolo configs changes the
    augmentation from epoch k on; `YOLOXModeSwitchHook` turns mosaic off for the last
    `num_last_epochs`): the loss moves to a new level there by design, so points whose history
    window reaches back past the switch are not compared with it.

    How to fix: clip gradients, lower the peak LR or lengthen the warmup, and look at the batches
    at the spike steps.
    """
    loss = run.series("loss", finite=True)
    if len(loss) < lim["SPIKE_MIN_HISTORY"] + 5:
        return
    steps = loss.index.to_numpy(dtype="int64")
    values = loss.to_numpy(dtype="float64")
    clipped = np.clip(values, -Z_CLIP, Z_CLIP)  # for arithmetic; reports show `values`
    window, history = int(lim["SPIKE_WINDOW"]), int(lim["SPIKE_MIN_HISTORY"])
    min_rel = lim["SPIKE_MIN_REL"]

    def above_median(med: np.ndarray) -> np.ndarray:  # only these can be spikes
        return (clipped - med) / np.abs(med) > min_rel

    z, med, scale = _robust_z(clipped, window, history, needed=above_median)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = (clipped - med) / np.abs(med)
    hits = np.nonzero((z > lim["SPIKE_Z"]) & (rel > lim["SPIKE_MIN_REL"]))[0]
    if not len(hits):
        return
    # A hit whose history reaches back past a configured pipeline switch compares the loss of
    # one data pipeline with that of another: a new level, not a spike.
    switches = _pipeline_switches(run)
    if switches:
        first = steps[np.maximum(hits - window, 0)]
        crossed = [(first <= s) & (steps[hits] > s) for s in switches]
        hits = hits[~np.logical_or.reduce(crossed)]
    # Consecutive hits are one spike (mmengine's averaging spreads one bad batch over 10 points).
    spikes: list[int] = []
    for hit in hits.tolist():
        if not spikes or hit - spikes[-1] > MMENGINE_WINDOW:
            spikes.append(hit)
    grad = run.series("grad_norm")
    gz = None
    if len(grad) > lim["SPIKE_MIN_HISTORY"] + 5:
        g = grad[np.isfinite(grad.to_numpy())]
        gz_values, _, _ = _robust_z(g.to_numpy(dtype="float64"), window, history)
        gz = pd.Series(gz_values, index=g.index)
    details: list[dict[str, Any]] = []
    for i in spikes:
        base, sc = med[i], scale[i]
        rec: int | None = None
        for j in range(i + 1, len(values)):
            if (clipped[j] - base) / sc <= lim["RECOVERED_Z"]:
                rec = int(steps[j] - steps[i])
                break
        # Only a grad_norm spike strictly before the loss spike says "optimizer first": mmengine
        # averages both over the same window, so a bad batch lifts both at the same logged step.
        grad_before = grad_with = None
        if gz is not None:
            lo = steps[max(0, i - MMENGINE_WINDOW)]
            grad_before = bool(
                (gz[(gz.index < steps[i]) & (gz.index >= lo)] > lim["SPIKE_Z"]).any()
            )
            grad_with = bool((gz[gz.index == steps[i]] > lim["SPIKE_Z"]).any())
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
    diverged = divergence(run, LS003.limits())
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
    yield LS002.finding(
        f"{len(details)} loss spike(s); largest at step {worst['step']}: "
        f"{fmt(worst['loss'])} vs median {fmt(worst['median_before'])} ({z_text}), "
        f"{rec_text}{grad_text}",
        step=details[0]["step"],
        end_step=details[-1]["step"],
        epoch=details[0]["step"] / run.epoch_length if run.epoch_length else None,
        evidence={
            "spikes": details[: int(lim["MAX_REPORTED_SPIKES"])],
            "count": len(details),
            "threshold_z": lim["SPIKE_Z"],
            "window": lim["SPIKE_WINDOW"],
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


LS003 = Rule(
    "LS003",
    "loss-divergence",
    Severity.ERROR,
    thresholds={
        "DIVERGE_SMOOTH_SHARE": DIVERGE_SMOOTH_SHARE,
        "DIVERGE_RISE": DIVERGE_RISE,
        "DIVERGE_TAIL": DIVERGE_TAIL,
    },
)


def divergence(run: Run, lim: Limits) -> dict[str, Any] | None:
    """The divergence LS003 reports (also used by LS002 to leave its spikes to LS003)."""
    loss = run.series("loss", finite=True)
    n = len(loss)
    if n < 20:
        return None
    window = max(5, int(n * lim["DIVERGE_SMOOTH_SHARE"]) | 1)
    smooth = loss.rolling(window, center=True, min_periods=1).median()
    steps = smooth.index.to_numpy(dtype="int64")
    values = smooth.to_numpy(dtype="float64")
    imin = int(np.argmin(values))
    lo, start, end = float(values[imin]), float(values[0]), float(values[-1])
    level = lo + lim["DIVERGE_RISE"] * max(start - lo, abs(lo))
    tail = steps >= steps[-1] - lim["DIVERGE_TAIL"] * (steps[-1] - steps[0])
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


@LS003
def loss_divergence(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
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
    d = divergence(run, lim)
    if d is None:
        return
    lo, end, at, last = d["min_loss"], d["final_loss"], d["min_step"], d["last_step"]
    yield LS003.finding(
        f"loss rose from its minimum {fmt(lo)} at step {at} to {fmt(end)} at step "
        f"{last} and did not recover",
        step=at,
        end_step=last,
        epoch=at / run.epoch_length if run.epoch_length else None,
        evidence=d,
        hint="Lower the (peak) LR, clip gradients, and resume from a checkpoint before the "
        "minimum's step.",
    )


# LS004 thresholds.
# A loss computed on changing batches by a model that learns is never the same to the last
# printed digit twice in a row for long: 20 logged points in a row are far beyond chance, and
# the stretch must also be 10% of the logged points, so a short stall in a long run does not count.
FROZEN_MIN_POINTS = 20
FROZEN_MIN_SHARE = 0.10
# Values printed with fewer significant digits than this (0.69, 1.2e-05) or whole numbers (a
# count-like loss, 0 after convergence) repeat legitimately: rounding, not a dead run.
FROZEN_MIN_DIGITS = 4

LS004 = Rule(
    "LS004",
    "loss-frozen",
    Severity.ERROR,
    thresholds={
        "FROZEN_MIN_POINTS": FROZEN_MIN_POINTS,
        "FROZEN_MIN_SHARE": FROZEN_MIN_SHARE,
        "FROZEN_MIN_DIGITS": FROZEN_MIN_DIGITS,
    },
)


def significant_digits(value: float) -> int:
    """Significant digits of a float as printed in its shortest round-trip form."""
    text = np.format_float_positional(abs(value), unique=True, trim="-")
    digits = text.replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


def _longest_repeat(values: np.ndarray) -> tuple[int, int]:
    """(start index, length) of the longest run of exactly equal consecutive values."""
    change = np.nonzero(values[1:] != values[:-1])[0] + 1
    bounds = np.concatenate(([0], change, [len(values)]))
    lengths = np.diff(bounds)
    i = int(np.argmax(lengths))
    return int(bounds[i]), int(lengths[i])


@LS004
def loss_frozen(run: Run, expected: Expected | None, lim: Limits) -> Iterator[Finding]:
    """The training loss is the same to the last logged digit for a long stretch: a dead run.

    What it does: finds the longest stretch of consecutive logged points where the training loss
    is exactly the same value, and reports it when it spans at least 20 logged points and 10% of
    them. Whole numbers and values printed with fewer than 4 significant digits are left alone:
    they repeat through rounding.

    Why it matters: a loss computed on different batches is never identical to many digits
    unless the model's output no longer depends on its weights or its input: dead ReLUs, a
    saturated output, NaN weights behind a filtered log, a frozen or detached graph. Everything
    logged after that point is wasted compute.

    Example: `loss is 16.74222755 at all 3650 logged points from step 120 to step 36620 (89% of
    the logged points): the model stopped learning`.

    How to fix: look at the step where it froze: lower the LR (a too-large step kills ReLUs or
    saturates the output), check that the loss depends on the trainable weights
    (`requires_grad`, no `.detach()`), and resume from a checkpoint before that step.
    """
    tags = _loss_tags(run)
    if not tags:
        return
    loss = run.series(tags[0], finite=True)
    n = len(loss)
    if n < lim["FROZEN_MIN_POINTS"]:
        return
    values = loss.to_numpy(dtype="float64")
    start, length = _longest_repeat(values)
    if length < lim["FROZEN_MIN_POINTS"] or length / n < lim["FROZEN_MIN_SHARE"]:
        return
    value = float(values[start])
    if value == round(value) or significant_digits(value) < lim["FROZEN_MIN_DIGITS"]:
        return  # an integer-valued or heavily rounded loss repeats legitimately
    steps = loss.index.to_numpy(dtype="int64")
    first, last = int(steps[start]), int(steps[start + length - 1])
    share = length / n
    lr = _value_at(run, "lr", first)
    text = np.format_float_positional(value, unique=True, trim="-")
    yield LS004.finding(
        f"{tags[0]} is {text} at all {length} logged points from step {first} to step {last} "
        f"({share:.0%} of the logged points): the model stopped learning",
        step=first,
        end_step=last,
        epoch=first / run.epoch_length if run.epoch_length else None,
        evidence={
            "tag": tags[0],
            "value": value,
            "points": length,
            "share_of_points": share,
            "first_step": first,
            "last_step": last,
            "lr_at_start": lr,
        },
        hint="Lower the LR, check that the loss depends on trainable weights (requires_grad, no "
        "detach), and resume from a checkpoint before this step.",
    )

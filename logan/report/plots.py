"""Matplotlib figures for reports (Agg, no pyplot state): the LR with its expected schedule and
the findings' spans, the loss with the LR on a twin axis, and a grid of the other scalars.

Builders return Figure objects so tests can inspect axes and lines; `save()` writes the PNG.
Legends sit below the axes so they never cover a curve, every finding is drawn in its own colour
and labelled with its code on the plot, and text from logs is kept out of mathtext.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from logan.model import Finding, RunResult
from logan.tags import is_loss_tag
from logan.textsafe import visible

DPI = 150
WIDTH_IN = 8.0  # 1200 px at 150 dpi: GitHub shows it at ~880 px without blurring the labels
HEIGHT_IN = 4.6  # room for the legend below the axes
# Epoch boundaries: one line per epoch up to this many; beyond it every k-th epoch, so the lines
# stay a grid rather than a grey wash.
MAX_EPOCH_LINES = 24
# Log scale when the LR after its peak spans more than this ratio ...
LOG_SCALE_RATIO = 1e3
# ... and at least this share of those points would sit in the bottom 1% of a linear axis (a
# cosine to ~0 stays linear: only its tail is that low, and people know the shape linearly).
SQUASHED_SHARE = 0.25
SQUASHED_LEVEL = 0.01
# The loss goes on a log axis when max/min exceeds this (divergence, overflow): on a linear axis
# the healthy part would be a flat line at the bottom.
LOSS_LOG_RATIO = 100.0
# Logged points up to this many get markers (sparse logging, e.g. every 5 iterations).
MARKER_POINTS = 60
# Findings get these colours in order (the curves use blue/green/purple/grey).
FINDING_COLORS = ("#d62728", "#ff7f0e", "#e377c2", "#8c564b", "#bcbd22", "#17becf")
# A finding's code is written left of its span when the span starts beyond this share of the axis.
RIGHT_EDGE = 0.85
LR_COLOR = "#1f77b4"
LOSS_COLOR = "#1f77b4"
TWIN_LR_COLOR = "#ff7f0e"
CONFIG_COLOR = "#2ca02c"
INTENDED_COLOR = "#9467bd"
LEGEND_FONT = 8
# Units shown on the scalar grid's y axes.
SCALAR_UNITS = {"time": "s / iter", "data_time": "s / iter", "grad_norm": "norm", "memory": "MB"}
OTHER_SCALARS = ("time", "data_time", "grad_norm", "memory")
SCALAR_FINDINGS: dict[str, tuple[str, ...]] = {
    "time": ("TP",),
    "data_time": ("TP",),
    "grad_norm": ("LS002",),
}
# Larger magnitudes are drawn like non-finite values: matplotlib's tick locator overflows on an
# axis that reaches ~1e308 (a diverged loss can get there).
PLOT_MAX = 1e300
# PNG metadata: no matplotlib version, so the bytes depend only on the data.
PNG_METADATA: dict[str, Any] = {"Software": None}


def _figure(height: float = HEIGHT_IN) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plain(text: object) -> str:
    """Text from logs drawn literally: `$` would otherwise start mathtext (or fail to parse), and
    a control character has no glyph (matplotlib would warn on stderr): it is drawn as its
    escape, as the terminal shows it."""
    s = visible(text)
    if not s.isascii():
        # A character the font has no glyph for would draw as a box and make matplotlib warn on
        # stderr: it is drawn as its escape, like a control character.
        glyphs = _glyphs()
        s = "".join(c if c.isascii() or ord(c) in glyphs else _escape(c) for c in s)
    return s.replace("\\", "\\\\").replace("$", r"\$")


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


@functools.lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """The code points the default font can draw (labels and titles all use it)."""
    from matplotlib import font_manager

    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
    return frozenset(font.get_charmap())


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


def _finite(s: pd.Series) -> pd.Series:
    """The points a plot can draw: finite and within PLOT_MAX."""
    v = s.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return s[np.isfinite(v) & (np.abs(v) <= PLOT_MAX)]


def lr_scale(values: Iterable[float]) -> str:
    """'linear', 'log' or 'symlog' (log that keeps exact zeros) for an LR curve.

    Decided on the part after the peak: a warmup starting near 0 is not a reason for a log axis.
    """
    v = np.asarray(list(values), dtype="float64")
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return "linear"
    pk = int(np.argmax(v))
    peak = float(v[pk])
    post = v[pk:]
    positive = post[post > 0]
    if peak <= 0 or len(positive) == 0:
        return "linear"
    ratio = peak / float(positive.min())
    squashed = float(np.mean(post < peak * SQUASHED_LEVEL))
    if ratio <= LOG_SCALE_RATIO or squashed < SQUASHED_SHARE:
        return "linear"
    return "symlog" if bool(np.any(post <= 0)) else "log"


def _log_axis(ax: Axes, values: np.ndarray) -> None:
    """A log y axis. When the curve nears PLOT_MAX, limits and ticks are set here: matplotlib's
    autoscale adds 5% of the decades on top, past float's range, and its tick locator places a
    tick beyond the top; both overflowed (warnings on stderr, or no plot at all)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v) & (v > 0)]
    huge = False
    if len(v):
        lo, hi = math.log10(float(v.min())), math.log10(float(v.max()))
        pad = 0.05 * max(hi - lo, 1.0)
        bottom, top = max(lo - pad, -300.0), min(hi + pad, 300.0)
        huge = hi + pad >= 300.0
    if huge:
        ax.set_ylim(10.0**bottom, 10.0**top)  # before the scale: setting it autoscales
    ax.set_yscale("log")
    if huge:
        step = max(1, math.ceil((top - bottom) / 6))
        decades = range(math.ceil(bottom), math.floor(top) + 1, step)
        ax.yaxis.set_major_locator(FixedLocator([10.0**k for k in decades]))
        ax.yaxis.set_minor_locator(NullLocator())


def _apply_lr_scale(ax: Axes, values: np.ndarray, scale: str) -> None:
    if scale == "linear":
        # Every tick carries its own value: an offset text ("1e-4" above the axis) would collide
        # with the epoch scale on top and is easy to misread.
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        finite = values[np.isfinite(values)]
        if len(finite) and float(finite.min()) >= 0:
            # From 0: a constant or barely moving LR must not look like a big swing; 5% headroom
            # so a flat line at the top does not hide in the frame.
            tops = [
                float(np.nanmax(np.asarray(line.get_ydata(), dtype="float64")))
                for line in ax.get_lines()
                if line.get_transform() == ax.transData
                and np.asarray(line.get_ydata(), dtype="float64").size
            ]
            top = max([t for t in tops if math.isfinite(t)], default=0.0)
            ax.set_ylim(bottom=0, top=top * 1.05 if top > 0 else None)
        return
    positive = values[np.isfinite(values) & (values > 0)]
    if scale == "symlog":
        linthresh = max(10.0 ** math.floor(math.log10(float(positive.min()))), 1e-300)
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
        ax.set_ylim(bottom=0)
    else:
        _log_axis(ax, values)


def _tick(value: float, _pos: object = None) -> str:
    return "0" if value == 0 else f"{value:.3g}"


def loss_scale(values: np.ndarray) -> str:
    """'log' when the finite loss is positive and spans more than LOSS_LOG_RATIO."""
    v = values[np.isfinite(values)]
    if len(v) < 2 or float(v.min()) <= 0:
        return "linear"
    return "log" if float(v.max()) / float(v.min()) > LOSS_LOG_RATIO else "linear"


def _epoch_axis(ax: Axes, result: RunResult) -> None:
    """Epoch boundaries as light lines and an epoch scale along the top."""
    run = result.run
    last = run.last_step
    length = run.epoch_length
    if not length or not last:
        return
    n = last // length
    if n < 1:
        return
    every = max(1, math.ceil(n / MAX_EPOCH_LINES))
    label = "epoch boundary" if every == 1 else f"every {every}th epoch boundary"
    for e in range(every, n + 1, every):
        ax.axvline(
            e * length,
            color="0.55",
            lw=0.7,
            ls=":",
            zorder=0,
            label=label if e == every else None,
        )

    def to_epoch(s: Any) -> Any:
        return np.asarray(s, dtype="float64") / length

    def to_step(e: Any) -> Any:
        return np.asarray(e, dtype="float64") * length

    top = ax.secondary_xaxis("top", functions=(to_epoch, to_step))
    top.set_xlabel("epoch", fontsize=8)
    top.tick_params(labelsize=7)


def _session_starts(ax: Axes, result: RunResult) -> None:
    sessions = result.run.sessions
    for i, s in enumerate(sessions[1:]):
        if s.first_step is None:
            continue
        ax.axvline(
            s.first_step,
            color="0.2",
            lw=1.0,
            ls=(0, (4, 2, 1, 2)),
            zorder=1,
            label="new session" if i == 0 else None,
        )


def _span(f: Finding) -> tuple[int, int] | None:
    if f.step is None:
        return None
    end = f.end_step if f.end_step is not None and f.end_step >= f.step else f.step
    return int(f.step), int(end)


def _finding_label(f: Finding) -> str:
    span = _span(f)
    where = ""
    if span is not None:
        where = f" (step {span[0]})" if span[0] == span[1] else f" (steps {span[0]}-{span[1]})"
    return plain(f"{f.code} {f.name}{where}")


def _event_steps(f: Finding) -> list[int]:
    """Steps of the separate events a finding lists in its evidence (LS002's spikes)."""
    events = f.evidence.get("spikes")
    if not isinstance(events, list):
        return []
    return [
        int(e["step"]) for e in events if isinstance(e, dict) and isinstance(e.get("step"), int)
    ]


def _draw_findings(ax: Axes, findings: list[Finding], prefixes: tuple[str, ...]) -> list[str]:
    """Shade each matching finding's span in its own colour, with its code written on the plot."""
    drawn = []
    k = 0
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for f in findings:
        if not f.code.startswith(prefixes):
            continue
        span = _span(f)
        if span is None:
            continue
        color = FINDING_COLORS[k % len(FINDING_COLORS)]
        start, end = span
        points = _event_steps(f)
        if points:
            # Separate events (spikes): a line at each, not one span that claims the gaps too.
            for i, x in enumerate(points):
                ax.axvline(
                    x, color=color, lw=1.0, alpha=0.7, zorder=1,
                    label=_finding_label(f) if i == 0 else None,
                )  # fmt: skip
        elif end > start:
            ax.axvspan(start, end, color=color, alpha=0.13, lw=0, zorder=0, label=_finding_label(f))
        else:
            ax.axvline(start, color=color, lw=1.4, zorder=2, label=_finding_label(f))
        # Near the right edge the code goes left of its line, or it would be cut off.
        x0, x1 = ax.get_xlim()
        right = start > x0 + RIGHT_EDGE * (x1 - x0)
        ax.text(
            start,
            0.97 - 0.08 * k,
            f"{plain(f.code)} " if right else f" {plain(f.code)}",
            transform=trans,
            ha="right" if right else "left",
            va="top",
            fontsize=8,
            fontweight="bold",
            color=color,
            clip_on=True,
            zorder=5,
        )
        drawn.append(f.code)
        k += 1
    return drawn


def _legend(fig: Figure, axes: list[Axes]) -> None:
    """One legend below the plot, merged over twin axes, so no curve is ever covered."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    if handles:
        ncols = 3 if len(labels) > 4 else max(1, len(labels))
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols,
            fontsize=LEGEND_FONT,
            frameon=False,
        )


def lr_figure(result: RunResult) -> Figure | None:
    """Logged LR, the schedule it should have followed (and the one the config really gives),
    warmup end, epoch boundaries, new sessions and each LR finding's span."""
    run = result.run
    lr = _finite(run.series("lr"))
    if lr.empty:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    markers: dict[str, Any] = {"marker": ".", "markersize": 3} if len(lr) <= MARKER_POINTS else {}
    ax.plot(lr.index, lr.to_numpy(), color=LR_COLOR, lw=2.2, label="logged lr", zorder=3, **markers)
    expected = result.expected
    scale_values = [lr.to_numpy()]
    if expected is not None:
        configured = expected.configured_curve
        intended = expected.intended_curve
        if expected.source == "config":
            if configured is not None:
                steps, values = configured
                ax.plot(
                    steps, values, color=CONFIG_COLOR, lw=1.0, ls=(0, (4, 3)),
                    label="as configured (simulated)", zorder=4,
                )  # fmt: skip
            else:
                ax.plot(
                    expected.steps, expected.values, color=CONFIG_COLOR, lw=1.0, ls=(0, (4, 3)),
                    label="as configured (simulated)", zorder=4,
                )  # fmt: skip
            if intended is not None:
                steps, values = intended
                ax.plot(
                    steps, values, color=INTENDED_COLOR, lw=1.4, ls="-.",
                    label="as intended (the config's own numbers)", zorder=4,
                )  # fmt: skip
        else:
            ax.plot(
                expected.steps, expected.values, color=CONFIG_COLOR, lw=1.2, ls="--",
                label="expected cosine (inferred from the log)", zorder=4,
            )  # fmt: skip
            if configured is not None:
                steps, values = configured
                ax.plot(
                    steps, values, color="0.45", lw=1.0, ls=":",
                    label="config simulated (does not match the log)", zorder=2,
                )  # fmt: skip
        if expected.warmup_end:
            ax.axvline(
                expected.warmup_end, color="#8c564b", lw=0.9, ls="--",
                label=f"warmup end (step {expected.warmup_end})",
            )  # fmt: skip
    _epoch_axis(ax, result)
    _session_starts(ax, result)
    _draw_findings(ax, result.findings, ("LR",))
    scale = lr_scale(lr.to_numpy())
    _apply_lr_scale(ax, np.concatenate(scale_values), scale)
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate" + ("" if scale == "linear" else f" ({scale} scale)"))
    ax.set_title(f"Learning rate: {plain(_short(run.path))}", fontsize=10)
    ax.grid(alpha=0.3)
    _legend(fig, [ax])
    return fig


def smooth(values: pd.Series, window: int | None = None) -> pd.Series:
    """A centred rolling median: robust to the spikes the loss plot is meant to show."""
    window = window or max(3, min(101, len(values) // 20 * 2 + 1))
    return values.rolling(window, center=True, min_periods=1).median()


def _loss_tag(result: RunResult) -> str | None:
    run = result.run
    tags = run.tags()
    if "loss" in tags:
        return "loss"
    candidates = [t for t in tags if is_loss_tag(t)]
    return candidates[0] if candidates else None


def loss_figure(result: RunResult) -> Figure | None:
    """Raw and smoothed loss, non-finite points marked along the top, spikes circled, the loss
    findings' spans, and the LR on a twin axis."""
    run = result.run
    tag = _loss_tag(result)
    if tag is None:
        return None
    loss = run.series(tag)
    if loss.empty:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    finite = _finite(loss)
    name = plain(tag)
    if len(finite):
        ax.plot(finite.index, finite.to_numpy(), color=LOSS_COLOR, lw=0.7, alpha=0.45, label=name)
    if len(finite) >= 5:
        sm = smooth(finite)
        ax.plot(sm.index, sm.to_numpy(), color=LOSS_COLOR, lw=1.8, label=f"{name} (rolling median)")
    bad = loss[~loss.index.isin(finite.index)]
    if len(bad):
        top = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(
            bad.index,
            np.full(len(bad), 0.985),
            transform=top,
            ls="none",
            marker="|",
            markersize=7,
            color="#d62728",
            zorder=6,
            clip_on=False,
            label=f"NaN/inf {name} ({len(bad)} points)",
        )
    for f in result.findings:
        spikes = f.evidence.get("spikes") if f.code == "LS002" else None
        if isinstance(spikes, list):
            pts = [(d["step"], d.get("loss")) for d in spikes if isinstance(d, dict)]
            pts = [
                (s, v)
                for s, v in pts
                if isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= PLOT_MAX
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.scatter(
                    xs, ys, s=40, facecolors="none", edgecolors="#d62728", lw=1.2, zorder=6,
                    label="LS002 spike",
                )  # fmt: skip
    _draw_findings(ax, result.findings, ("LS",))
    if loss_scale(finite.to_numpy()) == "log":
        _log_axis(ax, finite.to_numpy())
        ax.set_ylabel(f"{name} (log scale)")
    else:
        ax.set_ylabel(name)
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xlabel("iteration")
    ax.grid(alpha=0.3)
    axes = [ax]
    lr = _finite(run.series("lr"))
    if not lr.empty:
        ax2 = ax.twinx()
        ax2.plot(lr.index, lr.to_numpy(), color=TWIN_LR_COLOR, lw=1.0, alpha=0.85, label="lr")
        scale = lr_scale(lr.to_numpy())
        _apply_lr_scale(ax2, lr.to_numpy(), scale)
        ax2.set_ylabel("learning rate", color=TWIN_LR_COLOR)
        ax2.tick_params(axis="y", colors=TWIN_LR_COLOR)
        axes.append(ax2)
    _epoch_axis(ax, result)
    ax.set_title(f"Loss: {plain(_short(run.path))}", fontsize=10)
    _legend(fig, axes)
    return fig


def scalars_figure(result: RunResult) -> Figure | None:
    """A grid of time, data_time, grad_norm and memory when the run logged them, with the
    throughput finding's span on the timing plots."""
    run = result.run
    present = set(run.tags())
    series = {t: _finite(run.series(t)) for t in OTHER_SCALARS if t in present}
    series = {t: s for t, s in series.items() if not s.empty}
    if not series:
        return None
    cols = 2 if len(series) > 1 else 1
    rows = (len(series) + cols - 1) // cols
    fig = _figure(height=0.9 + 2.5 * rows)
    axes: list[Axes] = []
    for i, (tag, s) in enumerate(series.items()):
        ax = fig.add_subplot(rows, cols, i + 1, sharex=axes[0] if axes else None)
        ax.plot(s.index, s.to_numpy(), lw=0.9, color="#555555", label=tag)
        # Slow-downs on the timing plots; loss spikes on grad_norm, where their cause often shows.
        codes = SCALAR_FINDINGS.get(tag)
        if codes:
            _draw_findings(ax, result.findings, codes)
        ax.set_title(tag, fontsize=9)
        ax.set_ylabel(SCALAR_UNITS.get(tag, ""), fontsize=8)
        ax.set_xlabel("iteration", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        ax.grid(alpha=0.3)
        axes.append(ax)
    fig.suptitle(f"Other scalars: {plain(_short(run.path))}", fontsize=10)
    wanted = tuple(c for group in SCALAR_FINDINGS.values() for c in group)
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab.startswith(wanted):
                seen.setdefault(lab, h)
    if seen:
        fig.legend(
            list(seen.values()),
            list(seen),
            loc="outside lower center",
            ncols=min(3, len(seen)),
            fontsize=LEGEND_FONT,
            frameon=False,
        )
    return fig


def save(fig: Figure, path: Path | BinaryIO) -> None:
    """Write a PNG whose bytes depend only on the figure (no software/version metadata)."""
    fig.savefig(path, dpi=DPI, metadata=PNG_METADATA)

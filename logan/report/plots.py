"""Matplotlib figures for reports (Agg, no pyplot state): the LR with its expected schedule and
the findings' spans, the loss with the LR on a twin axis, and a grid of the other scalars.

Builders return Figure objects so tests can inspect axes and lines; `save()` writes the PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from logan.model import RunResult, Severity
from logan.tags import is_loss_tag

DPI = 150
WIDTH_IN = 8.0  # 1200 px at 150 dpi: GitHub shows it at ~880 px without blurring the labels
HEIGHT_IN = 4.0
# Epoch boundaries are drawn only while they stay readable.
MAX_EPOCH_LINES = 40
# A range wider than this ratio (max/min positive) is plotted on a log scale.
LOG_SCALE_RATIO = 1e3
SEVERITY_COLOR = {Severity.ERROR: "#d62728", Severity.WARNING: "#ff7f0e", Severity.INFO: "#1f77b4"}


def _figure(height: float = HEIGHT_IN) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _epoch_lines(ax, result: RunResult) -> None:  # type: ignore[no-untyped-def]
    run = result.run
    last = run.last_step
    if not run.epoch_length or not last:
        return
    n = last // run.epoch_length
    if n < 1 or n > MAX_EPOCH_LINES:
        return
    for e in range(1, n + 1):
        ax.axvline(
            e * run.epoch_length,
            color="0.6",
            lw=0.8,
            ls=":",
            zorder=0,
            label="epoch boundary" if e == 1 else None,
        )


def _shade_findings(ax, result: RunResult, codes: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for f in result.findings:
        if not f.code.startswith(codes) or f.step is None:
            continue
        end = f.end_step if f.end_step is not None else f.step
        color = SEVERITY_COLOR[f.severity]
        if end > f.step:
            ax.axvspan(f.step, end, color=color, alpha=0.12, lw=0, label=f"{f.code} {f.name}")
        else:
            ax.axvline(f.step, color=color, lw=1.2, label=f"{f.code} {f.name}")


def lr_figure(result: RunResult) -> Figure | None:
    """Logged LR, the expected schedule, epoch boundaries and the LR findings' spans."""
    run = result.run
    lr = run.series("lr")
    if lr.empty:
        return None
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(lr.index, lr.to_numpy(), color="#1f77b4", lw=1.6, label="logged lr", zorder=3)
    expected = result.expected
    if expected is not None:
        label = "as configured" if expected.source == "config" else "expected cosine (from logs)"
        ax.plot(expected.steps, expected.values, color="#2ca02c", lw=1.2, ls="--", label=label)
        intended = expected.extra.get("intended_curve")
        if intended is not None:
            steps, values = intended
            ax.plot(steps, values, color="#9467bd", lw=1.2, ls="-.", label="as intended")
        if expected.warmup_end:
            ax.axvline(expected.warmup_end, color="#8c564b", lw=0.8, ls="--", label="warmup end")
    _epoch_lines(ax, result)
    _shade_findings(ax, result, ("LR",))
    positive = lr[lr > 0]
    if len(positive) and positive.max() / positive.min() > LOG_SCALE_RATIO:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate")
    ax.set_title(f"Learning rate: {_short(run.path)}", fontsize=10)
    ax.ticklabel_format(
        axis="y", style="sci", scilimits=(-3, 3)
    ) if ax.get_yscale() == "linear" else None
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.8)
    return fig


def smooth(values: pd.Series, window: int | None = None) -> pd.Series:
    """A centred rolling median: robust to the spikes the loss plot is meant to show."""
    window = window or max(3, min(101, len(values) // 20 * 2 + 1))
    return values.rolling(window, center=True, min_periods=1).median()


def loss_figure(result: RunResult) -> Figure | None:
    """Raw and smoothed loss, non-finite points marked, LR on a twin axis."""
    run = result.run
    loss = run.series("loss")
    if loss.empty:
        candidates = [t for t in run.tags() if is_loss_tag(t)]
        if not candidates:
            return None
        loss = run.series(candidates[0])
    fig = _figure()
    ax = fig.add_subplot()
    finite = loss[np.isfinite(loss.to_numpy())]
    ax.plot(finite.index, finite.to_numpy(), color="#1f77b4", lw=0.7, alpha=0.45, label="loss")
    if len(finite) >= 5:
        sm = smooth(finite)
        ax.plot(sm.index, sm.to_numpy(), color="#1f77b4", lw=1.8, label="loss (rolling median)")
    bad = loss[~np.isfinite(loss.to_numpy())]
    if len(bad):
        y = float(finite.max()) if len(finite) else 0.0
        ax.scatter(
            bad.index,
            np.full(len(bad), y),
            marker="x",
            color="#d62728",
            zorder=4,
            label="NaN/inf loss",
        )
    _shade_findings(ax, result, ("LS",))
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    lr = run.series("lr")
    handles, labels = ax.get_legend_handles_labels()
    if not lr.empty:
        ax2 = ax.twinx()
        ax2.plot(lr.index, lr.to_numpy(), color="#ff7f0e", lw=1.0, alpha=0.8, label="lr")
        ax2.set_ylabel("learning rate", color="#ff7f0e")
        ax2.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8, loc="best", framealpha=0.8)
    ax.set_title(f"Loss: {_short(run.path)}", fontsize=10)
    return fig


OTHER_SCALARS = ("time", "data_time", "grad_norm", "memory")


def scalars_figure(result: RunResult) -> Figure | None:
    """A grid of time, data_time, grad_norm and memory when the run logged them."""
    run = result.run
    tags = [t for t in OTHER_SCALARS if t in set(run.tags())]
    if not tags:
        return None
    cols = 2 if len(tags) > 1 else 1
    rows = (len(tags) + cols - 1) // cols
    fig = _figure(height=2.6 * rows)
    for i, tag in enumerate(tags):
        ax = fig.add_subplot(rows, cols, i + 1)
        s = run.series(tag)
        ax.plot(s.index, s.to_numpy(), lw=0.8, color="#7f7f7f")
        ax.set_title(tag, fontsize=9)
        ax.set_xlabel("iteration", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return fig


def save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI)


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]

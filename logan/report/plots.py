"""Matplotlib figures for reports (Agg, no pyplot state): the LR with its expected schedule and
the findings' spans, the loss with the LR on a twin axis, and a grid of the other scalars.

Builders return Figure objects so tests can inspect axes and lines; `save()` writes the PNG.
Legends sit below the axes so they never cover a curve, every finding is drawn in its own colour
and labelled with its code on the plot, and text from logs is kept out of mathtext.
"""

from __future__ import annotations

import contextlib
import functools
import math
import struct
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec, TypeVar, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import Affine2D, blended_transform_factory

from logan.model import Finding, RunResult
from logan.tags import is_loss_tag
from logan.textsafe import visible

try:  # the same deflate format as zlib's, ~3.5x faster on a plot's rows (see PNG_LEVEL)
    from zlib_ng import zlib_ng as deflating
except ImportError:  # pragma: no cover - a platform without its wheel
    deflating = zlib  # type: ignore[no-redef,misc]

P = ParamSpec("P")
R = TypeVar("R")

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
# Fixed margins in inches (see `_place`): room for 9-character tick labels and an axis label on
# the left (and on the right for a twin axis), the title on top (and the epoch scale under it),
# the x tick labels and label below, then one LEGEND_ROW per row of the legend.
MARGIN_LEFT = 1.05
MARGIN_RIGHT = 0.25
MARGIN_TOP = 0.35
MARGIN_EPOCH_AXIS = 0.4
TITLE_LIFT = 0.36  # the title above the epoch scale's tick labels and label
MARGIN_BOTTOM = 0.62
LEGEND_ROW = 0.19
# The scalar grid: smaller fonts; between rows a title and the x label, between columns y labels.
GRID_LEFT = 0.85
GRID_TOP = 0.45
GRID_BOTTOM = 0.5
GRID_HSPACE = 0.75
GRID_WSPACE = 0.9
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
# The PNGs carry no metadata (no matplotlib version: the bytes depend only on the data). Their
# rows are filtered by "Up" (each row as its difference from the one above: the same pixels down
# a plot's columns become zeros) and deflated at this level by zlib-ng: ~1.5 ms and ~55 KB per
# figure, where the standard zlib takes ~5.4 ms for ~70 KB (it is used where zlib-ng is not
# installed), and Pillow's default (level 6, a filter chosen per row) took ~25 ms for ~62 KB.
PNG_LEVEL = 2
# Long curves are drawn from a min/max envelope over this many columns of their x range: one
# column is at most half a pixel wide (no axes is wider than the figure's WIDTH_IN * DPI pixels),
# so every spike and every plateau edge stays where it was (to within antialiasing) while a
# 100,000-point curve costs what a 9,600-point one does.
ENVELOPE_COLUMNS = int(2 * WIDTH_IN * DPI)


@contextlib.contextmanager
def styled() -> Iterator[None]:
    """Plot text in `font_families` while figures are built and drawn: a Text takes its font
    from rcParams when it is created (tick labels are created while drawing). Setting it on every
    Text of a finished figure instead made matplotlib create every tick it had not drawn yet,
    which cost a quarter of the report's time (issue 15)."""
    import matplotlib

    with matplotlib.rc_context({"font.family": list(font_families())}):
        yield


def drawing(build: Callable[P, R]) -> Callable[P, R]:
    """A figure builder run under `styled`."""

    @functools.wraps(build)
    def styled_build(*args: P.args, **kwargs: P.kwargs) -> R:
        with styled():
            return build(*args, **kwargs)

    return styled_build


def _figure(height: float = HEIGHT_IN, fixed: bool = False) -> Figure:
    """A figure on its own Agg canvas; `fixed` leaves out the constrained layout engine (the
    report plots place their axes with `_place`, from margins known in advance)."""
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout=None if fixed else "constrained")
    FigureCanvasAgg(fig)
    return fig


# Figures kept for reuse, per thread, by layout (see `_layout`).
_KEPT = threading.local()


def _layout(key: tuple[Any, ...], make: Callable[[], Figure], reuse: bool) -> Figure:
    """A figure of this layout: new from `make`, or with `reuse` the one this thread drew last
    for `key`, emptied (see `_empty`). Building axes and their ticks cost more than drawing the
    curves (issue 15); a report's figure is encoded before the next run's is built, so one per
    layout is enough. `key` names everything `make` builds: the same key, the same axes."""
    if not reuse:
        return make()
    kept: dict[tuple[Any, ...], tuple[Figure, Margins]] = _KEPT.__dict__.setdefault("kept", {})
    if key in kept:
        fig, margins = kept[key]
        _empty(fig, margins)
        return fig
    fig = make()
    p = fig.subplotpars
    kept[key] = fig, (p.left, p.bottom, p.right, p.top, p.wspace, p.hspace)
    _UNPINNED.add(fig)
    return fig


# Kept figures not drawn yet: their x labels are pinned after their first drawing.
_UNPINNED: weakref.WeakSet[Figure] = weakref.WeakSet()


def _pin_x_labels(fig: Figure) -> None:
    """Keep each x axis label where matplotlib has just placed it, as an offset in pixels from
    the axes' edge, so that later drawings of this kept figure skip placing it again.

    Why: matplotlib places an x label below (or above) the bounding box of the axis's tick
    labels, and measures them a second time to do it: an eighth of a figure's drawing (issue
    15). An x axis's tick labels are one line of one font size, so that box always ends at the
    same distance from the axes' edge: the label lands where matplotlib would place it."""
    _UNPINNED.discard(fig)
    for ax in [*fig.axes, *(c for a in fig.axes for c in a.child_axes)]:
        axis = ax.xaxis
        if not axis.label.get_text():
            continue
        x, y = axis.label.get_position()  # placed by matplotlib: x in axes, y in pixels
        edge = 0.0 if axis.get_label_position() == "bottom" else 1.0
        shift = Affine2D().translate(0, y - ax.transAxes.transform((0, edge))[1])
        pinned = blended_transform_factory(ax.transAxes, ax.transAxes + shift)
        axis.set_label_coords(x, edge, pinned)


# A figure's subplot parameters: left, bottom, right, top, wspace, hspace.
Margins = tuple[float, float, float, float, float, float]


def _empty(fig: Figure, margins: Margins) -> None:
    """Back to the state `make` left it in: the builders' artists and legends removed, linear y
    scales with their default locators and formatters, limits (0, 1) autoscaled from no data,
    the colour cycle restarted, the axes where `make` put them (lines at the axes' edges are
    placed through the data transform of the moment: elsewhere they would land a rounding error
    away). Labels and titles are set by every builder on every run; tick parameters and the twin
    and epoch axes are part of the layout."""
    for legend in list(fig.legends):
        legend.remove()
    fig.subplots_adjust(*margins)
    for ax in fig.axes:
        for group in (ax.lines, ax.patches, ax.collections, ax.texts, ax.images, ax.artists):
            for artist in list(group):
                artist.remove()
        ax.set_prop_cycle(None)
        ax.set_yscale("linear")
    for ax in fig.axes:
        ax.set_xlim(0, 1, auto=True)
        ax.set_ylim(0, 1, auto=True)
        ax.relim()


def _place(
    fig: Figure,
    legend_rows: int,
    top_axis: bool = False,
    right_axis: bool = False,
    grid: tuple[int, int] | None = None,
    title: str | None = None,
) -> None:
    """Axes margins in inches, fixed by what goes around the axes (tick labels of `_tick` are at
    most 9 characters, the legend's rows are counted): the constrained layout engine measured
    every text instead, which cost more than drawing the figure (issue 15). `title` goes on the
    first axes at a fixed height: matplotlib would otherwise measure what is above the axes."""
    w, h = fig.get_size_inches()
    if grid is None:
        left, right = MARGIN_LEFT, MARGIN_LEFT if right_axis else MARGIN_RIGHT
        top = MARGIN_TOP + (MARGIN_EPOCH_AXIS if top_axis else 0.0)
        bottom = MARGIN_BOTTOM + legend_rows * LEGEND_ROW
        fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h)
        if title is not None:
            lift = TITLE_LIFT / (h - top - bottom) if top_axis else 0.0
            fig.axes[0].set_title(title, fontsize=10, y=1.0 + lift)
        return
    rows, cols = grid
    bottom = GRID_BOTTOM + legend_rows * LEGEND_ROW
    cell_h = (h - GRID_TOP - bottom - (rows - 1) * GRID_HSPACE) / rows
    cell_w = (w - GRID_LEFT - MARGIN_RIGHT - (cols - 1) * GRID_WSPACE) / cols
    fig.subplots_adjust(
        left=GRID_LEFT / w,
        right=1 - MARGIN_RIGHT / w,
        top=1 - GRID_TOP / h,
        bottom=bottom / h,
        hspace=GRID_HSPACE / cell_h,
        wspace=GRID_WSPACE / cell_w,
    )


def _columns(x: Any, y: Any, columns: int) -> tuple[np.ndarray, ...] | None:
    """Per column of the x range (at most one pixel wide): the index of its first, last, lowest
    and highest point; None when the curve is short, unsorted or not finite (drawn as it is)."""
    xs = np.asarray(x, dtype="float64")
    ys = np.asarray(y, dtype="float64")
    n = len(xs)
    if n <= 4 * columns or len(ys) != n:
        return None
    lo, hi = float(xs[0]), float(xs[-1])
    if not hi > lo or not np.isfinite(ys).all() or not np.all(xs[1:] >= xs[:-1]):
        return None
    col = np.minimum(((xs - lo) * (columns / (hi - lo))).astype(np.int64), columns - 1)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    ends = np.r_[starts[1:], n] - 1
    sizes = ends - starts + 1
    seg = np.repeat(np.arange(len(starts)), sizes)
    lowest = np.flatnonzero(ys == np.repeat(np.minimum.reduceat(ys, starts), sizes))
    highest = np.flatnonzero(ys == np.repeat(np.maximum.reduceat(ys, starts), sizes))
    # The first index reaching each column's extreme (ties: any one draws the same pixels).
    lowest = lowest[np.r_[True, seg[lowest][1:] != seg[lowest][:-1]]]
    highest = highest[np.r_[True, seg[highest][1:] != seg[highest][:-1]]]
    return starts, ends, lowest, highest


def envelope(x: Any, y: Any, columns: int = ENVELOPE_COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """The points of a curve a raster can show: per column of its x range the first, last,
    lowest and highest point, in their order (M4 aggregation; Jugel et al., VLDB 2014).

    A line through these points covers the same pixels as the line through all of them, up to
    antialiasing. Short curves, unsorted x and non-finite values are returned as they are.
    """
    xs = np.asarray(x, dtype="float64")
    ys = np.asarray(y, dtype="float64")
    found = _columns(xs, ys, columns)
    if found is None:
        return xs, ys
    keep = np.unique(np.concatenate(found))
    return xs[keep], ys[keep]


def _line(ax: Axes, x: Any, y: Any, *args: Any, noisy: bool = False, **kwargs: Any) -> Any:
    """`ax.plot` of a curve reduced to its envelope (markers only ever go on short curves).

    A `noisy` curve (raw loss, timings) that goes up and down within most pixel columns is drawn
    as the band between each column's lowest and highest point, outlined with the line's width:
    the same pixels as its zigzag, without stroking thousands of column-high segments.
    """
    xs = np.asarray(x, dtype="float64")
    ys = np.asarray(y, dtype="float64")
    found = _columns(xs, ys, ENVELOPE_COLUMNS)
    if found is None:
        return ax.plot(xs, ys, *args, **kwargs)
    starts, ends, lowest, highest = found
    if noisy and not args and kwargs.get("ls", "-") == "-":
        # Each column spans its own extremes and the segments joining it to its neighbours.
        lo = np.minimum(ys[lowest], np.minimum(ys[np.r_[starts[1:], ends[-1]]], ys[starts]))
        hi = np.maximum(ys[highest], np.maximum(ys[np.r_[starts[1:], ends[-1]]], ys[starts]))
        # A step band from each column's first to its last x: a one-step spike stays one column
        # wide instead of becoming a tent over its neighbours.
        bx = np.column_stack([xs[starts], xs[ends]]).ravel()
        style = {k: kwargs[k] for k in ("color", "alpha", "zorder") if k in kwargs}
        ax.fill_between(
            bx, np.repeat(lo, 2), np.repeat(hi, 2), lw=kwargs.get("lw", 1.0),
            edgecolor=style.get("color"), **style,
        )  # fmt: skip
        # An empty line carries the legend entry (and the curve's look in the legend).
        return ax.plot([], [], **kwargs)
    keep = np.unique(np.concatenate(found))
    return ax.plot(xs[keep], ys[keep], *args, **kwargs)


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
    """The code points the plot fonts can draw: the default font's and, when one is installed,
    the CJK fallback's (see `font_families`), so a Chinese run name is drawn, not escaped."""
    from matplotlib import font_manager

    codes: set[int] = set()
    for family in font_families():
        path = font_manager.findfont(font_manager.FontProperties(family=[family]))
        codes.update(font_manager.get_font(path).get_charmap())
    return frozenset(codes)


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


def _log_axis(ax: Axes, values: np.ndarray, linthresh: float | None = None) -> None:
    """A log y axis (symlog from 0 when `linthresh` is given). When the curve nears PLOT_MAX,
    limits and ticks are set here: matplotlib's autoscale adds 5% of the decades on top, past
    float's range, and its tick locator places a tick beyond the top; both overflowed (warnings
    on stderr, or no plot at all)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v) & (v > 0)]
    huge = False
    if len(v):
        lo, hi = math.log10(float(v.min())), math.log10(float(v.max()))
        pad = 0.05 * max(hi - lo, 1.0)
        bottom, top = max(lo - pad, -300.0), min(hi + pad, 300.0)
        huge = hi + pad >= 300.0
    if huge:
        # Before the scale: setting it autoscales.
        ax.set_ylim(0.0 if linthresh else 10.0**bottom, 10.0**top)
    if linthresh:
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
        if not huge:
            ax.set_ylim(bottom=0)
    else:
        ax.set_yscale("log")
    if huge:
        if linthresh:
            bottom = max(bottom, math.log10(linthresh))
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
        _log_axis(ax, values, linthresh)
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


def _epoch_count(result: RunResult) -> tuple[int, int] | None:
    """(epoch length, number of whole epochs) when the run has an epoch scale to draw."""
    run = result.run
    last = run.last_step
    length = run.epoch_length
    if not length or not last or last // length < 1:
        return None
    return length, last // length


def _epoch_scale(ax: Axes, length: int) -> None:
    """The epoch scale along the top of `ax`, part of a layout: `_epoch_axis` sets each run's
    epoch length into it. Its functions stay the ones it was made with: given others, it drew
    its line a rounding error apart from a scale made with them (issue 15)."""
    per_epoch = [float(length)]

    def to_epoch(s: Any) -> Any:
        return np.asarray(s, dtype="float64") / per_epoch[0]

    def to_step(e: Any) -> Any:
        return np.asarray(e, dtype="float64") * per_epoch[0]

    top = ax.secondary_xaxis("top", functions=(to_epoch, to_step))
    top.set_xlabel("epoch", fontsize=8)
    top.tick_params(labelsize=7)
    _EPOCH_LENGTH[top] = per_epoch


# Each epoch scale's length, read by its functions (see `_epoch_scale`).
_EPOCH_LENGTH: weakref.WeakKeyDictionary[Any, list[float]] = weakref.WeakKeyDictionary()


def _epoch_axis(ax: Axes, result: RunResult) -> bool:
    """Epoch boundaries as light lines and the epoch scale along the top (made by
    `_epoch_scale` with the layout) set to this run's epoch length (True when drawn)."""
    counted = _epoch_count(result)
    if counted is None:
        return False
    length, n = counted
    every = max(1, math.ceil(n / MAX_EPOCH_LINES))
    label = "epoch boundary" if every == 1 else f"every {every}th epoch boundary"
    style: dict[str, Any] = {"lw": 0.7, "ls": ":", "zorder": 0}
    # The first line carries the legend entry; the others are one collection (the same
    # pixels, without a Line2D each to build and draw: up to 24 per figure).
    ax.axvline(every * length, color="0.55", label=label, **style)
    rest = [e * length for e in range(2 * every, n + 1, every)]
    if rest:
        along = blended_transform_factory(ax.transData, ax.transAxes)
        ax.vlines(rest, 0, 1, transform=along, colors="0.55", **style)
    (top,) = ax.child_axes
    _EPOCH_LENGTH[top][0] = float(length)
    return True


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


def _legend(fig: Figure, axes: list[Axes]) -> int:
    """One legend below the plot, merged over twin axes, so no curve is ever covered; returns
    its number of rows."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    if not handles:
        return 0
    ncols = 3 if len(labels) > 4 else max(1, len(labels))
    _bottom_legend(fig, handles, labels, ncols)
    return math.ceil(len(labels) / ncols)


def _bottom_legend(fig: Figure, handles: list[Any], labels: list[str], ncols: int) -> None:
    fixed = fig.get_layout_engine() is None
    fig.legend(
        handles,
        labels,
        loc="lower center" if fixed else "outside lower center",
        bbox_to_anchor=(0.5, 0.005) if fixed else None,
        ncols=ncols,
        fontsize=LEGEND_FONT,
        frameon=False,
        borderaxespad=0.2 if fixed else None,
    )


@drawing
def lr_figure(result: RunResult, *, reuse: bool = False) -> Figure | None:
    """Logged LR, the schedule it should have followed (and the one the config really gives),
    warmup end, epoch boundaries, new sessions and each LR finding's span. `reuse`: drawn on
    this thread's figure of the same layout (see `_layout`), valid until the next call."""
    run = result.run
    lr = _finite(run.series("lr"))
    if lr.empty:
        return None
    counted = _epoch_count(result)
    epochs = counted is not None

    def make() -> Figure:
        fig = _figure(fixed=True)
        ax = fig.add_subplot()
        ax.grid(alpha=0.3)  # part of the layout: setting it on every tick cost ~2 ms a figure
        if counted is not None:
            _epoch_scale(ax, counted[0])
        return fig

    fig = _layout(("lr", epochs), make, reuse)
    ax = fig.axes[0]
    markers: dict[str, Any] = {"marker": ".", "markersize": 3} if len(lr) <= MARKER_POINTS else {}
    _line(
        ax, lr.index, lr.to_numpy(), color=LR_COLOR, lw=2.2, label="logged lr", zorder=3, **markers
    )
    expected = result.expected
    scale_values = [lr.to_numpy()]
    if expected is not None:
        configured = expected.configured_curve
        intended = expected.intended_curve
        if expected.source == "config":
            if configured is not None:
                steps, values = configured
                _line(
                    ax, steps, values, color=CONFIG_COLOR, lw=1.0, ls=(0, (4, 3)),
                    label="as configured (simulated)", zorder=4,
                )  # fmt: skip
            else:
                _line(
                    ax, expected.steps, expected.values, color=CONFIG_COLOR, lw=1.0, ls=(0, (4, 3)),
                    label="as configured (simulated)", zorder=4,
                )  # fmt: skip
            if intended is not None:
                steps, values = intended
                _line(
                    ax, steps, values, color=INTENDED_COLOR, lw=1.4, ls="-.",
                    label="as intended (the config's own numbers)", zorder=4,
                )  # fmt: skip
        else:
            _line(
                ax, expected.steps, expected.values, color=CONFIG_COLOR, lw=1.2, ls="--",
                label="expected cosine (inferred from the log)", zorder=4,
            )  # fmt: skip
            if configured is not None:
                steps, values = configured
                _line(
                    ax, steps, values, color="0.45", lw=1.0, ls=":",
                    label="config simulated (does not match the log)", zorder=2,
                )  # fmt: skip
        if expected.warmup_end:
            ax.axvline(
                expected.warmup_end, color="#8c564b", lw=0.9, ls="--",
                label=f"warmup end (step {expected.warmup_end})",
            )  # fmt: skip
    epochs = _epoch_axis(ax, result)
    _session_starts(ax, result)
    _draw_findings(ax, result.findings, ("LR",))
    scale = lr_scale(lr.to_numpy())
    _apply_lr_scale(ax, np.concatenate(scale_values), scale)
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate" + ("" if scale == "linear" else f" ({scale} scale)"))
    title = f"Learning rate: {plain(_short(run.path))}"
    _place(fig, _legend(fig, [ax]), top_axis=epochs, title=title)
    return fig


def smooth(values: pd.Series, window: int | None = None) -> pd.Series:
    """A centred rolling median: robust to the spikes the loss plot is meant to show."""
    window = window or max(3, min(101, len(values) // 20 * 2 + 1))
    return values.rolling(window, center=True, min_periods=1).median()


def _loss_tag(result: RunResult) -> str | None:
    run = result.run
    tags = run.tags
    if "loss" in tags:
        return "loss"
    candidates = [t for t in tags if is_loss_tag(t)]
    return candidates[0] if candidates else None


@drawing
def loss_figure(result: RunResult, *, reuse: bool = False) -> Figure | None:
    """Raw and smoothed loss, non-finite points marked along the top, spikes circled, the loss
    findings' spans, and the LR on a twin axis. `reuse`: see `lr_figure`."""
    run = result.run
    tag = _loss_tag(result)
    if tag is None:
        return None
    loss = run.series(tag)
    if loss.empty:
        return None
    lr = _finite(run.series("lr"))
    twin = not lr.empty
    counted = _epoch_count(result)
    epochs = counted is not None

    def make() -> Figure:
        fig = _figure(fixed=True)
        ax = fig.add_subplot()
        ax.grid(alpha=0.3)
        if twin:
            ax2 = ax.twinx()
            ax2.tick_params(axis="y", colors=TWIN_LR_COLOR)
        if counted is not None:
            _epoch_scale(ax, counted[0])
        return fig

    fig = _layout(("loss", twin, epochs), make, reuse)
    ax = fig.axes[0]
    finite = _finite(loss)
    name = plain(tag)
    if len(finite):
        _line(
            ax, finite.index, finite.to_numpy(), color=LOSS_COLOR, lw=0.7, alpha=0.45,
            label=name,
        )  # fmt: skip
    if len(finite) >= 5:
        sm = smooth(finite)
        _line(
            ax, sm.index, sm.to_numpy(), color=LOSS_COLOR, lw=1.8, label=f"{name} (rolling median)"
        )
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
    axes = [ax]
    if twin:
        ax2 = fig.axes[1]
        _line(ax2, lr.index, lr.to_numpy(), color=TWIN_LR_COLOR, lw=1.0, alpha=0.85, label="lr")
        scale = lr_scale(lr.to_numpy())
        _apply_lr_scale(ax2, lr.to_numpy(), scale)
        ax2.set_ylabel("learning rate", color=TWIN_LR_COLOR)
        axes.append(ax2)
    epochs = _epoch_axis(ax, result)
    title = f"Loss: {plain(_short(run.path))}"
    _place(fig, _legend(fig, axes), top_axis=epochs, right_axis=len(axes) > 1, title=title)
    return fig


@drawing
def scalars_figure(result: RunResult, *, reuse: bool = False) -> Figure | None:
    """A grid of time, data_time, grad_norm and memory when the run logged them, with the
    throughput finding's span on the timing plots. `reuse`: see `lr_figure`."""
    run = result.run
    present = set(run.tags)
    series = {t: _finite(run.series(t)) for t in OTHER_SCALARS if t in present}
    series = {t: s for t, s in series.items() if not s.empty}
    if not series:
        return None
    cols = 2 if len(series) > 1 else 1
    rows = (len(series) + cols - 1) // cols
    panels = len(series)

    def make() -> Figure:
        fig = _figure(height=0.9 + 2.5 * rows, fixed=True)
        first = None
        for i in range(panels):
            ax = fig.add_subplot(rows, cols, i + 1, sharex=first)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            first = first or ax
        return fig

    fig = _layout(("scalars", panels), make, reuse)
    axes: list[Axes] = []
    for ax, (tag, s) in zip(fig.axes, series.items(), strict=True):
        _line(ax, s.index, s.to_numpy(), lw=0.9, color="#555555", label=tag, noisy=True)
        # Slow-downs on the timing plots; loss spikes on grad_norm, where their cause often shows.
        codes = SCALAR_FINDINGS.get(tag)
        if codes:
            _draw_findings(ax, result.findings, codes)
        ax.set_title(tag, fontsize=9, y=1.0)  # a fixed y: nothing above to measure
        ax.set_ylabel(SCALAR_UNITS.get(tag, ""), fontsize=8)
        ax.set_xlabel("iteration", fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        axes.append(ax)
    fig.suptitle(f"Other scalars: {plain(_short(run.path))}", fontsize=10)
    wanted = tuple(c for group in SCALAR_FINDINGS.values() for c in group)
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab.startswith(wanted):
                seen.setdefault(lab, h)
    ncols = min(3, len(seen))
    if seen:
        _bottom_legend(fig, list(seen.values()), list(seen), ncols)
    _place(fig, math.ceil(len(seen) / ncols) if seen else 0, grid=(rows, cols))
    return fig


def save(fig: Figure, path: Path | BinaryIO) -> None:
    """Write the figure's PNG (`png_bytes`) to a path or an open binary file."""
    data = png_bytes(fig)
    if isinstance(path, Path):
        path.write_bytes(data)
    else:
        path.write(data)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes that depend only on the figure (no software/version metadata).

    Text falls back to a CJK font when one is installed (see `styled`); a glyph no installed
    font has is drawn as a box, silently: a warning per character on stderr tells the user
    nothing they can act on. A curve reaching ~1e308 makes matplotlib's log-scale transform
    overflow while drawing, harmlessly, so numpy's overflow warning is silenced for the drawing
    too. The PNG is encoded here, not by Pillow: its per-row filter search cost three times the
    deflate of the unfiltered rows (issue 15), which a plot on white compresses nearly as well.
    """
    import warnings

    with styled(), warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        canvas = cast(FigureCanvasAgg, fig.canvas)  # see `_figure`
        TextStamps.install(canvas.get_renderer())
        canvas.draw()
        if fig in _UNPINNED:
            _pin_x_labels(fig)
    rgba = np.asarray(canvas.buffer_rgba())
    return encode_png(rgba, DPI)


class TextStamps:
    """A renderer's texts drawn from stamps: each distinct text (string, font, angle) is rendered
    once per process, then composited wherever it is drawn again.

    Why: 90% of the texts of a report are drawn before (tick labels, axis labels, legend
    entries), and matplotlib >= 3.11 lays out and renders every one glyph by glyph, which was
    half the cost of drawing a figure (issue 15). Only public renderer API is used: the stamp is
    the text drawn by matplotlib itself on a small transparent RendererAgg, and it is placed
    with `draw_image`, which honours the text's clip box, clip path and alpha.

    A stamp is placed on whole pixels: the text moves by less than half a pixel from where
    matplotlib 3.11 would draw it (matplotlib <= 3.10 placed every text on whole pixels too,
    rounding the position plus the text's descent: a stamp may sit one pixel from there), and
    compositing rounds colours by at most one level. Texts at angles other than 0 and 90
    degrees, TeX, and texts with font features or a language are drawn as before.
    """

    # Stamps kept per process, and their bytes at most: the distinct texts of a 1,000-run
    # `check --out` fit many times; past it the stamps are dropped and made again.
    MAX_BYTES = 32 << 20
    MAX_EXTENTS = 20_000
    _stamps: dict[tuple[Any, ...], tuple[np.ndarray, int, int] | None] = {}
    _extents: dict[tuple[Any, ...], tuple[float, float, float]] = {}
    _bytes = 0
    _settings: tuple[Any, ...] = ()

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self.drawn_by_matplotlib = renderer.draw_text
        self.measured_by_matplotlib = renderer.get_text_width_height_descent

    def measure(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
        """The renderer's text extent, remembered for every renderer of this dpi: matplotlib
        measures a text before drawing it (once per renderer), and a new stamp needs that same
        measure (measuring cost as much as rendering)."""
        key = (s, ismath, self.renderer.dpi, _font_key(prop))
        extent = self._extents.get(key)
        if extent is None:
            extent = self.measured_by_matplotlib(s, prop, ismath)
            if len(self._extents) >= self.MAX_EXTENTS:
                self._extents.clear()
            self._extents[key] = extent
        return extent

    @classmethod
    def install(cls, renderer: Any) -> None:
        """Draw this renderer's texts from stamps (once per renderer: a canvas keeps its own)."""
        import matplotlib

        settings = tuple(
            matplotlib.rcParams[k]
            for k in ("text.hinting", "text.hinting_factor", "mathtext.fontset", "mathtext.default")
        )
        if settings != cls._settings:  # stamps are made under the rcParams of the moment
            cls._stamps.clear()
            cls._extents.clear()
            cls._bytes = 0
            cls._settings = settings
        if not isinstance(getattr(renderer, "draw_text", None), TextStamps):
            stamps = cls(renderer)
            renderer.draw_text = stamps
            renderer.get_text_width_height_descent = stamps.measure

    def __call__(
        self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
        ismath: Any = False, mtext: Any = None,
    ) -> None:  # fmt: skip
        shaped = any(
            callable(getattr(mtext, name, None)) and getattr(mtext, name)() is not None
            for name in ("get_fontfeatures", "get_language")
        )
        if angle not in (0, 90) or ismath == "TeX" or shaped or not (
            math.isfinite(x) and math.isfinite(y)
        ):  # fmt: skip
            self.drawn_by_matplotlib(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            return
        aa = bool(gc.get_antialiased())
        key = (s, bool(ismath), angle, aa, self.renderer.dpi, _font_key(prop))
        stamp = self._stamps.get(key, _UNMADE)
        if stamp is _UNMADE:
            stamp = self._make(gc, s, prop, angle, ismath, mtext)
            self._store(key, stamp)
        if stamp is None:  # larger than its scratch canvas: drawn as matplotlib draws it
            self.drawn_by_matplotlib(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            return
        coverage, left, top = stamp
        if not coverage.size:
            return
        r, g, b, a = gc.get_rgb()
        image = np.empty((*coverage.shape, 4), dtype=np.uint8)
        image[..., 0] = round(r * 255)
        image[..., 1] = round(g * 255)
        image[..., 2] = round(b * 255)
        # The alpha goes into the image: `draw_image` takes the clip from its gc, not the alpha.
        image[..., 3] = coverage if a >= 1 else np.rint(coverage * a)
        placed = self.renderer.new_gc()
        placed.copy_properties(gc)
        placed.set_alpha(1.0)
        height = coverage.shape[0]
        row = round(y) + top  # y is measured from the top here (see `Text.draw`)
        self.renderer.draw_image(
            placed, round(x) + left, int(self.renderer.height) - row - height, image
        )
        placed.restore()

    def _make(
        self, gc: Any, s: str, prop: Any, angle: float, ismath: Any, mtext: Any
    ) -> tuple[np.ndarray, int, int] | None:
        """The text's coverage (0-255) as matplotlib draws it in opaque black at a whole-pixel
        origin on a transparent canvas, cropped to its ink, with the ink's offset from the
        origin; None when the ink reaches the canvas's edge (the text's extent was not enough)."""
        from matplotlib.backends.backend_agg import RendererAgg

        w, h, d = self.measure(s, prop, ismath)
        margin = math.ceil(h + d) + 4
        along, across = math.ceil(w) + 2 * margin, math.ceil(h + d) + 2 * margin
        width, height = (along, across) if angle == 0 else (across, along)
        # The origin (the point matplotlib draws the text from) leaves `margin` to every edge.
        ox, oy = (margin, across - margin) if angle == 0 else (across - margin, along - margin)
        scratch = RendererAgg(width, height, self.renderer.dpi)
        pen = scratch.new_gc()
        pen.set_foreground((0.0, 0.0, 0.0, 1.0), isRGBA=True)
        pen.set_antialiased(gc.get_antialiased())
        scratch.draw_text(pen, ox, oy, s, prop, angle, ismath=ismath, mtext=mtext)
        pen.restore()
        alpha = np.asarray(scratch.buffer_rgba())[..., 3]
        if alpha[0].any() or alpha[-1].any() or alpha[:, 0].any() or alpha[:, -1].any():
            return None
        rows = np.flatnonzero(alpha.any(axis=1))
        cols = np.flatnonzero(alpha.any(axis=0))
        if not len(rows):
            return np.zeros((0, 0), dtype=np.uint8), 0, 0
        # Bottom row first: the order `draw_image` takes an image's rows in.
        ink = alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        crop = np.ascontiguousarray(ink[::-1])
        return crop, int(cols[0]) - ox, int(rows[0]) - oy

    @classmethod
    def _store(cls, key: tuple[Any, ...], stamp: tuple[np.ndarray, int, int] | None) -> None:
        size = stamp[0].nbytes if stamp is not None else 0
        if cls._bytes + size > cls.MAX_BYTES:
            cls._stamps.clear()
            cls._bytes = 0
        cls._stamps[key] = stamp
        cls._bytes += size


# A stamp not made yet (None is a text drawn as matplotlib draws it).
_UNMADE: Any = object()


def _font_key(prop: Any) -> tuple[Any, ...]:
    """What of a FontProperties decides the glyphs drawn (its own hash is not unique)."""
    return (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
    )


def encode_png(rgba: np.ndarray, dpi: float) -> bytes:
    """An 8-bit RGBA PNG of an (height, width, 4) array: the first row unfiltered, the others
    filtered by Up, deflated at PNG_LEVEL; the resolution in a pHYs chunk (as Pillow writes
    it), no text chunk."""
    height, width, _ = rgba.shape
    pixels = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(height, -1)
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 2  # filter type Up: the byte minus the one above it, modulo 256
    rows[0, 0] = 0  # none: the first row has nothing above it
    rows[0, 1:] = pixels[0]
    np.subtract(pixels[1:], pixels[:-1], out=rows[1:, 1:])
    per_metre = int(dpi / 0.0254 + 0.5)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", deflating.compress(rows.data, PNG_LEVEL)),  # no copy
            chunk(b"IEND", b""),
        )
    )


# Fonts that draw Chinese, Japanese and Korean, in order of preference; the first installed one
# is added after the default font (matplotlib >= 3.6 falls back glyph by glyph).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)


@functools.cache
def font_families(installed: frozenset[str] | None = None) -> tuple[str, ...]:
    """The font family list for plot text: matplotlib's default sans-serif font, then the first
    installed CJK font of CJK_FONTS (none when none is installed)."""
    from matplotlib import font_manager, rcParams

    if installed is None:
        installed = frozenset(f.name for f in font_manager.fontManager.ttflist)
    default = [f for f in rcParams["font.sans-serif"] if f in installed][:1] or ["DejaVu Sans"]
    cjk = [name for name in CJK_FONTS if name in installed][:1]
    return (*default, *cjk)


# Public names for the other drawings in report/ (compare, the schedule preview), so that they
# draw in the same style without reaching for this module's private helpers.
new_figure = _figure
finite = _finite
shorten = _short
tick_label = _tick
legend_below = _legend

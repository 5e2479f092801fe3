"""Long curves are drawn from their per-pixel-column envelope (issue 15): the rendered pictures must
stay the same to the eye. Each case renders the same figure twice, reduced and with every point
(ENVELOPE_COLUMNS raised so nothing is reduced), and compares pixels, allowing only antialiasing
differences."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from logan.model import Finding, Severity
from logan.report import plots

N = 30_000


def _pixels(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype("float64")


def _unreduced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots, "ENVELOPE_COLUMNS", 10**9)


def _blur(img: np.ndarray, k: int = 2) -> np.ndarray:
    """A (2k+1)-pixel box blur: antialiasing differences spread out, a missing line does not."""
    pad = np.pad(img, ((k, k), (k, k), (0, 0)), mode="edge")
    out = np.zeros_like(img)
    for dy in range(2 * k + 1):
        for dx in range(2 * k + 1):
            out += pad[dy : dy + img.shape[0], dx : dx + img.shape[1]]
    return out / (2 * k + 1) ** 2


def _extents(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel column, the top and bottom row of ink (the image height and -1 where a column
    has none, so that neither counts as an extreme)."""
    ink = img.min(axis=2) < 200
    rows = np.arange(img.shape[0])[:, None]
    return np.where(ink, rows, img.shape[0]).min(0), np.where(ink, rows, -1).max(0)


def _curve(noisy: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(15)
    x = np.arange(1, N + 1, dtype="float64")
    if noisy:  # a raw loss: noise in every column, a few one-step spikes
        y = 2 / np.sqrt(x) + 0.05 * rng.random(N)
        y[[4000, 15001, 27777]] *= 12
    else:  # an LR that freezes mid-run: the plateau's edge must stay where it is
        y = np.where(x < 20_000, np.cos(np.pi * x / N), np.cos(np.pi * 20_000 / N))
    return x, y


@pytest.mark.parametrize("noisy", [True, False], ids=["noisy-band", "smooth-line"])
def test_envelope_keeps_every_column_extent(monkeypatch, noisy):
    x, y = _curve(noisy)

    def render() -> np.ndarray:
        fig = plots._figure(fixed=True)
        ax = fig.add_subplot()
        ax.set_axis_off()
        plots._line(ax, x, y, color="#1f77b4", lw=0.9, noisy=noisy)
        return _pixels(fig)

    reduced = render()
    _unreduced(monkeypatch)
    full = render()
    top_r, bottom_r = _extents(reduced)
    top_f, bottom_f = _extents(full)
    inked = (bottom_r >= 0).sum(), (bottom_f >= 0).sum()
    assert inked[1] > 800 and abs(inked[0] - inked[1]) <= 2
    # Every spike's tip and every column's lowest point are reached by the other picture within
    # one pixel, in the same column or a neighbour (a near-vertical edge may move by a column).
    for a, b in ((top_r, top_f), (top_f, top_r)):
        assert (_near(a, np.minimum) <= b + 1).all()
    for a, b in ((bottom_r, bottom_f), (bottom_f, bottom_r)):
        assert (_near(a, np.maximum) >= b - 1).all()
    assert np.abs(_blur(reduced) - _blur(full)).max() < 64


def _near(v: np.ndarray, pick) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Each column's value combined with its two neighbours' by `pick` (np.minimum/np.maximum)."""
    pad = np.r_[v[:1], v, v[-1:]]
    return pick(pick(pad[:-2], pad[1:-1]), pad[2:])


def test_envelope_keeps_first_last_min_max_of_each_column():
    x = np.arange(10_000, dtype="float64")
    y = np.sin(x * 0.7) + (x == 5000) * 9.0
    ex, ey = plots.envelope(x, y, columns=100)
    assert len(ex) <= 4 * 100 and ex[0] == 0 and ex[-1] == 9999
    assert ey.max() == y.max() and ey.min() == y.min() and 5000 in ex
    assert np.all(np.diff(ex) > 0)
    # Short, unsorted or non-finite curves are drawn as they are.
    for xs, ys in ((x[:400], y[:400]), (x[::-1], y), (x, np.r_[y[:-1], np.nan])):
        assert len(plots.envelope(xs, ys, columns=100)[0]) == len(xs)


def _long_result(results):  # type: ignore[no-untyped-def]
    """A real sample's result with a 30,000-step table: noisy loss with spikes, an LR that
    freezes, a slow-down in time, noisy grad_norm, and a spike finding drawn on top."""
    r = results["mmengine_fixed_e4"]
    rng = np.random.default_rng(0)
    steps = np.arange(1, N + 1)
    lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 20_000) / N))
    loss = 2 / np.sqrt(steps) + 0.05 * rng.random(N)
    loss[[7919, 15000, 23757]] *= 8
    time = 0.3 + 0.01 * rng.random(N)
    time[25_000:] += 0.1
    tags = {"lr": lr, "loss": loss, "grad_norm": 1 + 0.1 * rng.standard_normal(N), "time": time}
    proto = r.run.scalars
    table = pd.concat(
        [pd.DataFrame({"step": steps, "tag": t, "value": v}) for t, v in tags.items()],
        ignore_index=True,
    )
    for col in proto.columns:
        if col not in table:
            table[col] = proto[col].iloc[0]
    table = table[proto.columns].astype({c: t for c, t in proto.dtypes.items() if c != "tag"})
    run = dataclasses.replace(r.run, scalars=table, epoch_length=3000, sessions=r.run.sessions[:1])
    spikes = [
        {"step": 7920, "loss": float(loss[7919])},
        {"step": 23758, "loss": float(loss[23757])},
    ]
    finding = Finding(
        "LS002", "loss-spike", Severity.WARNING, "m", step=7920, end_step=23758,
        evidence={"spikes": spikes},
    )  # fmt: skip
    return dataclasses.replace(r, run=run, findings=[finding], expected=None)


@pytest.mark.parametrize("build", ["lr_figure", "loss_figure", "scalars_figure"])
def test_report_plots_of_a_long_run_look_the_same_reduced(results, monkeypatch, build):
    result = _long_result(results)
    reduced = _pixels(getattr(plots, build)(result))
    _unreduced(monkeypatch)
    full = _pixels(getattr(plots, build)(result))
    assert reduced.shape == full.shape
    diff = np.abs(_blur(reduced) - _blur(full)).max(axis=2)
    # Only the edges of the noisy bands may differ, and only by antialiasing.
    assert (diff > 32).mean() < 0.005, build
    assert diff.max() < 96, build

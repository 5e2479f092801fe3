"""Reports draw each run on the figures of the run before (issue 15), set the font through rcParams
and encode the PNG themselves: the pictures must be those the reports drew before. Each run of a
sequence chosen so that every state a figure carries changes between neighbours (log, symlog and
linear LR, NaN loss, findings or none, a twin LR axis or none, an epoch scale or none, scalar
grids of 1 to 4 panels) is drawn through the reused figures and saved by `png_bytes`, then drawn
on a fresh figure and saved the way `plots.save` did before the change (`_saved_before`, a copy);
the two decoded PNGs must be the same pixels."""

from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

import logan
from logan.model import RunResult
from logan.report import plots
from tests.conftest import SHARED

BUILDERS = (plots.lr_figure, plots.loss_figure, plots.scalars_figure)
# A public run whose LR figure, drawn after its neighbour's, once came out a rounding error apart
# (the axes' position of the run before leaked into the data limits of a span's edge).
SHARED_RUNS = SHARED / "public_logs_2" / "laziestcactus-gpt2-lora-ckpt-only" / "results"


def _saved_before(fig: Figure) -> bytes:
    """`plots.save` before issue 15: the font set on every Text, matplotlib's PNG writer."""
    families = plots.font_families()
    for text in fig.findobj(Text):
        text.set_fontfamily(families)
    buf = io.BytesIO()
    # Texts are stamps in both (their own test: test_text_stamps.py); savefig draws on this
    # renderer (same size and dpi).
    plots.TextStamps.install(fig.canvas.get_renderer())
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        fig.savefig(buf, dpi=plots.DPI, metadata={"Software": None})
    return buf.getvalue()


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGBA")).astype("float64")


def _with(
    r: RunResult, name: str, epoch_length: int | None = None, **values: np.ndarray | None
) -> RunResult:
    """`r` under another name with some tags' values replaced, added (at the loss's steps) or
    dropped (None), and another epoch length if given."""
    table = r.run.scalars.assign(tag=r.run.scalars["tag"].astype(str))
    for tag, v in values.items():
        mask = (table["tag"] == tag).to_numpy()
        if v is None:
            table = table[~mask]
        elif mask.any():
            table = table.copy()
            table.loc[mask, "value"] = np.resize(v, int(mask.sum()))
        else:
            rows = table[table["tag"] == "loss"]
            table = pd.concat([table, rows.assign(tag=tag, value=np.resize(v, len(rows)))])
    table = table.assign(tag=table["tag"].astype("category")).reset_index(drop=True)
    run = dataclasses.replace(r.run, scalars=table, path=name)
    if epoch_length is not None:
        run = dataclasses.replace(run, epoch_length=epoch_length)
    return dataclasses.replace(r, run=run)


def _sequence(results: dict[str, RunResult]) -> list[RunResult]:
    fixed = results["mmengine_fixed_e4"]
    decay = 1e-2 * 0.9 ** np.arange(130)
    return [
        results["mmengine_loss_spikes"],  # no epochs; spikes; a 3-panel grid with grad_norm
        results["mmengine_plateau_e4"],  # configured and intended curves, LR finding, epochs
        # Its grid after the plateau's: a legend row more (the axes moved) and a slow-down span.
        results["mmengine_throughput_drop"],
        _with(fixed, "exp-lr", lr=decay, epoch_length=16),  # log LR; another epoch length
        results["mmengine_nan_high_lr"],  # NaN loss marked on top, log loss axis
        _with(fixed, "symlog-lr", lr=np.r_[decay, np.zeros(30)]),
        _with(  # a slow-down span on a 4-panel grid
            results["mmengine_throughput_drop"],
            "four-panels",
            grad_norm=np.linspace(1, 2, 7),
            memory=np.full(3, 2e4),
        ),  # fmt: skip
        _with(fixed, "no-lr", lr=None, time=None),  # no finding, no LR, no twin; one panel
    ]


def _shared_sequence() -> list[RunResult]:
    if not SHARED_RUNS.exists():
        pytest.skip(f"{SHARED_RUNS} not present")
    names = ("checkpoint-7500", "checkpoint-872", "checkpoint-500")
    return list(logan.analyze([SHARED_RUNS / n for n in names]).results)


def _assert_same_pictures(sequence: list[RunResult]) -> int:
    compared = 0
    for r in sequence:
        for build in BUILDERS:
            with np.errstate(over="ignore", invalid="ignore"):
                reused = build(r, reuse=True)
                if reused is None:
                    assert build(r) is None
                    continue
                now = _pixels(plots.png_bytes(reused))
                before = _pixels(_saved_before(build(r)))
            assert now.shape == before.shape, (r.run.path, build.__name__)
            # Exactly: one pixel off is state left over from the run before (a rounding error in
            # the limits moved an edge by a pixel when the axes' old position leaked).
            differ = np.abs(now - before).max(axis=2) > 0
            assert not differ.any(), (r.run.path, build.__name__, int(differ.sum()))
            compared += 1
    return compared


def test_reused_figures_draw_the_pictures_of_fresh_ones(results):
    assert _assert_same_pictures(_sequence(results)) == 23


def test_reused_figures_draw_real_public_runs_as_before():
    assert _assert_same_pictures(_shared_sequence()) >= 6


def test_layouts_differ_by_what_their_axes_hold(results):
    spikes, plateau, _, exp, *_, four, no_lr = _sequence(results)
    lr = plots.lr_figure(plateau, reuse=True)
    assert plots.lr_figure(exp, reuse=True) is lr  # the same layout: the same figure
    assert plots.lr_figure(spikes, reuse=True) is not lr  # no epoch scale
    assert plots.loss_figure(plateau, reuse=True) is not plots.loss_figure(no_lr, reuse=True)
    assert len(plots.loss_figure(no_lr, reuse=True).axes) == 1
    grids = [plots.scalars_figure(r, reuse=True) for r in (no_lr, plateau, spikes, four)]
    assert [len(g.axes) for g in grids] == [1, 2, 3, 4]
    # Without `reuse` every call builds its own figure.
    assert plots.lr_figure(plateau) is not plots.lr_figure(plateau)


def test_plot_text_is_set_in_the_fallback_fonts(results):
    fig = plots.loss_figure(results["mmengine_plateau_e4"], reuse=True)
    png = plots.png_bytes(fig)  # tick labels are made while drawing
    families = list(plots.font_families())
    texts = fig.findobj(Text)
    assert len(texts) > 20 and all(t.get_fontfamily() == families for t in texts if t.get_text())
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (1200, 690) and im.mode == "RGBA"
        assert [round(d) for d in im.info["dpi"]] == [plots.DPI, plots.DPI]
        assert not {k for k in im.info if k != "dpi"}  # no text chunk, no software version


def test_png_encoder_round_trips_any_pixels():
    rng = np.random.default_rng(15)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)  # every Up difference wraps
    rgba[5:9] = 255  # and runs of white, as on a plot
    with Image.open(io.BytesIO(plots.encode_png(rgba, 150))) as im:
        assert im.mode == "RGBA" and (np.asarray(im) == rgba).all()


def test_png_encoder_without_zlib_ng_writes_the_same_pixels(monkeypatch):
    """Where zlib-ng is not installed the standard zlib deflates the rows: the same format."""
    import zlib

    rng = np.random.default_rng(16)
    rgba = rng.integers(0, 256, size=(21, 34, 4), dtype=np.uint8)
    fast = plots.encode_png(rgba, 150)
    monkeypatch.setattr(plots, "deflating", zlib)
    plain = plots.encode_png(rgba, 150)
    for png in (fast, plain):
        with Image.open(io.BytesIO(png)) as im:
            assert (np.asarray(im) == rgba).all()

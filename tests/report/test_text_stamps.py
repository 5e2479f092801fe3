"""Report texts are drawn from stamps (`plots.TextStamps`, issue 15): a text is rendered once by
matplotlib and composited wherever it is drawn again. Checked against matplotlib drawing the same
texts itself: at whole-pixel positions the pixels agree to compositing's rounding; elsewhere a text
moves by less than half a pixel; clip boxes and alpha are honoured; whole report figures differ
only inside their texts' boxes."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Bbox
from PIL import Image

from logan.report import plots

WIDTH, HEIGHT = 420, 260
# (text, font size, weight, angle, mathtext, colour): what the reports draw - tick labels, axis
# labels turned by 90 degrees, bold finding codes, log-scale mathtext, a translucent colour.
TEXTS = [
    ("0.0004", 10, "normal", 0, False, (0.0, 0.0, 0.0, 1.0)),
    ("learning rate (log scale)", 10, "normal", 90, False, (0.0, 0.0, 0.0, 1.0)),
    (" LR001", 8, "bold", 0, False, (0.84, 0.15, 0.16, 1.0)),
    (r"$\mathdefault{10^{-3}}$", 10, "normal", 0, True, (0.0, 0.0, 0.0, 1.0)),
    ("Loss: work_dirs/é_run", 10, "normal", 0, False, (0.12, 0.47, 0.71, 0.45)),
    ("s / iter", 8, "normal", 90, False, (1.0, 0.5, 0.05, 1.0)),
]


def _canvas(stamps: bool) -> RendererAgg:
    """A white canvas, as a figure's: translucent text is blended over opaque pixels."""
    renderer = RendererAgg(WIDTH, HEIGHT, plots.DPI)
    gc = renderer.new_gc()
    gc.set_linewidth(0)
    renderer.draw_path(gc, Path.unit_rectangle(), Affine2D().scale(WIDTH, HEIGHT), (1, 1, 1, 1))
    gc.restore()
    if stamps:
        plots.TextStamps.install(renderer)
    return renderer


def _draw(renderer: RendererAgg, spec: tuple, x: float, y: float, clip: Bbox | None = None) -> None:
    s, size, weight, angle, ismath, color = spec
    gc = renderer.new_gc()
    gc.set_foreground(color, isRGBA=True)
    gc.set_alpha(None)
    if clip is not None:
        gc.set_clip_rectangle(clip)
    prop = FontProperties(family=list(plots.font_families()), size=size, weight=weight)
    renderer.draw_text(gc, x, y, s, prop, angle, ismath=ismath)
    gc.restore()


def _pixels(renderer: RendererAgg) -> np.ndarray:
    return np.asarray(renderer.buffer_rgba()).astype("int16")


def _ink_centre(pixels: np.ndarray) -> np.ndarray:
    ink = 255.0 - pixels[..., :3].min(axis=2)
    rows, cols = np.indices(ink.shape)
    return np.array([(rows * ink).sum(), (cols * ink).sum()]) / ink.sum()


@pytest.mark.parametrize("spec", TEXTS, ids=[t[0] for t in TEXTS])
def test_a_stamp_is_the_text_matplotlib_draws_at_a_whole_pixel(spec):
    plain = _canvas(stamps=False)
    _draw(plain, spec, 60, 180)
    stamped = _canvas(stamps=True)
    _draw(stamped, spec, 60, 180)  # the stamp is made ...
    once = _pixels(stamped)
    _draw(stamped, spec, 60, 180)  # ... and drawn from again, on top: translucent ink darkens
    expected, drawn = _pixels(plain), once
    assert (expected[..., :3] < 255).any()
    assert np.abs(expected - drawn).max() <= 2
    again = _canvas(stamps=True)
    _draw(again, spec, 60, 180)  # a canvas of its own, the stamp from before
    assert np.array_equal(_pixels(again), once)


# matplotlib >= 3.11 places text to 1/64 pixel: a stamp on whole pixels is less than half a
# pixel away. Before, matplotlib rounded the position plus the text's descent, and a stamp
# rounds the position alone: they may differ by one pixel.
SUBPIXEL_TEXT = tuple(int(v) for v in matplotlib.__version__.split(".")[:2]) >= (3, 11)


@pytest.mark.parametrize("spec", TEXTS, ids=[t[0] for t in TEXTS])
def test_a_stamp_moves_a_text_by_less_than_half_a_pixel(spec):
    plain = _canvas(stamps=False)
    _draw(plain, spec, 60.3, 179.6)
    stamped = _canvas(stamps=True)
    _draw(stamped, spec, 60.3, 179.6)
    shift = _ink_centre(_pixels(stamped)) - _ink_centre(_pixels(plain))
    assert np.abs(shift).max() < (0.6 if SUBPIXEL_TEXT else 1.01), shift


def test_a_stamp_keeps_to_the_clip_box():
    spec = TEXTS[4]
    clip = Bbox.from_extents(90, 0, 150, HEIGHT)  # cuts the title in its middle
    plain = _canvas(stamps=False)
    _draw(plain, spec, 60, 180, clip)
    stamped = _canvas(stamps=True)
    _draw(stamped, spec, 60, 180, clip)
    drawn = _pixels(stamped)
    assert (drawn[:, :89, :3] == 255).all() and (drawn[:, 151:, :3] == 255).all()
    assert (drawn[:, 90:150, :3] < 255).any()
    assert np.abs(_pixels(plain) - drawn).max() <= 2


def test_other_angles_are_drawn_by_matplotlib_itself():
    spec = ("tilted", 10, "normal", 30, False, (0.0, 0.0, 0.0, 1.0))
    plain, stamped = _canvas(stamps=False), _canvas(stamps=True)
    _draw(plain, spec, 60.3, 179.6)
    _draw(stamped, spec, 60.3, 179.6)
    assert np.array_equal(_pixels(plain), _pixels(stamped))


def test_stamps_are_made_again_when_the_text_settings_change():
    spec = TEXTS[0]
    _draw(_canvas(stamps=True), spec, 60, 180)
    assert plots.TextStamps._stamps
    with matplotlib.rc_context({"text.hinting": "none"}):
        renderer = _canvas(stamps=True)  # installing under other settings forgets the stamps
        assert not plots.TextStamps._stamps
        _draw(renderer, spec, 60, 180)
        plain = _canvas(stamps=False)
        _draw(plain, spec, 60, 180)
        assert np.abs(_pixels(plain) - _pixels(renderer)).max() <= 2


def _png_pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGBA")).astype("int16")


def test_report_figures_differ_from_matplotlibs_only_inside_their_texts(results, monkeypatch):
    """Every pixel outside the texts' boxes is matplotlib's own; inside them the same words."""
    compared = 0
    for name in ("mmengine_plateau_e4", "mmengine_fixed_e4"):
        for build in (plots.lr_figure, plots.loss_figure, plots.scalars_figure):
            stamped = build(results[name])
            if stamped is None:
                continue
            with_stamps = _png_pixels(plots.png_bytes(stamped))
            with monkeypatch.context() as m:
                m.setattr(plots.TextStamps, "install", classmethod(lambda cls, renderer: None))
                fig = build(results[name])
                without = _png_pixels(plots.png_bytes(fig))
            height = without.shape[0]
            inside = np.zeros(without.shape[:2], dtype=bool)
            renderer = fig.canvas.get_renderer()
            with plots.styled():
                for text in fig.findobj(Text):
                    if not text.get_visible() or not text.get_text():
                        continue
                    box = text.get_window_extent(renderer)
                    top = height - int(np.ceil(box.y1)) - 2
                    bottom = height - int(box.y0) + 2
                    left, right = max(int(box.x0) - 2, 0), int(box.x1) + 3
                    inside[max(top, 0) : max(bottom, 0), left:right] = True
            differ = np.abs(with_stamps - without).max(axis=2) > 0
            assert differ.any()  # texts moved to whole pixels: the test can see a difference
            assert not (differ & ~inside).any(), (name, build.__name__)
            compared += 1
    assert compared >= 5


def test_a_text_is_measured_once_for_every_renderer_of_its_dpi(monkeypatch):
    measured = []
    original = RendererAgg.get_text_width_height_descent

    def counted(self, s, prop, ismath):  # type: ignore[no-untyped-def]
        measured.append(s)
        return original(self, s, prop, ismath)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counted)
    prop = FontProperties(family=list(plots.font_families()), size=10)
    text = "a text measured once: 0.000123"
    first, second = _canvas(stamps=True), _canvas(stamps=True)
    extent = first.get_text_width_height_descent(text, prop, ismath=False)
    assert second.get_text_width_height_descent(text, prop, ismath=False) == extent
    assert measured.count(text) == 1
    assert extent == original(_canvas(stamps=False), text, prop, False)

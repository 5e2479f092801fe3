"""`logan compare`: overlays of the buggy and the fixed run, findings side by side, safe HTML."""

from __future__ import annotations

from logan.report.compare import overlay_figure, write_compare
from tests.report.test_html import assert_safe


def test_overlay_has_one_line_per_run_and_a_legend_below(results):
    pair = [results["mmengine_plateau_e4"], results["mmengine_fixed_e4"]]
    fig = overlay_figure(pair, "lr", "learning rate")
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == [r.run.path for r in pair]
    assert ax.get_yscale() == "linear" and ax.get_legend() is None
    (legend,) = fig.legends
    assert len(legend.get_texts()) == 2
    # The buggy run ends on its plateau, the fixed one near zero.
    ends = [ln.get_ydata()[-1] for ln in ax.get_lines()]
    assert ends[0] > 8e-5 > 1e-6 > ends[1]


def test_write_compare_outputs(results, tmp_path):
    pair = [results["mmengine_plateau_e4"], results["mmengine_fixed_e4"]]
    written = write_compare(pair, tmp_path)
    assert set(written) == {"markdown", "html", "lr", "loss"}
    md = written["markdown"].read_text()
    assert "| LR001 |" in md and md.count("## ") == 2 and "No findings." in md
    assert "![lr](lr_compare.png)" in md and "![loss](loss_compare.png)" in md
    page = assert_safe(written["html"].read_text())
    assert len([a for t, a in page.tags if t == "img"]) == 2
    ids = [a["id"] for t, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids)) == 1

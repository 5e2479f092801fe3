"""`logan compare`: several runs on one set of axes (e.g. the buggy run and its fix), with their
findings side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from logan.model import RunResult
from logan.report import html, markdown, plots
from logan.report.files import write_file, write_png


@plots.drawing
def overlay_figure(results: list[RunResult], tag: str, ylabel: str) -> Figure | None:
    """One line per run for `tag` (the loss smoothed with a rolling median)."""
    fig = plots.new_figure()
    ax = fig.add_subplot()
    drawn = 0
    for r in results:
        s = r.run.series(tag)
        s = plots.finite(s)
        if s.empty:
            continue
        if tag != "lr" and len(s) >= 5:
            s = plots.smooth(s)
        ax.plot(s.index, s.to_numpy(), lw=1.5, label=plots.plain(plots.shorten(r.run.path, 50)))
        drawn += 1
    if not drawn:
        return None
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel}: {drawn} runs", fontsize=10)
    ax.grid(alpha=0.3)
    values = np.concatenate([np.asarray(ln.get_ydata(), dtype="float64") for ln in ax.get_lines()])
    scale = plots.lr_scale(values) if tag == "lr" else plots.loss_scale(values)
    if scale != "linear":
        ax.set_yscale(scale)
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(plots.tick_label))
    plots.legend_below(fig, [ax])
    return fig


def write_compare(results: list[RunResult], out: Path) -> dict[str, Path]:
    """compare.md, compare.html and the overlay PNGs in `out` (never through a link in it)."""
    out.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    for tag, label in (("lr", "learning rate"), ("loss", "loss (rolling median)")):
        with np.errstate(over="ignore", invalid="ignore"):  # axes near 1e308: see files.py
            fig = overlay_figure(results, tag, label)
        if fig is not None:
            images[tag] = out / f"{tag}_compare.png"
            write_png(fig, images[tag])
    codes = sorted({f.code for r in results for f in r.findings})
    head = "| run | producer | steps | " + " | ".join(codes) + " |"
    rows = [head, "|" + "---|" * (3 + len(codes))]
    for r in results:
        have = {f.code: f.severity.value for f in r.findings}
        cells = [have.get(c, "") for c in codes]
        rows.append(
            f"| {markdown.esc(r.run.path)} | {markdown.esc(r.run.producer)} | "
            f"{r.run.last_step or 0} | " + " | ".join(cells) + " |"
        )
    md = ["# logan compare", "", *rows, ""]
    for r in results:
        md += [f"## {markdown.esc(r.run.path)}", ""]
        md += [f"- **{markdown.esc(f.code)}** {markdown.prose(f.message)}" for f in r.findings] or [
            "No findings."
        ]
        md.append("")
    md += [f"![{name}]({p.name})\n" for name, p in images.items()]
    write_file(out / "compare.md", "\n".join(md) + "\n")
    body = ["<h1>logan compare</h1>", "<table><tr><th>run</th>"]
    body += [f"<th>{html.esc(c)}</th>" for c in codes] + ["</tr>"]
    for r in results:
        have = {f.code: f.severity.value for f in r.findings}
        body.append(f"<tr><td>{html.esc(r.run.path)}</td>")
        body += [f'<td class="{have.get(c, "")}">{html.esc(have.get(c, ""))}</td>' for c in codes]
        body.append("</tr>")
    body.append("</table>")
    body += [html.image(p, name) for name, p in images.items()]
    for k, r in enumerate(results):
        body.append(html.run_body(r, {}, level=2, anchor_prefix=f"run{k}-"))
    write_file(out / "compare.html", html.page("logan compare", "\n".join(body)))
    return {"markdown": out / "compare.md", "html": out / "compare.html", **images}

"""A self-contained HTML report: one file, plots embedded as data URIs, inline CSS, no script and
no external fetch (a Content-Security-Policy says so to the browser), so it opens offline and can
be attached anywhere.

Every string from logs or paths goes through `html.escape`; only this module writes tags.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from logan import __version__
from logan.model import Analysis, Finding, RunResult, Severity
from logan.report.common import (
    NO_TRAINING,
    OK,
    PLOT_TITLES,
    expected_text,
    number,
    status,
    summary,
    where,
    worst_first,
)

CSS = """
:root{color-scheme:light}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1100px;color:#1f2328;padding:0 16px;background:#fff}
h1{font-size:22px;margin:0 0 12px;word-break:break-all} h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:22px 0 6px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f6f8fa;font-weight:600}
table.meta th{width:160px} td{word-break:break-word}
table.findings td:nth-child(-n+3){white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
color:#fff} .badge.error{background:#b42318} .badge.warning{background:#b54708}
.badge.info{background:#175cd3} .badge.ok{background:#067647}
.badge.none{background:#667085}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow:auto;font-size:12px}
code{background:#eff1f3;border-radius:4px;padding:0 3px;font-size:90%}
.add{color:#067647} .del{color:#b42318} .hunk{color:#6639ba}
figure{margin:12px 0} figcaption{color:#667085;font-size:12px}
img{max-width:100%;height:auto;border:1px solid #eaecf0}
.muted{color:#667085} details{margin:6px 0} summary{cursor:pointer;color:#0969da}
footer{margin-top:32px;color:#667085;font-size:12px}
"""
# Raster plots are embedded; anything else could fetch or run something.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def prose(text: object) -> str:
    """`backticked` parts as <code>, the rest escaped (both from the same escaped string)."""
    parts = str(text).split("`")
    if len(parts) < 3 or len(parts) % 2 == 0:
        return esc(text)
    return "".join(esc(p) if i % 2 == 0 else f"<code>{esc(p)}</code>" for i, p in enumerate(parts))


def _num(x: Any) -> str:
    if isinstance(x, dict):
        return "; ".join(f"{k}: {_num(v)}" for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return ", ".join(_num(v) for v in x)
    return number(x)


def _badge(sev: Severity | None) -> str:
    name = sev.value if sev else OK
    return f'<span class="badge {name}">{name}</span>'


def _status_badge(result: RunResult) -> str:
    """The same word the text and Markdown reports use: a severity, 'ok' or 'no training
    scalars' (grey: nothing was checked, so it is not green)."""
    word = status(result)
    css = "none" if word == NO_TRAINING else word
    return f'<span class="badge {css}">{esc(word)}</span>'


def _diff(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            cls = "muted"
        elif line.startswith("@@"):
            cls = "hunk"
        else:
            cls = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        lines.append(f'<span class="{cls}">{esc(line)}</span>' if cls else esc(line))
    return "<pre>" + "\n".join(lines) + "</pre>"


def image(path: Path, alt: str, png: bytes | None = None) -> str:
    """A PNG embedded as a data URI, with its caption (`png`: its bytes, when just written)."""
    data = base64.b64encode(path.read_bytes() if png is None else png).decode("ascii")
    title = PLOT_TITLES.get(alt, alt)
    return (
        f'<figure><img alt="{esc(title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(title)} ({esc(path.name)})</figcaption></figure>"
    )


def _records(key: str, records: list[dict[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in records for k in r))
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(_num(r.get(c, '')))}</td>" for c in cols) + "</tr>"
        for r in records
    )
    return (
        f"<details><summary>{esc(key)} ({len(records)})</summary>"
        f"<table><tr>{head}</tr>{rows}</table></details>"
    )


def _finding(f: Finding, anchor: str) -> list[str]:
    parts = [
        f'<h3 id="{esc(anchor)}">{esc(f.code)} {esc(f.name)} {_badge(f.severity)}</h3>',
        f"<p>{prose(f.message)}</p>",
    ]
    if where(f):
        parts.append(f"<p><b>Where:</b> {esc(where(f))}</p>")
    if f.evidence.get("cause"):
        parts.append(f"<p><b>Cause:</b> {prose(f.evidence['cause'])}</p>")
    if f.hint:
        parts.append(f"<p><b>Hint:</b> {prose(f.hint)}</p>")
    if f.evidence.get("fix"):
        parts.append("<p><b>Fix:</b></p>" + _diff(str(f.evidence["fix"])))
    ev = {k: v for k, v in f.evidence.items() if k not in ("cause", "fix", "skipped")}
    records = {k: v for k, v in ev.items() if isinstance(v, list) and v and all(
        isinstance(x, dict) for x in v
    )}  # fmt: skip
    scalars = {k: v for k, v in ev.items() if k not in records}
    if scalars:
        parts.append("<details><summary>Evidence</summary><table>")
        parts += [f"<tr><th>{esc(k)}</th><td>{esc(_num(v))}</td></tr>" for k, v in scalars.items()]
        parts.append("</table></details>")
    parts += [_records(k, v) for k, v in records.items()]
    if f.evidence.get("skipped"):
        items = "".join(
            f"<li>{esc(s.get('path', ''))} {esc(s.get('where', ''))}: "
            f"{esc(s.get('reason', ''))}</li>"
            for s in f.evidence["skipped"]
            if isinstance(s, dict)
        )
        parts.append(f"<details><summary>Skipped input</summary><ul>{items}</ul></details>")
    return parts


def run_body(
    result: RunResult,
    images: dict[str, Path],
    level: int = 1,
    anchor_prefix: str = "",
    pngs: dict[str, bytes] | None = None,
    name: str | None = None,
) -> str:
    """The HTML body of one run's report (also used by compare, one heading level down, with an
    anchor prefix per run so that links stay unique on one page). `pngs` holds the bytes of
    images just written, so they are not read back from disk."""
    run = result.run
    epochs = f"{run.max_epochs or 'unknown'}"
    if run.epoch_length:
        epochs += f" x {run.epoch_length} iterations"
    config = (
        f"found: {Path(run.config_path.replace(chr(92), '/')).name}"
        if run.config_path
        else "not found"
    )
    rows: list[tuple[str, object]] = [
        ("run", name or run.path),
        ("producer", run.producer),
        ("steps", run.last_step if run.last_step is not None else "none"),
        ("epochs", epochs),
        ("sessions", len(run.sessions)),
        ("config", config),
        ("expected schedule", expected_text(result)),
        ("sources", ", ".join(run.sources) or "none"),
    ]
    if run.skipped:
        rows.append(("skipped input", f"{len(run.skipped)} record(s)"))
    h = f"h{level}"
    parts = [
        f"<{h}>logan report: {esc(name or run.path)} {_status_badge(result)}</{h}>",
        '<table class="meta">',
    ]
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if run.last_step is None:  # no training rows (also known to a slimmed run)
        parts.append('<p class="muted">No training scalars were found in this run.</p>')
    anchors = [f"{anchor_prefix}{f.code}-{i}" for i, f in enumerate(result.findings)]
    if not result.findings:
        if run.last_step is not None:  # with no training scalars, "ok" would say too much
            parts.append(f"<p>{_badge(None)} No findings.</p>")
    else:
        parts.append(
            '<h2>Findings</h2><table class="findings"><tr><th>code</th><th>severity</th>'
            "<th>where</th><th>message</th></tr>"
        )
        for f, a in zip(result.findings, anchors, strict=True):
            parts.append(
                f'<tr><td><a href="#{esc(a)}">{esc(f.code)}</a> {esc(f.name)}</td>'
                f"<td>{_badge(f.severity)}</td><td>{esc(where(f) or '-')}</td>"
                f"<td>{prose(f.message)}</td></tr>"
            )
        parts.append("</table>")
        for f, a in zip(result.findings, anchors, strict=True):
            parts += _finding(f, a)
    if images:
        parts.append("<h2>Plots</h2>")
        parts += [image(p, key, (pngs or {}).get(key)) for key, p in images.items()]
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n"
        f"<footer>logan {esc(__version__)}: a self-contained report (no script, no external "
        "resources).</footer>\n</body></html>\n"
    )


def run_html(
    result: RunResult,
    images: dict[str, Path],
    pngs: dict[str, bytes] | None = None,
    name: str | None = None,
) -> str:
    return page(f"logan: {name or result.run.path}", run_body(result, images, pngs=pngs, name=name))


def index_html(
    analysis: Analysis,
    links: dict[int, str],
    order: list[int] | None = None,
    names: dict[int, str] | None = None,
) -> str:
    """Every run, worst first, each linking its report.html."""
    rows = []
    for i in order if order is not None else worst_first(analysis):
        r = analysis.results[i]
        codes = ", ".join(f.code for f in r.findings) or "none"
        label = esc((names or {}).get(i, r.run.path))
        name = f'<a href="{esc(links[i])}">{label}</a>' if i in links else label
        rows.append(
            f"<tr><td>{name}</td><td>{esc(r.run.producer)}</td><td>{r.run.last_step or 0}</td>"
            f"<td>{_status_badge(r)}</td><td>{esc(codes)}</td></tr>"
        )
    body = [
        "<h1>logan: runs</h1>",
        f"<p>{esc(summary(analysis))}.</p>",
        "<table><tr><th>run</th><th>producer</th><th>steps</th><th>status</th><th>findings</th>"
        "</tr>",
        *rows,
        "</table>",
    ]
    if analysis.problems:
        body.append("<h2>Problems</h2><ul>")
        body += [f"<li>{esc(p.path)}: {esc(p.message)}</li>" for p in analysis.problems]
        body.append("</ul>")
    return page("logan: runs", "\n".join(body))

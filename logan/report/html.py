"""A self-contained HTML report: one file, plots embedded as data URIs, inline CSS, no script and
no external fetch, so it opens offline and can be attached anywhere.

Every string from logs or paths goes through `html.escape`.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from logan.model import Analysis, RunResult

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1100px;color:#1f2328;padding:0 16px}
h1{font-size:22px;margin:0 0 12px} h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f6f8fa}
.error{color:#b42318;font-weight:600} .warning{color:#b54708;font-weight:600}
.info{color:#175cd3;font-weight:600} .ok{color:#067647;font-weight:600}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow:auto;font-size:12px}
.add{color:#067647} .del{color:#b42318}
img{max-width:100%;border:1px solid #eaecf0;margin:6px 0}
.muted{color:#667085}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _diff(text: str) -> str:
    lines = []
    for line in text.splitlines():
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        lines.append(f'<span class="{cls}">{esc(line)}</span>' if cls else esc(line))
    return "<pre>" + "\n".join(lines) + "</pre>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def run_body(result: RunResult, images: dict[str, Path]) -> str:
    """The HTML body of one run's report (also used by compare)."""
    run = result.run
    rows = [
        ("producer", run.producer),
        ("last step", run.last_step if run.last_step is not None else "none"),
        ("epochs", f"{run.max_epochs or 'unknown'} (epoch length {run.epoch_length or 'unknown'})"),
        ("sessions", len(run.sessions)),
        ("sources", ", ".join(run.sources) or "none"),
        ("config", Path(run.config_path).name if run.config_path else "not found"),
    ]
    parts = [f"<h1>logan report: {esc(run.path)}</h1>", "<table>"]
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if run.train_scalars().empty:
        parts.append('<p class="muted">No training scalars were found in this run.</p>')
    if not result.findings:
        parts.append('<p class="ok">No findings.</p>')
    else:
        parts.append(
            "<h2>Findings</h2><table><tr><th>code</th><th>severity</th><th>message</th></tr>"
        )
        for f in result.findings:
            sev = f.severity.value
            parts.append(
                f'<tr><td>{esc(f.code)} {esc(f.name)}</td><td class="{sev}">{sev}</td>'
                f"<td>{esc(f.message)}</td></tr>"
            )
        parts.append("</table>")
        for f in result.findings:
            parts.append(
                f'<h3>{esc(f.code)} {esc(f.name)} <span class="{f.severity.value}">'
                f"{f.severity.value}</span></h3><p>{esc(f.message)}</p>"
            )
            if f.evidence.get("cause"):
                parts.append(f"<p><b>Cause:</b> {esc(f.evidence['cause'])}</p>")
            if f.hint:
                parts.append(f"<p><b>Hint:</b> {esc(f.hint)}</p>")
            if f.evidence.get("fix"):
                parts.append("<p><b>Fix:</b></p>" + _diff(str(f.evidence["fix"])))
            ev = {k: v for k, v in f.evidence.items() if k not in ("cause", "fix", "skipped")}
            if ev:
                parts.append("<details><summary>Evidence</summary><table>")
                parts += [
                    f"<tr><th>{esc(k)}</th><td>{esc(_num(v))}</td></tr>" for k, v in ev.items()
                ]
                parts.append("</table></details>")
            if f.evidence.get("skipped"):
                items = "".join(
                    f"<li>{esc(s['path'])} {esc(s['where'])}: {esc(s['reason'])}</li>"
                    for s in f.evidence["skipped"]
                )
                parts.append(f"<details><summary>Skipped input</summary><ul>{items}</ul></details>")
    if images:
        parts.append("<h2>Plots</h2>")
        parts += [_image(p, name) for name, p in images.items()]
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def run_html(result: RunResult, images: dict[str, Path]) -> str:
    return page(f"logan: {result.run.path}", run_body(result, images))


def index_html(analysis: Analysis, links: dict[int, str], order: list[int]) -> str:
    rows = []
    for i in order:
        r = analysis.results[i]
        worst = (
            max(r.findings, key=lambda f: f.severity.rank).severity.value if r.findings else "ok"
        )
        codes = ", ".join(f.code for f in r.findings) or "none"
        name = f'<a href="{esc(links[i])}">{esc(r.run.path)}</a>' if i in links else esc(r.run.path)
        rows.append(
            f"<tr><td>{name}</td><td>{esc(r.run.producer)}</td><td>{r.run.last_step or 0}</td>"
            f'<td class="{worst}">{esc(codes)}</td></tr>'
        )
    body = [
        "<h1>logan: runs</h1>",
        "<table><tr><th>run</th><th>producer</th><th>steps</th><th>findings</th></tr>",
        *rows,
        "</table>",
    ]
    if analysis.problems:
        body.append("<h2>Problems</h2><ul>")
        body += [f"<li>{esc(p.path)}: {esc(p.message)}</li>" for p in analysis.problems]
        body.append("</ul>")
    return page("logan: runs", "\n".join(body))

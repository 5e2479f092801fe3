"""Markdown reports people paste into a GitHub issue as they are: a key/value header, the findings
table, each finding with its cause, hint and fix (long evidence folded into `<details>`), and the
plots either as images under `image_base_url` (CI artifacts, a bucket, a wiki) or as a note
naming the PNGs to attach, never as a link that breaks once pasted; an index for many runs.

Everything that comes from logs or paths is escaped (no HTML tag, no link, no autolink can come out
of a run name), and a report longer than GitHub's limit is trimmed, saying so.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from logan import __version__
from logan.model import Analysis, Finding, RunResult, Severity
from logan.report.common import (
    EPOCHS_UNKNOWN,
    PLOT_TITLES,
    counts,
    epochs,
    expected_text,
    number,
    status,
    summary,
    where,
    worst,
    worst_first,
)

# GitHub rejects issue bodies over 65,536 characters; keep a margin for the user's own words.
GITHUB_LIMIT = 60_000
# Evidence tables longer than this go into a <details> block.
DETAILS_ROWS = 6
# Sources listed in the header; a longer list is given in full in a <details> block below it.
SHOWN_SOURCES = 5
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
# GitHub turns `http://`, `www.` and `a@b.c` into links even in plain text; an entity for the
# trigger character keeps the text identical on screen but stops the autolinker.
_AUTOLINK = (
    (re.compile(r":(?=//)"), "&#58;"),
    (re.compile(r"@"), "&#64;"),
    (re.compile(r"(?i)\bw(?=ww\.)"), lambda m: f"&#{ord(m.group(0))};"),
)


def esc(text: object) -> str:
    """Escape text for Markdown: HTML-significant characters, Markdown punctuation, autolinks."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    for pattern, repl in _AUTOLINK:
        s = pattern.sub(repl, s)  # type: ignore[arg-type]
    return s.replace("\r", " ").replace("\n", " ")


def _code_span(text: str, table: bool) -> str:
    body = text.replace("\r", " ").replace("\n", " ")
    if table:
        body = body.replace("|", "\\|")
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"`{pad}{body}{pad}`"


def prose(text: object, table: bool = False) -> str:
    """Messages, causes and hints: `backticked` parts become code spans (literal by definition in
    Markdown, so still safe), everything else is escaped."""
    s = str(text)
    parts = s.split("`")
    if len(parts) < 3 or len(parts) % 2 == 0:
        return esc(s)
    return "".join(
        esc(p) if i % 2 == 0 else _code_span(p, table) if p else "" for i, p in enumerate(parts)
    )


def fence(text: str, lang: str = "") -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _header(result: RunResult, name: str) -> list[str]:
    """A key/value table (a header row of its own, so the run is not shown as a bold header)."""
    run = result.run
    epochs = "unknown (not stated by the logs or config)"
    if run.max_epochs:
        epochs = f"{run.max_epochs}"
        if run.epoch_length:
            epochs += f" x {run.epoch_length} iterations"
    config = (
        f"found: {esc(run.config_path.replace(chr(92), '/').rsplit('/', 1)[-1])}"
        if run.config_path
        else "not found"
    )
    sources = [esc(s) for s in run.sources]
    shown = ", ".join(sources[:SHOWN_SOURCES]) or "none"
    if len(sources) > SHOWN_SOURCES:
        shown += f" and {len(sources) - SHOWN_SOURCES} more"
    lines = [
        f"# logan report: {esc(name)}",
        "",
        "| field | value |",
        "|---|---|",
        f"| run | {esc(name)} |",
        f"| producer | {esc(run.producer)} |",
        f"| steps | {run.last_step if run.last_step is not None else 'none'} |",
        f"| epochs | {epochs} |",
        f"| sessions | {len(run.sessions)} |",
        f"| config | {config} |",
        f"| expected schedule | {esc(expected_text(result))} |",
        f"| sources | {shown} |",
    ]
    if run.skipped:
        lines.append(f"| skipped input | {len(run.skipped)} record(s) |")
    lines += [f"| findings | {counts(result.findings)} |", ""]
    if len(sources) > SHOWN_SOURCES:
        lines += _details(f"Sources ({len(sources)})", [f"- {s}" for s in sources])
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{esc(k)}: {esc(number(v))}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(esc(number(v)) for v in value)
    return esc(number(value))


def _evidence(f: Finding) -> list[str]:
    """Scalar evidence as one key/value table; lists of records (spikes, ...) as their own table."""
    ev = {k: v for k, v in f.evidence.items() if k not in ("cause", "fix", "skipped")}
    scalars = {k: v for k, v in ev.items() if not _is_records(v)}
    lines: list[str] = []
    if scalars:
        rows = ["| evidence | value |", "|---|---|"]
        rows += [f"| {esc(k)} | {_cell(v)} |" for k, v in scalars.items()]
        lines += _details("Evidence", rows) if len(rows) > DETAILS_ROWS + 2 else [*rows, ""]
    for key, records in ev.items():
        if not _is_records(records):
            continue
        cols = list(dict.fromkeys(k for r in records for k in r))
        rows = ["| " + " | ".join(esc(c) for c in cols) + " |", "|" + "---|" * len(cols)]
        rows += ["| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |" for r in records]
        lines += _details(f"{esc(key)} ({len(records)})", rows)
    if f.evidence.get("skipped"):
        items = [
            f"- {esc(s.get('path', ''))} {esc(s.get('where', ''))}: {esc(s.get('reason', ''))}"
            for s in f.evidence["skipped"]
            if isinstance(s, dict)
        ]
        lines += _details(f"Skipped input ({len(items)})", items)
    return lines


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _finding_section(f: Finding, with_evidence: bool = True) -> list[str]:
    lines = [f"### {esc(f.code)} {esc(f.name)} ({f.severity.value})", "", prose(f.message), ""]
    if where(f):
        lines += [f"**Where:** {where(f)}", ""]
    if f.evidence.get("cause"):
        lines += [f"**Cause:** {prose(f.evidence['cause'])}", ""]
    if f.hint:
        lines += [f"**Hint:** {prose(f.hint)}", ""]
    if f.evidence.get("fix"):
        lines += ["**Fix:**", "", fence(str(f.evidence["fix"]), "diff"), ""]
    if with_evidence:
        lines += _evidence(f)
    elif f.evidence:
        lines += ["*Evidence left out to fit GitHub's size limit; see report.html.*", ""]
    return lines


def _table(findings: list[Finding]) -> list[str]:
    lines = ["## Findings", "", "| code | severity | where | message |", "|---|---|---|---|"]
    for f in findings:
        sev = f"**{f.severity.value}**" if f.severity is Severity.ERROR else f.severity.value
        lines.append(
            f"| {esc(f.code)} {esc(f.name)} | {sev} | {where(f) or '-'} | "
            f"{prose(f.message, table=True)} |"
        )
    return [*lines, ""]


def image_url(base: str, name: str) -> str:
    """`name` (a file, or folder/file) under a base URL, each part percent-encoded."""
    return base.rstrip("/") + "/" + "/".join(quote(p) for p in name.split("/"))


def _plots(plots: dict[str, str] | None, image_base_url: str | None) -> list[str]:
    """Images when they are hosted at `image_base_url`; otherwise which PNGs to attach (a
    relative link would be a broken image once pasted into an issue)."""
    if not plots:
        return []
    lines = ["## Plots", ""]
    if image_base_url:
        for key, rel in plots.items():
            title = esc(PLOT_TITLES.get(key, key))
            lines += [f"![{title}](<{image_url(image_base_url, rel)}>)", ""]
        return lines
    files = ", ".join(f"`{rel.rsplit('/', 1)[-1]}`" for rel in plots.values())
    return [
        *lines,
        f"The plots are the PNG files beside this report: attach {files} to the issue (drag them "
        "into the comment box) to show them here.",
        "",
    ]


def _footer() -> list[str]:
    return [f"<sub>Report by logan {__version__}.</sub>", ""]


def run_markdown(
    result: RunResult,
    plots: dict[str, str] | None = None,
    limit: int = GITHUB_LIMIT,
    *,
    name: str | None = None,
    image_base_url: str | None = None,
) -> str:
    """One run's report; `plots` maps a plot name to its PNG's file name, `name` is how the run
    is called (default: its path), `image_base_url` where the PNGs will be hosted.

    Over `limit` characters the evidence tables go first, then whole findings (the summary table
    keeps all of them), and the report says what it left out.
    """
    head = _header(result, name or result.run.path)
    if result.run.last_step is None:  # no training rows (also known to a slimmed run)
        head += ["**No training scalars** were found in this run (validation only, or empty).", ""]
    findings = result.findings
    if not findings:
        head += ["**No findings.**", ""]
    else:
        head += _table(findings)
    tail = _plots(plots, image_base_url) + _footer()

    def assemble(sections: list[list[str]], note: str = "") -> str:
        body = [line for s in sections for line in s]
        extra = [f"> **Trimmed:** {note}", ""] if note else []
        return "\n".join(head + extra + body + tail)

    text = assemble([_finding_section(f) for f in findings])
    if len(text) <= limit:
        return text
    compact = [_finding_section(f, with_evidence=False) for f in findings]
    note = (
        f"this report was cut to fit GitHub's {limit:,}-character limit; report.html, written "
        "beside it, has everything."
    )
    text = assemble(compact, note)
    kept = len(compact)
    while len(text) > limit and kept > 0:
        kept -= 1
        left = len(compact) - kept
        text = assemble(compact[:kept], f"{note} {left} finding section(s) left out.")
    if len(text) > limit:  # a header alone over the limit: absurd paths; cut at a line boundary
        cut = text[: limit - 200].rsplit("\n", 1)[0]
        text = cut + f"\n\n> **Trimmed:** {note}\n"
    return text


def index_markdown(
    analysis: Analysis, links: dict[int, str], names: dict[int, str] | None = None
) -> str:
    """A table of every run, worst first, linking each run's report; `names` are how the runs
    are called (default: their paths)."""
    lines = [
        "# logan: runs",
        "",
        f"{summary(analysis)}.",
        "",
        "| run | producer | steps | epochs | status | findings |",
        "|---|---|---|---|---|---|",
    ]
    unknown = False
    for i in worst_first(analysis):
        r = analysis.results[i]
        codes = ", ".join(esc(f.code) for f in r.findings) or "none"
        label = esc((names or {}).get(i, r.run.path))
        name = f"[{label}]({links[i]})" if i in links else label
        level = status(r)
        level = f"**{level}**" if worst(r) is Severity.ERROR else level
        ep = epochs(r)
        unknown = unknown or ep == "?"
        lines.append(
            f"| {name} | {esc(r.run.producer)} | {r.run.last_step or 0} | {ep} | {level} | "
            f"{codes} |"
        )
    if unknown:
        lines += ["", esc(EPOCHS_UNKNOWN) + "."]
    if analysis.problems:
        lines += ["", "## Problems", ""]
        lines += [f"- {esc(p.path)}: {esc(p.message)}" for p in analysis.problems]
    return "\n".join([*lines, "", *_footer()])

"""Markdown reports people paste into a GitHub issue: header, findings table, each finding with its
evidence, cause, hint and fix, and the plots as relative PNG links; an index for many runs.

Everything that comes from logs or paths is escaped (no HTML tag, no link, no autolink can come out
of a run name), and a report longer than GitHub's limit is trimmed, saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from logan import __version__
from logan.model import Analysis, Finding, RunResult, Severity

# GitHub rejects issue bodies over 65,536 characters; keep a margin for the user's own words.
GITHUB_LIMIT = 60_000
# Evidence tables longer than this go into a <details> block.
DETAILS_ROWS = 6
# Sources listed in the header before the rest go into a <details> block.
SHOWN_SOURCES = 5
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
# GitHub turns `http://`, `www.` and `a@b.c` into links even in plain text; an entity for the
# trigger character keeps the text identical on screen but stops the autolinker.
_AUTOLINK = (
    (re.compile(r":(?=//)"), "&#58;"),
    (re.compile(r"@"), "&#64;"),
    (re.compile(r"(?i)\bw(?=ww\.)"), lambda m: f"&#{ord(m.group(0))};"),
)
PLOT_TITLES = {
    "lr": "Learning rate",
    "loss": "Loss",
    "scalars": "Other scalars",
}


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


def _num(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


def where(f: Finding) -> str:
    """'steps 41-160 (from epoch 1)' for a finding, '' when it has no step."""
    if f.step is None:
        return ""
    if f.end_step is None or f.end_step == f.step:
        text = f"step {f.step}"
    else:
        text = f"steps {f.step}-{f.end_step}"
    if f.epoch is not None:
        text += f" (from epoch {f.epoch:g})"
    return text


def worst(result: RunResult) -> Severity | None:
    return max(result.findings, key=lambda f: f.severity.rank).severity if result.findings else None


def expected_text(result: RunResult) -> str:
    """What the checks compared the logged LR with, in words."""
    exp = result.expected
    if exp is None:
        return "none (no LR logged)" if result.run.series("lr").empty else "none"
    if exp.source == "config":
        return "the config, simulated (it reproduces the logged LR)"
    match = exp.match
    tail = "; the config's simulation does not match the log" if match else ""
    return (
        f"a cosine from the logged peak at step {exp.peak_step} to {exp.floor:g}, inferred from "
        f"the log (the logged LR looks {exp.shape}){tail}"
    )


def _header(result: RunResult) -> list[str]:
    run = result.run
    epochs = "unknown"
    if run.max_epochs:
        epochs = f"{run.max_epochs}"
    if run.epoch_length:
        epochs += f" x {run.epoch_length} iterations"
    config = (
        f"found: {esc(run.config_path.replace(chr(92), '/').rsplit('/', 1)[-1])}"
        if run.config_path
        else "not found"
    )
    counts = _counts(result.findings)
    sources = [esc(s) for s in run.sources]
    shown = ", ".join(sources[:SHOWN_SOURCES]) or "none"
    if len(sources) > SHOWN_SOURCES:
        shown += f" and {len(sources) - SHOWN_SOURCES} more"
    lines = [
        f"# logan report: {esc(run.path)}",
        "",
        f"| run | {esc(run.path)} |",
        "|---|---|",
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
    lines += [f"| findings | {counts} |", ""]
    return lines


def _counts(findings: Iterable[Finding]) -> str:
    """'2 errors, 1 warning' (or 'none')."""
    found = list(findings)
    if not found:
        return "none"
    parts = []
    for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        n = sum(f.severity is sev for f in found)
        if n:
            parts.append(f"{n} {sev.value}{'s' if n > 1 else ''}")
    return ", ".join(parts)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{esc(k)}: {esc(_num(v))}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(esc(_num(v)) for v in value)
    return esc(_num(value))


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
        lines += ["*Evidence left out to fit GitHub's size limit; see report.json.*", ""]
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


def _plots(plots: dict[str, str] | None) -> list[str]:
    if not plots:
        return []
    lines = ["## Plots", ""]
    for name, rel in plots.items():
        lines += [f"![{esc(name)}]({rel})", ""]
    return lines


def _footer() -> list[str]:
    return [f"<sub>logan {__version__}; report.json holds the same data for tools.</sub>", ""]


def run_markdown(
    result: RunResult, plots: dict[str, str] | None = None, limit: int = GITHUB_LIMIT
) -> str:
    """One run's report; `plots` maps a plot name to its relative PNG path.

    Over `limit` characters the evidence tables go first, then whole findings (the summary table
    keeps all of them), and the report says what it left out.
    """
    head = _header(result)
    if result.run.train_scalars().empty:
        head += ["**No training scalars** were found in this run (validation only, or empty).", ""]
    findings = result.findings
    if not findings:
        head += ["**No findings.**", ""]
    else:
        head += _table(findings)
    tail = _plots(plots) + _footer()

    def assemble(sections: list[list[str]], note: str = "") -> str:
        body = [line for s in sections for line in s]
        extra = [f"> **Trimmed:** {note}", ""] if note else []
        return "\n".join(head + extra + body + tail)

    text = assemble([_finding_section(f) for f in findings])
    if len(text) <= limit:
        return text
    compact = [_finding_section(f, with_evidence=False) for f in findings]
    note = f"this report was cut to fit GitHub's {limit:,}-character limit; report.json has it all."
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


def index_markdown(analysis: Analysis, links: dict[int, str]) -> str:
    """A table of every run, worst first, linking each run's report."""
    n = len(analysis.results)
    bad = sum(1 for r in analysis.results if r.findings)
    lines = [
        "# logan: runs",
        "",
        f"{n} run(s), {bad} with findings ({_counts(analysis.findings)}).",
        "",
        "| run | producer | steps | worst | findings |",
        "|---|---|---|---|---|",
    ]
    for i in worst_first(analysis):
        r = analysis.results[i]
        codes = ", ".join(esc(f.code) for f in r.findings) or "none"
        name = f"[{esc(r.run.path)}]({links[i]})" if i in links else esc(r.run.path)
        sev = worst(r)
        level = "ok" if sev is None else f"**{sev.value}**" if sev is Severity.ERROR else sev.value
        lines.append(
            f"| {name} | {esc(r.run.producer)} | {r.run.last_step or 0} | {level} | {codes} |"
        )
    if analysis.problems:
        lines += ["", "## Problems", ""]
        lines += [f"- {esc(p.path)}: {esc(p.message)}" for p in analysis.problems]
    return "\n".join([*lines, "", *_footer()])


def worst_first(analysis: Analysis) -> list[int]:
    """Run indices, worst finding first, then by path (stable whatever the discovery order)."""

    def key(i: int) -> tuple[int, int, str]:
        r = analysis.results[i]
        sev = worst(r)
        return (-(sev.rank if sev else 0), -len(r.findings), r.run.path)

    return sorted(range(len(analysis.results)), key=key)

"""Markdown reports people paste into a GitHub issue: header, findings table, each finding with its
evidence, cause, hint and fix, and the plots as relative PNG links.

Everything that comes from logs or paths is escaped, so a run folder named like HTML shows as text.
"""

from __future__ import annotations

import re
from typing import Any

from logan.model import Analysis, RunResult

# GitHub rejects issue bodies over 65,536 characters; keep a margin for the user's own words.
GITHUB_LIMIT = 60_000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def esc(text: object) -> str:
    """Escape text for Markdown: HTML-significant characters and Markdown punctuation."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return s.replace("\r", " ").replace("\n", " ")


def fence(text: str, lang: str = "") -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _header(result: RunResult) -> list[str]:
    run = result.run
    epochs = f"{run.max_epochs}" if run.max_epochs else "unknown"
    length = f"{run.epoch_length}" if run.epoch_length else "unknown"
    config = esc(run.config_path.rsplit("/", 1)[-1]) if run.config_path else "not found"
    return [
        f"# logan report: {esc(run.path)}",
        "",
        "| | |",
        "|---|---|",
        f"| producer | {esc(run.producer)} |",
        f"| last step | {run.last_step if run.last_step is not None else 'none'} |",
        f"| epochs | {epochs} (epoch length {length}) |",
        f"| sessions | {len(run.sessions)} |",
        f"| sources | {', '.join(esc(s) for s in run.sources) or 'none'} |",
        f"| config | {config} |",
        "",
    ]


def run_markdown(result: RunResult, plots: dict[str, str] | None = None) -> str:
    """One run's report; `plots` maps a plot name to its relative PNG path."""
    lines = _header(result)
    findings = result.findings
    if result.run.train_scalars().empty:
        lines += ["**No training scalars** were found in this run (validation only, or empty).", ""]
    if not findings:
        lines += ["**No findings.**", ""]
    else:
        lines += ["## Findings", "", "| code | severity | message |", "|---|---|---|"]
        for f in findings:
            lines.append(f"| {f.code} {esc(f.name)} | {f.severity.value} | {esc(f.message)} |")
        lines.append("")
        for f in findings:
            lines += [f"### {f.code} {esc(f.name)} ({f.severity.value})", "", esc(f.message), ""]
            ev = {k: v for k, v in f.evidence.items() if k not in ("cause", "fix", "skipped")}
            if f.evidence.get("cause"):
                lines += [f"**Cause:** {esc(f.evidence['cause'])}", ""]
            if f.hint:
                lines += [f"**Hint:** {esc(f.hint)}", ""]
            if f.evidence.get("fix"):
                lines += ["**Fix:**", "", fence(str(f.evidence["fix"]), "diff"), ""]
            if ev:
                rows = ["| evidence | value |", "|---|---|"]
                rows += [f"| {esc(k)} | {esc(_num(v))} |" for k, v in ev.items()]
                body = "\n".join(rows)
                if len(ev) > 8:
                    lines += [
                        "<details><summary>Evidence</summary>",
                        "",
                        body,
                        "",
                        "</details>",
                        "",
                    ]
                else:
                    lines += [body, ""]
            if f.evidence.get("skipped"):
                items = [
                    f"- {esc(s['path'])} {esc(s['where'])}: {esc(s['reason'])}"
                    for s in f.evidence["skipped"]
                ]
                lines += [
                    "<details><summary>Skipped input</summary>",
                    "",
                    *items,
                    "",
                    "</details>",
                    "",
                ]
    if plots:
        lines += ["## Plots", ""]
        for name, rel in plots.items():
            lines += [f"![{esc(name)}]({rel})", ""]
    text = "\n".join(lines)
    if len(text) > GITHUB_LIMIT:
        cut = text[: GITHUB_LIMIT - 200].rsplit("\n", 1)[0]
        text = (
            cut
            + f"\n\n*Report trimmed to {GITHUB_LIMIT:,} characters for GitHub; see report.json.*\n"
        )
    return text


def index_markdown(analysis: Analysis, links: dict[int, str]) -> str:
    """A table of every run, worst first, linking each run's report."""
    lines = ["# logan: runs", "", "| run | producer | steps | findings |", "|---|---|---|---|"]
    for i in worst_first(analysis):
        r = analysis.results[i]
        codes = ", ".join(f.code for f in r.findings) or "none"
        name = f"[{esc(r.run.path)}]({links[i]})" if i in links else esc(r.run.path)
        lines.append(f"| {name} | {esc(r.run.producer)} | {r.run.last_step or 0} | {codes} |")
    if analysis.problems:
        lines += ["", "## Problems", ""]
        lines += [f"- {esc(p.path)}: {esc(p.message)}" for p in analysis.problems]
    return "\n".join(lines) + "\n"


def worst_first(analysis: Analysis) -> list[int]:
    def key(i: int) -> tuple[int, str]:
        r = analysis.results[i]
        worst = max((f.severity.rank for f in r.findings), default=0)
        return (-worst, r.run.path)

    return sorted(range(len(analysis.results)), key=key)

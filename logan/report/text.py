"""The terminal summary: a table of runs (worst first), then each finding with where it is, its
cause, hint and fix, and a closing count line."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from logan.model import Analysis, Severity
from logan.report.markdown import _counts, where, worst_first
from logan.textsafe import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _s(text: object) -> str:
    """Text from logs, paths or configs: control characters shown as escapes (nothing reaches
    the terminal as a command, no newline fakes a line), then escaped for rich markup."""
    return escape(visible(text))


def render(analysis: Analysis, console: Console) -> None:
    """Print the summary table and the findings; strings from logs are made visible and escaped
    for rich markup."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("run", "producer", "steps", "epochs", "findings"):
        table.add_column(col, overflow="fold")
    order = worst_first(analysis)
    for i in order:
        r = analysis.results[i]
        run = r.run
        epochs = "?"
        if run.max_epochs:
            epochs = f"{run.max_epochs}" + (f" x {run.epoch_length}" if run.epoch_length else "")
        codes = " ".join(f"[{STYLE[f.severity]}]{f.code}[/]" for f in r.findings)
        if run.last_step is None:  # no training rows (also known to a slimmed run)
            codes = (codes + " " if codes else "") + "[dim]no training scalars[/]"
        table.add_row(
            _s(run.path), run.producer, str(run.last_step or 0), epochs, codes or "[green]ok[/]"
        )
    console.print(table)
    for i in order:
        r = analysis.results[i]
        if not r.findings:
            continue
        console.print()
        console.print(f"[bold]{_s(r.run.path)}[/]")
        for f in r.findings:
            console.print(
                f"  [{STYLE[f.severity]}]{f.severity.value:<7}[/] [bold]{f.code}[/] {f.name}: "
                f"{_s(f.message)}"
            )
            if where(f):
                console.print(f"          where: {_s(where(f))}", style="dim")
            if f.evidence.get("cause"):
                console.print(f"          cause: {_s(f.evidence['cause'])}")
            if f.hint:
                console.print(f"          hint: {_s(f.hint)}", style="dim")
            if f.evidence.get("fix"):
                console.print("          fix:")
                for line in str(f.evidence["fix"]).splitlines():
                    color = (
                        "green"
                        if line.startswith("+")
                        else "red"
                        if line.startswith("-")
                        else "dim"
                    )
                    console.print(f"            [{color}]{_s(line)}[/]")
    if analysis.problems:
        console.print()
        for p in analysis.problems:
            console.print(f"[red]problem[/] {_s(p.path)}: {_s(p.message)}")
    if analysis.not_analysed:
        console.print()
        console.print(not_analysed_line(analysis), style="dim")
    n = len(analysis.results)
    bad = sum(1 for r in analysis.results if r.findings)
    console.print()
    console.print(f"{n} run(s), {bad} with findings: {_counts(analysis.findings)}", style="bold")


def not_analysed_line(analysis: Analysis) -> str:
    """One line counting the sessions and files that hold no training run, by reason."""
    counts: dict[str, int] = {}
    for n in analysis.not_analysed:
        reason = n.reason.split(":", 1)[0]
        counts[reason] = counts.get(reason, 0) + 1
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    return _s(
        f"not analysed: {len(analysis.not_analysed)} session(s) or file(s) with no training run "
        f"({parts}); --format json lists them"
    )

"""The terminal summary: a table of runs (worst first), then each finding with where it is, its
cause, hint and fix, and a closing count line.

It fits the console's width: run paths are shortened from the left (their end tells runs apart),
and finding text wraps at word boundaries with a hanging indent under the message.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from logan.model import Analysis, Finding, Severity
from logan.report.common import (
    EPOCHS_UNKNOWN,
    NO_TRAINING,
    epochs,
    shorten_left,
    status,
    summary,
    where,
    worst_first,
)
from logan.textsafe import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
# Finding lines start with the severity in a column this wide; continuation lines hang under it.
INDENT = 10
# The run column never gets narrower than this, however narrow the terminal.
MIN_PATH = 16
# Space the findings column keeps before the run column takes the rest of the width.
FINDINGS_WIDTH = 14
FIX_STYLE = {"+": "green", "-": "red"}


def _table(analysis: Analysis, order: list[int], width: int) -> tuple[Table, bool]:
    """The runs table, sized to `width`; also whether any run's epoch count is unknown."""
    rows = []
    for i in order:
        r = analysis.results[i]
        codes = " ".join(f"[{STYLE[f.severity]}]{f.code}[/]" for f in r.findings)
        word = status(r)
        if word == NO_TRAINING:
            codes = (codes + " " if codes else "") + f"[dim]{NO_TRAINING}[/]"
        steps = str(r.run.last_step or 0)
        path = visible(r.run.path)
        rows.append([path, visible(r.run.producer), steps, epochs(r), codes or "[green]ok[/]"])
    head = ["run", "producer", "steps", "epochs", "findings"]
    fixed = sum(max(len(head[c]), *(len(row[c]) for row in rows)) for c in (1, 2, 3))
    # Two spaces between columns; the findings column keeps room for a few codes.
    budget = max(MIN_PATH, width - fixed - 2 * 4 - FINDINGS_WIDTH)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("run", no_wrap=True)
    for col in head[1:4]:
        table.add_column(col, no_wrap=True)
    table.add_column("findings", overflow="fold", min_width=min(FINDINGS_WIDTH, width // 4))
    for row in rows:
        table.add_row(escape(shorten_left(row[0], budget)), *map(escape, row[1:4]), row[4])
    return table, any(row[3] == "?" for row in rows)


def _hanging(console: Console, head: Text, body: Text, indent: int = INDENT) -> None:
    """`body` wrapped at word boundaries to the console's width, the first line after `head`,
    the others indented under it (no trailing spaces, so copied output stays clean)."""
    lines = body.wrap(console, max(MIN_PATH, console.width - indent))
    out = Text()
    for k, line in enumerate(lines):
        line.rstrip()
        out.append_text(head if k == 0 else Text(" " * indent))
        out.append_text(line)
        if k < len(lines) - 1:
            out.append("\n")
    console.print(out, soft_wrap=True, highlight=False)


def _finding(console: Console, f: Finding) -> None:
    pad = Text(" " * INDENT)
    head = Text.assemble("  ", (f"{f.severity.value:<7}", STYLE[f.severity]), " ")
    line = Text.assemble((visible(f.code), "bold"), f" {visible(f.name)}: ", visible(f.message))
    _hanging(console, head, line)
    if where(f):
        _hanging(console, pad, Text(f"where: {where(f)}", style="dim"))
    if f.evidence.get("cause"):
        _hanging(console, pad, Text(f"cause: {visible(f.evidence['cause'])}"))
    if f.hint:
        _hanging(console, pad, Text(f"hint: {visible(f.hint)}", style="dim"))
    if f.evidence.get("fix"):
        _hanging(console, pad, Text("fix:"))
        for fix_line in str(f.evidence["fix"]).splitlines():
            style = "dim" if fix_line.startswith(("+++", "---")) else FIX_STYLE.get(fix_line[:1])
            _hanging(console, pad, Text("  " + visible(fix_line), style=style or "dim"))


def _print_trimmed(console: Console, renderable: Table) -> None:
    """A rich table without the spaces it pads its last column with."""
    with console.capture() as captured:
        console.print(renderable)
    for line in captured.get().splitlines():
        row = Text.from_ansi(line)
        row.rstrip()
        console.print(row, soft_wrap=True, highlight=False)


def render(analysis: Analysis, console: Console) -> None:
    """Print the summary table and the findings. Text from logs, paths and configs is made
    visible (control characters as escapes: nothing reaches the terminal as a command, no newline
    fakes a line), then goes into `Text` objects (never parsed as rich markup) or through
    `escape`."""
    order = worst_first(analysis)
    table, unknown_epochs = _table(analysis, order, console.width)
    _print_trimmed(console, table)
    if unknown_epochs:
        _hanging(console, Text(), Text(EPOCHS_UNKNOWN, style="dim"), indent=0)
    for i in order:
        r = analysis.results[i]
        if not r.findings:
            continue
        console.print()
        console.print(Text(shorten_left(visible(r.run.path), console.width), style="bold"))
        for f in r.findings:
            _finding(console, f)
    if analysis.problems:
        console.print()
        for p in analysis.problems:
            problem = Text(f"{visible(p.path)}: {visible(p.message)}")
            _hanging(console, Text("problem ", style="red"), problem)
    if analysis.not_analysed:
        console.print()
        _hanging(console, Text(), Text(not_analysed_line(analysis), style="dim"), indent=0)
    console.print()
    console.print(summary(analysis), style="bold", highlight=False)


def not_analysed_line(analysis: Analysis) -> str:
    """One line counting the sessions and files that hold no training run, by reason."""
    return visible(
        f"not analysed: {len(analysis.not_analysed)} session(s) or file(s) with no training run "
        f"({not_analysed_reasons(analysis)}); --format json lists them"
    )


def not_analysed_reasons(analysis: Analysis) -> str:
    """The reasons sessions and files hold no training run, counted, most frequent first."""
    reasons: dict[str, int] = {}
    for n in analysis.not_analysed:
        reason = n.reason.split(":", 1)[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))

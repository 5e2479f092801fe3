"""Run-level rules: what could not be read."""

from __future__ import annotations

from collections.abc import Iterator

from logan.checks import Limits, Rule
from logan.model import Expected, Finding, Run, Severity

# How many skipped pieces a message names before it says "and N more".
SHOWN = 3


RN001 = Rule("RN001", "unreadable-input", Severity.INFO)


@RN001
def unreadable_input(run: Run, expected: Expected | None, t: Limits) -> Iterator[Finding]:
    """Part of the input could not be read and was skipped.

    What it does: lists the records logan skipped (a truncated last line, a record whose CRC does
    not match, bytes that are not UTF-8), with the file, the place and the reason.

    Why it matters: a run killed mid-write or copied while training still gives a usable analysis,
    but you should know which points are missing before trusting a verdict about them.

    Example: `20240101_000000.json line 812: truncated last line`.

    How to fix: nothing to fix in training; re-copy the file if it was damaged in transit.
    """
    if not run.skipped:
        return
    first = "; ".join(
        f"{s.path.rsplit('/', 1)[-1]} {s.where}: {s.reason}" for s in run.skipped[:SHOWN]
    )
    more = len(run.skipped) - SHOWN
    tail = f" and {more} more" if more > 0 else ""
    yield RN001.finding(
        f"skipped {len(run.skipped)} unreadable record(s): {first}{tail}",
        evidence={
            "skipped": [
                {"path": s.path, "where": s.where, "reason": s.reason} for s in run.skipped[:50]
            ],
            "count": len(run.skipped),
        },
        hint="Everything readable was analysed; re-copy the file if it was damaged in transit.",
    )

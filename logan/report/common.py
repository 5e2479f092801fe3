"""What every reporter says the same way: counts ('2 errors, 1 warning'), where a finding is, a
run's status ('error', 'ok', 'no training scalars'), the order of runs, numbers in evidence, and
paths shortened for a narrow column. One place, so text, Markdown and HTML never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from logan.model import Analysis, Finding, RunResult, Severity

PLOT_TITLES = {
    "lr": "Learning rate",
    "loss": "Loss",
    "scalars": "Other scalars",
}
# A run with findings shows its worst severity; one without shows one of these.
OK = "ok"
NO_TRAINING = "no training scalars"
# Why a run's epoch count shows as unknown: said once under the table, in every format.
EPOCHS_UNKNOWN = (
    "epochs ?: the logs and config do not say how many epochs the run was set for "
    "(an iteration-based loop, or a log without its config)"
)


def counts(findings: Iterable[Finding]) -> str:
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


def summary(analysis: Analysis) -> str:
    """'3 run(s), 1 with findings: 1 error' - the closing line of every output."""
    n = len(analysis.results)
    bad = sum(1 for r in analysis.results if r.findings)
    return f"{n} run(s), {bad} with findings: {counts(analysis.findings)}"


def number(x: Any) -> str:
    """An evidence value for people: 6 significant digits, booleans in lower case."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


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


def status(result: RunResult) -> str:
    """The run's worst severity, else 'no training scalars' or 'ok'."""
    sev = worst(result)
    if sev is not None:
        return sev.value
    # No training rows: last_step says so even for a slimmed run (see api.slim).
    return NO_TRAINING if result.run.last_step is None else OK


def found(result: RunResult) -> str:
    """'found 1 error (LR001)', 'found nothing wrong' or 'found no training scalars to check'."""
    if status(result) == NO_TRAINING:
        return "found no training scalars to check"
    if not result.findings:
        return "found nothing wrong"
    codes = ", ".join(dict.fromkeys(f.code for f in result.findings))
    return f"found {counts(result.findings)} ({codes})"


def epochs(result: RunResult, unknown: str = "?") -> str:
    """'3 x 50' (epochs x iterations per epoch), '3', or `unknown`."""
    run = result.run
    if not run.max_epochs:
        return unknown
    return f"{run.max_epochs}" + (f" x {run.epoch_length}" if run.epoch_length else "")


def worst_first(analysis: Analysis) -> list[int]:
    """Run indices, worst finding first, then by path (stable whatever the discovery order)."""

    def key(i: int) -> tuple[int, int, str]:
        r = analysis.results[i]
        sev = worst(r)
        return (-(sev.rank if sev else 0), -len(r.findings), r.run.path)

    return sorted(range(len(analysis.results)), key=key)


def expected_text(result: RunResult) -> str:
    """What the checks compared the logged LR with, in words."""
    exp = result.expected
    if exp is None:
        return "none (no LR logged)" if "lr" not in result.run.tags else "none"
    if exp.source == "config":
        return "the config, simulated (it reproduces the logged LR)"
    match = exp.match
    tail = "; the config's simulation does not match the log" if match else ""
    return (
        f"a cosine from the logged peak at step {exp.peak_step} to {exp.floor:g}, inferred from "
        f"the log (the logged LR looks {exp.shape}){tail}"
    )


def shorten_left(path: str, width: int) -> str:
    """`path` in at most `width` characters, cut from the left ('.../runs/xt_buggy_e3'): the end
    of a run path is the part that tells runs apart. The cut moves to a folder boundary only when
    that costs a few characters: `version_0` of one project must stay apart from another's."""
    if len(path) <= width:
        return path
    if width <= 3:
        return path[-width:]
    tail = path[-(width - 3) :]
    cut = tail.find("/")
    if 0 <= cut <= BOUNDARY_SLACK and cut < len(tail) - 1:
        tail = tail[cut:]
    return "..." + tail


# Characters a shortened path may give up to start at a folder boundary.
BOUNDARY_SLACK = 8


def path_parts(path: str) -> list[str]:
    """A path's folder and file names, `\\` read as `/`, empty and `.` parts left out."""
    return [p for p in str(path).replace("\\", "/").split("/") if p not in ("", ".")]


def is_under(path: str, arg: str) -> bool:
    """Whether a run path (as discovery shows it) lies at or below the argument `arg`."""
    base = path_parts(arg)
    return path_parts(path)[: len(base)] == base


def relative_to_given(path: str, given: Iterable[str]) -> str:
    """A run path relative to the command-line argument it was found under ('runs/a' under
    'work/runs' -> 'a'); the argument's own last part when the run is the argument itself."""
    parts = path_parts(path)
    best: list[str] | None = None
    for arg in given:
        base = path_parts(arg)
        if parts[: len(base)] == base and (best is None or len(base) > len(best)):
            best = base
    if best is None:
        return "/".join(p for p in parts if p != "..") or path
    rest = parts[len(best) :]
    if rest:
        return "/".join(rest)
    named = [p for p in best if p != ".."]
    return named[-1] if named else (Path(path).resolve().name or path)


def run_names(paths: Iterable[str], given: Iterable[str]) -> list[str]:
    """How reports name each run: relative to the argument it was found under, or the
    argument's own name when that argument holds this run only (`lightning_cycles`, not
    `lightning_logs/version_0`); the path itself when no argument matches."""
    paths, args = list(paths), [str(a) for a in given]

    def owner(path: str) -> str | None:
        found = [a for a in args if is_under(path, a)]
        return max(found, key=lambda a: len(path_parts(a))) if found else None

    owners = [owner(p) for p in paths]
    names = []
    for path, arg in zip(paths, owners, strict=True):
        if arg is None:
            names.append(path)
        elif owners.count(arg) == 1:
            names.append(relative_to_given(arg, [arg]))
        else:
            names.append(relative_to_given(path, [arg]))
    return names

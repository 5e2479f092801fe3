"""The rule registry: every check has a stable code (`LR001`), a name, a severity and its own
documentation (What it does / Why it matters / Example / How to fix), taken from its docstring.

A check is a pure function of a Run and its expected schedule that yields Findings; it never reads
files, prints or plots. Missing inputs mean "no finding", never an exception.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from logan.model import Finding, Run, Severity

CODE = re.compile(r"^[A-Z]{2}\d{3}$")
# Modules that register rules when imported; one per family.
FAMILIES = ("logan.checks.lr", "logan.checks.loss", "logan.checks.throughput", "logan.checks.run")

CheckFn = Callable[[Run, object], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    check: CheckFn


_REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity) -> Callable[[CheckFn], CheckFn]:
    """Register a check under a stable code; its docstring's first line is the summary."""
    if not CODE.match(code):
        raise ValueError(f"rule code {code!r} must look like LR001")

    def register(fn: CheckFn) -> CheckFn:
        doc = (fn.__doc__ or "").strip()
        if code in _REGISTRY and _REGISTRY[code].check is not fn:
            raise ValueError(f"rule code {code} registered twice")
        summary = doc.splitlines()[0] if doc else name
        _REGISTRY[code] = Rule(code, name, severity, summary, _dedent(doc), fn)
        return fn

    return register


def _dedent(doc: str) -> str:
    import textwrap

    first, _, rest = doc.partition("\n")
    return (first + "\n" + textwrap.dedent(rest)).strip()


def registry() -> dict[str, Rule]:
    """All rules, sorted by code."""
    for module in FAMILIES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return dict(sorted(_REGISTRY.items()))


def selected(
    select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
) -> list[Rule]:
    """Rules whose code starts with a `select` prefix and with no `ignore` prefix."""
    sel = [s.strip().upper() for s in (select or []) if s.strip()]
    ign = [s.strip().upper() for s in (ignore or []) if s.strip()]
    out = []
    for code, r in registry().items():
        if sel and not any(code.startswith(p) or r.name == p.lower() for p in sel):
            continue
        if any(code.startswith(p) or r.name == p.lower() for p in ign):
            continue
        out.append(r)
    return out


def run_checks(run: Run, expected: object, rules: list[Rule] | None = None) -> list[Finding]:
    """Run the rules over one run; findings sorted by severity then step."""
    findings: list[Finding] = []
    for r in rules if rules is not None else selected():
        findings.extend(r.check(run, expected))
    findings.sort(key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.code))
    return findings

"""The rule registry: every check has a stable code (`LR001`), a name, a severity and its own
documentation (What it does / Why it matters / Example / How to fix), taken from its docstring.

A check is a pure function of a Run and its expected schedule that yields Findings; it never reads
files, prints or plots. Missing inputs mean "no finding", never an exception.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from logan.errors import LoganError
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


def fmt(x: float) -> str:
    """A number as findings print it: 4 significant digits, scientific when tiny or huge
    (`nan`/`inf` as themselves)."""
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


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


def run_checks(
    run: Run, expected: object, rules: list[Rule] | None = None, errors: list[str] | None = None
) -> list[Finding]:
    """Run the rules over one run; findings sorted by severity then step.

    A rule that raises is a bug in logan: it costs that rule on that run (described in `errors`),
    never the run's other findings.
    """
    findings: list[Finding] = []
    for r in rules if rules is not None else selected():
        try:
            findings.extend(r.check(run, expected))
        except Exception as exc:  # noqa: BLE001
            if errors is not None:
                errors.append(f"rule {r.code} failed ({type(exc).__name__}: {exc}); please report")
    findings.sort(key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.code))
    return findings


_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def thresholds(code: str) -> dict[str, float]:
    """The named numeric constants a rule's check reads: what `[tool.logan.thresholds]` can set."""
    rule_ = registry()[code]
    module = sys.modules[rule_.check.__module__]
    # Names the check reads, and the names read by the module's own helpers it calls.
    used: set[str] = set()
    todo = [rule_.check]
    while todo:
        fn = todo.pop()
        for name in fn.__code__.co_names:
            if name in used:
                continue
            used.add(name)
            helper = getattr(module, name, None)
            if callable(helper) and getattr(helper, "__module__", None) == module.__name__:
                if hasattr(helper, "__code__"):
                    todo.append(helper)
    return {
        name: value
        for name, value in vars(module).items()
        if name in used
        and _CONSTANT.match(name)
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    }


@contextmanager
def overridden(values: Mapping[str, float]) -> Iterator[None]:
    """Temporarily set thresholds given as {"LS002.SPIKE_Z": 6.0}; unknown names are an error.

    Checks read their module's constants when they run, so patching the module is enough; the
    previous values come back afterwards so one analysis never leaks into the next.
    """
    saved: list[tuple[object, str, object]] = []
    try:
        for key, value in values.items():
            code, _, name = key.partition(".")
            reg = registry()
            if code.upper() not in reg or name not in thresholds(code.upper()):
                known = ", ".join(sorted(thresholds(code.upper()))) if code.upper() in reg else ""
                raise LoganError(
                    f"unknown threshold {key!r}; use CODE.NAME"
                    + (f" with NAME one of {known}" if known else " (see `logan rules`)")
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise LoganError(f"threshold {key!r} must be a number, not {value!r}")
            target = sys.modules[reg[code.upper()].check.__module__]
            old = getattr(target, name)
            if isinstance(old, int) and value != int(value):
                raise LoganError(f"threshold {key!r} must be a whole number, not {value!r}")
            saved.append((target, name, old))
            setattr(target, name, type(old)(value))
        yield
    finally:
        for module, name, old in reversed(saved):
            setattr(module, name, old)

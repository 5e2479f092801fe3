"""The rule registry: every check has a stable code (`LR001`), a name, a severity and its own
documentation (What it does / Why it matters / Example / How to fix), taken from its docstring.

A check is a pure function of a Run and its expected schedule that yields Findings; it never reads
files, prints or plots. Missing inputs mean "no finding", never an exception.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from logan.errors import LoganError
from logan.model import Expected, Finding, Run, Severity

CODE = re.compile(r"^[A-Z]{2}\d{3}$")
# Modules that register rules when imported; one per family.
FAMILIES = (
    "logan.checks.lr",
    "logan.checks.resume",
    "logan.checks.loss",
    "logan.checks.throughput",
    "logan.checks.run",
)

# A rule's thresholds as the check receives them: its declared defaults, with any overrides.
Limits = Mapping[str, float]
CheckFn = Callable[[Run, "Expected | None", Limits], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule as a record (flake8's `Violation`): code, name, severity and thresholds declared once.

    Declare it at module level, register its check by decorating it (`@LR001`), and build every
    finding with `LR001.finding(...)`. The check receives the thresholds as data (`limits`), so an
    override never patches a module.
    """

    code: str
    name: str
    severity: Severity
    # Threshold name -> default; the module constant of the same name says why that value.
    thresholds: Mapping[str, float] = field(default_factory=dict)
    check: CheckFn | None = None
    summary: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if not CODE.match(self.code):
            raise ValueError(f"rule code {self.code!r} must look like LR001")

    def __call__(self, fn: CheckFn) -> CheckFn:
        """Register `fn` as this rule's check; its docstring is the rule's documentation."""
        doc = (fn.__doc__ or "").strip()
        if self.code in _REGISTRY and _REGISTRY[self.code].check is not fn:
            raise ValueError(f"rule code {self.code} registered twice")
        summary = doc.splitlines()[0] if doc else self.name
        _REGISTRY[self.code] = dataclasses.replace(
            self, check=fn, summary=summary, doc=_dedent(doc)
        )
        return fn

    def finding(
        self,
        message: str,
        *,
        step: int | None = None,
        end_step: int | None = None,
        epoch: float | None = None,
        evidence: dict[str, Any] | None = None,
        hint: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        """A Finding of this rule (`severity` only when one finding is milder than the rule)."""
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            step=step,
            end_step=end_step,
            epoch=epoch,
            evidence=evidence or {},
            hint=hint,
        )

    def limits(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The thresholds this rule's check runs with."""
        return {**self.thresholds, **(overrides or {})}

    def run(
        self, run: Run, expected: Expected | None, overrides: Mapping[str, float] | None = None
    ) -> list[Finding]:
        if self.check is None:
            return []
        return list(self.check(run, expected, self.limits(overrides)))


_REGISTRY: dict[str, Rule] = {}


def fmt(x: float) -> str:
    """A number as findings print it: 4 significant digits, scientific when tiny or huge
    (`nan`/`inf` as themselves)."""
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


def _dedent(doc: str) -> str:
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


# Per rule code, the thresholds to override: {"LS002": {"SPIKE_Z": 6.0}}.
Overrides = Mapping[str, Mapping[str, float]]


def run_checks(
    run: Run,
    expected: Expected | None,
    rules: list[Rule] | None = None,
    errors: list[str] | None = None,
    overrides: Overrides | None = None,
) -> list[Finding]:
    """Run the rules over one run; findings sorted by severity then step.

    A rule that raises is a bug in logan: it costs that rule on that run (described in `errors`),
    never the run's other findings.
    """
    findings: list[Finding] = []
    active = overrides if overrides is not None else (_ACTIVE.get() or {})
    for r in rules if rules is not None else selected():
        try:
            findings.extend(r.run(run, expected, active.get(r.code)))
        except Exception as exc:  # noqa: BLE001
            if errors is not None:
                errors.append(f"rule {r.code} failed ({type(exc).__name__}: {exc}); please report")
    findings.sort(key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.code))
    return findings


def thresholds(code: str) -> dict[str, float]:
    """A rule's thresholds and their defaults: what `[tool.logan.thresholds]` can set."""
    return dict(registry()[code].thresholds)


def parse_overrides(values: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """{"LS002.SPIKE_Z": 6} -> {"LS002": {"SPIKE_Z": 6.0}}, checked against the rules' declared
    thresholds; an unknown name or a value of the wrong kind is a LoganError saying what to use."""
    reg = registry()
    out: dict[str, dict[str, float]] = {}
    for key, value in values.items():
        code, _, name = key.partition(".")
        code = code.upper()
        known = reg[code].thresholds if code in reg else {}
        if name not in known:
            names = ", ".join(sorted(known))
            raise LoganError(
                f"unknown threshold {key!r}; use CODE.NAME"
                + (f" with NAME one of {names}" if names else " (see `logan rules`)")
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LoganError(f"threshold {key!r} must be a number, not {value!r}")
        default = known[name]
        if isinstance(default, int) and value != int(value):
            raise LoganError(f"threshold {key!r} must be a whole number, not {value!r}")
        out.setdefault(code, {})[name] = type(default)(value)
    return out


# Overrides set by `overridden()` for the checks run inside its block (per thread and task).
_ACTIVE: ContextVar[Overrides | None] = ContextVar("logan_threshold_overrides", default=None)


@contextmanager
def overridden(values: Mapping[str, Any]) -> Iterator[None]:
    """Thresholds given as {"LS002.SPIKE_Z": 6} for the checks run inside the block: validated
    (a LoganError names what to use), then handed to each check as data; no module is patched,
    and nothing outlives the block."""
    token = _ACTIVE.set(parse_overrides(values))
    try:
        yield
    finally:
        _ACTIVE.reset(token)

"""Project settings: `[tool.logan]` in the nearest pyproject.toml (or a `logan.toml`), so a team
can fix `select`, `ignore`, `fail-on` and thresholds for its CI. Flags on the command line win.

Everything a user can mistype is checked here, before any run is read: a rule code or prefix that
matches no rule, a threshold that does not exist or is not a finite number in its range. A typo
must stop a CI job (a usage error), never quietly turn rules off.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from logan.errors import LoganError

KNOWN_KEYS = {"select", "ignore", "fail-on", "fail_on", "thresholds"}
FAIL_ON = ("error", "warning", "info", "never")
DEFAULT_FAIL_ON = "error"
THRESHOLD_EXAMPLE = "CODE.NAME=NUMBER, e.g. LS002.SPIKE_Z=6"


@dataclass
class Settings:
    """What a settings file (or, after `resolve`, the file and the flags together) asks for."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    source: str | None = None


def split_codes(text: str | None) -> list[str]:
    """'LR, LS001' -> ['LR', 'LS001'] (what `--select`/`--ignore` take)."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def check_codes(codes: Iterable[str], origin: str) -> list[str]:
    """The codes, upper-cased; a usage error listing the known ones if any matches no rule.

    A code matches a rule when it is a prefix of the rule's code (`LR`, `LS002`) or its name
    (`lr-plateau`), as `--select` applies them.
    """
    from logan.checks import registry

    rules = registry()
    out, bad = [], []
    for code in codes:
        key = code.strip().upper()
        if any(c.startswith(key) or r.name == key.lower() for c, r in rules.items()) and key:
            out.append(key)
        else:
            bad.append(code)
    if bad:
        prefixes = sorted({c[:2] for c in rules})
        raise LoganError(
            f"{origin}: unknown rule code or prefix {', '.join(map(repr, bad))}; "
            f"known: {', '.join(rules)} (or a prefix: {', '.join(prefixes)})"
        )
    return out


def _in_range(name: str, default: float, value: float) -> str | None:
    """Why `value` cannot stand for the constant `name` (None when it can).

    Every rule constant is a positive size, ratio or count; one named *_SHARE is a part of the run
    (0 < share <= 1); an integer constant (a window, a count of points) takes a whole number >= 1.
    """
    if not math.isfinite(value):
        return "must be a finite number"
    if value <= 0:
        return "must be above 0"
    if name.endswith("_SHARE") and value > 1:
        return "is a share of the run: at most 1"
    if isinstance(default, int) and value != int(value):
        return "must be a whole number"
    return None


def check_thresholds(values: Mapping[str, Any], origin: str) -> dict[str, float]:
    """Validate {"LS002.SPIKE_Z": 6}: a known rule, one of its constants, a number in range."""
    from logan.checks import registry, thresholds

    rules = registry()
    out: dict[str, float] = {}
    for key, value in values.items():
        code, _, name = str(key).partition(".")
        code = code.upper()
        if code not in rules:
            raise LoganError(
                f"{origin}: unknown threshold {key!r}: no rule {code!r}; use {THRESHOLD_EXAMPLE} "
                f"with CODE one of {', '.join(c for c in rules if thresholds(c))}"
            )
        known = thresholds(code)
        if name not in known:
            names = ", ".join(sorted(known)) or "none (this rule has no thresholds)"
            raise LoganError(f"{origin}: unknown threshold {key!r}; {code} has {names}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LoganError(f"{origin}: threshold {key!r} must be a number, not {value!r}")
        why = _in_range(name, known[name], float(value))
        if why:
            raise LoganError(
                f"{origin}: threshold {code}.{name} = {value!r} {why} (default {known[name]:g})"
            )
        out[f"{code}.{name}"] = float(value)
    return out


def parse_thresholds(items: Iterable[str]) -> dict[str, float]:
    """`--threshold CODE.NAME=VALUE` items as {"CODE.NAME": value}, checked like the file's."""
    raw: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = None
        if not sep or value is None or not key.strip():
            raise LoganError(f"--threshold {item!r}: expected {THRESHOLD_EXAMPLE}")
        raw[key.strip()] = value
    return check_thresholds(raw, "--threshold")


def check_fail_on(value: Any, origin: str) -> str:
    if value not in FAIL_ON:
        raise LoganError(f"{origin}: fail-on must be one of {', '.join(FAIL_ON)}, not {value!r}")
    return str(value)


def _as_list(value: Any, key: str, source: Path) -> list[str]:
    if isinstance(value, str):
        value = split_codes(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return check_codes(value, f"{source}: [tool.logan] {key}")
    raise LoganError(f'{source}: [tool.logan] {key} must be a list of rule codes, e.g. ["LR"]')


def _thresholds(value: Any, source: Path) -> dict[str, float]:
    """`[tool.logan.thresholds]` as {"LS002.SPIKE_Z": 6}: nested tables or dotted keys."""
    if not isinstance(value, dict):
        raise LoganError(
            f"{source}: [tool.logan.thresholds] must be a table, e.g. LS002 = {{SPIKE_Z = 6}}"
        )
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update({f"{key}.{name}": v for name, v in item.items()})
        else:
            out[key] = item
    return check_thresholds(out, f"{source}: [tool.logan.thresholds]")


def _read_table(candidate: Path) -> Settings:
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LoganError(f"{candidate}: not valid TOML ({exc}); fix or remove it") from exc
    table: Any = data
    if candidate.name == "pyproject.toml":
        for key in ("tool", "logan"):
            table = table.get(key, {}) if isinstance(table, dict) else {}
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise LoganError(
            f"{candidate}: unknown [tool.logan] key(s) {sorted(unknown)}; "
            f"known: {sorted(KNOWN_KEYS - {'fail_on'})}"
        )
    fail_on = table.get("fail-on", table.get("fail_on"))
    return Settings(
        select=_as_list(table.get("select", []), "select", candidate),
        ignore=_as_list(table.get("ignore", []), "ignore", candidate),
        fail_on=None if fail_on is None else check_fail_on(fail_on, f"{candidate}: fail-on"),
        thresholds=_thresholds(table.get("thresholds", {}), candidate),
        source=str(candidate),
    )


def find_settings(start: Path | None = None) -> Settings:
    """Read `logan.toml` or `[tool.logan]` from the nearest file at or above `start`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "logan.toml").is_file():
            return _read_table(folder / "logan.toml")
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            found = _read_table(pyproject)
            if found.select or found.ignore or found.fail_on or found.thresholds:
                return found
    return Settings()


def resolve(
    select: str | None = None,
    ignore: str | None = None,
    fail_on: str | None = None,
    threshold: Iterable[str] = (),
    start: Path | None = None,
) -> Settings:
    """The settings file with the command line's flags over it, all checked: what `check` uses.

    `select`/`ignore` given on the command line replace the file's lists; `--threshold` values
    are added to the file's (a flag wins for the same name).
    """
    found = find_settings(start)
    limits = {**found.thresholds, **parse_thresholds(threshold)}
    return Settings(
        select=check_codes(split_codes(select), "--select") if select else found.select,
        ignore=check_codes(split_codes(ignore), "--ignore") if ignore else found.ignore,
        fail_on=check_fail_on(fail_on, "--fail-on") if fail_on else found.fail_on,
        thresholds=limits,
        source=found.source,
    )

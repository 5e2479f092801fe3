"""Project settings: `[tool.logan]` in the nearest pyproject.toml (or a `logan.toml`), so a team
can fix `select`, `ignore` and `fail-on` for its CI. Flags on the command line win.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from logan.errors import LoganError

KNOWN_KEYS = {"select", "ignore", "fail-on", "fail_on", "thresholds"}


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    source: str | None = None


def _as_list(value: Any, key: str, source: Path) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise LoganError(f'{source}: [tool.logan] {key} must be a list of rule codes, e.g. ["LR"]')


def _thresholds(value: Any, source: Path) -> dict[str, float]:
    """`[tool.logan.thresholds]` as {"LS002.SPIKE_Z": 6}: nested tables or dotted keys."""
    if not isinstance(value, dict):
        raise LoganError(
            f"{source}: [tool.logan.thresholds] must be a table, e.g. LS002 = {{SPIKE_Z = 6}}"
        )
    out: dict[str, float] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update({f"{key}.{name}": v for name, v in item.items()})
        else:
            out[key] = item
    return out


def find_settings(start: Path | None = None) -> Settings:
    """Read `logan.toml` or `[tool.logan]` from the nearest file at or above `start`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name, table_path in (("logan.toml", ()), ("pyproject.toml", ("tool", "logan"))):
            candidate = folder / name
            if not candidate.is_file():
                continue
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise LoganError(f"{candidate}: not valid TOML ({exc}); fix or remove it") from exc
            table: Any = data
            for key in table_path:
                table = table.get(key, {}) if isinstance(table, dict) else {}
            if not table:
                if name == "logan.toml":
                    return Settings(source=str(candidate))
                continue
            unknown = set(table) - KNOWN_KEYS
            if unknown:
                raise LoganError(
                    f"{candidate}: unknown [tool.logan] key(s) {sorted(unknown)}; "
                    f"known: {sorted(KNOWN_KEYS - {'fail_on'})}"
                )
            return Settings(
                select=_as_list(table.get("select", []), "select", candidate),
                ignore=_as_list(table.get("ignore", []), "ignore", candidate),
                fail_on=table.get("fail-on", table.get("fail_on")),
                thresholds=_thresholds(table.get("thresholds", {}), candidate),
                source=str(candidate),
            )
    return Settings()

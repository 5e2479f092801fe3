"""`logan schedule` output for people and for CI: text, JSON (schema 1), GitHub annotations, SARIF.

Each reporter turns a `ScheduleReport` into one string and computes nothing: the verdicts, their
locations and fixes come from `logan.schedule.check`. Text follows the `path:line:col: CODE
message` form of ruff and flake8, so editors and CI log parsers jump to the scheduler to fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from logan import __version__
from logan.model import Finding, Severity
from logan.report.serialize import SCHEMA, finding_dict, jsonable
from logan.schedule.check import ConfigCheck, Location, ScheduleReport
from logan.textsafe import visible_block

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def visible(text: str) -> str:
    """`text` with control characters from paths and configs shown as escapes (`\\x1b`), lines
    kept: nothing reaches a terminal or a CI log as it is (logan.textsafe)."""
    return visible_block(text)


def _pairs(check: ConfigCheck) -> list[tuple[Finding, Location]]:
    return list(zip(check.findings, check.locations, strict=True))


# -- text -------------------------------------------------------------------------------------


def render_text(report: ScheduleReport, *, fixes: bool = True) -> str:
    """One line per finding (`path:line:col: CODE message`), each fix below its finding, then
    the configs that could not be simulated and a one-line summary."""
    lines: list[str] = []
    for check in report.configs:
        for finding, where in _pairs(check):
            config = "" if where.path == check.path else f" [config {check.path}]"
            lines.append(
                visible(f"{where.path}:{where.line}:{where.col}: {finding.code} {finding.message}")
                + visible(config)
            )
            fix = finding.evidence.get("fix")
            if fixes and fix:
                lines.append("fix:")
                lines.extend(visible(line) for line in str(fix).rstrip().splitlines())
    for check in report.configs:
        if not check.simulated:
            lines.append(visible(f"{check.path}: not simulated: {check.reason}"))
    lines.append(summary(report))
    return "\n".join(lines)


def summary(report: ScheduleReport) -> str:
    configs = report.configs
    simulated = [c for c in configs if c.simulated]
    nominal = sum(1 for c in simulated if c.nominal_epoch_length)
    count = len(report.findings)
    return (
        f"{len(configs)} config{'s' * (len(configs) != 1)} checked, {len(simulated)} simulated "
        f"({nominal} at a nominal epoch length), {count} finding{'s' * (count != 1)}"
    )


# -- JSON -------------------------------------------------------------------------------------


def config_dict(check: ConfigCheck) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": check.path,
        "simulated": check.simulated,
        "reason": check.reason,
        "epoch_length": check.epoch_length,
        "findings": [],
    }
    for finding, where in _pairs(check):
        item = finding_dict(finding)
        # Additions to schema 1: where the fix goes.
        item["location"] = {"path": where.path, "line": where.line, "column": where.col}
        out["findings"].append(item)
    out["nominal_epoch_length"] = check.nominal_epoch_length
    sim = check.simulation
    out["total_iters"] = sim.total_iters if sim is not None else None
    return jsonable(out)


def render_json(report: ScheduleReport) -> str:
    body = {
        "schema": SCHEMA,
        "logan_version": __version__,
        "configs": [config_dict(c) for c in report.configs],
        "problems": [{"path": p.path, "message": p.message} for p in report.problems],
    }
    return json.dumps(body, indent=2, allow_nan=False)


# -- GitHub Actions workflow commands ------------------------------------------------------


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: ScheduleReport) -> str:
    """`::error file=...,line=...,col=...,title=...::message` per finding (the fix in the body)."""
    lines = []
    for check in report.configs:
        for finding, where in _pairs(check):
            level = _GITHUB_LEVEL[finding.severity]
            title = f"{finding.code} {finding.name}"
            body = finding.message
            if finding.evidence.get("fix"):
                body += "\n" + str(finding.evidence["fix"]).rstrip()
            props = (
                f"file={_gh_property(visible(where.path))},line={where.line},col={where.col},"
                f"title={_gh_property(title)}"
            )
            lines.append(f"::{level} {props}::{_gh_data(visible(body))}")
    lines.append(summary(report))
    return "\n".join(lines)


# -- SARIF 2.1.0 ----------------------------------------------------------------------------


def _uri(path: str) -> str:
    """A relative path stays relative (code scanning resolves it against the checkout)."""
    p = Path(path)
    return p.resolve().as_uri() if p.is_absolute() else quote(p.as_posix())


def _rules(report: ScheduleReport) -> list[dict[str, Any]]:
    from logan.checks import registry

    seen = {f.code for f in report.findings}
    rules = []
    for code, rule in registry().items():
        if code in seen:
            rules.append(
                {
                    "id": code,
                    "name": rule.name,
                    "shortDescription": {"text": rule.summary or rule.name},
                    "fullDescription": {"text": rule.doc},
                    "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                }
            )
    return rules


def _result(finding: Finding, where: Location, check: ConfigCheck) -> dict[str, Any]:
    text = finding.message
    if finding.hint:
        text += f" {finding.hint}"
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(where.path)},
                    "region": {"startLine": where.line, "startColumn": where.col},
                }
            }
        ],
        "properties": {"config": check.path, "evidence": jsonable(finding.evidence)},
    }
    return result


def render_sarif(report: ScheduleReport) -> str:
    results = [
        _result(finding, where, check)
        for check in report.configs
        for finding, where in _pairs(check)
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "logan",
                        "version": __version__,
                        "rules": _rules(report),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, allow_nan=False)


# `--format` choice -> reporter.
RENDERERS = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}


def render(report: ScheduleReport, fmt: str) -> str:
    return RENDERERS[fmt](report)

"""The JSON contract (schema 1): one dict per run and per finding, numbers as JSON numbers and
NaN/inf as null. Tools depend on this shape: extend it, never break it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from logan import __version__
from logan.model import Analysis, Finding, RunResult

SCHEMA = 1


def jsonable(value: Any) -> Any:
    """Plain JSON types only: numpy scalars unwrapped, NaN/inf -> None, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def finding_dict(f: Finding) -> dict[str, Any]:
    return jsonable(
        {
            "code": f.code,
            "name": f.name,
            "severity": f.severity.value,
            "message": f.message,
            "step": f.step,
            "end_step": f.end_step,
            "epoch": f.epoch,
            "evidence": f.evidence,
            "hint": f.hint,
        }
    )


def run_dict(result: RunResult) -> dict[str, Any]:
    run = result.run
    out: dict[str, Any] = {
        "path": run.path,
        "producer": run.producer,
        "sources": list(run.sources),
        "sessions": len(run.sessions),
        "last_step": run.last_step,
        "epoch_length": run.epoch_length,
        "max_epochs": run.max_epochs,
        "findings": [finding_dict(f) for f in result.findings],
    }
    # Additions to schema 1 (new keys only): `worst` is the most severe finding's severity (null
    # when clean); `expected` names the schedule the checks compared against.
    out["config"] = run.config_path
    out["skipped"] = len(run.skipped)
    match = result.expected.match if result.expected is not None else None
    if match is not None:
        out["schedule_match"] = match.as_dict()
    if run.train_scalars().empty:
        out["note"] = "no training scalars"
    worst = max(result.findings, key=lambda f: f.severity.rank, default=None)
    out["worst"] = worst.severity.value if worst else None
    # Additions: each session's name, how it began and its steps; the attempt this run is when
    # its folder holds several fresh starts.
    out["session_list"] = [
        {"name": s.name, "kind": s.kind, "first_step": s.first_step, "last_step": s.last_step}
        for s in run.sessions
    ]
    if "attempt" in run.meta:
        out["attempt"] = run.meta["attempt"]
    exp = result.expected
    if exp is not None:
        out["expected"] = {
            "source": exp.source,
            "shape": exp.shape,
            "peak": exp.peak,
            "peak_step": exp.peak_step,
            "warmup_end": exp.warmup_end,
        }
    return jsonable(out)


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "logan_version": __version__,
        "runs": [run_dict(r) for r in analysis.results],
        "problems": [{"path": p.path, "message": p.message} for p in analysis.problems],
        # Addition to schema 1: sessions and files that look like training logs but hold no
        # training run (test-only, ended before training, config only, ...), with the reason.
        "not_analysed": [{"path": n.path, "reason": n.reason} for n in analysis.not_analysed],
    }

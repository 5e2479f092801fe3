"""The terminal reporter: worst run first, each finding with where/cause/hint/fix, a count line,
and rich markup in log strings shown literally."""

from __future__ import annotations

import dataclasses

from rich.console import Console

from logan.model import Analysis
from logan.report.text import render


def _render(analysis: Analysis) -> str:
    console = Console(record=True, width=200, color_system=None)
    render(analysis, console)
    return console.export_text()


def test_text_report_order_parts_and_count(results):
    analysis = Analysis([results["mmengine_fixed_e4"], results["mmengine_plateau_e4"]], [])
    out = _render(analysis)
    lines = out.splitlines()
    assert lines[1].startswith(results["mmengine_plateau_e4"].run.path)
    assert "where: steps 41-160 (from epoch 1)" in out
    assert "cause: `end` is not set" in out and "+        end=4," in out
    assert lines[-1] == "2 run(s), 1 with findings: 1 error"


def test_rich_markup_in_names_is_literal(results):
    r = results["mmengine_plateau_e4"]
    run = dataclasses.replace(r.run, path="runs/[bold red]x[/] [link=http://e.x]y[/link]")
    out = _render(Analysis([dataclasses.replace(r, run=run)], []))
    assert "runs/[bold red]x[/] [link=http://e.x]y[/link]" in out


def test_shortened_paths_keep_runs_of_different_projects_apart() -> None:
    """`version_0` of two projects must not both read `.../lightning_logs/version_0`."""
    from logan.report.common import shorten_left

    a = "../shared/public_logs_2/bullseye-lightning-tb-test-events/lightning_logs/version_0"
    b = "../shared/public_logs_2/rohith-lightning-csv-nan/lightning_logs/version_0"
    short = {shorten_left(p, 50) for p in (a, b)}
    assert len(short) == 2 and all(len(s) <= 50 and s.startswith("...") for s in short)
    assert shorten_left("work_dirs/runs/xt_buggy_e3", 50) == "work_dirs/runs/xt_buggy_e3"

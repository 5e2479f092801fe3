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

"""Output formats of `logan check`: one small class per format behind one interface, so the CLI
maps a `--format` choice to a reporter (as pip-audit's `OutputFormatChoice.to_format()` does)
instead of an if/elif chain, and a new format is one class here.
"""

from __future__ import annotations

import abc
import json

from rich.console import Console

from logan.model import Analysis


class Reporter(abc.ABC):
    """Turns an Analysis into output on a console; never computes a verdict."""

    #: True when the output is for programs: progress and notes must then stay off stdout.
    machine: bool = False

    @abc.abstractmethod
    def render(self, analysis: Analysis, console: Console) -> None: ...


class TextReporter(Reporter):
    """The terminal summary (see report/text.py)."""

    def render(self, analysis: Analysis, console: Console) -> None:
        from logan.report.text import render

        render(analysis, console)


class JsonReporter(Reporter):
    """The JSON contract (schema 1), strict JSON (NaN written as null)."""

    machine = True

    def render(self, analysis: Analysis, console: Console) -> None:
        from logan.report.serialize import analysis_dict

        text = json.dumps(analysis_dict(analysis), indent=2, allow_nan=False)
        console.file.write(text + "\n")


class MarkdownReporter(Reporter):
    """Each run's Markdown report, one after the other (no plots: they need `--out`)."""

    machine = True

    def render(self, analysis: Analysis, console: Console) -> None:
        from logan.report.markdown import run_markdown
        from logan.textsafe import visible_block

        # Markdown escaping is for renderers; a terminal also needs control characters shown.
        text = "\n\n".join(run_markdown(r) for r in analysis.results)
        console.file.write(visible_block(text) + "\n")

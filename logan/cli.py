"""The `logan` command line: options -> library call -> reporter -> exit code. Nothing else.

Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage error or nothing readable.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from logan import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="logan: find what went wrong with the learning rate and the loss of a training run.",
    pretty_exceptions_enable=False,
)


class Format(str, enum.Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class FailOn(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def _fail(message: str) -> None:
    typer.echo(f"logan: {message}", err=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"logan {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Analyse training logs (mmengine, mmcv, TensorBoard, HF Trainer, Lightning)."""


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Work dirs, run folders or log files.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write report.md, PNGs and report.json per run here."),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")
    ] = FailOn.error,
    select: Annotated[
        str | None,
        typer.Option(
            "--select", help="Only these rule codes/prefixes, comma-separated (LR,LS001)."
        ),
    ] = None,
    ignore: Annotated[
        str | None,
        typer.Option("--ignore", help="Skip these rule codes/prefixes, comma-separated."),
    ] = None,
) -> None:
    """Find runs under PATHS, check their LR schedule and loss, and report.

    Example: logan check work_dirs/ --out report/ --fail-on warning
    """
    from rich.console import Console

    from logan.api import analyze
    from logan.errors import LoganError
    from logan.model import Severity

    try:
        analysis = analyze(
            [str(p) for p in paths],
            select=select.split(",") if select else None,
            ignore=ignore.split(",") if ignore else None,
        )
    except LoganError as exc:
        _fail(str(exc))
    if not analysis.results:
        reasons = "; ".join(f"{p.path}: {p.message}" for p in analysis.problems)
        _fail(
            reasons
            or f"no training runs found under {', '.join(map(str, paths))}; "
            "give a work_dir or a folder of logs"
        )
    if out is not None:
        from logan.report.files import write_all

        write_all(analysis, out)
    if fmt is Format.json:
        from logan.report.serialize import analysis_dict

        typer.echo(json.dumps(analysis_dict(analysis), indent=2, allow_nan=False))
    elif fmt is Format.markdown:
        from logan.report.markdown import run_markdown

        typer.echo("\n\n".join(run_markdown(r) for r in analysis.results))
    else:
        from logan.report.text import render

        # Piped output (CI logs, files) is not folded to 80 columns.
        width = None if sys.stdout.isatty() else 200
        render(analysis, Console(highlight=False, soft_wrap=True, width=width))
    for p in analysis.problems:
        typer.echo(f"logan: {p.path}: {p.message}", err=True)
    if fail_on is not FailOn.never:
        threshold = Severity(fail_on.value).rank
        if any(f.severity.rank >= threshold for f in analysis.findings):
            raise typer.Exit(1)


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("logan: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence, one line on stderr
        typer.echo(
            f"logan: internal error ({type(exc).__name__}: {exc}); please report it", err=True
        )
        sys.exit(2)

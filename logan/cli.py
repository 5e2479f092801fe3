"""The `logan` command line: options -> library call -> reporter -> exit code. Nothing else.

Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage error or nothing readable.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from logan import __version__

if TYPE_CHECKING:
    from logan.model import Analysis

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="logan: find what went wrong with the learning rate and the loss of a training run.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


class ScheduleFormat(str, enum.Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class ExportFormat(str, enum.Enum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


def _say(text: object, err: bool = False) -> None:
    """One line for the terminal: text from logs, paths and configs can command nothing there."""
    from logan.textsafe import visible

    typer.echo(visible(text), err=err)


def _fail(message: str) -> NoReturn:
    _say(f"logan: {message}", err=True)
    raise typer.Exit(2)


def _out_ready(out: Path, names: tuple[str, ...] | None = None) -> None:
    """Check --out before any analysis: an unusable one is a usage error, said in one line."""
    from logan.errors import LoganError
    from logan.report.files import INDEX_FILES, check_out

    try:
        check_out(out, INDEX_FILES if names is None else names)
    except LoganError as exc:
        _fail(str(exc))


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


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _analyze(
    paths: list[Path],
    select: list[str],
    ignore: list[str],
    quiet: bool,
    jobs: int = 1,
    thresholds: dict[str, float] | None = None,
    out: Path | None = None,
) -> Analysis:
    """Run the library with a progress bar on stderr (terminal only, never with --quiet)."""
    from logan.api import analyze
    from logan.errors import LoganError

    # rich honours NO_COLOR (a monochrome bar); the bar itself is for terminals only.
    show = not quiet and sys.stderr.isatty()
    kwargs: dict[str, Any] = dict(
        select=select, ignore=ignore, jobs=jobs, thresholds=thresholds, keep_scalars=False
    )
    if out is not None:
        # Each run's report is written as soon as it is analysed (by the worker with --jobs).
        from logan.report.files import RunFolders, folder_names

        def folders(runs: list[str]) -> RunFolders:
            sink = RunFolders(out, tuple(folder_names(runs)))
            _FOLDERS.update(zip(runs, sink.names, strict=True))
            return sink

        kwargs["sink"] = folders
    try:
        if not show:
            return analyze([str(p) for p in paths], **kwargs)
        from rich.progress import Progress

        with Progress(transient=True, console=_err_console()) as bar:
            task = bar.add_task("reading runs", total=None)

            def tick(i: int, n: int, name: str) -> None:
                from rich.markup import escape

                from logan.textsafe import visible

                bar.update(task, completed=i, total=n, description=escape(visible(name[-40:])))

            return analyze([str(p) for p in paths], progress=tick, **kwargs)
    except LoganError as exc:
        _fail(str(exc))


# Run path -> its report folder under --out, as the sink named them.
_FOLDERS: dict[str, str] = {}


def _err_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, emoji=False)


def _out_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    # Piped output (CI logs, files) is not folded to 80 columns.
    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=True, width=width, emoji=False)


def _exit_code(analysis: Analysis, fail_on: str) -> int:
    from logan.model import Severity

    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in analysis.findings) else 0


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Work dirs, run folders or log files.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write a report folder per run and an index here."),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on", help="Lowest severity that makes the exit code 1 [default: error]."
        ),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            "--select", help="Only these rule codes or prefixes, comma-separated (LR,LS001)."
        ),
    ] = None,
    ignore: Annotated[
        str | None, typer.Option("--ignore", help="Skip these rule codes or prefixes.")
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", help="Override a rule constant: CODE.NAME=VALUE (repeatable)."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Analyse runs in N processes.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Find runs under PATHS, check their LR schedule and loss, and report.

    Example: logan check work_dirs/ --out report/ --fail-on warning
    """
    from logan.settings import find_settings

    try:
        settings = find_settings()
    except Exception as exc:  # noqa: BLE001 - a bad settings file is a usage error
        _fail(str(exc))
    chosen_fail_on = fail_on.value if fail_on else (settings.fail_on or "error")
    if chosen_fail_on not in {f.value for f in FailOn}:
        _fail(f"{settings.source}: fail-on must be one of error, warning, info, never")
    limits = dict(settings.thresholds)
    for item in threshold or []:
        key, sep, value = item.partition("=")
        try:
            limits[key.strip()] = float(value)
        except ValueError:
            _fail(f"--threshold {item!r}: expected CODE.NAME=NUMBER, e.g. LS002.SPIKE_Z=6")
        if not sep:
            _fail(f"--threshold {item!r}: expected CODE.NAME=NUMBER, e.g. LS002.SPIKE_Z=6")
    if jobs < 1:
        _fail(f"--jobs {jobs}: give the number of processes, 1 or more")
    if out is not None:
        _out_ready(out)
    analysis = _analyze(
        paths,
        _codes(select) or settings.select,
        _codes(ignore) or settings.ignore,
        quiet,
        jobs,
        limits,
        out,
    )
    if not analysis.results:
        if analysis.problems:
            for p in analysis.problems:  # one line per problem, as when some runs are readable
                _say(f"logan: {p.path}: {p.message}", err=True)
            raise typer.Exit(2)
        _fail(
            f"no training runs found under {', '.join(map(str, paths))}; "
            "give a mmengine work_dir, an HF output dir, a Lightning version folder or log files"
        )
    if out is not None:
        from logan.report.files import slug, write_index

        write_index(analysis, out, [slug(r.run.path) for r in analysis.results])
    if fmt is Format.json:
        from logan.report.serialize import analysis_dict

        typer.echo(json.dumps(analysis_dict(analysis), indent=2, allow_nan=False))
    elif fmt is Format.markdown:
        from logan.report.markdown import run_markdown
        from logan.textsafe import visible_block

        typer.echo(visible_block("\n\n".join(run_markdown(r) for r in analysis.results)))
    else:
        from logan.report.text import render

        render(analysis, _out_console())
    for p in analysis.problems:
        _say(f"logan: {p.path}: {p.message}", err=True)
    raise typer.Exit(_exit_code(analysis, chosen_fail_on))


@app.command()
def report(
    run: Annotated[Path, typer.Argument(help="One run: a work_dir, run folder or log file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")],
    fail_on: Annotated[FailOn, typer.Option("--fail-on")] = FailOn.never,
) -> None:
    """Write report.md, report.html, report.json and PNG plots for one run into --out.

    Example: logan report work_dirs/my_run -o my_run_report/
    """
    from logan.api import analyze_run, load_run
    from logan.errors import LoganError
    from logan.model import Analysis
    from logan.report.files import RUN_FILES, write_run

    _out_ready(out, RUN_FILES)
    try:
        result = analyze_run(load_run(run))
    except LoganError as exc:
        _fail(str(exc))
    written = write_run(result, out)
    for name in ("markdown", "html", "json"):
        if name in written:
            _say(written[name])
    raise typer.Exit(_exit_code(Analysis([result], []), fail_on.value))


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Two or more runs to overlay.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for compare.md/.html/PNGs.")],
) -> None:
    """Overlay the LR and loss of several runs (a buggy run and its fix), with their findings.

    Example: logan compare work_dirs/buggy work_dirs/fixed -o compare/
    """
    from logan.api import analyze_run, load_run
    from logan.errors import LoganError
    from logan.report.compare import write_compare

    if len(runs) < 2:
        _fail("compare needs at least two runs")
    _out_ready(out, ("compare.md", "compare.html", "lr_compare.png", "loss_compare.png"))
    try:
        results = [analyze_run(load_run(r)) for r in runs]
    except LoganError as exc:
        _fail(str(exc))
    for path in write_compare(results, out).values():
        _say(path)


@app.command()
def rules(
    code: Annotated[
        str | None, typer.Argument(help="A rule code for its full documentation.")
    ] = None,
) -> None:
    """List the rules, or print one rule's documentation.

    Example: logan rules LR001
    """
    from logan.checks import registry

    reg = registry()
    if code:
        rule = reg.get(code.upper())
        if rule is None:
            _fail(f"unknown rule {code!r}; `logan rules` lists them")
        typer.echo(f"{rule.code} {rule.name} ({rule.severity.value})\n")
        typer.echo(rule.doc)
        from logan.checks import thresholds

        limits = thresholds(rule.code)
        if limits:
            typer.echo("\nThresholds (override with --threshold or [tool.logan.thresholds]):")
            for name, value in limits.items():
                typer.echo(f"  {rule.code}.{name} = {value:g}")
        return
    for r in reg.values():
        typer.echo(f"{r.code}  {r.name:<20} {r.severity.value:<8} {r.summary}")


@app.command()
def schedule(
    paths: Annotated[
        list[Path],
        typer.Argument(help="mmengine/XTuner config files or folders of them (read, never run)."),
    ],
    epoch_length: Annotated[
        int | None, typer.Option("--epoch-length", help="Iterations per epoch.", min=1)
    ] = None,
    dataset_size: Annotated[
        int | None, typer.Option("--dataset-size", help="Samples in the training set.", min=1)
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Total batch size (default: the config's).", min=1),
    ] = None,
    fmt: Annotated[
        ScheduleFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ScheduleFormat.text,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", help="Lowest severity that makes the exit code 1."),
    ] = FailOn.error,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG of the schedule (one config).")
    ] = None,
) -> None:
    """Check training configs before anyone trains: the LR each will produce, as mmengine runs
    it, with LR001/LR002 and the fix. Folders are searched for configs (`_base_` files are
    checked through the configs that use them); no dataset is needed.

    Example: logan schedule configs/ --format github
    """
    from logan.model import Severity
    from logan.report.schedule_formats import render
    from logan.report.schedule_preview import save_plot, table
    from logan.schedule.check import check_paths
    from logan.textsafe import visible

    report = check_paths(
        paths, epoch_length=epoch_length, dataset_size=dataset_size, batch_size=batch_size
    )
    for p in report.problems:
        typer.echo(visible(f"logan: {p.path}: {p.message}"), err=True)
    if not report.configs:
        if report.problems:
            raise typer.Exit(2)
        if report.bases_given:  # only `_base_` files: nothing of their own to check
            typer.echo(
                f"{report.bases_given} _base_ file(s) given: checked through the configs "
                "that use them; give those configs or their folder"
            )
            raise typer.Exit(0)
        _fail(f"no training configs under {', '.join(map(str, paths))}; give config files")
    single = report.configs[0] if len(report.configs) == 1 else None
    if fmt is ScheduleFormat.text and single is not None and single.simulation is not None:
        typer.echo(table(single) + "\n")
    typer.echo(render(report, fmt.value))
    if plot is not None:
        if single is None or single.simulation is None:
            _fail("--plot draws one simulated config; give one config file")
        save_plot(single.simulation, plot, Path(single.path).name)
        typer.echo(f"plot: {plot}", err=fmt is not ScheduleFormat.text)
    if fail_on is FailOn.never:
        raise typer.Exit(0)
    threshold = Severity(fail_on.value).rank
    raise typer.Exit(1 if any(f.severity.rank >= threshold for f in report.findings) else 0)


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="One run: a work_dir, run folder or log file.")],
    to: Annotated[ExportFormat, typer.Option("--to", help="Output format.")] = ExportFormat.csv,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file (default: stdout for csv/json)."),
    ] = None,
) -> None:
    """Write the run's tidy scalar table (step, epoch, tag, value, session, wall_time).

    Example: logan export work_dirs/my_run --to parquet -o my_run.parquet
    """
    from logan.api import load_run
    from logan.errors import LoganError

    try:
        table = load_run(run).scalars
    except LoganError as exc:
        _fail(str(exc))
    if to is ExportFormat.parquet:
        if out is None:
            _fail("parquet needs --out FILE")
        try:
            table.to_parquet(out, index=False)
        except ImportError:
            _fail("parquet needs pyarrow: pip install pyarrow (or use --to csv)")
    elif to is ExportFormat.json:
        text = table.to_json(orient="records", lines=True)
        out.write_text(text) if out else typer.echo(text, nl=False)
    else:
        text = table.to_csv(index=False)
        out.write_text(text) if out else typer.echo(text, nl=False)


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
        _say(f"logan: internal error ({type(exc).__name__}: {exc}); please report it", err=True)
        sys.exit(2)

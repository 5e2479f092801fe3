"""The `logan` command line: options -> library call -> reporter -> exit code. Nothing else.

Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage error, or a path given on the
command line that does not exist or yields nothing readable (after the other runs are reported).
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from logan import __version__
from logan.clihelp import PlainApp, choice, whole

if TYPE_CHECKING:
    from rich.console import Console

    from logan.model import Analysis
    from logan.report.formats import Reporter
    from logan.settings import Settings

# Piped output (CI logs, files) without COLUMNS: wide enough for long run paths, narrow enough
# to read in a CI log.
PIPED_WIDTH = 100

app = PlainApp(
    add_completion=False,
    no_args_is_help=True,
    help="logan: find what went wrong with the learning rate and the loss of a training run.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, enum.Enum):
    """`--format`: each choice maps to one reporter class."""

    text = "text"
    markdown = "markdown"
    json = "json"

    def to_reporter(self) -> Reporter:
        from logan.report import formats

        reporters: dict[Format, type[formats.Reporter]] = {
            Format.text: formats.TextReporter,
            Format.markdown: formats.MarkdownReporter,
            Format.json: formats.JsonReporter,
        }
        return reporters[self]()


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


def _no_training_run(analysis: Analysis, paths: list[str]) -> str:
    """Why nothing was checked, in one line: what was found that holds no training run (a
    test-only Lightning version, a config-only work_dir), or that nothing logan knows was found."""
    under = ", ".join(map(str, paths))
    unread = analysis.not_analysed
    if len(unread) == 1:
        return (
            f"no training run under {under}: {unread[0].path}: {unread[0].reason}; "
            "give a run that trained"
        )
    if unread:
        from logan.report.text import not_analysed_reasons

        return (
            f"no training run under {under}: {len(unread)} session(s) or file(s) without one: "
            f"{not_analysed_reasons(analysis)}; give a run that trained"
        )
    return (
        f"no training runs found under {under}; "
        "give a mmengine work_dir, an HF output dir, a Lightning version folder or log files"
    )


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


def _settings(
    select: str | None = None,
    ignore: str | None = None,
    fail_on: FailOn | None = None,
    threshold: list[str] | None = None,
) -> Settings:
    """The settings file with the flags over it; any mistake in either is a usage error."""
    from logan.errors import LoganError
    from logan.settings import resolve

    try:
        return resolve(select, ignore, fail_on.value if fail_on else None, threshold or ())
    except LoganError as exc:
        _fail(str(exc))


def _image_base_url(url: str | None) -> str | None:
    if url is None:
        return None
    if not url.startswith(("https://", "http://")) or any(c.isspace() or c in "<>" for c in url):
        _fail(f"--image-base-url {url!r}: expected an http(s) URL such as https://host/reports/")
    return url


def _err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, emoji=False)


def _out_console() -> Console:
    from rich.console import Console

    # rich reads COLUMNS itself, and the terminal's width; a pipe gets PIPED_WIDTH.
    columns = os.environ.get("COLUMNS", "")
    piped = not sys.stdout.isatty() and not columns.isdigit()
    return Console(highlight=False, width=PIPED_WIDTH if piped else None, emoji=False)


def _analyze(
    paths: list[str],
    settings: Settings,
    *,
    jobs: int,
    quiet: bool,
    sink: Any = None,
    cache: bool = False,
    executor: str | None = None,
) -> Analysis:
    """Run the library with a progress bar on stderr (terminal only, never with --quiet)."""
    from logan.api import analyze
    from logan.errors import LoganError

    kwargs: dict[str, Any] = dict(
        select=settings.select,
        ignore=settings.ignore,
        jobs=jobs,
        thresholds=settings.thresholds,
        keep_scalars=False,
        sink=sink,
    )
    if cache:
        from logan.cache import Cache

        kwargs["cache"] = Cache.default()
    try:
        if executor is not None:
            from logan.cluster import executor_for

            with executor_for(executor) as pool:
                return analyze(paths, executor=pool, **kwargs)
        # rich honours NO_COLOR (a monochrome bar); the bar itself is for terminals only.
        if quiet or not sys.stderr.isatty():
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


def _exit_code(findings: Any, fail_on: str) -> int:
    from logan.model import Severity

    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0


def _empty_arguments(paths: list[str], analysis: Analysis) -> list[str]:
    """Arguments under which no run was read: a typo in a CI job must not stay green."""
    from logan.report.common import path_parts

    # Every folder a run lies at or below, once: a set lookup per argument (testing each
    # argument against each run was quadratic, seconds for a thousand run folders given).
    covered: set[tuple[str, ...]] = set()
    for r in analysis.results:
        parts = tuple(path_parts(r.run.path))
        covered.update(parts[:k] for k in range(len(parts) + 1))
    return [p for p in map(str, paths) if tuple(path_parts(p)) not in covered]


PATHS_HELP = "Work dirs, run folders, log files or s3:// gs:// URLs."
OUT_HELP = "Write a report folder per run and an index (index.html, index.md) here."
IMAGE_URL_HELP = (
    "Where the PNGs will be hosted (CI artifacts, a bucket, a wiki): report.md then shows them "
    "from URL instead of asking you to attach them."
)
FAIL_ON_HELP = "Lowest severity that makes the exit code 1 [default: error, or the settings']."


@app.command()
def check(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help=PATHS_HELP)],
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", parser=choice(Format), metavar="text|markdown|json",
                     help="Output format."),
    ] = Format.text,  # fmt: skip
    out: Annotated[str | None, typer.Option("--out", "-o", metavar="DIR", help=OUT_HELP)] = None,
    image_base_url: Annotated[
        str | None, typer.Option("--image-base-url", metavar="URL", help=IMAGE_URL_HELP)
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", parser=choice(FailOn), metavar="error|warning|info|never",
                     help=FAIL_ON_HELP),
    ] = None,  # fmt: skip
    select: Annotated[
        str | None,
        typer.Option("--select", metavar="CODE[,CODE]",
                     help="Only these rule codes or prefixes, comma-separated (LR,LS001)."),
    ] = None,  # fmt: skip
    ignore: Annotated[
        str | None,
        typer.Option("--ignore", metavar="CODE[,CODE]", help="Skip these rule codes or prefixes."),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", metavar="CODE.NAME=VALUE",
                     help="Override a rule constant, e.g. LS002.SPIKE_Z=6 (repeatable)."),
    ] = None,  # fmt: skip
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", parser=whole, metavar="N",
                          help="Analyse runs in N processes.")
    ] = 1,  # fmt: skip
    executor: Annotated[
        str | None,
        typer.Option("--executor", metavar="URL",
                     help="Analyse runs on a Dask cluster: dask://HOST:PORT."),
    ] = None,  # fmt: skip
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache", help="Analyse every run again (no .logan_cache/ or $LOGAN_CACHE_DIR)."
        ),
    ] = False,
) -> None:
    """Find runs under PATHS, check their LR schedule and loss, and report.

    Example: logan check work_dirs/ --out report/ --fail-on warning
    """
    from logan.errors import LoganError
    from logan.remote import out_folder, upload

    settings = _settings(select, ignore, fail_on, threshold)
    reporter = fmt.to_reporter()
    tree = None
    out_dir = None
    if out is not None:
        from logan.report.files import ReportTree

        try:
            out_dir = out_folder(out)  # a temporary folder for a URL, uploaded at the end
        except LoganError as exc:
            _fail(str(exc))
        _out_ready(out_dir)
        # Analysed here (one job, no cluster): the reports are drawn in background processes
        # while the next runs are analysed (see files.Drawing).
        tree = ReportTree(
            out_dir, tuple(map(str, paths)), _image_base_url(image_base_url),
            background=jobs == 1 and executor is None,
        )  # fmt: skip
    elif image_base_url is not None:
        _fail("--image-base-url needs --out DIR (the reports whose images it hosts)")
    if jobs < 1:
        _fail(f"--jobs {jobs}: give the number of processes, 1 or more")
    analysis = _analyze(
        paths,
        settings,
        jobs=jobs,
        quiet=quiet,
        sink=tree.sink if tree else None,
        cache=not no_cache,
        executor=executor,
    )
    if not analysis.results:
        if analysis.problems:
            for p in analysis.problems:  # one line per problem, as when some runs are readable
                _say(f"logan: {p.path}: {p.message}", err=True)
            raise typer.Exit(2)
        _fail(_no_training_run(analysis, paths))
    written: dict[str, Path | str] = dict(tree.write_index(analysis)) if tree is not None else {}
    if out is not None and out_dir is not None:
        try:
            upload(out_dir, out)
        except LoganError as exc:
            _fail(str(exc))
        written = {k: _shown_out(v, out_dir, out) for k, v in written.items()}
    reporter.render(analysis, _out_console())
    for p in analysis.problems:
        _say(f"logan: {p.path}: {p.message}", err=True)
    if written:
        line = f"wrote {written['html']} ({len(analysis.results)} run report(s) in {out})"
        if reporter.machine:  # stdout is for the program reading it; the text already counted
            from logan.report.common import summary

            _say(f"logan: {line}; {summary(analysis)}", err=True)
        else:
            _say(line)
    empty = _empty_arguments(paths, analysis)
    if empty:
        # Said once per argument: a problem line may already name it ("no such file ...").
        named = {p.path for p in analysis.problems}
        unnamed = [p for p in empty if p not in named]
        if unnamed:
            _say(f"logan: nothing readable under {', '.join(unnamed)}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(_exit_code(analysis.findings, settings.fail_on or "error"))


def _shown_out(path: object, folder: Path, out: str) -> str:
    """A file written into `folder`, named where it ends up: under the --out URL."""
    text = str(path)
    return text.replace(str(folder), out.rstrip("/"), 1) if folder != Path(out) else text


@app.command()
def report(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="One run: a work_dir, run folder, log file or URL.")
    ],
    out: Annotated[
        str, typer.Option("--out", "-o", metavar="DIR", help="Folder or URL for the report files.")
    ],
    image_base_url: Annotated[
        str | None, typer.Option("--image-base-url", metavar="URL", help=IMAGE_URL_HELP)
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", parser=choice(FailOn), metavar="error|warning|info|never",
                     help=FAIL_ON_HELP),
    ] = None,  # fmt: skip
) -> None:
    """Write report.md, report.html, report.json and PNG plots for one run into --out.

    Example: logan report work_dirs/my_run -o my_run_report/
    """
    from logan.api import analyze_run, load_run
    from logan.checks import overridden, selected
    from logan.errors import LoganError
    from logan.remote import out_folder, upload
    from logan.report.common import found, run_names
    from logan.report.files import RUN_FILES, write_run

    settings = _settings(fail_on=fail_on)
    base_url = _image_base_url(image_base_url)
    try:
        folder = out_folder(out)  # a temporary folder for a URL, uploaded below
    except LoganError as exc:
        _fail(str(exc))
    _out_ready(folder, RUN_FILES)
    try:
        loaded = load_run(run)
        with overridden(settings.thresholds):
            result = analyze_run(loaded, selected(settings.select, settings.ignore))
    except LoganError as exc:
        _fail(str(exc))
    (name,) = run_names([result.run.path], [str(run)])
    try:
        written = write_run(result, folder, name=name, image_base_url=base_url)
    except LoganError as exc:  # e.g. a link planted in --out while the run was read
        _fail(str(exc))
    try:
        upload(folder, out)
    except LoganError as exc:
        _fail(str(exc))
    for key in ("markdown", "html", "json"):
        _say(_shown_out(written[key], folder, out))
    pngs = [p.name for k, p in written.items() if k not in ("markdown", "html", "json")]
    attach = f"; attach {', '.join(pngs)} with report.md" if pngs and not base_url else ""
    _say(f"wrote the report of {name} to {out}{attach}; {found(result)}")
    raise typer.Exit(_exit_code(result.findings, settings.fail_on or "error"))


@app.command()
def compare(
    runs: Annotated[
        list[Path], typer.Argument(metavar="RUN...", help="Two or more runs to overlay.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for compare.md/.html/PNGs.")
    ],
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
        str | None,
        typer.Argument(metavar="CODE", help="A rule code, prefix (LR) or name (lr-plateau)."),
    ] = None,
) -> None:
    """List the rules, or print one rule's documentation (several for a prefix: LR).

    Example: logan rules LR001
    """
    from logan._lazy import deferred

    with deferred("numpy", "pandas"):  # listing rules runs no check: no numpy, no pandas
        from logan.checks import registry

        reg = registry()
    if not code:
        for r in reg.values():
            typer.echo(f"{r.code}  {r.name:<20} {r.severity.value:<8} {r.summary}")
        return
    key = code.strip().upper()
    rule = reg.get(key) or next((r for r in reg.values() if r.name == code.strip().lower()), None)
    if rule is None:
        matching = [r for c, r in reg.items() if c.startswith(key)]
        if not matching:
            prefixes = ", ".join(sorted({c[:2] for c in reg}))
            _fail(f"unknown rule {code!r}; known: {', '.join(reg)} (or a prefix: {prefixes})")
        for r in matching:
            typer.echo(f"{r.code}  {r.name:<20} {r.severity.value:<8} {r.summary}")
        typer.echo(f"\n`logan rules {matching[0].code}` prints one rule's documentation.")
        return
    typer.echo(f"{rule.code} {rule.name} ({rule.severity.value})\n")
    typer.echo(rule.doc)
    from logan.checks import thresholds

    limits = thresholds(rule.code)
    if limits:
        typer.echo("\nThresholds (override with --threshold or [tool.logan.thresholds]):")
        for name, value in limits.items():
            typer.echo(f"  {rule.code}.{name} = {value:g}")


@app.command()
def schedule(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="mmengine/XTuner config files or folders of them, or s3:// gs:// URLs (read, "
            "never run).",
        ),
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
    from logan.errors import LoganError
    from logan.model import Severity
    from logan.remote import any_url
    from logan.report.schedule_formats import render
    from logan.report.schedule_preview import save_plot, table
    from logan.schedule.check import check_paths
    from logan.textsafe import visible

    check = functools.partial(
        check_paths, epoch_length=epoch_length, dataset_size=dataset_size, batch_size=batch_size
    )
    if any_url(paths):  # configs in object storage: fetched first, shown as their URLs
        from logan.remote import check_configs_mirrored

        try:
            report = check_configs_mirrored(check, paths)
        except LoganError as exc:
            _fail(str(exc))
    else:
        report = check([Path(p) for p in paths])
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
        typer.echo(table(single) + "\n")  # the preview and every format sanitise their text
    typer.echo(render(report, fmt.value))
    if plot is not None:
        if single is None or single.simulation is None:
            _fail("--plot draws one simulated config; give one config file")
        save_plot(single.simulation, plot, Path(single.path).name)
        typer.echo(visible(f"plot: {plot}"), err=fmt is not ScheduleFormat.text)
    if fail_on is FailOn.never:
        raise typer.Exit(0)
    threshold = Severity(fail_on.value).rank
    raise typer.Exit(1 if any(f.severity.rank >= threshold for f in report.findings) else 0)


@app.command()
def export(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="One run: a work_dir, run folder, log file or URL.")
    ],
    to: Annotated[
        ExportFormat,
        typer.Option("--to", parser=choice(ExportFormat), metavar="csv|parquet|json",
                     help="Output format."),
    ] = ExportFormat.csv,  # fmt: skip
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE",
                     help="Output file (default: stdout for csv/json)."),
    ] = None,  # fmt: skip
) -> None:
    """Write the run's tidy scalar table (step, epoch, tag, value, session, wall_time).

    Every number is written exactly (it reads back to the same value) in csv and json.

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
        return
    if to is ExportFormat.json:
        from logan.report.serialize import scalars_json_lines

        text = scalars_json_lines(table)
    else:
        text = table.to_csv(index=False)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:  # the data as it is, but a terminal is shown control characters, not given them
        from logan.textsafe import visible_block

        typer.echo(visible_block(text) if sys.stdout.isatty() else text, nl=False)


def _answered_before_parsing(args: list[str]) -> bool:
    """`logan --version` and `logan rules [CODE]`, answered before typer builds its parser.

    typer (0.29) validates every parameter of the command it runs through a pydantic TypeAdapter:
    ~60 ms of imports that the two look-up commands should not pay (issue 15: start-up under
    0.15 s). Only these exact forms are taken here, by the same functions the typer commands
    call; anything else (`--help`, options, typos) goes through typer as usual.
    """
    if args == ["--version"]:
        _version(True)
    if args[:1] == ["rules"] and len(args) <= 2 and not any(a.startswith("-") for a in args[1:]):
        rules(args[1] if len(args) == 2 else None)
        return True
    return False


def main() -> None:
    """Console-script entry point: no traceback ever reaches the user."""
    try:
        try:
            if _answered_before_parsing(sys.argv[1:]):
                return
        except typer.Exit as done:
            sys.exit(done.exit_code)
        app()
    except KeyboardInterrupt:
        typer.echo("logan: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence, one line on stderr
        _say(f"logan: internal error ({type(exc).__name__}: {exc}); please report it", err=True)
        sys.exit(2)
